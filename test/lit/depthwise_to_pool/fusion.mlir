// A following bias add and activation are fused when each is the only user of
// the value before it; anything with another user stays a separate op.
// RUN: tt-dw-opt %s --tt-depthwise-to-pool="path=pool" | FileCheck %s

// CHECK-LABEL: func.func @add_bias_4d
// CHECK-NOT: ttir.add
// CHECK: %[[PB:.*]] = "ttnn.prepare_depthwise_pool_bias"(%arg2)
// CHECK-SAME: (tensor<1x1x1x32xbf16>) -> tensor<1x1x32x32xbf16>
// CHECK: %[[Y:.*]] = "ttnn.depthwise_pool_conv"(%arg0, %{{[^,]*}}, %[[PB]]) {activation = "none"
// CHECK-NEXT: return %[[Y]]
func.func @add_bias_4d(%x: tensor<1x16x16x32xbf16>, %w: tensor<32x1x3x3xbf16>, %b: tensor<1x1x1x32xbf16>) -> tensor<1x16x16x32xbf16> {
  %0 = "ttir.conv2d"(%x, %w) <{stride = 1 : i32, padding = 1 : i32, dilation = 1 : i32, groups = 32 : i32}> : (tensor<1x16x16x32xbf16>, tensor<32x1x3x3xbf16>) -> tensor<1x16x16x32xbf16>
  %1 = "ttir.add"(%0, %b) : (tensor<1x16x16x32xbf16>, tensor<1x1x1x32xbf16>) -> tensor<1x16x16x32xbf16>
  return %1 : tensor<1x16x16x32xbf16>
}

// Bias as the first add operand, 1-D.
// CHECK-LABEL: func.func @add_bias_1d_lhs
// CHECK-NOT: ttir.add
// CHECK: "ttnn.prepare_depthwise_pool_bias"(%arg2)
// CHECK-SAME: (tensor<32xbf16>) -> tensor<1x1x32x32xbf16>
func.func @add_bias_1d_lhs(%x: tensor<1x16x16x32xbf16>, %w: tensor<32x1x3x3xbf16>, %b: tensor<32xbf16>) -> tensor<1x16x16x32xbf16> {
  %0 = "ttir.conv2d"(%x, %w) <{stride = 1 : i32, padding = 1 : i32, dilation = 1 : i32, groups = 32 : i32}> : (tensor<1x16x16x32xbf16>, tensor<32x1x3x3xbf16>) -> tensor<1x16x16x32xbf16>
  %1 = "ttir.add"(%b, %0) : (tensor<32xbf16>, tensor<1x16x16x32xbf16>) -> tensor<1x16x16x32xbf16>
  return %1 : tensor<1x16x16x32xbf16>
}

// Add + relu: both fused.
// CHECK-LABEL: func.func @add_then_relu
// CHECK-NOT: ttir.add
// CHECK-NOT: ttir.relu
// CHECK: "ttnn.depthwise_pool_conv"(%arg0, %{{[^,]*}}, %{{[^)]*}}) {activation = "relu"
func.func @add_then_relu(%x: tensor<1x16x16x32xbf16>, %w: tensor<32x1x3x3xbf16>, %b: tensor<1x1x1x32xbf16>) -> tensor<1x16x16x32xbf16> {
  %0 = "ttir.conv2d"(%x, %w) <{stride = 1 : i32, padding = 1 : i32, dilation = 1 : i32, groups = 32 : i32}> : (tensor<1x16x16x32xbf16>, tensor<32x1x3x3xbf16>) -> tensor<1x16x16x32xbf16>
  %1 = "ttir.add"(%0, %b) : (tensor<1x16x16x32xbf16>, tensor<1x1x1x32xbf16>) -> tensor<1x16x16x32xbf16>
  %2 = "ttir.relu"(%1) : (tensor<1x16x16x32xbf16>) -> tensor<1x16x16x32xbf16>
  return %2 : tensor<1x16x16x32xbf16>
}

