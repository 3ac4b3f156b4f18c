// RUN: kiln-opt --split-input-file --kiln-fold-qdq %s | FileCheck %s

// An activation QDQ pair disappears; its parameters stay on the producer
// (uint8 zero point 128 becomes int8 0; the f32 scale 0.1 is 0.10000000149).
// CHECK-LABEL: func.func @activation
// CHECK: %[[R:.+]] = kiln.relu %arg0 {kiln.qparams = [array<f64: 0.10000000149011612, 0.000000e+00>]}
// CHECK-NOT: kiln.quantize_linear
// CHECK-NOT: kiln.dequantize_linear
// CHECK: kiln.neg %[[R]]
func.func @activation(%x: tensor<4xf32>) -> tensor<4xf32> {
  %r = kiln.relu %x : tensor<4xf32>
  %s = kiln.constant dense<0.1> : tensor<f32> : tensor<f32>
  %z = kiln.constant dense<128> : tensor<ui8> : tensor<ui8>
  %q = kiln.quantize_linear %r, %s, %z : (tensor<4xf32>, tensor<f32>, tensor<ui8>) -> tensor<4xui8>
  %d = kiln.dequantize_linear %q, %s, %z : (tensor<4xui8>, tensor<f32>, tensor<ui8>) -> tensor<4xf32>
  %n = kiln.neg %d : tensor<4xf32>
  return %n : tensor<4xf32>
}

// -----

// Pairs with different parameters are not folded.
// CHECK-LABEL: func.func @mismatch
// CHECK: kiln.quantize_linear
// CHECK: kiln.dequantize_linear
func.func @mismatch(%x: tensor<4xf32>) -> tensor<4xf32> {
  %s1 = kiln.constant dense<0.1> : tensor<f32> : tensor<f32>
  %s2 = kiln.constant dense<0.2> : tensor<f32> : tensor<f32>
  %q = kiln.quantize_linear %x, %s1 : (tensor<4xf32>, tensor<f32>) -> tensor<4xui8>
  %d = kiln.dequantize_linear %q, %s2 : (tensor<4xui8>, tensor<f32>) -> tensor<4xf32>
  return %d : tensor<4xf32>
}
