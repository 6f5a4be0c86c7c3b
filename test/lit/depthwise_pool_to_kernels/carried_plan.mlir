// The plan is made once, by --tt-depthwise-to-pool, and carried by the op: the sharding in
// weight_layout and the pixels per pass in `pixels_per_pass`. The lowering builds that plan
// (here 1 pixel per pass where the planner would choose 4) instead of planning again.
// RUN: not tt-dw-opt %s --split-input-file --tt-depthwise-pool-to-kernels 2>/dev/null | FileCheck %s
// RUN: not tt-dw-opt %s --split-input-file --tt-depthwise-pool-to-kernels 2>&1 | FileCheck %s --check-prefix=ERR

// The program (defined once in the module, named by the op) holds the pixels per pass;
// the op keeps no copy of its own.
// CHECK: "ttnn.depthwise_pool_kernel_program"()
// CHECK-SAME: pixels_per_pass = 1 : i64
// CHECK-SAME: sym_name = "[[PROGRAM:depthwise_pool_program_[0-9]+]]"
// CHECK-LABEL: func.func @small
// CHECK: "ttnn.depthwise_pool_program"
// CHECK-NOT: pixels_per_pass
// CHECK-SAME: program = @[[PROGRAM]]
// CHECK-NOT: pixels_per_pass
// CHECK: return
module attributes {tt_dw.device = {arch = "wormhole_b0", grid = array<i64: 8, 8>, l1_size = 1499136 : i64, l1_unreserved_base = 103712 : i64, name = "n150", num_dram_channels = 12 : i64}} {
  func.func @small(%arg0: tensor<1x16x16x32xbf16>, %arg1: tensor<32x1x3x3xbf16>) -> tensor<1x16x16x32xbf16> {
    %0 = "ttnn.prepare_depthwise_pool_weights"(%arg1) <{in_channels = 32 : i32, kernel_size = array<i32: 3, 3>, weight_layout = {channel_shards = 1 : i32, channels_per_shard = 32 : i32, cores = 64 : i32, dtype = "bf16", face_rows_per_position = 2 : i32, grid = array<i32: 8, 8>, kernel_size = array<i32: 3, 3>, rows_per_tile = 16 : i32, shard_scheme = "height_sharded", tiles_per_shard = 1 : i32}}> : (tensor<32x1x3x3xbf16>) -> tensor<1x1x32x32xbf16>
    %1 = "ttnn.depthwise_pool_conv"(%arg0, %0) <{activation = "none", batch_size = 1 : i32, dilation = array<i32: 1, 1>, dtype = "bf16", in_channels = 32 : i32, input_height = 16 : i32, input_width = 16 : i32, kernel_size = array<i32: 3, 3>, out_channels = 32 : i32, padding = array<i32: 1, 1, 1, 1>, pixels_per_pass = 1 : i32, stride = array<i32: 1, 1>, weight_layout = {channel_shards = 1 : i32, channels_per_shard = 32 : i32, cores = 64 : i32, dtype = "bf16", face_rows_per_position = 2 : i32, grid = array<i32: 8, 8>, kernel_size = array<i32: 3, 3>, rows_per_tile = 16 : i32, shard_scheme = "height_sharded", tiles_per_shard = 1 : i32}}> : (tensor<1x16x16x32xbf16>, tensor<1x1x32x32xbf16>) -> tensor<1x16x16x32xbf16>
    return %1 : tensor<1x16x16x32xbf16>
  }
}

// -----

// A plan that cannot be a plan is an error at the op.
// ERR: carried_plan.mlir:[[@LINE+3]]:10: error: 'ttnn.depthwise_pool_conv' op 'pixels_per_pass' must be a positive integer, got 0 : i32
  func.func @zero_pixels(%arg0: tensor<1x16x16x32xbf16>, %arg1: tensor<32x1x3x3xbf16>) -> tensor<1x16x16x32xbf16> {
    %0 = "ttnn.prepare_depthwise_pool_weights"(%arg1) <{in_channels = 32 : i32, kernel_size = array<i32: 3, 3>, weight_layout = {channel_shards = 1 : i32, channels_per_shard = 32 : i32, cores = 64 : i32, dtype = "bf16", face_rows_per_position = 2 : i32, grid = array<i32: 8, 8>, kernel_size = array<i32: 3, 3>, rows_per_tile = 16 : i32, shard_scheme = "height_sharded", tiles_per_shard = 1 : i32}}> : (tensor<32x1x3x3xbf16>) -> tensor<1x1x32x32xbf16>
    %1 = "ttnn.depthwise_pool_conv"(%arg0, %0) <{activation = "none", batch_size = 1 : i32, dilation = array<i32: 1, 1>, dtype = "bf16", in_channels = 32 : i32, input_height = 16 : i32, input_width = 16 : i32, kernel_size = array<i32: 3, 3>, out_channels = 32 : i32, padding = array<i32: 1, 1, 1, 1>, pixels_per_pass = 0 : i32, stride = array<i32: 1, 1>, weight_layout = {channel_shards = 1 : i32, channels_per_shard = 32 : i32, cores = 64 : i32, dtype = "bf16", face_rows_per_position = 2 : i32, grid = array<i32: 8, 8>, kernel_size = array<i32: 3, 3>, rows_per_tile = 16 : i32, shard_scheme = "height_sharded", tiles_per_shard = 1 : i32}}> : (tensor<1x16x16x32xbf16>, tensor<1x1x32x32xbf16>) -> tensor<1x16x16x32xbf16>
    return %1 : tensor<1x16x16x32xbf16>
  }
