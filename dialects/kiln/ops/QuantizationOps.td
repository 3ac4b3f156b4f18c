//===- QuantizationOps.td - ONNX quantize / dequantize ops ---*- tablegen -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// The explicit quantization ops of ONNX (QuantizeLinear, DequantizeLinear,
// DynamicQuantizeLinear) with per-tensor, per-axis and blocked scales.
// Kiln's own int8 pipeline uses `quant` element types instead (see the quant
// passes); these ops carry ONNX QDQ models in until those passes fold them.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_DIALECTS_KILN_OPS_QUANTIZATIONOPS_TD
#define KILN_DIALECTS_KILN_OPS_QUANTIZATIONOPS_TD

include "dialects/kiln/KilnBase.td"

def Kiln_QuantizeLinearOp : Kiln_Op<"quantize_linear"> {
  let summary = "float to integer (or 8/4-bit float) quantization";
  let description = [{
    `saturate(round_half_even(x / scale) + zero_point)` into the result
    element type (int8/16, uint8/16, int4, uint4, the float8 types or
    float4e2m1). `scale` / `zero_point` are scalars (per tensor), 1-D along
    `axis` (per axis), or of the input's rank with dimension `axis` divided
    into blocks of `block_size` (blocked). The zero point defaults to 0.
    The division runs in the scale's element type: `x` is first converted
    to it (ONNX's `precision` attribute becomes a cast of the scale).
    For float8 results, `saturate` clamps to the largest finite value
    instead of producing inf/NaN; float8 zero points are zero in practice
    and only added when non-zero, float4 zero points are always added.

    Example:

    ```mlir
    %q = kiln.quantize_linear %x, %s, %z {axis = 1 : i64}
         : (tensor<2x4xf32>, tensor<f32>, tensor<i8>) -> tensor<2x4xi8>
    ```
  }];
  let arguments = (ins Kiln_Tensor:$input, Kiln_Tensor:$scale,
                   Optional<Kiln_Tensor>:$zero_point,
                   DefaultValuedAttr<I64Attr, "1">:$axis,
                   DefaultValuedAttr<I64Attr, "0">:$block_size,
                   DefaultValuedAttr<BoolAttr, "true">:$saturate);
  let results = (outs Kiln_Tensor:$output);
  let assemblyFormat = "operands attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def Kiln_DequantizeLinearOp : Kiln_Op<"dequantize_linear"> {
  let summary = "integer (or 8/4-bit float) to float dequantization";
  let description = [{
    `(x - zero_point) * scale`, with the scale layouts of
    `kiln.quantize_linear`. The difference and product are computed in
    float32 (float64 for int32 inputs) and rounded to the result element
    type, the scale's type or ONNX's `output_dtype`.

    Example:

    ```mlir
    %x = kiln.dequantize_linear %q, %s, %z
         : (tensor<2x4xi8>, tensor<f32>, tensor<i8>) -> tensor<2x4xf32>
    ```
  }];
  let arguments = (ins Kiln_Tensor:$input, Kiln_Tensor:$scale,
                   Optional<Kiln_Tensor>:$zero_point,
                   DefaultValuedAttr<I64Attr, "1">:$axis,
                   DefaultValuedAttr<I64Attr, "0">:$block_size);
  let results = (outs Kiln_Tensor:$output);
  let assemblyFormat = "operands attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def Kiln_DynamicQuantizeLinearOp : Kiln_Op<"dynamic_quantize_linear"> {
  let summary = "uint8 quantization with a scale computed from the data";
  let description = [{
    ONNX DynamicQuantizeLinear: the range [min(0, min x), max(0, max x)] maps
    to [0, 255]; returns the quantized tensor, the scale and the zero point.

    Example:

    ```mlir
    %q, %s, %z = kiln.dynamic_quantize_linear %x
         : (tensor<2x4xf32>) -> (tensor<2x4xui8>, tensor<f32>, tensor<ui8>)
    ```
  }];
  let arguments = (ins Kiln_Tensor:$input);
  let results = (outs Kiln_Tensor:$output, Kiln_Tensor:$scale,
                 Kiln_Tensor:$zero_point);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

#endif // KILN_DIALECTS_KILN_OPS_QUANTIZATIONOPS_TD
