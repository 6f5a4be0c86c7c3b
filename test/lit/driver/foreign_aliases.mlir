// Alias definitions that bodies of attributes of dialects not loaded here refer to (the
// parser keeps such a body as text and never resolves an alias inside it) are printed
// with the module as written. A clash with an alias name the printer chose for its own
// definition is refused: the body would silently refer to the printer's definition.
// RUN: not tt-dw-opt %s --split-input-file | FileCheck %s
// RUN: not tt-dw-opt %s --split-input-file 2>&1 >/dev/null | FileCheck %s --check-prefix=ERR

// CHECK: #idmap = affine_map<(d0) -> (d0)>
// CHECK: #map = affine_map<(d0) -> (d0 + 1)>
// CHECK-LABEL: func.func @distinct_names
// CHECK-SAME: tensor<2xf32, #ttcore.foo<#idmap>>
// CHECK-SAME: attributes {m = #map}
#idmap = affine_map<(d0) -> (d0)>
#lay = #ttcore.foo<#idmap>
func.func @distinct_names(%a: tensor<2xf32, #lay>) -> tensor<2xf32, #lay> attributes {m = affine_map<(d0) -> (d0 + 1)>} {
  return %a : tensor<2xf32, #lay>
}

// -----

// The printer names the affine map of `m` `#map` too.
// ERR: foreign_aliases.mlir:[[@LINE+3]]:1: error: cannot print the module: the input's alias #map, used inside an attribute of a dialect not loaded here, is also the name the printer gives an alias of its own
#map = affine_map<(d0) -> (d0)>
#lay = #ttcore.foo<#map>
func.func @clashing_names(%a: tensor<2xf32, #lay>) -> tensor<2xf32, #lay> attributes {m = affine_map<(d0) -> (d0 + 1)>} {
  return %a : tensor<2xf32, #lay>
}
// CHECK-NOT: @clashing_names
