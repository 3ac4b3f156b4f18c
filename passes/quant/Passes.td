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

#endif // KILN_PASSES_QUANT_PASSES_TD