// The conv already has a bias: the added bias is summed with it, as tt-mlir's
// ConvAddBias does (TTIRFusing.cpp: conv(x, w, b1) + b2 -> conv(x, w, b1 + b2)).
// CHECK-LABEL: func.func @add_after_biased_conv
// CHECK: %[[S:.*]] = "ttir.add"(%arg2, %arg3) : (tensor<1x1x1x32xbf16>, tensor<1x1x1x32xbf16>) -> tensor<1x1x1x32xbf16>
// CHECK: %[[PB:.*]] = "ttnn.prepare_depthwise_pool_bias"(%[[S]])
// CHECK: %[[Y:.*]] = "ttnn.depthwise_pool_conv"(%arg0, %{{[^,]*}}, %[[PB]]) {activation = "none"
// CHECK-NEXT: return %[[Y]]
func.func @add_after_biased_conv(%x: tensor<1x16x16x32xbf16>, %w: tensor<32x1x3x3xbf16>, %b: tensor<1x1x1x32xbf16>, %b2: tensor<1x1x1x32xbf16>) -> tensor<1x16x16x32xbf16> {
  %0 = "ttir.conv2d"(%x, %w, %b) <{stride = 1 : i32, padding = 1 : i32, dilation = 1 : i32, groups = 32 : i32}> : (tensor<1x16x16x32xbf16>, tensor<32x1x3x3xbf16>, tensor<1x1x1x32xbf16>) -> tensor<1x16x16x32xbf16>
  %1 = "ttir.add"(%0, %b2) : (tensor<1x16x16x32xbf16>, tensor<1x1x1x32xbf16>) -> tensor<1x16x16x32xbf16>
  return %1 : tensor<1x16x16x32xbf16>
}

// An add of a full tensor (a residual) is not a bias.
// CHECK-LABEL: func.func @residual_add_not_fused
// CHECK-NOT: prepare_depthwise_pool_bias
// CHECK: %[[Y:.*]] = "ttnn.depthwise_pool_conv"
// CHECK: "ttir.add"(%[[Y]], %arg0)
func.func @residual_add_not_fused(%x: tensor<1x16x16x32xbf16>, %w: tensor<32x1x3x3xbf16>) -> tensor<1x16x16x32xbf16> {
  %0 = "ttir.conv2d"(%x, %w) <{stride = 1 : i32, padding = 1 : i32, dilation = 1 : i32, groups = 32 : i32}> : (tensor<1x16x16x32xbf16>, tensor<32x1x3x3xbf16>) -> tensor<1x16x16x32xbf16>
  %1 = "ttir.add"(%0, %x) : (tensor<1x16x16x32xbf16>, tensor<1x16x16x32xbf16>) -> tensor<1x16x16x32xbf16>
  return %1 : tensor<1x16x16x32xbf16>
}

// CHECK-LABEL: func.func @relu
// CHECK-NOT: ttir.relu
// CHECK: "ttnn.depthwise_pool_conv"{{.*}}activation = "relu"
func.func @relu(%x: tensor<1x16x16x32xbf16>, %w: tensor<32x1x3x3xbf16>) -> tensor<1x16x16x32xbf16> {
  %0 = "ttir.conv2d"(%x, %w) <{stride = 1 : i32, padding = 1 : i32, dilation = 1 : i32, groups = 32 : i32}> : (tensor<1x16x16x32xbf16>, tensor<32x1x3x3xbf16>) -> tensor<1x16x16x32xbf16>
  %1 = "ttir.relu"(%0) : (tensor<1x16x16x32xbf16>) -> tensor<1x16x16x32xbf16>
  return %1 : tensor<1x16x16x32xbf16>
}

// CHECK-LABEL: func.func @relu6
// CHECK-NOT: ttir.relu6
// CHECK: "ttnn.depthwise_pool_conv"{{.*}}activation = "relu6"
func.func @relu6(%x: tensor<1x16x16x32xbf16>, %w: tensor<32x1x3x3xbf16>) -> tensor<1x16x16x32xbf16> {
  %0 = "ttir.conv2d"(%x, %w) <{stride = 1 : i32, padding = 1 : i32, dilation = 1 : i32, groups = 32 : i32}> : (tensor<1x16x16x32xbf16>, tensor<32x1x3x3xbf16>) -> tensor<1x16x16x32xbf16>
  %1 = "ttir.relu6"(%0) : (tensor<1x16x16x32xbf16>) -> tensor<1x16x16x32xbf16>
  return %1 : tensor<1x16x16x32xbf16>
}

