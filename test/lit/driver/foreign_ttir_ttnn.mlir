// TTIR/TTNN ops, attributes and types the IRDL subset does not declare keep their own
// names from input to output: without ttmlir the ops are declared in the context as the
// module uses them, the attributes and types are opaque ones of the loaded dialect. No
// printed text is rewritten, so nothing else may read `TTNN`/`TTIR` (the namespace they
// are parsed under) anywhere.
//
// Inputs/tt-mlir/ holds tt-mlir test files as they are (tenstorrent/tt-mlir 19c86fca45):
//   conv2d_deallocate_use_after_free.mlir  test/ttmlir/Dialect/TTNN/conv/conv2d/
//   concat_validation.mlir                 test/ttmlir/Dialect/TTNN/optimizer/op_layout_fallbacks/
//   splat_constant.mlir                    test/ttmlir/Silicon/TTNN/n150/creation/constant/
//
// RUN: tt-dw-opt %S/Inputs/tt-mlir/conv2d_deallocate_use_after_free.mlir | FileCheck %s --check-prefix=CONV --implicit-check-not=TTNN --implicit-check-not=TTIR
// RUN: tt-dw-opt %S/Inputs/tt-mlir/concat_validation.mlir | FileCheck %s --check-prefix=CONCAT --implicit-check-not=TTNN --implicit-check-not=TTIR
// RUN: tt-dw-opt %S/Inputs/tt-mlir/splat_constant.mlir | FileCheck %s --check-prefix=SPLAT --implicit-check-not=TTNN --implicit-check-not=TTIR
// Printed IR parses again to the same IR, also after our pipeline (which declares its
// own `ttnn.concat` and `ttnn.generic`, here after the input's concat was declared).
// RUN: tt-dw-opt %S/Inputs/tt-mlir/conv2d_deallocate_use_after_free.mlir -o %t.conv
// RUN: tt-dw-opt %t.conv | diff %t.conv -
// RUN: tt-dw-opt %S/Inputs/tt-mlir/concat_validation.mlir --tt-depthwise-pool-pipeline -o %t.concat
// RUN: tt-dw-opt %t.concat | diff %t.concat -
// RUN: tt-dw-opt %S/Inputs/tt-mlir/splat_constant.mlir | tt-dw-opt | FileCheck %s --check-prefix=SPLAT --implicit-check-not=TTNN --implicit-check-not=TTIR
//
// Ops with regions, and what IRDL cannot declare (one op, one region count; one
// variadic, one type; no terminator but IRDL's own), in this file:
// RUN: not tt-dw-opt %s --split-input-file 2>/dev/null | FileCheck %s --implicit-check-not=TTNN --implicit-check-not=TTIR
// RUN: not tt-dw-opt %s --split-input-file 2>&1 >/dev/null | FileCheck %s --check-prefix=ERR --implicit-check-not=TTNN --implicit-check-not=TTIR

// CONV: #l1 = #ttnn.buffer_type<l1>
// CONV-LABEL: func.func @forward(%arg0: tensor<1x1x1024x64xbf16, #ttnn.ttnn_layout<(d0, d1, d2, d3) -> (d0, d1, d2, d3), <1x1>, memref<32x2x!ttcore.tile<32x32, bf16>, #l1>, <interleaved>>>
// CONV-NEXT: %0 = "ttnn.get_device"() {mesh_shape = #ttnn<mesh_shape 1x1>} : () -> !ttnn.device
// CONV-NEXT: %1 = "ttnn.conv2d"(%arg0, %arg1, %arg2, %0) {batch_size = 1 : i32, conv2d_config = #ttnn.conv2d_config<weights_dtype = bf16, deallocate_activation = true, act_block_h_override = 0>, conv2d_slice_config = #ttnn.conv2d_slice_config<l1_full, 0>, dilation = array<i32: 1, 1>
// CONV-SAME: !ttnn.device) -> tensor<1x1x1024x64xbf16, #ttnn.ttnn_layout<(d0, d1, d2, d3) -> (d0, d1, d2, d3), <1x1>, memref<32x2x!ttcore.tile<32x32, bf16>, #l1>, <interleaved>>>
// CONV-NEXT: %2 = "ttnn.add"(%arg0, %1)
// CONV-NEXT: return %2

