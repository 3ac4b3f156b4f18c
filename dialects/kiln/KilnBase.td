//===- KilnBase.td - Base classes of kiln ops ----------------*- tablegen -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// Op base classes and type constraints shared by the op families in ops/.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_DIALECTS_KILN_KILNBASE_TD
#define KILN_DIALECTS_KILN_KILNBASE_TD

include "dialects/kiln/KilnDialect.td"
include "mlir/IR/BuiltinAttributeInterfaces.td"
include "mlir/IR/CommonAttrConstraints.td"
include "mlir/IR/CommonTypeConstraints.td"
include "mlir/IR/OpBase.td"
include "mlir/Interfaces/InferTypeOpInterface.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

/// Every kiln op is free of side effects.
class Kiln_Op<string mnemonic, list<Trait> traits = []>
    : Op<Kiln_Dialect, mnemonic, !listconcat(traits, [Pure])>;

/// A ranked tensor of any element type, quantized types included.
def Kiln_Tensor : RankedTensorOf<[AnyType]>;

/// Boolean tensors (results of comparisons, inputs of logical ops).
def Kiln_BoolTensor : RankedTensorOf<[I1]>;

/// Integer index tensors (ONNX int64/int32 indices).
def Kiln_IndexTensor : RankedTensorOf<[AnySignlessInteger]>;

/// 32- and 64-bit signless integer attributes read as signed values (ODS's
/// I32Attr / I64Attr getters return unsigned types).
def Kiln_SI32Attr : TypedSignlessIntegerAttrBase<I32, "int32_t",
    "32-bit signless integer attribute, read as signed"> {
  let convertFromStorage =
      "static_cast<int32_t>($_self.getValue().getSExtValue())";
}
def Kiln_SI64Attr : TypedSignlessIntegerAttrBase<I64, "int64_t",
    "64-bit signless integer attribute, read as signed"> {
  let convertFromStorage = "$_self.getValue().getSExtValue()";
}

/// Optional typed scalar (a bound of Clip, the fill value of Pad): an
/// IntegerAttr or FloatAttr of the tensor's element type.
def Kiln_OptionalScalarAttr : OptionalAttr<TypedAttrInterface>;

/// Unary elementwise op whose result has the operand's type.
class Kiln_UnaryOp<string mnemonic, string what, list<Trait> traits = []>
    : Kiln_Op<mnemonic, !listconcat(traits, [SameOperandsAndResultType])> {
  let summary = "elementwise " # what;
  let description = [{
    Applies the operation to every element.

    Example:

    ```mlir
    %y = kiln.}] # mnemonic # [{ %x : tensor<1x16x8x8xf32>
    ```
  }];
  let arguments = (ins Kiln_Tensor:$input);
  let results = (outs Kiln_Tensor:$output);
  let assemblyFormat = "$input attr-dict `:` type($input)";
}

/// Binary elementwise op with multidirectional (numpy) broadcasting.
class Kiln_BinaryOp<string mnemonic, string what, list<Trait> traits = []>
    : Kiln_Op<mnemonic, traits> {
  let summary = "elementwise " # what # " with numpy broadcasting";
  let description = [{
    Applies the operation elementwise; operand shapes broadcast as in numpy
    (ONNX multidirectional broadcasting) to the result shape.

    Example:

    ```mlir
    %y = kiln.}] # mnemonic # [{ %a, %b : (tensor<2x3xf32>, tensor<3xf32>)
         -> tensor<2x3xf32>
    ```
  }];
  let arguments = (ins Kiln_Tensor:$lhs, Kiln_Tensor:$rhs);
  let results = (outs Kiln_Tensor:$output);
  let assemblyFormat = [{
    $lhs `,` $rhs attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

/// Binary comparison with numpy broadcasting and a boolean result.
class Kiln_CompareOp<string mnemonic, string what>
    : Kiln_BinaryOp<mnemonic, what> {
  let results = (outs Kiln_BoolTensor:$output);
}

/// Reduction over |axes| (sorted, non-negative; never empty: the importer
/// turns ONNX's "no axes" into all axes, or drops a no-op reduction).
class Kiln_ReduceOp<string mnemonic, string what> : Kiln_Op<mnemonic> {
  let summary = "reduction: " # what;
  let description = [{
    Reduces `input` over `axes` (sorted, non-negative, unique); with
    `keepdims` the reduced axes stay as size 1.

    Example:

    ```mlir
    %y = kiln.}] # mnemonic # [{ %x {axes = array<i64: 1>, keepdims = true}
         : (tensor<2x3x4xf32>) -> tensor<2x1x4xf32>
    ```
  }];
  let arguments = (ins Kiln_Tensor:$input, DenseI64ArrayAttr:$axes,
                   DefaultValuedAttr<BoolAttr, "true">:$keepdims);
  let results = (outs Kiln_Tensor:$output);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

#endif // KILN_DIALECTS_KILN_KILNBASE_TD
