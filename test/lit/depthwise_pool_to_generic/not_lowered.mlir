// RUN: tt-dw-opt %s --split-input-file --tt-depthwise-to-pool="path=pool" --tt-depthwise-pool-to-generic 2>&1 | FileCheck %s --check-prefix=NOPROGRAM
// RUN: not tt-dw-opt %s --split-input-file --tt-depthwise-to-pool="path=pool" --tt-depthwise-pool-to-kernels --tt-depthwise-pool-to-generic 2>&1 | FileCheck %s --check-prefix=CLASH

// Negative cases beside the positive ones (height_sharded_bias.mlir,
// multicast_semaphores.mlir), in the manner of tt-mlir's
// test/ttmlir/Silicon/TTNN/n150/generic_op/runtime_args_negative.mlir.

// A conv legalised but not lowered to a kernel program has nothing the generic form
// could carry yet: it stays as it is, with a remark naming the missing step.
// NOPROGRAM: not_lowered.mlir:[[@LINE+5]]:8: remark: depthwise-pool-to-generic: 'ttnn.depthwise_pool_conv' has no kernel program yet; run --tt-depthwise-pool-to-kernels first
// NOPROGRAM-LABEL: func.func @legalised_only
// NOPROGRAM: "ttnn.depthwise_pool_conv"
// NOPROGRAM-NOT: ttnn.generic
func.func @legalised_only(%x: tensor<1x8x8x32xbf16>, %w: tensor<32x1x3x3xbf16>) -> tensor<1x8x8x32xbf16> {
  %0 = "ttir.conv2d"(%x, %w) <{stride = array<i32: 1, 1>, padding = array<i32: 1, 1, 1, 1>, dilation = array<i32: 1, 1>, groups = 32 : i32}> : (tensor<1x8x8x32xbf16>, tensor<32x1x3x3xbf16>) -> tensor<1x8x8x32xbf16>
  return %0 : tensor<1x8x8x32xbf16>
}

// -----

// The kernel symbol is taken by a function that is not the kernel's declaration:
// referencing it from the program would launch the wrong code. Error at the op, exit 1.
// CLASH: not_lowered.mlir:[[@LINE+2]]:8: error: 'ttnn.depthwise_pool_program' op cannot be lowered to ttnn.generic: symbol @depthwise_pool_reader already names something other than the declaration of kernel kernels/depthwise_pool_reader.py
func.func @symbol_taken(%x: tensor<1x8x8x32xbf16>, %w: tensor<32x1x3x3xbf16>) -> tensor<1x8x8x32xbf16> {
  %0 = "ttir.conv2d"(%x, %w) <{stride = array<i32: 1, 1>, padding = array<i32: 1, 1, 1, 1>, dilation = array<i32: 1, 1>, groups = 32 : i32}> : (tensor<1x8x8x32xbf16>, tensor<32x1x3x3xbf16>) -> tensor<1x8x8x32xbf16>
  return %0 : tensor<1x8x8x32xbf16>
}
func.func private @depthwise_pool_reader() -> i32
