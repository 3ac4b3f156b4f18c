//===- Passes.td - Quantization passes -----------------------*- tablegen -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// Calibration (activation ranges from the reference evaluator), ONNX QDQ
// folding, and the int8 lowering to TFLite-semantics kernels.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_PASSES_QUANT_PASSES_TD
#define KILN_PASSES_QUANT_PASSES_TD

include "mlir/Pass/PassBase.td"

def KilnCalibratePass : Pass<"kiln-calibrate", "func::FuncOp"> {
  let summary = "Annotates activation ranges measured on calibration data";
  let description = [{
    Runs the reference evaluator on every sample of `data` (a .npz, a
    folder of .npy, or an ONNX test_data_set folder; several samples stack
    along the first dimension of each input or come as one file per folder)
    and records, for every float tensor value, the range the `observer`
    chooses: `minmax`, `percentile` (two-sided, `percentile` e.g. 99.99) or
    `mse` (the clipping range that minimizes int8 quantization error on a
    histogram). Ranges always contain 0. They are stored as
    `kiln.ranges = [array<f64: lo, hi>, ...]` on ops (one per result) and
    `kiln.range` on function arguments.
  }];
  let dependentDialects = ["::mlir::kiln::KilnDialect"];
  let options = [
    Option<"data", "data", "std::string", "\"\"",
           "Calibration data (.npz, folder of .npy, test_data_set folder)">,
    Option<"observer", "observer", "std::string", "\"minmax\"",
           "Range observer: minmax, percentile, mse">,
    Option<"percentile", "percentile", "double", "99.99",
           "Percentile of the percentile observer, in (50, 100]">
  ];
}

def KilnFoldQdqPass : Pass<"kiln-fold-qdq", "func::FuncOp"> {
  let summary = "Turns ONNX QuantizeLinear/DequantizeLinear pairs into ranges";
  let description = [{
    For an activation `dequantize_linear(quantize_linear(x, s, z), s, z)`
    (per-tensor, int8 or uint8), replaces the pair by `x` and records the
    exact quantization on `x` as `kiln.qparams = array<f64: scale, zp>`
    (uint8 zero points shift by -128 onto the same grid), so the int8
    lowering keeps the model's scales. Weight and bias dequantizations of
    constants stay; the lowering reads their integers and scales directly.

    Before:
    ```mlir
    %q = kiln.quantize_linear %x, %s, %z : (...) -> tensor<1x8xi8>
    %d = kiln.dequantize_linear %q, %s, %z : (...) -> tensor<1x8xf32>
    ```
    After: uses of `%d` use `%x`, whose producer carries `kiln.qparams`.
  }];
  let dependentDialects = ["::mlir::kiln::KilnDialect"];
}

def KilnQuantizeInt8Pass : Pass<"kiln-quantize-int8", "func::FuncOp"> {
  let summary = "Lowers the float graph to int8 kernels (TFLite semantics)";
  let description = [{
    Using the ranges of kiln-calibrate (or the exact parameters of
    kiln-fold-qdq), rewrites conv, gemm / matmul with constant weights,
    pooling, add, mul, concat, softmax and ReLU / Clip into the int8 ops of
    IntegerOps.td: per-output-channel symmetric int8 weights in [-127, 127],
    per-tensor asymmetric int8 activations, int32 biases, and explicit
    fixed-point requantization multipliers. Kernels are NHWC; the pass wraps
    them in NCHW <-> NHWC transposes that kiln-cancel-transposes removes.
    Ops without an int8 kernel stay float between kiln.dequantize and
    kiln.quantize, and each is reported with a remark. Graph inputs are
    quantized with kiln.quantize and outputs dequantized, so the function
    keeps its float signature.
  }];
  let dependentDialects = ["::mlir::kiln::KilnDialect",
                           "::mlir::quant::QuantDialect"];
}

