// RUN: tt-dw-opt %s --tt-depthwise-to-pool="path=pool" --tt-depthwise-pool-to-kernels --tt-depthwise-pool-to-generic="remarks=none" 2>&1 | FileCheck %s

// Two depthwise convs in one function, as in a network: one `ttnn.get_device` at the
// function's entry serves both outputs (tt-mlir's `utils::getOrInsertDevice`, used by
// TTNNLowerTTLangToGeneric.cpp), and the kernels are declared once per module: both
// programs reference the same three kernel symbols, each with its own core ranges.
// A function that already has a device reuses it.

// CHECK-NOT: remark
// The kernel-program definitions go with the ops that named them.
// CHECK-NOT: depthwise_pool_kernel_program
// CHECK-LABEL: func.func @two_convs
// CHECK-NEXT: %[[DEV:.*]] = "ttnn.get_device"()
// CHECK-NOT: "ttnn.get_device"
// The first conv: 16x16 = 256 pixels on 64 cores, 4 each, one tile per core: 64 x 32 =
// 2048 output rows. Its selector tiles (9 positions, one row chunk) are one constant...
// CHECK: %[[SEL:.*]] = "ttnn.constant"(%[[DEV]]) {value = dense<"0x{{[0-9A-F]*}}"> : tensor<288x32xf32>}
// CHECK-NEXT: %[[OUT0:.*]] = "ttnn.empty"(%[[DEV]]) {shape = #ttnn.shape<2048x32>}
// CHECK-NEXT: "ttnn.generic"(%{{.*}}, %{{.*}}, %{{.*}}, %[[SEL]], %[[OUT0]]) {operandSegmentSizes = array<i32: 5, 0>, program = #ttnn.program<kernels = [#ttnn.read_kernel<symbol_ref = @depthwise_pool_reader,
// CHECK: %[[Y0:.*]] = "ttnn.reshape"(%{{.*}}) {shape = [1 : i32, 16 : i32, 16 : i32, 32 : i32]}
// The second conv (stride 2: 8x8 = 64 output pixels, one per core) reads the first
// one's output: its window planes start from it; slices of step 2, ending at
// kh + (8 - 1) * 2 + 1.
// CHECK-NEXT: "ttnn.prepare_depthwise_pool_weights"(%arg2)
// CHECK-NEXT: %[[XP:.*]] = "ttnn.pad"(%[[Y0]]) {padding = array<i32: 0, 0, 1, 1, 1, 1, 0, 0>, {{.*}} -> tensor<1x18x18x32xbf16>
// CHECK-NEXT: "ttnn.slice_static"(%[[XP]]) {begins = [0 : i32, 0 : i32, 0 : i32, 0 : i32], ends = [1 : i32, 15 : i32, 15 : i32, 32 : i32], step = [1 : i32, 2 : i32, 2 : i32, 1 : i32]} : (tensor<1x18x18x32xbf16>) -> tensor<1x8x8x32xbf16>
// ... and serves this one too: no second constant.
// CHECK-NOT: "ttnn.constant"
// CHECK: %[[OUT1:.*]] = "ttnn.empty"(%[[DEV]]) {shape = #ttnn.shape<2048x32>}
// CHECK-NEXT: "ttnn.generic"(%{{.*}}, %{{.*}}, %{{.*}}, %[[SEL]], %[[OUT1]]) {operandSegmentSizes = array<i32: 5, 0>, program = #ttnn.program<kernels = [#ttnn.read_kernel<symbol_ref = @depthwise_pool_reader,
// CHECK-NEXT: "ttnn.reshape"(%[[OUT1]]) {shape = [64 : i32, 32 : i32, 32 : i32]}
// CHECK-NEXT: "ttnn.slice_static"({{.*}}) {begins = [0 : i32, 0 : i32, 0 : i32], ends = [64 : i32, 1 : i32, 32 : i32], step = [1 : i32, 1 : i32, 1 : i32]}
// CHECK-NEXT: %[[Y1:.*]] = "ttnn.reshape"({{.*}}) {shape = [1 : i32, 8 : i32, 8 : i32, 32 : i32]}
// CHECK-NEXT: return %[[Y1]]
func.func @two_convs(%x: tensor<1x16x16x32xbf16>, %w0: tensor<32x1x3x3xbf16>, %w1: tensor<32x1x3x3xbf16>) -> tensor<1x8x8x32xbf16> {
  %0 = "ttir.conv2d"(%x, %w0) <{stride = array<i32: 1, 1>, padding = array<i32: 1, 1, 1, 1>, dilation = array<i32: 1, 1>, groups = 32 : i32}> : (tensor<1x16x16x32xbf16>, tensor<32x1x3x3xbf16>) -> tensor<1x16x16x32xbf16>
  %1 = "ttir.conv2d"(%0, %w1) <{stride = array<i32: 2, 2>, padding = array<i32: 1, 1, 1, 1>, dilation = array<i32: 1, 1>, groups = 32 : i32}> : (tensor<1x16x16x32xbf16>, tensor<32x1x3x3xbf16>) -> tensor<1x8x8x32xbf16>
  return %1 : tensor<1x8x8x32xbf16>
}

// The IRDL fallback's ops have no properties: their attributes print as a dictionary,
// which tt-mlir reads as properties (inherent attributes given in it move there).
// CHECK-LABEL: func.func @device_already_there
// CHECK-NEXT: %[[D:.*]] = "ttnn.get_device"() {{<?}}{mesh_offset = #ttnn<mesh_offset 0x0>, mesh_shape = #ttnn<mesh_shape 1x1>}{{>?}} : () -> !ttnn.device
// CHECK-NOT: "ttnn.get_device"
// CHECK: "ttnn.empty"(%[[D]])
func.func @device_already_there(%x: tensor<1x8x8x32xbf16>, %w: tensor<32x1x3x3xbf16>) -> tensor<1x8x8x32xbf16> {
  %d = "ttnn.get_device"() <{mesh_offset = #ttnn<mesh_offset 0x0>, mesh_shape = #ttnn<mesh_shape 1x1>}> : () -> !ttnn.device
  %0 = "ttir.conv2d"(%x, %w) <{stride = array<i32: 1, 1>, padding = array<i32: 1, 1, 1, 1>, dilation = array<i32: 1, 1>, groups = 32 : i32}> : (tensor<1x8x8x32xbf16>, tensor<32x1x3x3xbf16>) -> tensor<1x8x8x32xbf16>
  return %0 : tensor<1x8x8x32xbf16>
}

// One declaration per kernel in the module, after the functions.
// CHECK-COUNT-1: func.func private @depthwise_pool_reader()
// CHECK-NEXT: func.func private @depthwise_pool_compute()
// CHECK-NEXT: func.func private @depthwise_pool_writer()
// CHECK-NOT: func.func private