// relu6 as frontends often emit it: clamp_scalar(min 0, max 6).
// CHECK-LABEL: func.func @relu6_as_clamp
// CHECK-NOT: ttir.clamp_scalar
// CHECK: "ttnn.depthwise_pool_conv"{{.*}}activation = "relu6"
func.func @relu6_as_clamp(%x: tensor<1x16x16x32xbf16>, %w: tensor<32x1x3x3xbf16>) -> tensor<1x16x16x32xbf16> {
  %0 = "ttir.conv2d"(%x, %w) <{stride = 1 : i32, padding = 1 : i32, dilation = 1 : i32, groups = 32 : i32}> : (tensor<1x16x16x32xbf16>, tensor<32x1x3x3xbf16>) -> tensor<1x16x16x32xbf16>
  %1 = "ttir.clamp_scalar"(%0) <{min = 0.000000e+00 : f32, max = 6.000000e+00 : f32}> : (tensor<1x16x16x32xbf16>) -> tensor<1x16x16x32xbf16>
  return %1 : tensor<1x16x16x32xbf16>
}

// A clamp that is not [0, 6] stays.
// CHECK-LABEL: func.func @clamp_not_relu6
// CHECK: "ttnn.depthwise_pool_conv"{{.*}}activation = "none"
// CHECK: "ttir.clamp_scalar"
func.func @clamp_not_relu6(%x: tensor<1x16x16x32xbf16>, %w: tensor<32x1x3x3xbf16>) -> tensor<1x16x16x32xbf16> {
  %0 = "ttir.conv2d"(%x, %w) <{stride = 1 : i32, padding = 1 : i32, dilation = 1 : i32, groups = 32 : i32}> : (tensor<1x16x16x32xbf16>, tensor<32x1x3x3xbf16>) -> tensor<1x16x16x32xbf16>
  %1 = "ttir.clamp_scalar"(%0) <{min = -1.000000e+00 : f32, max = 6.000000e+00 : f32}> : (tensor<1x16x16x32xbf16>) -> tensor<1x16x16x32xbf16>
  return %1 : tensor<1x16x16x32xbf16>
}

// CHECK-LABEL: func.func @gelu
// CHECK-NOT: ttir.gelu
// CHECK: "ttnn.depthwise_pool_conv"{{.*}}activation = "gelu"
func.func @gelu(%x: tensor<1x16x16x32xbf16>, %w: tensor<32x1x3x3xbf16>) -> tensor<1x16x16x32xbf16> {
  %0 = "ttir.conv2d"(%x, %w) <{stride = 1 : i32, padding = 1 : i32, dilation = 1 : i32, groups = 32 : i32}> : (tensor<1x16x16x32xbf16>, tensor<32x1x3x3xbf16>) -> tensor<1x16x16x32xbf16>
  %1 = "ttir.gelu"(%0) : (tensor<1x16x16x32xbf16>) -> tensor<1x16x16x32xbf16>
  return %1 : tensor<1x16x16x32xbf16>
}

// CHECK-LABEL: func.func @silu
// CHECK-NOT: ttir.silu
// CHECK: "ttnn.depthwise_pool_conv"{{.*}}activation = "silu"
func.func @silu(%x: tensor<1x16x16x32xbf16>, %w: tensor<32x1x3x3xbf16>) -> tensor<1x16x16x32xbf16> {
  %0 = "ttir.conv2d"(%x, %w) <{stride = 1 : i32, padding = 1 : i32, dilation = 1 : i32, groups = 32 : i32}> : (tensor<1x16x16x32xbf16>, tensor<32x1x3x3xbf16>) -> tensor<1x16x16x32xbf16>
  %1 = "ttir.silu"(%0) : (tensor<1x16x16x32xbf16>) -> tensor<1x16x16x32xbf16>
  return %1 : tensor<1x16x16x32xbf16>
}

