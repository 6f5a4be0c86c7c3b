// RUN: tt-dw-opt %s --tt-depthwise-to-pool="path=pool shard-scheme=block_sharded" --tt-depthwise-pool-to-kernels --tt-depthwise-pool-to-generic | FileCheck %s --check-prefix=BLOCK
// RUN: tt-dw-opt %s --tt-depthwise-to-pool="path=pool shard-scheme=width_sharded" --tt-depthwise-pool-to-kernels --tt-depthwise-pool-to-generic | FileCheck %s --check-prefix=WIDTH

// The weight multicast in the generic form, without a bias. Syntax as tt-mlir prints it
// (tenstorrent/tt-mlir 19c86fca45 test/ttmlir/Conversion/D2MToTTNN/spatial.mlir:
// `semaphores = [<id = 0, core_type = worker, core_ranges = <[...]>, initial_value = 0>`;
// test/ttmlir/Dialect/TTNN/tt_lang_op_pipe_resources.mlir: the semaphores of a TT-Lang
// program's pipe nets). tt-lang 1.1.1 gives every pipe net two semaphores (sender,
// receiver; ttl/kernel_runner.py) on the whole grid. Without a bias the operation makes
// only the weights' pipe net (its reader thread names no bias net): two semaphores, and
// no bias buffers: six CBs, the acc and out buffers at indices 4 and 5.
// No bias: the operation still takes its five tensors (windows, weights, bias, selectors,
// out); the bias is a `ttnn.zeros` the reader never reads (has_bias = 0).

