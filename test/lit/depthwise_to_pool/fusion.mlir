// A following bias add and activation are fused when each is the only user of
// the value before it; anything with another user stays a separate op.
// RUN: tt-dw-opt %s --tt-depthwise-to-pool="path=pool" | FileCheck %s

// CHECK-LABEL: func.func @add_bias_4d
// CHECK-NOT: ttir.add
// CHECK: %[[PB:.*]] = "ttnn.prepare_depthwise_pool_bias"(%arg2)
// CHECK-SAME: (tensor<1x1x1x32xbf16>) -> tensor<1x1x32x32xbf16>
// CHECK: %[[Y:.*]] = "ttnn.depthwise_pool_conv"(%arg0, %{{[^,]*}}, %[[PB]]) <{activation = "none"
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
// CHECK: "ttnn.depthwise_pool_conv"(%arg0, %{{[^,]*}}, %{{[^)]*}}) <{activation = "relu"
func.func @add_then_relu(%x: tensor<1x16x16x32xbf16>, %w: tensor<32x1x3x3xbf16>, %b: tensor<1x1x1x32xbf16>) -> tensor<1x16x16x32xbf16> {
  %0 = "ttir.conv2d"(%x, %w) <{stride = 1 : i32, padding = 1 : i32, dilation = 1 : i32, groups = 32 : i32}> : (tensor<1x16x16x32xbf16>, tensor<32x1x3x3xbf16>) -> tensor<1x16x16x32xbf16>
  %1 = "ttir.add"(%0, %b) : (tensor<1x16x16x32xbf16>, tensor<1x1x1x32xbf16>) -> tensor<1x16x16x32xbf16>
  %2 = "ttir.relu"(%1) : (tensor<1x16x16x32xbf16>) -> tensor<1x16x16x32xbf16>
  return %2 : tensor<1x16x16x32xbf16>
}

// The conv already has a bias: a second add is not a bias to fuse.
// CHECK-LABEL: func.func @add_after_biased_conv
// CHECK: %[[Y:.*]] = "ttnn.depthwise_pool_conv"(%arg0, %{{[^,]*}}, %{{[^)]*}}) <{activation = "none"
// CHECK: "ttir.add"(%[[Y]], %arg3)
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
