// --pass-pipeline mixes our pass with upstream canonicalize and cse; pass
// flags run in the order given.
// RUN: tt-dw-opt %s --pass-pipeline="builtin.module(tt-depthwise-to-pool{path=pool}, canonicalize, cse)" | FileCheck %s
// RUN: tt-dw-opt %s --tt-depthwise-to-pool="path=pool" --canonicalize --cse | FileCheck %s
// RUN: tt-dw-opt %s --pass-pipeline="builtin.module(cse, func.func(canonicalize), tt-depthwise-to-pool{path=pool})" | FileCheck %s
// Our pass alone: the duplicate and the dead constant stay.
// RUN: tt-dw-opt %s --tt-depthwise-to-pool="path=pool" | FileCheck %s --check-prefix=ALONE

// CHECK-LABEL: func.func @mixed
// CHECK: %[[C:.*]] = arith.constant dense<1.000000e+00> : tensor<4xf32>
// CHECK-NOT: arith.constant
// CHECK: "ttnn.depthwise_pool_conv"
// CHECK: "other.use"(%[[C]], %[[C]])
// ALONE-COUNT-3: arith.constant
// ALONE: "ttnn.depthwise_pool_conv"
func.func @mixed(%x: tensor<1x8x8x32xbf16>, %w: tensor<32x1x3x3xbf16>) -> tensor<1x8x8x32xbf16> {
  %dead = arith.constant dense<2.0> : tensor<4xf32>
  %c0 = arith.constant dense<1.0> : tensor<4xf32>
  %c1 = arith.constant dense<1.0> : tensor<4xf32>
  %0 = "ttir.conv2d"(%x, %w) <{stride = 1 : i32, padding = 1 : i32, dilation = 1 : i32, groups = 32 : i32}> : (tensor<1x8x8x32xbf16>, tensor<32x1x3x3xbf16>) -> tensor<1x8x8x32xbf16>
  "other.use"(%c0, %c1) : (tensor<4xf32>, tensor<4xf32>) -> ()
  return %0 : tensor<1x8x8x32xbf16>
}