// silu written as x * sigmoid(x), either operand order.
// CHECK-LABEL: func.func @sigmoid_multiply_is_silu
// CHECK-NOT: ttir.sigmoid
// CHECK-NOT: ttir.multiply
// CHECK: %[[Y:.*]] = "ttnn.depthwise_pool_conv"{{.*}}activation = "silu"
// CHECK-NEXT: return %[[Y]]
func.func @sigmoid_multiply_is_silu(%x: tensor<1x16x16x32xbf16>, %w: tensor<32x1x3x3xbf16>) -> tensor<1x16x16x32xbf16> {
  %0 = "ttir.conv2d"(%x, %w) <{stride = 1 : i32, padding = 1 : i32, dilation = 1 : i32, groups = 32 : i32}> : (tensor<1x16x16x32xbf16>, tensor<32x1x3x3xbf16>) -> tensor<1x16x16x32xbf16>
  %1 = "ttir.sigmoid"(%0) : (tensor<1x16x16x32xbf16>) -> tensor<1x16x16x32xbf16>
  %2 = "ttir.multiply"(%0, %1) : (tensor<1x16x16x32xbf16>, tensor<1x16x16x32xbf16>) -> tensor<1x16x16x32xbf16>
  return %2 : tensor<1x16x16x32xbf16>
}

// CHECK-LABEL: func.func @sigmoid_multiply_swapped
// CHECK-NOT: ttir.multiply
// CHECK: "ttnn.depthwise_pool_conv"{{.*}}activation = "silu"
func.func @sigmoid_multiply_swapped(%x: tensor<1x16x16x32xbf16>, %w: tensor<32x1x3x3xbf16>) -> tensor<1x16x16x32xbf16> {
  %0 = "ttir.conv2d"(%x, %w) <{stride = 1 : i32, padding = 1 : i32, dilation = 1 : i32, groups = 32 : i32}> : (tensor<1x16x16x32xbf16>, tensor<32x1x3x3xbf16>) -> tensor<1x16x16x32xbf16>
  %1 = "ttir.sigmoid"(%0) : (tensor<1x16x16x32xbf16>) -> tensor<1x16x16x32xbf16>
  %2 = "ttir.multiply"(%1, %0) : (tensor<1x16x16x32xbf16>, tensor<1x16x16x32xbf16>) -> tensor<1x16x16x32xbf16>
  return %2 : tensor<1x16x16x32xbf16>
}

// Sigmoid alone is not fused (not an activation the kernels take).
// CHECK-LABEL: func.func @sigmoid_alone
// CHECK: %[[Y:.*]] = "ttnn.depthwise_pool_conv"{{.*}}activation = "none"
// CHECK: "ttir.sigmoid"(%[[Y]])
func.func @sigmoid_alone(%x: tensor<1x16x16x32xbf16>, %w: tensor<32x1x3x3xbf16>) -> tensor<1x16x16x32xbf16> {
  %0 = "ttir.conv2d"(%x, %w) <{stride = 1 : i32, padding = 1 : i32, dilation = 1 : i32, groups = 32 : i32}> : (tensor<1x16x16x32xbf16>, tensor<32x1x3x3xbf16>) -> tensor<1x16x16x32xbf16>
  %1 = "ttir.sigmoid"(%0) : (tensor<1x16x16x32xbf16>) -> tensor<1x16x16x32xbf16>
  return %1 : tensor<1x16x16x32xbf16>
}

// The conv result has a second user: the relu stays, the conv still converts.
// CHECK-LABEL: func.func @relu_conv_has_other_user
// CHECK: %[[Y:.*]] = "ttnn.depthwise_pool_conv"{{.*}}activation = "none"
// CHECK: "ttir.relu"(%[[Y]])
// CHECK: return %{{.*}}, %[[Y]]
func.func @relu_conv_has_other_user(%x: tensor<1x16x16x32xbf16>, %w: tensor<32x1x3x3xbf16>) -> (tensor<1x16x16x32xbf16>, tensor<1x16x16x32xbf16>) {
  %0 = "ttir.conv2d"(%x, %w) <{stride = 1 : i32, padding = 1 : i32, dilation = 1 : i32, groups = 32 : i32}> : (tensor<1x16x16x32xbf16>, tensor<32x1x3x3xbf16>) -> tensor<1x16x16x32xbf16>
  %1 = "ttir.relu"(%0) : (tensor<1x16x16x32xbf16>) -> tensor<1x16x16x32xbf16>
  return %1, %0 : tensor<1x16x16x32xbf16>, tensor<1x16x16x32xbf16>
}

