//===- IntegerOps.td - Int8 kernels in TFLite semantics ------*- tablegen -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// The int8 ops that the int8 quantization pass produces and the C code
// generator maps one-to-one onto runtime/c kernels. Activations are NHWC
// tensors of `!quant.uniform<i8:f32, scale:zero_point>`; convolution and
// fully-connected weights are per-output-channel `!quant.uniform<i8:f32:0,
// {...}>` (symmetric, values in [-127, 127]); biases are int32. Every
// requantization is explicit: int32 fixed-point multipliers and shifts
// computed at compile time (TFLite's QuantizeMultiplier), so kernels need no
// float. Semantics are exactly those of compiler/reference/IntegerKernels.h,
// which the evaluator runs and the runtime must match bit for bit.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_DIALECTS_KILN_OPS_INTEGEROPS_TD
#define KILN_DIALECTS_KILN_OPS_INTEGEROPS_TD

include "dialects/kiln/KilnBase.td"

/// An int8 activation range after fusing ReLU / ReLU6 / Clip.
class Kiln_IntegerOp<string mnemonic, list<Trait> traits = []>
    : Kiln_Op<mnemonic, traits> {
  let hasVerifier = 1;
}

def Kiln_QConv2DOp : Kiln_IntegerOp<"qconv2d"> {
  let summary = "int8 2-D convolution, NHWC / OHWI, per-channel requantize";
  let description = [{
    `acc = bias[m] + sum (x - x_zp) * w` in int32, then
    `y = clamp(MBQM(acc, multipliers[m], shifts[m]) + y_zp, act_min,
    act_max)`. `input` is `N x H x W x C`, `weight` is `M x kH x kW x C/group`
    (group = C for depthwise), `pads` is [top, left, bottom, right].

    Example:

    ```mlir
    %y = kiln.qconv2d %x, %w, %b {strides = array<i64: 1, 1>,
           pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>,
           group = 1 : i64, multipliers = array<i32: 1518500250>,
           shifts = array<i32: -7>, act_min = -128 : i32, act_max = 127 : i32}
         : (tensor<1x8x8x3x!quant.uniform<i8:f32, 0.02:-5>>,
            tensor<1x3x3x3x!quant.uniform<i8:f32:0, {0.01}>>, tensor<1xi32>)
         -> tensor<1x8x8x1x!quant.uniform<i8:f32, 0.05:3>>
    ```
  }];
  let arguments = (ins Kiln_Tensor:$input, Kiln_Tensor:$weight,
                   Optional<Kiln_Tensor>:$bias, DenseI64ArrayAttr:$strides,
                   DenseI64ArrayAttr:$pads, DenseI64ArrayAttr:$dilations,
                   Kiln_SI64Attr:$group, DenseI32ArrayAttr:$multipliers,
                   DenseI32ArrayAttr:$shifts, Kiln_SI32Attr:$act_min,
                   Kiln_SI32Attr:$act_max);
  let results = (outs Kiln_Tensor:$output);
  let assemblyFormat = [{
    $input `,` $weight (`,` $bias^)? attr-dict `:` functional-type(operands, results)
  }];
}

def Kiln_QFullyConnectedOp : Kiln_IntegerOp<"qfully_connected"> {
  let summary = "int8 fully connected layer: [N, K] x [M, K]^T";
  let description = [{
    `acc = bias[m] + sum_k (x[n,k] - x_zp) * w[m,k]`, requantized per output
    feature as `kiln.qconv2d`.

    Example:

    ```mlir
    %y = kiln.qfully_connected %x, %w, %b {multipliers = array<i32: ...>,
           shifts = array<i32: ...>, act_min = -128 : i32,
           act_max = 127 : i32}
         : (tensor<1x64x!quant.uniform<i8:f32, 0.1:-2>>,
            tensor<10x64x!quant.uniform<i8:f32:0, {...}>>, tensor<10xi32>)
         -> tensor<1x10x!quant.uniform<i8:f32, 0.2:7>>
    ```
  }];
  let arguments = (ins Kiln_Tensor:$input, Kiln_Tensor:$weight,
                   Optional<Kiln_Tensor>:$bias,
                   DenseI32ArrayAttr:$multipliers, DenseI32ArrayAttr:$shifts,
                   Kiln_SI32Attr:$act_min, Kiln_SI32Attr:$act_max);
  let results = (outs Kiln_Tensor:$output);
  let assemblyFormat = [{
    $input `,` $weight (`,` $bias^)? attr-dict `:` functional-type(operands, results)
  }];
}

