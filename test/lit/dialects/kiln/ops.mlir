// RUN: kiln-opt %s | FileCheck %s
// RUN: kiln-opt %s | kiln-opt | FileCheck %s
// RUN: kiln-opt --mlir-print-op-generic %s | kiln-opt | FileCheck %s
// Round-trip of every kiln op in its custom and generic forms.

// CHECK-LABEL: func.func @small_cnn
func.func @small_cnn(%x: tensor<1x3x8x8xf32>) -> tensor<1x10xf32> {
  // CHECK: %[[W:.+]] = kiln.constant dense<1.000000e+00> : tensor<4x3x3x3xf32> : tensor<4x3x3x3xf32>
  %w = kiln.constant dense<1.0> : tensor<4x3x3x3xf32> : tensor<4x3x3x3xf32>
  %b = kiln.constant dense<0.5> : tensor<4xf32> : tensor<4xf32>
  // CHECK: %[[C:.+]] = kiln.conv %{{.+}}, %[[W]], %{{.+}} {dilations = array<i64: 1, 1>, group = 1 : i64, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 1, 1>} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>, tensor<4xf32>) -> tensor<1x4x8x8xf32>
  %c = kiln.conv %x, %w, %b {strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>, tensor<4xf32>) -> tensor<1x4x8x8xf32>
  // CHECK: kiln.relu %[[C]] : tensor<1x4x8x8xf32>
  %r = kiln.relu %c : tensor<1x4x8x8xf32>
  // CHECK: kiln.max_pool %{{.+}} {dilations = array<i64: 1, 1>, kernel_shape = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 2, 2>} : (tensor<1x4x8x8xf32>) -> tensor<1x4x4x4xf32>
  %p = kiln.max_pool %r {kernel_shape = array<i64: 2, 2>, strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, ceil_mode = false} : (tensor<1x4x8x8xf32>) -> tensor<1x4x4x4xf32>
  // CHECK: kiln.avg_pool
  %a = kiln.avg_pool %p {kernel_shape = array<i64: 3, 3>, strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, count_include_pad = true} : (tensor<1x4x4x4xf32>) -> tensor<1x4x4x4xf32>
  // CHECK: kiln.reshape %{{.+}} : (tensor<1x4x4x4xf32>) -> tensor<1x64xf32>
  %f = kiln.reshape %a : (tensor<1x4x4x4xf32>) -> tensor<1x64xf32>
  %fc = kiln.constant dense<0.1> : tensor<10x64xf32> : tensor<10x64xf32>
  %fb = kiln.constant dense<0.0> : tensor<10xf32> : tensor<10xf32>
  // CHECK: kiln.gemm %{{.+}}, %{{.+}}, %{{.+}} {trans_b = true} : (tensor<1x64xf32>, tensor<10x64xf32>, tensor<10xf32>) -> tensor<1x10xf32>
  %y = kiln.gemm %f, %fc, %fb {trans_b = true} : (tensor<1x64xf32>, tensor<10x64xf32>, tensor<10xf32>) -> tensor<1x10xf32>
  return %y : tensor<1x10xf32>
}

// CHECK-LABEL: func.func @elementwise
func.func @elementwise(%a: tensor<2x3xf32>, %b: tensor<3xf32>) -> tensor<2x3xf32> {
  // CHECK: kiln.add %{{.+}}, %{{.+}} : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  %0 = kiln.add %a, %b : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  // CHECK: kiln.sub
  %1 = kiln.sub %0, %b : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  // CHECK: kiln.mul
  %2 = kiln.mul %1, %a : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  // CHECK: kiln.div
  %3 = kiln.div %2, %b : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  return %3 : tensor<2x3xf32>
}

