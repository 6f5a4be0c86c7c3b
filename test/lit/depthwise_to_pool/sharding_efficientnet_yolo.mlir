// Layouts for EfficientNet-B0 (3x3 and 5x5) and YOLOv10x (7x7) depthwise layers;
// hand-derived as in sharding_mobilenetv2.mlir. 5x5: K=25 > 16 -> 32 rows per
// tile, 1 row chunk. 7x7: K=49 -> 32 rows per tile, ceil(49/32) = 2 row chunks.
// RUN: tt-dw-opt %s --tt-depthwise-to-pool="path=pool shard-scheme=height_sharded" | FileCheck %s --check-prefix=HEIGHT
// RUN: tt-dw-opt %s --tt-depthwise-to-pool="path=pool shard-scheme=width_sharded" | FileCheck %s --check-prefix=WIDTH
// RUN: tt-dw-opt %s --tt-depthwise-to-pool="path=pool shard-scheme=block_sharded" | FileCheck %s --check-prefix=BLOCK
// RUN: tt-dw-opt %s --tt-depthwise-to-pool="path=pool device=p150 shard-scheme=block_sharded" | FileCheck %s --check-prefix=P150-BLOCK
// RUN: tt-dw-opt %s --tt-depthwise-to-pool="path=pool device=p150 shard-scheme=width_sharded" | FileCheck %s --check-prefix=P150-WIDTH

// EfficientNet-B0 56x56x144 5x5 s2 -> 28x28 (P=784): height n150 on 61 cores,
// Cs=160 -> T = 1 * 5 = 5, 10 face rows, 32 rows per tile.
// HEIGHT-LABEL: func.func @effnet_56x56x144_5x5_s2
// HEIGHT: "ttnn.prepare_depthwise_pool_weights"
// HEIGHT-SAME: channel_shards = 1 : i32, channels_per_shard = 160 : i32, cores = 61 : i32, dtype = "bf16", face_rows_per_position = 10 : i32, grid = array<i32: 8, 8>, kernel_size = array<i32: 5, 5>, rows_per_tile = 32 : i32, shard_scheme = "height_sharded", tiles_per_shard = 5 : i32
// HEIGHT-SAME: (tensor<144x1x5x5xbf16>) -> tensor<1x5x32x32xbf16>
// HEIGHT: "ttnn.depthwise_pool_conv"
// HEIGHT-SAME: padding = array<i32: 2, 2, 2, 2>, stride = array<i32: 2, 2>
// WIDTH-LABEL: func.func @effnet_56x56x144_5x5_s2
// WIDTH: "ttnn.prepare_depthwise_pool_weights"
// WIDTH-SAME: channel_shards = 5 : i32, channels_per_shard = 32 : i32, cores = 5 : i32
// WIDTH-SAME: grid = array<i32: 1, 5>
func.func @effnet_56x56x144_5x5_s2(%x: tensor<1x56x56x144xbf16>, %w: tensor<144x1x5x5xbf16>) -> tensor<1x28x28x144xbf16> {
  %0 = "ttir.conv2d"(%x, %w) <{stride = 2 : i32, padding = 2 : i32, dilation = 1 : i32, groups = 144 : i32}> : (tensor<1x56x56x144xbf16>, tensor<144x1x5x5xbf16>) -> tensor<1x28x28x144xbf16>
  return %0 : tensor<1x28x28x144xbf16>
}

