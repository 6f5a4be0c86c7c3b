// Each distinct kernel program is defined once in the module, by a symbol op, and named
// by every op that runs it: a network repeats a few layer shapes many times.
// RUN: not tt-dw-opt %s --split-input-file --tt-depthwise-to-pool="path=pool" --tt-depthwise-pool-to-kernels 2>/dev/null | FileCheck %s
// Lowering again finds nothing to lower, and the output compiles again as it is.
// RUN: not tt-dw-opt %s --split-input-file --tt-depthwise-to-pool="path=pool" --tt-depthwise-pool-to-kernels 2>/dev/null | tt-dw-opt --split-input-file --tt-depthwise-pool-pipeline | FileCheck %s
// RUN: not tt-dw-opt %s --split-input-file --tt-depthwise-pool-to-kernels 2>&1 | FileCheck %s --check-prefix=ERR

// Two convs of one shape share a program; the stride-2 one has its own.
// CHECK: "ttnn.depthwise_pool_kernel_program"() {program = {{{.*}}}, sym_name = "depthwise_pool_program_0"} : () -> ()
// CHECK-NEXT: "ttnn.depthwise_pool_kernel_program"() {program = {{{.*}}}, sym_name = "depthwise_pool_program_1"} : () -> ()
// CHECK-NOT: depthwise_pool_kernel_program
// CHECK-LABEL: func.func @three_convs
// CHECK: "ttnn.depthwise_pool_program"(%arg0,
// CHECK-SAME: program = @depthwise_pool_program_0
// CHECK: "ttnn.depthwise_pool_program"
// CHECK-SAME: program = @depthwise_pool_program_0
// CHECK: "ttnn.depthwise_pool_program"
// CHECK-SAME: program = @depthwise_pool_program_1
// CHECK-SAME: -> tensor<1x8x8x32xbf16>
func.func @three_convs(%x: tensor<1x16x16x32xbf16>, %w0: tensor<32x1x3x3xbf16>, %w1: tensor<32x1x3x3xbf16>, %w2: tensor<32x1x3x3xbf16>) -> tensor<1x8x8x32xbf16> {
  %0 = "ttir.conv2d"(%x, %w0) <{stride = array<i32: 1, 1>, padding = array<i32: 1, 1, 1, 1>, dilation = array<i32: 1, 1>, groups = 32 : i32}> : (tensor<1x16x16x32xbf16>, tensor<32x1x3x3xbf16>) -> tensor<1x16x16x32xbf16>
  %1 = "ttir.conv2d"(%0, %w1) <{stride = array<i32: 1, 1>, padding = array<i32: 1, 1, 1, 1>, dilation = array<i32: 1, 1>, groups = 32 : i32}> : (tensor<1x16x16x32xbf16>, tensor<32x1x3x3xbf16>) -> tensor<1x16x16x32xbf16>
  %2 = "ttir.conv2d"(%1, %w2) <{stride = array<i32: 2, 2>, padding = array<i32: 1, 1, 1, 1>, dilation = array<i32: 1, 1>, groups = 32 : i32}> : (tensor<1x16x16x32xbf16>, tensor<32x1x3x3xbf16>) -> tensor<1x8x8x32xbf16>
  return %2 : tensor<1x8x8x32xbf16>
}

// -----

// A symbol the module already holds keeps its name; the new definition takes the next free one.
// CHECK: "ttnn.depthwise_pool_kernel_program"() {program = {{{.*}}}, sym_name = "depthwise_pool_program_1"}
// CHECK-LABEL: func.func @depthwise_pool_program_0
// CHECK: program = @depthwise_pool_program_1
func.func @depthwise_pool_program_0(%x: tensor<1x16x16x32xbf16>, %w: tensor<32x1x3x3xbf16>) -> tensor<1x16x16x32xbf16> {
  %0 = "ttir.conv2d"(%x, %w) <{stride = array<i32: 1, 1>, padding = array<i32: 1, 1, 1, 1>, dilation = array<i32: 1, 1>, groups = 32 : i32}> : (tensor<1x16x16x32xbf16>, tensor<32x1x3x3xbf16>) -> tensor<1x16x16x32xbf16>
  return %0 : tensor<1x16x16x32xbf16>
}

// -----

// A program op naming no definition, or something that is not one, is an error at the op.
// ERR: shared_programs.mlir:[[@LINE+3]]:10: error: 'ttnn.depthwise_pool_program' op 'program' names @missing, which is not a ttnn.depthwise_pool_kernel_program of the enclosing module
module {
  func.func @missing(%arg0: tensor<1x16x16x32xbf16>, %arg1: tensor<1x1x32x32xbf16>) -> tensor<1x16x16x32xbf16> {
    %0 = "ttnn.depthwise_pool_program"(%arg0, %arg1) {activation = "none", batch_size = 1 : i32, dilation = array<i32: 1, 1>, dtype = "bf16", in_channels = 32 : i32, input_height = 16 : i32, input_width = 16 : i32, kernel_size = array<i32: 3, 3>, out_channels = 32 : i32, padding = array<i32: 1, 1, 1, 1>, program = @missing, stride = array<i32: 1, 1>, weight_layout = {channel_shards = 1 : i32, channels_per_shard = 32 : i32, cores = 64 : i32, dtype = "bf16", face_rows_per_position = 2 : i32, grid = array<i32: 8, 8>, kernel_size = array<i32: 3, 3>, rows_per_tile = 16 : i32, shard_scheme = "height_sharded", tiles_per_shard = 1 : i32}} : (tensor<1x16x16x32xbf16>, tensor<1x1x32x32xbf16>) -> tensor<1x16x16x32xbf16>
    return %0 : tensor<1x16x16x32xbf16>
  }
}

// -----

// ERR: shared_programs.mlir:[[@LINE+3]]:10: error: 'ttnn.depthwise_pool_program' op 'program' must name a ttnn.depthwise_pool_kernel_program (@name), got "inline"
module {
  func.func @not_a_name(%arg0: tensor<1x16x16x32xbf16>, %arg1: tensor<1x1x32x32xbf16>) -> tensor<1x16x16x32xbf16> {
    %0 = "ttnn.depthwise_pool_program"(%arg0, %arg1) {activation = "none", batch_size = 1 : i32, dilation = array<i32: 1, 1>, dtype = "bf16", in_channels = 32 : i32, input_height = 16 : i32, input_width = 16 : i32, kernel_size = array<i32: 3, 3>, out_channels = 32 : i32, padding = array<i32: 1, 1, 1, 1>, program = "inline", stride = array<i32: 1, 1>, weight_layout = {channel_shards = 1 : i32, channels_per_shard = 32 : i32, cores = 64 : i32, dtype = "bf16", face_rows_per_position = 2 : i32, grid = array<i32: 8, 8>, kernel_size = array<i32: 3, 3>, rows_per_tile = 16 : i32, shard_scheme = "height_sharded", tiles_per_shard = 1 : i32}} : (tensor<1x16x16x32xbf16>, tensor<1x1x32x32xbf16>) -> tensor<1x16x16x32xbf16>
    return %0 : tensor<1x16x16x32xbf16>
  }
}
