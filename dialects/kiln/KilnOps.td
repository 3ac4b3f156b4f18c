//===- KilnOps.td - Operators of the kiln graph dialect ------*- tablegen -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// All operators of the `kiln` dialect, one file per family under ops/. Each
// op's verifier checks the static shape rules in KilnShapes.h, which the ONNX
// importer uses to compute result types, so the two cannot disagree.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_DIALECTS_KILN_KILNOPS_TD
#define KILN_DIALECTS_KILN_KILNOPS_TD

include "dialects/kiln/KilnBase.td"

def Kiln_ConstantOp : Kiln_Op<"constant", [ConstantLike]> {
  let summary = "a constant tensor (weights, biases, shape data)";
  let description = [{
    Produces a constant tensor. Large values (weights) are stored as
    `dense_resource` blobs, which are loaded once and never copied per use;
    small ones as `dense` attributes. When the result has a quantized element
    type, `value` holds the storage integers (for example `i8` for
    `!quant.uniform<i8:f32, ...>`).

    Example:

    ```mlir
    %w = kiln.constant dense<[[1.0, 2.0], [3.0, 4.0]]> : tensor<2x2xf32>
         : tensor<2x2xf32>
    %q = kiln.constant dense<[1, -2]> : tensor<2xi8>
         : tensor<2x!quant.uniform<i8:f32, 0.5>>
    ```
  }];
  let arguments = (ins ElementsAttr:$value);
  let results = (outs Kiln_Tensor:$output);
  let assemblyFormat = "$value attr-dict `:` type($output)";
  let hasVerifier = 1;
  let hasFolder = 1;
  let builders = [
    OpBuilder<(ins "::mlir::ElementsAttr":$value), [{
      build($_builder, $_state, ::llvm::cast<::mlir::TensorType>(
                                    value.getType()), value);
    }]>
  ];
}

include "dialects/kiln/ops/ElementwiseOps.td"
include "dialects/kiln/ops/LinearOps.td"
include "dialects/kiln/ops/NormalizationOps.td"
include "dialects/kiln/ops/PoolingOps.td"
include "dialects/kiln/ops/ReductionOps.td"
include "dialects/kiln/ops/DataMovementOps.td"
include "dialects/kiln/ops/QuantizationOps.td"
include "dialects/kiln/ops/AttentionOps.td"
include "dialects/kiln/ops/IntegerOps.td"
include "dialects/kiln/ops/LowBitOps.td"

#endif // KILN_DIALECTS_KILN_KILNOPS_TD