// A concat of two tensor types (one IRDL variadic could not hold them).
// CONCAT: #dram = #ttnn.buffer_type<dram>
// CONCAT: "ttnn.get_device"() {mesh_shape = #ttnn<mesh_shape 1x1>} : () -> !ttnn.device
// CONCAT-NEXT: %1 = "ttnn.concat"(%arg0, %arg1) {dim = 2 : si32} : (tensor<1x1x17x32xsi32, #ttnn.ttnn_layout<{{.*}}si32>, #dram>, <interleaved>>>, tensor<1x1x15x32xsi32, #ttnn.ttnn_layout<{{.*}}>>) -> tensor<1x1x32x32xbf16, #ttnn.ttnn_layout<{{.*}}!ttcore.tile<32x32, bf16>, #dram>, <interleaved>>>

// `ttnn.constant` (declared by the subset: the generic lowering builds it) with and
// without its optional device operand, and an attribute it does not declare.
// SPLAT: #system_memory = #ttnn.buffer_type<system_memory>
// SPLAT: #dram = #ttnn.buffer_type<dram>
// SPLAT-LABEL: func.func @const_splat_host
// SPLAT-NEXT: "ttnn.constant"() {layout = #ttnn.layout<row_major>, value = dense<2.000000e+00> : tensor<32x32xbf16>} : () -> tensor<32x32xbf16, #ttnn.ttnn_layout<(d0, d1) -> (d0, d1), <1x1>, memref<32x32xbf16, #system_memory>>>
// SPLAT-LABEL: func.func @const_splat_device_tile
// SPLAT: "ttnn.constant"(%0) {layout = #ttnn.layout<tile>, {{.*}} : (!ttnn.device) -> tensor<32x32xbf16, #ttnn.ttnn_layout<(d0, d1) -> (d0, d1), <1x1>, memref<1x1x!ttcore.tile<32x32, bf16>, #dram>, <interleaved>>>

