// Layout chosen for MobileNetV2 depthwise layers (DESIGN §7), by device and
// forced scheme. Expected values derived by hand from tt_dw_mlir/sharding.py:
//  height: pixels split over min(cores, P) cores, grid = row-major fill;
//  width: most shards n | C/32 (n <= cores), Cs = 32*(C/32)/n;
//  block: rows = pixel groups over grid rows, cols = largest divisor of C/32
//         <= grid cols with Cs <= 256.
// tiles_per_shard = ceil(K/R) * Cs/32 with R = 16 for K <= 16 else 32.
// RUN: tt-dw-opt %s --tt-depthwise-to-pool="path=pool shard-scheme=height_sharded" | FileCheck %s --check-prefix=HEIGHT
// RUN: tt-dw-opt %s --tt-depthwise-to-pool="path=pool device=p150 shard-scheme=height_sharded" | FileCheck %s --check-prefix=P150-HEIGHT
// RUN: tt-dw-opt %s --pass-pipeline="builtin.module(tt-depthwise-to-pool{path=pool shard-scheme=width_sharded})" | FileCheck %s --check-prefix=WIDTH
// RUN: tt-dw-opt %s --tt-depthwise-to-pool="path=pool device=p150 shard-scheme=width_sharded" | FileCheck %s --check-prefix=P150-WIDTH
// RUN: tt-dw-opt %s --tt-depthwise-to-pool="path=pool shard-scheme=block_sharded" | FileCheck %s --check-prefix=BLOCK
// RUN: tt-dw-opt %s --tt-depthwise-to-pool="path=pool device=p150 shard-scheme=block_sharded" | FileCheck %s --check-prefix=P150-BLOCK

// 112x112x32 3x3 s1: P = 12544. n150 height: 196 px on 64 cores, 8x8;
// p150 (10x11 = 110 cores): 115 px on 110 cores, 10x11. Cs=32, T=1, 2 face rows.
// HEIGHT-LABEL: func.func @mbv2_112x112x32
// HEIGHT: "ttnn.depthwise_pool_conv"
// HEIGHT-SAME: weight_layout = {channel_shards = 1 : i32, channels_per_shard = 32 : i32, cores = 64 : i32, dtype = "bf16", face_rows_per_position = 2 : i32, grid = array<i32: 8, 8>, kernel_size = array<i32: 3, 3>, rows_per_tile = 16 : i32, shard_scheme = "height_sharded", tiles_per_shard = 1 : i32}
// P150-HEIGHT-LABEL: func.func @mbv2_112x112x32
// P150-HEIGHT: "ttnn.depthwise_pool_conv"
// P150-HEIGHT-SAME: cores = 110 : i32
// P150-HEIGHT-SAME: grid = array<i32: 10, 11>
// P150-HEIGHT-SAME: shard_scheme = "height_sharded"
func.func @mbv2_112x112x32(%x: tensor<1x112x112x32xbf16>, %w: tensor<32x1x3x3xbf16>) -> tensor<1x112x112x32xbf16> {
  %0 = "ttir.conv2d"(%x, %w) <{stride = 1 : i32, padding = 1 : i32, dilation = 1 : i32, groups = 32 : i32}> : (tensor<1x112x112x32xbf16>, tensor<32x1x3x3xbf16>) -> tensor<1x112x112x32xbf16>
  return %0 : tensor<1x112x112x32xbf16>
}

// 56x56x96 3x3 s2 -> 28x28 (P=784): height n150 13 px/core on ceil(784/13)=61 cores,
// grid 8x8 (last row partial); Cs=96, T=3 (row_chunks 1 * 3 channel tiles), 6 face rows.
// HEIGHT-LABEL: func.func @mbv2_56x56x96_s2
// HEIGHT: "ttnn.prepare_depthwise_pool_weights"
// HEIGHT-SAME: channel_shards = 1 : i32, channels_per_shard = 96 : i32, cores = 61 : i32, dtype = "bf16", face_rows_per_position = 6 : i32, grid = array<i32: 8, 8>, kernel_size = array<i32: 3, 3>, rows_per_tile = 16 : i32, shard_scheme = "height_sharded", tiles_per_shard = 3 : i32
// HEIGHT-SAME: -> tensor<1x3x32x32xbf16>
func.func @mbv2_56x56x96_s2(%x: tensor<1x56x56x96xbf16>, %w: tensor<96x1x3x3xbf16>) -> tensor<1x28x28x96xbf16> {
  %0 = "ttir.conv2d"(%x, %w) <{stride = 2 : i32, padding = 1 : i32, dilation = 1 : i32, groups = 96 : i32}> : (tensor<1x56x56x96xbf16>, tensor<96x1x3x3xbf16>) -> tensor<1x28x28x96xbf16>
  return %0 : tensor<1x28x28x96xbf16>
}

