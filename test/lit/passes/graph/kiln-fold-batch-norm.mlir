// RUN: kiln-opt --split-input-file --kiln-fold-batch-norm --canonicalize %s | FileCheck %s

// conv + BN: W' = W * g, b' = (b - mean) * g + beta, g = scale / sqrt(var + eps).
// g = 2 / sqrt(3 + 1) = 1, so W' = W; b' = (1 - 0.5) * 1 + 0.25 = 0.75.
// CHECK-LABEL: func.func @conv
func.func @conv(%x: tensor<1x1x4x4xf32>) -> tensor<1x1x4x4xf32> {
  %w = kiln.constant dense<2.0> : tensor<1x1x1x1xf32> : tensor<1x1x1x1xf32>
  %b = kiln.constant dense<1.0> : tensor<1xf32> : tensor<1xf32>
  %c = kiln.conv %x, %w, %b {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x1x4x4xf32>, tensor<1x1x1x1xf32>, tensor<1xf32>) -> tensor<1x1x4x4xf32>
  %s = kiln.constant dense<2.0> : tensor<1xf32> : tensor<1xf32>
  %beta = kiln.constant dense<0.25> : tensor<1xf32> : tensor<1xf32>
  %m = kiln.constant dense<0.5> : tensor<1xf32> : tensor<1xf32>
  %v = kiln.constant dense<3.0> : tensor<1xf32> : tensor<1xf32>
  // CHECK-DAG: %[[W:.+]] = kiln.constant dense<2.000000e+00> : tensor<1x1x1x1xf32>
  // CHECK-DAG: %[[B:.+]] = kiln.constant dense<7.500000e-01> : tensor<1xf32>
  // CHECK: kiln.conv %{{.+}}, %[[W]], %[[B]]
  // CHECK-NOT: kiln.batch_norm
  %y = kiln.batch_norm %c, %s, %beta, %m, %v {epsilon = 1.0 : f32} : (tensor<1x1x4x4xf32>, tensor<1xf32>, tensor<1xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x1x4x4xf32>
  return %y : tensor<1x1x4x4xf32>
}

// -----

// gemm (trans_b) + BN over its columns: B rows scale by g = [0.5, 1].
// CHECK-LABEL: func.func @gemm
func.func @gemm(%x: tensor<3x2xf32>) -> tensor<3x2xf32> {
  %w = kiln.constant dense<[[1.0, 2.0], [3.0, 4.0]]> : tensor<2x2xf32> : tensor<2x2xf32>
  %c = kiln.constant dense<[1.0, 1.0]> : tensor<2xf32> : tensor<2xf32>
  %g = kiln.gemm %x, %w, %c {trans_b = true} : (tensor<3x2xf32>, tensor<2x2xf32>, tensor<2xf32>) -> tensor<3x2xf32>
  %s = kiln.constant dense<[1.0, 2.0]> : tensor<2xf32> : tensor<2xf32>
  %beta = kiln.constant dense<0.0> : tensor<2xf32> : tensor<2xf32>
  %m = kiln.constant dense<[1.0, 1.0]> : tensor<2xf32> : tensor<2xf32>
  %v = kiln.constant dense<[3.0, 3.0]> : tensor<2xf32> : tensor<2xf32>
  // CHECK-DAG: kiln.constant dense<{{\[\[}}5.000000e-01, 1.000000e+00], [3.000000e+00, 4.000000e+00]]>
  // CHECK-DAG: kiln.constant dense<0.000000e+00> : tensor<2xf32>
  // CHECK: kiln.gemm
  // CHECK-NOT: kiln.batch_norm
  %y = kiln.batch_norm %g, %s, %beta, %m, %v {epsilon = 1.0 : f32} : (tensor<3x2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<3x2xf32>
  return %y : tensor<3x2xf32>
}

// -----

// No foldable producer: per-channel multiply-add.
// CHECK-LABEL: func.func @standalone
func.func @standalone(%x: tensor<1x2x3xf32>) -> tensor<1x2x3xf32> {
  %s = kiln.constant dense<[2.0, 4.0]> : tensor<2xf32> : tensor<2xf32>
  %beta = kiln.constant dense<[1.0, 0.0]> : tensor<2xf32> : tensor<2xf32>
  %m = kiln.constant dense<[0.0, 1.0]> : tensor<2xf32> : tensor<2xf32>
  %v = kiln.constant dense<[0.0, 3.0]> : tensor<2xf32> : tensor<2xf32>
  // gain = [2, 2], offset = [1, -2]
  // CHECK-DAG: %[[G:.+]] = kiln.constant dense<2.000000e+00> : tensor<2x1xf32>
  // CHECK-DAG: %[[O:.+]] = kiln.constant dense<{{\[\[}}1.000000e+00], [-2.000000e+00]]> : tensor<2x1xf32>
  // CHECK: %[[M:.+]] = kiln.mul %{{.+}}, %[[G]]
  // CHECK: kiln.add %[[M]], %[[O]]
  %y = kiln.batch_norm %x, %s, %beta, %m, %v {epsilon = 1.0 : f32} : (tensor<1x2x3xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<1x2x3xf32>
  return %y : tensor<1x2x3xf32>
}

// -----

// A conv with two users is not changed; the BN becomes mul + add.
// CHECK-LABEL: func.func @shared
func.func @shared(%x: tensor<1x1x2x2xf32>) -> (tensor<1x1x2x2xf32>, tensor<1x1x2x2xf32>) {
  %w = kiln.constant dense<2.0> : tensor<1x1x1x1xf32> : tensor<1x1x1x1xf32>
  // CHECK: kiln.conv %{{.+}}, %{{.+}} {
  %c = kiln.conv %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x1x2x2xf32>, tensor<1x1x1x1xf32>) -> tensor<1x1x2x2xf32>
  %p = kiln.constant dense<1.0> : tensor<1xf32> : tensor<1xf32>
  // CHECK: kiln.mul
  // CHECK: kiln.add
  %y = kiln.batch_norm %c, %p, %p, %p, %p {epsilon = 0.0 : f32} : (tensor<1x1x2x2xf32>, tensor<1xf32>, tensor<1xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x1x2x2xf32>
  return %c, %y : tensor<1x1x2x2xf32>, tensor<1x1x2x2xf32>
}
