// path=matmul forces the grouped-conv matmul path: every depthwise conv stays.
// RUN: tt-dw-opt %s --verify-diagnostics --tt-depthwise-to-pool="path=matmul" | FileCheck %s
// --tt-dw-remarks none silences the remark; without --verify-diagnostics
// remarks go to stderr, which must then be empty.
// RUN: tt-dw-opt %s --tt-dw-remarks none --tt-depthwise-to-pool="path=matmul" 2>&1 | FileCheck %s --check-prefix=QUIET
// RUN: tt-dw-opt %s --tt-depthwise-to-pool="path=matmul" 2>&1 >/dev/null | FileCheck %s --check-prefix=STDERR

// CHECK-LABEL: func.func @dw
// CHECK: "ttir.conv2d"
// CHECK-NOT: ttnn.
// QUIET-NOT: remark
// QUIET: "ttir.conv2d"
// QUIET-NOT: remark
// STDERR: rejection_path_matmul.mlir:[[@LINE+3]]:{{[0-9]+}}: remark: depthwise-to-pool: conv not converted: path=matmul forces the grouped-conv matmul path
func.func @dw(%x: tensor<1x56x56x64xbf16>, %w: tensor<64x1x3x3xbf16>) -> tensor<1x56x56x64xbf16> {
  // expected-remark@+1 {{conv not converted: path=matmul forces the grouped-conv matmul path}}
  %0 = "ttir.conv2d"(%x, %w) <{stride = 1 : i32, padding = 1 : i32, dilation = 1 : i32, groups = 64 : i32}> : (tensor<1x56x56x64xbf16>, tensor<64x1x3x3xbf16>) -> tensor<1x56x56x64xbf16>
  return %0 : tensor<1x56x56x64xbf16>
}