// The conv result feeds the bias add and something else: nothing is fused.
// CHECK-LABEL: func.func @add_conv_has_other_user
// CHECK-NOT: prepare_depthwise_pool_bias
// CHECK: %[[Y:.*]] = "ttnn.depthwise_pool_conv"{{.*}}activation = "none"
// CHECK: "ttir.add"(%[[Y]], %arg2)
// CHECK: "ttir.relu"(%[[Y]])
func.func @add_conv_has_other_user(%x: tensor<1x16x16x32xbf16>, %w: tensor<32x1x3x3xbf16>, %b: tensor<1x1x1x32xbf16>) -> (tensor<1x16x16x32xbf16>, tensor<1x16x16x32xbf16>) {
  %0 = "ttir.conv2d"(%x, %w) <{stride = 1 : i32, padding = 1 : i32, dilation = 1 : i32, groups = 32 : i32}> : (tensor<1x16x16x32xbf16>, tensor<32x1x3x3xbf16>) -> tensor<1x16x16x32xbf16>
  %1 = "ttir.add"(%0, %b) : (tensor<1x16x16x32xbf16>, tensor<1x1x1x32xbf16>) -> tensor<1x16x16x32xbf16>
  %2 = "ttir.relu"(%0) : (tensor<1x16x16x32xbf16>) -> tensor<1x16x16x32xbf16>
  return %1, %2 : tensor<1x16x16x32xbf16>, tensor<1x16x16x32xbf16>
}

// The add result has a second user: the add is fused, the relu is not.
// CHECK-LABEL: func.func @relu_add_has_other_user
// CHECK-NOT: ttir.add
// CHECK: %[[Y:.*]] = "ttnn.depthwise_pool_conv"{{.*}}activation = "none"
// CHECK: "ttir.relu"(%[[Y]])
func.func @relu_add_has_other_user(%x: tensor<1x16x16x32xbf16>, %w: tensor<32x1x3x3xbf16>, %b: tensor<1x1x1x32xbf16>) -> (tensor<1x16x16x32xbf16>, tensor<1x16x16x32xbf16>) {
  %0 = "ttir.conv2d"(%x, %w) <{stride = 1 : i32, padding = 1 : i32, dilation = 1 : i32, groups = 32 : i32}> : (tensor<1x16x16x32xbf16>, tensor<32x1x3x3xbf16>) -> tensor<1x16x16x32xbf16>
  %1 = "ttir.add"(%0, %b) : (tensor<1x16x16x32xbf16>, tensor<1x1x1x32xbf16>) -> tensor<1x16x16x32xbf16>
  %2 = "ttir.relu"(%1) : (tensor<1x16x16x32xbf16>) -> tensor<1x16x16x32xbf16>
  return %1, %2 : tensor<1x16x16x32xbf16>, tensor<1x16x16x32xbf16>
}

// The sigmoid has another user: not a silu pair.
// CHECK-LABEL: func.func @sigmoid_has_other_user
// CHECK: "ttnn.depthwise_pool_conv"{{.*}}activation = "none"
// CHECK: "ttir.sigmoid"
// CHECK: "ttir.multiply"
func.func @sigmoid_has_other_user(%x: tensor<1x16x16x32xbf16>, %w: tensor<32x1x3x3xbf16>) -> (tensor<1x16x16x32xbf16>, tensor<1x16x16x32xbf16>) {
  %0 = "ttir.conv2d"(%x, %w) <{stride = 1 : i32, padding = 1 : i32, dilation = 1 : i32, groups = 32 : i32}> : (tensor<1x16x16x32xbf16>, tensor<32x1x3x3xbf16>) -> tensor<1x16x16x32xbf16>
  %1 = "ttir.sigmoid"(%0) : (tensor<1x16x16x32xbf16>) -> tensor<1x16x16x32xbf16>
  %2 = "ttir.multiply"(%0, %1) : (tensor<1x16x16x32xbf16>, tensor<1x16x16x32xbf16>) -> tensor<1x16x16x32xbf16>
  return %2, %1 : tensor<1x16x16x32xbf16>, tensor<1x16x16x32xbf16>
}

