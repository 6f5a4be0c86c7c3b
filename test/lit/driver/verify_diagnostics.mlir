// --verify-diagnostics fails (exit 1) on an expectation that is not met and on
// a diagnostic that was not expected, naming each.
// RUN: not tt-dw-opt %s --split-input-file --verify-diagnostics --tt-depthwise-to-pool="path=pool" 2>&1 | FileCheck %s

// CHECK-DAG: verify_diagnostics.mlir:[[@LINE+2]]:1: error: expected remark "this is never emitted" was not produced
func.func @unmet(%x: tensor<1x8x8x32xbf16>) -> tensor<1x8x8x32xbf16> {
  // expected-remark@+1 {{this is never emitted}}
  %0 = "ttir.relu"(%x) : (tensor<1x8x8x32xbf16>) -> tensor<1x8x8x32xbf16>
  return %0 : tensor<1x8x8x32xbf16>
}

// -----

// CHECK-DAG: verify_diagnostics.mlir:[[@LINE+2]]:{{[0-9]+}}: error: unexpected remark: depthwise-to-pool: conv not converted: grouped conv with 8 groups
func.func @unexpected(%x: tensor<1x8x8x32xbf16>, %w: tensor<32x4x1x1xbf16>) -> tensor<1x8x8x32xbf16> {
  %0 = "ttir.conv2d"(%x, %w) <{stride = 1 : i32, padding = 0 : i32, dilation = 1 : i32, groups = 8 : i32}> : (tensor<1x8x8x32xbf16>, tensor<32x4x1x1xbf16>) -> tensor<1x8x8x32xbf16>
  return %0 : tensor<1x8x8x32xbf16>
}
