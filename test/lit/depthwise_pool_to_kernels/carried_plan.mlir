// The plan is made once, by --tt-depthwise-to-pool, and carried by the op: its sharding,
// in weight_layout. The lowering builds the program of that sharding (channel blocks,
// buffers, cores, multicast follow from it; a pass of the kernels is always 32 output
// pixels by one channel block) instead of planning again.
// RUN: not tt-dw-opt %s --split-input-file --tt-depthwise-pool-to-kernels 2>/dev/null | FileCheck %s
// RUN: not tt-dw-opt %s --split-input-file --tt-depthwise-pool-to-kernels 2>&1 | FileCheck %s --check-prefix=ERR

// 16x16 pixels, 32 channels. @planned carries what the planner picks on n150 (height
// sharded on all 8x8 cores: 256 / 64 = 4 pixels per core); @carried a block sharding on
// one column of 8 cores (256 / 8 = 32 pixels per core), which the lowering keeps.
// Programs are defined in the order of first use; cores as [x0, y0, x1, y1].
// CHECK: "ttnn.depthwise_pool_kernel_program"()
// CHECK-SAME: core_ranges = [array<i64: 0, 0, 7, 7>]
// CHECK-SAME: pixels_per_core = 4 : i64
// CHECK: "ttnn.depthwise_pool_kernel_program"()
// CHECK-SAME: core_ranges = [array<i64: 0, 0, 0, 7>]
// CHECK-SAME: pixels_per_core = 32 : i64
// CHECK-LABEL: func.func @planned
// CHECK: "ttnn.depthwise_pool_program"
// CHECK-LABEL: func.func @carried
// CHECK: "ttnn.depthwise_pool_program"
// CHECK-SAME: shard_scheme = "block_sharded"
module attributes {tt_dw.device = {arch = "wormhole_b0", grid = array<i64: 8, 8>, l1_size = 1499136 : i64, l1_unreserved_base = 103712 : i64, name = "n150", num_dram_channels = 12 : i64}} {
  func.func @planned(%arg0: tensor<1x16x16x32xbf16>, %arg1: tensor<32x1x3x3xbf16>) -> tensor<1x16x16x32xbf16> {
    %0 = "ttnn.prepare_depthwise_pool_weights"(%arg1) <{in_channels = 32 : i32, kernel_size = array<i32: 3, 3>, weight_layout = {channel_shards = 1 : i32, channels_per_shard = 32 : i32, cores = 64 : i32, dtype = "bf16", face_rows_per_position = 2 : i32, grid = array<i32: 8, 8>, kernel_size = array<i32: 3, 3>, rows_per_tile = 16 : i32, shard_scheme = "height_sharded", tiles_per_shard = 1 : i32}}> : (tensor<32x1x3x3xbf16>) -> tensor<1x1x32x32xbf16>
    %1 = "ttnn.depthwise_pool_conv"(%arg0, %0) <{activation = "none", batch_size = 1 : i32, dilation = array<i32: 1, 1>, dtype = "bf16", in_channels = 32 : i32, input_height = 16 : i32, input_width = 16 : i32, kernel_size = array<i32: 3, 3>, out_channels = 32 : i32, padding = array<i32: 1, 1, 1, 1>, stride = array<i32: 1, 1>, weight_layout = {channel_shards = 1 : i32, channels_per_shard = 32 : i32, cores = 64 : i32, dtype = "bf16", face_rows_per_position = 2 : i32, grid = array<i32: 8, 8>, kernel_size = array<i32: 3, 3>, rows_per_tile = 16 : i32, shard_scheme = "height_sharded", tiles_per_shard = 1 : i32}}> : (tensor<1x16x16x32xbf16>, tensor<1x1x32x32xbf16>) -> tensor<1x16x16x32xbf16>
    return %1 : tensor<1x16x16x32xbf16>
  }
  func.func @carried(%arg0: tensor<1x16x16x32xbf16>, %arg1: tensor<32x1x3x3xbf16>) -> tensor<1x16x16x32xbf16> {
    %0 = "ttnn.prepare_depthwise_pool_weights"(%arg1) <{in_channels = 32 : i32, kernel_size = array<i32: 3, 3>, weight_layout = {channel_shards = 1 : i32, channels_per_shard = 32 : i32, cores = 8 : i32, dtype = "bf16", face_rows_per_position = 2 : i32, grid = array<i32: 8, 1>, kernel_size = array<i32: 3, 3>, rows_per_tile = 16 : i32, shard_scheme = "block_sharded", tiles_per_shard = 1 : i32}}> : (tensor<32x1x3x3xbf16>) -> tensor<1x1x32x32xbf16>
    %1 = "ttnn.depthwise_pool_conv"(%arg0, %0) <{activation = "none", batch_size = 1 : i32, dilation = array<i32: 1, 1>, dtype = "bf16", in_channels = 32 : i32, input_height = 16 : i32, input_width = 16 : i32, kernel_size = array<i32: 3, 3>, out_channels = 32 : i32, padding = array<i32: 1, 1, 1, 1>, stride = array<i32: 1, 1>, weight_layout = {channel_shards = 1 : i32, channels_per_shard = 32 : i32, cores = 8 : i32, dtype = "bf16", face_rows_per_position = 2 : i32, grid = array<i32: 8, 1>, kernel_size = array<i32: 3, 3>, rows_per_tile = 16 : i32, shard_scheme = "block_sharded", tiles_per_shard = 1 : i32}}> : (tensor<1x16x16x32xbf16>, tensor<1x1x32x32xbf16>) -> tensor<1x16x16x32xbf16>
    return %1 : tensor<1x16x16x32xbf16>
  }
}