// A conv with its own bias still fuses the add and the relu after it.
// CHECK-LABEL: func.func @biased_conv_add_relu
// CHECK-NOT: ttir.relu
// CHECK: "ttir.add"(%arg2, %arg3)
// CHECK: %[[Y:.*]] = "ttnn.depthwise_pool_conv"{{.*}}activation = "relu"
// CHECK-NEXT: return %[[Y]]
func.func @biased_conv_add_relu(%x: tensor<1x16x16x32xbf16>, %w: tensor<32x1x3x3xbf16>, %b: tensor<1x1x1x32xbf16>, %b2: tensor<1x1x1x32xbf16>) -> tensor<1x16x16x32xbf16> {
  %0 = "ttir.conv2d"(%x, %w, %b) <{stride = 1 : i32, padding = 1 : i32, dilation = 1 : i32, groups = 32 : i32}> : (tensor<1x16x16x32xbf16>, tensor<32x1x3x3xbf16>, tensor<1x1x1x32xbf16>) -> tensor<1x16x16x32xbf16>
  %1 = "ttir.add"(%0, %b2) : (tensor<1x16x16x32xbf16>, tensor<1x1x1x32xbf16>) -> tensor<1x16x16x32xbf16>
  %2 = "ttir.relu"(%1) : (tensor<1x16x16x32xbf16>) -> tensor<1x16x16x32xbf16>
  return %2 : tensor<1x16x16x32xbf16>
}

// tt-xla's form (as in tt-mlir test/ttmlir/Dialect/TTIR/fusing/convolution_bias_fusing.mlir):
// the 1-D bias is reshaped to 1x1x1xC and broadcast to the conv's shape before the add.
// The broadcast and the add go; the reshape feeds the prepared bias.
// CHECK-LABEL: func.func @reshape_broadcast_add
// CHECK-NOT: ttir.broadcast
// CHECK-NOT: ttir.add
// CHECK: %[[R:.*]] = "ttir.reshape"(%arg2)
// CHECK: %[[PB:.*]] = "ttnn.prepare_depthwise_pool_bias"(%[[R]])
// CHECK: %[[Y:.*]] = "ttnn.depthwise_pool_conv"(%arg0, %{{[^,]*}}, %[[PB]]) {activation = "relu6"
// CHECK-NEXT: return %[[Y]]
func.func @reshape_broadcast_add(%x: tensor<1x16x16x32xbf16>, %w: tensor<32x1x3x3xbf16>, %b: tensor<32xbf16>) -> tensor<1x16x16x32xbf16> {
  %0 = "ttir.conv2d"(%x, %w) <{stride = array<i32: 1, 1>, padding = array<i32: 1, 1, 1, 1>, dilation = array<i32: 1, 1>, groups = 32 : i32}> : (tensor<1x16x16x32xbf16>, tensor<32x1x3x3xbf16>) -> tensor<1x16x16x32xbf16>
  %1 = "ttir.reshape"(%b) <{shape = [1 : i32, 1 : i32, 1 : i32, 32 : i32]}> : (tensor<32xbf16>) -> tensor<1x1x1x32xbf16>
  %2 = "ttir.broadcast"(%1) <{broadcast_dimensions = array<i64: 1, 16, 16, 1>}> : (tensor<1x1x1x32xbf16>) -> tensor<1x16x16x32xbf16>
  %3 = "ttir.add"(%0, %2) : (tensor<1x16x16x32xbf16>, tensor<1x16x16x32xbf16>) -> tensor<1x16x16x32xbf16>
  %4 = "ttir.relu6"(%3) : (tensor<1x16x16x32xbf16>) -> tensor<1x16x16x32xbf16>
  return %4 : tensor<1x16x16x32xbf16>
}

