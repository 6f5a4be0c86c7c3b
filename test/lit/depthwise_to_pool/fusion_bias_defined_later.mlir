// The bias of the following add is defined between the conv and the add
// (tt-mlir's conv2d_bias_fusing.mlir has this "dominance order" case). The
// fused op must be placed where the bias dominates it.
// RUN: tt-dw-opt %s --tt-depthwise-to-pool="path=pool" | FileCheck %s

// CHECK-LABEL: func.func @bias_after_conv
// CHECK: %[[B:.*]] = "ttir.relu"(%arg2)
// CHECK: "ttnn.prepare_depthwise_pool_bias"(%[[B]])
// CHECK: "ttnn.depthwise_pool_conv"
// CHECK-NOT: ttir.add
func.func @bias_after_conv(%x: tensor<1x16x16x32xbf16>, %w: tensor<32x1x3x3xbf16>, %b0: tensor<1x1x1x32xbf16>) -> tensor<1x16x16x32xbf16> {
  %0 = "ttir.conv2d"(%x, %w) <{stride = 1 : i32, padding = 1 : i32, dilation = 1 : i32, groups = 32 : i32}> : (tensor<1x16x16x32xbf16>, tensor<32x1x3x3xbf16>) -> tensor<1x16x16x32xbf16>
  %b = "ttir.relu"(%b0) : (tensor<1x1x1x32xbf16>) -> tensor<1x1x1x32xbf16>
  %1 = "ttir.add"(%0, %b) : (tensor<1x16x16x32xbf16>, tensor<1x1x1x32xbf16>) -> tensor<1x16x16x32xbf16>
  return %1 : tensor<1x16x16x32xbf16>
}
