//===- Passes.td - Graph clean-up passes ---------------------*- tablegen -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// Passes that simplify the float graph before quantization and lowering:
// constant folding, BatchNorm folding, transpose cancellation, and the
// fusion of clamps into int8 producers.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_PASSES_GRAPH_PASSES_TD
#define KILN_PASSES_GRAPH_PASSES_TD

include "mlir/Pass/PassBase.td"

def KilnFoldConstantsPass : Pass<"kiln-fold-constants", "func::FuncOp"> {
  let summary = "Evaluates ops whose operands are all constants";
  let description = [{
    Runs the reference evaluator on every op whose operands are all
    `kiln.constant` and replaces it by constants holding its results (as
    `dense_resource` blobs when large). Results larger than `max-elements`
    are left alone.

    Before:
    ```mlir
    %c = kiln.constant dense<[[1.0, 2.0]]> : tensor<1x2xf32> : tensor<1x2xf32>
    %t = kiln.transpose %c {perm = array<i64: 1, 0>}
         : (tensor<1x2xf32>) -> tensor<2x1xf32>
    ```
    After:
    ```mlir
    %t = kiln.constant dense<[[1.0], [2.0]]> : tensor<2x1xf32>
         : tensor<2x1xf32>
    ```
  }];
  let dependentDialects = ["::mlir::kiln::KilnDialect"];
  let options = [
    Option<"maxElements", "max-elements", "int64_t", "4194304",
           "Largest result (in elements) that is materialized">
  ];
}

def KilnFoldBatchNormPass : Pass<"kiln-fold-batch-norm", "func::FuncOp"> {
  let summary = "Folds inference BatchNorm into the preceding conv or gemm";
  let description = [{
    `batch_norm(conv(x, W, b))` with constant parameters becomes
    `conv(x, W', b')` with `W' = W * g`, `b' = (b - mean) * g + beta`,
    `g = scale / sqrt(var + eps)` per output channel; the same for `gemm`
    (per output column). A BatchNorm with no foldable producer becomes a
    per-channel `mul` + `add` with constant operands.

    Before:
    ```mlir
    %c = kiln.conv %x, %w, %b {...} : (...) -> tensor<1x4x8x8xf32>
    %y = kiln.batch_norm %c, %s, %beta, %m, %v {epsilon = 1.0e-5 : f32} : ...
    ```
    After:
    ```mlir
    %y = kiln.conv %x, %w2, %b2 {...} : (...) -> tensor<1x4x8x8xf32>
    ```
  }];
  let dependentDialects = ["::mlir::kiln::KilnDialect"];
}

def KilnCancelTransposesPass : Pass<"kiln-cancel-transposes",
                                    "func::FuncOp"> {
  let summary = "Removes transposes introduced by layout changes";
  let description = [{
    Composes consecutive transposes, removes identity permutations, turns
    transposes that only move size-1 dimensions into reshapes, and moves
    transposes through quantize/dequantize and elementwise unary ops, and
    through same-shape `kiln.qadd` / `kiln.qmul` whose operands are both
    transposed by the same permutation, so that the NCHW <-> NHWC pairs the
    int8 lowering inserts meet and cancel.

    Before:
    ```mlir
    %a = kiln.transpose %x {perm = array<i64: 0, 2, 3, 1>} : ...
    %b = kiln.transpose %a {perm = array<i64: 0, 3, 1, 2>} : ...
    ```
    After: uses of `%b` use `%x`.
  }];
  let dependentDialects = ["::mlir::kiln::KilnDialect"];
}

def KilnFuseActivationsPass : Pass<"kiln-fuse-activations",
                                   "func::FuncOp"> {
  let summary = "Fuses int8 ReLU / ReLU6 / Clip into the producing kernel";
  let description = [{
    A `kiln.qclamp` whose input is the only use of a conv, fully connected,
    add, mul or pooling kernel with the same quantization narrows that
    kernel's `act_min` / `act_max` and disappears (TFLite's fused
    activations).

    Before:
    ```mlir
    %c = kiln.qconv2d %x, %w, %b {act_min = -128 : i32, act_max = 127 : i32,
           ...} : (...) -> tensor<1x8x8x4x!quant.uniform<i8:f32, 0.1:-128>>
    %r = kiln.qclamp %c {min = -128 : i32, max = -68 : i32} : ...
    ```
    After:
    ```mlir
    %r = kiln.qconv2d %x, %w, %b {act_min = -128 : i32, act_max = -68 : i32,
           ...} : (...) -> tensor<1x8x8x4x!quant.uniform<i8:f32, 0.1:-128>>
    ```
  }];
  let dependentDialects = ["::mlir::kiln::KilnDialect"];
}

#endif // KILN_PASSES_GRAPH_PASSES_TD
