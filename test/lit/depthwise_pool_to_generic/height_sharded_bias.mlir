// RUN: tt-dw-opt %s --tt-depthwise-to-pool="path=pool" --tt-depthwise-pool-to-kernels --tt-depthwise-pool-to-generic | FileCheck %s
// RUN: tt-dw-opt %s --tt-depthwise-to-pool="path=pool" --tt-depthwise-pool-to-kernels --tt-depthwise-pool-to-generic 2>&1 >/dev/null | FileCheck %s --check-prefix=REMARK
// --tt-dw-remarks reaches every pass of ours, this one included: `none` silences it.
// RUN: tt-dw-opt %s --tt-dw-remarks none --tt-depthwise-to-pool="path=pool" --tt-depthwise-pool-to-kernels --tt-depthwise-pool-to-generic 2>&1 >/dev/null | FileCheck %s --check-prefix=QUIET --allow-empty
// RUN: tt-dw-opt %s --tt-depthwise-to-pool="path=pool weight-dtype=bfp8_b" --tt-depthwise-pool-to-kernels --tt-depthwise-pool-to-generic | FileCheck %s --check-prefix=BFP8
// The output parses again and a second run changes nothing (no program op is left).
// RUN: tt-dw-opt %s --tt-depthwise-to-pool="path=pool" --tt-depthwise-pool-to-kernels --tt-depthwise-pool-to-generic -o %t.mlir
// RUN: tt-dw-opt %t.mlir --tt-depthwise-pool-to-generic 2>&1 | FileCheck %s --check-prefix=AGAIN

// The syntax checked here is tt-mlir's (tenstorrent/tt-mlir 19c86fca45):
//  * test/ttmlir/Silicon/TTNN/n150/generic_op/generic_op.mlir: kernels by `symbol_ref`
//    to private kernel functions, `#ttnn.kernel_cb` descriptors, CB ct_args
//    (`kernel_arg_cb_buffer_index`), tensor addresses (`kernel_arg_address_of_tensor`),
//    `kernel_named_arg`, `operandSegmentSizes = [io, 0]`, the output a `ttnn.empty`
//    on `ttnn.get_device`;
//  * test/ttmlir/Conversion/D2MToTTNN/mul_add_l1_block.mlir: the printed form, e.g.
//    `core_ranges = <[#ttnn.core_range<(0,0), (7,7)>]>` and
//    `<total_size = 8192, core_ranges = <[...]>, formats = [<buffer_index = 0, dtype = bf16, page_size = 2048>]>`;
//  * test/ttmlir/Conversion/D2MToTTNN/spatial.mlir: `semaphores = [<id = 0, core_type =
//    worker, core_ranges = <[...]>, initial_value = 0>`;
//    test/python/golden/d2m/test_scalar_rt_arg.py: `rt_args = []`;
//  * test/ttmlir/Dialect/TTNN/tt_lang_op_flatbuffer.mlir and
//    lib/Dialect/TTNN/Transforms/TTNNLowerTTLangToGeneric.cpp
//    (`--ttnn-lower-tt-lang-to-generic`), tt-mlir's own form of a TT-Lang program:
//    one core range for everything, every CB index as a ct_arg of every kernel, a
//    tensor accessor marker per io tensor for data-movement kernels, the addresses of
//    the kernel's tensors as common_rt_args, no per-core rt_args, and the result of
//    the lowered op replaced by its output operand.
// What each list holds comes from the kernels in tt_dw_mlir/kernels/ as tt-lang 1.1.1
// launches them (ttl/kernel_runner.py: buffer index = creation order, page = one tile,
// total = tiles x block_count x page; two semaphores per pipe net).

