// The default path=auto asks the calibrated cost model (tt_dw_mlir/cost_model.py,
// the `ours` profile of the kernels in tt_dw_mlir/kernels/) about the plan it made:
// the 14x14x576 layer, where the grouped matmul multiplies mostly zeros, converts on
// both devices; 112x112x32 stays on the matmul path. Its window planes fit L1 beside
// the output (the program keeps them there), but every position of every 32-pixel tile
// reads a float32 selector tile row from DRAM: on n150 64 cores x 7 pixel tiles x 9
// positions x 4096 B = 16.5 MB at 288 GB/s = 57.3k cycles, against an estimated 17.2k
// for the matmul (p150: 110 cores x 4 x 9 x 4096 B at 512 GB/s = 42.8k, matmul 9.8k).
// RUN: tt-dw-opt %s --tt-depthwise-to-pool 2>&1 | FileCheck %s -DDEV=n150
// RUN: tt-dw-opt %s --tt-depthwise-to-pool="device=p150" 2>&1 | FileCheck %s -DDEV=p150

// CHECK: cost_model_auto.mlir:[[@LINE+7]]:8: remark: depthwise-to-pool: conv not converted: the cost model estimates the grouped-matmul path cheaper on [[DEV]] (matmul/pool time ratio 0.{{30|23}})
// CHECK-NOT: remark
// CHECK-LABEL: func.func @mbv2_112x112x32
// CHECK: "ttir.conv2d"
// CHECK-LABEL: func.func @mbv2_14x14x576
// CHECK: "ttnn.depthwise_pool_conv"
func.func @mbv2_112x112x32(%x: tensor<1x112x112x32xbf16>, %w: tensor<32x1x3x3xbf16>) -> tensor<1x112x112x32xbf16> {
  %0 = "ttir.conv2d"(%x, %w) <{stride = 1 : i32, padding = 1 : i32, dilation = 1 : i32, groups = 32 : i32}> : (tensor<1x112x112x32xbf16>, tensor<32x1x3x3xbf16>) -> tensor<1x112x112x32xbf16>
  %1 = "ttir.relu6"(%0) : (tensor<1x112x112x32xbf16>) -> tensor<1x112x112x32xbf16>
  return %1 : tensor<1x112x112x32xbf16>
}
func.func @mbv2_14x14x576(%x: tensor<1x14x14x576xbf16>, %w: tensor<576x1x3x3xbf16>) -> tensor<1x14x14x576xbf16> {
  %0 = "ttir.conv2d"(%x, %w) <{stride = 1 : i32, padding = 1 : i32, dilation = 1 : i32, groups = 576 : i32}> : (tensor<1x14x14x576xbf16>, tensor<576x1x3x3xbf16>) -> tensor<1x14x14x576xbf16>
  return %0 : tensor<1x14x14x576xbf16>
}