def KilnQuantizeLowBitPass : Pass<"kiln-quantize-lowbit", "func::FuncOp"> {
  let summary = "Quantizes linear layers with the transformer schemes "
                "(SmoothQuant, SVDQuant, QoQ W4A8KV4, NVFP4 4/6)";
  let description = [{
    Finds the linear layers (`kiln.matmul` with a constant rank-2 right
    operand, `kiln.gemm` with a constant `B`; a following `kiln.add` of a
    constant `[N]` vector is taken as the bias), runs the reference
    evaluator on the calibration samples of `data` to collect each layer
    input's per-channel maxima and a bounded sample of its rows
    (`max-rows`), and rewrites every layer into `kiln.lowbit_linear`
    (LowBitOps.td) according to `scheme`:

    | scheme | smoothing | weights | activations |
    | --- | --- | --- | --- |
    | `w8a8` | - | int8 per channel | int8 per token |
    | `w8a8-smooth` | yes | int8 per channel | int8 per token |
    | `w4a16` | - | int4 asymmetric, group 128 | float |
    | `w4a4` | - | int4 symmetric, group 64 | int4 symmetric, group 64 |
    | `w4a4-smooth` | yes | as `w4a4` | as `w4a4` |
    | `w4a4-svd` | yes | rank-`rank` fp16 branch + int4 residual, g64 | int4, g64 |
    | `w4a8` | yes | QoQ progressive (int8 [-119, 119] then uint4 g128) | int8 per token |
    | `nvfp4` | - | NVFP4 (block 16, E4M3 scales) | NVFP4 |
    | `nvfp4-4over6` | - | NVFP4, 4/6 block scales (`fp4-error`) | NVFP4 4/6 |

    Smoothing (SmoothQuant): per input channel `s_j = max|X_j|^a /
    max|W_j|^(1-a)` with `a` searched per layer on the calibration rows
    (`smooth-alpha=auto`: the grid 0, 0.05, ..., 1, or 0, 0.1, ..., 1 for
    `w4a4-svd`; the lowest output error of the quantized layer wins) or
    fixed (`smooth-alpha=0.5`). Linears that read the same value (Q, K, V)
    share one `s` (weight maxima over all of them). `X / s` is folded into
    the producer: a LayerNorm's (or RMSNorm's, or a constant
    multiplication's) scale and bias, or the output channels and bias of
    earlier linears, through the ops that commute with a per-channel scale
    (reshape, transpose, slice/concat, elementwise products and sums, the
    `P x V` product of attention). A producer with other users is cloned;
    when nothing can absorb `s`, an explicit `kiln.mul` by `1/s` precedes
    the layers. Layers are smoothed last-to-first, so each search sees its
    weights as final.

    SVDQuant (`w4a4-svd`): after smoothing, `W = L1 L2 + R` (truncated SVD
    of rank `rank`, factors rounded to fp16 values, then `svd-iterations`
    quantization-aware refinements L = SVD_r(W - Q(R)) keeping the lowest
    weight error); `R` becomes the
    low-bit linear and the low-rank branch stays in the graph as two
    `kiln.matmul`s with float32 constants holding the fp16 values, marked
    `kiln.lowrank = "down"` (`x_s L2^T`, `[K, r]`) and `"up"` (`[r, N]`),
    added to the low-bit output, so a fusion pass can match them.

    `kv-bits=4` (or 8): the attentions written as
    `softmax(Q K^T ...) V` with `kiln.matmul`s get SmoothAttention (key
    channel scales `lambda_j = max|K_j|^0.5`, shared by RoPE pairs, folded
    into the key and query projections) and their K and V inputs a
    `kiln.fake_quant` (int4 asymmetric, or int8, per head and token).

    Before (the float layer):
    ```mlir
    %y = kiln.matmul %x, %w : (tensor<1x64x256xf32>, tensor<256x256xf32>)
         -> tensor<1x64x256xf32>
    ```
    After (`scheme=w4a8`):
    ```mlir
    %y = kiln.lowbit_linear %x, %q, %s1 zeros(%zs) group_scales(%s2)
           {act_format = "int8", weight_format = "qoq",
            weight_group_size = 128 : i64} : (...) -> tensor<1x64x256xf32>
    ```

    `report=PATH` writes a JSON file with, per layer, the alpha, the rank,
    the weight storage in bits, and the output SQNR of the quantized layer
    on the collected calibration rows (each layer alone, float inputs).
  }];
  let dependentDialects = ["::mlir::kiln::KilnDialect"];
  let options = [
    Option<"scheme", "scheme", "std::string", "\"\"",
           "w8a8, w8a8-smooth, w4a16, w4a4, w4a4-smooth, w4a4-svd, w4a8, "
           "nvfp4, nvfp4-4over6">,
    Option<"data", "data", "std::string", "\"\"",
           "Calibration data (needed by smoothing, SVDQuant and kv-bits)">,
    Option<"rank", "rank", "int64_t", "32",
           "Rank of the SVDQuant low-rank branch">,
    Option<"svdIterations", "svd-iterations", "int64_t", "4",
           "Quantization-aware refinements of the SVDQuant split (0: plain "
           "truncated SVD); the alpha search uses the plain split">,
    Option<"smoothAlpha", "smooth-alpha", "std::string", "\"auto\"",
           "Smoothing alpha: auto (searched per layer) or a number in [0, 1]">,
    Option<"fp4Error", "fp4-error", "std::string", "\"mse\"",
           "Block error of Four Over Six: mse or mae">,
    Option<"kvBits", "kv-bits", "int64_t", "16",
           "KV-cache bits: 16 (float), 8 or 4 (with SmoothAttention)">,
    Option<"maxRows", "max-rows", "int64_t", "512",
           "Calibration rows kept per layer input for the alpha search">,
    Option<"report", "report", "std::string", "\"\"",
           "Write a JSON report of the quantized layers to this file">
  ];
}

#endif // KILN_PASSES_QUANT_PASSES_TD
