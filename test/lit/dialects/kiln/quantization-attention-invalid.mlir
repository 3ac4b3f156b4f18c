// RUN: kiln-opt --split-input-file --verify-diagnostics %s
// Verifier errors of the quantization and attention ops.

func.func @zero_point_type(%x: tensor<4xf32>, %s: tensor<f32>, %z: tensor<ui8>) -> tensor<4xi8> {
  // expected-error @+1 {{zero point element type 'ui8' differs from the result element type 'i8'}}
  %0 = kiln.quantize_linear %x, %s, %z : (tensor<4xf32>, tensor<f32>, tensor<ui8>) -> tensor<4xi8>
  return %0 : tensor<4xi8>
}

// -----

func.func @integer_scale(%x: tensor<4xf32>, %s: tensor<i32>) -> tensor<4xi8> {
  // expected-error @+1 {{scale must have a floating-point element type, got 'i32'}}
  %0 = kiln.quantize_linear %x, %s : (tensor<4xf32>, tensor<i32>) -> tensor<4xi8>
  return %0 : tensor<4xi8>
}

// -----

func.func @per_axis_length(%x: tensor<3x4xi8>, %s: tensor<3xf32>) -> tensor<3x4xf32> {
  // expected-error @+1 {{per-axis scale of shape 3 does not match dimension 1 of 3x4}}
  %0 = kiln.dequantize_linear %x, %s {axis = 1 : i64} : (tensor<3x4xi8>, tensor<3xf32>) -> tensor<3x4xf32>
  return %0 : tensor<3x4xf32>
}

// -----

func.func @blocked_shape(%x: tensor<2x7xi8>, %s: tensor<2x3xf32>) -> tensor<2x7xf32> {
  // expected-error @+1 {{blocked scale shape 2x3 does not match input 2x7 with block_size 2 on axis 1}}
  %0 = kiln.dequantize_linear %x, %s {axis = 1 : i64, block_size = 2 : i64} : (tensor<2x7xi8>, tensor<2x3xf32>) -> tensor<2x7xf32>
  return %0 : tensor<2x7xf32>
}

// -----

func.func @dequantize_integer_result(%x: tensor<4xi8>, %s: tensor<f32>) -> tensor<4xi32> {
  // expected-error @+1 {{result must have a floating-point element type, got 'i32'}}
  %0 = kiln.dequantize_linear %x, %s : (tensor<4xi8>, tensor<f32>) -> tensor<4xi32>
  return %0 : tensor<4xi32>
}

// -----

func.func @dynamic_quantize_types(%x: tensor<4xf32>) -> (tensor<4xi8>, tensor<f32>, tensor<ui8>) {
  // expected-error @+1 {{result and zero point must be ui8}}
  %q, %s, %z = kiln.dynamic_quantize_linear %x : (tensor<4xf32>) -> (tensor<4xi8>, tensor<f32>, tensor<ui8>)
  return %q, %s, %z : tensor<4xi8>, tensor<f32>, tensor<ui8>
}

// -----

func.func @attention_heads(%q: tensor<1x3x4x8xf32>, %k: tensor<1x2x4x8xf32>, %v: tensor<1x2x4x8xf32>) -> tensor<1x3x4x8xf32> {
  // expected-error @+1 {{query heads (3) must be a multiple of key/value heads (2)}}
  %0 = kiln.attention %q, %k, %v {is_causal = false, scale = 1.0 : f64, softcap = 0.0 : f32, qk_matmul_output_mode = 0 : i64, softmax_type = f32, left_window_size = -1 : i64, right_window_size = -1 : i64, operandSegmentSizes = array<i32: 1, 1, 1, 0, 0, 0, 0>, resultSegmentSizes = array<i32: 1, 0, 0, 0>} : (tensor<1x3x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) -> tensor<1x3x4x8xf32>
  return %0 : tensor<1x3x4x8xf32>
}

// -----

