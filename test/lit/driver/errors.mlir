// Driver errors: a message, exit 1, never a Python traceback.
// RUN: not tt-dw-opt %S/does-not-exist.mlir --tt-depthwise-to-pool 2>&1 | FileCheck %s --check-prefix=MISSING
// MISSING: tt-dw-opt: error: could not open input file '{{.*}}does-not-exist.mlir': No such file or directory
// MISSING-NOT: Traceback

// RUN: not tt-dw-opt %s --no-such-pass 2>&1 | FileCheck %s --check-prefix=UNKNOWN
// UNKNOWN: error: invalid pass pipeline: {{.*}}'no-such-pass' does not refer to a registered pass
// UNKNOWN-NOT: Traceback

// RUN: not tt-dw-opt %s --tt-depthwise-to-pool="device=h100" 2>&1 | FileCheck %s --check-prefix=BADVALUE
// BADVALUE: error: invalid pass pipeline: option 'device' takes one of n150, p150, p150_13x10, got 'h100'
// BADVALUE-NOT: Traceback

// RUN: not tt-dw-opt %s --tt-depthwise-to-pool="weight-dtype=fp8" 2>&1 | FileCheck %s --check-prefix=BADDTYPE
// BADDTYPE: error: invalid pass pipeline: option 'weight-dtype' takes one of auto, bf16, bfp8_b, bfp4_b, f32, f16, got 'fp8'

// RUN: not tt-dw-opt %s --tt-depthwise-to-pool="bogus=1" 2>&1 | FileCheck %s --check-prefix=BADOPTION
// BADOPTION: error: invalid pass pipeline: unknown pass option 'bogus=1'

// RUN: not tt-dw-opt %s --pass-pipeline="builtin.module(tt-depthwise-to-pool" 2>&1 | FileCheck %s --check-prefix=MALFORMED
// MALFORMED: error: invalid pass pipeline
// MALFORMED-NOT: Traceback

// RUN: not tt-dw-opt %s --pass-pipeline="builtin.module(cse)" --canonicalize 2>&1 | FileCheck %s --check-prefix=BOTH
// BOTH: error: give either --pass-pipeline or pass flags, not both

func.func @f(%x: tensor<1x8x8x32xbf16>) -> tensor<1x8x8x32xbf16> {
  return %x : tensor<1x8x8x32xbf16>
}