// 1x14x14x64, 3x3, stride 1, pad 1: 196 output pixels. Height sharded on n150 (8x8):
// ceil(196/64) = 4 pixels per core, so 196/4 = 49 cores, row-major on 8 columns: a
// 7-row x 8-column operation grid, x 0..7, y 0..6 (the 7 cores past the 49th skip the
// work). 64 channels = 2 channel tiles, one shard, one channel block; 9 positions fit
// one 16-row chunk of the weight tiles (RC = 1); 4 pixels per core = 1 tile of 32.
// CHECK-LABEL: func.func @dw_height_bias
// CHECK-SAME: (%[[X:.*]]: tensor<1x14x14x64xbf16>, %[[W:.*]]: tensor<64x1x3x3xbf16>, %[[B:.*]]: tensor<1x1x1x64xbf16>)
// CHECK: %[[DEV:.*]] = "ttnn.get_device"() {mesh_offset = #ttnn<mesh_offset 0x0>, mesh_shape = #ttnn<mesh_shape 1x1>} : () -> !ttnn.device
// CHECK: %[[PW:.*]] = "ttnn.prepare_depthwise_pool_weights"(%[[W]])
// CHECK: %[[PB:.*]] = "ttnn.prepare_depthwise_pool_bias"(%[[B]])
// The operation's io tensors, computed from the conv's operands by tt-mlir TTNN ops
// (TTNNOps.td at 19c86fca45; printed as its lit tests print them: ttnn.pad in
// test/ttmlir/Dialect/TTNN/pad, ttnn.slice_static / ttnn.concat in
// Transforms/Decomposition/rotary_embedding_decomposition.mlir, ttnn.reshape in
// data_movement/reshape, ttnn.constant with a device operand in Dialect/TTNN/constant).
// windows: the input padded by 1 on each spatial side (14 + 2 = 16), channels already
// 64 = 2 tiles; `use_multicore = true` as TTIRToTTNN.cpp's pad conversion sets it.
// CHECK-NEXT: %[[XP:.*]] = "ttnn.pad"(%[[X]]) {padding = array<i32: 0, 0, 1, 1, 1, 1, 0, 0>, use_multicore = true, value = 0.000000e+00 : f32} : (tensor<1x14x14x64xbf16>) -> tensor<1x16x16x64xbf16>
// One slice per kernel position (kh, kw) = rows kh..kh+13 and columns kw..kw+13 of the
// padded input, step 1: the input stick under that position of every output pixel.
// CHECK-NEXT: %[[K0:.*]] = "ttnn.slice_static"(%[[XP]]) {begins = [0 : i32, 0 : i32, 0 : i32, 0 : i32], ends = [1 : i32, 14 : i32, 14 : i32, 64 : i32], step = [1 : i32, 1 : i32, 1 : i32, 1 : i32]} : (tensor<1x16x16x64xbf16>) -> tensor<1x14x14x64xbf16>
// CHECK-NEXT: %[[K1:.*]] = "ttnn.slice_static"(%[[XP]]) {begins = [0 : i32, 0 : i32, 1 : i32, 0 : i32], ends = [1 : i32, 14 : i32, 15 : i32, 64 : i32],
// CHECK-NEXT: %[[K2:.*]] = "ttnn.slice_static"(%[[XP]]) {begins = [0 : i32, 0 : i32, 2 : i32, 0 : i32], ends = [1 : i32, 14 : i32, 16 : i32, 64 : i32],
// CHECK-NEXT: %[[K3:.*]] = "ttnn.slice_static"(%[[XP]]) {begins = [0 : i32, 1 : i32, 0 : i32, 0 : i32], ends = [1 : i32, 15 : i32, 14 : i32, 64 : i32],
// CHECK-NEXT: %[[K4:.*]] = "ttnn.slice_static"(%[[XP]]) {begins = [0 : i32, 1 : i32, 1 : i32, 0 : i32], ends = [1 : i32, 15 : i32, 15 : i32, 64 : i32],
// CHECK-NEXT: %[[K5:.*]] = "ttnn.slice_static"(%[[XP]]) {begins = [0 : i32, 1 : i32, 2 : i32, 0 : i32], ends = [1 : i32, 15 : i32, 16 : i32, 64 : i32],
// CHECK-NEXT: %[[K6:.*]] = "ttnn.slice_static"(%[[XP]]) {begins = [0 : i32, 2 : i32, 0 : i32, 0 : i32], ends = [1 : i32, 16 : i32, 14 : i32, 64 : i32],
// CHECK-NEXT: %[[K7:.*]] = "ttnn.slice_static"(%[[XP]]) {begins = [0 : i32, 2 : i32, 1 : i32, 0 : i32], ends = [1 : i32, 16 : i32, 15 : i32, 64 : i32],
// CHECK-NEXT: %[[K8:.*]] = "ttnn.slice_static"(%[[XP]]) {begins = [0 : i32, 2 : i32, 2 : i32, 0 : i32], ends = [1 : i32, 16 : i32, 16 : i32, 64 : i32], step = [1 : i32, 1 : i32, 1 : i32, 1 : i32]} : (tensor<1x16x16x64xbf16>) -> tensor<1x14x14x64xbf16>
// The 9 planes stacked (9x14x14x64); 49 groups x 4 pixels = 196 = all pixels, so no
// pixel padding; each group's 4 pixels padded to a tile of 32 rows (+28 zero rows);
// pixel tile major, position minor: 49 x 9 x 32 = 14112 rows of 64 channels.
// CHECK-NEXT: %[[CAT:.*]] = "ttnn.concat"(%[[K0]], %[[K1]], %[[K2]], %[[K3]], %[[K4]], %[[K5]], %[[K6]], %[[K7]], %[[K8]]) {dim = 0 : si32} : ({{.*}}) -> tensor<9x14x14x64xbf16>
// CHECK-NEXT: %[[GROUPS:.*]] = "ttnn.reshape"(%[[CAT]]) {shape = [9 : i32, 49 : i32, 4 : i32, 64 : i32]} : (tensor<9x14x14x64xbf16>) -> tensor<9x49x4x64xbf16>
// CHECK-NEXT: %[[TILES:.*]] = "ttnn.pad"(%[[GROUPS]]) {padding = array<i32: 0, 0, 0, 0, 0, 28, 0, 0>, use_multicore = true, value = 0.000000e+00 : f32} : (tensor<9x49x4x64xbf16>) -> tensor<9x49x32x64xbf16>
// CHECK-NEXT: %[[TW:.*]] = "ttnn.permute"(%[[TILES]]) {permutation = array<i64: 1, 0, 2, 3>} : (tensor<9x49x32x64xbf16>) -> tensor<49x9x32x64xbf16>
// CHECK-NEXT: %[[WINDOWS:.*]] = "ttnn.reshape"(%[[TW]]) {shape = [14112 : i32, 64 : i32]} : (tensor<49x9x32x64xbf16>) -> tensor<14112x64xbf16>
// weights: 1 shard x (1 row chunk x 2 channel tiles) tiles side by side: 32 x 64.
// CHECK-NEXT: %[[W5:.*]] = "ttnn.reshape"(%[[PW]]) {shape = [1 : i32, 1 : i32, 2 : i32, 32 : i32, 32 : i32]} : (tensor<1x2x32x32xbf16>) -> tensor<1x1x2x32x32xbf16>
// CHECK-NEXT: %[[WP:.*]] = "ttnn.permute"(%[[W5]]) {permutation = array<i64: 0, 1, 3, 2, 4>} : (tensor<1x1x2x32x32xbf16>) -> tensor<1x1x32x2x32xbf16>
// CHECK-NEXT: %[[WGRID:.*]] = "ttnn.reshape"(%[[WP]]) {shape = [32 : i32, 64 : i32]} : (tensor<1x1x32x2x32xbf16>) -> tensor<32x64xbf16>
// bias: 1 shard x 2 channel tiles side by side: 32 x 64.
// CHECK-NEXT: %[[BP:.*]] = "ttnn.permute"(%[[PB]]) {permutation = array<i64: 0, 2, 1, 3>} : (tensor<1x2x32x32xbf16>) -> tensor<1x32x2x32xbf16>
// CHECK-NEXT: %[[BGRID:.*]] = "ttnn.reshape"(%[[BP]]) {shape = [32 : i32, 64 : i32]} : (tensor<1x32x2x32xbf16>) -> tensor<32x64xbf16>
// selectors: 9 tiles of 32 rows, one row chunk (1 tile) wide, float32 (0 and 1 are
// exact; the acc buffer takes their format); every row of tile k has 1.0 (f32
// 0x3F800000, bytes 00 00 80 3F) in column k: tile 0 = 32 rows of [1, 0 x 31], tile 1 =
// 32 rows of [0, 1, 0 x 30], ...
// CHECK-NEXT: %[[SEL:.*]] = "ttnn.constant"(%[[DEV]]) {value = dense<"0x{{((0000803F(00000000){31}){32}(000000000000803F(00000000){30}){32}(00000000000000000000803F(00000000){29}){32})}}{{[0-9A-F]*}}"> : tensor<288x32xf32>} : (!ttnn.device) -> tensor<288x32xf32>
// ... widened with zero columns to 2 tiles, the acc block (1 x CTb = 2 tiles) made like it.
// CHECK-NEXT: %[[SELW:.*]] = "ttnn.pad"(%[[SEL]]) {padding = array<i32: 0, 0, 0, 32>, use_multicore = true, value = 0.000000e+00 : f32} : (tensor<288x32xf32>) -> tensor<288x64xf32>
// out: 49 pixel tiles x 32 rows = 1568 rows of 64 channels, written by the generic.
// CHECK-NEXT: %[[OUT:.*]] = "ttnn.empty"(%[[DEV]]) {shape = #ttnn.shape<1568x64>} : (!ttnn.device) -> tensor<1568x64xbf16>
// io tensors in the operation's parameter order: windows, weights, bias, selectors, out;
// no additional (scalar) args.
// CHECK-NEXT: "ttnn.generic"(%[[WINDOWS]], %[[WGRID]], %[[BGRID]], %[[SELW]], %[[OUT]]) {operandSegmentSizes = array<i32: 5, 0>, program = #ttnn.program<kernels = [
// The reader: the 8 CB indices, an accessor per io tensor (5); the addresses of the
// tensors make_reader takes (windows, weights, bias, selectors), then its ints, by name.
// CHECK-SAME: #ttnn.read_kernel<symbol_ref = @depthwise_pool_reader, core_ranges = <[#ttnn.core_range<(0,0), (7,6)>]>, ct_args = [#ttnn.kernel_arg_cb_buffer_index<0>, #ttnn.kernel_arg_cb_buffer_index<1>, #ttnn.kernel_arg_cb_buffer_index<2>, #ttnn.kernel_arg_cb_buffer_index<3>, #ttnn.kernel_arg_cb_buffer_index<4>, #ttnn.kernel_arg_cb_buffer_index<5>, #ttnn.kernel_arg_cb_buffer_index<6>, #ttnn.kernel_arg_cb_buffer_index<7>, #ttnn.kernel_arg_tensor_accessor_args<0>, #ttnn.kernel_arg_tensor_accessor_args<1>, #ttnn.kernel_arg_tensor_accessor_args<2>, #ttnn.kernel_arg_tensor_accessor_args<3>, #ttnn.kernel_arg_tensor_accessor_args<4>], common_rt_args = [#ttnn.kernel_arg_address_of_tensor<0>, #ttnn.kernel_arg_address_of_tensor<1>, #ttnn.kernel_arg_address_of_tensor<2>, #ttnn.kernel_arg_address_of_tensor<3>, #ttnn.kernel_named_arg<name = "block_channel_tiles", value = 2>, #ttnn.kernel_named_arg<name = "channel_blocks", value = 1>, #ttnn.kernel_named_arg<name = "channel_tiles", value = 2>, #ttnn.kernel_named_arg<name = "grid_cols", value = 8>, #ttnn.kernel_named_arg<name = "group_per_core", value = 1>, #ttnn.kernel_named_arg<name = "group_per_row", value = 0>, #ttnn.kernel_named_arg<name = "has_bias", value = 1>, #ttnn.kernel_named_arg<name = "num_cores", value = 49>, #ttnn.kernel_named_arg<name = "row_chunks", value = 1>, #ttnn.kernel_named_arg<name = "shard_per_col", value = 0>, #ttnn.kernel_named_arg<name = "shard_per_core", value = 0>, #ttnn.kernel_named_arg<name = "tiles_per_group", value = 1>, #ttnn.kernel_named_arg<name = "window", value = 9>], rt_args = []>
// Compute: fp32_dest_acc_en as the operation sets it (kernels/depthwise_pool_op.py; tt-lang
// 1.1.1 passes it to the kernel's ComputeConfigDescriptor), the 8 CB indices only (it
// reaches no tensor), make_compute's ints.
// CHECK-SAME: #ttnn.compute_kernel<symbol_ref = @depthwise_pool_compute, core_ranges = <[#ttnn.core_range<(0,0), (7,6)>]>, math_fidelity = hifi4, fp32_dest_acc_en = true, dst_full_sync_en = false, unpack_to_dest_modes = [default], bfp8_pack_precise = false, math_approx_mode = false, ct_args = [#ttnn.kernel_arg_cb_buffer_index<0>, #ttnn.kernel_arg_cb_buffer_index<1>, #ttnn.kernel_arg_cb_buffer_index<2>, #ttnn.kernel_arg_cb_buffer_index<3>, #ttnn.kernel_arg_cb_buffer_index<4>, #ttnn.kernel_arg_cb_buffer_index<5>, #ttnn.kernel_arg_cb_buffer_index<6>, #ttnn.kernel_arg_cb_buffer_index<7>], common_rt_args = [#ttnn.kernel_named_arg<name = "activation", value = 0>, #ttnn.kernel_named_arg<name = "channel_blocks", value = 1>, #ttnn.kernel_named_arg<name = "grid_cols", value = 8>, #ttnn.kernel_named_arg<name = "has_bias", value = 1>, #ttnn.kernel_named_arg<name = "num_cores", value = 49>, #ttnn.kernel_named_arg<name = "tiles_per_group", value = 1>, #ttnn.kernel_named_arg<name = "window", value = 9>], rt_args = []>
// Writer: the 8 CB indices, 5 accessors, the address of `out` (io index 4).
// CHECK-SAME: #ttnn.write_kernel<symbol_ref = @depthwise_pool_writer, core_ranges = <[#ttnn.core_range<(0,0), (7,6)>]>, ct_args = [#ttnn.kernel_arg_cb_buffer_index<0>, #ttnn.kernel_arg_cb_buffer_index<1>, #ttnn.kernel_arg_cb_buffer_index<2>, #ttnn.kernel_arg_cb_buffer_index<3>, #ttnn.kernel_arg_cb_buffer_index<4>, #ttnn.kernel_arg_cb_buffer_index<5>, #ttnn.kernel_arg_cb_buffer_index<6>, #ttnn.kernel_arg_cb_buffer_index<7>, #ttnn.kernel_arg_tensor_accessor_args<0>, #ttnn.kernel_arg_tensor_accessor_args<1>, #ttnn.kernel_arg_tensor_accessor_args<2>, #ttnn.kernel_arg_tensor_accessor_args<3>, #ttnn.kernel_arg_tensor_accessor_args<4>], common_rt_args = [#ttnn.kernel_arg_address_of_tensor<4>, #ttnn.kernel_named_arg<name = "block_channel_tiles", value = 2>, #ttnn.kernel_named_arg<name = "channel_blocks", value = 1>, #ttnn.kernel_named_arg<name = "channel_tiles", value = 2>, #ttnn.kernel_named_arg<name = "grid_cols", value = 8>, #ttnn.kernel_named_arg<name = "group_per_core", value = 1>, #ttnn.kernel_named_arg<name = "group_per_row", value = 0>, #ttnn.kernel_named_arg<name = "num_cores", value = 49>, #ttnn.kernel_named_arg<name = "shard_per_col", value = 0>, #ttnn.kernel_named_arg<name = "shard_per_core", value = 0>, #ttnn.kernel_named_arg<name = "tiles_per_group", value = 1>], rt_args = []>]
// CBs in creation order, bf16 tiles of 2048 B, but the selector and acc buffers, made like
// the float32 selectors, in f32 tiles of 4096 B (tt-metal's float32 tile; CTb = 2, RC = 1):
//   0 in (window plane)   1 x 2 tiles x 2 blocks = 4 tiles = 8192 B
//   1 selector            1 x 1 x 2              = 2 f32   = 8192
//   2 weight_stage        1 x 2 x 1              = 2       = 4096
//   3 weight              1 x 2 x 1 (one channel block)    = 4096
//   4 bias_stage          1 x 2 x 1              = 2       = 4096
//   5 bias                1 x 2 x 1              = 2       = 4096
//   6 acc                 1 x 2 x 2              = 4 f32   = 16384
//   7 out                 1 x 2 x 2              = 4       = 8192
// CHECK-SAME: cbs = [<total_size = 8192, core_ranges = <[#ttnn.core_range<(0,0), (7,6)>]>, formats = [<buffer_index = 0, dtype = bf16, page_size = 2048>]>, <total_size = 8192, core_ranges = <[#ttnn.core_range<(0,0), (7,6)>]>, formats = [<buffer_index = 1, dtype = f32, page_size = 4096>]>, <total_size = 4096, core_ranges = <[#ttnn.core_range<(0,0), (7,6)>]>, formats = [<buffer_index = 2, dtype = bf16, page_size = 2048>]>, <total_size = 4096, core_ranges = <[#ttnn.core_range<(0,0), (7,6)>]>, formats = [<buffer_index = 3, dtype = bf16, page_size = 2048>]>, <total_size = 4096, core_ranges = <[#ttnn.core_range<(0,0), (7,6)>]>, formats = [<buffer_index = 4, dtype = bf16, page_size = 2048>]>, <total_size = 4096, core_ranges = <[#ttnn.core_range<(0,0), (7,6)>]>, formats = [<buffer_index = 5, dtype = bf16, page_size = 2048>]>, <total_size = 16384, core_ranges = <[#ttnn.core_range<(0,0), (7,6)>]>, formats = [<buffer_index = 6, dtype = f32, page_size = 4096>]>, <total_size = 8192, core_ranges = <[#ttnn.core_range<(0,0), (7,6)>]>, formats = [<buffer_index = 7, dtype = bf16, page_size = 2048>]>],
// Two pipe nets (weights, bias), two semaphores each.
// CHECK-SAME: semaphores = [<id = 0, core_type = worker, core_ranges = <[#ttnn.core_range<(0,0), (7,6)>]>, initial_value = 0>, <id = 1, core_type = worker, core_ranges = <[#ttnn.core_range<(0,0), (7,6)>]>, initial_value = 0>, <id = 2, core_type = worker, core_ranges = <[#ttnn.core_range<(0,0), (7,6)>]>, initial_value = 0>, <id = 3, core_type = worker, core_ranges = <[#ttnn.core_range<(0,0), (7,6)>]>, initial_value = 0>]>}
// CHECK-SAME: : (tensor<14112x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<288x64xf32>, tensor<1568x64xbf16>) -> ()
// The generic wrote `out` in place; the conv's result is read from it: per group (49)
// its 32 rows, of which the first 4 are pixels -> 196 x 64 -> 1x14x14x64.
// CHECK-NEXT: %[[ROWS:.*]] = "ttnn.reshape"(%[[OUT]]) {shape = [49 : i32, 32 : i32, 64 : i32]} : (tensor<1568x64xbf16>) -> tensor<49x32x64xbf16>
// CHECK-NEXT: %[[PIX:.*]] = "ttnn.slice_static"(%[[ROWS]]) {begins = [0 : i32, 0 : i32, 0 : i32], ends = [49 : i32, 4 : i32, 64 : i32], step = [1 : i32, 1 : i32, 1 : i32]} : (tensor<49x32x64xbf16>) -> tensor<49x4x64xbf16>
// CHECK-NEXT: %[[Y:.*]] = "ttnn.reshape"(%[[PIX]]) {shape = [1 : i32, 14 : i32, 14 : i32, 64 : i32]} : (tensor<49x4x64xbf16>) -> tensor<1x14x14x64xbf16>
// CHECK-NOT: ttnn.depthwise_pool_program
// CHECK-NEXT: return %[[Y]] : tensor<1x14x14x64xbf16>
// The kernels: declarations, no bodies, naming the TT-Lang source to compile.
// CHECK: func.func private @depthwise_pool_reader() attributes {tt.function_type = "kernel", tt_dw.tt_lang_kernel = "kernels/depthwise_pool_reader.py", ttkernel.thread = #ttkernel.thread<noc>}
// CHECK-NEXT: func.func private @depthwise_pool_compute() attributes {tt.function_type = "kernel", tt_dw.tt_lang_kernel = "kernels/depthwise_pool_compute.py", ttkernel.thread = #ttkernel.thread<compute>}
// CHECK-NEXT: func.func private @depthwise_pool_writer() attributes {tt.function_type = "kernel", tt_dw.tt_lang_kernel = "kernels/depthwise_pool_writer.py", ttkernel.thread = #ttkernel.thread<noc>}

