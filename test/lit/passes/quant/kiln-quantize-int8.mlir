// RUN: kiln-opt --split-input-file --kiln-quantize-int8 --canonicalize --kiln-fuse-activations --kiln-cancel-transposes --canonicalize --verify-diagnostics %s | FileCheck %s

// conv 1x1 + relu with calibrated ranges. Input [0, 2.55] -> scale 0.01,
// zero point -128; output (the relu's range) [0, 25.5] -> scale 0.1, zp
// -128; weight 0.5 -> per-channel scale 0.5/127, value 127. Multiplier
// Q(0.01 * (0.5/127) / 0.1) = (1731514303, -11) (TFLite QuantizeMultiplier
// of the float32 scales, computed independently with Python); its right
// shift (at most 12) is folded in so the kernel rounds once:
// (1731514303 + 2^10) >> 11 = 845466, shift 0.
// CHECK-LABEL: func.func @conv_relu
// CHECK-DAG: %[[W:.+]] = kiln.constant dense<127> : tensor<1x1x1x1xi8> : tensor<1x1x1x1x!quant.uniform<i8<-127:127>:f32:0, {0.0039370078593492508}>>
// CHECK-DAG: %[[Q:.+]] = kiln.quantize %arg0 : (tensor<1x1x2x2xf32>) -> tensor<1x1x2x2x!quant.uniform<i8:f32, 0.0099999997764825821:-128>>
// CHECK: %[[X:.+]] = kiln.reshape %[[Q]] : {{.*}} -> tensor<1x2x2x1x
// CHECK: %[[C:.+]] = kiln.qconv2d %[[X]], %[[W]], %{{.+}} {{{.*}}multipliers = array<i32: 845466>{{.*}}shifts = array<i32: 0>{{.*}}} : {{.*}} -> tensor<1x2x2x1x!quant.uniform<i8:f32, 0.10000000149011612:-128>>
// CHECK-NOT: kiln.qclamp
// CHECK-NOT: kiln.conv
// CHECK: kiln.dequantize
func.func @conv_relu(%x: tensor<1x1x2x2xf32> {kiln.range = array<f64: 0.0, 2.55>}) -> tensor<1x1x2x2xf32> {
  %w = kiln.constant dense<0.5> : tensor<1x1x1x1xf32> : tensor<1x1x1x1xf32>
  %c = kiln.conv %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 1 : i64, kiln.ranges = [array<f64: -1.0, 25.5>]} : (tensor<1x1x2x2xf32>, tensor<1x1x1x1xf32>) -> tensor<1x1x2x2xf32>
  %r = kiln.relu %c {kiln.ranges = [array<f64: 0.0, 25.5>]} : tensor<1x1x2x2xf32>
  return %r : tensor<1x1x2x2xf32>
}

// -----

// Two convs in a row: the NHWC <-> NCHW transposes between them cancel.
// CHECK-LABEL: func.func @two_convs
// CHECK: kiln.transpose %{{.+}} {perm = array<i64: 0, 2, 3, 1>}
// CHECK: kiln.qconv2d
// CHECK-NOT: kiln.transpose
// CHECK: kiln.qconv2d
// CHECK: kiln.transpose %{{.+}} {perm = array<i64: 0, 3, 1, 2>}
// CHECK: kiln.dequantize
func.func @two_convs(%x: tensor<1x2x3x3xf32> {kiln.range = array<f64: -1.0, 1.0>}) -> tensor<1x2x3x3xf32> {
  %w = kiln.constant dense<0.25> : tensor<2x2x1x1xf32> : tensor<2x2x1x1xf32>
  %c1 = kiln.conv %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 1 : i64, kiln.ranges = [array<f64: -1.0, 1.0>]} : (tensor<1x2x3x3xf32>, tensor<2x2x1x1xf32>) -> tensor<1x2x3x3xf32>
  %c2 = kiln.conv %c1, %w {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 1 : i64, kiln.ranges = [array<f64: -1.0, 1.0>]} : (tensor<1x2x3x3xf32>, tensor<2x2x1x1xf32>) -> tensor<1x2x3x3xf32>
  return %c2 : tensor<1x2x3x3xf32>
}

