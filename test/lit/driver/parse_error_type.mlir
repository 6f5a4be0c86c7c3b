// An undefined value and a mistyped return are located errors too.
// RUN: not tt-dw-opt %s --split-input-file 2>&1 | FileCheck %s
// CHECK-NOT: Traceback
// CHECK: parse_error_type.mlir:[[@LINE+3]]:{{[0-9]+}}: error: use of undeclared SSA value name
// CHECK-NOT: Traceback
func.func @undefined(%x: tensor<1x8x8x32xbf16>) -> tensor<1x8x8x32xbf16> {
  %0 = "ttir.relu"(%y) : (tensor<1x8x8x32xbf16>) -> tensor<1x8x8x32xbf16>
  return %0 : tensor<1x8x8x32xbf16>
}
