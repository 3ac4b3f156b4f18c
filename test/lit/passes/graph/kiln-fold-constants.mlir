// RUN: kiln-opt --split-input-file --kiln-fold-constants %s | FileCheck %s

// Chains of constant ops fold in one walk; ops on arguments stay.
// CHECK-LABEL: func.func @chain
func.func @chain(%x: tensor<2x1xf32>) -> tensor<2x1xf32> {
  %c = kiln.constant dense<[[1.0, 2.0]]> : tensor<1x2xf32> : tensor<1x2xf32>
  %t = kiln.transpose %c {perm = array<i64: 1, 0>} : (tensor<1x2xf32>) -> tensor<2x1xf32>
  %n = kiln.neg %t : tensor<2x1xf32>
  // CHECK-NOT: kiln.transpose
  // CHECK-NOT: kiln.neg
  // CHECK: %[[C:.+]] = kiln.constant dense<{{\[\[}}-1.000000e+00], [-2.000000e+00]]> : tensor<2x1xf32>
  // CHECK: kiln.add %{{.+}}, %[[C]]
  %y = kiln.add %x, %n : (tensor<2x1xf32>, tensor<2x1xf32>) -> tensor<2x1xf32>
  return %y : tensor<2x1xf32>
}

// -----

// Results above max-elements are not materialized.
// RUN: kiln-opt --kiln-fold-constants="max-elements=2" %s --split-input-file | FileCheck %s --check-prefix=LIMIT
// LIMIT-LABEL: func.func @limit
// LIMIT: kiln.broadcast
// CHECK-LABEL: func.func @limit
// CHECK-NOT: kiln.broadcast
func.func @limit() -> tensor<4xf32> {
  %c = kiln.constant dense<1.0> : tensor<1xf32> : tensor<1xf32>
  %b = kiln.broadcast %c : (tensor<1xf32>) -> tensor<4xf32>
  return %b : tensor<4xf32>
}
