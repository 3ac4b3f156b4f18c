// RUN: kiln-opt --split-input-file --verify-diagnostics %s
// Verifier errors of the gather/scatter, depth/space, trilu, one_hot,
// reverse_sequence and resize ops, with their exact messages.

func.func @gather_elements_rank(%x: tensor<2x3xf32>, %i: tensor<2xi64>) -> tensor<2xf32> {
  // expected-error @+1 {{indices must have the rank of the input (2), got rank 1}}
  %0 = kiln.gather_elements %x, %i {axis = 0 : i64} : (tensor<2x3xf32>, tensor<2xi64>) -> tensor<2xf32>
  return %0 : tensor<2xf32>
}

// -----

func.func @gather_elements_fit(%x: tensor<2x3xf32>, %i: tensor<3x3xi64>) -> tensor<3x3xf32> {
  // expected-error @+1 {{indices 3x3 exceed the input 2x3 outside axis 1}}
  %0 = kiln.gather_elements %x, %i {axis = 1 : i64} : (tensor<2x3xf32>, tensor<3x3xi64>) -> tensor<3x3xf32>
  return %0 : tensor<3x3xf32>
}

// -----

func.func @gather_elements_axis(%x: tensor<2x3xf32>, %i: tensor<2x3xi64>) -> tensor<2x3xf32> {
  // expected-error @+1 {{axis 2 is out of range for rank 2 (expected 0 to 1)}}
  %0 = kiln.gather_elements %x, %i {axis = 2 : i64} : (tensor<2x3xf32>, tensor<2x3xi64>) -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// -----

func.func @gather_nd_batch(%x: tensor<2x3x4xf32>, %i: tensor<3x1xi64>) -> tensor<3x4xf32> {
  // expected-error @+1 {{batch dimension 0 differs: input 2x3x4, indices 3x1}}
  %0 = kiln.gather_nd %x, %i {batch_dims = 1 : i64} : (tensor<2x3x4xf32>, tensor<3x1xi64>) -> tensor<3x4xf32>
  return %0 : tensor<3x4xf32>
}

// -----

func.func @gather_nd_tuple(%x: tensor<2x3xf32>, %i: tensor<4x3xi64>) -> tensor<4xf32> {
  // expected-error @+1 {{index tuples of length 3 do not fit input rank 2 after 0 batch dimensions}}
  %0 = kiln.gather_nd %x, %i {batch_dims = 0 : i64} : (tensor<2x3xf32>, tensor<4x3xi64>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

func.func @gather_nd_result(%x: tensor<2x3xf32>, %i: tensor<4x1xi64>) -> tensor<4xf32> {
  // expected-error @+1 {{result shape 4 does not match the inferred shape 4x3}}
  %0 = kiln.gather_nd %x, %i : (tensor<2x3xf32>, tensor<4x1xi64>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

func.func @scatter_elements_reduction(%x: tensor<2x3xf32>, %i: tensor<2x1xi64>, %u: tensor<2x1xf32>) -> tensor<2x3xf32> {
  // expected-error @+1 {{unknown reduction 'sum' (expected none, add, mul, max or min)}}
  %0 = kiln.scatter_elements %x, %i, %u {axis = 1 : i64, reduction = "sum"} : (tensor<2x3xf32>, tensor<2x1xi64>, tensor<2x1xf32>) -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// -----

func.func @scatter_elements_shapes(%x: tensor<2x3xf32>, %i: tensor<2x1xi64>, %u: tensor<2x2xf32>) -> tensor<2x3xf32> {
  // expected-error @+1 {{indices 2x1 and updates 2x2 differ in shape}}
  %0 = kiln.scatter_elements %x, %i, %u {axis = 1 : i64} : (tensor<2x3xf32>, tensor<2x1xi64>, tensor<2x2xf32>) -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// -----

func.func @scatter_nd_updates(%x: tensor<4x5xf32>, %i: tensor<2x1xi64>, %u: tensor<2x4xf32>) -> tensor<4x5xf32> {
  // expected-error @+1 {{updates shape 2x4 does not match the inferred shape 2x5}}
  %0 = kiln.scatter_nd %x, %i, %u : (tensor<4x5xf32>, tensor<2x1xi64>, tensor<2x4xf32>) -> tensor<4x5xf32>
  return %0 : tensor<4x5xf32>
}

// -----

func.func @scatter_nd_result_type(%x: tensor<4xf32>, %i: tensor<2x1xi64>, %u: tensor<2xf32>) -> tensor<4xf16> {
  // expected-error @+1 {{input, updates and result must share the element type and the result must have the input's type}}
  %0 = kiln.scatter_nd %x, %i, %u : (tensor<4xf32>, tensor<2x1xi64>, tensor<2xf32>) -> tensor<4xf16>
  return %0 : tensor<4xf16>
}

// -----

func.func @depth_to_space_channels(%x: tensor<1x6x2x2xf32>) -> tensor<1x1x4x4xf32> {
  // expected-error @+1 {{channels 6 are not divisible by blocksize^2 = 4}}
  %0 = kiln.depth_to_space %x {blocksize = 2 : i64} : (tensor<1x6x2x2xf32>) -> tensor<1x1x4x4xf32>
  return %0 : tensor<1x1x4x4xf32>
}

// -----

func.func @space_to_depth_spatial(%x: tensor<1x1x3x4xf32>) -> tensor<1x4x1x2xf32> {
  // expected-error @+1 {{spatial dimensions 3x4 are not divisible by blocksize 2}}
  %0 = kiln.space_to_depth %x {blocksize = 2 : i64} : (tensor<1x1x3x4xf32>) -> tensor<1x4x1x2xf32>
  return %0 : tensor<1x4x1x2xf32>
}

// -----

func.func @space_to_depth_result(%x: tensor<1x1x4x4xf32>) -> tensor<1x4x4x1xf32> {
  // expected-error @+1 {{result shape 1x4x4x1 does not match the inferred shape 1x4x2x2}}
  %0 = kiln.space_to_depth %x {blocksize = 2 : i64, crd = true} : (tensor<1x1x4x4xf32>) -> tensor<1x4x4x1xf32>
  return %0 : tensor<1x4x4x1xf32>
}

// -----

func.func @trilu_rank(%x: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{expected an input of rank >= 2, got rank 1}}
  %0 = kiln.trilu %x {upper = true, k = 0 : i64} : tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

func.func @one_hot_values(%i: tensor<3xi64>, %v: tensor<3xf32>) -> tensor<3x4xf32> {
  // expected-error @+1 {{values must hold two elements [off, on], got shape 3}}
  %0 = kiln.one_hot %i, %v {depth = 4 : i64, axis = 1 : i64} : (tensor<3xi64>, tensor<3xf32>) -> tensor<3x4xf32>
  return %0 : tensor<3x4xf32>
}

// -----

func.func @one_hot_axis(%i: tensor<3xi64>, %v: tensor<2xf32>) -> tensor<3x4xf32> {
  // expected-error @+1 {{axis 2 is out of range for rank 2}}
  %0 = kiln.one_hot %i, %v {depth = 4 : i64, axis = 2 : i64} : (tensor<3xi64>, tensor<2xf32>) -> tensor<3x4xf32>
  return %0 : tensor<3x4xf32>
}

// -----

func.func @reverse_sequence_lens(%x: tensor<4x3xf32>, %l: tensor<4xi64>) -> tensor<4x3xf32> {
  // expected-error @+1 {{sequence_lens must have shape 3 (the batch dimension), got 4}}
  %0 = kiln.reverse_sequence %x, %l {batch_axis = 1 : i64, time_axis = 0 : i64} : (tensor<4x3xf32>, tensor<4xi64>) -> tensor<4x3xf32>
  return %0 : tensor<4x3xf32>
}

// -----

func.func @reverse_sequence_axes(%x: tensor<4x3xf32>, %l: tensor<4xi64>) -> tensor<4x3xf32> {
  // expected-error @+1 {{batch_axis and time_axis must differ}}
  %0 = kiln.reverse_sequence %x, %l {batch_axis = 0 : i64, time_axis = 0 : i64} : (tensor<4x3xf32>, tensor<4xi64>) -> tensor<4x3xf32>
  return %0 : tensor<4x3xf32>
}

// -----

func.func @resize_scales(%x: tensor<1x1x2x2xf32>) -> tensor<1x1x4x4xf32> {
  // expected-error @+1 {{expected 4 scales, got 2}}
  %0 = kiln.resize %x {scales = array<f64: 2.0, 2.0>, roi = array<f64>, mode = "nearest", coordinate_transformation_mode = "asymmetric"} : (tensor<1x1x2x2xf32>) -> tensor<1x1x4x4xf32>
  return %0 : tensor<1x1x4x4xf32>
}

// -----

func.func @resize_transform(%x: tensor<1x1x2x2xf32>) -> tensor<1x1x4x4xf32> {
  // expected-error @+1 {{unknown coordinate_transformation_mode 'corners'}}
  %0 = kiln.resize %x {scales = array<f64: 1.0, 1.0, 2.0, 2.0>, roi = array<f64>, mode = "linear", coordinate_transformation_mode = "corners"} : (tensor<1x1x2x2xf32>) -> tensor<1x1x4x4xf32>
  return %0 : tensor<1x1x4x4xf32>
}

// -----

func.func @resize_crop_roi(%x: tensor<1x1x2x2xf32>) -> tensor<1x1x4x4xf32> {
  // expected-error @+1 {{tf_crop_and_resize needs a roi}}
  %0 = kiln.resize %x {scales = array<f64: 1.0, 1.0, 2.0, 2.0>, roi = array<f64>, mode = "linear", coordinate_transformation_mode = "tf_crop_and_resize"} : (tensor<1x1x2x2xf32>) -> tensor<1x1x4x4xf32>
  return %0 : tensor<1x1x4x4xf32>
}

// -----

func.func @resize_antialias_nearest(%x: tensor<1x1x4x4xf32>) -> tensor<1x1x2x2xf32> {
  // expected-error @+1 {{antialias applies to linear and cubic modes only}}
  %0 = kiln.resize %x {scales = array<f64: 1.0, 1.0, 0.5, 0.5>, roi = array<f64>, mode = "nearest", coordinate_transformation_mode = "asymmetric", antialias = true} : (tensor<1x1x4x4xf32>) -> tensor<1x1x2x2xf32>
  return %0 : tensor<1x1x2x2xf32>
}

// -----

func.func @einsum_form(%a: tensor<2x3xf32>) -> tensor<3x2xf32> {
  // expected-error @+1 {{einsum equation 'ij' is not in normalized explicit form}}
  %0 = kiln.einsum %a {equation = "ij"} : (tensor<2x3xf32>) -> tensor<3x2xf32>
  return %0 : tensor<3x2xf32>
}

// -----

func.func @einsum_repeated_output(%a: tensor<2x2xf32>) -> tensor<2x2xf32> {
  // expected-error @+1 {{einsum output letter 'i' is repeated}}
  %0 = kiln.einsum %a {equation = "ii->ii"} : (tensor<2x2xf32>) -> tensor<2x2xf32>
  return %0 : tensor<2x2xf32>
}
