// Every attribute form of ttir.conv2d from DESIGN §3 / TTIROps.td converts, and
// the op's attributes are derived from it: padding is read as TTIR's
// [pT, pL, pB, pR] and written in ttnn.conv2d's order [pT, pB, pL, pR].
// RUN: tt-dw-opt %s --tt-depthwise-to-pool="path=pool" | FileCheck %s

// Array attributes, bias operand (the current tt-mlir form).
// Layout (C=64, 3x3, n150 height): Cs=64, K=9<=16 -> 16 rows/tile, row_chunks=1,
// channel_tiles=2 -> tiles_per_shard=2, face rows=ceil(64/16)=4; 56*56 px on 64 cores.
// CHECK-LABEL: func.func @array_attrs_with_bias
// CHECK-SAME: (%[[X:.*]]: tensor<1x56x56x64xbf16>, %[[W:.*]]: tensor<64x1x3x3xbf16>, %[[B:.*]]: tensor<1x1x1x64xbf16>)
// CHECK-NOT: ttir.conv2d
// CHECK: %[[PW:.*]] = "ttnn.prepare_depthwise_pool_weights"(%[[W]])
// CHECK-SAME: in_channels = 64 : i32, kernel_size = array<i32: 3, 3>
// CHECK-SAME: channel_shards = 1 : i32, channels_per_shard = 64 : i32, cores = 64 : i32, dtype = "bf16", face_rows_per_position = 4 : i32, grid = array<i32: 8, 8>, kernel_size = array<i32: 3, 3>, rows_per_tile = 16 : i32, shard_scheme = "height_sharded", tiles_per_shard = 2 : i32
// CHECK-SAME: (tensor<64x1x3x3xbf16>) -> tensor<1x2x32x32xbf16>
// CHECK: %[[PB:.*]] = "ttnn.prepare_depthwise_pool_bias"(%[[B]])
// CHECK-SAME: (tensor<1x1x1x64xbf16>) -> tensor<1x2x32x32xbf16>
// CHECK: %[[Y:.*]] = "ttnn.depthwise_pool_conv"(%[[X]], %[[PW]], %[[PB]])
// CHECK-SAME: activation = "none", batch_size = 1 : i32, dilation = array<i32: 1, 1>, dtype = "bf16", in_channels = 64 : i32, input_height = 56 : i32, input_width = 56 : i32, kernel_size = array<i32: 3, 3>, out_channels = 64 : i32, padding = array<i32: 1, 1, 1, 1>, stride = array<i32: 1, 1>
// CHECK-SAME: -> tensor<1x56x56x64xbf16>
// CHECK: return %[[Y]]
func.func @array_attrs_with_bias(%x: tensor<1x56x56x64xbf16>, %w: tensor<64x1x3x3xbf16>, %b: tensor<1x1x1x64xbf16>) -> tensor<1x56x56x64xbf16> {
  %0 = "ttir.conv2d"(%x, %w, %b) <{stride = array<i32: 1, 1>, padding = array<i32: 1, 1, 1, 1>, dilation = array<i32: 1, 1>, groups = 64 : i32}> : (tensor<1x56x56x64xbf16>, tensor<64x1x3x3xbf16>, tensor<1x1x1x64xbf16>) -> tensor<1x56x56x64xbf16>
  return %0 : tensor<1x56x56x64xbf16>
}

// Scalar shorthand, no bias: no bias prepare op, two operands.
// CHECK-LABEL: func.func @scalar_attrs_no_bias
// CHECK-NOT: prepare_depthwise_pool_bias
// CHECK: "ttnn.depthwise_pool_conv"(%{{.*}}, %{{[^,]*}}) {
// CHECK-SAME: dilation = array<i32: 1, 1>
// CHECK-SAME: padding = array<i32: 1, 1, 1, 1>, stride = array<i32: 2, 2>
// CHECK-SAME: (tensor<1x112x112x96xbf16>, tensor<1x3x32x32xbf16>) -> tensor<1x56x56x96xbf16>
func.func @scalar_attrs_no_bias(%x: tensor<1x112x112x96xbf16>, %w: tensor<96x1x3x3xbf16>) -> tensor<1x56x56x96xbf16> {
  %0 = "ttir.conv2d"(%x, %w) <{stride = 2 : i32, padding = 1 : i32, dilation = 1 : i32, groups = 96 : i32}> : (tensor<1x112x112x96xbf16>, tensor<96x1x3x3xbf16>) -> tensor<1x56x56x96xbf16>
  return %0 : tensor<1x56x56x96xbf16>
}

// 2-element padding [pH, pW] and 2-element stride/dilation [h, w]:
// H: (32 + 2*2 - 2*(3-1) - 1)/1 + 1 = 32; W: (32 + 2*1 - 1*2 - 1)/2 + 1 = 16.
// CHECK-LABEL: func.func @two_element_padding
// CHECK: "ttnn.depthwise_pool_conv"
// CHECK-SAME: dilation = array<i32: 2, 1>
// CHECK-SAME: padding = array<i32: 2, 2, 1, 1>, stride = array<i32: 1, 2>
// CHECK-SAME: -> tensor<1x32x16x32xbf16>
func.func @two_element_padding(%x: tensor<1x32x32x32xbf16>, %w: tensor<32x1x3x3xbf16>) -> tensor<1x32x16x32xbf16> {
  %0 = "ttir.conv2d"(%x, %w) <{stride = array<i32: 1, 2>, padding = array<i32: 2, 1>, dilation = array<i32: 2, 1>, groups = 32 : i32}> : (tensor<1x32x32x32xbf16>, tensor<32x1x3x3xbf16>) -> tensor<1x32x16x32xbf16>
  return %0 : tensor<1x32x16x32xbf16>
}

