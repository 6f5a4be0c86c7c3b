// Constant weights and biases (ttir.constant / arith.constant, dense<> or
// dense_resource<>) are folded into a ttir.constant already in the prepared
// layout; the original constant goes away. Values are bf16, little-endian hex.
// RUN: tt-dw-opt %s --split-input-file --tt-depthwise-to-pool="path=pool" | FileCheck %s
// RUN: tt-dw-opt %s --split-input-file --tt-depthwise-to-pool="path=pool weight-dtype=bfp8_b" | FileCheck %s --check-prefix=BFP8
// RUN: tt-dw-opt %s --split-input-file --tt-depthwise-to-pool="path=pool fold=false" | FileCheck %s --check-prefix=NOFOLD

// Splat 2.0 (bf16 0x4000) 3x3 weights, C=32: prepared 1x1x32x32 (K=9 -> 16 rows
// per tile, 1 tile); rows 0-8 (kernel positions) hold 2.0 in all 32 columns,
// rows 9-31 are zero: 9*32 = 288 values 0x4000 then 23*32 = 736 zeros.
// CHECK-LABEL: func.func @splat_ttir_constant
// CHECK-NOT: tensor<32x1x3x3xbf16>
// CHECK: %[[W:.*]] = "ttir.constant"() {value = dense<{{"0x(0040){144}(0040){144}(0000){245}(0000){245}(0000){246}"}}> : tensor<1x1x32x32xbf16>} : () -> tensor<1x1x32x32xbf16>
// CHECK-NOT: prepare_depthwise_pool_weights
// CHECK: "ttnn.depthwise_pool_conv"(%arg0, %[[W]])
// BFP8-LABEL: func.func @splat_ttir_constant
// BFP8: "ttnn.depthwise_pool_conv"
// BFP8-SAME: dtype = "bf16"
// C=32 is one channel tile: one shard of 32 whatever the scheme; K=9 -> R=16, T=1.
// BFP8-SAME: weight_layout = {channel_shards = 1 : i32, channels_per_shard = 32 : i32, cores = {{[0-9]+}} : i32, dtype = "bfp8_b", face_rows_per_position = 2 : i32, grid = array<i32: {{[0-9]+}}, {{[0-9]+}}>, kernel_size = array<i32: 3, 3>, rows_per_tile = 16 : i32, shard_scheme = "{{(height|width|block)}}_sharded", tiles_per_shard = 1 : i32}
// NOFOLD-LABEL: func.func @splat_ttir_constant
// NOFOLD: %[[C:.*]] = "ttir.constant"() {value = dense<2.000000e+00> : tensor<32x1x3x3xbf16>}
// NOFOLD: "ttnn.prepare_depthwise_pool_weights"(%[[C]])
func.func @splat_ttir_constant(%x: tensor<1x8x8x32xbf16>) -> tensor<1x8x8x32xbf16> {
  %w = "ttir.constant"() <{value = dense<2.0> : tensor<32x1x3x3xbf16>}> : () -> tensor<32x1x3x3xbf16>
  %0 = "ttir.conv2d"(%x, %w) <{stride = 1 : i32, padding = 1 : i32, dilation = 1 : i32, groups = 32 : i32}> : (tensor<1x8x8x32xbf16>, tensor<32x1x3x3xbf16>) -> tensor<1x8x8x32xbf16>
  return %0 : tensor<1x8x8x32xbf16>
}

// -----

// Per-element values, quantised to the layout dtype. Row 0 (kernel position 0),
// columns 0..15 form one face row = one block-float exponent block; its max is
// 4.0, so bfp8_b's 7 magnitude bits step by 4/64 = 0.0625 and 1.03125 (16.5
// steps, a tie) rounds to even: 1.0. bf16 keeps 1.03125 (0x3F84).
// CHECK-LABEL: func.func @quantised_values
// CHECK: "ttir.constant"() {value = dense<"0x8040843F0000
// BFP8-LABEL: func.func @quantised_values
// BFP8: "ttir.constant"() {value = dense<"0x8040803F0000
func.func @quantised_values(%x: tensor<1x8x8x32xbf16>) -> tensor<1x8x7x32xbf16> {
  %w = "ttir.constant"() <{value = dense<[[[[4.0, 0.0]]], [[[1.03125, 0.0]]], [[[0.0, 0.0]]], [[[0.0, 0.0]]], [[[0.0, 0.0]]], [[[0.0, 0.0]]], [[[0.0, 0.0]]], [[[0.0, 0.0]]], [[[0.0, 0.0]]], [[[0.0, 0.0]]], [[[0.0, 0.0]]], [[[0.0, 0.0]]], [[[0.0, 0.0]]], [[[0.0, 0.0]]], [[[0.0, 0.0]]], [[[0.0, 0.0]]], [[[0.0, 0.0]]], [[[0.0, 0.0]]], [[[0.0, 0.0]]], [[[0.0, 0.0]]], [[[0.0, 0.0]]], [[[0.0, 0.0]]], [[[0.0, 0.0]]], [[[0.0, 0.0]]], [[[0.0, 0.0]]], [[[0.0, 0.0]]], [[[0.0, 0.0]]], [[[0.0, 0.0]]], [[[0.0, 0.0]]], [[[0.0, 0.0]]], [[[0.0, 0.0]]], [[[0.0, 0.0]]]]> : tensor<32x1x1x2xbf16>}> : () -> tensor<32x1x1x2xbf16>
  %0 = "ttir.conv2d"(%x, %w) <{stride = 1 : i32, padding = 0 : i32, dilation = 1 : i32, groups = 32 : i32}> : (tensor<1x8x8x32xbf16>, tensor<32x1x1x2xbf16>) -> tensor<1x8x7x32xbf16>
  return %0 : tensor<1x8x7x32xbf16>
}