// An op of ours nested in a foreign op's region, and properties before the regions
// (the attribute dictionary goes after them).
// CHECK-LABEL: func.func @foreign_ops_with_regions
// CHECK-NEXT: %0 = "ttir.foreign_loop"(%arg0) ({
// CHECK-NEXT: ^bb0(%arg1: tensor<4xf32, #ttnn.foreign_layout<1>>):
// CHECK-NEXT: %2 = "ttir.exp"(%arg1) : (tensor<4xf32, #ttnn.foreign_layout<1>>) -> tensor<4xf32, #ttnn.foreign_layout<1>>
// CHECK-NEXT: "ttcore.yield"(%2)
// CHECK-NEXT: }, {
// CHECK-NEXT: }) {trip = 2 : i32} : (tensor<4xf32, #ttnn.foreign_layout<1>>) -> tensor<4xf32, #ttnn.foreign_layout<1>>
// CHECK-NEXT: %1 = "ttir.foreign_loop"(%0) ({
// CHECK: }) {note = #ttir.foreign<"x">, trip = 3 : i32}
func.func @foreign_ops_with_regions(%x: tensor<4xf32, #ttnn.foreign_layout<1>>) -> tensor<4xf32, #ttnn.foreign_layout<1>> {
  %0 = "ttir.foreign_loop"(%x) <{trip = 2 : i32}> ({
  ^bb0(%a: tensor<4xf32, #ttnn.foreign_layout<1>>):
    %1 = "ttir.exp"(%a) : (tensor<4xf32, #ttnn.foreign_layout<1>>) -> tensor<4xf32, #ttnn.foreign_layout<1>>
    "ttcore.yield"(%1) : (tensor<4xf32, #ttnn.foreign_layout<1>>) -> ()
  }, {}) : (tensor<4xf32, #ttnn.foreign_layout<1>>) -> tensor<4xf32, #ttnn.foreign_layout<1>>
  %2 = "ttir.foreign_loop"(%0) <{trip = 3 : i32}> ({
  ^bb0(%a: tensor<4xf32, #ttnn.foreign_layout<1>>):
    "ttcore.yield"(%a) : (tensor<4xf32, #ttnn.foreign_layout<1>>) -> ()
  }, {}) {note = #ttir.foreign<"x">} : (tensor<4xf32, #ttnn.foreign_layout<1>>) -> tensor<4xf32, #ttnn.foreign_layout<1>>
  return %2 : tensor<4xf32, #ttnn.foreign_layout<1>>
}

// -----

// ERR: foreign_ttir_ttnn.mlir:[[@LINE+6]]:8: error: 'ttir.foreign_loop' op has 0 regions here and 1 at {{.*}}foreign_ttir_ttnn.mlir:[[@LINE+2]]:8: without ttmlir an op is declared in IRDL with one region count
func.func @region_counts_differ(%x: tensor<4xf32>) -> tensor<4xf32> {
  %0 = "ttir.foreign_loop"(%x) ({
  ^bb0(%a: tensor<4xf32>):
    "ttcore.yield"(%a) : (tensor<4xf32>) -> ()
  }) : (tensor<4xf32>) -> tensor<4xf32>
  %1 = "ttir.foreign_loop"(%0) : (tensor<4xf32>) -> tensor<4xf32>
  return %1 : tensor<4xf32>
}

// -----

// A variadic tail of one type is fine (the first two uses of `foreign_cat` below);
// differing types past the operands every use has are not.
// ERR: foreign_ttir_ttnn.mlir:[[@LINE+4]]:8: error: 'ttir.foreign_cat' op is used with different numbers of operands, and its operands past the first 1 differ in type here: without ttmlir, IRDL declares such a variadic with one type
func.func @variadic_types_differ(%x: tensor<4xf32>, %y: tensor<2xf32>) -> tensor<4xf32> {
  %0 = "ttir.foreign_cat"(%x) : (tensor<4xf32>) -> tensor<4xf32>
  %1 = "ttir.foreign_cat"(%y, %x, %x) : (tensor<2xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  %2 = "ttir.foreign_cat"(%x, %x, %y) : (tensor<4xf32>, tensor<4xf32>, tensor<2xf32>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

// IRDL ops have no traits: a TTIR/TTNN op cannot end a block as its terminator.
// ERR: foreign_ttir_ttnn.mlir:[[@LINE+4]]:5: error: block with no terminator, has "ttir.yield"(%arg1)
func.func @foreign_terminator(%x: tensor<4xf32>) -> tensor<4xf32> {
  %0 = "ttir.foreign_loop"(%x) ({
  ^bb0(%a: tensor<4xf32>):
    "ttir.yield"(%a) : (tensor<4xf32>) -> ()
  }) : (tensor<4xf32>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

// An undeclared attribute held where the bindings cannot rebuild it (the type of a dense
// constant, a distinct attribute): refused, never printed under another name.
// ERR: foreign_ttir_ttnn.mlir:[[@LINE+2]]:8: error: a ttir/ttnn attribute or type this op holds sits where it cannot be rebuilt without ttmlir
func.func @not_rebuildable() -> tensor<2xf32, #ttnn.foreign_layout<1>> {
  %0 = "ttir.constant"() <{value = dense<1.0> : tensor<2xf32, #ttnn.foreign_layout<1>>}> : () -> tensor<2xf32, #ttnn.foreign_layout<1>>
  return %0 : tensor<2xf32, #ttnn.foreign_layout<1>>
}

// -----

// ERR: foreign_ttir_ttnn.mlir:[[@LINE+2]]:8: error: a ttir/ttnn attribute or type this op holds sits where it cannot be rebuilt without ttmlir
func.func @not_rebuildable_distinct(%x: tensor<2xf32>) -> tensor<2xf32> {
  %0 = "ttir.foreign_op"(%x) {a = distinct[0]<#ttnn.foreign<1>>, b = #ttnn.foreign<2>} : (tensor<2xf32>) -> tensor<2xf32>
  return %0 : tensor<2xf32>
}
