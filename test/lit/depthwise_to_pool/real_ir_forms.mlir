// Forms met in tt-mlir's own TTIR (tests, model dumps) that the IRDL fallback must read:
// properties written one per line, op names in CHECK-style comments, TTIR ops and
// attributes we do not model, and the ttcore.device_module wrapper of tt-xla dumps.
// RUN: tt-dw-opt %s --split-input-file --tt-depthwise-to-pool="path=pool" | FileCheck %s
// RUN: tt-dw-opt %s --split-input-file --tt-depthwise-to-pool="path=pool" 2>&1 >/dev/null | FileCheck %s --check-prefix=REMARK

// `<{` and every property on a line of its own; a comment above names the op with an
// unclosed operand list, which must not be taken for the op.
// CHECK-LABEL: func.func @multiline_properties
// CHECK: "ttnn.prepare_depthwise_pool_bias"(%arg2)
// CHECK: "ttnn.depthwise_pool_conv"(%arg0, %{{.*}}, %{{.*}}) {{{.*}}padding = array<i32: 0, 0, 0, 0>{{.*}}} : {{.*}} -> tensor<2x14x14x64xbf16>
// CHECK-NOT: ttir.conv2d
func.func @multiline_properties(%arg0: tensor<2x16x16x64xbf16>, %arg1: tensor<64x1x3x3xbf16>, %arg2: tensor<1x1x1x64xbf16>) -> tensor<2x14x14x64xbf16> {
  // looks like an op: "ttir.conv2d"(%arg0,
  %1 = "ttir.conv2d"(%arg0, %arg1, %arg2)
          <{
            stride = 1: i32,
            padding = 0: i32,
            dilation = 1: i32,
            groups = 64: i32
          }> : (tensor<2x16x16x64xbf16>, tensor<64x1x3x3xbf16>, tensor<1x1x1x64xbf16>) -> tensor<2x14x14x64xbf16>
  return %1 : tensor<2x14x14x64xbf16>
}

// -----

// TTIR ops outside our subset pass through under their own names, with their properties
// (printed as the attribute dictionary tt-mlir reads as properties: without ttmlir they
// are IRDL ops, declared as the module uses them, and IRDL ops have no properties),
// including a concat of two different tensor types, which one IRDL variadic could not hold.
// CHECK-LABEL: func.func @unmodelled_ttir_ops
// CHECK: %[[Q:.*]] = "ttir.quantize"(%arg0) : (tensor<1x8x8x32xf32>) -> tensor<1x8x8x32x!quant.uniform<i8:f32, 1.000000e-01>>
// CHECK: %[[D:.*]] = "ttir.dequantize"(%[[Q]])
// CHECK: %[[T:.*]] = "ttir.transpose"(%[[D]]) {{<?}}{dim0 = -2 : si32, dim1 = -1 : si32}
// CHECK: "ttnn.depthwise_pool_conv"(%[[T]],
// CHECK: %[[C:.*]] = "ttir.concat"(%{{.*}}, %arg2) {{<?}}{dim = 3 : si32}{{>?}} : (tensor<1x8x8x32xf32>, tensor<1x8x8x16xf32>) -> tensor<1x8x8x48xf32>
// CHECK: "ttir.batch_norm_inference"(%[[C]], %arg3, %arg3, %arg3, %arg3) {{<?}}{dimension = 3 : i32, epsilon = 9.99999974E-6 : f32}
func.func @unmodelled_ttir_ops(%arg0: tensor<1x8x8x32xf32>, %arg1: tensor<32x1x3x3xf32>, %arg2: tensor<1x8x8x16xf32>, %arg3: tensor<48xf32>) -> tensor<1x8x8x48xf32> {
  %0 = "ttir.quantize"(%arg0) : (tensor<1x8x8x32xf32>) -> tensor<1x8x8x32x!quant.uniform<i8:f32, 0.1>>
  %1 = "ttir.dequantize"(%0) : (tensor<1x8x8x32x!quant.uniform<i8:f32, 0.1>>) -> tensor<1x8x8x32xf32>
  %2 = "ttir.transpose"(%1) <{dim0 = -2 : si32, dim1 = -1 : si32}> : (tensor<1x8x8x32xf32>) -> tensor<1x8x8x32xf32>
  %3 = "ttir.conv2d"(%2, %arg1) <{stride = 1 : i32, padding = 1 : i32, dilation = 1 : i32, groups = 32 : i32}> : (tensor<1x8x8x32xf32>, tensor<32x1x3x3xf32>) -> tensor<1x8x8x32xf32>
  %4 = "ttir.concat"(%3, %arg2) <{dim = 3 : si32}> : (tensor<1x8x8x32xf32>, tensor<1x8x8x16xf32>) -> tensor<1x8x8x48xf32>
  %5 = "ttir.batch_norm_inference"(%4, %arg3, %arg3, %arg3, %arg3) <{dimension = 3 : i32, epsilon = 9.99999974E-6 : f32}> : (tensor<1x8x8x48xf32>, tensor<48xf32>, tensor<48xf32>, tensor<48xf32>, tensor<48xf32>) -> tensor<1x8x8x48xf32>
  return %5 : tensor<1x8x8x48xf32>
}