class Kiln_QPoolOp<string mnemonic, string what> : Kiln_IntegerOp<mnemonic> {
  let summary = "int8 " # what # " pooling, NHWC";
  let description = [{
    Input and output share their quantization. Average pooling rounds
    `sum / count` half away from zero (TFLite); with `count_include_pad`
    padded taps count and contribute the zero point.

    Example:

    ```mlir
    %y = kiln.}] # mnemonic # [{ %x {kernel_shape = array<i64: 2, 2>,
           strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>,
           act_min = -128 : i32, act_max = 127 : i32}
         : (tensor<1x8x8x4x!quant.uniform<i8:f32, 0.1>>)
         -> tensor<1x4x4x4x!quant.uniform<i8:f32, 0.1>>
    ```
  }];
  let arguments = (ins Kiln_Tensor:$input, DenseI64ArrayAttr:$kernel_shape,
                   DenseI64ArrayAttr:$strides, DenseI64ArrayAttr:$pads,
                   DefaultValuedAttr<BoolAttr, "false">:$ceil_mode,
                   DefaultValuedAttr<BoolAttr, "false">:$count_include_pad,
                   Kiln_SI32Attr:$act_min, Kiln_SI32Attr:$act_max);
  let results = (outs Kiln_Tensor:$output);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
}

def Kiln_QAvgPool2DOp : Kiln_QPoolOp<"qavg_pool2d", "average">;
def Kiln_QMaxPool2DOp : Kiln_QPoolOp<"qmax_pool2d", "max">;

def Kiln_QGlobalAvgPool2DOp : Kiln_IntegerOp<"qglobal_avg_pool2d"> {
  let summary = "int8 global average pooling, NHWC";
  let description = [{
    `y = clamp(MBQM(sum (x - x_zp), multiplier, shift) + y_zp)`, with the
    multiplier of `x_scale / (y_scale * H * W)`.

    Example:

    ```mlir
    %y = kiln.qglobal_avg_pool2d %x {multiplier = 1234567890 : i32,
           shift = -5 : i32, act_min = -128 : i32, act_max = 127 : i32}
         : (tensor<1x4x4x8x!quant.uniform<i8:f32, 0.1:3>>)
         -> tensor<1x1x1x8x!quant.uniform<i8:f32, 0.05:-1>>
    ```
  }];
  let arguments = (ins Kiln_Tensor:$input, Kiln_SI32Attr:$multiplier,
                   Kiln_SI32Attr:$shift, Kiln_SI32Attr:$act_min, Kiln_SI32Attr:$act_max);
  let results = (outs Kiln_Tensor:$output);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
}