// bfp8_b weights: the weight and bias buffers take bfp8_b tiles (1024 + 64 exponent
// bytes = 1088 B, tt-metal tile.hpp) as `bfp_bf8` (ttcore::DataType); the window and out
// buffers stay bf16 like the activations, the selector and acc buffers f32.
// BFP8-LABEL: func.func @dw_height_bias
// BFP8: cbs = [<total_size = 8192, core_ranges = <[#ttnn.core_range<(0,0), (7,6)>]>, formats = [<buffer_index = 0, dtype = bf16, page_size = 2048>]>, <total_size = 8192, core_ranges = <[#ttnn.core_range<(0,0), (7,6)>]>, formats = [<buffer_index = 1, dtype = f32, page_size = 4096>]>, <total_size = 2176, core_ranges = <[#ttnn.core_range<(0,0), (7,6)>]>, formats = [<buffer_index = 2, dtype = bfp_bf8, page_size = 1088>]>, <total_size = 2176, core_ranges = <[#ttnn.core_range<(0,0), (7,6)>]>, formats = [<buffer_index = 3, dtype = bfp_bf8, page_size = 1088>]>, <total_size = 2176, core_ranges = <[#ttnn.core_range<(0,0), (7,6)>]>, formats = [<buffer_index = 4, dtype = bfp_bf8, page_size = 1088>]>, <total_size = 2176, core_ranges = <[#ttnn.core_range<(0,0), (7,6)>]>, formats = [<buffer_index = 5, dtype = bfp_bf8, page_size = 1088>]>, <total_size = 16384, core_ranges = <[#ttnn.core_range<(0,0), (7,6)>]>, formats = [<buffer_index = 6, dtype = f32, page_size = 4096>]>, <total_size = 8192, core_ranges = <[#ttnn.core_range<(0,0), (7,6)>]>, formats = [<buffer_index = 7, dtype = bf16, page_size = 2048>]>]

