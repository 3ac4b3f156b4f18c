// RUN: kiln-opt --split-input-file --verify-diagnostics %s
// Verifier errors of kiln.lowbit_linear and kiln.fake_quant, with their
// exact messages.

func.func @unknown_format(%x: tensor<2x32xf32>, %w: tensor<2x32xi8>, %s: tensor<2xf32>) -> tensor<2x2xf32> {
  // expected-error @+1 {{unknown weight format 'int3' (expected int8, int4-sym, int4-asym, qoq, nvfp4 or nvfp4-4over6)}}
  %0 = kiln.lowbit_linear %x, %w, %s {weight_format = "int3"} : (tensor<2x32xf32>, tensor<2x32xi8>, tensor<2xf32>) -> tensor<2x2xf32>
  return %0 : tensor<2x2xf32>
}

// -----

func.func @bad_pair(%x: tensor<2x32xf32>, %w: tensor<2x32xi8>, %s: tensor<2xf32>) -> tensor<2x2xf32> {
  // expected-error @+1 {{weights 'int8' with activations 'int4-sym' have no kernel (supported: int8 x int8, qoq x int8, int4-sym x int4-sym, nvfp4 x nvfp4, and any weights with float activations)}}
  %0 = kiln.lowbit_linear %x, %w, %s {weight_format = "int8", act_format = "int4-sym", act_group_size = 16 : i64} : (tensor<2x32xf32>, tensor<2x32xi8>, tensor<2xf32>) -> tensor<2x2xf32>
  return %0 : tensor<2x2xf32>
}

// -----

func.func @group_mismatch(%x: tensor<2x32xf32>, %w: tensor<2x32xi4>, %s: tensor<2x2xf32>) -> tensor<2x2xf32> {
  // expected-error @+1 {{int4 weights and activations need the same group size, got 16 and 32}}
  %0 = kiln.lowbit_linear %x, %w, %s {weight_format = "int4-sym", weight_group_size = 16 : i64, act_format = "int4-sym", act_group_size = 32 : i64} : (tensor<2x32xf32>, tensor<2x32xi4>, tensor<2x2xf32>) -> tensor<2x2xf32>
  return %0 : tensor<2x2xf32>
}

// -----

func.func @group_divides(%x: tensor<2x32xf32>, %w: tensor<2x32xi4>, %s: tensor<2x2xf32>) -> tensor<2x2xf32> {
  // expected-error @+1 {{weight group size 12 must be positive and divide the 32 input features}}
  %0 = kiln.lowbit_linear %x, %w, %s {weight_format = "int4-sym", weight_group_size = 12 : i64} : (tensor<2x32xf32>, tensor<2x32xi4>, tensor<2x2xf32>) -> tensor<2x2xf32>
  return %0 : tensor<2x2xf32>
}

// -----

func.func @code_type(%x: tensor<2x32xf32>, %w: tensor<2x32xi8>, %s: tensor<2x2xf32>) -> tensor<2x2xf32> {
  // expected-error @+1 {{weight format 'int4-sym' stores i4 codes, got 'i8'}}
  %0 = kiln.lowbit_linear %x, %w, %s {weight_format = "int4-sym", weight_group_size = 16 : i64} : (tensor<2x32xf32>, tensor<2x32xi8>, tensor<2x2xf32>) -> tensor<2x2xf32>
  return %0 : tensor<2x2xf32>
}

// -----

func.func @missing_zeros(%x: tensor<2x32xf32>, %w: tensor<2x32xui4>, %s: tensor<2x2xf32>) -> tensor<2x2xf32> {
  // expected-error @+1 {{weight format 'int4-asym' needs a 'zeros' operand}}
  %0 = kiln.lowbit_linear %x, %w, %s {weight_format = "int4-asym", weight_group_size = 16 : i64} : (tensor<2x32xf32>, tensor<2x32xui4>, tensor<2x2xf32>) -> tensor<2x2xf32>
  return %0 : tensor<2x2xf32>
}

// -----

func.func @extra_zeros(%x: tensor<2x32xf32>, %w: tensor<2x32xi8>, %s: tensor<2xf32>, %z: tensor<2x2xui4>) -> tensor<2x2xf32> {
  // expected-error @+1 {{weight format 'int8' takes no 'zeros' operand}}
  %0 = kiln.lowbit_linear %x, %w, %s zeros(%z) {weight_format = "int8"} : (tensor<2x32xf32>, tensor<2x32xi8>, tensor<2xf32>, tensor<2x2xui4>) -> tensor<2x2xf32>
  return %0 : tensor<2x2xf32>
}

// -----

func.func @qoq_scales(%x: tensor<2x32xf32>, %w: tensor<2x32xui4>, %s: tensor<2xf32>, %z: tensor<2x2xui8>, %s2: tensor<2x2xui4>) -> tensor<2x2xf32> {
  // expected-error @+1 {{'group_scales' must have element type ui8, got 'ui4'}}
  %0 = kiln.lowbit_linear %x, %w, %s zeros(%z) group_scales(%s2) {weight_format = "qoq", weight_group_size = 16 : i64, act_format = "int8"} : (tensor<2x32xf32>, tensor<2x32xui4>, tensor<2xf32>, tensor<2x2xui8>, tensor<2x2xui4>) -> tensor<2x2xf32>
  return %0 : tensor<2x2xf32>
}