// Asymmetric 4-element padding: TTIR [pT, pL, pB, pR] = [1, 2, 3, 4] becomes
// [pT, pB, pL, pR] = [1, 3, 2, 4]. H: 16+1+3-2 = 18; W: 16+2+4-2 = 20.
// CHECK-LABEL: func.func @asymmetric_padding
// CHECK: "ttnn.depthwise_pool_conv"
// CHECK-SAME: padding = array<i32: 1, 3, 2, 4>
// CHECK-SAME: -> tensor<1x18x20x32xbf16>
func.func @asymmetric_padding(%x: tensor<1x16x16x32xbf16>, %w: tensor<32x1x3x3xbf16>) -> tensor<1x18x20x32xbf16> {
  %0 = "ttir.conv2d"(%x, %w) <{stride = 1 : i32, padding = array<i32: 1, 2, 3, 4>, dilation = 1 : i32, groups = 32 : i32}> : (tensor<1x16x16x32xbf16>, tensor<32x1x3x3xbf16>) -> tensor<1x18x20x32xbf16>
  return %0 : tensor<1x18x20x32xbf16>
}

// Channels not a multiple of 32 are padded in the layout: C=40 -> Cs=64.
// f32 is a float type the kernels take; the op keeps the element type end to end:
// dtype = "f32", and (weight-dtype auto) f32 weights prepared as f32.
// CHECK-LABEL: func.func @unaligned_channels_f32
// CHECK: "ttnn.prepare_depthwise_pool_weights"
// CHECK-SAME: channels_per_shard = 64 : i32
// CHECK-SAME: dtype = "f32"
// CHECK-SAME: (tensor<40x1x3x3xf32>) -> tensor<1x2x32x32xf32>
// CHECK: "ttnn.depthwise_pool_conv"
// CHECK-SAME: dtype = "f32"
// CHECK-SAME: in_channels = 40 : i32
// CHECK-SAME: (tensor<2x10x10x40xf32>, tensor<1x2x32x32xf32>) -> tensor<2x8x8x40xf32>
func.func @unaligned_channels_f32(%x: tensor<2x10x10x40xf32>, %w: tensor<40x1x3x3xf32>) -> tensor<2x8x8x40xf32> {
  %0 = "ttir.conv2d"(%x, %w) <{stride = 1 : i32, padding = 0 : i32, dilation = 1 : i32, groups = 40 : i32}> : (tensor<2x10x10x40xf32>, tensor<40x1x3x3xf32>) -> tensor<2x8x8x40xf32>
  return %0 : tensor<2x8x8x40xf32>
}

// A 1x1-high kernel on a 2-D input is still a 2-D conv (only kernel AND input
// of size 1 make it 1-D). K = 1*5 = 5 -> 16 rows per tile.
// CHECK-LABEL: func.func @one_by_five_kernel
// CHECK: "ttnn.depthwise_pool_conv"
// CHECK-SAME: kernel_size = array<i32: 1, 5>
// CHECK-SAME: -> tensor<1x8x4x32xbf16>
func.func @one_by_five_kernel(%x: tensor<1x8x8x32xbf16>, %w: tensor<32x1x1x5xbf16>) -> tensor<1x8x4x32xbf16> {
  %0 = "ttir.conv2d"(%x, %w) <{stride = 1 : i32, padding = 0 : i32, dilation = 1 : i32, groups = 32 : i32}> : (tensor<1x8x8x32xbf16>, tensor<32x1x1x5xbf16>) -> tensor<1x8x4x32xbf16>
  return %0 : tensor<1x8x4x32xbf16>
}

// f16 likewise: dtype = "f16", f16 weights.
// CHECK-LABEL: func.func @f16_conv
// CHECK: "ttnn.prepare_depthwise_pool_weights"
// CHECK-SAME: (tensor<32x1x3x3xf16>) -> tensor<1x1x32x32xf16>
// CHECK: "ttnn.depthwise_pool_conv"
// CHECK-SAME: dtype = "f16"
// CHECK-SAME: -> tensor<1x8x8x32xf16>
func.func @f16_conv(%x: tensor<1x8x8x32xf16>, %w: tensor<32x1x3x3xf16>) -> tensor<1x8x8x32xf16> {
  %0 = "ttir.conv2d"(%x, %w) <{stride = 1 : i32, padding = 1 : i32, dilation = 1 : i32, groups = 32 : i32}> : (tensor<1x8x8x32xf16>, tensor<32x1x3x3xf16>) -> tensor<1x8x8x32xf16>
  return %0 : tensor<1x8x8x32xf16>
}
