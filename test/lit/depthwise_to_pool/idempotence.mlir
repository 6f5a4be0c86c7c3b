// A second run changes nothing: the same pass twice in one pipeline, or two
// invocations piped, print the same module as one run.
// RUN: tt-dw-opt %s --tt-depthwise-to-pool="path=pool" > %t.once
// RUN: tt-dw-opt %s --tt-depthwise-to-pool="path=pool" --tt-depthwise-to-pool="path=pool" > %t.twice
// RUN: tt-dw-opt %s --tt-depthwise-to-pool="path=pool" | tt-dw-opt --tt-depthwise-to-pool="path=pool" > %t.piped
// RUN: diff %t.once %t.twice
// RUN: diff %t.once %t.piped
// RUN: FileCheck %s --input-file=%t.piped

// CHECK-LABEL: func.func @converted_and_left
// CHECK-COUNT-1: "ttnn.depthwise_pool_conv"
// CHECK: "ttir.conv2d"
// CHECK-NOT: ttnn.depthwise_pool_conv
func.func @converted_and_left(%x: tensor<1x8x8x32xbf16>, %w: tensor<32x1x3x3xbf16>, %b: tensor<1x1x1x32xbf16>, %w2: tensor<32x32x1x1xbf16>) -> tensor<1x8x8x32xbf16> {
  %0 = "ttir.conv2d"(%x, %w, %b) <{stride = 1 : i32, padding = 1 : i32, dilation = 1 : i32, groups = 32 : i32}> : (tensor<1x8x8x32xbf16>, tensor<32x1x3x3xbf16>, tensor<1x1x1x32xbf16>) -> tensor<1x8x8x32xbf16>
  %1 = "ttir.relu6"(%0) : (tensor<1x8x8x32xbf16>) -> tensor<1x8x8x32xbf16>
  %2 = "ttir.conv2d"(%1, %w2) <{stride = 1 : i32, padding = 0 : i32, dilation = 1 : i32, groups = 1 : i32}> : (tensor<1x8x8x32xbf16>, tensor<32x32x1x1xbf16>) -> tensor<1x8x8x32xbf16>
  return %2 : tensor<1x8x8x32xbf16>
}

// CHECK-LABEL: func.func @folded_constant
// CHECK: "ttir.constant"(){{.*}}-> tensor<1x1x32x32xbf16>
// CHECK-NOT: "ttir.constant"
// CHECK: "ttnn.depthwise_pool_conv"
func.func @folded_constant(%x: tensor<1x8x8x32xbf16>) -> tensor<1x8x8x32xbf16> {
  %w = "ttir.constant"() <{value = dense<0.5> : tensor<32x1x3x3xbf16>}> : () -> tensor<32x1x3x3xbf16>
  %0 = "ttir.conv2d"(%x, %w) <{stride = 1 : i32, padding = 1 : i32, dilation = 1 : i32, groups = 32 : i32}> : (tensor<1x8x8x32xbf16>, tensor<32x1x3x3xbf16>) -> tensor<1x8x8x32xbf16>
  return %0 : tensor<1x8x8x32xbf16>
}
