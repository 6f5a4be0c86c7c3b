// RUN: tt-dw-opt %s --tt-depthwise-pool-pipeline | FileCheck %s
// RUN: tt-dw-opt %s --tt-depthwise-to-pool --tt-depthwise-pool-to-kernels | FileCheck %s --check-prefix=STEPS

// MobileNetV2 features.15.conv.1 (7x7x960, 3x3, stride 1, pad 1, BN folded into
// a bias, ReLU6), weights and bias as run-time inputs. test/device/test_lit_layer.py
// compiles this same file and runs the program against torch.

// The program, defined once in the module (before the function) and named by the op that
// runs it: the three kernels by repository path, their CBs, cores and multicast.
// CBs are the kernels' dataflow buffers in creation order, bf16 tiles of 2048 B but the
// selector and acc buffers, made like the float32 selectors (f32 tiles of 4096 B),
// 160 channels per core = 5 channel tiles, in blocks of 1 (the divisor of 5 that fits
// the 4 float32 tiles DST holds): in 1x1 x 2 blocks, selector 1x1 x 2, weight stage 1x1,
// weight 1x1 x 2 (5 channel blocks: the next block's weights arrive during this one),
// bias stage 1x1, bias 1x1 x 2, acc and out 1x1 x 2.
// CHECK: "ttnn.depthwise_pool_kernel_program"() {program = {
// CHECK-SAME: circular_buffers = [{dtype = "bf16", id = 0 : i64, name = "in", num_pages = 2 : i64, page_size = 2048 : i64}, {dtype = "f32", id = 1 : i64, name = "selector", num_pages = 2 : i64, page_size = 4096 : i64}, {dtype = "bf16", id = 2 : i64, name = "weight_stage", num_pages = 1 : i64, page_size = 2048 : i64}, {dtype = "bf16", id = 3 : i64, name = "weight", num_pages = 2 : i64, page_size = 2048 : i64}, {dtype = "bf16", id = 4 : i64, name = "bias_stage", num_pages = 1 : i64, page_size = 2048 : i64}, {dtype = "bf16", id = 5 : i64, name = "bias", num_pages = 2 : i64, page_size = 2048 : i64}, {dtype = "f32", id = 6 : i64, name = "acc", num_pages = 2 : i64, page_size = 4096 : i64}, {dtype = "bf16", id = 7 : i64, name = "out", num_pages = 2 : i64, page_size = 2048 : i64}]
// Cores as [x0, y0, x1, y1], x = column: columns 0..5, rows 0..6.
// CHECK-SAME: core_ranges = [array<i64: 0, 0, 5, 6>]
// CHECK-SAME: kernels = [{compile_args = {
// CHECK-SAME: has_bias = 1 : i64
// CHECK-SAME: window = 9 : i64}, name = "reader", path = "kernels/depthwise_pool_reader.py"}
// CHECK-SAME: activation = 2 : i64
// CHECK-SAME: name = "compute", path = "kernels/depthwise_pool_compute.py"}
// CHECK-SAME: name = "writer", path = "kernels/depthwise_pool_writer.py"}]
// One multicast per channel shard (core column): sender at the top, receivers the
// whole column, rows 0..6 ([row0, col0, row1, col1]).
// CHECK-SAME: weight_multicast = [{receivers = array<i64: 0, 0, 6, 0>, sender = array<i64: 0, 0>, shard = 0 : i64}
// CHECK-SAME: {receivers = array<i64: 0, 5, 6, 5>, sender = array<i64: 0, 5>, shard = 5 : i64}]
// CHECK-SAME: sym_name = "[[PROGRAM:depthwise_pool_program_[0-9]+]]"
// CHECK-LABEL: func.func @mobilenetv2_features_15_dw
// CHECK-SAME: (%[[X:.*]]: tensor<1x7x7x960xbf16>, %[[W:.*]]: tensor<960x1x3x3xbf16>, %[[B:.*]]: tensor<1x1x1x960xbf16>)
// 960 channels = 30 channel tiles, 49 output pixels: block sharded on n150 over
// 6 core columns (5 channel tiles = 160 channels each) and 7 rows (7 pixels each);
// a 3x3 window fits one 16-row tile, so 5 tiles per shard and 160/16 = 10 face
// rows per kernel position.
// CHECK: %[[PW:.*]] = "ttnn.prepare_depthwise_pool_weights"(%[[W]])
// CHECK-SAME: channel_shards = 6 : i32, channels_per_shard = 160 : i32, cores = 42 : i32
// CHECK-SAME: face_rows_per_position = 10 : i32, grid = array<i32: 7, 6>
// CHECK-SAME: rows_per_tile = 16 : i32, shard_scheme = "block_sharded", tiles_per_shard = 5 : i32
// CHECK-SAME: -> tensor<6x5x32x32xbf16>
// CHECK: %[[PB:.*]] = "ttnn.prepare_depthwise_pool_bias"(%[[B]])
// CHECK-SAME: -> tensor<6x5x32x32xbf16>
// CHECK: %[[Y:.*]] = "ttnn.depthwise_pool_program"(%[[X]], %[[PW]], %[[PB]])
// CHECK-SAME: activation = "relu6"
// CHECK-SAME: padding = array<i32: 1, 1, 1, 1>
// CHECK-SAME: program = @[[PROGRAM]]
// CHECK-SAME: -> tensor<1x7x7x960xbf16>
// CHECK-NOT: ttir.conv2d
// CHECK-NOT: ttir.relu6
// CHECK: return %[[Y]]

// STEPS-LABEL: func.func @mobilenetv2_features_15_dw
// STEPS: "ttnn.depthwise_pool_program"
// STEPS-NOT: "ttnn.depthwise_pool_conv"
func.func @mobilenetv2_features_15_dw(%x: tensor<1x7x7x960xbf16>, %w: tensor<960x1x3x3xbf16>, %b: tensor<1x1x1x960xbf16>) -> tensor<1x7x7x960xbf16> {
  %0 = "ttir.conv2d"(%x, %w, %b) <{stride = array<i32: 1, 1>, padding = array<i32: 1, 1, 1, 1>, dilation = array<i32: 1, 1>, groups = 960 : i32}> : (tensor<1x7x7x960xbf16>, tensor<960x1x3x3xbf16>, tensor<1x1x1x960xbf16>) -> tensor<1x7x7x960xbf16> loc("features.15.conv.1.0")
  %1 = "ttir.relu6"(%0) : (tensor<1x7x7x960xbf16>) -> tensor<1x7x7x960xbf16> loc("features.15.conv.1.2")
  return %1 : tensor<1x7x7x960xbf16>
}
