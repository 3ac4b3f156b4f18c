// RUN: kiln-opt --split-input-file --kiln-cancel-transposes %s | FileCheck %s

// NCHW -> NHWC -> NCHW cancels.
// CHECK-LABEL: func.func @pair
// CHECK-NOT: kiln.transpose
// CHECK: return %arg0
func.func @pair(%x: tensor<1x3x4x5xf32>) -> tensor<1x3x4x5xf32> {
  %a = kiln.transpose %x {perm = array<i64: 0, 2, 3, 1>} : (tensor<1x3x4x5xf32>) -> tensor<1x4x5x3xf32>
  %b = kiln.transpose %a {perm = array<i64: 0, 3, 1, 2>} : (tensor<1x4x5x3xf32>) -> tensor<1x3x4x5xf32>
  return %b : tensor<1x3x4x5xf32>
}

// -----

// Two transposes compose into one.
// CHECK-LABEL: func.func @compose
// CHECK: kiln.transpose %arg0 {perm = array<i64: 2, 0, 1>}
// CHECK-NOT: kiln.transpose
func.func @compose(%x: tensor<2x3x4xf32>) -> tensor<4x2x3xf32> {
  %a = kiln.transpose %x {perm = array<i64: 1, 0, 2>} : (tensor<2x3x4xf32>) -> tensor<3x2x4xf32>
  %b = kiln.transpose %a {perm = array<i64: 2, 1, 0>} : (tensor<3x2x4xf32>) -> tensor<4x2x3xf32>
  return %b : tensor<4x2x3xf32>
}

// -----

// Moving only unit dimensions is a reshape.
// CHECK-LABEL: func.func @unit_dims
// CHECK: kiln.reshape %arg0 : (tensor<1x1x1x8xf32>) -> tensor<1x8x1x1xf32>
// CHECK-NOT: kiln.transpose
func.func @unit_dims(%x: tensor<1x1x1x8xf32>) -> tensor<1x8x1x1xf32> {
  %a = kiln.transpose %x {perm = array<i64: 0, 3, 1, 2>} : (tensor<1x1x1x8xf32>) -> tensor<1x8x1x1xf32>
  return %a : tensor<1x8x1x1xf32>
}

// -----

// A transpose sinks through a dequantize to meet its inverse.
// CHECK-LABEL: func.func @through_dequantize
// CHECK-NEXT: %[[D:.+]] = kiln.dequantize %arg0 : (tensor<1x4x4x2x!quant.uniform<i8:f32, 1.000000e-01>>) -> tensor<1x4x4x2xf32>
// CHECK-NEXT: return %[[D]]
func.func @through_dequantize(%x: tensor<1x4x4x2x!quant.uniform<i8:f32, 0.1>>) -> tensor<1x4x4x2xf32> {
  %a = kiln.transpose %x {perm = array<i64: 0, 3, 1, 2>} : (tensor<1x4x4x2x!quant.uniform<i8:f32, 0.1>>) -> tensor<1x2x4x4x!quant.uniform<i8:f32, 0.1>>
  %d = kiln.dequantize %a : (tensor<1x2x4x4x!quant.uniform<i8:f32, 0.1>>) -> tensor<1x2x4x4xf32>
  %b = kiln.transpose %d {perm = array<i64: 0, 2, 3, 1>} : (tensor<1x2x4x4xf32>) -> tensor<1x4x4x2xf32>
  return %b : tensor<1x4x4x2xf32>
}

// -----

// A transpose that moves data and meets nothing stays.
// CHECK-LABEL: func.func @kept
// CHECK: kiln.transpose
func.func @kept(%x: tensor<2x3xf32>) -> tensor<3x2xf32> {
  %a = kiln.transpose %x {perm = array<i64: 1, 0>} : (tensor<2x3xf32>) -> tensor<3x2xf32>
  return %a : tensor<3x2xf32>
}
