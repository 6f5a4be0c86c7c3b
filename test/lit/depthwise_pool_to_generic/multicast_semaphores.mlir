// RUN: tt-dw-opt %s --tt-depthwise-to-pool="path=pool shard-scheme=block_sharded" --tt-depthwise-pool-to-kernels --tt-depthwise-pool-to-generic | FileCheck %s --check-prefix=BLOCK
// RUN: tt-dw-opt %s --tt-depthwise-to-pool="path=pool shard-scheme=width_sharded" --tt-depthwise-pool-to-kernels --tt-depthwise-pool-to-generic | FileCheck %s --check-prefix=WIDTH

// The weight multicast in the generic form. Semaphore syntax as tt-mlir prints it
// (tenstorrent/tt-mlir 19c86fca45 test/ttmlir/Conversion/D2MToTTNN/spatial.mlir:
// `#ttnn.kernel_arg_semaphore_at<0>`, `semaphores = [<id = 0, core_type = worker,
// core_ranges = <[...]>, initial_value = 0>`); an empty list as in
// test/ttmlir/Conversion/D2MToTTNN/mul_add_l1_block.mlir (`semaphores = []>`).
// No bias: three io tensors (input, weights, output), as `operandSegmentSizes`.

// 1x7x7x960 (MobileNetV2 features.15), 960 channels = 30 tiles, 49 pixels.
// Block sharded on n150: 6 core columns of 5 channel tiles, 7 rows of 7 pixels; every
// column is one channel shard whose top core multicasts its weights down the column,
// so the multicast needs tt-metal's sender / receiver semaphore pair.
// BLOCK-LABEL: func.func @dw_no_bias
// BLOCK: "ttnn.generic"(%arg0, %{{.*}}, %{{.*}}) {operandSegmentSizes = array<i32: 3, 0>, program = #ttnn.program<kernels = [#ttnn.read_kernel<symbol_ref = @depthwise_pool_reader, core_ranges = <[#ttnn.core_range<(0,0), (5,6)>]>
// The reader of a shard without bias: no bias CBs (5, 6), no bias tensor.
// BLOCK-SAME: ct_args = [#ttnn.kernel_arg_cb_buffer_index<0>, #ttnn.kernel_arg_cb_buffer_index<1>, #ttnn.kernel_arg_cb_buffer_index<2>, #ttnn.kernel_arg_cb_buffer_index<3>, #ttnn.kernel_arg_cb_buffer_index<4>, #ttnn.kernel_arg_cb_buffer_index<7>, #ttnn.kernel_arg_semaphore_at<0>, #ttnn.kernel_arg_semaphore_at<1>, #ttnn.kernel_arg_tensor_accessor_args<0>, #ttnn.kernel_arg_tensor_accessor_args<1>], common_rt_args = [#ttnn.kernel_arg_address_of_tensor<0>, #ttnn.kernel_arg_address_of_tensor<1>,
// Column 5 (x = 5): the sender at its top multicasts to x 5, y 0..6 (7 cores).
// BLOCK-SAME: #ttnn.core_runtime_args<core_coord = #ttnn.core_coord<5, 0>, args = [#ttnn.kernel_named_arg<name = "channel_shard", value = 5>, #ttnn.kernel_named_arg<name = "pixel_group", value = 0>, #ttnn.kernel_named_arg<name = "is_weight_sender", value = 1>, #ttnn.kernel_named_arg<name = "weight_sender_x", value = 5>, #ttnn.kernel_named_arg<name = "weight_sender_y", value = 0>, #ttnn.kernel_named_arg<name = "weight_mcast_rects", value = 1>, #ttnn.kernel_named_arg<name = "weight_mcast0_x0", value = 5>, #ttnn.kernel_named_arg<name = "weight_mcast0_y0", value = 0>, #ttnn.kernel_named_arg<name = "weight_mcast0_x1", value = 5>, #ttnn.kernel_named_arg<name = "weight_mcast0_y1", value = 6>, #ttnn.kernel_named_arg<name = "weight_mcast_cores", value = 7>]>
// Its bottom core computes pixel group 6 of shard 5.
// BLOCK-SAME: #ttnn.core_runtime_args<core_coord = #ttnn.core_coord<5, 6>, args = [#ttnn.kernel_named_arg<name = "channel_shard", value = 5>, #ttnn.kernel_named_arg<name = "pixel_group", value = 6>, #ttnn.kernel_named_arg<name = "is_weight_sender", value = 0>, #ttnn.kernel_named_arg<name = "weight_sender_x", value = 5>, #ttnn.kernel_named_arg<name = "weight_sender_y", value = 0>]>]>
// BLOCK-SAME: #ttnn.write_kernel<symbol_ref = @depthwise_pool_writer, core_ranges = <[#ttnn.core_range<(0,0), (5,6)>]>, ct_args = [#ttnn.kernel_arg_cb_buffer_index<16>, #ttnn.kernel_arg_tensor_accessor_args<2>], common_rt_args = [#ttnn.kernel_arg_address_of_tensor<2>,
// BLOCK-SAME: semaphores = [<id = 0, core_type = worker, core_ranges = <[#ttnn.core_range<(0,0), (5,6)>]>, initial_value = 0>, <id = 1, core_type = worker, core_ranges = <[#ttnn.core_range<(0,0), (5,6)>]>, initial_value = 0>]>}
// BLOCK-SAME: : (tensor<1x7x7x960xbf16>, tensor<6x5x32x32xbf16>, tensor<1x7x7x960xbf16>) -> ()

