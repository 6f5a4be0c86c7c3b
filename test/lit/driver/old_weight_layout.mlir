// IR written before `weight_layout` became a builtin dictionary wraps the same
// dictionary in an IRDL attribute, #ttnn.depthwise_weight_layout<{...}>. It is read
// once at file input (dialect/irdl_syntax.py), used by the passes, and printed as the
// dictionary, which parses again as it is. (invalid_ttnn_ops.mlir checks an old one that is wrong.)
// RUN: tt-dw-opt %s | FileCheck %s
// RUN: tt-dw-opt %s | tt-dw-opt | FileCheck %s
// RUN: tt-dw-opt %s --tt-depthwise-pool-to-kernels | FileCheck %s --check-prefix=LOWERED

// CHECK-NOT: depthwise_weight_layout
// CHECK-LABEL: func.func @small
// CHECK: "ttnn.prepare_depthwise_pool_weights"(%arg1)
// CHECK-SAME: weight_layout = {channel_shards = 1 : i32, channels_per_shard = 32 : i32, cores = 64 : i32, dtype = "bf16", face_rows_per_position = 2 : i32, grid = array<i32: 8, 8>, kernel_size = array<i32: 3, 3>, rows_per_tile = 16 : i32, shard_scheme = "height_sharded", tiles_per_shard = 1 : i32}
// CHECK: "ttnn.depthwise_pool_conv"
// CHECK-SAME: weight_layout = {channel_shards = 1 : i32, channels_per_shard = 32 : i32, cores = 64 : i32, dtype = "bf16", face_rows_per_position = 2 : i32, grid = array<i32: 8, 8>, kernel_size = array<i32: 3, 3>, rows_per_tile = 16 : i32, shard_scheme = "height_sharded", tiles_per_shard = 1 : i32}
// CHECK-NOT: depthwise_weight_layout
// LOWERED-LABEL: func.func @small
// LOWERED: "ttnn.depthwise_pool_program"
// LOWERED-SAME: cores = 64 : i32
module {
  func.func @small(%arg0: tensor<1x16x16x32xbf16>, %arg1: tensor<32x1x3x3xbf16>) -> tensor<1x16x16x32xbf16> {
    %0 = "ttnn.prepare_depthwise_pool_weights"(%arg1) <{in_channels = 32 : i32, kernel_size = array<i32: 3, 3>, weight_layout = #ttnn.depthwise_weight_layout<{channel_shards = 1 : i32, channels_per_shard = 32 : i32, cores = 64 : i32, dtype = "bf16", face_rows_per_position = 2 : i32, grid = array<i32: 8, 8>, kernel_size = array<i32: 3, 3>, rows_per_tile = 16 : i32, shard_scheme = "height_sharded", tiles_per_shard = 1 : i32}>}> : (tensor<32x1x3x3xbf16>) -> tensor<1x1x32x32xbf16>
    %1 = "ttnn.depthwise_pool_conv"(%arg0, %0) <{activation = "none", batch_size = 1 : i32, dilation = array<i32: 1, 1>, dtype = "bf16", in_channels = 32 : i32, input_height = 16 : i32, input_width = 16 : i32, kernel_size = array<i32: 3, 3>, out_channels = 32 : i32, padding = array<i32: 1, 1, 1, 1>, stride = array<i32: 1, 1>, weight_layout = #ttnn.depthwise_weight_layout<{channel_shards = 1 : i32, channels_per_shard = 32 : i32, cores = 64 : i32, dtype = "bf16", face_rows_per_position = 2 : i32, grid = array<i32: 8, 8>, kernel_size = array<i32: 3, 3>, rows_per_tile = 16 : i32, shard_scheme = "height_sharded", tiles_per_shard = 1 : i32}>}> : (tensor<1x16x16x32xbf16>, tensor<1x1x32x32xbf16>) -> tensor<1x16x16x32xbf16>
    return %1 : tensor<1x16x16x32xbf16>
  }
}