// -----

func.func @scale_shape(%x: tensor<2x32xf32>, %w: tensor<2x32xi8>, %s: tensor<3xf32>) -> tensor<2x2xf32> {
  // expected-error @+1 {{'scales' must have shape 2, got 3}}
  %0 = kiln.lowbit_linear %x, %w, %s {weight_format = "int8"} : (tensor<2x32xf32>, tensor<2x32xi8>, tensor<3xf32>) -> tensor<2x2xf32>
  return %0 : tensor<2x2xf32>
}

// -----

func.func @nvfp4_tensor_scale(%x: tensor<2x32xf32>, %w: tensor<2x32xf4E2M1FN>, %s: tensor<2x2xf8E4M3FN>) -> tensor<2x2xf32> {
  // expected-error @+1 {{weight format 'nvfp4' needs a 'tensor_scale' operand}}
  %0 = kiln.lowbit_linear %x, %w, %s {weight_format = "nvfp4", weight_group_size = 16 : i64} : (tensor<2x32xf32>, tensor<2x32xf4E2M1FN>, tensor<2x2xf8E4M3FN>) -> tensor<2x2xf32>
  return %0 : tensor<2x2xf32>
}

// -----

func.func @nvfp4_group(%x: tensor<2x32xf32>, %w: tensor<2x32xf4E2M1FN>, %s: tensor<2x1xf8E4M3FN>, %t: tensor<1xf32>) -> tensor<2x2xf32> {
  // expected-error @+1 {{nvfp4 weights need group size 16, got 32}}
  %0 = kiln.lowbit_linear %x, %w, %s tensor_scale(%t) {weight_format = "nvfp4", weight_group_size = 32 : i64} : (tensor<2x32xf32>, tensor<2x32xf4E2M1FN>, tensor<2x1xf8E4M3FN>, tensor<1xf32>) -> tensor<2x2xf32>
  return %0 : tensor<2x2xf32>
}

// -----

func.func @features(%x: tensor<2x16xf32>, %w: tensor<2x32xi8>, %s: tensor<2xf32>) -> tensor<2x2xf32> {
  // expected-error @+1 {{input has 16 features but the weight expects 32}}
  %0 = kiln.lowbit_linear %x, %w, %s {weight_format = "int8"} : (tensor<2x16xf32>, tensor<2x32xi8>, tensor<2xf32>) -> tensor<2x2xf32>
  return %0 : tensor<2x2xf32>
}

// -----

func.func @result_shape(%x: tensor<2x32xf32>, %w: tensor<2x32xi8>, %s: tensor<2xf32>) -> tensor<2x3xf32> {
  // expected-error @+1 {{result shape 2x3 does not match the inferred shape 2x2}}
  %0 = kiln.lowbit_linear %x, %w, %s {weight_format = "int8"} : (tensor<2x32xf32>, tensor<2x32xi8>, tensor<2xf32>) -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// -----

func.func @bias_shape(%x: tensor<2x32xf32>, %w: tensor<2x32xi8>, %s: tensor<2xf32>, %b: tensor<3xf32>) -> tensor<2x2xf32> {
  // expected-error @+1 {{bias must be a float32 tensor of shape 2, got 'tensor<3xf32>'}}
  %0 = kiln.lowbit_linear %x, %w, %s bias(%b) {weight_format = "int8"} : (tensor<2x32xf32>, tensor<2x32xi8>, tensor<2xf32>, tensor<3xf32>) -> tensor<2x2xf32>
  return %0 : tensor<2x2xf32>
}

// -----

func.func @fp4_error(%x: tensor<2x32xf32>, %w: tensor<2x32xi8>, %s: tensor<2xf32>) -> tensor<2x2xf32> {
  // expected-error @+1 {{fp4_error must be 'mse' or 'mae', got 'max'}}
  %0 = kiln.lowbit_linear %x, %w, %s {weight_format = "int8", fp4_error = "max"} : (tensor<2x32xf32>, tensor<2x32xi8>, tensor<2xf32>) -> tensor<2x2xf32>
  return %0 : tensor<2x2xf32>
}

// -----

func.func @fake_quant_format(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  // expected-error @+1 {{unknown format 'int2' (expected int4-asym, int4-sym or int8)}}
  %0 = kiln.fake_quant %x {format = "int2", axis = 1 : i64, group_size = 8 : i64} : tensor<4x8xf32>
  return %0 : tensor<4x8xf32>
}

// -----

func.func @fake_quant_group(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  // expected-error @+1 {{group size 3 must be positive and divide the 8 elements of axis 1}}
  %0 = kiln.fake_quant %x {format = "int8", axis = 1 : i64, group_size = 3 : i64} : tensor<4x8xf32>
  return %0 : tensor<4x8xf32>
}

// -----

func.func @fake_quant_axis(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  // expected-error @+1 {{axis 2 is out of range for rank 2 (expected 0 to 1)}}
  %0 = kiln.fake_quant %x {format = "int8", axis = 2 : i64, group_size = 4 : i64} : tensor<4x8xf32>
  return %0 : tensor<4x8xf32>
}