// Width sharded: 30 shards of one channel tile on 30 cores (rows 0..2 full, 6 cores on
// row 3). Every shard lives on one core, so there is nothing to multicast: no
// semaphores, and no semaphore arguments for the reader.
// WIDTH-LABEL: func.func @dw_no_bias
// WIDTH: "ttnn.generic"(%arg0, %{{.*}}, %{{.*}}) {operandSegmentSizes = array<i32: 3, 0>, program = #ttnn.program<kernels = [#ttnn.read_kernel<symbol_ref = @depthwise_pool_reader, core_ranges = <[#ttnn.core_range<(0,0), (7,2)>, #ttnn.core_range<(0,3), (5,3)>]>, ct_args = [#ttnn.kernel_arg_cb_buffer_index<0>, #ttnn.kernel_arg_cb_buffer_index<1>, #ttnn.kernel_arg_cb_buffer_index<2>, #ttnn.kernel_arg_cb_buffer_index<3>, #ttnn.kernel_arg_cb_buffer_index<4>, #ttnn.kernel_arg_cb_buffer_index<7>, #ttnn.kernel_arg_tensor_accessor_args<0>, #ttnn.kernel_arg_tensor_accessor_args<1>],
// Core (5, 3) is the 30th core: channel shard 29, which it sends to itself only.
// WIDTH-SAME: #ttnn.core_runtime_args<core_coord = #ttnn.core_coord<5, 3>, args = [#ttnn.kernel_named_arg<name = "channel_shard", value = 29>, #ttnn.kernel_named_arg<name = "pixel_group", value = 0>, #ttnn.kernel_named_arg<name = "is_weight_sender", value = 1>, #ttnn.kernel_named_arg<name = "weight_sender_x", value = 5>, #ttnn.kernel_named_arg<name = "weight_sender_y", value = 3>, #ttnn.kernel_named_arg<name = "weight_mcast_rects", value = 1>, #ttnn.kernel_named_arg<name = "weight_mcast0_x0", value = 5>, #ttnn.kernel_named_arg<name = "weight_mcast0_y0", value = 3>, #ttnn.kernel_named_arg<name = "weight_mcast0_x1", value = 5>, #ttnn.kernel_named_arg<name = "weight_mcast0_y1", value = 3>, #ttnn.kernel_named_arg<name = "weight_mcast_cores", value = 1>]>]>
// WIDTH-SAME: semaphores = []>}
// WIDTH-SAME: : (tensor<1x7x7x960xbf16>, tensor<30x1x32x32xbf16>, tensor<1x7x7x960xbf16>) -> ()
func.func @dw_no_bias(%x: tensor<1x7x7x960xbf16>, %w: tensor<960x1x3x3xbf16>) -> tensor<1x7x7x960xbf16> {
  %0 = "ttir.conv2d"(%x, %w) <{stride = array<i32: 1, 1>, padding = array<i32: 1, 1, 1, 1>, dilation = array<i32: 1, 1>, groups = 960 : i32}> : (tensor<1x7x7x960xbf16>, tensor<960x1x3x3xbf16>) -> tensor<1x7x7x960xbf16>
  return %0 : tensor<1x7x7x960xbf16>
}
