// What the pass does not model passes through untouched: #ttcore argument
// attributes, ops and attributes of other dialects, other TTIR ops.
// RUN: tt-dw-opt %s --tt-depthwise-to-pool="path=pool" | FileCheck %s

// The converted module records the device it was compiled for, beside tt-mlir's system_desc.
// CHECK: module attributes {tt_dw.device = {{{.*}}name = "n150"{{.*}}}, ttcore.system_desc = #ttcore.system_desc<{grid = 8x8}>}
// CHECK-LABEL: func.func @args
// CHECK-SAME: %arg0: tensor<1x8x8x32xbf16> {ttcore.argument_type = #ttcore.argument_type<input>}
// CHECK-SAME: %arg1: tensor<32x1x3x3xbf16> {ttcore.argument_type = #ttcore.argument_type<constant>}
// CHECK: "ttnn.prepare_depthwise_pool_weights"(%arg1)
// CHECK: %[[Y:.*]] = "ttnn.depthwise_pool_conv"(%arg0
// CHECK: %[[O:.*]] = "other.op"(%[[Y]]) {foo = #other.thing<1, "x">, note = "kept"} : (tensor<1x8x8x32xbf16>) -> tensor<1x8x8x32xbf16>
// CHECK: %[[M:.*]] = "ttir.max_pool2d"(%[[O]]) {kernel = array<i32: 2, 2>} : (tensor<1x8x8x32xbf16>) -> tensor<1x4x4x32xbf16>
// CHECK: return %[[M]]
module attributes {ttcore.system_desc = #ttcore.system_desc<{grid = 8x8}>} {
  func.func @args(%x: tensor<1x8x8x32xbf16> {ttcore.argument_type = #ttcore.argument_type<input>}, %w: tensor<32x1x3x3xbf16> {ttcore.argument_type = #ttcore.argument_type<constant>}) -> tensor<1x4x4x32xbf16> {
    %0 = "ttir.conv2d"(%x, %w) <{stride = 1 : i32, padding = 1 : i32, dilation = 1 : i32, groups = 32 : i32}> : (tensor<1x8x8x32xbf16>, tensor<32x1x3x3xbf16>) -> tensor<1x8x8x32xbf16>
    %1 = "other.op"(%0) {foo = #other.thing<1, "x">, note = "kept"} : (tensor<1x8x8x32xbf16>) -> tensor<1x8x8x32xbf16>
    %2 = "ttir.max_pool2d"(%1) <{kernel = array<i32: 2, 2>}> : (tensor<1x8x8x32xbf16>) -> tensor<1x4x4x32xbf16>
    return %2 : tensor<1x4x4x32xbf16>
  }
}