def Kiln_QAddOp : Kiln_IntegerOp<"qadd"> {
  let summary = "int8 addition with broadcasting (TFLite semantics)";
  let description = [{
    Each input is shifted left by `left_shift` and rescaled by its own
    multiplier, the sum is rescaled by `output_*` (TFLite's int8 Add).

    Example:

    ```mlir
    %y = kiln.qadd %a, %b {left_shift = 20 : i32,
           input1_multiplier = ... : i32, input1_shift = ... : i32,
           input2_multiplier = ... : i32, input2_shift = ... : i32,
           output_multiplier = ... : i32, output_shift = ... : i32,
           act_min = -128 : i32, act_max = 127 : i32} : (...) -> ...
    ```
  }];
  let arguments = (ins Kiln_Tensor:$lhs, Kiln_Tensor:$rhs, Kiln_SI32Attr:$left_shift,
                   Kiln_SI32Attr:$input1_multiplier, Kiln_SI32Attr:$input1_shift,
                   Kiln_SI32Attr:$input2_multiplier, Kiln_SI32Attr:$input2_shift,
                   Kiln_SI32Attr:$output_multiplier, Kiln_SI32Attr:$output_shift,
                   Kiln_SI32Attr:$act_min, Kiln_SI32Attr:$act_max);
  let results = (outs Kiln_Tensor:$output);
  let assemblyFormat = [{
    $lhs `,` $rhs attr-dict `:` functional-type(operands, results)
  }];
}

def Kiln_QMulOp : Kiln_IntegerOp<"qmul"> {
  let summary = "int8 multiplication with broadcasting";
  let description = [{
    `y = clamp(MBQM((a - a_zp) * (b - b_zp), multiplier, shift) + y_zp)` with
    the multiplier of `a_scale * b_scale / y_scale`.

    Example:

    ```mlir
    %y = kiln.qmul %a, %b {multiplier = ... : i32, shift = ... : i32,
           act_min = -128 : i32, act_max = 127 : i32} : (...) -> ...
    ```
  }];
  let arguments = (ins Kiln_Tensor:$lhs, Kiln_Tensor:$rhs, Kiln_SI32Attr:$multiplier,
                   Kiln_SI32Attr:$shift, Kiln_SI32Attr:$act_min, Kiln_SI32Attr:$act_max);
  let results = (outs Kiln_Tensor:$output);
  let assemblyFormat = [{
    $lhs `,` $rhs attr-dict `:` functional-type(operands, results)
  }];
}

def Kiln_QConcatOp : Kiln_IntegerOp<"qconcat"> {
  let summary = "int8 concatenation, requantizing inputs to the output";
  let description = [{
    Input i is requantized with (`multipliers[i]`, `shifts[i]`) into the
    output's quantization; {2^30, 1} with equal zero points copies it.

    Example:

    ```mlir
    %y = kiln.qconcat %a, %b {axis = 3 : i64,
           multipliers = array<i32: 1073741824, 1073741824>,
           shifts = array<i32: 1, 1>} : (...) -> ...
    ```
  }];
  let arguments = (ins Variadic<Kiln_Tensor>:$inputs, Kiln_SI64Attr:$axis,
                   DenseI32ArrayAttr:$multipliers, DenseI32ArrayAttr:$shifts);
  let results = (outs Kiln_Tensor:$output);
  let assemblyFormat = "$inputs attr-dict `:` functional-type(operands, results)";
}

def Kiln_QSoftmaxOp : Kiln_IntegerOp<"qsoftmax"> {
  let summary = "int8 softmax over the last axis with a compile-time table";
  let description = [{
    Kiln's integer softmax (see compiler/reference/IntegerKernels.h): `table`
    holds the 256 exp values for the input scale; the output has scale 1/256
    and zero point -128.

    Example:

    ```mlir
    %y = kiln.qsoftmax %x {table = array<i32: ...>}
         : (tensor<1x10x!quant.uniform<i8:f32, 0.1:4>>)
         -> tensor<1x10x!quant.uniform<i8:f32, 3.906250e-03:-128>>
    ```
  }];
  let arguments = (ins Kiln_Tensor:$input, DenseI32ArrayAttr:$table);
  let results = (outs Kiln_Tensor:$output);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
}

def Kiln_QClampOp : Kiln_IntegerOp<"qclamp"> {
  let summary = "clamps int8 values (ReLU / ReLU6 / Clip in the int domain)";
  let description = [{
    Input and output share their quantization; `kiln-fuse-activations`
    folds it into the producer's activation range.

    Example:

    ```mlir
    %y = kiln.qclamp %x {min = -3 : i32, max = 127 : i32}
         : (tensor<4x!quant.uniform<i8:f32, 0.1:-3>>)
         -> tensor<4x!quant.uniform<i8:f32, 0.1:-3>>
    ```
  }];
  let arguments = (ins Kiln_Tensor:$input, Kiln_SI32Attr:$min, Kiln_SI32Attr:$max);
  let results = (outs Kiln_Tensor:$output);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
}

def Kiln_QuantizeOp : Kiln_IntegerOp<"quantize"> {
  let summary = "float32 to int8: round(x / scale) + zero_point, saturated";
  let description = [{
    Rounds half away from zero (TFLite). The scale and zero point come from
    the result type.

    Example:

    ```mlir
    %q = kiln.quantize %x : (tensor<1x3x8x8xf32>)
         -> tensor<1x3x8x8x!quant.uniform<i8:f32, 0.02:-5>>
    ```
  }];
  let arguments = (ins Kiln_Tensor:$input);
  let results = (outs Kiln_Tensor:$output);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
}

def Kiln_DequantizeOp : Kiln_IntegerOp<"dequantize"> {
  let summary = "int8 to float32: (q - zero_point) * scale";
  let description = [{
    Example:

    ```mlir
    %x = kiln.dequantize %q : (tensor<1x10x!quant.uniform<i8:f32, 0.2:7>>)
         -> tensor<1x10xf32>
    ```
  }];
  let arguments = (ins Kiln_Tensor:$input);
  let results = (outs Kiln_Tensor:$output);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
}

def Kiln_RequantizeOp : Kiln_IntegerOp<"requantize"> {
  let summary = "int8 to int8 with another scale / zero point";
  let description = [{
    `y = clamp(MBQM(x - x_zp, multiplier, shift) + y_zp)`.

    Example:

    ```mlir
    %y = kiln.requantize %x {multiplier = 1073741824 : i32, shift = 1 : i32}
         : (tensor<4x!quant.uniform<i8:f32, 0.1>>)
         -> tensor<4x!quant.uniform<i8:f32, 0.2>>
    ```
  }];
  let arguments = (ins Kiln_Tensor:$input, Kiln_SI32Attr:$multiplier,
                   Kiln_SI32Attr:$shift);
  let results = (outs Kiln_Tensor:$output);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
}

#endif // KILN_DIALECTS_KILN_OPS_INTEGEROPS_TD
