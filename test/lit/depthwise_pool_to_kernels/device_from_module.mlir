// The device is decided once and travels with the module (`tt_dw.device`, as tt-mlir's
// `ttcore.system_desc` does): the lowering plans for the device the legalisation chose,
// in the same run or in a later process. A device option that disagrees is an error.
// RUN: tt-dw-opt %s --tt-depthwise-to-pool="device=p150 path=pool" --tt-depthwise-pool-to-kernels | FileCheck %s
// RUN: tt-dw-opt %s --tt-depthwise-to-pool="device=p150 path=pool" | tt-dw-opt --tt-depthwise-pool-to-kernels | FileCheck %s
// RUN: not tt-dw-opt %s --tt-depthwise-to-pool="device=p150 path=pool" --tt-depthwise-pool-to-kernels="device=n150" 2>&1 | FileCheck %s --check-prefix=CONFLICT
// RUN: tt-dw-opt %s --tt-depthwise-to-pool="device=p150 path=pool" | not tt-dw-opt --tt-depthwise-to-pool="device=n150" 2>&1 | FileCheck %s --check-prefix=CONFLICT2

// On p150 this conv takes a 10x11 grid, larger than n150's 8x8: planning it for the
// default device (the old behaviour) failed with "grid 10x6 exceeds n150's 8x8".
// CHECK: module attributes {tt_dw.device = {arch = "blackhole", grid = array<i64: 10, 11>, {{.*}}name = "p150"
// The program, defined once in the module and named by the op that runs it:
// CHECK: "ttnn.depthwise_pool_kernel_program"() {program = {block_channel_tiles
// CHECK-SAME: device = {arch = "blackhole"
// CHECK-SAME: sym_name = "[[PROGRAM:depthwise_pool_program_[0-9]+]]"
// CHECK-LABEL: func.func @wide
// CHECK: "ttnn.depthwise_pool_program"
// CHECK-SAME: program = @[[PROGRAM]]
// CHECK-SAME: grid = array<i32: 10, 11>
// CONFLICT: device_from_module.mlir:[[@LINE+2]]:1: error: depthwise-pool-to-kernels: device=n150 conflicts with the module's tt_dw.device (p150)
// CONFLICT2: <stdin>:1:1: error: depthwise-to-pool: device=n150 conflicts with the module's tt_dw.device (p150)
func.func @wide(%x: tensor<1x56x56x96xbf16>, %w: tensor<96x1x3x3xbf16>) -> tensor<1x56x56x96xbf16> {
  %0 = "ttir.conv2d"(%x, %w) <{stride = 1 : i32, padding = 1 : i32, dilation = 1 : i32, groups = 96 : i32}> : (tensor<1x56x56x96xbf16>, tensor<96x1x3x3xbf16>) -> tensor<1x56x56x96xbf16>
  return %0 : tensor<1x56x56x96xbf16>
}
