// Malformed TTIR is an error at the op, before any pass runs. What tt-mlir's verifier
// refuses we refuse: stride/padding/dilation are `AnyAttrOf<[I32Attr, DenseI32ArrayAttr]>`,
// groups `I32Attr`, the dims `I64Attr` (include/ttmlir/Dialect/TTIR/IR/TTIROps.td,
// TTIR_Conv2dOp); arrays are read by getPairOfInteger (2 values) and
// getQuadrupleOfInteger (2 or 4 values) of include/ttmlir/Utils.h.
// RUN: tt-dw-opt %s --split-input-file --verify-diagnostics --tt-depthwise-to-pool="path=pool"
// Without --verify-diagnostics: located errors, no IR for the broken chunk, exit 1.
// RUN: not tt-dw-opt %s --split-input-file --tt-depthwise-to-pool="path=pool" 2>&1 | FileCheck %s

// CHECK: invalid_ttir.mlir:[[@LINE+4]]:8: error: 'ttir.conv2d' op result shape (NHWC) [1, 8, 7, 32] does not match the conv shape [1, 8, 8, 32]
// CHECK-NOT: Traceback
func.func @wrong_output_shape(%x: tensor<1x8x8x32xbf16>, %w: tensor<32x1x3x3xbf16>) -> tensor<1x8x7x32xbf16> {
  // expected-error@+1 {{result shape (NHWC) [1, 8, 7, 32] does not match the conv shape [1, 8, 8, 32]}}
  %0 = "ttir.conv2d"(%x, %w) <{stride = 1 : i32, padding = 1 : i32, dilation = 1 : i32, groups = 32 : i32}> : (tensor<1x8x8x32xbf16>, tensor<32x1x3x3xbf16>) -> tensor<1x8x7x32xbf16>
  return %0 : tensor<1x8x7x32xbf16>
}

// -----

func.func @groups_not_dividing(%x: tensor<1x8x8x32xbf16>, %w: tensor<30x1x3x3xbf16>) -> tensor<1x8x8x30xbf16> {
  // expected-error@+1 {{groups = 3 must divide input channels (32) and output channels (30)}}
  %0 = "ttir.conv2d"(%x, %w) <{stride = 1 : i32, padding = 1 : i32, dilation = 1 : i32, groups = 3 : i32}> : (tensor<1x8x8x32xbf16>, tensor<30x1x3x3xbf16>) -> tensor<1x8x8x30xbf16>
  return %0 : tensor<1x8x8x30xbf16>
}

// -----

func.func @weight_shape_mismatch(%x: tensor<1x8x8x32xbf16>, %w: tensor<32x2x3x3xbf16>) -> tensor<1x8x8x32xbf16> {
  // expected-error@+1 {{weight dim 1 is 2, expected in_channels / groups = 1}}
  %0 = "ttir.conv2d"(%x, %w) <{stride = 1 : i32, padding = 1 : i32, dilation = 1 : i32, groups = 32 : i32}> : (tensor<1x8x8x32xbf16>, tensor<32x2x3x3xbf16>) -> tensor<1x8x8x32xbf16>
  return %0 : tensor<1x8x8x32xbf16>
}

// -----

func.func @weight_not_4d(%x: tensor<1x8x8x32xbf16>, %w: tensor<32x3x3xbf16>) -> tensor<1x8x8x32xbf16> {
  // expected-error@+1 {{weight must be a 4-D tensor [O, C/G, kH, kW]}}
  %0 = "ttir.conv2d"(%x, %w) <{stride = 1 : i32, padding = 1 : i32, dilation = 1 : i32, groups = 32 : i32}> : (tensor<1x8x8x32xbf16>, tensor<32x3x3xbf16>) -> tensor<1x8x8x32xbf16>
  return %0 : tensor<1x8x8x32xbf16>
}

// -----

func.func @three_element_padding(%x: tensor<1x8x8x32xbf16>, %w: tensor<32x1x3x3xbf16>) -> tensor<1x8x8x32xbf16> {
  // expected-error@+1 {{'padding' must be an i32 or an array<i32> of 2 or 4 values, got 3 value(s)}}
  %0 = "ttir.conv2d"(%x, %w) <{stride = 1 : i32, padding = array<i32: 1, 1, 1>, dilation = 1 : i32, groups = 32 : i32}> : (tensor<1x8x8x32xbf16>, tensor<32x1x3x3xbf16>) -> tensor<1x8x8x32xbf16>
  return %0 : tensor<1x8x8x32xbf16>
}

// -----

func.func @three_element_stride(%x: tensor<1x8x8x32xbf16>, %w: tensor<32x1x3x3xbf16>) -> tensor<1x8x8x32xbf16> {
  // expected-error@+1 {{'stride' must be an i32 or an array<i32> of 2 values, got 3 value(s)}}
  %0 = "ttir.conv2d"(%x, %w) <{stride = array<i32: 1, 1, 1>, padding = 1 : i32, dilation = 1 : i32, groups = 32 : i32}> : (tensor<1x8x8x32xbf16>, tensor<32x1x3x3xbf16>) -> tensor<1x8x8x32xbf16>
  return %0 : tensor<1x8x8x32xbf16>
}

