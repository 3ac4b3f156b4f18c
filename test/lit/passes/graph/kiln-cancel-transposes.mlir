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

// -----

// A residual add of two NHWC tensors wrapped in layout changes runs in NHWC:
// the transposes sink through the add and cancel.
!r = !quant.uniform<i8:f32, 5.000000e-02:3>
// CHECK-LABEL: func.func @through_qadd
// CHECK-NEXT: %[[S:.+]] = kiln.qadd %arg0, %arg1 {{.*}} : (tensor<1x4x4x2x!quant.uniform<i8:f32, 5.000000e-02:3>>, tensor<1x4x4x2x!quant.uniform<i8:f32, 5.000000e-02:3>>) -> tensor<1x4x4x2x!quant.uniform<i8:f32, 5.000000e-02:3>>
// CHECK-NEXT: return %[[S]]
func.func @through_qadd(%x: tensor<1x4x4x2x!r>, %y: tensor<1x4x4x2x!r>) -> tensor<1x4x4x2x!r> {
  %a = kiln.transpose %x {perm = array<i64: 0, 3, 1, 2>} : (tensor<1x4x4x2x!r>) -> tensor<1x2x4x4x!r>
  %b = kiln.transpose %y {perm = array<i64: 0, 3, 1, 2>} : (tensor<1x4x4x2x!r>) -> tensor<1x2x4x4x!r>
  %s = kiln.qadd %a, %b {left_shift = 20 : i32, input1_multiplier = 1073741824 : i32, input1_shift = 0 : i32, input2_multiplier = 1073741824 : i32, input2_shift = 0 : i32, output_multiplier = 1073741824 : i32, output_shift = -19 : i32, act_min = -128 : i32, act_max = 127 : i32} : (tensor<1x2x4x4x!r>, tensor<1x2x4x4x!r>) -> tensor<1x2x4x4x!r>
  %t = kiln.transpose %s {perm = array<i64: 0, 2, 3, 1>} : (tensor<1x2x4x4x!r>) -> tensor<1x4x4x2x!r>
  return %t : tensor<1x4x4x2x!r>
}

// -----

// Operands transposed differently stay as they are.
!r = !quant.uniform<i8:f32, 5.000000e-02:3>
// CHECK-LABEL: func.func @qadd_mixed
// CHECK-COUNT-2: kiln.transpose
// CHECK: kiln.qadd
func.func @qadd_mixed(%x: tensor<2x2x2x!r>, %y: tensor<2x2x2x!r>) -> tensor<2x2x2x!r> {
  %a = kiln.transpose %x {perm = array<i64: 1, 0, 2>} : (tensor<2x2x2x!r>) -> tensor<2x2x2x!r>
  %b = kiln.transpose %y {perm = array<i64: 0, 2, 1>} : (tensor<2x2x2x!r>) -> tensor<2x2x2x!r>
  %s = kiln.qadd %a, %b {left_shift = 20 : i32, input1_multiplier = 1073741824 : i32, input1_shift = 0 : i32, input2_multiplier = 1073741824 : i32, input2_shift = 0 : i32, output_multiplier = 1073741824 : i32, output_shift = -19 : i32, act_min = -128 : i32, act_max = 127 : i32} : (tensor<2x2x2x!r>, tensor<2x2x2x!r>) -> tensor<2x2x2x!r>
  return %s : tensor<2x2x2x!r>
}
