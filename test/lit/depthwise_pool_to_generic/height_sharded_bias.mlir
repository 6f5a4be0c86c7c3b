// RUN: tt-dw-opt %s --tt-depthwise-to-pool="path=pool" --tt-depthwise-pool-to-kernels --tt-depthwise-pool-to-generic | FileCheck %s
// RUN: tt-dw-opt %s --tt-depthwise-to-pool="path=pool" --tt-depthwise-pool-to-kernels --tt-depthwise-pool-to-generic 2>&1 >/dev/null | FileCheck %s --check-prefix=REMARK
// The output parses again and a second run changes nothing (no program op is left).
// RUN: tt-dw-opt %s --tt-depthwise-to-pool="path=pool" --tt-depthwise-pool-to-kernels --tt-depthwise-pool-to-generic -o %t.mlir
// RUN: tt-dw-opt %t.mlir --tt-depthwise-pool-to-generic 2>&1 | FileCheck %s --check-prefix=AGAIN

// The syntax checked here is tt-mlir's (tenstorrent/tt-mlir 19c86fca45):
//  * test/ttmlir/Silicon/TTNN/n150/generic_op/generic_op.mlir: kernels by `symbol_ref`
//    to private kernel functions, `#ttnn.kernel_cb` descriptors, CB ct_args
//    (`kernel_arg_cb_buffer_index`), tensor addresses (`kernel_arg_address_of_tensor`),
//    per-core `core_runtime_args` with `kernel_named_arg`, `operandSegmentSizes = [io, 0]`,
//    the output a `ttnn.empty` on `ttnn.get_device`;
//  * test/ttmlir/Conversion/D2MToTTNN/mul_add_l1_block.mlir: the printed form, e.g.
//    `core_ranges = <[#ttnn.core_range<(0,0), (7,7)>]>` and
//    `<total_size = 8192, core_ranges = <[...]>, formats = [<buffer_index = 0, dtype = bf16, page_size = 2048>]>`;
//  * test/ttmlir/Conversion/D2MToTTNN/spatial.mlir: `#ttnn.kernel_arg_semaphore_at<0>` and
//    `semaphores = [<id = 0, core_type = worker, core_ranges = <[...]>, initial_value = 0>`;
//  * test/ttmlir/Dialect/TTNN/tt_lang_op_flatbuffer.mlir (`--ttnn-lower-tt-lang-to-generic`):
//    the result of the lowered op is replaced by its output operand.