// -----

func.func @bias_wrong_size(%x: tensor<1x8x8x32xbf16>, %w: tensor<32x1x3x3xbf16>, %b: tensor<1x1x1x16xbf16>) -> tensor<1x8x8x32xbf16> {
  // expected-error@+1 {{bias shape [1, 1, 1, 16] must hold one value per output channel (32)}}
  %0 = "ttir.conv2d"(%x, %w, %b) <{stride = 1 : i32, padding = 1 : i32, dilation = 1 : i32, groups = 32 : i32}> : (tensor<1x8x8x32xbf16>, tensor<32x1x3x3xbf16>, tensor<1x1x1x16xbf16>) -> tensor<1x8x8x32xbf16>
  return %0 : tensor<1x8x8x32xbf16>
}

// -----

func.func @dims_not_a_permutation(%x: tensor<1x8x8x32xbf16>, %w: tensor<32x1x3x3xbf16>) -> tensor<1x8x8x32xbf16> {
  // expected-error@+1 {{batch/height/width/channel dims [0, 1, 1, 3] must be a permutation of 0..3}}
  %0 = "ttir.conv2d"(%x, %w) <{stride = 1 : i32, padding = 1 : i32, dilation = 1 : i32, groups = 32 : i32, width_dim = 1 : i64}> : (tensor<1x8x8x32xbf16>, tensor<32x1x3x3xbf16>) -> tensor<1x8x8x32xbf16>
  return %0 : tensor<1x8x8x32xbf16>
}

// -----

func.func @kernel_larger_than_input(%x: tensor<1x2x2x32xbf16>, %w: tensor<32x1x5x5xbf16>) -> tensor<1x1x1x32xbf16> {
  // expected-error@+1 {{the kernel (5x5, dilation [1, 1]) does not fit the padded 2x2 input}}
  %0 = "ttir.conv2d"(%x, %w) <{stride = 1 : i32, padding = 0 : i32, dilation = 1 : i32, groups = 32 : i32}> : (tensor<1x2x2x32xbf16>, tensor<32x1x5x5xbf16>) -> tensor<1x1x1x32xbf16>
  return %0 : tensor<1x1x1x32xbf16>
}

// -----

func.func @missing_groups(%x: tensor<1x8x8x32xbf16>, %w: tensor<32x1x3x3xbf16>) -> tensor<1x8x8x32xbf16> {
  // expected-error@+1 {{groups}}
  %0 = "ttir.conv2d"(%x, %w) <{stride = 1 : i32, padding = 1 : i32, dilation = 1 : i32}> : (tensor<1x8x8x32xbf16>, tensor<32x1x3x3xbf16>) -> tensor<1x8x8x32xbf16>
  return %0 : tensor<1x8x8x32xbf16>
}

// -----

func.func @bad_permutation(%x: tensor<1x8x8x32xbf16>) -> tensor<1x8x8x32xbf16> {
  // expected-error@+1 {{'ttir.permute' op permutation [0, 1, 1, 3] is not a permutation of 0..3}}
  %0 = "ttir.permute"(%x) <{permutation = array<i64: 0, 1, 1, 3>}> : (tensor<1x8x8x32xbf16>) -> tensor<1x8x8x32xbf16>
  return %0 : tensor<1x8x8x32xbf16>
}

// -----

func.func @padding_i64_array(%x: tensor<1x8x8x32xbf16>, %w: tensor<32x1x3x3xbf16>) -> tensor<1x8x8x32xbf16> {
  // expected-error@+1 {{'padding' must be an i32 or an array<i32> of 2 or 4 values, got array<i64: 1, 1, 1, 1>}}
  %0 = "ttir.conv2d"(%x, %w) <{stride = 1 : i32, padding = array<i64: 1, 1, 1, 1>, dilation = 1 : i32, groups = 32 : i32}> : (tensor<1x8x8x32xbf16>, tensor<32x1x3x3xbf16>) -> tensor<1x8x8x32xbf16>
  return %0 : tensor<1x8x8x32xbf16>
}

// -----

func.func @one_element_padding(%x: tensor<1x8x8x32xbf16>, %w: tensor<32x1x3x3xbf16>) -> tensor<1x8x8x32xbf16> {
  // expected-error@+1 {{'padding' must be an i32 or an array<i32> of 2 or 4 values, got 1 value(s)}}
  %0 = "ttir.conv2d"(%x, %w) <{stride = 1 : i32, padding = array<i32: 1>, dilation = 1 : i32, groups = 32 : i32}> : (tensor<1x8x8x32xbf16>, tensor<32x1x3x3xbf16>) -> tensor<1x8x8x32xbf16>
  return %0 : tensor<1x8x8x32xbf16>
}

// -----

func.func @one_element_stride(%x: tensor<1x8x8x32xbf16>, %w: tensor<32x1x3x3xbf16>) -> tensor<1x8x8x32xbf16> {
  // expected-error@+1 {{'stride' must be an i32 or an array<i32> of 2 values, got 1 value(s)}}
  %0 = "ttir.conv2d"(%x, %w) <{stride = array<i32: 1>, padding = 1 : i32, dilation = 1 : i32, groups = 32 : i32}> : (tensor<1x8x8x32xbf16>, tensor<32x1x3x3xbf16>) -> tensor<1x8x8x32xbf16>
  return %0 : tensor<1x8x8x32xbf16>
}