// CHECK-LABEL: func.func @linear
func.func @linear(%x: tensor<2x4x8xf32>, %v: tensor<8xf32>) -> (tensor<2x4x16xf32>, tensor<2x4xf32>) {
  %w = kiln.constant dense<1.0> : tensor<8x16xf32> : tensor<8x16xf32>
  // CHECK: kiln.matmul %{{.+}}, %{{.+}} : (tensor<2x4x8xf32>, tensor<8x16xf32>) -> tensor<2x4x16xf32>
  %y = kiln.matmul %x, %w : (tensor<2x4x8xf32>, tensor<8x16xf32>) -> tensor<2x4x16xf32>
  // A rank-1 right operand drops its dimension from the result.
  // CHECK: kiln.matmul %{{.+}}, %{{.+}} : (tensor<2x4x8xf32>, tensor<8xf32>) -> tensor<2x4xf32>
  %z = kiln.matmul %x, %v : (tensor<2x4x8xf32>, tensor<8xf32>) -> tensor<2x4xf32>
  return %y, %z : tensor<2x4x16xf32>, tensor<2x4xf32>
}

// CHECK-LABEL: func.func @pool_global_and_grouped
func.func @pool_global_and_grouped(%x: tensor<1x8x5x5xf32>) -> (tensor<1x8x1x1xf32>, tensor<1x8x1x1xf32>, tensor<1x8x3x3xf32>, tensor<1x8x3x3xf32>) {
  // CHECK: kiln.global_avg_pool %{{.+}} : (tensor<1x8x5x5xf32>) -> tensor<1x8x1x1xf32>
  %0 = kiln.global_avg_pool %x : (tensor<1x8x5x5xf32>) -> tensor<1x8x1x1xf32>
  // CHECK: kiln.global_max_pool
  %1 = kiln.global_max_pool %x : (tensor<1x8x5x5xf32>) -> tensor<1x8x1x1xf32>
  // Depthwise: group == channels, stride 2 with ceil_mode.
  %w = kiln.constant dense<1.0> : tensor<8x1x3x3xf32> : tensor<8x1x3x3xf32>
  // CHECK: kiln.conv %{{.+}}, %{{.+}} {{{.*}}group = 8 : i64
  %2 = kiln.conv %x, %w {strides = array<i64: 2, 2>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, group = 8 : i64} : (tensor<1x8x5x5xf32>, tensor<8x1x3x3xf32>) -> tensor<1x8x3x3xf32>
  // ceil((5 - 2) / 2) + 1 = 3 windows.
  // CHECK: kiln.max_pool {{.*}}ceil_mode = true
  %3 = kiln.max_pool %x {kernel_shape = array<i64: 2, 2>, strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, ceil_mode = true} : (tensor<1x8x5x5xf32>) -> tensor<1x8x3x3xf32>
  return %0, %1, %2, %3 : tensor<1x8x1x1xf32>, tensor<1x8x1x1xf32>, tensor<1x8x3x3xf32>, tensor<1x8x3x3xf32>
}

// CHECK-LABEL: func.func @quantized_types
func.func @quantized_types(%x: tensor<1x4x!quant.uniform<i8:f32, 5.000000e-02:-3>>) -> tensor<1x4x!quant.uniform<i8:f32, 5.000000e-02:-3>> {
  // CHECK: kiln.constant dense<[1, -2, 3, -4]> : tensor<4xi8> : tensor<4x!quant.uniform<i8:f32:0, {1.000000e-01,2.000000e-01,1.000000e-01,2.000000e-01}>>
  %w = kiln.constant dense<[1, -2, 3, -4]> : tensor<4xi8> : tensor<4x!quant.uniform<i8:f32:0, {0.1, 0.2, 0.1, 0.2}>>
  // CHECK: kiln.relu %{{.+}} : tensor<1x4x!quant.uniform<i8:f32, 5.000000e-02:-3>>
  %r = kiln.relu %x : tensor<1x4x!quant.uniform<i8:f32, 5.000000e-02:-3>>
  return %r : tensor<1x4x!quant.uniform<i8:f32, 5.000000e-02:-3>>
}
