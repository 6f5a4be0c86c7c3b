// Rejection remarks: by default only for convs that are grouped (groups > 1), i.e.
// depthwise or almost; dense convs only with remarks=all, described as dense
// whatever their channel counts (1 -> 192 is dense, not a channel multiplier).
// RUN: tt-dw-opt %s --split-input-file --tt-depthwise-to-pool="path=pool" 2>&1 >/dev/null | FileCheck %s --check-prefix=DEFAULT --allow-empty
// RUN: tt-dw-opt %s --split-input-file --tt-depthwise-to-pool="path=pool remarks=all" 2>&1 >/dev/null | FileCheck %s --check-prefix=ALL
// RUN: tt-dw-opt %s --split-input-file --tt-depthwise-to-pool="path=pool remarks=none" 2>&1 >/dev/null | FileCheck %s --check-prefix=NONE --allow-empty

// DEFAULT-NOT: dense conv
// NONE-NOT: remark

// ALL: remarks.mlir:[[@LINE+3]]:8: remark: depthwise-to-pool: conv not converted: groups = 1: a dense conv (1 -> 192 channels), not depthwise
// ALL-NOT: channel multiplier
func.func @stem_1_to_192(%x: tensor<1x8x8x1xbf16>, %w: tensor<192x1x3x3xbf16>) -> tensor<1x8x8x192xbf16> {
  %0 = "ttir.conv2d"(%x, %w) <{stride = 1 : i32, padding = 1 : i32, dilation = 1 : i32, groups = 1 : i32}> : (tensor<1x8x8x1xbf16>, tensor<192x1x3x3xbf16>) -> tensor<1x8x8x192xbf16>
  return %0 : tensor<1x8x8x192xbf16>
}

// -----

// ALL: remarks.mlir:[[@LINE+2]]:8: remark: depthwise-to-pool: conv not converted: groups = 1: a dense conv (32 -> 64 channels), not depthwise
func.func @dense(%x: tensor<1x8x8x32xbf16>, %w: tensor<64x32x1x1xbf16>) -> tensor<1x8x8x64xbf16> {
  %0 = "ttir.conv2d"(%x, %w) <{stride = 1 : i32, padding = 0 : i32, dilation = 1 : i32, groups = 1 : i32}> : (tensor<1x8x8x32xbf16>, tensor<64x32x1x1xbf16>) -> tensor<1x8x8x64xbf16>
  return %0 : tensor<1x8x8x64xbf16>
}

// -----

// DEFAULT: remarks.mlir:[[@LINE+4]]:8: remark: depthwise-to-pool: conv not converted: grouped conv with 8 groups of 4 channels
// DEFAULT-NOT: remark
// ALL: remarks.mlir:[[@LINE+2]]:8: remark: depthwise-to-pool: conv not converted: grouped conv with 8 groups of 4 channels
func.func @grouped(%x: tensor<1x8x8x32xbf16>, %w: tensor<32x4x3x3xbf16>) -> tensor<1x8x8x32xbf16> {
  %0 = "ttir.conv2d"(%x, %w) <{stride = 1 : i32, padding = 1 : i32, dilation = 1 : i32, groups = 8 : i32}> : (tensor<1x8x8x32xbf16>, tensor<32x4x3x3xbf16>) -> tensor<1x8x8x32xbf16>
  return %0 : tensor<1x8x8x32xbf16>
}

// -----

// A single-channel conv (1 -> 1, groups 1) is depthwise and converts.
// ALL: remarks.mlir:[[@LINE+2]]:8: remark: depthwise-to-pool: converted (3x3 C=1
func.func @single_channel(%x: tensor<1x8x8x1xbf16>, %w: tensor<1x1x3x3xbf16>) -> tensor<1x8x8x1xbf16> {
  %0 = "ttir.conv2d"(%x, %w) <{stride = 1 : i32, padding = 1 : i32, dilation = 1 : i32, groups = 1 : i32}> : (tensor<1x8x8x1xbf16>, tensor<1x1x3x3xbf16>) -> tensor<1x8x8x1xbf16>
  return %0 : tensor<1x8x8x1xbf16>
}
