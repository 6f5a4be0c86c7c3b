// Our ops verify their `weight_layout` dictionary (IRDL: that it is one; the
// verifier: each field's presence and kind, the layout against itself, the
// prepared tensor type and the conv attributes).
// RUN: tt-dw-opt %s --split-input-file --verify-diagnostics | FileCheck %s

// A consistent prepare op parses and passes through unchanged.
// CHECK-LABEL: func.func @f
// CHECK: "ttnn.prepare_depthwise_pool_weights"
func.func @f(%w: tensor<32x1x3x3xbf16>) -> tensor<1x1x32x32xbf16> {
  %0 = "ttnn.prepare_depthwise_pool_weights"(%w) <{in_channels = 32 : i32, kernel_size = array<i32: 3, 3>, weight_layout = {channel_shards = 1 : i32, channels_per_shard = 32 : i32, cores = 64 : i32, dtype = "bf16", face_rows_per_position = 2 : i32, grid = array<i32: 8, 8>, kernel_size = array<i32: 3, 3>, rows_per_tile = 16 : i32, shard_scheme = "height_sharded", tiles_per_shard = 1 : i32}}> : (tensor<32x1x3x3xbf16>) -> tensor<1x1x32x32xbf16>
  return %0 : tensor<1x1x32x32xbf16>
}

// -----

func.func @f(%w: tensor<32x1x3x3xbf16>) -> tensor<1x1x32x32xbf16> {
  // expected-error@+1 {{tiles_per_shard = 2 disagrees with the layout (1)}}
  %0 = "ttnn.prepare_depthwise_pool_weights"(%w) <{in_channels = 32 : i32, kernel_size = array<i32: 3, 3>, weight_layout = {channel_shards = 1 : i32, channels_per_shard = 32 : i32, cores = 64 : i32, dtype = "bf16", face_rows_per_position = 2 : i32, grid = array<i32: 8, 8>, kernel_size = array<i32: 3, 3>, rows_per_tile = 16 : i32, shard_scheme = "height_sharded", tiles_per_shard = 2 : i32}}> : (tensor<32x1x3x3xbf16>) -> tensor<1x1x32x32xbf16>
  return %0 : tensor<1x1x32x32xbf16>
}

// -----

func.func @f(%w: tensor<32x1x3x3xbf16>) -> tensor<1x1x32x32xbf16> {
  // expected-error@+1 {{face_rows_per_position = 4 disagrees with the layout (2)}}
  %0 = "ttnn.prepare_depthwise_pool_weights"(%w) <{in_channels = 32 : i32, kernel_size = array<i32: 3, 3>, weight_layout = {channel_shards = 1 : i32, channels_per_shard = 32 : i32, cores = 64 : i32, dtype = "bf16", face_rows_per_position = 4 : i32, grid = array<i32: 8, 8>, kernel_size = array<i32: 3, 3>, rows_per_tile = 16 : i32, shard_scheme = "height_sharded", tiles_per_shard = 1 : i32}}> : (tensor<32x1x3x3xbf16>) -> tensor<1x1x32x32xbf16>
  return %0 : tensor<1x1x32x32xbf16>
}

// -----

func.func @f(%w: tensor<32x1x3x3xbf16>) -> tensor<1x1x32x32xbf16> {
  // expected-error@+1 {{height_sharded uses 1 channel shard, got 2}}
  %0 = "ttnn.prepare_depthwise_pool_weights"(%w) <{in_channels = 32 : i32, kernel_size = array<i32: 3, 3>, weight_layout = {channel_shards = 2 : i32, channels_per_shard = 32 : i32, cores = 64 : i32, dtype = "bf16", face_rows_per_position = 2 : i32, grid = array<i32: 8, 8>, kernel_size = array<i32: 3, 3>, rows_per_tile = 16 : i32, shard_scheme = "height_sharded", tiles_per_shard = 1 : i32}}> : (tensor<32x1x3x3xbf16>) -> tensor<1x1x32x32xbf16>
  return %0 : tensor<1x1x32x32xbf16>
}

// -----

func.func @f(%w: tensor<32x1x3x3xbf16>) -> tensor<1x1x32x32xbf16> {
  // expected-error@+1 {{channels_per_shard must be a positive multiple of 32, got 48}}
  %0 = "ttnn.prepare_depthwise_pool_weights"(%w) <{in_channels = 32 : i32, kernel_size = array<i32: 3, 3>, weight_layout = {channel_shards = 1 : i32, channels_per_shard = 48 : i32, cores = 64 : i32, dtype = "bf16", face_rows_per_position = 2 : i32, grid = array<i32: 8, 8>, kernel_size = array<i32: 3, 3>, rows_per_tile = 16 : i32, shard_scheme = "height_sharded", tiles_per_shard = 1 : i32}}> : (tensor<32x1x3x3xbf16>) -> tensor<1x1x32x32xbf16>
  return %0 : tensor<1x1x32x32xbf16>
}