// -----

func.func @dilation_i64_scalar(%x: tensor<1x8x8x32xbf16>, %w: tensor<32x1x3x3xbf16>) -> tensor<1x8x8x32xbf16> {
  // expected-error@+1 {{'dilation' must be an i32 or an array<i32> of 2 values, got 1 : i64}}
  %0 = "ttir.conv2d"(%x, %w) <{stride = 1 : i32, padding = 1 : i32, dilation = 1 : i64, groups = 32 : i32}> : (tensor<1x8x8x32xbf16>, tensor<32x1x3x3xbf16>) -> tensor<1x8x8x32xbf16>
  return %0 : tensor<1x8x8x32xbf16>
}

// -----

func.func @groups_i64(%x: tensor<1x8x8x32xbf16>, %w: tensor<32x1x3x3xbf16>) -> tensor<1x8x8x32xbf16> {
  // expected-error@+1 {{'groups' must be an i32 integer attribute, got 32 : i64}}
  %0 = "ttir.conv2d"(%x, %w) <{stride = 1 : i32, padding = 1 : i32, dilation = 1 : i32, groups = 32 : i64}> : (tensor<1x8x8x32xbf16>, tensor<32x1x3x3xbf16>) -> tensor<1x8x8x32xbf16>
  return %0 : tensor<1x8x8x32xbf16>
}

// -----

func.func @batch_dim_array(%x: tensor<1x8x8x32xbf16>, %w: tensor<32x1x3x3xbf16>) -> tensor<1x8x8x32xbf16> {
  // expected-error@+1 {{'batch_dim' must be an i64 integer attribute, got array<i64>}}
  %0 = "ttir.conv2d"(%x, %w) <{stride = 1 : i32, padding = 1 : i32, dilation = 1 : i32, groups = 32 : i32, batch_dim = array<i64>}> : (tensor<1x8x8x32xbf16>, tensor<32x1x3x3xbf16>) -> tensor<1x8x8x32xbf16>
  return %0 : tensor<1x8x8x32xbf16>
}

// -----

func.func @zero_kernel_height(%x: tensor<1x8x8x32xbf16>, %w: tensor<32x1x0x3xbf16>) -> tensor<1x8x6x32xbf16> {
  // expected-error@+1 {{weight has a zero-sized dimension: [32, 1, 0, 3]}}
  %0 = "ttir.conv2d"(%x, %w) <{stride = 1 : i32, padding = 0 : i32, dilation = 1 : i32, groups = 32 : i32}> : (tensor<1x8x8x32xbf16>, tensor<32x1x0x3xbf16>) -> tensor<1x8x6x32xbf16>
  return %0 : tensor<1x8x6x32xbf16>
}

// -----

func.func @zero_batch(%x: tensor<0x8x8x32xbf16>, %w: tensor<32x1x3x3xbf16>) -> tensor<0x8x8x32xbf16> {
  // expected-error@+1 {{input has a zero-sized dimension: [0, 8, 8, 32]}}
  %0 = "ttir.conv2d"(%x, %w) <{stride = 1 : i32, padding = 1 : i32, dilation = 1 : i32, groups = 32 : i32}> : (tensor<0x8x8x32xbf16>, tensor<32x1x3x3xbf16>) -> tensor<0x8x8x32xbf16>
  return %0 : tensor<0x8x8x32xbf16>
}

// -----

// An integer width the bindings cannot downcast (found by benchmarks/fuzz_long.py).
func.func @odd_width_stride(%x: tensor<1x8x8x32xbf16>, %w: tensor<32x1x3x3xbf16>) -> tensor<1x8x8x32xbf16> {
  // expected-error@+1 {{'stride' cannot be read}}
  %0 = "ttir.conv2d"(%x, %w) <{stride = array<i365536: 1, 1>, padding = array<i32: 1, 1>, dilation = array<i32: 1, 1>, groups = 32 : i32}> : (tensor<1x8x8x32xbf16>, tensor<32x1x3x3xbf16>) -> tensor<1x8x8x32xbf16>
  return %0 : tensor<1x8x8x32xbf16>
}

// -----

// Valid forms beside the invalid ones: a [pH, pW] pair and array strides parse and verify.
func.func @valid_pair_padding(%x: tensor<1x8x8x32xbf16>, %w: tensor<32x1x3x3xbf16>) -> tensor<1x8x8x32xbf16> {
  %0 = "ttir.conv2d"(%x, %w) <{stride = array<i32: 1, 1>, padding = array<i32: 1, 1>, dilation = array<i32: 1, 1>, groups = 32 : i32, batch_dim = 0 : i64}> : (tensor<1x8x8x32xbf16>, tensor<32x1x3x3xbf16>) -> tensor<1x8x8x32xbf16>
  return %0 : tensor<1x8x8x32xbf16>
}