// QUIET-NOT: remark
// REMARK: height_sharded_bias.mlir:[[@LINE+3]]:8: remark: depthwise-pool-to-generic: kernel bodies need the TT-Lang compiler: @depthwise_pool_reader <- kernels/depthwise_pool_reader.py, @depthwise_pool_compute <- kernels/depthwise_pool_compute.py, @depthwise_pool_writer <- kernels/depthwise_pool_writer.py are declarations without bodies (its io tensors, the window planes, weight and bias grids, selector tiles and output rows, are computed by the TTNN ops before it)

func.func @dw_height_bias(%x: tensor<1x14x14x64xbf16>, %w: tensor<64x1x3x3xbf16>, %b: tensor<1x1x1x64xbf16>) -> tensor<1x14x14x64xbf16> {
  %0 = "ttir.conv2d"(%x, %w, %b) <{stride = array<i32: 1, 1>, padding = array<i32: 1, 1, 1, 1>, dilation = array<i32: 1, 1>, groups = 64 : i32}> : (tensor<1x14x14x64xbf16>, tensor<64x1x3x3xbf16>, tensor<1x1x1x64xbf16>) -> tensor<1x14x14x64xbf16>
  return %0 : tensor<1x14x14x64xbf16>
}

// AGAIN-NOT: remark
// AGAIN-LABEL: func.func @dw_height_bias
// AGAIN: "ttnn.generic"
// AGAIN-NOT: "ttnn.generic"
// AGAIN-COUNT-3: func.func private @depthwise_pool_
// AGAIN-NOT: func.func private