// -----

func.func @f(%w: tensor<32x1x3x3xbf16>) -> tensor<1x1x32x32xbf16> {
  // expected-error@+1 {{unknown dtype 'fp8'}}
  %0 = "ttnn.prepare_depthwise_pool_weights"(%w) <{in_channels = 32 : i32, kernel_size = array<i32: 3, 3>, weight_layout = {channel_shards = 1 : i32, channels_per_shard = 32 : i32, cores = 64 : i32, dtype = "fp8", face_rows_per_position = 2 : i32, grid = array<i32: 8, 8>, kernel_size = array<i32: 3, 3>, rows_per_tile = 16 : i32, shard_scheme = "height_sharded", tiles_per_shard = 1 : i32}}> : (tensor<32x1x3x3xbf16>) -> tensor<1x1x32x32xbf16>
  return %0 : tensor<1x1x32x32xbf16>
}

// -----

func.func @f(%w: tensor<32x1x3x3xbf16>) -> tensor<1x1x32x32xbf16> {
  // expected-error@+1 {{50 cores do not fill the rows of a 8x8 grid}}
  %0 = "ttnn.prepare_depthwise_pool_weights"(%w) <{in_channels = 32 : i32, kernel_size = array<i32: 3, 3>, weight_layout = {channel_shards = 1 : i32, channels_per_shard = 32 : i32, cores = 50 : i32, dtype = "bf16", face_rows_per_position = 2 : i32, grid = array<i32: 8, 8>, kernel_size = array<i32: 3, 3>, rows_per_tile = 16 : i32, shard_scheme = "height_sharded", tiles_per_shard = 1 : i32}}> : (tensor<32x1x3x3xbf16>) -> tensor<1x1x32x32xbf16>
  return %0 : tensor<1x1x32x32xbf16>
}

// -----

func.func @f(%w: tensor<32x1x3x3xbf16>) -> tensor<1x1x32x32xbf16> {
  // expected-error@+1 {{weight layout is missing tiles_per_shard}}
  %0 = "ttnn.prepare_depthwise_pool_weights"(%w) <{in_channels = 32 : i32, kernel_size = array<i32: 3, 3>, weight_layout = {channel_shards = 1 : i32, channels_per_shard = 32 : i32, cores = 64 : i32, dtype = "bf16", face_rows_per_position = 2 : i32, grid = array<i32: 8, 8>, kernel_size = array<i32: 3, 3>, rows_per_tile = 16 : i32, shard_scheme = "height_sharded"}}> : (tensor<32x1x3x3xbf16>) -> tensor<1x1x32x32xbf16>
  return %0 : tensor<1x1x32x32xbf16>
}

// -----

func.func @f(%w: tensor<32x1x3x3xbf16>) -> tensor<1x2x32x32xbf16> {
  // expected-error@+1 {{prepared weight type tensor<1x2x32x32xbf16> does not match the weight layout, expected shape [1, 1, 32, 32]}}
  %0 = "ttnn.prepare_depthwise_pool_weights"(%w) <{in_channels = 32 : i32, kernel_size = array<i32: 3, 3>, weight_layout = {channel_shards = 1 : i32, channels_per_shard = 32 : i32, cores = 64 : i32, dtype = "bf16", face_rows_per_position = 2 : i32, grid = array<i32: 8, 8>, kernel_size = array<i32: 3, 3>, rows_per_tile = 16 : i32, shard_scheme = "height_sharded", tiles_per_shard = 1 : i32}}> : (tensor<32x1x3x3xbf16>) -> tensor<1x2x32x32xbf16>
  return %0 : tensor<1x2x32x32xbf16>
}

// -----

func.func @f(%w: tensor<32x1x5x5xbf16>) -> tensor<1x1x32x32xbf16> {
  // expected-error@+1 {{weight shape [32, 1, 5, 5] does not match [32, 1, 3, 3]}}
  %0 = "ttnn.prepare_depthwise_pool_weights"(%w) <{in_channels = 32 : i32, kernel_size = array<i32: 3, 3>, weight_layout = {channel_shards = 1 : i32, channels_per_shard = 32 : i32, cores = 64 : i32, dtype = "bf16", face_rows_per_position = 2 : i32, grid = array<i32: 8, 8>, kernel_size = array<i32: 3, 3>, rows_per_tile = 16 : i32, shard_scheme = "height_sharded", tiles_per_shard = 1 : i32}}> : (tensor<32x1x5x5xbf16>) -> tensor<1x1x32x32xbf16>
  return %0 : tensor<1x1x32x32xbf16>
}

