// Every conv the pass leaves alone keeps its ttir.conv2d; a grouped one (groups > 1)
// gets a remark naming why. Dense convs are silent by default (remarks.mlir).
// RUN: tt-dw-opt %s --split-input-file --verify-diagnostics --tt-depthwise-to-pool="path=pool" | FileCheck %s

// CHECK-LABEL: func.func @dense_conv
// CHECK: "ttir.conv2d"
func.func @dense_conv(%x: tensor<1x8x8x32xbf16>, %w: tensor<64x32x3x3xbf16>) -> tensor<1x8x8x64xbf16> {
  %0 = "ttir.conv2d"(%x, %w) <{stride = 1 : i32, padding = 1 : i32, dilation = 1 : i32, groups = 1 : i32}> : (tensor<1x8x8x32xbf16>, tensor<64x32x3x3xbf16>) -> tensor<1x8x8x64xbf16>
  return %0 : tensor<1x8x8x64xbf16>
}

// -----

// CHECK-LABEL: func.func @grouped_conv
// CHECK: "ttir.conv2d"
func.func @grouped_conv(%x: tensor<1x8x8x32xbf16>, %w: tensor<32x4x3x3xbf16>) -> tensor<1x8x8x32xbf16> {
  // expected-remark@+1 {{grouped conv with 8 groups of 4 channels, not depthwise (groups must equal in_channels = 32)}}
  %0 = "ttir.conv2d"(%x, %w) <{stride = 1 : i32, padding = 1 : i32, dilation = 1 : i32, groups = 8 : i32}> : (tensor<1x8x8x32xbf16>, tensor<32x4x3x3xbf16>) -> tensor<1x8x8x32xbf16>
  return %0 : tensor<1x8x8x32xbf16>
}

// -----

// CHECK-LABEL: func.func @channel_multiplier
// CHECK: "ttir.conv2d"
func.func @channel_multiplier(%x: tensor<1x8x8x32xbf16>, %w: tensor<64x1x3x3xbf16>) -> tensor<1x8x8x64xbf16> {
  // expected-remark@+1 {{channel multiplier 2 (out_channels = 64, in_channels = 32); the pool kernels need out_channels == in_channels}}
  %0 = "ttir.conv2d"(%x, %w) <{stride = 1 : i32, padding = 1 : i32, dilation = 1 : i32, groups = 32 : i32}> : (tensor<1x8x8x32xbf16>, tensor<64x1x3x3xbf16>) -> tensor<1x8x8x64xbf16>
  return %0 : tensor<1x8x8x64xbf16>
}

// -----

// CHECK-LABEL: func.func @one_d_conv
// CHECK: "ttir.conv2d"
func.func @one_d_conv(%x: tensor<1x1x64x32xbf16>, %w: tensor<32x1x1x5xbf16>) -> tensor<1x1x60x32xbf16> {
  // expected-remark@+1 {{1-D conv: kernel and input are 1 in height (1x5 kernel on 1x64 input)}}
  %0 = "ttir.conv2d"(%x, %w) <{stride = 1 : i32, padding = 0 : i32, dilation = 1 : i32, groups = 32 : i32}> : (tensor<1x1x64x32xbf16>, tensor<32x1x1x5xbf16>) -> tensor<1x1x60x32xbf16>
  return %0 : tensor<1x1x60x32xbf16>
}

// -----

// CHECK-LABEL: func.func @one_d_conv_width
// CHECK: "ttir.conv2d"
func.func @one_d_conv_width(%x: tensor<1x64x1x32xbf16>, %w: tensor<32x1x3x1xbf16>) -> tensor<1x62x1x32xbf16> {
  // expected-remark@+1 {{1-D conv: kernel and input are 1 in width (3x1 kernel on 64x1 input)}}
  %0 = "ttir.conv2d"(%x, %w) <{stride = 1 : i32, padding = 0 : i32, dilation = 1 : i32, groups = 32 : i32}> : (tensor<1x64x1x32xbf16>, tensor<32x1x3x1xbf16>) -> tensor<1x62x1x32xbf16>
  return %0 : tensor<1x62x1x32xbf16>
}

// -----

// CHECK-LABEL: func.func @dynamic_shape
// CHECK: "ttir.conv2d"
func.func @dynamic_shape(%x: tensor<?x8x8x32xbf16>, %w: tensor<32x1x3x3xbf16>) -> tensor<?x8x8x32xbf16> {
  // expected-remark@+1 {{dynamic shapes are not supported}}
  %0 = "ttir.conv2d"(%x, %w) <{stride = 1 : i32, padding = 1 : i32, dilation = 1 : i32, groups = 32 : i32}> : (tensor<?x8x8x32xbf16>, tensor<32x1x3x3xbf16>) -> tensor<?x8x8x32xbf16>
  return %0 : tensor<?x8x8x32xbf16>
}

// -----

// CHECK-LABEL: func.func @integer_elements
// CHECK: "ttir.conv2d"
func.func @integer_elements(%x: tensor<1x8x8x32xi8>, %w: tensor<32x1x3x3xi8>) -> tensor<1x8x8x32xi8> {
  // expected-remark@+1 {{element type i8 is not a float type the pool kernels take}}
  %0 = "ttir.conv2d"(%x, %w) <{stride = 1 : i32, padding = 1 : i32, dilation = 1 : i32, groups = 32 : i32}> : (tensor<1x8x8x32xi8>, tensor<32x1x3x3xi8>) -> tensor<1x8x8x32xi8>
  return %0 : tensor<1x8x8x32xi8>
}

// -----

// Two convs in one function: the depthwise one converts, the dense one stays.
// CHECK-LABEL: func.func @mixed
// CHECK: "ttnn.depthwise_pool_conv"
// CHECK: "ttir.conv2d"
func.func @mixed(%x: tensor<1x8x8x32xbf16>, %w: tensor<32x1x3x3xbf16>, %w2: tensor<32x32x1x1xbf16>) -> tensor<1x8x8x32xbf16> {
  %0 = "ttir.conv2d"(%x, %w) <{stride = 1 : i32, padding = 1 : i32, dilation = 1 : i32, groups = 32 : i32}> : (tensor<1x8x8x32xbf16>, tensor<32x1x3x3xbf16>) -> tensor<1x8x8x32xbf16>
  %1 = "ttir.conv2d"(%0, %w2) <{stride = 1 : i32, padding = 0 : i32, dilation = 1 : i32, groups = 1 : i32}> : (tensor<1x8x8x32xbf16>, tensor<32x32x1x1xbf16>) -> tensor<1x8x8x32xbf16>
  return %1 : tensor<1x8x8x32xbf16>
}
