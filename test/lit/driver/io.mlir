// -o writes the file (stdout stays empty); stdin is read when no file is given or with -.
// RUN: tt-dw-opt %s --tt-depthwise-to-pool="path=pool" -o %t.out | count 0
// RUN: FileCheck %s --input-file=%t.out
// RUN: cat %s | tt-dw-opt --tt-depthwise-to-pool="path=pool" | FileCheck %s
// RUN: tt-dw-opt - --tt-depthwise-to-pool="path=pool" < %s | FileCheck %s
// No pass: the module round-trips (our IRDL ops print their attributes as a dictionary).
// RUN: tt-dw-opt %s | FileCheck %s --check-prefix=ROUNDTRIP

// CHECK-LABEL: func.func @f
// CHECK: "ttnn.depthwise_pool_conv"
// ROUNDTRIP: "ttir.conv2d"(%arg0, %arg1) {dilation = 1 : i32, groups = 32 : i32, operandSegmentSizes = array<i32: 1, 1, 0, 0>, padding = 1 : i32, stride = 1 : i32}
func.func @f(%x: tensor<1x8x8x32xbf16>, %w: tensor<32x1x3x3xbf16>) -> tensor<1x8x8x32xbf16> {
  %0 = "ttir.conv2d"(%x, %w) <{stride = 1 : i32, padding = 1 : i32, dilation = 1 : i32, groups = 32 : i32}> : (tensor<1x8x8x32xbf16>, tensor<32x1x3x3xbf16>) -> tensor<1x8x8x32xbf16>
  return %0 : tensor<1x8x8x32xbf16>
}
