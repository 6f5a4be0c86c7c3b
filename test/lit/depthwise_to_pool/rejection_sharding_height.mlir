// Height sharding keeps all channels on every core: C=2048 on 64x64 pixels
// (64 pixels on each of n150's 64 cores) does not fit L1.
// RUN: tt-dw-opt %s --verify-diagnostics --tt-depthwise-to-pool="path=pool shard-scheme=height_sharded" | FileCheck %s

// CHECK-LABEL: func.func @wide_height
// CHECK: "ttir.conv2d"
func.func @wide_height(%x: tensor<1x64x64x2048xbf16>, %w: tensor<2048x1x3x3xbf16>) -> tensor<1x64x64x2048xbf16> {
  // expected-remark@+1 {{l1: no sharding fits L1: the smallest plan (height_sharded, grid 8x8, 2048 channels and 64 pixels per core, 1 pixel per pass)}}
  %0 = "ttir.conv2d"(%x, %w) <{stride = 1 : i32, padding = 1 : i32, dilation = 1 : i32, groups = 2048 : i32}> : (tensor<1x64x64x2048xbf16>, tensor<2048x1x3x3xbf16>) -> tensor<1x64x64x2048xbf16>
  return %0 : tensor<1x64x64x2048xbf16>
}