// -----

// After ttir-flatten-sliding-window the input is [1, 1, N*H*W, C] and the true sizes sit
// in a #ttir<flattened_compat ...> attribute: valid, printed back as written, not converted.
// CHECK-LABEL: func.func @flattened
// CHECK: "ttir.conv2d"(%arg0, %arg1) {dilation = 1 : i32, flattened_compat_info = #ttir<flattened_compat batch_size = 1, input_height = 8, input_width = 8>, groups = 32 : i32, operandSegmentSizes = array<i32: 1, 1, 0, 0>, padding = 1 : i32, stride = 1 : i32}
// REMARK: real_ir_forms.mlir:[[@LINE+3]]:8: remark: depthwise-to-pool: conv not converted: flattened conv (flattened_compat_info): run this pass before ttir-flatten-sliding-window
// REMARK-NOT: remark
func.func @flattened(%arg0: tensor<1x1x64x32xbf16>, %arg1: tensor<32x1x3x3xbf16>) -> tensor<1x1x64x32xbf16> {
  %0 = "ttir.conv2d"(%arg0, %arg1) <{stride = 1 : i32, padding = 1 : i32, dilation = 1 : i32, groups = 32 : i32, flattened_compat_info = #ttir<flattened_compat batch_size = 1, input_height = 8, input_width = 8>}> : (tensor<1x1x64x32xbf16>, tensor<32x1x3x3xbf16>) -> tensor<1x1x64x32xbf16>
  return %0 : tensor<1x1x64x32xbf16>
}

// -----

// tt-xla dumps wrap the device code in ttcore.device_module (custom assembly, ttcore is
// not loaded): the conv inside is converted and the wrapper is printed in generic form
// (read back as it is, by this tool and by tt-mlir).
// CHECK: module @graph attributes {tt_dw.device = {{.*}}, ttcore.meshes = #ttcore.meshes<[<"mesh" = 1x1>]>} {
// CHECK-NEXT: "ttcore.device_module"() ({
// CHECK-NEXT: builtin.module @graph
// CHECK: "ttnn.depthwise_pool_conv"
// CHECK: return
// CHECK-NEXT: }
// CHECK-NEXT: }
// CHECK-NEXT: }) : () -> ()
// CHECK-NEXT: }
module @graph attributes {ttcore.meshes = #ttcore.meshes<[<"mesh" = 1x1>]>} {
  ttcore.device_module {
    builtin.module @graph attributes {ttcore.meshes = #ttcore.meshes<[<"mesh" = 1x1>]>} {
      func.func @main(%arg0: tensor<1x16x16x64xbf16> {ttcore.argument_type = #ttcore.argument_type<input>}, %arg1: tensor<64x1x3x3xbf16> {ttcore.argument_type = #ttcore.argument_type<parameter>}) -> tensor<1x16x16x64xbf16> {
        %0 = "ttir.conv2d"(%arg0, %arg1) <{stride = array<i32: 1, 1>, padding = array<i32: 1, 1, 1, 1>, dilation = array<i32: 1, 1>, groups = 64 : i32}> : (tensor<1x16x16x64xbf16>, tensor<64x1x3x3xbf16>) -> tensor<1x16x16x64xbf16>
        return %0 : tensor<1x16x16x64xbf16>
      }
    }
  }
}