// 1x14x14x64, 3x3, stride 1, pad 1: 196 output pixels. Height sharded on n150 (8x8):
// ceil(196/64) = 4 pixels per core, so 196/4 = 49 cores, row-major on 8 columns:
// rows 0..5 full (x 0..7) and one core on row 6.
// CHECK-LABEL: func.func @dw_height_bias
// CHECK-SAME: (%[[X:.*]]: tensor<1x14x14x64xbf16>, %[[W:.*]]: tensor<64x1x3x3xbf16>, %[[B:.*]]: tensor<1x1x1x64xbf16>)
// CHECK: %[[DEV:.*]] = "ttnn.get_device"() {mesh_offset = #ttnn<mesh_offset 0x0>, mesh_shape = #ttnn<mesh_shape 1x1>} : () -> !ttnn.device
// CHECK: %[[PW:.*]] = "ttnn.prepare_depthwise_pool_weights"(%[[W]])
// CHECK: %[[PB:.*]] = "ttnn.prepare_depthwise_pool_bias"(%[[B]])
// CHECK: %[[OUT:.*]] = "ttnn.empty"(%[[DEV]]) {shape = #ttnn.shape<1x14x14x64>} : (!ttnn.device) -> tensor<1x14x14x64xbf16>
// io tensors: input, weights, bias, output; no additional (scalar) args.
// CHECK-NEXT: "ttnn.generic"(%[[X]], %[[PW]], %[[PB]], %[[OUT]]) {operandSegmentSizes = array<i32: 4, 0>, program = #ttnn.program<kernels = [
// The reader: CBs 0..7 (in, stick, clear value, weight stage, weight, bias stage, bias,
// window), the two multicast semaphores, then one tensor accessor per tensor it reads.
// CHECK-SAME: #ttnn.read_kernel<symbol_ref = @depthwise_pool_reader, core_ranges = <[#ttnn.core_range<(0,0), (7,5)>, #ttnn.core_range<(0,6), (0,6)>]>, ct_args = [#ttnn.kernel_arg_cb_buffer_index<0>, #ttnn.kernel_arg_cb_buffer_index<1>, #ttnn.kernel_arg_cb_buffer_index<2>, #ttnn.kernel_arg_cb_buffer_index<3>, #ttnn.kernel_arg_cb_buffer_index<4>, #ttnn.kernel_arg_cb_buffer_index<5>, #ttnn.kernel_arg_cb_buffer_index<6>, #ttnn.kernel_arg_cb_buffer_index<7>, #ttnn.kernel_arg_semaphore_at<0>, #ttnn.kernel_arg_semaphore_at<1>, #ttnn.kernel_arg_tensor_accessor_args<0>, #ttnn.kernel_arg_tensor_accessor_args<1>, #ttnn.kernel_arg_tensor_accessor_args<2>], common_rt_args = [#ttnn.kernel_arg_address_of_tensor<0>, #ttnn.kernel_arg_address_of_tensor<1>, #ttnn.kernel_arg_address_of_tensor<2>,
// Integer plan arguments by name (uint32), e.g. the input height and the 3x3 window.
// CHECK-SAME: #ttnn.kernel_named_arg<name = "in_h", value = 14>
// CHECK-SAME: #ttnn.kernel_named_arg<name = "window_size", value = 9>], rt_args = [
// Core (0,0) is the weight sender: two receiver rectangles, 48 + 1 = 49 cores.
// CHECK-SAME: #ttnn.core_runtime_args<core_coord = #ttnn.core_coord<0, 0>, args = [#ttnn.kernel_named_arg<name = "channel_shard", value = 0>, #ttnn.kernel_named_arg<name = "pixel_group", value = 0>, #ttnn.kernel_named_arg<name = "is_weight_sender", value = 1>, #ttnn.kernel_named_arg<name = "weight_sender_x", value = 0>, #ttnn.kernel_named_arg<name = "weight_sender_y", value = 0>, #ttnn.kernel_named_arg<name = "weight_mcast_rects", value = 2>, #ttnn.kernel_named_arg<name = "weight_mcast0_x0", value = 0>, #ttnn.kernel_named_arg<name = "weight_mcast0_y0", value = 0>, #ttnn.kernel_named_arg<name = "weight_mcast0_x1", value = 7>, #ttnn.kernel_named_arg<name = "weight_mcast0_y1", value = 5>, #ttnn.kernel_named_arg<name = "weight_mcast1_x0", value = 0>, #ttnn.kernel_named_arg<name = "weight_mcast1_y0", value = 6>, #ttnn.kernel_named_arg<name = "weight_mcast1_x1", value = 0>, #ttnn.kernel_named_arg<name = "weight_mcast1_y1", value = 6>, #ttnn.kernel_named_arg<name = "weight_mcast_cores", value = 49>]>
// The last core, x = 0 on row 6, computes pixel group 48 and receives from (0,0).
// CHECK-SAME: #ttnn.core_runtime_args<core_coord = #ttnn.core_coord<0, 6>, args = [#ttnn.kernel_named_arg<name = "channel_shard", value = 0>, #ttnn.kernel_named_arg<name = "pixel_group", value = 48>, #ttnn.kernel_named_arg<name = "is_weight_sender", value = 0>, #ttnn.kernel_named_arg<name = "weight_sender_x", value = 0>, #ttnn.kernel_named_arg<name = "weight_sender_y", value = 0>]>]>
// Compute: in, weight, bias, out, mul; no tensors of its own.
// CHECK-SAME: #ttnn.compute_kernel<symbol_ref = @depthwise_pool_compute, core_ranges = <[#ttnn.core_range<(0,0), (7,5)>, #ttnn.core_range<(0,6), (0,6)>]>, math_fidelity = hifi4, fp32_dest_acc_en = false, dst_full_sync_en = false, unpack_to_dest_modes = [default], bfp8_pack_precise = false, math_approx_mode = false, ct_args = [#ttnn.kernel_arg_cb_buffer_index<0>, #ttnn.kernel_arg_cb_buffer_index<4>, #ttnn.kernel_arg_cb_buffer_index<6>, #ttnn.kernel_arg_cb_buffer_index<16>, #ttnn.kernel_arg_cb_buffer_index<24>], common_rt_args = [#ttnn.kernel_named_arg<name = "activation", value = 0>
// Writer: the out CB and the output tensor (io index 3).
// CHECK-SAME: #ttnn.write_kernel<symbol_ref = @depthwise_pool_writer, core_ranges = <[#ttnn.core_range<(0,0), (7,5)>, #ttnn.core_range<(0,6), (0,6)>]>, ct_args = [#ttnn.kernel_arg_cb_buffer_index<16>, #ttnn.kernel_arg_tensor_accessor_args<3>], common_rt_args = [#ttnn.kernel_arg_address_of_tensor<3>,
// CBs, hand-sized: 4 pixels per pass x 2 channel tiles x one 16-row window tile
// (1024 B) = 8192 B pages, double buffered; out 4 x 2 tiles x 2048 B, double buffered;
// the input shard 2 output rows -> 4 input rows x 14 sticks x 128 B = 7168 B;
// the output shard 4 sticks x 128 B.
// CHECK-SAME: cbs = [<total_size = 16384, core_ranges = <[#ttnn.core_range<(0,0), (7,5)>, #ttnn.core_range<(0,6), (0,6)>]>, formats = [<buffer_index = 0, dtype = bf16, page_size = 8192>]>,
// CHECK-SAME: <total_size = 32768, core_ranges = <[#ttnn.core_range<(0,0), (7,5)>, #ttnn.core_range<(0,6), (0,6)>]>, formats = [<buffer_index = 16, dtype = bf16, page_size = 16384>]>,
// CHECK-SAME: <total_size = 7168, core_ranges = <[#ttnn.core_range<(0,0), (7,5)>, #ttnn.core_range<(0,6), (0,6)>]>, formats = [<buffer_index = 30, dtype = bf16, page_size = 128>]>,
// CHECK-SAME: <total_size = 512, core_ranges = <[#ttnn.core_range<(0,0), (7,5)>, #ttnn.core_range<(0,6), (0,6)>]>, formats = [<buffer_index = 31, dtype = bf16, page_size = 128>]>],
// CHECK-SAME: semaphores = [<id = 0, core_type = worker, core_ranges = <[#ttnn.core_range<(0,0), (7,5)>, #ttnn.core_range<(0,6), (0,6)>]>, initial_value = 0>, <id = 1, core_type = worker, core_ranges = <[#ttnn.core_range<(0,0), (7,5)>, #ttnn.core_range<(0,6), (0,6)>]>, initial_value = 0>]>}
// CHECK-SAME: : (tensor<1x14x14x64xbf16>, tensor<1x2x32x32xbf16>, tensor<1x2x32x32xbf16>, tensor<1x14x14x64xbf16>) -> ()
// CHECK-NOT: ttnn.depthwise_pool_program
// CHECK: return %[[OUT]] : tensor<1x14x14x64xbf16>
// The kernels: declarations, no bodies, naming the TT-Lang source to compile.
// CHECK: func.func private @depthwise_pool_reader() attributes {tt.function_type = "kernel", tt_dw.tt_lang_kernel = "kernels/depthwise_pool_reader.py", ttkernel.thread = #ttkernel.thread<noc>}
// CHECK-NEXT: func.func private @depthwise_pool_compute() attributes {tt.function_type = "kernel", tt_dw.tt_lang_kernel = "kernels/depthwise_pool_compute.py", ttkernel.thread = #ttkernel.thread<compute>}
// CHECK-NEXT: func.func private @depthwise_pool_writer() attributes {tt.function_type = "kernel", tt_dw.tt_lang_kernel = "kernels/depthwise_pool_writer.py", ttkernel.thread = #ttkernel.thread<noc>}

// REMARK: height_sharded_bias.mlir:[[@LINE+3]]:8: remark: depthwise-pool-to-generic: kernel bodies need the TT-Lang compiler: @depthwise_pool_reader <- kernels/depthwise_pool_reader.py, @depthwise_pool_compute <- kernels/depthwise_pool_compute.py, @depthwise_pool_writer <- kernels/depthwise_pool_writer.py are declarations without bodies

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
