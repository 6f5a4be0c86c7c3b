// --mlir-print-ir-after-all dumps the IR after each pass (to stderr, as mlir-opt).
// RUN: tt-dw-opt %s --tt-depthwise-to-pool="path=pool" --cse --mlir-print-ir-after-all 2>&1 >/dev/null | FileCheck %s
// CHECK: IR Dump After {{.*}}(tt-depthwise-to-pool)
// CHECK: "ttnn.depthwise_pool_conv"
// CHECK: IR Dump After {{.*}}(cse)
// CHECK: "ttnn.depthwise_pool_conv"
func.func @f(%x: tensor<1x8x8x32xbf16>, %w: tensor<32x1x3x3xbf16>) -> tensor<1x8x8x32xbf16> {
  %0 = "ttir.conv2d"(%x, %w) <{stride = 1 : i32, padding = 1 : i32, dilation = 1 : i32, groups = 32 : i32}> : (tensor<1x8x8x32xbf16>, tensor<32x1x3x3xbf16>) -> tensor<1x8x8x32xbf16>
  return %0 : tensor<1x8x8x32xbf16>
}
