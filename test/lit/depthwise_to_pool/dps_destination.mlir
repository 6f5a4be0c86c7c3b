// The older destination-passing form: a last operand from ttir.empty, written
// generically or in ttir.empty's custom form. The destination is dropped with
// the conv (no ttir.empty is left behind).
// RUN: tt-dw-opt %s --tt-depthwise-to-pool="path=pool" | FileCheck %s

// CHECK-LABEL: func.func @generic_empty
// CHECK-NOT: ttir.empty
// CHECK-NOT: ttir.conv2d
// CHECK: %[[Y:.*]] = "ttnn.depthwise_pool_conv"(%arg0, %{{[^,)]*}})
// CHECK-SAME: -> tensor<1x16x16x32xbf16>
// CHECK-NEXT: return %[[Y]]
func.func @generic_empty(%x: tensor<1x16x16x32xbf16>, %w: tensor<32x1x3x3xbf16>) -> tensor<1x16x16x32xbf16> {
  %e = "ttir.empty"() : () -> tensor<1x16x16x32xbf16>
  %0 = "ttir.conv2d"(%x, %w, %e) <{stride = 1 : i32, padding = 1 : i32, dilation = 1 : i32, groups = 32 : i32}> : (tensor<1x16x16x32xbf16>, tensor<32x1x3x3xbf16>, tensor<1x16x16x32xbf16>) -> tensor<1x16x16x32xbf16>
  return %0 : tensor<1x16x16x32xbf16>
}

// CHECK-LABEL: func.func @custom_empty
// CHECK-NOT: ttir.empty
// CHECK: "ttnn.depthwise_pool_conv"(%arg0, %{{[^,)]*}})
// CHECK-SAME: -> tensor<1x8x8x32xbf16>
func.func @custom_empty(%x: tensor<1x16x16x32xbf16>, %w: tensor<32x1x3x3xbf16>) -> tensor<1x8x8x32xbf16> {
  %e = ttir.empty() : tensor<1x8x8x32xbf16>
  %0 = "ttir.conv2d"(%x, %w, %e) <{stride = 2 : i32, padding = 1 : i32, dilation = 1 : i32, groups = 32 : i32}> : (tensor<1x16x16x32xbf16>, tensor<32x1x3x3xbf16>, tensor<1x8x8x32xbf16>) -> tensor<1x8x8x32xbf16>
  return %0 : tensor<1x8x8x32xbf16>
}

// A destination with another user stays.
// CHECK-LABEL: func.func @empty_with_other_user
// CHECK: %[[E:.*]] = "ttir.empty"() : () -> tensor<1x16x16x32xbf16>
// CHECK: "ttnn.depthwise_pool_conv"
// CHECK: "ttir.relu"(%[[E]])
func.func @empty_with_other_user(%x: tensor<1x16x16x32xbf16>, %w: tensor<32x1x3x3xbf16>) -> (tensor<1x16x16x32xbf16>, tensor<1x16x16x32xbf16>) {
  %e = ttir.empty() : tensor<1x16x16x32xbf16>
  %0 = "ttir.conv2d"(%x, %w, %e) <{stride = 1 : i32, padding = 1 : i32, dilation = 1 : i32, groups = 32 : i32}> : (tensor<1x16x16x32xbf16>, tensor<32x1x3x3xbf16>, tensor<1x16x16x32xbf16>) -> tensor<1x16x16x32xbf16>
  %1 = "ttir.relu"(%e) : (tensor<1x16x16x32xbf16>) -> tensor<1x16x16x32xbf16>
  return %0, %1 : tensor<1x16x16x32xbf16>, tensor<1x16x16x32xbf16>
}

// Elementwise ops in DPS form too: relu with its own destination is fused.
// CHECK-LABEL: func.func @dps_relu
// CHECK-NOT: ttir.empty
// CHECK-NOT: ttir.relu
// CHECK: "ttnn.depthwise_pool_conv"
// CHECK-SAME: activation = "relu"
func.func @dps_relu(%x: tensor<1x16x16x32xbf16>, %w: tensor<32x1x3x3xbf16>) -> tensor<1x16x16x32xbf16> {
  %e = ttir.empty() : tensor<1x16x16x32xbf16>
  %0 = "ttir.conv2d"(%x, %w, %e) <{stride = 1 : i32, padding = 1 : i32, dilation = 1 : i32, groups = 32 : i32}> : (tensor<1x16x16x32xbf16>, tensor<32x1x3x3xbf16>, tensor<1x16x16x32xbf16>) -> tensor<1x16x16x32xbf16>
  %e2 = ttir.empty() : tensor<1x16x16x32xbf16>
  %1 = "ttir.relu"(%0, %e2) : (tensor<1x16x16x32xbf16>, tensor<1x16x16x32xbf16>) -> tensor<1x16x16x32xbf16>
  return %1 : tensor<1x16x16x32xbf16>
}

// Bias and destination together (older DPS form with a bias).
// CHECK-LABEL: func.func @bias_and_destination
// CHECK-NOT: ttir.empty
// CHECK: %[[PB:.*]] = "ttnn.prepare_depthwise_pool_bias"(%arg2)
// CHECK: "ttnn.depthwise_pool_conv"(%arg0, %{{[^,]*}}, %[[PB]])
func.func @bias_and_destination(%x: tensor<1x16x16x32xbf16>, %w: tensor<32x1x3x3xbf16>, %b: tensor<1x1x1x32xbf16>) -> tensor<1x16x16x32xbf16> {
  %e = ttir.empty() : tensor<1x16x16x32xbf16>
  %0 = "ttir.conv2d"(%x, %w, %b, %e) <{stride = 1 : i32, padding = 1 : i32, dilation = 1 : i32, groups = 32 : i32}> : (tensor<1x16x16x32xbf16>, tensor<32x1x3x3xbf16>, tensor<1x1x1x32xbf16>, tensor<1x16x16x32xbf16>) -> tensor<1x16x16x32xbf16>
  return %0 : tensor<1x16x16x32xbf16>
}
