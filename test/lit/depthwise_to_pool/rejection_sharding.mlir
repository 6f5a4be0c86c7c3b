// Sharding refusals (tt_dw_mlir/sharding.py, program.py): the conv stays and
// the remark names the limit and its numbers.
// RUN: tt-dw-opt %s --split-input-file --verify-diagnostics --tt-depthwise-to-pool="path=pool shard-scheme=width_sharded" | FileCheck %s --check-prefix=WIDTH
// RUN: tt-dw-opt %s --tt-depthwise-to-pool="path=pool shard-scheme=height_sharded" 2>&1 | FileCheck %s --check-prefix=HEIGHT

// C=32 is one 32-channel tile, so width sharding has exactly one shard on one
// core (grid 1x1) holding all 112*112 = 12544 output pixels: its CBs exceed L1.
// Height sharding splits the pixels over 64 cores and converts.
// WIDTH-LABEL: func.func @width_one_core
// WIDTH: "ttir.conv2d"
// HEIGHT-LABEL: func.func @width_one_core
// HEIGHT-NOT: remark
// HEIGHT: "ttnn.depthwise_pool_conv"
func.func @width_one_core(%x: tensor<1x112x112x32xbf16>, %w: tensor<32x1x3x3xbf16>) -> tensor<1x112x112x32xbf16> {
  // expected-remark@+1 {{conv not converted: l1: no sharding fits L1: the smallest plan (width_sharded, grid 1x1, 32 channels and 12544 pixels per core, 1 pixel per pass)}}
  %0 = "ttir.conv2d"(%x, %w) <{stride = 1 : i32, padding = 1 : i32, dilation = 1 : i32, groups = 32 : i32}> : (tensor<1x112x112x32xbf16>, tensor<32x1x3x3xbf16>) -> tensor<1x112x112x32xbf16>
  return %0 : tensor<1x112x112x32xbf16>
}