// -----

// A plan that cannot be a plan is an error at the op: a 9x9 grid on n150's 8x8.
// ERR: carried_plan.mlir:[[@LINE+4]]:10: error: 'ttnn.depthwise_pool_conv' op cannot be lowered: grid 9x9 exceeds n150's 8x8
module attributes {tt_dw.device = {arch = "wormhole_b0", grid = array<i64: 8, 8>, l1_size = 1499136 : i64, l1_unreserved_base = 103712 : i64, name = "n150", num_dram_channels = 12 : i64}} {
  func.func @bad(%arg0: tensor<1x16x16x32xbf16>, %arg1: tensor<32x1x3x3xbf16>) -> tensor<1x16x16x32xbf16> {
    %0 = "ttnn.prepare_depthwise_pool_weights"(%arg1) <{in_channels = 32 : i32, kernel_size = array<i32: 3, 3>, weight_layout = {channel_shards = 1 : i32, channels_per_shard = 32 : i32, cores = 81 : i32, dtype = "bf16", face_rows_per_position = 2 : i32, grid = array<i32: 9, 9>, kernel_size = array<i32: 3, 3>, rows_per_tile = 16 : i32, shard_scheme = "height_sharded", tiles_per_shard = 1 : i32}}> : (tensor<32x1x3x3xbf16>) -> tensor<1x1x32x32xbf16>
    %1 = "ttnn.depthwise_pool_conv"(%arg0, %0) <{activation = "none", batch_size = 1 : i32, dilation = array<i32: 1, 1>, dtype = "bf16", in_channels = 32 : i32, input_height = 16 : i32, input_width = 16 : i32, kernel_size = array<i32: 3, 3>, out_channels = 32 : i32, padding = array<i32: 1, 1, 1, 1>, stride = array<i32: 1, 1>, weight_layout = {channel_shards = 1 : i32, channels_per_shard = 32 : i32, cores = 81 : i32, dtype = "bf16", face_rows_per_position = 2 : i32, grid = array<i32: 9, 9>, kernel_size = array<i32: 3, 3>, rows_per_tile = 16 : i32, shard_scheme = "height_sharded", tiles_per_shard = 1 : i32}}> : (tensor<1x16x16x32xbf16>, tensor<1x1x32x32xbf16>) -> tensor<1x16x16x32xbf16>
    return %1 : tensor<1x16x16x32xbf16>
  }
}