// -----

func.func @g(%x: tensor<1x8x8x32xbf16>, %pw: tensor<1x1x32x32xbf16>) -> tensor<1x8x8x32xbf16> {
  // expected-error@+1 {{result shape [1, 8, 8, 32] does not match the conv shape [1, 6, 6, 32]}}
  %0 = "ttnn.depthwise_pool_conv"(%x, %pw) <{activation = "none", batch_size = 1 : i32, dilation = array<i32: 1, 1>, dtype = "bf16", in_channels = 32 : i32, input_height = 8 : i32, input_width = 8 : i32, kernel_size = array<i32: 3, 3>, out_channels = 32 : i32, padding = array<i32: 0, 0, 0, 0>, stride = array<i32: 1, 1>, weight_layout = {channel_shards = 1 : i32, channels_per_shard = 32 : i32, cores = 64 : i32, dtype = "bf16", face_rows_per_position = 2 : i32, grid = array<i32: 8, 8>, kernel_size = array<i32: 3, 3>, rows_per_tile = 16 : i32, shard_scheme = "height_sharded", tiles_per_shard = 1 : i32}}> : (tensor<1x8x8x32xbf16>, tensor<1x1x32x32xbf16>) -> tensor<1x8x8x32xbf16>
  return %0 : tensor<1x8x8x32xbf16>
}

// -----

func.func @g(%x: tensor<1x8x8x32xbf16>, %pw: tensor<1x1x32x32xbf16>) -> tensor<1x8x8x32xbf16> {
  // expected-error@+1 {{weight layout kernel [3, 3] differs from kernel_size [5, 5]}}
  %0 = "ttnn.depthwise_pool_conv"(%x, %pw) <{activation = "none", batch_size = 1 : i32, dilation = array<i32: 1, 1>, dtype = "bf16", in_channels = 32 : i32, input_height = 8 : i32, input_width = 8 : i32, kernel_size = array<i32: 5, 5>, out_channels = 32 : i32, padding = array<i32: 0, 0, 0, 0>, stride = array<i32: 1, 1>, weight_layout = {channel_shards = 1 : i32, channels_per_shard = 32 : i32, cores = 64 : i32, dtype = "bf16", face_rows_per_position = 2 : i32, grid = array<i32: 8, 8>, kernel_size = array<i32: 3, 3>, rows_per_tile = 16 : i32, shard_scheme = "height_sharded", tiles_per_shard = 1 : i32}}> : (tensor<1x8x8x32xbf16>, tensor<1x1x32x32xbf16>) -> tensor<1x8x8x32xbf16>
  return %0 : tensor<1x8x8x32xbf16>
}

// -----

func.func @g(%x: tensor<1x8x8x32xbf16>, %pw: tensor<1x2x32x32xbf16>) -> tensor<1x8x8x32xbf16> {
  // expected-error@+1 {{prepared weight shape [1, 2, 32, 32] does not match the weight layout [1, 1, 32, 32]}}
  %0 = "ttnn.depthwise_pool_conv"(%x, %pw) <{activation = "none", batch_size = 1 : i32, dilation = array<i32: 1, 1>, dtype = "bf16", in_channels = 32 : i32, input_height = 8 : i32, input_width = 8 : i32, kernel_size = array<i32: 3, 3>, out_channels = 32 : i32, padding = array<i32: 1, 1, 1, 1>, stride = array<i32: 1, 1>, weight_layout = {channel_shards = 1 : i32, channels_per_shard = 32 : i32, cores = 64 : i32, dtype = "bf16", face_rows_per_position = 2 : i32, grid = array<i32: 8, 8>, kernel_size = array<i32: 3, 3>, rows_per_tile = 16 : i32, shard_scheme = "height_sharded", tiles_per_shard = 1 : i32}}> : (tensor<1x8x8x32xbf16>, tensor<1x2x32x32xbf16>) -> tensor<1x8x8x32xbf16>
  return %0 : tensor<1x8x8x32xbf16>
}

// -----

