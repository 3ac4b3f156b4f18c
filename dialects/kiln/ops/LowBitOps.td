//===- LowBitOps.td - Low-bit linear layers and fake quantization -*- tablegen -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// The ops of the transformer quantization schemes (kiln-quantize-lowbit):
// `kiln.lowbit_linear`, a linear layer whose weight is stored in its
// quantized integer form (int8, int4, QoQ W4A8, NVFP4) and whose activations
// are quantized inside the op, and `kiln.fake_quant`, a quantize-dequantize
// of a float tensor in groups along one axis (the 4/8-bit KV cache). Their
// arithmetic is kiln::quant's (compiler/quant/LowBitLinear.h, GroupInt4.h):
// the evaluator runs it and the GPU kernels must reproduce its integer parts
// bit for bit.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_DIALECTS_KILN_OPS_LOWBITOPS_TD
#define KILN_DIALECTS_KILN_OPS_LOWBITOPS_TD

include "dialects/kiln/KilnBase.td"

def Kiln_LowBitLinearOp : Kiln_Op<"lowbit_linear", [AttrSizedOperandSegments]> {
  let summary = "linear layer with a quantized weight and dynamically "
                "quantized activations";
  let description = [{
    `y = x W^T (+ bias)`: `input` is float32 `[..., K]`, the weight is
    `[N, K]` (rows are output channels) stored in its quantized form, the
    result is float32 `[..., N]`. The leading dimensions of `input` are
    flattened into `M` rows (tokens). Groups are consecutive columns along
    `K` inside one row.

    Weight formats (`weight_format`, `weight_group_size` = g) and their
    operands:

    | format | `weight` | `scales` | `zeros` | `group_scales` | `tensor_scale` |
    | --- | --- | --- | --- | --- | --- |
    | `int8` (g = 0) | `i8` in [-127, 127] | `[N]` f32 | - | - | - |
    | `int4-sym` | `i4` in [-7, 7] | `[N, K/g]` f32 | - | - | - |
    | `int4-asym` | `ui4` in [0, 15] | `[N, K/g]` f32 | `[N, K/g]` ui4 | - | - |
    | `qoq` | `ui4` in [0, 15] | `[N]` f32 (s1) | `[N, K/g]` ui8 (z*s2) | `[N, K/g]` ui8 (s2) | - |
    | `nvfp4`, `nvfp4-4over6` (g = 16) | `f4E2M1FN` | `[N, K/16]` f8E4M3FN | - | - | f32, 1 value |

    Dequantized weights: `int8`: `q * s[n]`; `int4-*`: `float(q - z) *
    s[n, g]`; `qoq`: `q8 = byte(q4 * s2 - z*s2)` read as int8 (integer
    only, subtraction after multiplication), then `q8 * s1[n]`; NVFP4:
    `e2m1(q) * (e4m3(sb) * g)`. `nvfp4-4over6` names how the block scales
    were chosen; its stored form is NVFP4's.

    Activations (`act_format`, `act_group_size`) are quantized inside the
    op from the float input, with kiln::quant's quantizers: `none` (float),
    `int8` per token (`max|row| / 127`, round half away from zero),
    `int4-sym` per group (`max|group| / 7`, [-7, 7]), `nvfp4` /
    `nvfp4-4over6` (blocks of 16, tensor scale from the amax of the whole
    input; 4/6 picks each block's scale by `fp4_error`, `mse` or `mae`).

    Accumulation (exact where the kernels are integer):

    * `int8` or `qoq` weights with `int8` activations:
      `acc[m, n] = sum_k qa[m, k] * q8[n, k]` in int32 (k ascending; exact
      for K < 133,000), then `y = float(acc) * (sa[m] * s[n])`: the two
      scales multiplied first, one float32 product each.
    * `int4-sym` weights and activations, equal groups: per group
      `acc_g = sum qa * qw` in int32, then `y = sum_g float(acc_g) *
      (sa[m, g] * s[n, g])` accumulated in float32 from +0.0, g ascending.
    * every other pair (`none` activations with any weight; NVFP4 with
      NVFP4): the dequantized activations (float32) times the dequantized
      weights (float32), summed in double with k ascending and rounded to
      float32 once. NVFP4 products are exact in double.

    Finally `y += bias[n]` in float32. Allowed pairs: int8 x int8,
    qoq x int8, int4-sym x int4-sym, nvfp4 x nvfp4 (either scaling), and
    any weight with `none`.

    Example (QoQ W4A8, K = 256, group 128):

    ```mlir
    %y = kiln.lowbit_linear %x, %w, %s1 zeros(%zs2) group_scales(%s2)
           {weight_format = "qoq", weight_group_size = 128 : i64,
            act_format = "int8"}
         : (tensor<1x64x256xf32>, tensor<256x256xui4>, tensor<256xf32>,
            tensor<256x2xui8>, tensor<256x2xui8>) -> tensor<1x64x256xf32>
    ```
  }];
  let arguments = (ins Kiln_Tensor:$input, Kiln_Tensor:$weight,
                   Kiln_Tensor:$scales, Optional<Kiln_Tensor>:$zeros,
                   Optional<Kiln_Tensor>:$group_scales,
                   Optional<Kiln_Tensor>:$tensor_scale,
                   Optional<Kiln_Tensor>:$bias,
                   StrAttr:$weight_format,
                   DefaultValuedAttr<I64Attr, "0">:$weight_group_size,
                   DefaultValuedAttr<StrAttr, "\"none\"">:$act_format,
                   DefaultValuedAttr<I64Attr, "0">:$act_group_size,
                   DefaultValuedAttr<StrAttr, "\"mse\"">:$fp4_error);
  let results = (outs Kiln_Tensor:$output);
  let assemblyFormat = [{
    $input `,` $weight `,` $scales (`zeros` `(` $zeros^ `)`)?
    (`group_scales` `(` $group_scales^ `)`)?
    (`tensor_scale` `(` $tensor_scale^ `)`)? (`bias` `(` $bias^ `)`)?
    attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def Kiln_FakeQuantOp : Kiln_Op<"fake_quant", [SameOperandsAndResultType]> {
  let summary = "quantize-dequantize in groups along one axis";
  let description = [{
    Returns the float32 image of `input` after quantization and
    dequantization, in groups of `group_size` consecutive elements along
    `axis` (one group per index of the other axes when `group_size` is the
    axis length). Formats, with kiln::quant's quantizers:

    * `int4-asym`: uint4 with a scale and zero per group
      (`quantizeGroupInt4`, asymmetric; the range is widened to contain 0),
    * `int4-sym`: int4 in [-7, 7], `scale = max|group| / 7`,
    * `int8`: int8 in [-127, 127], `scale = max|group| / 127`.

    The 4-bit KV cache is `int4-asym` with one group per head and token
    (`kiln::quant::quantizeKvCache4`): keys `[b, h, d, t]` use `axis = 2`,
    values `[b, h, t, d]` use `axis = 3`, `group_size = d`.

    Example:

    ```mlir
    %v4 = kiln.fake_quant %v {format = "int4-asym", axis = 3 : i64,
            group_size = 32 : i64} : tensor<1x8x64x32xf32>
    ```
  }];
  let arguments = (ins Kiln_Tensor:$input, StrAttr:$format, I64Attr:$axis,
                   I64Attr:$group_size);
  let results = (outs Kiln_Tensor:$output);
  let assemblyFormat = "$input attr-dict `:` type($input)";
  let hasVerifier = 1;
}

#endif // KILN_DIALECTS_KILN_OPS_LOWBITOPS_TD
