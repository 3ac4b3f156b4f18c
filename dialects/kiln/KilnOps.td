//===- KilnOps.td - Operators of the kiln graph dialect ------*- tablegen -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// Operators of the `kiln` dialect, grouped by family: constants, linear
// algebra (conv, matmul, gemm), elementwise, pooling, shape manipulation.
// Each op's verifier checks the static shape rules in KilnShapes.h, which the
// ONNX importer uses to compute result types, so the two cannot disagree.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_DIALECTS_KILN_KILNOPS_TD
#define KILN_DIALECTS_KILN_KILNOPS_TD

include "dialects/kiln/KilnDialect.td"
include "mlir/IR/BuiltinAttributeInterfaces.td"
include "mlir/IR/CommonAttrConstraints.td"
include "mlir/IR/CommonTypeConstraints.td"
include "mlir/Interfaces/InferTypeOpInterface.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

class Kiln_Op<string mnemonic, list<Trait> traits = []>
    : Op<Kiln_Dialect, mnemonic, !listconcat(traits, [Pure])>;

/// A ranked tensor of any element type, quantized types included.
def Kiln_Tensor : RankedTensorOf<[AnyType]>;

//===----------------------------------------------------------------------===//
// Constants
//===----------------------------------------------------------------------===//

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

//===----------------------------------------------------------------------===//
// Linear algebra
//===----------------------------------------------------------------------===//

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

//===----------------------------------------------------------------------===//
// Elementwise
//===----------------------------------------------------------------------===//

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

def Kiln_AddOp : Kiln_BinaryOp<"add", "addition", [Commutative]>;
def Kiln_SubOp : Kiln_BinaryOp<"sub", "subtraction">;
def Kiln_MulOp : Kiln_BinaryOp<"mul", "multiplication", [Commutative]>;
def Kiln_DivOp : Kiln_BinaryOp<"div", "division">;

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

def Kiln_ReluOp : Kiln_UnaryOp<"relu", "rectified linear unit max(x, 0)">;

//===----------------------------------------------------------------------===//
// Pooling
//===----------------------------------------------------------------------===//

class Kiln_PoolOp<string mnemonic, string what> : Kiln_Op<mnemonic> {
  let summary = what # " pooling over sliding windows";
  let results = (outs Kiln_Tensor:$output);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def Kiln_MaxPoolOp : Kiln_PoolOp<"max_pool", "max"> {
  let description = [{
    ONNX `MaxPool` on a channels-first tensor. Padded positions never win.
    With `ceil_mode`, the output size rounds up, and a window that would start
    inside the end padding is dropped.

    Example:

    ```mlir
    %y = kiln.max_pool %x {kernel_shape = array<i64: 2, 2>,
           strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>,
           dilations = array<i64: 1, 1>, ceil_mode = false}
         : (tensor<1x16x8x8xf32>) -> tensor<1x16x4x4xf32>
    ```
  }];
  let arguments = (ins Kiln_Tensor:$input, DenseI64ArrayAttr:$kernel_shape,
                   DenseI64ArrayAttr:$strides, DenseI64ArrayAttr:$pads,
                   DenseI64ArrayAttr:$dilations,
                   DefaultValuedAttr<BoolAttr, "false">:$ceil_mode);
}

def Kiln_AvgPoolOp : Kiln_PoolOp<"avg_pool", "average"> {
  let description = [{
    ONNX `AveragePool` on a channels-first tensor. With `count_include_pad`
    the divisor counts the explicit padding (never positions beyond it that
    `ceil_mode` adds).

    Example:

    ```mlir
    %y = kiln.avg_pool %x {kernel_shape = array<i64: 3, 3>,
           strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>,
           dilations = array<i64: 1, 1>, ceil_mode = false,
           count_include_pad = false}
         : (tensor<1x16x8x8xf32>) -> tensor<1x16x8x8xf32>
    ```
  }];
  let arguments = (ins Kiln_Tensor:$input, DenseI64ArrayAttr:$kernel_shape,
                   DenseI64ArrayAttr:$strides, DenseI64ArrayAttr:$pads,
                   DenseI64ArrayAttr:$dilations,
                   DefaultValuedAttr<BoolAttr, "false">:$ceil_mode,
                   DefaultValuedAttr<BoolAttr, "false">:$count_include_pad);
}

class Kiln_GlobalPoolOp<string mnemonic, string what> : Kiln_Op<mnemonic> {
  let summary = "global " # what # " pooling over all spatial positions";
  let description = [{
    Reduces every spatial dimension of an `N x C x D1 ... Dn` tensor to 1.

    Example:

    ```mlir
    %y = kiln.}] # mnemonic # [{ %x : (tensor<1x16x8x8xf32>)
         -> tensor<1x16x1x1xf32>
    ```
  }];
  let arguments = (ins Kiln_Tensor:$input);
  let results = (outs Kiln_Tensor:$output);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def Kiln_GlobalAvgPoolOp : Kiln_GlobalPoolOp<"global_avg_pool", "average">;
def Kiln_GlobalMaxPoolOp : Kiln_GlobalPoolOp<"global_max_pool", "max">;

//===----------------------------------------------------------------------===//
// Shape manipulation
//===----------------------------------------------------------------------===//

def Kiln_ReshapeOp : Kiln_Op<"reshape", [SameOperandsAndResultElementType]> {
  let summary = "reinterprets a tensor with a new static shape";
  let description = [{
    Row-major reinterpretation; the element count is unchanged. ONNX Reshape,
    Flatten, Squeeze and Unsqueeze all import as this op (the target shape is
    the result type).

    Example:

    ```mlir
    %y = kiln.reshape %x : (tensor<1x16x1x1xf32>) -> tensor<1x16xf32>
    ```
  }];
  let arguments = (ins Kiln_Tensor:$input);
  let results = (outs Kiln_Tensor:$output);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

#endif // KILN_DIALECTS_KILN_KILNOPS_TD
