// Unparsable input: a located `file:line:col: error:`, exit 1, no traceback.
// RUN: not tt-dw-opt %s --tt-depthwise-to-pool 2>&1 | FileCheck %s
// CHECK: parse_error.mlir:[[@LINE+4]]:{{[0-9]+}}: error:
// CHECK-NOT: Traceback
func.func @broken(%x: tensor<1x8x8x32xbf16>) -> tensor<1x8x8x32xbf16> {
  %0 = "ttir.relu"(%x) : (tensor<1x8x8x32xbf16>) -> tensor<1x8x8x32xbf16>
  %1 = "ttir.relu"(%0 : (tensor<1x8x8x32xbf16>) -> tensor<1x8x8x32xbf16>
  return %1 : tensor<1x8x8x32xbf16>
}
