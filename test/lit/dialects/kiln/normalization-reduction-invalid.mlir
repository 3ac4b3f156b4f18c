// RUN: kiln-opt --split-input-file --verify-diagnostics %s
// Verifier errors of the normalization, softmax and reduction ops.

func.func @batch_norm_params(%x: tensor<1x4x2x2xf32>, %p: tensor<4xf32>, %q: tensor<3xf32>) -> tensor<1x4x2x2xf32> {
  // expected-error @+1 {{per-channel parameters must have shape 4, got 3}}
  %0 = kiln.batch_norm %x, %p, %p, %q, %p {epsilon = 1.0e-5 : f32} : (tensor<1x4x2x2xf32>, tensor<4xf32>, tensor<4xf32>, tensor<3xf32>, tensor<4xf32>) -> tensor<1x4x2x2xf32>
  return %0 : tensor<1x4x2x2xf32>
}

// -----

func.func @instance_norm_rank(%x: tensor<4xf32>, %p: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{expected input of rank >= 2 (N x C x ...), got rank 1}}
  %0 = kiln.instance_norm %x, %p, %p {epsilon = 1.0e-5 : f32} : (tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

func.func @group_norm_groups(%x: tensor<1x6x2xf32>, %p: tensor<6xf32>) -> tensor<1x6x2xf32> {
  // expected-error @+1 {{num_groups 4 must be positive and divide the 6 channels}}
  %0 = kiln.group_norm %x, %p, %p {num_groups = 4 : i64, epsilon = 1.0e-5 : f32} : (tensor<1x6x2xf32>, tensor<6xf32>, tensor<6xf32>) -> tensor<1x6x2xf32>
  return %0 : tensor<1x6x2xf32>
}

// -----

func.func @group_norm_stash(%x: tensor<1x6x2xf32>, %p: tensor<6xf32>) -> tensor<1x6x2xf32> {
  // expected-error @+1 {{stash_type 7 is not a floating-point type code (expected 1, 10, 11 or 16)}}
  %0 = kiln.group_norm %x, %p, %p {num_groups = 3 : i64, epsilon = 1.0e-5 : f32, stash_type = 7 : i64} : (tensor<1x6x2xf32>, tensor<6xf32>, tensor<6xf32>) -> tensor<1x6x2xf32>
  return %0 : tensor<1x6x2xf32>
}

// -----

func.func @layer_norm_scale(%x: tensor<2x3x4xf32>, %s: tensor<3xf32>) -> tensor<2x3x4xf32> {
  // expected-error @+1 {{parameter of shape 3 does not broadcast to 2x3x4 (normalized part 4)}}
  %0, %m, %i = kiln.layer_norm %x, %s {axis = 2 : i64, epsilon = 1.0e-5 : f32} : (tensor<2x3x4xf32>, tensor<3xf32>) -> (tensor<2x3x4xf32>, tensor<2x3x1xf32>, tensor<2x3x1xf32>)
  return %0 : tensor<2x3x4xf32>
}

// -----

func.func @layer_norm_stats(%x: tensor<2x3x4xf32>, %s: tensor<4xf32>) -> tensor<2x3x4xf32> {
  // expected-error @+1 {{mean shape 2x1x1 does not match the inferred shape 2x3x1}}
  %0, %m, %i = kiln.layer_norm %x, %s {axis = 2 : i64, epsilon = 1.0e-5 : f32} : (tensor<2x3x4xf32>, tensor<4xf32>) -> (tensor<2x3x4xf32>, tensor<2x1x1xf32>, tensor<2x3x1xf32>)
  return %0 : tensor<2x3x4xf32>
}

// -----

func.func @rms_norm_axis(%x: tensor<2x3xf32>, %s: tensor<3xf32>) -> tensor<2x3xf32> {
  // expected-error @+1 {{axis 2 is out of range for rank 2 (expected 0 to 1)}}
  %0 = kiln.rms_norm %x, %s {axis = 2 : i64, epsilon = 1.0e-5 : f32} : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// -----

func.func @lp_norm_p(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
  // expected-error @+1 {{p must be 1 or 2, got 3}}
  %0 = kiln.lp_normalization %x {axis = 1 : i64, p = 3 : i64} : tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// -----

func.func @mvn_axes(%x: tensor<2x3x4xf32>) -> tensor<2x3x4xf32> {
  // expected-error @+1 {{axes must be sorted and unique}}
  %0 = kiln.mean_variance_normalization %x {axes = array<i64: 2, 0>} : tensor<2x3x4xf32>
  return %0 : tensor<2x3x4xf32>
}

// -----

func.func @lrn_size(%x: tensor<1x3x4x4xf32>) -> tensor<1x3x4x4xf32> {
  // expected-error @+1 {{size must be positive, got 0}}
  %0 = kiln.lrn %x {alpha = 1.0e-4 : f32, beta = 0.75 : f32, bias = 1.0 : f32, size = 0 : i64} : tensor<1x3x4x4xf32>
  return %0 : tensor<1x3x4x4xf32>
}

// -----

func.func @softmax_axis(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
  // expected-error @+1 {{axis -1 is out of range for rank 2 (expected 0 to 1)}}
  %0 = kiln.softmax %x {axis = -1 : i64} : tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// -----

func.func @reduce_shape(%x: tensor<2x3x4xf32>) -> tensor<2x4xf32> {
  // expected-error @+1 {{result shape 2x4 does not match the inferred shape 2x1x4}}
  %0 = kiln.reduce_sum %x {axes = array<i64: 1>, keepdims = true} : (tensor<2x3x4xf32>) -> tensor<2x4xf32>
  return %0 : tensor<2x4xf32>
}

// -----

func.func @argmax_axis(%x: tensor<2x3xf32>) -> tensor<2xi64> {
  // expected-error @+1 {{axis 2 is out of range for rank 2 (expected 0 to 1)}}
  %0 = kiln.argmax %x {axis = 2 : i64, keepdims = false} : (tensor<2x3xf32>) -> tensor<2xi64>
  return %0 : tensor<2xi64>
}

// -----

func.func @topk_k(%x: tensor<2x3xf32>) -> tensor<2x4xf32> {
  // expected-error @+1 {{k = 4 must be in [0, 3]}}
  %v, %i = kiln.topk %x {k = 4 : i64, axis = 1 : i64} : (tensor<2x3xf32>) -> (tensor<2x4xf32>, tensor<2x4xi64>)
  return %v : tensor<2x4xf32>
}

// -----

func.func @nll_target(%x: tensor<3x4x2xf32>, %t: tensor<3x4xi64>) -> tensor<f32> {
  // expected-error @+1 {{target shape 3x4 does not match 3x2 (input shape without C)}}
  %0 = kiln.nll_loss %x, %t {reduction = "mean"} : (tensor<3x4x2xf32>, tensor<3x4xi64>) -> tensor<f32>
  return %0 : tensor<f32>
}

// -----

func.func @nll_reduction(%x: tensor<3x4xf32>, %t: tensor<3xi64>) -> tensor<f32> {
  // expected-error @+1 {{reduction must be 'none', 'sum' or 'mean', got 'max'}}
  %0 = kiln.nll_loss %x, %t {reduction = "max"} : (tensor<3x4xf32>, tensor<3xi64>) -> tensor<f32>
  return %0 : tensor<f32>
}

// -----

func.func @nll_result(%x: tensor<3x4xf32>, %t: tensor<3xi64>) -> tensor<f32> {
  // expected-error @+1 {{result shape scalar does not match the inferred shape 3}}
  %0 = kiln.nll_loss %x, %t {reduction = "none"} : (tensor<3x4xf32>, tensor<3xi64>) -> tensor<f32>
  return %0 : tensor<f32>
}
