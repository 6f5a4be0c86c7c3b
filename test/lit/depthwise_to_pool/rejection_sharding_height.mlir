// Height sharding keeps all channels on every core: C=2048 on 256x256 pixels
// (1024 pixels = 32 tiles on each of n150's 64 cores) does not fit L1: the window
// planes go to DRAM, but the output shard is 32 tiles x 64 channel tiles x 2048 B =
// 4194304 B; with 38 tiles of circular buffers (4-tile channel blocks, the float32 tiles
// DST holds; double-buffered in/acc/out and weights, no bias buffers without a bias):
// in 8 + weight_stage 4 + weight 8 + out 8 = 28 bf16 tiles of 2048 B (57344 B) and the
// selector and acc buffers' 2 + 8 f32 tiles of 4096 B (40960 B), 4292608 B.
// RUN: tt-dw-opt %s --verify-diagnostics --tt-depthwise-to-pool="path=pool shard-scheme=height_sharded" | FileCheck %s

// CHECK-LABEL: func.func @wide_height
// CHECK: "ttir.conv2d"
func.func @wide_height(%x: tensor<1x256x256x2048xbf16>, %w: tensor<2048x1x3x3xbf16>) -> tensor<1x256x256x2048xbf16> {
  // expected-remark@+1 {{l1: no sharding fits L1: the smallest plan (height_sharded, grid 8x8, 2048 channels and 1024 pixels per core) needs 4292608 B of L1 per core, n150 has 1395424 B usable; largest: 'out' shard, 4194304 B}}
  %0 = "ttir.conv2d"(%x, %w) <{stride = 1 : i32, padding = 1 : i32, dilation = 1 : i32, groups = 2048 : i32}> : (tensor<1x256x256x2048xbf16>, tensor<2048x1x3x3xbf16>) -> tensor<1x256x256x2048xbf16>
  return %0 : tensor<1x256x256x2048xbf16>
}
