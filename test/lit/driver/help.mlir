// RUN: tt-dw-opt --help | FileCheck %s
// CHECK: usage: tt-dw-opt
// CHECK: --pass-pipeline
// CHECK: --tt-depthwise-to-pool {{.*}}ttnn.depthwise_pool_conv
// CHECK: --tt-depthwise-pool-to-kernels
// CHECK: --tt-depthwise-pool-pipeline