// -----

// gemm (trans_b) with a bias becomes a fully connected layer with an int32
// bias round(b / (s_in * s_w)): 0.03 / (0.01 * (0.5/127)) = 762.
// CHECK-LABEL: func.func @gemm
// CHECK-DAG: kiln.constant dense<762> : tensor<1xi32>
// CHECK: kiln.qfully_connected
func.func @gemm(%x: tensor<1x2xf32> {kiln.range = array<f64: 0.0, 2.55>}) -> tensor<1x1xf32> {
  %w = kiln.constant dense<[[0.5, -0.25]]> : tensor<1x2xf32> : tensor<1x2xf32>
  %b = kiln.constant dense<0.03> : tensor<1xf32> : tensor<1xf32>
  %y = kiln.gemm %x, %w, %b {trans_b = true, kiln.ranges = [array<f64: -1.0, 1.0>]} : (tensor<1x2xf32>, tensor<1x2xf32>, tensor<1xf32>) -> tensor<1x1xf32>
  return %y : tensor<1x1xf32>
}

// -----

// Ops without an int8 kernel stay float between dequantize and quantize,
// with a remark.
// CHECK-LABEL: func.func @float_island
// CHECK: kiln.qconv2d
// CHECK: %[[D:.+]] = kiln.dequantize
// CHECK: kiln.erf %[[D]]
func.func @float_island(%x: tensor<1x1x2x2xf32> {kiln.range = array<f64: 0.0, 2.55>}) -> tensor<1x1x2x2xf32> {
  %w = kiln.constant dense<0.5> : tensor<1x1x1x1xf32> : tensor<1x1x1x1xf32>
  %c = kiln.conv %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 1 : i64, kiln.ranges = [array<f64: -1.0, 25.5>]} : (tensor<1x1x2x2xf32>, tensor<1x1x1x1xf32>) -> tensor<1x1x2x2xf32>
  // expected-remark @+1 {{'kiln.erf' stays float: no int8 kernel}}
  %e = kiln.erf %c : tensor<1x1x2x2xf32>
  return %e : tensor<1x1x2x2xf32>
}

// -----

// Without a range the conv stays float and says why.
// CHECK-LABEL: func.func @uncalibrated
// CHECK: kiln.conv
func.func @uncalibrated(%x: tensor<1x1x2x2xf32>) -> tensor<1x1x2x2xf32> {
  %w = kiln.constant dense<0.5> : tensor<1x1x1x1xf32> : tensor<1x1x1x1xf32>
  // expected-remark @+1 {{'kiln.conv' stays float: no calibration range}}
  %c = kiln.conv %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x1x2x2xf32>, tensor<1x1x1x1xf32>) -> tensor<1x1x2x2xf32>
  return %c : tensor<1x1x2x2xf32>
}

// -----

// A right shift above 12 stays (the folded multiplier would keep too few
// bits): M = 0.01 * (0.5/127) / 10 = Q(1108169171, -17).
// CHECK-LABEL: func.func @small_multiplier
// CHECK: kiln.qconv2d {{.*}}multipliers = array<i32: 1108169171>{{.*}}shifts = array<i32: -17>
func.func @small_multiplier(%x: tensor<1x1x2x2xf32> {kiln.range = array<f64: 0.0, 2.55>}) -> tensor<1x1x2x2xf32> {
  %w = kiln.constant dense<0.5> : tensor<1x1x1x1xf32> : tensor<1x1x1x1xf32>
  %c = kiln.conv %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 1 : i64, kiln.ranges = [array<f64: 0.0, 2550.0>]} : (tensor<1x1x2x2xf32>, tensor<1x1x1x1xf32>) -> tensor<1x1x2x2xf32>
  return %c : tensor<1x1x2x2xf32>
}

// -----

