//===- KilnDialect.td - The kiln graph dialect ---------------*- tablegen -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// The `kiln` dialect holds a neural network at the level of ONNX operators,
// with value (tensor) semantics and fully static, normalised attributes: the
// importer resolves ONNX defaults, auto_pad, negative axes and opset-dependent
// forms, so every pass and the reference evaluator see one canonical form.
// Quantized element types come from MLIR's upstream `quant` dialect.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_DIALECTS_KILN_KILNDIALECT_TD
#define KILN_DIALECTS_KILN_KILNDIALECT_TD

include "mlir/IR/OpBase.td"

def Kiln_Dialect : Dialect {
  let name = "kiln";
  let cppNamespace = "::mlir::kiln";
  let summary = "Kiln's graph dialect: ONNX-level operators on tensors";
  let description = [{
    The `kiln` dialect represents a model as a `func.func` whose body is a
    dataflow graph of `kiln` operators on ranked tensors. Attributes are fully
    explicit (no opset-dependent defaults), padding is explicit begin/end
    lists, axes are non-negative. Shapes are static after import.

    Quantized tensors use element types of the upstream `quant` dialect, for
    example `tensor<1x8x8x16x!quant.uniform<i8:f32, 0.05:-3>>` for a per-tensor
    int8 activation and `!quant.uniform<i8:f32:0, {0.1, 0.2}>` for per-channel
    weights.
  }];
  let dependentDialects = ["::mlir::quant::QuantDialect"];
  let useDefaultAttributePrinterParser = 0;
  let hasConstantMaterializer = 1;
}

#endif // KILN_DIALECTS_KILN_KILNDIALECT_TD
