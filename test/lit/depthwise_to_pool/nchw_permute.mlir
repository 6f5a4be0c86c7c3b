// An NCHW input described by batch/height/width/channel_dim gets ttir.permute
// to NHWC before the op and back after it.
// RUN: tt-dw-opt %s --tt-depthwise-to-pool="path=pool" | FileCheck %s

// NCHW: dims (b, h, w, c) = (0, 2, 3, 1). In: NCHW -> NHWC = [0, 2, 3, 1];
// out: NHWC -> NCHW = [0, 3, 1, 2].
// CHECK-LABEL: func.func @nchw
// CHECK: %[[IN:.*]] = "ttir.permute"(%arg0) {permutation = array<i64: 0, 2, 3, 1>} : (tensor<1x32x20x16xbf16>) -> tensor<1x20x16x32xbf16>
// CHECK: %[[Y:.*]] = "ttnn.depthwise_pool_conv"(%[[IN]], %{{[^)]*}})
// CHECK-SAME: input_height = 20 : i32, input_width = 16 : i32
// CHECK-SAME: -> tensor<1x10x8x32xbf16>
// CHECK: %[[OUT:.*]] = "ttir.permute"(%[[Y]]) {permutation = array<i64: 0, 3, 1, 2>} : (tensor<1x10x8x32xbf16>) -> tensor<1x32x10x8xbf16>
// CHECK: return %[[OUT]]
func.func @nchw(%x: tensor<1x32x20x16xbf16>, %w: tensor<32x1x3x3xbf16>) -> tensor<1x32x10x8xbf16> {
  %0 = "ttir.conv2d"(%x, %w) <{stride = 2 : i32, padding = 1 : i32, dilation = 1 : i32, groups = 32 : i32, batch_dim = 0 : i64, channel_dim = 1 : i64, height_dim = 2 : i64, width_dim = 3 : i64}> : (tensor<1x32x20x16xbf16>, tensor<32x1x3x3xbf16>) -> tensor<1x32x10x8xbf16>
  return %0 : tensor<1x32x10x8xbf16>
}

// A less common order, (b, h, w, c) = (3, 1, 2, 0), i.e. C x H x W x N.
// In: [3, 1, 2, 0] (N,H,W,C); back: inverse of [3,1,2,0] is [3,1,2,0].
// CHECK-LABEL: func.func @chwn
// CHECK: "ttir.permute"(%arg0) {permutation = array<i64: 3, 1, 2, 0>} : (tensor<32x12x10x2xbf16>) -> tensor<2x12x10x32xbf16>
// CHECK: "ttnn.depthwise_pool_conv"
// CHECK-SAME: batch_size = 2 : i32
// CHECK: "ttir.permute"(%{{.*}}) {permutation = array<i64: 3, 1, 2, 0>} : (tensor<2x12x10x32xbf16>) -> tensor<32x12x10x2xbf16>
func.func @chwn(%x: tensor<32x12x10x2xbf16>, %w: tensor<32x1x3x3xbf16>) -> tensor<32x12x10x2xbf16> {
  %0 = "ttir.conv2d"(%x, %w) <{stride = 1 : i32, padding = 1 : i32, dilation = 1 : i32, groups = 32 : i32, batch_dim = 3 : i64, channel_dim = 0 : i64, height_dim = 1 : i64, width_dim = 2 : i64}> : (tensor<32x12x10x2xbf16>, tensor<32x1x3x3xbf16>) -> tensor<32x12x10x2xbf16>
  return %0 : tensor<32x12x10x2xbf16>
}

// NCHW with a bias in channel position and a DPS destination: the bias add
// after an NCHW conv is not a per-channel add in NHWC terms unless laid out on
// the channel dim; here the bias is 1xCx1x1 (channel_dim = 1) and is fused.
// CHECK-LABEL: func.func @nchw_add_bias
// CHECK-NOT: ttir.add
// CHECK: "ttnn.prepare_depthwise_pool_bias"(%arg2)
// CHECK-SAME: (tensor<1x32x1x1xbf16>) -> tensor<1x1x32x32xbf16>
func.func @nchw_add_bias(%x: tensor<1x32x8x8xbf16>, %w: tensor<32x1x3x3xbf16>, %b: tensor<1x32x1x1xbf16>) -> tensor<1x32x8x8xbf16> {
  %0 = "ttir.conv2d"(%x, %w) <{stride = 1 : i32, padding = 1 : i32, dilation = 1 : i32, groups = 32 : i32, batch_dim = 0 : i64, channel_dim = 1 : i64, height_dim = 2 : i64, width_dim = 3 : i64}> : (tensor<1x32x8x8xbf16>, tensor<32x1x3x3xbf16>) -> tensor<1x32x8x8xbf16>
  %1 = "ttir.add"(%0, %b) : (tensor<1x32x8x8xbf16>, tensor<1x32x1x1xbf16>) -> tensor<1x32x8x8xbf16>
  return %1 : tensor<1x32x8x8xbf16>
}