// EfficientNet-B0 7x7x1152 5x5 (P=49, 36 channel tiles).
// width n150: 36 shards on 36 cores, grid 5x8. block n150: 7 rows (7 px);
// cols | 36, <= 8, Cs <= 256 -> 6 cols of 192 (T=6, 12 face rows).
// block p150: 10 rows (5 px); cols <= 11 -> 9 cols of 128 (T=4).
// WIDTH-LABEL: func.func @effnet_7x7x1152_5x5
// WIDTH: "ttnn.prepare_depthwise_pool_weights"
// WIDTH-SAME: channel_shards = 36 : i32, channels_per_shard = 32 : i32, cores = 36 : i32
// WIDTH-SAME: grid = array<i32: 5, 8>
// WIDTH-SAME: -> tensor<36x1x32x32xbf16>
// BLOCK-LABEL: func.func @effnet_7x7x1152_5x5
// BLOCK: "ttnn.prepare_depthwise_pool_weights"
// BLOCK-SAME: channel_shards = 6 : i32, channels_per_shard = 192 : i32, cores = 42 : i32, dtype = "bf16", face_rows_per_position = 12 : i32, grid = array<i32: 7, 6>, kernel_size = array<i32: 5, 5>, rows_per_tile = 32 : i32, shard_scheme = "block_sharded", tiles_per_shard = 6 : i32
// BLOCK-SAME: -> tensor<6x6x32x32xbf16>
// P150-BLOCK-LABEL: func.func @effnet_7x7x1152_5x5
// P150-BLOCK: "ttnn.prepare_depthwise_pool_weights"
// P150-BLOCK-SAME: channel_shards = 9 : i32, channels_per_shard = 128 : i32, cores = 90 : i32
// P150-BLOCK-SAME: grid = array<i32: 10, 9>
// P150-BLOCK-SAME: tiles_per_shard = 4 : i32
func.func @effnet_7x7x1152_5x5(%x: tensor<1x7x7x1152xbf16>, %w: tensor<1152x1x5x5xbf16>) -> tensor<1x7x7x1152xbf16> {
  %0 = "ttir.conv2d"(%x, %w) <{stride = 1 : i32, padding = 2 : i32, dilation = 1 : i32, groups = 1152 : i32}> : (tensor<1x7x7x1152xbf16>, tensor<1152x1x5x5xbf16>) -> tensor<1x7x7x1152xbf16>
  return %0 : tensor<1x7x7x1152xbf16>
}

// EfficientNet-B0 3x3 at 7x7x1152: width n150 like the 5x5 one but 16 rows/tile.
// WIDTH-LABEL: func.func @effnet_7x7x1152_3x3
// WIDTH: "ttnn.prepare_depthwise_pool_weights"
// WIDTH-SAME: channel_shards = 36 : i32
// WIDTH-SAME: rows_per_tile = 16 : i32, shard_scheme = "width_sharded", tiles_per_shard = 1 : i32
func.func @effnet_7x7x1152_3x3(%x: tensor<1x7x7x1152xbf16>, %w: tensor<1152x1x3x3xbf16>) -> tensor<1x7x7x1152xbf16> {
  %0 = "ttir.conv2d"(%x, %w) <{stride = 1 : i32, padding = 1 : i32, dilation = 1 : i32, groups = 1152 : i32}> : (tensor<1x7x7x1152xbf16>, tensor<1152x1x3x3xbf16>) -> tensor<1x7x7x1152xbf16>
  return %0 : tensor<1x7x7x1152xbf16>
}

// YOLOv10x 20x20x640 7x7 p3 (P=400, 20 channel tiles).
// block n150: 8 rows (50 px); cols | 20, <= 8: 4 (Cs 160) or 5 (Cs 128); the
// busiest-core work is proportional to Cs, so 5 cols of 128: T = 2 * 4 = 8.
// width p150: 20 shards of 32 on 20 cores, grid 2x11, T = 2 * 1 = 2.
// BLOCK-LABEL: func.func @yolov10x_20x20x640_7x7
// BLOCK: "ttnn.prepare_depthwise_pool_weights"
// BLOCK-SAME: channel_shards = 5 : i32, channels_per_shard = 128 : i32, cores = 40 : i32, dtype = "bf16", face_rows_per_position = 8 : i32, grid = array<i32: 8, 5>, kernel_size = array<i32: 7, 7>, rows_per_tile = 32 : i32, shard_scheme = "block_sharded", tiles_per_shard = 8 : i32
// BLOCK-SAME: (tensor<640x1x7x7xbf16>) -> tensor<5x8x32x32xbf16>
// P150-WIDTH-LABEL: func.func @yolov10x_20x20x640_7x7
// P150-WIDTH: "ttnn.prepare_depthwise_pool_weights"
// P150-WIDTH-SAME: channel_shards = 20 : i32, channels_per_shard = 32 : i32, cores = 20 : i32
// P150-WIDTH-SAME: grid = array<i32: 2, 11>, kernel_size = array<i32: 7, 7>, rows_per_tile = 32 : i32, shard_scheme = "width_sharded", tiles_per_shard = 2 : i32
// P150-WIDTH-SAME: -> tensor<20x2x32x32xbf16>
func.func @yolov10x_20x20x640_7x7(%x: tensor<1x20x20x640xbf16>, %w: tensor<640x1x7x7xbf16>) -> tensor<1x20x20x640xbf16> {
  %0 = "ttir.conv2d"(%x, %w) <{stride = 1 : i32, padding = 3 : i32, dilation = 1 : i32, groups = 640 : i32}> : (tensor<1x20x20x640xbf16>, tensor<640x1x7x7xbf16>) -> tensor<1x20x20x640xbf16>
  return %0 : tensor<1x20x20x640xbf16>
}