// A QDQ gemm (int8 weight rows and int32 bias behind dequantize_linear, as
// onnxruntime's quantize_static writes them) keeps its integers: the bias
// scale is s_in * s_w, so 762 stays 762.
// CHECK-LABEL: func.func @qdq_gemm
// CHECK-DAG: kiln.constant dense<762> : tensor<1xi32>
// CHECK-DAG: kiln.constant dense<{{\[\[}}127, -64]]> : tensor<1x2xi8> : tensor<1x2x!quant.uniform<i8<-127:127>:f32:0, {0.0039370078593492508}>>
// CHECK: kiln.qfully_connected
// CHECK-NOT: kiln.gemm
func.func @qdq_gemm(%x: tensor<1x2xf32> {kiln.qparam = array<f64: 0.0099999997764825821, -128.0>}) -> tensor<1x1xf32> {
  %wq = kiln.constant dense<[[127, -64]]> : tensor<1x2xi8> : tensor<1x2xi8>
  %ws = kiln.constant dense<0.00393700786> : tensor<1xf32> : tensor<1xf32>
  %wz = kiln.constant dense<0> : tensor<1xi8> : tensor<1xi8>
  %w = kiln.dequantize_linear %wq, %ws, %wz {axis = 0 : i64} : (tensor<1x2xi8>, tensor<1xf32>, tensor<1xi8>) -> tensor<1x2xf32>
  %bq = kiln.constant dense<762> : tensor<1xi32> : tensor<1xi32>
  %bs = kiln.constant dense<3.93700793E-5> : tensor<1xf32> : tensor<1xf32>
  %bz = kiln.constant dense<0> : tensor<1xi32> : tensor<1xi32>
  %b = kiln.dequantize_linear %bq, %bs, %bz {axis = 0 : i64} : (tensor<1xi32>, tensor<1xf32>, tensor<1xi32>) -> tensor<1xf32>
  %y = kiln.gemm %x, %w, %b {trans_b = true, kiln.qparams = [array<f64: 0.10000000149011612, -128.0>]} : (tensor<1x2xf32>, tensor<1x2xf32>, tensor<1xf32>) -> tensor<1x1xf32>
  return %y : tensor<1x1xf32>
}

// -----

// A QDQ bias on another grid than s_in * s_w (here twice as coarse) moves
// onto the accumulator's grid: 762 * 2 = 1524. A MatMul-style [K, M]
// weight (per-channel axis 1) is transposed into rows.
// CHECK-LABEL: func.func @qdq_matmul_rescaled_bias
// CHECK-DAG: kiln.constant dense<1524> : tensor<1xi32>
// CHECK-DAG: kiln.constant dense<{{\[\[}}127, -64]]> : tensor<1x2xi8>
// CHECK: kiln.qfully_connected
func.func @qdq_matmul_rescaled_bias(%x: tensor<1x2xf32> {kiln.qparam = array<f64: 0.0099999997764825821, -128.0>}) -> tensor<1x1xf32> {
  %wq = kiln.constant dense<[[127], [-64]]> : tensor<2x1xi8> : tensor<2x1xi8>
  %ws = kiln.constant dense<0.00393700786> : tensor<1xf32> : tensor<1xf32>
  %wz = kiln.constant dense<0> : tensor<1xi8> : tensor<1xi8>
  %w = kiln.dequantize_linear %wq, %ws, %wz {axis = 1 : i64} : (tensor<2x1xi8>, tensor<1xf32>, tensor<1xi8>) -> tensor<2x1xf32>
  %bq = kiln.constant dense<762> : tensor<1xi32> : tensor<1xi32>
  %bs = kiln.constant dense<7.87401586E-5> : tensor<1xf32> : tensor<1xf32>
  %bz = kiln.constant dense<0> : tensor<1xi32> : tensor<1xi32>
  %b = kiln.dequantize_linear %bq, %bs, %bz {axis = 0 : i64} : (tensor<1xi32>, tensor<1xf32>, tensor<1xi32>) -> tensor<1xf32>
  %y = kiln.gemm %x, %w, %b {kiln.qparams = [array<f64: 0.10000000149011612, -128.0>]} : (tensor<1x2xf32>, tensor<2x1xf32>, tensor<1xf32>) -> tensor<1x1xf32>
  return %y : tensor<1x1xf32>
}
