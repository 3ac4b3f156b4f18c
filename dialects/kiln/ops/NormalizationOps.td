//===- NormalizationOps.td - Normalization and softmax ops ---*- tablegen -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// Batch/instance/group/layer/RMS normalization, Lp and mean-variance
// normalization, local response normalization, softmax, log-softmax,
// hardmax and the negative log-likelihood loss.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_DIALECTS_KILN_OPS_NORMALIZATIONOPS_TD
#define KILN_DIALECTS_KILN_OPS_NORMALIZATIONOPS_TD

include "dialects/kiln/KilnBase.td"

def Kiln_BatchNormOp : Kiln_Op<"batch_norm"> {
  let summary = "batch normalization with running statistics (inference)";
  let description = [{
    `(x - mean) / sqrt(var + epsilon) * scale + bias` per channel (axis 1).
    The graph clean-up folds it into a preceding conv or gemm.

    Example:

    ```mlir
    %y = kiln.batch_norm %x, %s, %b, %m, %v {epsilon = 1.0e-5 : f32}
         : (tensor<1x4x8x8xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>,
            tensor<4xf32>) -> tensor<1x4x8x8xf32>
    ```
  }];
  let arguments = (ins Kiln_Tensor:$input, Kiln_Tensor:$scale,
                   Kiln_Tensor:$bias, Kiln_Tensor:$mean,
                   Kiln_Tensor:$variance, F32Attr:$epsilon);
  let results = (outs Kiln_Tensor:$output);
  let assemblyFormat = "operands attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def Kiln_InstanceNormOp : Kiln_Op<"instance_norm"> {
  let summary = "instance normalization";
  let description = [{
    Normalizes each (batch, channel) slice over its spatial positions, then
    applies the per-channel `scale` and `bias`.

    Example:

    ```mlir
    %y = kiln.instance_norm %x, %s, %b {epsilon = 1.0e-5 : f32}
         : (tensor<1x4x8x8xf32>, tensor<4xf32>, tensor<4xf32>)
         -> tensor<1x4x8x8xf32>
    ```
  }];
  let arguments = (ins Kiln_Tensor:$input, Kiln_Tensor:$scale,
                   Kiln_Tensor:$bias, F32Attr:$epsilon);
  let results = (outs Kiln_Tensor:$output);
  let assemblyFormat = "operands attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def Kiln_GroupNormOp : Kiln_Op<"group_norm"> {
  let summary = "group normalization (ONNX GroupNormalization)";
  let description = [{
    Splits the channels into `num_groups` groups, normalizes each group over
    its channels and spatial positions, then applies per-channel `scale` and
    `bias` (opset 21 semantics; the importer expands opset-18 per-group
    scales to channels). The statistics and the normalized value are
    computed in (at least) the precision of `stash_type`, an ONNX
    TensorProto element type code (1 float32, 10 float16, 11 float64,
    16 bfloat16), and the normalized value is rounded to it and then to the
    input type before the scale and bias apply. Opset 21 gives `stash_type`
    (1 by default); for opset 18 the importer sets the input's own type.

    Example:

    ```mlir
    %y = kiln.group_norm %x, %s, %b {num_groups = 2 : i64,
           epsilon = 1.0e-5 : f32}
         : (tensor<1x4x8x8xf32>, tensor<4xf32>, tensor<4xf32>)
         -> tensor<1x4x8x8xf32>
    ```
  }];
  let arguments = (ins Kiln_Tensor:$input, Kiln_Tensor:$scale,
                   Kiln_Tensor:$bias, I64Attr:$num_groups, F32Attr:$epsilon,
                   DefaultValuedAttr<I64Attr, "1">:$stash_type);
  let results = (outs Kiln_Tensor:$output);
  let assemblyFormat = "operands attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def Kiln_LayerNormOp : Kiln_Op<"layer_norm"> {
  let summary = "layer normalization (ONNX LayerNormalization)";
  let description = [{
    Normalizes over the axes from `axis` to the last; `scale` and the
    optional `bias` broadcast over them. Also returns the mean and the
    inverse standard deviation (shape: input with normalized axes set to 1),
    computed in float32 when `stash_type` is 1.

    Example:

    ```mlir
    %y, %mean, %inv = kiln.layer_norm %x, %s, %b {axis = 2 : i64,
           epsilon = 1.0e-5 : f32}
         : (tensor<1x8x32xf32>, tensor<32xf32>, tensor<32xf32>)
         -> (tensor<1x8x32xf32>, tensor<1x8x1xf32>, tensor<1x8x1xf32>)
    ```
  }];
  let arguments = (ins Kiln_Tensor:$input, Kiln_Tensor:$scale,
                   Optional<Kiln_Tensor>:$bias, I64Attr:$axis,
                   F32Attr:$epsilon,
                   DefaultValuedAttr<I64Attr, "1">:$stash_type);
  let results = (outs Kiln_Tensor:$output, Kiln_Tensor:$mean,
                 Kiln_Tensor:$inv_std_dev);
  let assemblyFormat = "operands attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def Kiln_RMSNormOp : Kiln_Op<"rms_norm"> {
  let summary = "RMS normalization (ONNX RMSNormalization)";
  let description = [{
    `x / sqrt(mean(x^2 over axes axis..last) + epsilon) * scale`.

    Example:

    ```mlir
    %y = kiln.rms_norm %x, %s {axis = 2 : i64, epsilon = 1.0e-5 : f32}
         : (tensor<1x8x32xf32>, tensor<32xf32>) -> tensor<1x8x32xf32>
    ```
  }];
  let arguments = (ins Kiln_Tensor:$input, Kiln_Tensor:$scale, I64Attr:$axis,
                   F32Attr:$epsilon,
                   DefaultValuedAttr<I64Attr, "1">:$stash_type);
  let results = (outs Kiln_Tensor:$output);
  let assemblyFormat = "operands attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def Kiln_LpNormalizationOp : Kiln_Op<"lp_normalization",
    [SameOperandsAndResultType]> {
  let summary = "Lp normalization along one axis (p = 1 or 2)";
  let description = [{
    `x / norm_p(x along axis)`; where the norm is 0 the result is 0.

    Example:

    ```mlir
    %y = kiln.lp_normalization %x {axis = 1 : i64, p = 2 : i64}
         : tensor<2x3xf32>
    ```
  }];
  let arguments = (ins Kiln_Tensor:$input, I64Attr:$axis, I64Attr:$p);
  let results = (outs Kiln_Tensor:$output);
  let assemblyFormat = "$input attr-dict `:` type($input)";
  let hasVerifier = 1;
}

def Kiln_MeanVarianceNormalizationOp : Kiln_Op<"mean_variance_normalization",
    [SameOperandsAndResultType]> {
  let summary = "(x - mean) / sqrt(var) over axes (ONNX MVN)";
  let description = [{
    `(x - mean) / (sqrt(variance) + 1e-9)` with the mean and the
    (population) variance taken over `axes` (sorted, unique, non-negative),
    as ONNX's function body defines it.

    Example:

    ```mlir
    %y = kiln.mean_variance_normalization %x {axes = array<i64: 0, 2, 3>}
         : tensor<1x3x4x4xf32>
    ```
  }];
  let arguments = (ins Kiln_Tensor:$input, DenseI64ArrayAttr:$axes);
  let results = (outs Kiln_Tensor:$output);
  let assemblyFormat = "$input attr-dict `:` type($input)";
  let hasVerifier = 1;
}

def Kiln_LRNOp : Kiln_Op<"lrn", [SameOperandsAndResultType]> {
  let summary = "local response normalization across channels";
  let description = [{
    `x / (bias + alpha / size * sum(x^2 over channels c - floor((size-1)/2)
    .. c + ceil((size-1)/2)))^beta` on an N x C x ... input.

    Example:

    ```mlir
    %y = kiln.lrn %x {alpha = 1.0e-4 : f32, beta = 0.75 : f32,
           bias = 1.0 : f32, size = 3 : i64} : tensor<1x8x4x4xf32>
    ```
  }];
  let arguments = (ins Kiln_Tensor:$input, F32Attr:$alpha, F32Attr:$beta,
                   F32Attr:$bias, I64Attr:$size);
  let results = (outs Kiln_Tensor:$output);
  let assemblyFormat = "$input attr-dict `:` type($input)";
  let hasVerifier = 1;
}

class Kiln_SoftmaxLikeOp<string mnemonic, string what>
    : Kiln_Op<mnemonic, [SameOperandsAndResultType]> {
  let summary = what # " along one axis";
  let description = [{
    Operates along the single axis `axis` (non-negative; the importer
    reshapes around opset < 13 models, whose softmax flattens trailing axes).

    Example:

    ```mlir
    %y = kiln.}] # mnemonic # [{ %x {axis = 1 : i64} : tensor<2x10xf32>
    ```
  }];
  let arguments = (ins Kiln_Tensor:$input, I64Attr:$axis);
  let results = (outs Kiln_Tensor:$output);
  let assemblyFormat = "$input attr-dict `:` type($input)";
  let hasVerifier = 1;
}

def Kiln_SoftmaxOp : Kiln_SoftmaxLikeOp<"softmax", "softmax">;
def Kiln_LogSoftmaxOp : Kiln_SoftmaxLikeOp<"log_softmax", "log of softmax">;
def Kiln_HardmaxOp : Kiln_SoftmaxLikeOp<"hardmax",
    "one-hot of the first maximum">;

def Kiln_NLLLossOp : Kiln_Op<"nll_loss"> {
  let summary = "negative log-likelihood loss (ONNX NegativeLogLikelihoodLoss)";
  let description = [{
    `input` holds log-probabilities of shape N x C x d1 x ... x dk and
    `target` class indices of shape N x d1 x ... x dk. Each position's loss
    is `-input[n, target[n, d], d] * weight[target[n, d]]` (weight 1 when
    `weight` is absent), and 0 with weight 0 where the target equals
    `ignore_index`. `reduction` is "none" (the N x d1 x ... losses), "sum"
    (their sum, rank 0) or "mean" (the sum divided by the sum of the
    weights used, rank 0). A target outside [0, C) that is not
    `ignore_index` is an evaluation error. ONNX SoftmaxCrossEntropyLoss is
    this op applied to `kiln.log_softmax` along axis 1.

    Example:

    ```mlir
    %l = kiln.nll_loss %logp, %t {reduction = "mean", ignore_index = -1 : i64}
         : (tensor<4x10xf32>, tensor<4xi64>) -> tensor<f32>
    ```
  }];
  let arguments = (ins Kiln_Tensor:$input, Kiln_IndexTensor:$target,
                   Optional<Kiln_Tensor>:$weight, StrAttr:$reduction,
                   OptionalAttr<I64Attr>:$ignore_index);
  let results = (outs Kiln_Tensor:$output);
  let assemblyFormat = "operands attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

#endif // KILN_DIALECTS_KILN_OPS_NORMALIZATIONOPS_TD
