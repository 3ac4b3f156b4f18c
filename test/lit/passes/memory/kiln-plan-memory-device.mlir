// RUN: kiln-opt --kiln-plan-memory %s | FileCheck %s --check-prefix=MCU
// RUN: kiln-opt "--kiln-plan-memory=device=gpu" %s | FileCheck %s --check-prefix=GPU
// RUN: not kiln-opt "--kiln-plan-memory=device=tpu" %s 2>&1 | FileCheck %s --check-prefix=BAD

// A depthwise 3x3 convolution: for the MCU kernels it runs in place over
// its input (with a channel-plane temporary), for the GPU kernels it must
// not (threads of other channels and pixels would read overwritten input),
// and no GPU kernel takes C scratch.
// MCU: kiln.qconv2d {{.*}}kiln.in_place = "depthwise"
// MCU-SAME: kiln.scratch_offset
// GPU: kiln.qconv2d
// GPU-NOT: kiln.in_place
// GPU-NOT: kiln.scratch_offset
// GPU: return
// BAD: unknown device 'tpu' (expected mcu or gpu)
func.func @main(%arg0: tensor<1x8x8x16xf32>) -> tensor<1x8x8x16xf32> {
  %w = kiln.constant dense<1> : tensor<16x3x3x1xi8> : tensor<16x3x3x1x!quant.uniform<i8<-127:127>:f32:0, {0.1,0.1,0.1,0.1,0.1,0.1,0.1,0.1,0.1,0.1,0.1,0.1,0.1,0.1,0.1,0.1}>>
  %b = kiln.constant dense<0> : tensor<16xi32> : tensor<16xi32>
  %q = kiln.quantize %arg0 : (tensor<1x8x8x16xf32>) -> tensor<1x8x8x16x!quant.uniform<i8:f32, 0.05:-3>>
  %y = kiln.qconv2d %q, %w, %b {act_max = 127 : i32, act_min = -128 : i32, dilations = array<i64: 1, 1>, group = 16 : i64, multipliers = array<i32: 1073741824, 1073741824, 1073741824, 1073741824, 1073741824, 1073741824, 1073741824, 1073741824, 1073741824, 1073741824, 1073741824, 1073741824, 1073741824, 1073741824, 1073741824, 1073741824>, pads = array<i64: 1, 1, 1, 1>, shifts = array<i32: -2, -2, -2, -2, -2, -2, -2, -2, -2, -2, -2, -2, -2, -2, -2, -2>, strides = array<i64: 1, 1>} : (tensor<1x8x8x16x!quant.uniform<i8:f32, 0.05:-3>>, tensor<16x3x3x1x!quant.uniform<i8<-127:127>:f32:0, {0.1,0.1,0.1,0.1,0.1,0.1,0.1,0.1,0.1,0.1,0.1,0.1,0.1,0.1,0.1,0.1}>>, tensor<16xi32>) -> tensor<1x8x8x16x!quant.uniform<i8:f32, 0.05:-3>>
  %d = kiln.dequantize %y : (tensor<1x8x8x16x!quant.uniform<i8:f32, 0.05:-3>>) -> tensor<1x8x8x16xf32>
  return %d : tensor<1x8x8x16xf32>
}