func.func @f(%w: tensor<32x1x3x3xbf16>) -> tensor<1x1x32x32xbf16> {
  // expected-error@+1 {{expected base attribute 'builtin.dictionary' but got 'builtin.string'}}
  %0 = "ttnn.prepare_depthwise_pool_weights"(%w) <{in_channels = 32 : i32, kernel_size = array<i32: 3, 3>, weight_layout = "height_sharded"}> : (tensor<32x1x3x3xbf16>) -> tensor<1x1x32x32xbf16>
  return %0 : tensor<1x1x32x32xbf16>
}

// -----

func.func @f(%w: tensor<32x1x3x3xbf16>) -> tensor<1x1x32x32xbf16> {
  // expected-error@+1 {{weight layout field 'cores' must be an i32 integer, got 64 : i64}}
  %0 = "ttnn.prepare_depthwise_pool_weights"(%w) <{in_channels = 32 : i32, kernel_size = array<i32: 3, 3>, weight_layout = {channel_shards = 1 : i32, channels_per_shard = 32 : i32, cores = 64 : i64, dtype = "bf16", face_rows_per_position = 2 : i32, grid = array<i32: 8, 8>, kernel_size = array<i32: 3, 3>, rows_per_tile = 16 : i32, shard_scheme = "height_sharded", tiles_per_shard = 1 : i32}}> : (tensor<32x1x3x3xbf16>) -> tensor<1x1x32x32xbf16>
  return %0 : tensor<1x1x32x32xbf16>
}

// -----

func.func @f(%w: tensor<32x1x3x3xbf16>) -> tensor<1x1x32x32xbf16> {
  // expected-error@+1 {{weight layout field 'shard_scheme' must be a string, got 0 : i32}}
  %0 = "ttnn.prepare_depthwise_pool_weights"(%w) <{in_channels = 32 : i32, kernel_size = array<i32: 3, 3>, weight_layout = {channel_shards = 1 : i32, channels_per_shard = 32 : i32, cores = 64 : i32, dtype = "bf16", face_rows_per_position = 2 : i32, grid = array<i32: 8, 8>, kernel_size = array<i32: 3, 3>, rows_per_tile = 16 : i32, shard_scheme = 0 : i32, tiles_per_shard = 1 : i32}}> : (tensor<32x1x3x3xbf16>) -> tensor<1x1x32x32xbf16>
  return %0 : tensor<1x1x32x32xbf16>
}

// -----

func.func @f(%w: tensor<32x1x3x3xbf16>) -> tensor<1x1x32x32xbf16> {
  // expected-error@+1 {{weight layout field 'grid' must be array<i32: a, b>, got array<i32: 8, 8, 1>}}
  %0 = "ttnn.prepare_depthwise_pool_weights"(%w) <{in_channels = 32 : i32, kernel_size = array<i32: 3, 3>, weight_layout = {channel_shards = 1 : i32, channels_per_shard = 32 : i32, cores = 64 : i32, dtype = "bf16", face_rows_per_position = 2 : i32, grid = array<i32: 8, 8, 1>, kernel_size = array<i32: 3, 3>, rows_per_tile = 16 : i32, shard_scheme = "height_sharded", tiles_per_shard = 1 : i32}}> : (tensor<32x1x3x3xbf16>) -> tensor<1x1x32x32xbf16>
  return %0 : tensor<1x1x32x32xbf16>
}

// -----

func.func @f(%w: tensor<32x1x3x3xbf16>) -> tensor<1x1x32x32xbf16> {
  // expected-error@+1 {{weight layout field 'kernel_size' must be array<i32: a, b>, got array<i64: 3, 3>}}
  %0 = "ttnn.prepare_depthwise_pool_weights"(%w) <{in_channels = 32 : i32, kernel_size = array<i32: 3, 3>, weight_layout = {channel_shards = 1 : i32, channels_per_shard = 32 : i32, cores = 64 : i32, dtype = "bf16", face_rows_per_position = 2 : i32, grid = array<i32: 8, 8>, kernel_size = array<i64: 3, 3>, rows_per_tile = 16 : i32, shard_scheme = "height_sharded", tiles_per_shard = 1 : i32}}> : (tensor<32x1x3x3xbf16>) -> tensor<1x1x32x32xbf16>
  return %0 : tensor<1x1x32x32xbf16>
}

// -----