// 1x7x7x960 (MobileNetV2 features.15), 960 channels = 30 tiles, 49 pixels.
// Block sharded on n150: 6 core columns of 5 channel tiles, 7 rows of 7 pixels (one
// tile of 32): a 7-row x 6-column grid, x 0..5, y 0..6, 42 cores. Every column is one
// channel shard whose top core multicasts its weights down the column. CTb = 1: 5 tiles
// have no divisor from 2 to the 4 float32 tiles DST holds, so 5 channel blocks of one
// tile; RC = 1 (9 positions fit one 16-row chunk).
// BLOCK-LABEL: func.func @dw_no_bias
// BLOCK: %[[DEV:.*]] = "ttnn.get_device"()
// BLOCK-NEXT: %[[PW:.*]] = "ttnn.prepare_depthwise_pool_weights"(%arg1)
// Padded by 1: 9x9; 9 slices of 7x7 output pixels each.
// BLOCK-NEXT: %[[XP:.*]] = "ttnn.pad"(%arg0) {padding = array<i32: 0, 0, 1, 1, 1, 1, 0, 0>, use_multicore = true, value = 0.000000e+00 : f32} : (tensor<1x7x7x960xbf16>) -> tensor<1x9x9x960xbf16>
// BLOCK-COUNT-9: "ttnn.slice_static"(%[[XP]]) {{.*}} -> tensor<1x7x7x960xbf16>
// 7 pixel groups (grid rows) of 7 pixels: the stacked planes 9x7x7x960 already are
// (position, group, pixel, channel); each group padded to a tile (+25 rows).
// BLOCK-NEXT: %[[CAT:.*]] = "ttnn.concat"({{.*}}) {dim = 0 : si32} : ({{.*}}) -> tensor<9x7x7x960xbf16>
// BLOCK-NEXT: %[[TILES:.*]] = "ttnn.pad"(%[[CAT]]) {padding = array<i32: 0, 0, 0, 0, 0, 25, 0, 0>, use_multicore = true, value = 0.000000e+00 : f32} : (tensor<9x7x7x960xbf16>) -> tensor<9x7x32x960xbf16>
// BLOCK-NEXT: %[[TW:.*]] = "ttnn.permute"(%[[TILES]]) {permutation = array<i64: 1, 0, 2, 3>} : (tensor<9x7x32x960xbf16>) -> tensor<7x9x32x960xbf16>
// 7 x 9 x 32 = 2016 rows.
// BLOCK-NEXT: %[[WINDOWS:.*]] = "ttnn.reshape"(%[[TW]]) {shape = [2016 : i32, 960 : i32]}
// 6 shards x 1 row chunk x 5 channel tiles: 6 x 32 = 192 rows of 5 x 32 = 160.
// BLOCK-NEXT: %[[W5:.*]] = "ttnn.reshape"(%[[PW]]) {shape = [6 : i32, 1 : i32, 5 : i32, 32 : i32, 32 : i32]} : (tensor<6x5x32x32xbf16>) -> tensor<6x1x5x32x32xbf16>
// BLOCK-NEXT: %[[WP:.*]] = "ttnn.permute"(%[[W5]]) {permutation = array<i64: 0, 1, 3, 2, 4>} : (tensor<6x1x5x32x32xbf16>) -> tensor<6x1x32x5x32xbf16>
// BLOCK-NEXT: %[[WGRID:.*]] = "ttnn.reshape"(%[[WP]]) {shape = [192 : i32, 160 : i32]} : (tensor<6x1x32x5x32xbf16>) -> tensor<192x160xbf16>
// The bias grid's shape, zeros (TTNN_ZerosOp: optional device, `shape`).
// BLOCK-NEXT: %[[BGRID:.*]] = "ttnn.zeros"(%[[DEV]]) {shape = #ttnn.shape<192x160>} : (!ttnn.device) -> tensor<192x160xbf16>
// BLOCK-NEXT: %[[SEL:.*]] = "ttnn.constant"(%[[DEV]]) {value = dense<"0x{{[0-9A-F]*}}"> : tensor<288x32xf32>}
// Not widened (no pad next): the 1-tile acc block made like it is no wider than RC = 1.
// 7 pixel tiles x 32 = 224 rows.
// BLOCK-NEXT: %[[OUT:.*]] = "ttnn.empty"(%[[DEV]]) {shape = #ttnn.shape<224x960>} : (!ttnn.device) -> tensor<224x960xbf16>
// BLOCK-NEXT: "ttnn.generic"(%[[WINDOWS]], %[[WGRID]], %[[BGRID]], %[[SEL]], %[[OUT]]) {operandSegmentSizes = array<i32: 5, 0>, program = #ttnn.program<kernels = [#ttnn.read_kernel<symbol_ref = @depthwise_pool_reader, core_ranges = <[#ttnn.core_range<(0,0), (5,6)>]>, ct_args = [#ttnn.kernel_arg_cb_buffer_index<0>, #ttnn.kernel_arg_cb_buffer_index<1>, #ttnn.kernel_arg_cb_buffer_index<2>, #ttnn.kernel_arg_cb_buffer_index<3>, #ttnn.kernel_arg_cb_buffer_index<4>, #ttnn.kernel_arg_cb_buffer_index<5>, #ttnn.kernel_arg_tensor_accessor_args<0>, #ttnn.kernel_arg_tensor_accessor_args<1>, #ttnn.kernel_arg_tensor_accessor_args<2>, #ttnn.kernel_arg_tensor_accessor_args<3>, #ttnn.kernel_arg_tensor_accessor_args<4>], common_rt_args = [#ttnn.kernel_arg_address_of_tensor<0>, #ttnn.kernel_arg_address_of_tensor<1>, #ttnn.kernel_arg_address_of_tensor<2>, #ttnn.kernel_arg_address_of_tensor<3>, #ttnn.kernel_named_arg<name = "block_channel_tiles", value = 1>, #ttnn.kernel_named_arg<name = "channel_blocks", value = 5>, #ttnn.kernel_named_arg<name = "channel_tiles", value = 5>, #ttnn.kernel_named_arg<name = "grid_cols", value = 6>, #ttnn.kernel_named_arg<name = "group_per_core", value = 0>, #ttnn.kernel_named_arg<name = "group_per_row", value = 1>, #ttnn.kernel_named_arg<name = "has_bias", value = 0>, #ttnn.kernel_named_arg<name = "num_cores", value = 42>, #ttnn.kernel_named_arg<name = "row_chunks", value = 1>, #ttnn.kernel_named_arg<name = "shard_per_col", value = 1>, #ttnn.kernel_named_arg<name = "shard_per_core", value = 0>, #ttnn.kernel_named_arg<name = "tiles_per_group", value = 1>, #ttnn.kernel_named_arg<name = "window", value = 9>], rt_args = []>
// BLOCK-SAME: #ttnn.write_kernel<symbol_ref = @depthwise_pool_writer, core_ranges = <[#ttnn.core_range<(0,0), (5,6)>]>, ct_args = [#ttnn.kernel_arg_cb_buffer_index<0>, #ttnn.kernel_arg_cb_buffer_index<1>, #ttnn.kernel_arg_cb_buffer_index<2>, #ttnn.kernel_arg_cb_buffer_index<3>, #ttnn.kernel_arg_cb_buffer_index<4>, #ttnn.kernel_arg_cb_buffer_index<5>, #ttnn.kernel_arg_tensor_accessor_args<0>, #ttnn.kernel_arg_tensor_accessor_args<1>, #ttnn.kernel_arg_tensor_accessor_args<2>, #ttnn.kernel_arg_tensor_accessor_args<3>, #ttnn.kernel_arg_tensor_accessor_args<4>], common_rt_args = [#ttnn.kernel_arg_address_of_tensor<4>,
// bf16 tiles of 2048 B: in 1 x 1 x 2 blocks = 2 tiles; selector 1 x 1 x 2 f32 tiles of
// 4096 B; weight stage 1 x 1 x 1, weight 1 x 1 x 2 (5 channel blocks: the next block's
// weights arrive during this one); no bias buffers; acc (index 4) 1 x 1 x 2 f32 tiles
// (8192 B) and out (index 5) 1 x 1 x 2.
// BLOCK-SAME: cbs = [<total_size = 4096, core_ranges = <[#ttnn.core_range<(0,0), (5,6)>]>, formats = [<buffer_index = 0, dtype = bf16, page_size = 2048>]>, <total_size = 8192, core_ranges = <[#ttnn.core_range<(0,0), (5,6)>]>, formats = [<buffer_index = 1, dtype = f32, page_size = 4096>]>, <total_size = 2048, core_ranges = <[#ttnn.core_range<(0,0), (5,6)>]>, formats = [<buffer_index = 2, dtype = bf16, page_size = 2048>]>, <total_size = 4096, core_ranges = <[#ttnn.core_range<(0,0), (5,6)>]>, formats = [<buffer_index = 3, dtype = bf16, page_size = 2048>]>, <total_size = 8192, core_ranges = <[#ttnn.core_range<(0,0), (5,6)>]>, formats = [<buffer_index = 4, dtype = f32, page_size = 4096>]>, <total_size = 4096, core_ranges = <[#ttnn.core_range<(0,0), (5,6)>]>, formats = [<buffer_index = 5, dtype = bf16, page_size = 2048>]>]
// One pipe net, two semaphores.
// BLOCK-SAME: semaphores = [<id = 0, core_type = worker, core_ranges = <[#ttnn.core_range<(0,0), (5,6)>]>, initial_value = 0>, <id = 1, core_type = worker, core_ranges = <[#ttnn.core_range<(0,0), (5,6)>]>, initial_value = 0>]>}
// BLOCK-SAME: : (tensor<2016x960xbf16>, tensor<192x160xbf16>, tensor<192x160xbf16>, tensor<288x32xf32>, tensor<224x960xbf16>) -> ()
// Each group's first 7 rows: 7 x 7 = 49 pixels = all of them.
// BLOCK-NEXT: %[[ROWS:.*]] = "ttnn.reshape"(%[[OUT]]) {shape = [7 : i32, 32 : i32, 960 : i32]}
// BLOCK-NEXT: %[[PIX:.*]] = "ttnn.slice_static"(%[[ROWS]]) {begins = [0 : i32, 0 : i32, 0 : i32], ends = [7 : i32, 7 : i32, 960 : i32], step = [1 : i32, 1 : i32, 1 : i32]}
// BLOCK-NEXT: %[[Y:.*]] = "ttnn.reshape"(%[[PIX]]) {shape = [1 : i32, 7 : i32, 7 : i32, 960 : i32]} : (tensor<7x7x960xbf16>) -> tensor<1x7x7x960xbf16>
// BLOCK-NEXT: return %[[Y]]

