// RUN: kiln-opt --split-input-file %s | FileCheck %s
// RUN: kiln-opt --split-input-file %s | kiln-opt --split-input-file | FileCheck %s
// The quantization, integer / QLinear and attention ops parse, verify and
// print back in their custom forms (optional operands stay in place).

// CHECK-LABEL: @quantize_blocked
func.func @quantize_blocked(%x: tensor<2x6xf32>, %s: tensor<2x3xf16>, %z: tensor<2x3xi4>) -> tensor<2x6xi4> {
  // CHECK: kiln.quantize_linear %{{.*}}, %{{.*}}, %{{.*}} {block_size = 2 : i64, saturate = false}
  %0 = kiln.quantize_linear %x, %s, %z {axis = 1 : i64, block_size = 2 : i64, saturate = false} : (tensor<2x6xf32>, tensor<2x3xf16>, tensor<2x3xi4>) -> tensor<2x6xi4>
  return %0 : tensor<2x6xi4>
}

// -----

// CHECK-LABEL: @dequantize_per_axis
func.func @dequantize_per_axis(%x: tensor<3x4xi8>, %s: tensor<4xf32>) -> tensor<3x4xbf16> {
  // CHECK: kiln.dequantize_linear %{{.*}}, %{{.*}} : (tensor<3x4xi8>, tensor<4xf32>) -> tensor<3x4xbf16>
  %0 = kiln.dequantize_linear %x, %s {axis = 1 : i64} : (tensor<3x4xi8>, tensor<4xf32>) -> tensor<3x4xbf16>
  return %0 : tensor<3x4xbf16>
}

// -----

// CHECK-LABEL: @dynamic_quantize
func.func @dynamic_quantize(%x: tensor<2x4xf32>) -> (tensor<2x4xui8>, tensor<f32>, tensor<ui8>) {
  // CHECK: kiln.dynamic_quantize_linear
  %q, %s, %z = kiln.dynamic_quantize_linear %x : (tensor<2x4xf32>) -> (tensor<2x4xui8>, tensor<f32>, tensor<ui8>)
  return %q, %s, %z : tensor<2x4xui8>, tensor<f32>, tensor<ui8>
}

// -----

// CHECK-LABEL: @matmul_integer_rhs_zero_point_only
func.func @matmul_integer_rhs_zero_point_only(%a: tensor<3x4xui8>, %b: tensor<4x5xi8>, %zb: tensor<5xi8>) -> tensor<3x5xi32> {
  // CHECK: kiln.matmul_integer %{{.*}}, %{{.*}} rhs_zero_point(%{{.*}}) :
  %0 = kiln.matmul_integer %a, %b rhs_zero_point(%zb) : (tensor<3x4xui8>, tensor<4x5xi8>, tensor<5xi8>) -> tensor<3x5xi32>
  return %0 : tensor<3x5xi32>
}

// -----

// CHECK-LABEL: @conv_integer
func.func @conv_integer(%x: tensor<1x2x5x5xui8>, %w: tensor<4x2x3x3xui8>, %zx: tensor<ui8>, %zw: tensor<4xui8>) -> tensor<1x4x3x3xi32> {
  // CHECK: kiln.conv_integer %{{.*}}, %{{.*}} input_zero_point(%{{.*}}) weight_zero_point(%{{.*}})
  %0 = kiln.conv_integer %x, %w input_zero_point(%zx) weight_zero_point(%zw) {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x2x5x5xui8>, tensor<4x2x3x3xui8>, tensor<ui8>, tensor<4xui8>) -> tensor<1x4x3x3xi32>
  return %0 : tensor<1x4x3x3xi32>
}

// -----

// CHECK-LABEL: @attention_all_operands
func.func @attention_all_operands(%q: tensor<2x4x3x8xf16>, %k: tensor<2x2x5x8xf16>, %v: tensor<2x2x5x6xf16>, %m: tensor<3x7xi1>, %pk: tensor<2x2x2x8xf16>, %pv: tensor<2x2x2x6xf16>) -> (tensor<2x4x3x6xf16>, tensor<2x2x7x8xf16>, tensor<2x2x7x6xf16>, tensor<2x4x3x7xf16>) {
  // CHECK: kiln.attention
  // CHECK-SAME: softmax_type = f32
  %y, %pko, %pvo, %qk = kiln.attention %q, %k, %v, %m, %pk, %pv {is_causal = true, scale = 0.125 : f64, softcap = 2.0 : f32, qk_matmul_output_mode = 3 : i64, softmax_type = f32, left_window_size = -1 : i64, right_window_size = -1 : i64, operandSegmentSizes = array<i32: 1, 1, 1, 1, 1, 1, 0>, resultSegmentSizes = array<i32: 1, 1, 1, 1>} : (tensor<2x4x3x8xf16>, tensor<2x2x5x8xf16>, tensor<2x2x5x6xf16>, tensor<3x7xi1>, tensor<2x2x2x8xf16>, tensor<2x2x2x6xf16>) -> (tensor<2x4x3x6xf16>, tensor<2x2x7x8xf16>, tensor<2x2x7x6xf16>, tensor<2x4x3x7xf16>)
  return %y, %pko, %pvo, %qk : tensor<2x4x3x6xf16>, tensor<2x2x7x8xf16>, tensor<2x2x7x6xf16>, tensor<2x4x3x7xf16>
}

// -----

// CHECK-LABEL: @rotary
func.func @rotary(%x: tensor<1x2x3x8xf32>, %c: tensor<16x2xf32>, %s: tensor<16x2xf32>, %p: tensor<1x3xi64>) -> tensor<1x2x3x8xf32> {
  // CHECK: kiln.rotary_embedding {{.*}} {interleaved = true, rotary_embedding_dim = 4 : i64}
  %0 = kiln.rotary_embedding %x, %c, %s, %p {interleaved = true, rotary_embedding_dim = 4 : i64} : (tensor<1x2x3x8xf32>, tensor<16x2xf32>, tensor<16x2xf32>, tensor<1x3xi64>) -> tensor<1x2x3x8xf32>
  return %0 : tensor<1x2x3x8xf32>
}
