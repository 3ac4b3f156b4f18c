// RUN: kiln-opt --split-input-file --verify-diagnostics %s

func.func @conv_float_input(%x: tensor<1x4x4x1xf32>, %w: tensor<1x1x1x1x!quant.uniform<i8:f32:0, {0.1}>>) -> tensor<1x4x4x1x!quant.uniform<i8:f32, 0.1>> {
  // expected-error @+1 {{input must have a per-tensor int8 quantized element type}}
  %c = kiln.qconv2d %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 1 : i64, multipliers = array<i32: 1073741824>, shifts = array<i32: 0>, act_min = -128 : i32, act_max = 127 : i32} : (tensor<1x4x4x1xf32>, tensor<1x1x1x1x!quant.uniform<i8:f32:0, {0.1}>>) -> tensor<1x4x4x1x!quant.uniform<i8:f32, 0.1>>
  return %c : tensor<1x4x4x1x!quant.uniform<i8:f32, 0.1>>
}

// -----

func.func @conv_multipliers(%x: tensor<1x4x4x1x!quant.uniform<i8:f32, 0.1>>, %w: tensor<2x1x1x1x!quant.uniform<i8:f32:0, {0.1, 0.2}>>) -> tensor<1x4x4x2x!quant.uniform<i8:f32, 0.1>> {
  // expected-error @+1 {{expected 2 multipliers and shifts, got 1 and 1}}
  %c = kiln.qconv2d %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 1 : i64, multipliers = array<i32: 1073741824>, shifts = array<i32: 0>, act_min = -128 : i32, act_max = 127 : i32} : (tensor<1x4x4x1x!quant.uniform<i8:f32, 0.1>>, tensor<2x1x1x1x!quant.uniform<i8:f32:0, {0.1, 0.2}>>) -> tensor<1x4x4x2x!quant.uniform<i8:f32, 0.1>>
  return %c : tensor<1x4x4x2x!quant.uniform<i8:f32, 0.1>>
}

// -----

func.func @conv_asymmetric_weight(%x: tensor<1x4x4x1x!quant.uniform<i8:f32, 0.1>>, %w: tensor<1x1x1x1x!quant.uniform<i8:f32, 0.1:3>>) -> tensor<1x4x4x1x!quant.uniform<i8:f32, 0.1>> {
  // expected-error @+1 {{weights must be symmetric (zero point 0)}}
  %c = kiln.qconv2d %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 1 : i64, multipliers = array<i32: 1073741824>, shifts = array<i32: 0>, act_min = -128 : i32, act_max = 127 : i32} : (tensor<1x4x4x1x!quant.uniform<i8:f32, 0.1>>, tensor<1x1x1x1x!quant.uniform<i8:f32, 0.1:3>>) -> tensor<1x4x4x1x!quant.uniform<i8:f32, 0.1>>
  return %c : tensor<1x4x4x1x!quant.uniform<i8:f32, 0.1>>
}

// -----

func.func @conv_shape(%x: tensor<1x4x4x1x!quant.uniform<i8:f32, 0.1>>, %w: tensor<1x3x3x1x!quant.uniform<i8:f32:0, {0.1}>>) -> tensor<1x4x4x1x!quant.uniform<i8:f32, 0.1>> {
  // expected-error @+1 {{result shape 1x4x4x1 does not match the inferred shape 1x2x2x1}}
  %c = kiln.qconv2d %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 1 : i64, multipliers = array<i32: 1073741824>, shifts = array<i32: 0>, act_min = -128 : i32, act_max = 127 : i32} : (tensor<1x4x4x1x!quant.uniform<i8:f32, 0.1>>, tensor<1x3x3x1x!quant.uniform<i8:f32:0, {0.1}>>) -> tensor<1x4x4x1x!quant.uniform<i8:f32, 0.1>>
  return %c : tensor<1x4x4x1x!quant.uniform<i8:f32, 0.1>>
}

// -----

func.func @act_range(%a: tensor<4x!quant.uniform<i8:f32, 0.1>>) -> tensor<4x!quant.uniform<i8:f32, 0.1>> {
  // expected-error @+1 {{activation range [10, 5] must lie in [-128, 127] with min <= max}}
  %r = kiln.qclamp %a {min = 10 : i32, max = 5 : i32} : (tensor<4x!quant.uniform<i8:f32, 0.1>>) -> tensor<4x!quant.uniform<i8:f32, 0.1>>
  return %r : tensor<4x!quant.uniform<i8:f32, 0.1>>
}

// -----

func.func @pool_requant(%a: tensor<1x4x4x1x!quant.uniform<i8:f32, 0.1>>) -> tensor<1x2x2x1x!quant.uniform<i8:f32, 0.2>> {
  // expected-error @+1 {{input and result must share their quantization}}
  %r = kiln.qmax_pool2d %a {kernel_shape = array<i64: 2, 2>, strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, act_min = -128 : i32, act_max = 127 : i32} : (tensor<1x4x4x1x!quant.uniform<i8:f32, 0.1>>) -> tensor<1x2x2x1x!quant.uniform<i8:f32, 0.2>>
  return %r : tensor<1x2x2x1x!quant.uniform<i8:f32, 0.2>>
}

// -----

func.func @softmax_scale(%a: tensor<1x4x!quant.uniform<i8:f32, 0.1>>) -> tensor<1x4x!quant.uniform<i8:f32, 0.1>> {
  // expected-error @+1 {{the exp table must have 256 entries, got 1}}
  %r = kiln.qsoftmax %a {table = array<i32: 1>} : (tensor<1x4x!quant.uniform<i8:f32, 0.1>>) -> tensor<1x4x!quant.uniform<i8:f32, 0.1>>
  return %r : tensor<1x4x!quant.uniform<i8:f32, 0.1>>
}

// -----

func.func @quantize_float(%a: tensor<4xf16>) -> tensor<4x!quant.uniform<i8:f32, 0.1>> {
  // expected-error @+1 {{input must be float32}}
  %q = kiln.quantize %a : (tensor<4xf16>) -> tensor<4x!quant.uniform<i8:f32, 0.1>>
  return %q : tensor<4x!quant.uniform<i8:f32, 0.1>>
}
