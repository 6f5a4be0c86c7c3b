// The default path=auto asks the calibrated cost model (tt_dw_mlir/cost_model.py,
// the `ours` profile of the kernels in tt_dw_mlir/kernels/): the 14x14x576 layer,
// where the grouped matmul multiplies mostly zeros, converts on both devices;
// 56x56x96 s2 stays on the matmul path, where the model predicts streaming the
// kernels' pre-gathered window planes from DRAM slower than the matmul.
// RUN: tt-dw-opt %s --tt-depthwise-to-pool 2>&1 | FileCheck %s -DDEV=n150
// RUN: tt-dw-opt %s --tt-depthwise-to-pool="device=p150" 2>&1 | FileCheck %s -DDEV=p150

// CHECK: cost_model_auto.mlir:[[@LINE+7]]:8: remark: depthwise-to-pool: conv not converted: the cost model estimates the grouped-matmul path cheaper on [[DEV]] (matmul/pool time ratio 0.{{[0-9]+}})
// CHECK-NOT: remark
// CHECK-LABEL: func.func @mbv2_56x56x96_s2
// CHECK: "ttir.conv2d"
// CHECK-LABEL: func.func @mbv2_14x14x576
// CHECK: "ttnn.depthwise_pool_conv"
func.func @mbv2_56x56x96_s2(%x: tensor<1x56x56x96xbf16>, %w: tensor<96x1x3x3xbf16>) -> tensor<1x28x28x96xbf16> {
  %0 = "ttir.conv2d"(%x, %w) <{stride = 2 : i32, padding = 1 : i32, dilation = 1 : i32, groups = 96 : i32}> : (tensor<1x56x56x96xbf16>, tensor<96x1x3x3xbf16>) -> tensor<1x28x28x96xbf16>
  %1 = "ttir.relu6"(%0) : (tensor<1x28x28x96xbf16>) -> tensor<1x28x28x96xbf16>
  return %1 : tensor<1x28x28x96xbf16>
}
func.func @mbv2_14x14x576(%x: tensor<1x14x14x576xbf16>, %w: tensor<576x1x3x3xbf16>) -> tensor<1x14x14x576xbf16> {
  %0 = "ttir.conv2d"(%x, %w) <{stride = 1 : i32, padding = 1 : i32, dilation = 1 : i32, groups = 576 : i32}> : (tensor<1x14x14x576xbf16>, tensor<576x1x3x3xbf16>) -> tensor<1x14x14x576xbf16>
  return %0 : tensor<1x14x14x576xbf16>
}