func.func @f(%w: tensor<32x1x3x3xbf16>) -> tensor<1x1x32x32xbf16> {
  // expected-error@+1 {{weight layout has unknown field(s) row_per_tile}}
  %0 = "ttnn.prepare_depthwise_pool_weights"(%w) <{in_channels = 32 : i32, kernel_size = array<i32: 3, 3>, weight_layout = {channel_shards = 1 : i32, channels_per_shard = 32 : i32, cores = 64 : i32, dtype = "bf16", face_rows_per_position = 2 : i32, grid = array<i32: 8, 8>, kernel_size = array<i32: 3, 3>, rows_per_tile = 16 : i32, row_per_tile = 16 : i32, shard_scheme = "height_sharded", tiles_per_shard = 1 : i32}}> : (tensor<32x1x3x3xbf16>) -> tensor<1x1x32x32xbf16>
  return %0 : tensor<1x1x32x32xbf16>
}

// -----

func.func @f(%w: tensor<32x1x3x3xbf16>) -> tensor<1x1x32x32xbf16> {
  // expected-error@+1 {{weight layout is missing cores, dtype}}
  %0 = "ttnn.prepare_depthwise_pool_weights"(%w) <{in_channels = 32 : i32, kernel_size = array<i32: 3, 3>, weight_layout = {channel_shards = 1 : i32, channels_per_shard = 32 : i32, face_rows_per_position = 2 : i32, grid = array<i32: 8, 8>, kernel_size = array<i32: 3, 3>, rows_per_tile = 16 : i32, shard_scheme = "height_sharded", tiles_per_shard = 1 : i32}}> : (tensor<32x1x3x3xbf16>) -> tensor<1x1x32x32xbf16>
  return %0 : tensor<1x1x32x32xbf16>
}

// -----

func.func @f(%w: tensor<64x1x3x3xbf16>) -> tensor<1x1x32x32xbf16> {
  // expected-error@+1 {{64 channels do not fit 1 shard(s) x 32 channels}}
  %0 = "ttnn.prepare_depthwise_pool_weights"(%w) <{in_channels = 64 : i32, kernel_size = array<i32: 3, 3>, weight_layout = {channel_shards = 1 : i32, channels_per_shard = 32 : i32, cores = 64 : i32, dtype = "bf16", face_rows_per_position = 2 : i32, grid = array<i32: 8, 8>, kernel_size = array<i32: 3, 3>, rows_per_tile = 16 : i32, shard_scheme = "height_sharded", tiles_per_shard = 1 : i32}}> : (tensor<64x1x3x3xbf16>) -> tensor<1x1x32x32xbf16>
  return %0 : tensor<1x1x32x32xbf16>
}

// -----

func.func @g(%x: tensor<1x8x8x64xbf16>, %pw: tensor<1x1x32x32xbf16>) -> tensor<1x6x6x64xbf16> {
  // expected-error@+1 {{64 channels do not fit 1 shard(s) x 32 channels}}
  %0 = "ttnn.depthwise_pool_conv"(%x, %pw) <{activation = "none", batch_size = 1 : i32, dilation = array<i32: 1, 1>, dtype = "bf16", in_channels = 64 : i32, input_height = 8 : i32, input_width = 8 : i32, kernel_size = array<i32: 3, 3>, out_channels = 64 : i32, padding = array<i32: 0, 0, 0, 0>, stride = array<i32: 1, 1>, weight_layout = {channel_shards = 1 : i32, channels_per_shard = 32 : i32, cores = 64 : i32, dtype = "bf16", face_rows_per_position = 2 : i32, grid = array<i32: 8, 8>, kernel_size = array<i32: 3, 3>, rows_per_tile = 16 : i32, shard_scheme = "height_sharded", tiles_per_shard = 1 : i32}}> : (tensor<1x8x8x64xbf16>, tensor<1x1x32x32xbf16>) -> tensor<1x6x6x64xbf16>
  return %0 : tensor<1x6x6x64xbf16>
}

// -----

// The form written before the layout was a dictionary (driver/old_weight_layout.mlir) is checked alike.
func.func @f(%w: tensor<32x1x3x3xbf16>) -> tensor<1x1x32x32xbf16> {
  // expected-error@+1 {{weight layout field 'cores' must be an i32 integer, got "64"}}
  %0 = "ttnn.prepare_depthwise_pool_weights"(%w) <{in_channels = 32 : i32, kernel_size = array<i32: 3, 3>, weight_layout = #ttnn.depthwise_weight_layout<{channel_shards = 1 : i32, channels_per_shard = 32 : i32, cores = "64", dtype = "bf16", face_rows_per_position = 2 : i32, grid = array<i32: 8, 8>, kernel_size = array<i32: 3, 3>, rows_per_tile = 16 : i32, shard_scheme = "height_sharded", tiles_per_shard = 1 : i32}>}> : (tensor<32x1x3x3xbf16>) -> tensor<1x1x32x32xbf16>
  return %0 : tensor<1x1x32x32xbf16>
}
