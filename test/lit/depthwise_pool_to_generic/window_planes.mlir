// RUN: tt-dw-opt %s --tt-dw-remarks none --tt-depthwise-to-pool="path=pool" --tt-depthwise-pool-to-kernels --tt-depthwise-pool-to-generic | FileCheck %s
// The lowered module parses again as it is: every tt-mlir op, attribute and type it holds
// under its own name (none under the namespace undeclared ones are parsed under).
// RUN: tt-dw-opt %s --tt-dw-remarks none --tt-depthwise-to-pool="path=pool" --tt-depthwise-pool-to-kernels --tt-depthwise-pool-to-generic -o %t
// RUN: tt-dw-opt %t | diff %t -
// RUN: tt-dw-opt %t | FileCheck %s --implicit-check-not=TTNN --implicit-check-not=TTIR

// The window gather of the generic form (`OperationIo.window_planes`) where every pad and
// step of it does something: stride 2, dilation (1, 2), asymmetric padding, channels not
// a multiple of 32, pixel groups that do not divide the pixels; and an f32 conv, whose io
// tensors keep f32. Op syntax as in height_sharded_bias.mlir (TTNNOps.td, 19c86fca45).
// test/device/test_generic_io.py evaluates these ops against the runtime's tensors.

// 1x9x11x40, 3x3, stride 2x2, dilation 1x2, ttir padding [pT, pL, pB, pR] = [2, 0, 1, 1]:
// padded 9 + 2 + 1 = 12 rows, 11 + 0 + 1 = 12 columns; Ho = (12 - 1*2 - 1) / 2 + 1 = 5,
// Wo = (12 - 2*2 - 1) / 2 + 1 = 4: P = 20 pixels. 40 channels = 2 shards of 32 (block
// sharded, 7 grid rows x 2 columns): 7 pixel groups of ceil(20 / 7) = 3 pixels.
// CHECK-LABEL: func.func @strided_dilated
// Channels 40 -> 64 (+24), rows +2 / +1, columns +0 / +1.
// CHECK: %[[XP:.*]] = "ttnn.pad"(%arg0) {padding = array<i32: 0, 0, 2, 1, 0, 1, 0, 24>, use_multicore = true, value = 0.000000e+00 : f32} : (tensor<1x9x11x40xbf16>) -> tensor<1x12x12x64xbf16>
// Position (kh, kw) starts at row kh*1, column kw*2 and ends at start + (5-1)*2 + 1
// rows, start + (4-1)*2 + 1 columns, step 2 in both.
// CHECK-NEXT: %[[K0:.*]] = "ttnn.slice_static"(%[[XP]]) {begins = [0 : i32, 0 : i32, 0 : i32, 0 : i32], ends = [1 : i32, 9 : i32, 7 : i32, 64 : i32], step = [1 : i32, 2 : i32, 2 : i32, 1 : i32]} : (tensor<1x12x12x64xbf16>) -> tensor<1x5x4x64xbf16>
// CHECK-NEXT: "ttnn.slice_static"(%[[XP]]) {begins = [0 : i32, 0 : i32, 2 : i32, 0 : i32], ends = [1 : i32, 9 : i32, 9 : i32, 64 : i32], step = [1 : i32, 2 : i32, 2 : i32, 1 : i32]}
// CHECK-NEXT: "ttnn.slice_static"(%[[XP]]) {begins = [0 : i32, 0 : i32, 4 : i32, 0 : i32], ends = [1 : i32, 9 : i32, 11 : i32, 64 : i32], step = [1 : i32, 2 : i32, 2 : i32, 1 : i32]}
// CHECK-NEXT: "ttnn.slice_static"(%[[XP]]) {begins = [0 : i32, 1 : i32, 0 : i32, 0 : i32], ends = [1 : i32, 10 : i32, 7 : i32, 64 : i32]
// CHECK-NEXT: "ttnn.slice_static"(%[[XP]]) {begins = [0 : i32, 1 : i32, 2 : i32, 0 : i32], ends = [1 : i32, 10 : i32, 9 : i32, 64 : i32]
// CHECK-NEXT: "ttnn.slice_static"(%[[XP]]) {begins = [0 : i32, 1 : i32, 4 : i32, 0 : i32], ends = [1 : i32, 10 : i32, 11 : i32, 64 : i32]
// CHECK-NEXT: "ttnn.slice_static"(%[[XP]]) {begins = [0 : i32, 2 : i32, 0 : i32, 0 : i32], ends = [1 : i32, 11 : i32, 7 : i32, 64 : i32]
// CHECK-NEXT: "ttnn.slice_static"(%[[XP]]) {begins = [0 : i32, 2 : i32, 2 : i32, 0 : i32], ends = [1 : i32, 11 : i32, 9 : i32, 64 : i32]
// CHECK-NEXT: "ttnn.slice_static"(%[[XP]]) {begins = [0 : i32, 2 : i32, 4 : i32, 0 : i32], ends = [1 : i32, 11 : i32, 11 : i32, 64 : i32], step = [1 : i32, 2 : i32, 2 : i32, 1 : i32]} : (tensor<1x12x12x64xbf16>) -> tensor<1x5x4x64xbf16>
// CHECK-NEXT: %[[CAT:.*]] = "ttnn.concat"(%[[K0]], {{.*}}) {dim = 0 : si32} : ({{.*}}) -> tensor<9x5x4x64xbf16>
// 7 groups x 3 pixels = 21: one zero pixel after the 20; each group's 3 pixels padded
// to a tile (+29 rows); 7 tiles x 9 positions x 32 rows = 2016.
// CHECK-NEXT: %[[PIX:.*]] = "ttnn.reshape"(%[[CAT]]) {shape = [9 : i32, 20 : i32, 64 : i32]} : (tensor<9x5x4x64xbf16>) -> tensor<9x20x64xbf16>
// CHECK-NEXT: %[[PIXP:.*]] = "ttnn.pad"(%[[PIX]]) {padding = array<i32: 0, 0, 0, 1, 0, 0>, use_multicore = true, value = 0.000000e+00 : f32} : (tensor<9x20x64xbf16>) -> tensor<9x21x64xbf16>
// CHECK-NEXT: %[[GROUPS:.*]] = "ttnn.reshape"(%[[PIXP]]) {shape = [9 : i32, 7 : i32, 3 : i32, 64 : i32]} : (tensor<9x21x64xbf16>) -> tensor<9x7x3x64xbf16>
// CHECK-NEXT: %[[TILES:.*]] = "ttnn.pad"(%[[GROUPS]]) {padding = array<i32: 0, 0, 0, 0, 0, 29, 0, 0>, use_multicore = true, value = 0.000000e+00 : f32} : (tensor<9x7x3x64xbf16>) -> tensor<9x7x32x64xbf16>
// CHECK-NEXT: %[[TW:.*]] = "ttnn.permute"(%[[TILES]]) {permutation = array<i64: 1, 0, 2, 3>} : (tensor<9x7x32x64xbf16>) -> tensor<7x9x32x64xbf16>
// CHECK-NEXT: %[[WINDOWS:.*]] = "ttnn.reshape"(%[[TW]]) {shape = [2016 : i32, 64 : i32]}
// Weights: 2 shards x 1 row chunk x 1 channel tile: 64 x 32; no bias: zeros.
// CHECK: %[[WGRID:.*]] = "ttnn.reshape"(%{{.*}}) {shape = [64 : i32, 32 : i32]} : (tensor<2x1x32x1x32xbf16>) -> tensor<64x32xbf16>
// CHECK-NEXT: %[[BGRID:.*]] = "ttnn.zeros"(%{{.*}}) {shape = #ttnn.shape<64x32>}
// One channel tile per shard: the selectors need no widening.
// CHECK-NEXT: %[[SEL:.*]] = "ttnn.constant"(%{{.*}}) {value = dense<"0x{{[0-9A-F]*}}"> : tensor<288x32xf32>}
// CHECK-NEXT: %[[OUT:.*]] = "ttnn.empty"(%{{.*}}) {shape = #ttnn.shape<224x64>} : (!ttnn.device) -> tensor<224x64xbf16>
// CHECK-NEXT: "ttnn.generic"(%[[WINDOWS]], %[[WGRID]], %[[BGRID]], %[[SEL]], %[[OUT]])
// Back: 7 groups x 32 rows -> their 3 pixels and 40 channels -> 21 -> the first 20.
// CHECK-NEXT: %[[ROWS:.*]] = "ttnn.reshape"(%[[OUT]]) {shape = [7 : i32, 32 : i32, 64 : i32]}
// CHECK-NEXT: %[[USED:.*]] = "ttnn.slice_static"(%[[ROWS]]) {begins = [0 : i32, 0 : i32, 0 : i32], ends = [7 : i32, 3 : i32, 40 : i32], step = [1 : i32, 1 : i32, 1 : i32]} : (tensor<7x32x64xbf16>) -> tensor<7x3x40xbf16>
// CHECK-NEXT: %[[ALL:.*]] = "ttnn.reshape"(%[[USED]]) {shape = [21 : i32, 40 : i32]}
// CHECK-NEXT: %[[FIRST:.*]] = "ttnn.slice_static"(%[[ALL]]) {begins = [0 : i32, 0 : i32], ends = [20 : i32, 40 : i32], step = [1 : i32, 1 : i32]} : (tensor<21x40xbf16>) -> tensor<20x40xbf16>
// CHECK-NEXT: %[[Y:.*]] = "ttnn.reshape"(%[[FIRST]]) {shape = [1 : i32, 5 : i32, 4 : i32, 40 : i32]} : (tensor<20x40xbf16>) -> tensor<1x5x4x40xbf16>
// CHECK-NEXT: return %[[Y]]
func.func @strided_dilated(%x: tensor<1x9x11x40xbf16>, %w: tensor<40x1x3x3xbf16>) -> tensor<1x5x4x40xbf16> {
  %0 = "ttir.conv2d"(%x, %w) <{stride = array<i32: 2, 2>, padding = array<i32: 2, 0, 1, 1>, dilation = array<i32: 1, 2>, groups = 40 : i32}> : (tensor<1x9x11x40xbf16>, tensor<40x1x3x3xbf16>) -> tensor<1x5x4x40xbf16>
  return %0 : tensor<1x5x4x40xbf16>
}