// The NCHW form of that test: bias 1xCx1x1 on channel_dim = 1, broadcast, added.
// CHECK-LABEL: func.func @nchw_broadcast_add
// CHECK-NOT: ttir.broadcast
// CHECK-NOT: ttir.add
// CHECK: "ttnn.prepare_depthwise_pool_bias"(%arg2)
// CHECK: "ttnn.depthwise_pool_conv"
func.func @nchw_broadcast_add(%x: tensor<1x32x16x16xbf16>, %w: tensor<32x1x3x3xbf16>, %b: tensor<1x32x1x1xbf16>) -> tensor<1x32x16x16xbf16> {
  %0 = "ttir.conv2d"(%x, %w) <{stride = array<i32: 1, 1>, padding = array<i32: 1, 1, 1, 1>, dilation = array<i32: 1, 1>, groups = 32 : i32, batch_dim = 0 : i64, channel_dim = 1 : i64, height_dim = 2 : i64, width_dim = 3 : i64}> : (tensor<1x32x16x16xbf16>, tensor<32x1x3x3xbf16>) -> tensor<1x32x16x16xbf16>
  %1 = "ttir.broadcast"(%b) <{broadcast_dimensions = array<i64: 1, 1, 16, 16>}> : (tensor<1x32x1x1xbf16>) -> tensor<1x32x16x16xbf16>
  %2 = "ttir.add"(%0, %1) : (tensor<1x32x16x16xbf16>, tensor<1x32x16x16xbf16>) -> tensor<1x32x16x16xbf16>
  return %2 : tensor<1x32x16x16xbf16>
}

// Negative: the broadcast has another user, so it and the add stay.
// CHECK-LABEL: func.func @broadcast_with_other_user
// CHECK: %[[Y:.*]] = "ttnn.depthwise_pool_conv"(%arg0, %{{[^,)]*}}) {activation = "none"
// CHECK: %[[BC:.*]] = "ttir.broadcast"
// CHECK: "ttir.add"(%[[Y]], %[[BC]])
func.func @broadcast_with_other_user(%x: tensor<1x16x16x32xbf16>, %w: tensor<32x1x3x3xbf16>, %b: tensor<1x1x1x32xbf16>) -> (tensor<1x16x16x32xbf16>, tensor<1x16x16x32xbf16>) {
  %0 = "ttir.conv2d"(%x, %w) <{stride = 1 : i32, padding = 1 : i32, dilation = 1 : i32, groups = 32 : i32}> : (tensor<1x16x16x32xbf16>, tensor<32x1x3x3xbf16>) -> tensor<1x16x16x32xbf16>
  %1 = "ttir.broadcast"(%b) <{broadcast_dimensions = array<i64: 1, 16, 16, 1>}> : (tensor<1x1x1x32xbf16>) -> tensor<1x16x16x32xbf16>
  %2 = "ttir.add"(%0, %1) : (tensor<1x16x16x32xbf16>, tensor<1x16x16x32xbf16>) -> tensor<1x16x16x32xbf16>
  return %2, %1 : tensor<1x16x16x32xbf16>, tensor<1x16x16x32xbf16>
}

// Negative: a run-time bias of another shape than the conv's own bias cannot be
// summed by one ttir.add; the add stays.
// CHECK-LABEL: func.func @biases_of_different_types
// CHECK: %[[Y:.*]] = "ttnn.depthwise_pool_conv"
// CHECK: "ttir.add"(%[[Y]], %arg3)
func.func @biases_of_different_types(%x: tensor<1x16x16x32xbf16>, %w: tensor<32x1x3x3xbf16>, %b: tensor<1x1x1x32xbf16>, %b2: tensor<32xbf16>) -> tensor<1x16x16x32xbf16> {
  %0 = "ttir.conv2d"(%x, %w, %b) <{stride = 1 : i32, padding = 1 : i32, dilation = 1 : i32, groups = 32 : i32}> : (tensor<1x16x16x32xbf16>, tensor<32x1x3x3xbf16>, tensor<1x1x1x32xbf16>) -> tensor<1x16x16x32xbf16>
  %1 = "ttir.add"(%0, %b2) : (tensor<1x16x16x32xbf16>, tensor<32xbf16>) -> tensor<1x16x16x32xbf16>
  return %1 : tensor<1x16x16x32xbf16>
}