// Width sharded: 30 shards of one channel tile on 30 cores (rows 0..2 full, 6 cores on
// row 3: a 4 x 8 grid, x 0..7, y 0..3). Every shard lives on one core, whose pipe loops
// back to itself; the pipe nets and their semaphores are there all the same. Every core
// computes all 49 pixels: 2 tiles of 32.
// WIDTH-LABEL: func.func @dw_no_bias
// One pixel group of 49 pixels, padded to 2 tiles (+15 rows): 2 x 9 x 32 = 576 rows.
// WIDTH: %[[CAT:.*]] = "ttnn.concat"({{.*}}) {dim = 0 : si32} : ({{.*}}) -> tensor<9x7x7x960xbf16>
// WIDTH-NEXT: %[[GROUP:.*]] = "ttnn.reshape"(%[[CAT]]) {shape = [9 : i32, 1 : i32, 49 : i32, 960 : i32]}
// WIDTH-NEXT: %[[PADDED:.*]] = "ttnn.pad"(%[[GROUP]]) {padding = array<i32: 0, 0, 0, 0, 0, 15, 0, 0>, use_multicore = true, value = 0.000000e+00 : f32} : (tensor<9x1x49x960xbf16>) -> tensor<9x1x64x960xbf16>
// WIDTH-NEXT: %[[TILES:.*]] = "ttnn.reshape"(%[[PADDED]]) {shape = [9 : i32, 2 : i32, 32 : i32, 960 : i32]}
// WIDTH-NEXT: %[[TW:.*]] = "ttnn.permute"(%[[TILES]]) {permutation = array<i64: 1, 0, 2, 3>} : (tensor<9x2x32x960xbf16>) -> tensor<2x9x32x960xbf16>
// WIDTH-NEXT: %[[WINDOWS:.*]] = "ttnn.reshape"(%[[TW]]) {shape = [576 : i32, 960 : i32]}
// 30 shards of one tile: 30 x 32 = 960 rows of 32.
// WIDTH: %[[WGRID:.*]] = "ttnn.reshape"(%{{.*}}) {shape = [960 : i32, 32 : i32]} : (tensor<30x1x32x1x32xbf16>) -> tensor<960x32xbf16>
// WIDTH-NEXT: %[[BGRID:.*]] = "ttnn.zeros"(%{{.*}}) {shape = #ttnn.shape<960x32>}
// WIDTH: %[[OUT:.*]] = "ttnn.empty"(%{{.*}}) {shape = #ttnn.shape<64x960>}
// WIDTH-NEXT: "ttnn.generic"(%[[WINDOWS]], %[[WGRID]], %[[BGRID]], %{{.*}}, %[[OUT]]) {operandSegmentSizes = array<i32: 5, 0>, program = #ttnn.program<kernels = [#ttnn.read_kernel<symbol_ref = @depthwise_pool_reader, core_ranges = <[#ttnn.core_range<(0,0), (7,3)>]>, ct_args = [#ttnn.kernel_arg_cb_buffer_index<0>, #ttnn.kernel_arg_cb_buffer_index<1>, #ttnn.kernel_arg_cb_buffer_index<2>, #ttnn.kernel_arg_cb_buffer_index<3>, #ttnn.kernel_arg_cb_buffer_index<4>, #ttnn.kernel_arg_cb_buffer_index<5>, #ttnn.kernel_arg_tensor_accessor_args<0>, #ttnn.kernel_arg_tensor_accessor_args<1>, #ttnn.kernel_arg_tensor_accessor_args<2>, #ttnn.kernel_arg_tensor_accessor_args<3>, #ttnn.kernel_arg_tensor_accessor_args<4>], common_rt_args = [#ttnn.kernel_arg_address_of_tensor<0>, #ttnn.kernel_arg_address_of_tensor<1>, #ttnn.kernel_arg_address_of_tensor<2>, #ttnn.kernel_arg_address_of_tensor<3>, #ttnn.kernel_named_arg<name = "block_channel_tiles", value = 1>, #ttnn.kernel_named_arg<name = "channel_blocks", value = 1>, #ttnn.kernel_named_arg<name = "channel_tiles", value = 1>, #ttnn.kernel_named_arg<name = "grid_cols", value = 8>, #ttnn.kernel_named_arg<name = "group_per_core", value = 0>, #ttnn.kernel_named_arg<name = "group_per_row", value = 0>, #ttnn.kernel_named_arg<name = "has_bias", value = 0>, #ttnn.kernel_named_arg<name = "num_cores", value = 30>, #ttnn.kernel_named_arg<name = "row_chunks", value = 1>, #ttnn.kernel_named_arg<name = "shard_per_col", value = 0>, #ttnn.kernel_named_arg<name = "shard_per_core", value = 1>, #ttnn.kernel_named_arg<name = "tiles_per_group", value = 2>, #ttnn.kernel_named_arg<name = "window", value = 9>], rt_args = []>
// CTb = 1: in 2 tiles, selector 2 (f32: 8192 B), weight stage and weight 1, acc 2 (f32:
// 8192 B) and out 2.
// WIDTH-SAME: cbs = [<total_size = 4096, core_ranges = <[#ttnn.core_range<(0,0), (7,3)>]>, formats = [<buffer_index = 0, dtype = bf16, page_size = 2048>]>, <total_size = 8192, core_ranges = <[#ttnn.core_range<(0,0), (7,3)>]>, formats = [<buffer_index = 1, dtype = f32, page_size = 4096>]>, <total_size = 2048, core_ranges = <[#ttnn.core_range<(0,0), (7,3)>]>, formats = [<buffer_index = 2, dtype = bf16, page_size = 2048>]>, <total_size = 2048, core_ranges = <[#ttnn.core_range<(0,0), (7,3)>]>, formats = [<buffer_index = 3, dtype = bf16, page_size = 2048>]>, <total_size = 8192, core_ranges = <[#ttnn.core_range<(0,0), (7,3)>]>, formats = [<buffer_index = 4, dtype = f32, page_size = 4096>]>, <total_size = 4096, core_ranges = <[#ttnn.core_range<(0,0), (7,3)>]>, formats = [<buffer_index = 5, dtype = bf16, page_size = 2048>]>]
// WIDTH-SAME: semaphores = [<id = 0, core_type = worker, core_ranges = <[#ttnn.core_range<(0,0), (7,3)>]>, initial_value = 0>, <id = 1, core_type = worker, core_ranges = <[#ttnn.core_range<(0,0), (7,3)>]>, initial_value = 0>]>}
// WIDTH-SAME: : (tensor<576x960xbf16>, tensor<960x32xbf16>, tensor<960x32xbf16>, tensor<288x32xf32>, tensor<64x960xbf16>) -> ()
// WIDTH-NEXT: %[[ROWS:.*]] = "ttnn.reshape"(%[[OUT]]) {shape = [1 : i32, 64 : i32, 960 : i32]}
// WIDTH-NEXT: %[[PIX:.*]] = "ttnn.slice_static"(%[[ROWS]]) {begins = [0 : i32, 0 : i32, 0 : i32], ends = [1 : i32, 49 : i32, 960 : i32], step = [1 : i32, 1 : i32, 1 : i32]}
// WIDTH-NEXT: "ttnn.reshape"(%[[PIX]]) {shape = [1 : i32, 7 : i32, 7 : i32, 960 : i32]}
func.func @dw_no_bias(%x: tensor<1x7x7x960xbf16>, %w: tensor<960x1x3x3xbf16>) -> tensor<1x7x7x960xbf16> {
  %0 = "ttir.conv2d"(%x, %w) <{stride = array<i32: 1, 1>, padding = array<i32: 1, 1, 1, 1>, dilation = array<i32: 1, 1>, groups = 960 : i32}> : (tensor<1x7x7x960xbf16>, tensor<960x1x3x3xbf16>) -> tensor<1x7x7x960xbf16>
  return %0 : tensor<1x7x7x960xbf16>
}