func.func @attention_mask(%q: tensor<1x2x4x8xf32>, %k: tensor<1x2x6x8xf32>, %v: tensor<1x2x6x8xf32>, %m: tensor<3x6xi1>) -> tensor<1x2x4x8xf32> {
  // expected-error @+1 {{attention mask of shape 3x6 does not broadcast to the scores 1x2x4x6}}
  %0 = kiln.attention %q, %k, %v, %m {is_causal = false, scale = 1.0 : f64, softcap = 0.0 : f32, qk_matmul_output_mode = 0 : i64, softmax_type = f32, left_window_size = -1 : i64, right_window_size = -1 : i64, operandSegmentSizes = array<i32: 1, 1, 1, 1, 0, 0, 0>, resultSegmentSizes = array<i32: 1, 0, 0, 0>} : (tensor<1x2x4x8xf32>, tensor<1x2x6x8xf32>, tensor<1x2x6x8xf32>, tensor<3x6xi1>) -> tensor<1x2x4x8xf32>
  return %0 : tensor<1x2x4x8xf32>
}

// -----

func.func @attention_present(%q: tensor<1x2x4x8xf32>, %k: tensor<1x2x6x8xf32>, %v: tensor<1x2x6x8xf32>, %pk: tensor<1x2x3x8xf32>, %pv: tensor<1x2x3x8xf32>) -> (tensor<1x2x4x8xf32>, tensor<1x2x6x8xf32>) {
  // expected-error @+1 {{present_key shape 1x2x6x8 does not match the inferred shape 1x2x9x8}}
  %0, %1 = kiln.attention %q, %k, %v, %pk, %pv {is_causal = false, scale = 1.0 : f64, softcap = 0.0 : f32, qk_matmul_output_mode = 0 : i64, softmax_type = f32, left_window_size = -1 : i64, right_window_size = -1 : i64, operandSegmentSizes = array<i32: 1, 1, 1, 0, 1, 1, 0>, resultSegmentSizes = array<i32: 1, 1, 0, 0>} : (tensor<1x2x4x8xf32>, tensor<1x2x6x8xf32>, tensor<1x2x6x8xf32>, tensor<1x2x3x8xf32>, tensor<1x2x3x8xf32>) -> (tensor<1x2x4x8xf32>, tensor<1x2x6x8xf32>)
  return %0, %1 : tensor<1x2x4x8xf32>, tensor<1x2x6x8xf32>
}

// -----

func.func @attention_window(%q: tensor<1x2x4x8xf32>, %k: tensor<1x2x6x8xf32>, %v: tensor<1x2x6x8xf32>) -> tensor<1x2x4x8xf32> {
  // expected-error @+1 {{window sizes must be -1 (unbounded) or >= 0}}
  %0 = kiln.attention %q, %k, %v {is_causal = false, scale = 1.0 : f64, softcap = 0.0 : f32, qk_matmul_output_mode = 0 : i64, softmax_type = f32, left_window_size = -2 : i64, right_window_size = -1 : i64, operandSegmentSizes = array<i32: 1, 1, 1, 0, 0, 0, 0>, resultSegmentSizes = array<i32: 1, 0, 0, 0>} : (tensor<1x2x4x8xf32>, tensor<1x2x6x8xf32>, tensor<1x2x6x8xf32>) -> tensor<1x2x4x8xf32>
  return %0 : tensor<1x2x4x8xf32>
}

// -----

func.func @rotary_dim(%x: tensor<1x2x3x8xf32>, %c: tensor<1x3x3xf32>, %s: tensor<1x3x3xf32>) -> tensor<1x2x3x8xf32> {
  // expected-error @+1 {{rotary_embedding_dim must be even and in (0, 8], got 5}}
  %0 = kiln.rotary_embedding %x, %c, %s {interleaved = false, rotary_embedding_dim = 5 : i64} : (tensor<1x2x3x8xf32>, tensor<1x3x3xf32>, tensor<1x3x3xf32>) -> tensor<1x2x3x8xf32>
  return %0 : tensor<1x2x3x8xf32>
}

// -----

func.func @rotary_cache(%x: tensor<1x2x3x8xf32>, %c: tensor<1x3x2xf32>, %s: tensor<1x3x2xf32>) -> tensor<1x2x3x8xf32> {
  // expected-error @+1 {{without position_ids the caches must be 1x3x4, got 1x3x2}}
  %0 = kiln.rotary_embedding %x, %c, %s {interleaved = false, rotary_embedding_dim = 8 : i64} : (tensor<1x2x3x8xf32>, tensor<1x3x2xf32>, tensor<1x3x2xf32>) -> tensor<1x2x3x8xf32>
  return %0 : tensor<1x2x3x8xf32>
}
