// RUN: kiln-opt --split-input-file --kiln-fuse-activations %s | FileCheck %s

!a = !quant.uniform<i8:f32, 0.1:-128>
!w = !quant.uniform<i8:f32:0, {0.01}>

// qclamp after a single-use conv narrows its range and disappears.
// CHECK-LABEL: func.func @conv_relu6
// CHECK: kiln.qconv2d {{.*}}act_max = -68 : i32, act_min = -128 : i32
// CHECK-NOT: kiln.qclamp
func.func @conv_relu6(%x: tensor<1x4x4x1x!a>) -> tensor<1x4x4x1x!a> {
  %w = kiln.constant dense<1> : tensor<1x1x1x1xi8> : tensor<1x1x1x1x!w>
  %c = kiln.qconv2d %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 1 : i64, multipliers = array<i32: 1073741824>, shifts = array<i32: -6>, act_min = -128 : i32, act_max = 127 : i32} : (tensor<1x4x4x1x!a>, tensor<1x1x1x1x!w>) -> tensor<1x4x4x1x!a>
  %r = kiln.qclamp %c {min = -128 : i32, max = -68 : i32} : (tensor<1x4x4x1x!a>) -> tensor<1x4x4x1x!a>
  return %r : tensor<1x4x4x1x!a>
}

// -----

!a = !quant.uniform<i8:f32, 0.1:-3>

// Ranges intersect: an add already clamped to [-3, 100] then to [-10, 50].
// CHECK-LABEL: func.func @add_clip
// CHECK: kiln.qadd {{.*}}act_max = 50 : i32, act_min = -3 : i32
func.func @add_clip(%a: tensor<4x!a>, %b: tensor<4x!a>) -> tensor<4x!a> {
  %s = kiln.qadd %a, %b {left_shift = 20 : i32, input1_multiplier = 1073741824 : i32, input1_shift = 0 : i32, input2_multiplier = 1073741824 : i32, input2_shift = 0 : i32, output_multiplier = 1073741824 : i32, output_shift = -19 : i32, act_min = -3 : i32, act_max = 100 : i32} : (tensor<4x!a>, tensor<4x!a>) -> tensor<4x!a>
  %r = kiln.qclamp %s {min = -10 : i32, max = 50 : i32} : (tensor<4x!a>) -> tensor<4x!a>
  return %r : tensor<4x!a>
}

// -----

!a = !quant.uniform<i8:f32, 0.1:-3>

// The producer has another use: nothing fuses.
// CHECK-LABEL: func.func @shared
// CHECK: kiln.qadd {{.*}}act_max = 127 : i32, act_min = -128 : i32
// CHECK: kiln.qclamp
func.func @shared(%a: tensor<4x!a>, %b: tensor<4x!a>) -> (tensor<4x!a>, tensor<4x!a>) {
  %s = kiln.qadd %a, %b {left_shift = 20 : i32, input1_multiplier = 1073741824 : i32, input1_shift = 0 : i32, input2_multiplier = 1073741824 : i32, input2_shift = 0 : i32, output_multiplier = 1073741824 : i32, output_shift = -19 : i32, act_min = -128 : i32, act_max = 127 : i32} : (tensor<4x!a>, tensor<4x!a>) -> tensor<4x!a>
  %r = kiln.qclamp %s {min = -3 : i32, max = 127 : i32} : (tensor<4x!a>) -> tensor<4x!a>
  return %s, %r : tensor<4x!a>, tensor<4x!a>
}

// -----

!a = !quant.uniform<i8:f32, 0.1:-128>
!w = !quant.uniform<i8:f32:0, {0.01}>

// The NHWC -> NCHW transpose after a kernel does not stop the fusion.
// CHECK-LABEL: func.func @through_transpose
// CHECK: kiln.qconv2d {{.*}}act_max = 0 : i32, act_min = -20 : i32
// CHECK-NEXT: kiln.transpose
// CHECK-NEXT: return
func.func @through_transpose(%x: tensor<1x2x2x1x!a>) -> tensor<1x1x2x2x!a> {
  %w = kiln.constant dense<1> : tensor<1x1x1x1xi8> : tensor<1x1x1x1x!w>
  %c = kiln.qconv2d %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 1 : i64, multipliers = array<i32: 1073741824>, shifts = array<i32: -6>, act_min = -128 : i32, act_max = 127 : i32} : (tensor<1x2x2x1x!a>, tensor<1x1x1x1x!w>) -> tensor<1x2x2x1x!a>
  %t = kiln.transpose %c {perm = array<i64: 0, 3, 1, 2>} : (tensor<1x2x2x1x!a>) -> tensor<1x1x2x2x!a>
  %r = kiln.qclamp %t {min = -20 : i32, max = 0 : i32} : (tensor<1x1x2x2x!a>) -> tensor<1x1x2x2x!a>
  return %r : tensor<1x1x2x2x!a>
}