// f32: the window planes, grids, zeros and output rows keep the conv's f32 (16 pixels on
// 16 cores, one each: 16 tiles, 512 output rows).
// CHECK-LABEL: func.func @f32_conv
// CHECK: "ttnn.pad"(%arg0) {{.*}} : (tensor<1x4x4x32xf32>) -> tensor<1x6x6x32xf32>
// CHECK: %[[WINDOWS:.*]] = "ttnn.reshape"(%{{.*}}) {shape = [4608 : i32, 32 : i32]} : (tensor<16x9x32x32xf32>) -> tensor<4608x32xf32>
// CHECK: %[[OUT:.*]] = "ttnn.empty"(%{{.*}}) {shape = #ttnn.shape<512x32>} : (!ttnn.device) -> tensor<512x32xf32>
// CHECK-NEXT: "ttnn.generic"(%[[WINDOWS]], %{{.*}}, %{{.*}}, %{{.*}}, %[[OUT]])
// CHECK-SAME: : (tensor<4608x32xf32>, tensor<32x32xf32>, tensor<32x32xf32>, tensor<288x32xf32>, tensor<512x32xf32>) -> ()
func.func @f32_conv(%x: tensor<1x4x4x32xf32>, %w: tensor<32x1x3x3xf32>) -> tensor<1x4x4x32xf32> {
  %0 = "ttir.conv2d"(%x, %w) <{stride = array<i32: 1, 1>, padding = array<i32: 1, 1, 1, 1>, dilation = array<i32: 1, 1>, groups = 32 : i32}> : (tensor<1x4x4x32xf32>, tensor<32x1x3x3xf32>) -> tensor<1x4x4x32xf32>
  return %0 : tensor<1x4x4x32xf32>
}
