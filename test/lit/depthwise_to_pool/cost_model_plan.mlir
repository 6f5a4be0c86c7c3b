// path=auto prices the plan the pass records, not a plan of its own: with
// shard-scheme=block_sharded the estimate is the block-sharded program's.
// MobileNetV2 features.3 (56x56x144, 3x3, stride 1) on n150, estimates:
// - auto: height sharded on 64 cores, 144 channels padded to 160 = 5 channel tiles on
//   every core, in blocks of 1 tile (5 has no divisor from 2 to the 4 float32 tiles DST
//   holds); 49 pixels = 2 pixel tiles. Window planes in L1; per block, pixel tile and
//   position one float32 selector tile from DRAM: 64 x 5 x 2 x 9 x 4096 B at 288 GB/s
//   = 81.9k cycles against 57.6k for the matmul: ratio 0.70, stays a ttir.conv2d.
// - block_sharded: 8 x 5 cores (40), 32 channels (1 tile) each, 392 pixels = 13 tiles:
//   40 x 13 x 9 x 4096 B at 288 GB/s = 66.6k cycles against 74.9k: ratio 1.12, converted.
// RUN: tt-dw-opt %s --tt-depthwise-to-pool 2>&1 | FileCheck %s --check-prefix=AUTO
// RUN: tt-dw-opt %s --tt-depthwise-to-pool="shard-scheme=block_sharded" 2>&1 | FileCheck %s --check-prefix=BLOCK

// AUTO: cost_model_plan.mlir:[[@LINE+8]]:8: remark: depthwise-to-pool: conv not converted: the cost model estimates the grouped-matmul path cheaper on n150 (matmul/pool time ratio 0.70)
// AUTO-LABEL: func.func @mbv2_56x56x144
// AUTO: "ttir.conv2d"
// BLOCK-NOT: remark
// BLOCK-LABEL: func.func @mbv2_56x56x144
// BLOCK: "ttnn.depthwise_pool_conv"
// BLOCK-SAME: shard_scheme = "block_sharded"
func.func @mbv2_56x56x144(%x: tensor<1x56x56x144xbf16>, %w: tensor<144x1x3x3xbf16>) -> tensor<1x56x56x144xbf16> {
  %0 = "ttir.conv2d"(%x, %w) <{stride = 1 : i32, padding = 1 : i32, dilation = 1 : i32, groups = 144 : i32}> : (tensor<1x56x56x144xbf16>, tensor<144x1x3x3xbf16>) -> tensor<1x56x56x144xbf16>
  %1 = "ttir.relu6"(%0) : (tensor<1x56x56x144xbf16>) -> tensor<1x56x56x144xbf16>
  return %1 : tensor<1x56x56x144xbf16>
}
