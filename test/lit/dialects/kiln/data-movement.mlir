// RUN: kiln-opt --split-input-file %s | FileCheck %s
// The gather/scatter, depth/space, trilu, one_hot, reverse_sequence, resize,
// conv_transpose and einsum ops parse, verify and print back.

// CHECK-LABEL: @gathers
func.func @gathers(%x: tensor<2x3x4xf32>, %e: tensor<2x3x2xi64>, %n: tensor<2x5x1xi64>) -> (tensor<2x3x2xf32>, tensor<2x5x4xf32>) {
  // CHECK: kiln.gather_elements %{{.*}}, %{{.*}} {axis = 2 : i64} : (tensor<2x3x4xf32>, tensor<2x3x2xi64>) -> tensor<2x3x2xf32>
  %0 = kiln.gather_elements %x, %e {axis = 2 : i64} : (tensor<2x3x4xf32>, tensor<2x3x2xi64>) -> tensor<2x3x2xf32>
  // CHECK: kiln.gather_nd %{{.*}}, %{{.*}} {batch_dims = 1 : i64} : (tensor<2x3x4xf32>, tensor<2x5x1xi64>) -> tensor<2x5x4xf32>
  %1 = kiln.gather_nd %x, %n {batch_dims = 1 : i64} : (tensor<2x3x4xf32>, tensor<2x5x1xi64>) -> tensor<2x5x4xf32>
  return %0, %1 : tensor<2x3x2xf32>, tensor<2x5x4xf32>
}

// -----

// CHECK-LABEL: @scatters
func.func @scatters(%x: tensor<4x5xf32>, %i: tensor<4x2xi64>, %u: tensor<4x2xf32>, %t: tensor<3x1xi64>, %v: tensor<3x5xf32>) -> (tensor<4x5xf32>, tensor<4x5xf32>) {
  // CHECK: kiln.scatter_elements %{{.*}}, %{{.*}}, %{{.*}} {axis = 1 : i64, reduction = "max"}
  %0 = kiln.scatter_elements %x, %i, %u {axis = 1 : i64, reduction = "max"} : (tensor<4x5xf32>, tensor<4x2xi64>, tensor<4x2xf32>) -> tensor<4x5xf32>
  // CHECK: kiln.scatter_nd %{{.*}}, %{{.*}}, %{{.*}} : (tensor<4x5xf32>, tensor<3x1xi64>, tensor<3x5xf32>) -> tensor<4x5xf32>
  %1 = kiln.scatter_nd %x, %t, %v : (tensor<4x5xf32>, tensor<3x1xi64>, tensor<3x5xf32>) -> tensor<4x5xf32>
  return %0, %1 : tensor<4x5xf32>, tensor<4x5xf32>
}

// -----

// CHECK-LABEL: @rearrangements
func.func @rearrangements(%x: tensor<1x8x2x3xf32>) -> tensor<1x8x2x3xf32> {
  // CHECK: kiln.depth_to_space %{{.*}} {blocksize = 2 : i64, crd = true} : (tensor<1x8x2x3xf32>) -> tensor<1x2x4x6xf32>
  %0 = kiln.depth_to_space %x {blocksize = 2 : i64, crd = true} : (tensor<1x8x2x3xf32>) -> tensor<1x2x4x6xf32>
  // CHECK: kiln.space_to_depth %{{.*}} {blocksize = 2 : i64, crd = true} : (tensor<1x2x4x6xf32>) -> tensor<1x8x2x3xf32>
  %1 = kiln.space_to_depth %0 {blocksize = 2 : i64, crd = true} : (tensor<1x2x4x6xf32>) -> tensor<1x8x2x3xf32>
  return %1 : tensor<1x8x2x3xf32>
}

// -----

// CHECK-LABEL: @misc
func.func @misc(%x: tensor<4x5xf32>, %i: tensor<3xi64>, %v: tensor<2xf32>, %l: tensor<5xi32>) -> (tensor<4x5xf32>, tensor<10x3xf32>, tensor<4x5xf32>) {
  // CHECK: kiln.trilu %{{.*}} {k = -1 : i64, upper = false} : tensor<4x5xf32>
  %0 = kiln.trilu %x {upper = false, k = -1 : i64} : tensor<4x5xf32>
  // CHECK: kiln.one_hot %{{.*}}, %{{.*}} {axis = 0 : i64, depth = 10 : i64} : (tensor<3xi64>, tensor<2xf32>) -> tensor<10x3xf32>
  %1 = kiln.one_hot %i, %v {depth = 10 : i64, axis = 0 : i64} : (tensor<3xi64>, tensor<2xf32>) -> tensor<10x3xf32>
  // CHECK: kiln.reverse_sequence %{{.*}}, %{{.*}} {batch_axis = 1 : i64, time_axis = 0 : i64} : (tensor<4x5xf32>, tensor<5xi32>) -> tensor<4x5xf32>
  %2 = kiln.reverse_sequence %x, %l {batch_axis = 1 : i64, time_axis = 0 : i64} : (tensor<4x5xf32>, tensor<5xi32>) -> tensor<4x5xf32>
  return %0, %1, %2 : tensor<4x5xf32>, tensor<10x3xf32>, tensor<4x5xf32>
}

// -----

// CHECK-LABEL: @resize
func.func @resize(%x: tensor<1x1x2x2xf32>) -> tensor<1x1x3x5xf32> {
  // CHECK: kiln.resize %{{.*}} {antialias = true, coordinate_transformation_mode = "half_pixel_symmetric", mode = "cubic", roi = array<f64>, scales = array<f64: 1.000000e+00, 1.000000e+00, 1.500000e+00, 2.500000e+00>}
  %0 = kiln.resize %x {scales = array<f64: 1.0, 1.0, 1.5, 2.5>, roi = array<f64>, mode = "cubic", coordinate_transformation_mode = "half_pixel_symmetric", antialias = true} : (tensor<1x1x2x2xf32>) -> tensor<1x1x3x5xf32>
  return %0 : tensor<1x1x3x5xf32>
}

// -----

// CHECK-LABEL: @linear
func.func @linear(%x: tensor<1x4x3x3xf32>, %w: tensor<4x1x3x3xf32>, %a: tensor<2x3xf32>, %b: tensor<3xf32>) -> (tensor<1x2x6x6xf32>, tensor<2xf32>) {
  // CHECK: kiln.conv_transpose %{{.*}}, %{{.*}} {dilations = array<i64: 1, 1>, group = 2 : i64, output_padding = array<i64: 0, 0>, pads = array<i64: 0, 0, 1, 1>, strides = array<i64: 2, 2>}
  %0 = kiln.conv_transpose %x, %w {strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 1, 1>, dilations = array<i64: 1, 1>, output_padding = array<i64: 0, 0>, group = 2 : i64} : (tensor<1x4x3x3xf32>, tensor<4x1x3x3xf32>) -> tensor<1x2x6x6xf32>
  // CHECK: kiln.einsum %{{.*}}, %{{.*}} {equation = "ij,j->i"} : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2xf32>
  %1 = kiln.einsum %a, %b {equation = "ij,j->i"} : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2xf32>
  return %0, %1 : tensor<1x2x6x6xf32>, tensor<2xf32>
}
