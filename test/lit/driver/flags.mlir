// Driver flags users reach for (issue 12), each checked against what it must print.
// RUN: tt-dw-opt --version | FileCheck %s --check-prefix=VERSION
// VERSION: tt-dw-opt (tt-dw-mlir {{[0-9]+\.[0-9]+}}
// VERSION-NEXT: MLIR bindings:

// Large elements attributes are elided, small ones kept.
// RUN: tt-dw-opt %s --mlir-elide-elementsattrs-if-larger=4 | FileCheck %s --check-prefix=ELIDE
// ELIDE-LABEL: func.func @constants
// ELIDE: "ttir.constant"() {value = dense_resource<__elided__> : tensor<2x3xbf16>}
// ELIDE: "ttir.constant"() {value = dense<[1.000000e+00, 2.000000e+00]> : tensor<2xbf16>}
// RUN: not tt-dw-opt %s --mlir-elide-elementsattrs-if-larger=-1 2>&1 | FileCheck %s --check-prefix=ELIDE-BAD
// ELIDE-BAD: error: --mlir-elide-elementsattrs-if-larger needs N >= 0

// Pass timing: MLIR's report names our passes; the driver adds its own phases.
// RUN: tt-dw-opt %s --tt-depthwise-pool-pipeline --mlir-timing -o /dev/null 2>&1 | FileCheck %s --check-prefix=TIMING
// TIMING: ... Execution time report ...
// TIMING: DepthwiseToPool
// TIMING: DepthwisePoolToKernels
// TIMING: Canonicalizer
// TIMING: ... tt-dw-opt execution time report ...
// TIMING: Parser
// TIMING-NEXT: Pipeline
// TIMING-NEXT: Output
// TIMING-NEXT: (100.0%)  Total

// Pass statistics: upstream passes report theirs (CSE counts the duplicate arith.constant
// it removed; the IRDL ops are not marked pure, so it leaves the ttir.constants).
// RUN: tt-dw-opt %s --tt-depthwise-to-pool --cse --mlir-pass-statistics -o /dev/null 2>&1 | FileCheck %s --check-prefix=STATS
// STATS: ... Pass statistics report ...
// STATS: DepthwiseToPool
// STATS: CSE
// STATS-NEXT: (S) {{[1-9][0-9]*}} num-cse'd

func.func @constants() -> (tensor<2x3xbf16>, tensor<2xbf16>, tensor<2xbf16>) {
  %0 = "ttir.constant"() <{value = dense<[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]> : tensor<2x3xbf16>}> : () -> tensor<2x3xbf16>
  %1 = "ttir.constant"() <{value = dense<[1.0, 2.0]> : tensor<2xbf16>}> : () -> tensor<2xbf16>
  %2 = "ttir.constant"() <{value = dense<[1.0, 2.0]> : tensor<2xbf16>}> : () -> tensor<2xbf16>
  return %0, %1, %2 : tensor<2x3xbf16>, tensor<2xbf16>, tensor<2xbf16>
}

func.func @duplicates() -> (i32, i32) {
  %0 = arith.constant 1 : i32
  %1 = arith.constant 1 : i32
  return %0, %1 : i32, i32
}
