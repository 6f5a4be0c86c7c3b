// Sharding refusals (tt_dw_mlir/sharding.py, program.py): the conv stays and
// the remark names the limit and its numbers.
// RUN: tt-dw-opt %s --split-input-file --verify-diagnostics --tt-depthwise-to-pool="path=pool shard-scheme=width_sharded" | FileCheck %s --check-prefix=WIDTH
// RUN: tt-dw-opt %s --tt-depthwise-to-pool="path=pool shard-scheme=height_sharded" 2>&1 | FileCheck %s --check-prefix=HEIGHT

// C=32 is one 32-channel tile, so width sharding has exactly one shard on one
// core (grid 1x1) holding all 256*256 = 65536 output pixels = 2048 tiles of 32. The
// window planes (9x that) go to DRAM, but the output shard alone is 2048 x 2048 B =
// 4194304 B; with the 10 tiles of circular buffers (no bias: 6 bf16 tiles of 2048 B and
// the selector and acc buffers' 4 f32 tiles of 4096 B: 28672 B), 4222976 B > L1.
// Height sharding splits the pixels over 64 cores (32 tiles each) and converts.
// WIDTH-LABEL: func.func @width_one_core
// WIDTH: "ttir.conv2d"
// HEIGHT-LABEL: func.func @width_one_core
// HEIGHT-NOT: remark
// HEIGHT: "ttnn.depthwise_pool_conv"
func.func @width_one_core(%x: tensor<1x256x256x32xbf16>, %w: tensor<32x1x3x3xbf16>) -> tensor<1x256x256x32xbf16> {
  // expected-remark@+1 {{conv not converted: l1: no sharding fits L1: the smallest plan (width_sharded, grid 1x1, 32 channels and 65536 pixels per core) needs 4222976 B of L1 per core, n150 has 1395424 B usable; largest: 'out' shard, 4194304 B}}
  %0 = "ttir.conv2d"(%x, %w) <{stride = 1 : i32, padding = 1 : i32, dilation = 1 : i32, groups = 32 : i32}> : (tensor<1x256x256x32xbf16>, tensor<32x1x3x3xbf16>) -> tensor<1x256x256x32xbf16>
  return %0 : tensor<1x256x256x32xbf16>
}