// 14x14x576 3x3 s1 (P=196, 18 channel tiles).
// width n150: 18 shards of 32 on 18 cores, grid 3x8; p150: grid 2x11.
// block n150: 8 rows (25 px each); cols | 18, <= 8, Cs <= 256 -> 6 cols of 96, T=3.
// block p150: 10 rows (20 px); cols <= 11 -> 9 cols of 64, T=2, 4 face rows.
// height p150: 2 px on 98 cores -> grid 9x11.
// WIDTH-LABEL: func.func @mbv2_14x14x576
// WIDTH: "ttnn.prepare_depthwise_pool_weights"
// WIDTH-SAME: channel_shards = 18 : i32, channels_per_shard = 32 : i32, cores = 18 : i32, dtype = "bf16", face_rows_per_position = 2 : i32, grid = array<i32: 3, 8>, kernel_size = array<i32: 3, 3>, rows_per_tile = 16 : i32, shard_scheme = "width_sharded", tiles_per_shard = 1 : i32
// WIDTH-SAME: -> tensor<18x1x32x32xbf16>
// P150-WIDTH-LABEL: func.func @mbv2_14x14x576
// P150-WIDTH: "ttnn.depthwise_pool_conv"
// P150-WIDTH-SAME: channel_shards = 18 : i32, channels_per_shard = 32 : i32, cores = 18 : i32
// P150-WIDTH-SAME: grid = array<i32: 2, 11>
// BLOCK-LABEL: func.func @mbv2_14x14x576
// BLOCK: "ttnn.prepare_depthwise_pool_weights"
// BLOCK-SAME: channel_shards = 6 : i32, channels_per_shard = 96 : i32, cores = 48 : i32, dtype = "bf16", face_rows_per_position = 6 : i32, grid = array<i32: 8, 6>, kernel_size = array<i32: 3, 3>, rows_per_tile = 16 : i32, shard_scheme = "block_sharded", tiles_per_shard = 3 : i32
// BLOCK-SAME: -> tensor<6x3x32x32xbf16>
// P150-BLOCK-LABEL: func.func @mbv2_14x14x576
// P150-BLOCK: "ttnn.prepare_depthwise_pool_weights"
// P150-BLOCK-SAME: channel_shards = 9 : i32, channels_per_shard = 64 : i32, cores = 90 : i32, dtype = "bf16", face_rows_per_position = 4 : i32, grid = array<i32: 10, 9>
// P150-BLOCK-SAME: tiles_per_shard = 2 : i32
// P150-BLOCK-SAME: -> tensor<9x2x32x32xbf16>
// P150-HEIGHT-LABEL: func.func @mbv2_14x14x576
// P150-HEIGHT: "ttnn.depthwise_pool_conv"
// P150-HEIGHT-SAME: cores = 98 : i32
// P150-HEIGHT-SAME: grid = array<i32: 9, 11>
func.func @mbv2_14x14x576(%x: tensor<1x14x14x576xbf16>, %w: tensor<576x1x3x3xbf16>) -> tensor<1x14x14x576xbf16> {
  %0 = "ttir.conv2d"(%x, %w) <{stride = 1 : i32, padding = 1 : i32, dilation = 1 : i32, groups = 576 : i32}> : (tensor<1x14x14x576xbf16>, tensor<576x1x3x3xbf16>) -> tensor<1x14x14x576xbf16>
  return %0 : tensor<1x14x14x576xbf16>
}
