// Tensor encodings of tt-mlir (#ttnn.ttnn_layout, #ttcore...) parse, and the op that
// replaces the conv (and its fused activation) keeps the replaced result's type,
// encoding included. An alias used inside the body of an attribute of a dialect that is
// not loaded (#dram in #ttnn.ttnn_layout) is kept, and its definition printed with the
// module as written, so the printed IR parses again and means the same.
// RUN: tt-dw-opt %s --split-input-file --tt-depthwise-to-pool="path=pool" | FileCheck %s
// RUN: tt-dw-opt %s --split-input-file --tt-depthwise-to-pool="path=pool" | tt-dw-opt --split-input-file | FileCheck %s --check-prefix=REPARSE
// RUN: tt-dw-opt %s --split-input-file --tt-depthwise-to-pool="path=pool" 2>&1 >/dev/null | FileCheck %s --check-prefix=REMARK

#dram = #ttnn.buffer_type<dram>
#act = #ttnn.ttnn_layout<(d0, d1, d2, d3) -> (d0 * 256 + d1 * 16 + d2, d3), <1x1>, memref<8x1x!ttcore.tile<32x32, bf16>, #dram>, <interleaved>>
#host = #ttnn.ttnn_layout<(d0, d1, d2, d3) -> (d0 * 9 + d1 * 9 + d2 * 3, d3), <1x1>, memref<288x3xbf16, #ttnn.buffer_type<system_memory>>>
// CHECK: #dram = #ttnn.buffer_type<dram>
// CHECK-LABEL: func.func @encoded_nhwc
// CHECK: "ttnn.prepare_depthwise_pool_weights"(%arg1) {{.*}} : (tensor<32x1x3x3xbf16, #ttnn.ttnn_layout<{{.*}}system_memory{{.*}}>) -> tensor<1x1x32x32xbf16>
// CHECK: %[[Y:.*]] = "ttnn.depthwise_pool_conv"(%arg0, %{{.*}}) {activation = "relu"{{.*}} -> tensor<1x16x16x32xbf16, #ttnn.ttnn_layout<(d0, d1, d2, d3) -> (d0 * 256 + d1 * 16 + d2, d3), <1x1>, memref<8x1x!ttcore.tile<32x32, bf16>, #dram>, <interleaved>>>
// CHECK-NEXT: return %[[Y]]
// REPARSE: #dram = #ttnn.buffer_type<dram>
// REPARSE: "ttnn.depthwise_pool_conv"{{.*}}#dram>
func.func @encoded_nhwc(%x: tensor<1x16x16x32xbf16, #act>, %w: tensor<32x1x3x3xbf16, #host>) -> tensor<1x16x16x32xbf16, #act> {
  %0 = "ttir.conv2d"(%x, %w) <{stride = 1 : i32, padding = 1 : i32, dilation = 1 : i32, groups = 32 : i32}> : (tensor<1x16x16x32xbf16, #act>, tensor<32x1x3x3xbf16, #host>) -> tensor<1x16x16x32xbf16, #act>
  %1 = "ttir.relu"(%0) : (tensor<1x16x16x32xbf16, #act>) -> tensor<1x16x16x32xbf16, #act>
  return %1 : tensor<1x16x16x32xbf16, #act>
}

// -----

// An encoding of a dialect we do not load at all (ttcore) is carried the same way.
// CHECK-LABEL: func.func @ttcore_encoding
// CHECK: "ttnn.depthwise_pool_conv"{{.*}} -> tensor<1x8x8x64xbf16, #ttcore.metal_layout<logical_shape = 1x8x8x64, dim_alignments = 1x1x32x32, collapsed_intervals = dense<{{.*}}> : tensor<2x2xi64>, undef, l1>>
func.func @ttcore_encoding(%x: tensor<1x8x8x64xbf16>, %w: tensor<64x1x3x3xbf16>) -> tensor<1x8x8x64xbf16, #ttcore.metal_layout<logical_shape = 1x8x8x64, dim_alignments = 1x1x32x32, collapsed_intervals = dense<[[0, 3], [3, 4]]> : tensor<2x2xi64>, undef, l1>> {
  %0 = "ttir.conv2d"(%x, %w) <{stride = 1 : i32, padding = 1 : i32, dilation = 1 : i32, groups = 64 : i32}> : (tensor<1x8x8x64xbf16>, tensor<64x1x3x3xbf16>) -> tensor<1x8x8x64xbf16, #ttcore.metal_layout<logical_shape = 1x8x8x64, dim_alignments = 1x1x32x32, collapsed_intervals = dense<[[0, 3], [3, 4]]> : tensor<2x2xi64>, undef, l1>>
  return %0 : tensor<1x8x8x64xbf16, #ttcore.metal_layout<logical_shape = 1x8x8x64, dim_alignments = 1x1x32x32, collapsed_intervals = dense<[[0, 3], [3, 4]]> : tensor<2x2xi64>, undef, l1>>
}

// -----

// NCHW-described with an encoding: the NHWC tensors between the permutes would need a
// layout of their own, which this pass cannot derive. Left alone, with the reason.
#nchw = #ttnn.ttnn_layout<(d0, d1, d2, d3) -> (d0 * 512 + d1 * 16 + d2, d3), <1x1>, memref<16x1x!ttcore.tile<32x32, bf16>, #ttnn.buffer_type<dram>>, <interleaved>>
// CHECK-LABEL: func.func @encoded_nchw
// CHECK: "ttir.conv2d"(%arg0, %arg1)
// CHECK-NOT: ttnn.depthwise_pool_conv
// REMARK: tensor_encodings.mlir:[[@LINE+3]]:8: remark: depthwise-to-pool: conv not converted: NCHW-described conv with tensor encodings
// REMARK-NOT: remark
func.func @encoded_nchw(%x: tensor<1x32x16x16xbf16, #nchw>, %w: tensor<32x1x3x3xbf16>) -> tensor<1x32x16x16xbf16, #nchw> {
  %0 = "ttir.conv2d"(%x, %w) <{stride = 1 : i32, padding = 1 : i32, dilation = 1 : i32, groups = 32 : i32, batch_dim = 0 : i64, channel_dim = 1 : i64, height_dim = 2 : i64, width_dim = 3 : i64}> : (tensor<1x32x16x16xbf16, #nchw>, tensor<32x1x3x3xbf16>) -> tensor<1x32x16x16xbf16, #nchw>
  return %0 : tensor<1x32x16x16xbf16, #nchw>
}
