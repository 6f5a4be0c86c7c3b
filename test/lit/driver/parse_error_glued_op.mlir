// An op name glued after a type (a mutant of benchmarks/fuzz_long.py) fails inside the
// IRDL dialect's parser with no diagnostic of its own: the driver still points at it.
// RUN: not tt-dw-opt %s 2>&1 | FileCheck %s
// CHECK-NOT: Traceback
// CHECK: parse_error_glued_op.mlir:[[@LINE+3]]:28: error: unexpected custom op 'ttir.relu' here
// CHECK-NOT: 0:0
func.func @glued(%x: tensor<2xf32>) -> tensor<2xf32> {
  return %x : tensor<2xf32>ttir.relu
}
