//===- LinearOps.td - Convolutions and matrix products -------*- tablegen -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// conv, conv_transpose, matmul, gemm, einsum and the integer / QLinear forms
// of ONNX's quantized operators.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_DIALECTS_KILN_OPS_LINEAROPS_TD
#define KILN_DIALECTS_KILN_OPS_LINEAROPS_TD

include "dialects/kiln/KilnBase.td"

def Kiln_ConvOp : Kiln_Op<"conv"> {
  let summary = "N-d convolution (ONNX Conv), channels-first";
  let description = [{
    Convolution over 1 to 3 spatial dimensions with ONNX `Conv` semantics:
    `input` is `N x C x D1 ... Dn`, `weight` is `M x C/group x k1 ... kn`, the
    optional `bias` is `M`. `pads` lists the begin pads of every spatial axis
    followed by the end pads (auto_pad is resolved by the importer). The
    result is `N x M x O1 ... On` with
    `Oi = floor((Di + pad_begin_i + pad_end_i - dil_i * (ki - 1) - 1) / s_i) + 1`.

    Example:

    ```mlir
    %y = kiln.conv %x, %w, %b {strides = array<i64: 1, 1>,
           pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>,
           group = 1 : i64}
         : (tensor<1x3x8x8xf32>, tensor<16x3x3x3xf32>, tensor<16xf32>)
         -> tensor<1x16x8x8xf32>
    ```
  }];
  let arguments = (ins Kiln_Tensor:$input, Kiln_Tensor:$weight,
                   Optional<Kiln_Tensor>:$bias,
                   DenseI64ArrayAttr:$strides, DenseI64ArrayAttr:$pads,
                   DenseI64ArrayAttr:$dilations,
                   ConfinedAttr<I64Attr, [IntPositive]>:$group);
  let results = (outs Kiln_Tensor:$output);
  let assemblyFormat = [{
    $input `,` $weight (`,` $bias^)? attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def Kiln_ConvTransposeOp : Kiln_Op<"conv_transpose"> {
  let summary = "N-d transposed convolution (ONNX ConvTranspose)";
  let description = [{
    `weight` is `C x M/group x k1 ... kn`. Input position `i` and kernel
    offset `k` add to output position `i * s + k * dil - pad_begin`. Output
    size per spatial axis:
    `s * (D - 1) + output_padding + (k - 1) * dil + 1 - pad_begin - pad_end`
    (the importer resolves `output_shape` and auto_pad into `pads` and
    `output_padding`). Pads may be negative, as ONNX `output_shape` and SAME
    padding can require: output positions no input reaches hold the bias.

    Example:

    ```mlir
    %y = kiln.conv_transpose %x, %w {strides = array<i64: 2, 2>,
           pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>,
           output_padding = array<i64: 0, 0>, group = 1 : i64}
         : (tensor<1x4x3x3xf32>, tensor<4x2x3x3xf32>) -> tensor<1x2x7x7xf32>
    ```
  }];
  let arguments = (ins Kiln_Tensor:$input, Kiln_Tensor:$weight,
                   Optional<Kiln_Tensor>:$bias,
                   DenseI64ArrayAttr:$strides, DenseI64ArrayAttr:$pads,
                   DenseI64ArrayAttr:$dilations,
                   DenseI64ArrayAttr:$output_padding,
                   ConfinedAttr<I64Attr, [IntPositive]>:$group);
  let results = (outs Kiln_Tensor:$output);
  let assemblyFormat = [{
    $input `,` $weight (`,` $bias^)? attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def Kiln_MatMulOp : Kiln_Op<"matmul"> {
  let summary = "matrix product with numpy semantics (ONNX MatMul)";
  let description = [{
    `numpy.matmul`: rank-1 operands are promoted (and the added dimension
    removed from the result), leading batch dimensions broadcast.

    Example:

    ```mlir
    %y = kiln.matmul %a, %b : (tensor<2x4x8xf32>, tensor<8x16xf32>)
         -> tensor<2x4x16xf32>
    ```
  }];
  let arguments = (ins Kiln_Tensor:$lhs, Kiln_Tensor:$rhs);
  let results = (outs Kiln_Tensor:$output);
  let assemblyFormat = [{
    $lhs `,` $rhs attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def Kiln_GemmOp : Kiln_Op<"gemm"> {
  let summary = "general matrix multiply (ONNX Gemm)";
  let description = [{
    `Y = alpha * op(A) * op(B) + beta * C`, where `op` transposes its operand
    when `trans_a` / `trans_b` is set and `C` (optional) broadcasts
    unidirectionally to `M x N`.

    Example:

    ```mlir
    %y = kiln.gemm %x, %w, %b {alpha = 1.0 : f32, beta = 1.0 : f32,
           trans_a = false, trans_b = true}
         : (tensor<1x64xf32>, tensor<10x64xf32>, tensor<10xf32>)
         -> tensor<1x10xf32>
    ```
  }];
  let arguments = (ins Kiln_Tensor:$a, Kiln_Tensor:$b,
                   Optional<Kiln_Tensor>:$c,
                   DefaultValuedAttr<F32Attr, "1.0">:$alpha,
                   DefaultValuedAttr<F32Attr, "1.0">:$beta,
                   DefaultValuedAttr<BoolAttr, "false">:$trans_a,
                   DefaultValuedAttr<BoolAttr, "false">:$trans_b);
  let results = (outs Kiln_Tensor:$output);
  let assemblyFormat = [{
    $a `,` $b (`,` $c^)? attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def Kiln_EinsumOp : Kiln_Op<"einsum"> {
  let summary = "Einstein summation (ONNX Einsum)";
  let description = [{
    `equation` is normalised by the importer to explicit form with an
    output (`ij,jk->ik`); ellipses are expanded to letters.

    Example:

    ```mlir
    %y = kiln.einsum %a, %b {equation = "bij,bjk->bik"}
         : (tensor<2x3x4xf32>, tensor<2x4x5xf32>) -> tensor<2x3x5xf32>
    ```
  }];
  let arguments = (ins Variadic<Kiln_Tensor>:$inputs, StrAttr:$equation);
  let results = (outs Kiln_Tensor:$output);
  let assemblyFormat = "$inputs attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def Kiln_MatMulIntegerOp : Kiln_Op<"matmul_integer",
    [AttrSizedOperandSegments]> {
  let summary = "integer matrix product with zero points (ONNX MatMulInteger)";
  let description = [{
    `(lhs - lhs_zero_point) x (rhs - rhs_zero_point)` in int32 with numpy
    matmul shapes; each zero point broadcasts (numpy) over its operand, so
    it is per tensor, per row of lhs (`M x 1`) or per column of rhs (`N`).
    The optional zero points are marked by keyword so either may be absent.

    Example:

    ```mlir
    %y = kiln.matmul_integer %a, %b lhs_zero_point(%za) rhs_zero_point(%zb)
         : (tensor<4x3xui8>, tensor<3x2xui8>, tensor<ui8>, tensor<ui8>)
         -> tensor<4x2xi32>
    ```
  }];
  let arguments = (ins Kiln_Tensor:$lhs, Kiln_Tensor:$rhs,
                   Optional<Kiln_Tensor>:$lhs_zero_point,
                   Optional<Kiln_Tensor>:$rhs_zero_point);
  let results = (outs Kiln_Tensor:$output);
  let assemblyFormat = [{
    $lhs `,` $rhs (`lhs_zero_point` `(` $lhs_zero_point^ `)`)?
    (`rhs_zero_point` `(` $rhs_zero_point^ `)`)? attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def Kiln_ConvIntegerOp : Kiln_Op<"conv_integer", [AttrSizedOperandSegments]> {
  let summary = "integer convolution with zero points (ONNX ConvInteger)";
  let description = [{
    `conv(input - input_zero_point, weight - weight_zero_point)` in int32;
    attributes as `kiln.conv`. Padding uses the input zero point. The input
    zero point is per tensor, the weight's per tensor or per output channel.

    Example:

    ```mlir
    %y = kiln.conv_integer %x, %w input_zero_point(%zx)
           {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>,
            dilations = array<i64: 1, 1>, group = 1 : i64}
         : (tensor<1x1x3x3xui8>, tensor<1x1x2x2xui8>, tensor<ui8>)
         -> tensor<1x1x2x2xi32>
    ```
  }];
  let arguments = (ins Kiln_Tensor:$input, Kiln_Tensor:$weight,
                   Optional<Kiln_Tensor>:$input_zero_point,
                   Optional<Kiln_Tensor>:$weight_zero_point,
                   DenseI64ArrayAttr:$strides, DenseI64ArrayAttr:$pads,
                   DenseI64ArrayAttr:$dilations,
                   ConfinedAttr<I64Attr, [IntPositive]>:$group);
  let results = (outs Kiln_Tensor:$output);
  let assemblyFormat = [{
    $input `,` $weight (`input_zero_point` `(` $input_zero_point^ `)`)?
    (`weight_zero_point` `(` $weight_zero_point^ `)`)? attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def Kiln_QLinearMatMulOp : Kiln_Op<"qlinear_matmul"> {
  let summary = "quantized matrix product (ONNX QLinearMatMul)";
  let description = [{
    Dequantizes both operands with their scales and zero points, multiplies
    (numpy matmul shapes) and requantizes to the output scale and zero point
    (round half to even, saturate). Scales and zero points are scalars,
    except those of `rhs`, which may be 1-D per output column.

    Example:

    ```mlir
    %y = kiln.qlinear_matmul %a, %sa, %za, %b, %sb, %zb, %sy, %zy
         : (tensor<2x4xui8>, tensor<f32>, tensor<ui8>, tensor<4x3xui8>,
            tensor<f32>, tensor<ui8>, tensor<f32>, tensor<ui8>)
         -> tensor<2x3xui8>
    ```
  }];
  let arguments = (ins Kiln_Tensor:$lhs, Kiln_Tensor:$lhs_scale,
                   Kiln_Tensor:$lhs_zero_point, Kiln_Tensor:$rhs,
                   Kiln_Tensor:$rhs_scale, Kiln_Tensor:$rhs_zero_point,
                   Kiln_Tensor:$output_scale, Kiln_Tensor:$output_zero_point);
  let results = (outs Kiln_Tensor:$output);
  let assemblyFormat = "operands attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def Kiln_QLinearConvOp : Kiln_Op<"qlinear_conv"> {
  let summary = "quantized convolution (ONNX QLinearConv)";
  let description = [{
    Integer convolution of `input - input_zero_point` with `weight -
    weight_zero_point` (per-tensor or per-output-channel), plus the int32
    `bias`, requantized with `input_scale * weight_scale / output_scale`
    (round half to even, saturate). Attributes as `kiln.conv`.

    Example:

    ```mlir
    %y = kiln.qlinear_conv %x, %sx, %zx, %w, %sw, %zw, %sy, %zy
         {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>,
          dilations = array<i64: 1, 1>, group = 1 : i64}
         : (...) -> tensor<1x1x2x2xui8>
    ```
  }];
  let arguments = (ins Kiln_Tensor:$input, Kiln_Tensor:$input_scale,
                   Kiln_Tensor:$input_zero_point, Kiln_Tensor:$weight,
                   Kiln_Tensor:$weight_scale, Kiln_Tensor:$weight_zero_point,
                   Kiln_Tensor:$output_scale, Kiln_Tensor:$output_zero_point,
                   Optional<Kiln_Tensor>:$bias,
                   DenseI64ArrayAttr:$strides, DenseI64ArrayAttr:$pads,
                   DenseI64ArrayAttr:$dilations,
                   ConfinedAttr<I64Attr, [IntPositive]>:$group);
  let results = (outs Kiln_Tensor:$output);
  let assemblyFormat = "operands attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

#endif // KILN_DIALECTS_KILN_OPS_LINEAROPS_TD
