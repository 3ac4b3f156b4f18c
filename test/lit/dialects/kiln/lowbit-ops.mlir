// RUN: kiln-opt %s | kiln-opt | FileCheck %s
// Round trip of the low-bit ops: every weight format with its operands, the
// optional bias, and kiln.fake_quant.

// CHECK-LABEL: func.func @formats
func.func @formats(%x: tensor<2x32xf32>) -> (tensor<2x2xf32>, tensor<2x2xf32>, tensor<2x2xf32>, tensor<2x2xf32>, tensor<2x2xf32>) {
  %w8 = kiln.constant dense<[[1, -2, 3, -4, 5, -6, 7, -8, 9, -10, 11, -12, 13, -14, 15, -16, 17, -18, 19, -20, 21, -22, 23, -24, 25, -26, 27, -28, 29, -30, 31, -127], [127, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]]> : tensor<2x32xi8> : tensor<2x32xi8>
  %s8 = kiln.constant dense<[0.5, 0.25]> : tensor<2xf32> : tensor<2xf32>
  %b = kiln.constant dense<[1.0, -1.0]> : tensor<2xf32> : tensor<2xf32>
  // CHECK: kiln.lowbit_linear %arg0, %{{.+}}, %{{.+}} bias(%{{.+}}) {act_format = "int8", weight_format = "int8"} : (tensor<2x32xf32>, tensor<2x32xi8>, tensor<2xf32>, tensor<2xf32>) -> tensor<2x2xf32>
  %0 = kiln.lowbit_linear %x, %w8, %s8 bias(%b) {weight_format = "int8", act_format = "int8"} : (tensor<2x32xf32>, tensor<2x32xi8>, tensor<2xf32>, tensor<2xf32>) -> tensor<2x2xf32>
  %w4 = kiln.constant dense<-7> : tensor<2x32xi4> : tensor<2x32xi4>
  %s4 = kiln.constant dense<0.125> : tensor<2x2xf32> : tensor<2x2xf32>
  // CHECK: kiln.lowbit_linear %arg0, %{{.+}}, %{{.+}} {act_format = "int4-sym", act_group_size = 16 : i64, weight_format = "int4-sym", weight_group_size = 16 : i64}
  %1 = kiln.lowbit_linear %x, %w4, %s4 {weight_format = "int4-sym", weight_group_size = 16 : i64, act_format = "int4-sym", act_group_size = 16 : i64} : (tensor<2x32xf32>, tensor<2x32xi4>, tensor<2x2xf32>) -> tensor<2x2xf32>
  %u4 = kiln.constant dense<15> : tensor<2x32xui4> : tensor<2x32xui4>
  %z4 = kiln.constant dense<8> : tensor<2x2xui4> : tensor<2x2xui4>
  // CHECK: kiln.lowbit_linear %arg0, %{{.+}}, %{{.+}} zeros(%{{.+}}) {weight_format = "int4-asym", weight_group_size = 16 : i64}
  %2 = kiln.lowbit_linear %x, %u4, %s4 zeros(%z4) {weight_format = "int4-asym", weight_group_size = 16 : i64} : (tensor<2x32xf32>, tensor<2x32xui4>, tensor<2x2xf32>, tensor<2x2xui4>) -> tensor<2x2xf32>
  %zs = kiln.constant dense<24> : tensor<2x2xui8> : tensor<2x2xui8>
  %s2 = kiln.constant dense<3> : tensor<2x2xui8> : tensor<2x2xui8>
  // CHECK: kiln.lowbit_linear %arg0, %{{.+}}, %{{.+}} zeros(%{{.+}}) group_scales(%{{.+}}) {act_format = "int8", weight_format = "qoq", weight_group_size = 16 : i64}
  %3 = kiln.lowbit_linear %x, %u4, %s8 zeros(%zs) group_scales(%s2) {weight_format = "qoq", weight_group_size = 16 : i64, act_format = "int8"} : (tensor<2x32xf32>, tensor<2x32xui4>, tensor<2xf32>, tensor<2x2xui8>, tensor<2x2xui8>) -> tensor<2x2xf32>
  %f4 = kiln.constant dense<1.5> : tensor<2x32xf4E2M1FN> : tensor<2x32xf4E2M1FN>
  %sb = kiln.constant dense<2.0> : tensor<2x2xf8E4M3FN> : tensor<2x2xf8E4M3FN>
  %ts = kiln.constant dense<0.01> : tensor<1xf32> : tensor<1xf32>
  // CHECK: kiln.lowbit_linear %arg0, %{{.+}}, %{{.+}} tensor_scale(%{{.+}}) {act_format = "nvfp4-4over6", act_group_size = 16 : i64, fp4_error = "mae", weight_format = "nvfp4-4over6", weight_group_size = 16 : i64}
  %4 = kiln.lowbit_linear %x, %f4, %sb tensor_scale(%ts) {weight_format = "nvfp4-4over6", weight_group_size = 16 : i64, act_format = "nvfp4-4over6", act_group_size = 16 : i64, fp4_error = "mae"} : (tensor<2x32xf32>, tensor<2x32xf4E2M1FN>, tensor<2x2xf8E4M3FN>, tensor<1xf32>) -> tensor<2x2xf32>
  return %0, %1, %2, %3, %4 : tensor<2x2xf32>, tensor<2x2xf32>, tensor<2x2xf32>, tensor<2x2xf32>, tensor<2x2xf32>
}

// CHECK-LABEL: func.func @fake_quant
// CHECK: kiln.fake_quant %arg0 {axis = 2 : i64, format = "int4-asym", group_size = 32 : i64} : tensor<1x8x32x64xf32>
func.func @fake_quant(%k: tensor<1x8x32x64xf32>) -> tensor<1x8x32x64xf32> {
  %0 = kiln.fake_quant %k {format = "int4-asym", axis = 2 : i64, group_size = 32 : i64} : tensor<1x8x32x64xf32>
  return %0 : tensor<1x8x32x64xf32>
}
