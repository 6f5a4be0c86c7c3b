// Convs that tt-mlir's verifier rejects must not be converted here either, and forms the
// IRDL fallback cannot read give a located error, never a traceback.
// RUN: tt-dw-opt %s --split-input-file --verify-diagnostics --tt-depthwise-to-pool="path=pool"
// RUN: not tt-dw-opt %s --split-input-file --tt-depthwise-to-pool="path=pool" 2>&1 | FileCheck %s
// CHECK-NOT: Traceback
// CHECK-NOT: internal error
// CHECK-NOT: ttnn.depthwise_pool_conv

// A depthwise conv whose bias holds the right number of values but is 3-D
// (tt-mlir: every conv2d operand is 4-D).
func.func @bias_rank_3(%x: tensor<1x8x8x32xbf16>, %w: tensor<32x1x3x3xbf16>, %b: tensor<1x1x32xbf16>) -> tensor<1x8x8x32xbf16> {
  // expected-error@+1 {{bias must be a 4-D tensor, got tensor<1x1x32xbf16>}}
  %0 = "ttir.conv2d"(%x, %w, %b)
         <{stride = 1 : i32, padding = 1 : i32, dilation = 1 : i32, groups = 32 : i32}>
         : (tensor<1x8x8x32xbf16>, tensor<32x1x3x3xbf16>, tensor<1x1x32xbf16>) -> tensor<1x8x8x32xbf16>
  return %0 : tensor<1x8x8x32xbf16>
}

// -----

// The flattened dim must hold batch_size * input_height * input_width (1 * 8 * 8 = 64).
func.func @flattened_mismatch(%x: tensor<1x1x60x32xbf16>, %w: tensor<32x1x3x3xbf16>) -> tensor<1x1x60x32xbf16> {
  // expected-error@+1 {{flattened input dim 2 is 60, but flattened_compat_info gives batch_size * input_height * input_width = 64}}
  %0 = "ttir.conv2d"(%x, %w) <{stride = 1 : i32, padding = 1 : i32, dilation = 1 : i32, groups = 32 : i32, flattened_compat_info = #ttir<flattened_compat batch_size = 1, input_height = 8, input_width = 8>}> : (tensor<1x1x60x32xbf16>, tensor<32x1x3x3xbf16>) -> tensor<1x1x60x32xbf16>
  return %0 : tensor<1x1x60x32xbf16>
}

// -----

// Custom assembly of a TTIR op (ours or not) needs ttmlir's parsers.
func.func @custom_form_unknown(%x: tensor<1x8x8x32xbf16>) -> tensor<1x8x8x32xbf16> {
  // expected-error@+1 {{custom op 'ttir.typecast' is unknown}}
  %0 = ttir.typecast %x : tensor<1x8x8x32xbf16> -> tensor<1x8x8x32xbf16>
  return %0 : tensor<1x8x8x32xbf16>
}
// CHECK-DAG: invalid_real_ir.mlir:13:8: error: 'ttir.conv2d' op bias must be a 4-D tensor, got tensor<1x1x32xbf16>
// CHECK-DAG: invalid_real_ir.mlir:24:8: error: 'ttir.conv2d' op flattened input dim 2 is 60
// CHECK-DAG: invalid_real_ir.mlir:33:8: error: custom op 'ttir.typecast' is unknown
