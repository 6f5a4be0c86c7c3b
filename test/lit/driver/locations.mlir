// Diagnostics point at file:line:col even where ops carry name locations (as
// frontends write them) and the input has no explicit module. TTIR padding is
// [pT, pL, pB, pR]: [1, 0, 1, 0] pads H only, so a 3x3 kernel takes W from 8 to 6.
// RUN: not tt-dw-opt %s 2>&1 | FileCheck %s
// RUN: tt-dw-opt %s --split-input-file --verify-diagnostics

// CHECK: locations.mlir:[[# @LINE + 4]]:8: error: 'ttir.conv2d' op result shape (NHWC) [1, 8, 8, 32] does not match the conv shape [1, 8, 6, 32]
// CHECK-NOT: Traceback
func.func @named_conv(%x: tensor<1x8x8x32xbf16>, %w: tensor<32x1x3x3xbf16>) -> tensor<1x8x8x32xbf16> {
  // expected-error@+1 {{result shape (NHWC) [1, 8, 8, 32] does not match the conv shape [1, 8, 6, 32]}}
  %0 = "ttir.conv2d"(%x, %w) <{stride = 1 : i32, padding = array<i32: 1, 0, 1, 0>, dilation = 1 : i32, groups = 32 : i32}> : (tensor<1x8x8x32xbf16>, tensor<32x1x3x3xbf16>) -> tensor<1x8x8x32xbf16> loc("features.3.conv.1.0")
  return %0 : tensor<1x8x8x32xbf16>
}