// -----

// dense_resource f32 weights w[c, 0, 0, kw] = (2c + kw) % 4 + 1 and an
// arith.constant splat bias 1.0. Kernel 1x2: row 0 = kw 0 (1, 3, 1, 3, ...),
// row 1 = kw 1 (2, 4, 2, 4, ...); bias in row 0 of its tile.
// CHECK-LABEL: func.func @dense_resource_and_arith_bias
// CHECK-NOT: arith.constant
// CHECK-NOT: dense_resource
// CHECK: %[[W:.*]] = "ttir.constant"() {value = dense<{{"0x(803F4040){16}(00408040){16}(0000){245}(0000){245}(0000){245}(0000){225}"}}> : tensor<1x1x32x32xbf16>} : () -> tensor<1x1x32x32xbf16>
// CHECK: %[[B:.*]] = "ttir.constant"() {value = dense<{{"0x(803F){32}(0000){248}(0000){248}(0000){248}(0000){248}"}}> : tensor<1x1x32x32xbf16>} : () -> tensor<1x1x32x32xbf16>
// CHECK: "ttnn.depthwise_pool_conv"(%arg0, %[[W]], %[[B]])
func.func @dense_resource_and_arith_bias(%x: tensor<1x8x8x32xbf16>) -> tensor<1x8x7x32xbf16> {
  %w = "ttir.constant"() <{value = dense_resource<dw_weight> : tensor<32x1x1x2xf32>}> : () -> tensor<32x1x1x2xf32>
  %b = arith.constant dense<1.0> : tensor<1x1x1x32xbf16>
  %0 = "ttir.conv2d"(%x, %w, %b) <{stride = 1 : i32, padding = 0 : i32, dilation = 1 : i32, groups = 32 : i32}> : (tensor<1x8x8x32xbf16>, tensor<32x1x1x2xf32>, tensor<1x1x1x32xbf16>) -> tensor<1x8x7x32xbf16>
  return %0 : tensor<1x8x7x32xbf16>
}
{-#
  dialect_resources: {
    builtin: {
      dw_weight: "0x040000000000803F0000004000004040000080400000803F0000004000004040000080400000803F0000004000004040000080400000803F0000004000004040000080400000803F0000004000004040000080400000803F0000004000004040000080400000803F0000004000004040000080400000803F0000004000004040000080400000803F0000004000004040000080400000803F0000004000004040000080400000803F0000004000004040000080400000803F0000004000004040000080400000803F0000004000004040000080400000803F0000004000004040000080400000803F0000004000004040000080400000803F000000400000404000008040"
    }
  }
#-}

// -----

// A constant with another user is folded for the conv and kept for the other user.
// CHECK-LABEL: func.func @constant_with_other_user
// CHECK-DAG: %[[ORIG:.*]] = "ttir.constant"() {value = dense<1.000000e+00> : tensor<32x1x3x3xbf16>}
// CHECK-DAG: "ttir.constant"() {value = dense<"0x{{[0-9A-F]+}}"> : tensor<1x1x32x32xbf16>} : () -> tensor<1x1x32x32xbf16>
// CHECK: return %{{.*}}, %[[ORIG]]
func.func @constant_with_other_user(%x: tensor<1x8x8x32xbf16>) -> (tensor<1x8x8x32xbf16>, tensor<32x1x3x3xbf16>) {
  %w = "ttir.constant"() <{value = dense<1.0> : tensor<32x1x3x3xbf16>}> : () -> tensor<32x1x3x3xbf16>
  %0 = "ttir.conv2d"(%x, %w) <{stride = 1 : i32, padding = 1 : i32, dilation = 1 : i32, groups = 32 : i32}> : (tensor<1x8x8x32xbf16>, tensor<32x1x3x3xbf16>) -> tensor<1x8x8x32xbf16>
  return %0, %w : tensor<1x8x8x32xbf16>, tensor<32x1x3x3xbf16>
}

