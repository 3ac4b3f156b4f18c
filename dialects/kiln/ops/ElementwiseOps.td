//===- ElementwiseOps.td - Elementwise kiln ops --------------*- tablegen -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// Unary math and activations, binary arithmetic with numpy broadcasting,
// comparisons, logical and bitwise ops, select (where), clip and cast.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_DIALECTS_KILN_OPS_ELEMENTWISEOPS_TD
#define KILN_DIALECTS_KILN_OPS_ELEMENTWISEOPS_TD

include "dialects/kiln/KilnBase.td"

//===----------------------------------------------------------------------===//
// Unary, no parameters
//===----------------------------------------------------------------------===//

def Kiln_ReluOp : Kiln_UnaryOp<"relu", "rectified linear unit max(x, 0)">;
def Kiln_SigmoidOp : Kiln_UnaryOp<"sigmoid", "logistic 1 / (1 + exp(-x))">;
def Kiln_TanhOp : Kiln_UnaryOp<"tanh", "hyperbolic tangent">;
def Kiln_ExpOp : Kiln_UnaryOp<"exp", "exponential">;
def Kiln_LogOp : Kiln_UnaryOp<"log", "natural logarithm">;
def Kiln_AbsOp : Kiln_UnaryOp<"abs", "absolute value">;
def Kiln_NegOp : Kiln_UnaryOp<"neg", "negation">;
def Kiln_SqrtOp : Kiln_UnaryOp<"sqrt", "square root">;
def Kiln_ReciprocalOp : Kiln_UnaryOp<"reciprocal", "reciprocal 1 / x">;
def Kiln_FloorOp : Kiln_UnaryOp<"floor", "floor">;
def Kiln_CeilOp : Kiln_UnaryOp<"ceil", "ceiling">;
def Kiln_RoundOp : Kiln_UnaryOp<"round", "rounding half to even">;
def Kiln_SignOp : Kiln_UnaryOp<"sign", "sign (-1, 0 or 1)">;
def Kiln_SinOp : Kiln_UnaryOp<"sin", "sine">;
def Kiln_CosOp : Kiln_UnaryOp<"cos", "cosine">;
def Kiln_TanOp : Kiln_UnaryOp<"tan", "tangent">;
def Kiln_AsinOp : Kiln_UnaryOp<"asin", "arcsine">;
def Kiln_AcosOp : Kiln_UnaryOp<"acos", "arccosine">;
def Kiln_AtanOp : Kiln_UnaryOp<"atan", "arctangent">;
def Kiln_SinhOp : Kiln_UnaryOp<"sinh", "hyperbolic sine">;
def Kiln_CoshOp : Kiln_UnaryOp<"cosh", "hyperbolic cosine">;
def Kiln_AsinhOp : Kiln_UnaryOp<"asinh", "inverse hyperbolic sine">;
def Kiln_AcoshOp : Kiln_UnaryOp<"acosh", "inverse hyperbolic cosine">;
def Kiln_AtanhOp : Kiln_UnaryOp<"atanh", "inverse hyperbolic tangent">;
def Kiln_ErfOp : Kiln_UnaryOp<"erf", "error function">;
def Kiln_SoftplusOp : Kiln_UnaryOp<"softplus", "softplus log(1 + exp(x))">;
def Kiln_SoftsignOp : Kiln_UnaryOp<"softsign", "softsign x / (1 + |x|)">;
def Kiln_NotOp : Kiln_UnaryOp<"not", "logical negation of booleans">;
def Kiln_BitwiseNotOp : Kiln_UnaryOp<"bitwise_not", "bitwise complement">;
def Kiln_HardSwishOp : Kiln_UnaryOp<"hard_swish",
    "hard swish x * max(0, min(1, x / 6 + 0.5))">;
def Kiln_MishOp : Kiln_UnaryOp<"mish", "mish x * tanh(softplus(x))">;

//===----------------------------------------------------------------------===//
// Unary with parameters (ONNX attribute names and defaults)
//===----------------------------------------------------------------------===//

class Kiln_ActivationOp<string mnemonic, string what, dag params>
    : Kiln_Op<mnemonic, [SameOperandsAndResultType]> {
  let summary = "elementwise " # what;
  let description = [{
    Applies the activation to every element. The parameters carry the ONNX
    attribute names; the importer writes their ONNX defaults explicitly.

    Example:

    ```mlir
    %y = kiln.}] # mnemonic # [{ %x {...} : tensor<4xf32>
    ```
  }];
  let arguments = !con((ins Kiln_Tensor:$input), params);
  let results = (outs Kiln_Tensor:$output);
  let assemblyFormat = "$input attr-dict `:` type($input)";
}

def Kiln_LeakyReluOp : Kiln_ActivationOp<"leaky_relu",
    "leaky ReLU: x < 0 ? alpha * x : x", (ins F32Attr:$alpha)>;
def Kiln_EluOp : Kiln_ActivationOp<"elu",
    "ELU: x < 0 ? alpha * (exp(x) - 1) : x", (ins F32Attr:$alpha)>;
def Kiln_SeluOp : Kiln_ActivationOp<"selu",
    "SELU: gamma * (x <= 0 ? alpha * (exp(x) - 1) : x)",
    (ins F32Attr:$alpha, F32Attr:$gamma)>;
def Kiln_CeluOp : Kiln_ActivationOp<"celu",
    "CELU: max(0, x) + min(0, alpha * (exp(x / alpha) - 1))",
    (ins F32Attr:$alpha)>;
def Kiln_HardSigmoidOp : Kiln_ActivationOp<"hard_sigmoid",
    "hard sigmoid max(0, min(1, alpha * x + beta))",
    (ins F32Attr:$alpha, F32Attr:$beta)>;
def Kiln_ThresholdedReluOp : Kiln_ActivationOp<"thresholded_relu",
    "thresholded ReLU: x > alpha ? x : 0", (ins F32Attr:$alpha)>;
def Kiln_GeluOp : Kiln_ActivationOp<"gelu",
    "GELU, exact (erf) or with the tanh approximation",
    (ins DefaultValuedAttr<BoolAttr, "false">:$tanh_approximation)>;
def Kiln_ShrinkOp : Kiln_ActivationOp<"shrink",
    "shrink: x < -lambd ? x + bias : (x > lambd ? x - bias : 0)",
    (ins F32Attr:$bias, F32Attr:$lambd)>;
def Kiln_SwishOp : Kiln_ActivationOp<"swish",
    "swish x * sigmoid(alpha * x)", (ins F32Attr:$alpha)>;

def Kiln_ClipOp : Kiln_Op<"clip", [SameOperandsAndResultType]> {
  let summary = "elementwise clamp to [min, max]";
  let description = [{
    Clamps every element to the optional bounds, given as attributes of the
    element type (ONNX Clip's bound inputs must be constants). A missing
    bound means no limit on that side. ReLU6 is `kiln.clip` with 0 and 6.

    Example:

    ```mlir
    %y = kiln.clip %x {min = 0.0 : f32, max = 6.0 : f32} : tensor<4xf32>
    ```
  }];
  let arguments = (ins Kiln_Tensor:$input, Kiln_OptionalScalarAttr:$min,
                   Kiln_OptionalScalarAttr:$max);
  let results = (outs Kiln_Tensor:$output);
  let assemblyFormat = "$input attr-dict `:` type($input)";
  let hasVerifier = 1;
}

def Kiln_IsNaNOp : Kiln_Op<"is_nan", [SameOperandsAndResultShape]> {
  let summary = "elementwise test for NaN";
  let description = [{
    Example:

    ```mlir
    %y = kiln.is_nan %x : (tensor<4xf32>) -> tensor<4xi1>
    ```
  }];
  let arguments = (ins Kiln_Tensor:$input);
  let results = (outs Kiln_BoolTensor:$output);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
}

def Kiln_IsInfOp : Kiln_Op<"is_inf", [SameOperandsAndResultShape]> {
  let summary = "elementwise test for infinities";
  let description = [{
    True for +inf when `detect_positive`, for -inf when `detect_negative`.

    Example:

    ```mlir
    %y = kiln.is_inf %x {detect_negative = true, detect_positive = true}
         : (tensor<4xf32>) -> tensor<4xi1>
    ```
  }];
  let arguments = (ins Kiln_Tensor:$input,
                   DefaultValuedAttr<BoolAttr, "true">:$detect_negative,
                   DefaultValuedAttr<BoolAttr, "true">:$detect_positive);
  let results = (outs Kiln_BoolTensor:$output);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
}

//===----------------------------------------------------------------------===//
// Binary with broadcasting
//===----------------------------------------------------------------------===//

def Kiln_AddOp : Kiln_BinaryOp<"add", "addition", [Commutative]>;
def Kiln_SubOp : Kiln_BinaryOp<"sub", "subtraction">;
def Kiln_MulOp : Kiln_BinaryOp<"mul", "multiplication", [Commutative]>;
def Kiln_DivOp : Kiln_BinaryOp<"div",
    "division (integers truncate toward zero)">;
def Kiln_PowOp : Kiln_BinaryOp<"pow",
    "power lhs ^ rhs (the exponent may have another element type)">;
def Kiln_MinOp : Kiln_BinaryOp<"min", "minimum (NaN propagates)",
    [Commutative]>;
def Kiln_MaxOp : Kiln_BinaryOp<"max", "maximum (NaN propagates)",
    [Commutative]>;
def Kiln_ModOp : Kiln_BinaryOp<"mod",
    "remainder: sign of the divisor (fmod = false) or of the dividend"> {
  let arguments = (ins Kiln_Tensor:$lhs, Kiln_Tensor:$rhs,
                   DefaultValuedAttr<BoolAttr, "false">:$fmod);
}
def Kiln_BitShiftOp : Kiln_BinaryOp<"bit_shift",
    "logical bit shift of unsigned integers"> {
  let arguments = (ins Kiln_Tensor:$lhs, Kiln_Tensor:$rhs,
                   BoolAttr:$left);
}
def Kiln_BitwiseAndOp : Kiln_BinaryOp<"bitwise_and", "bitwise and",
    [Commutative]>;
def Kiln_BitwiseOrOp : Kiln_BinaryOp<"bitwise_or", "bitwise or",
    [Commutative]>;
def Kiln_BitwiseXorOp : Kiln_BinaryOp<"bitwise_xor", "bitwise xor",
    [Commutative]>;
def Kiln_AndOp : Kiln_BinaryOp<"and", "logical and of booleans",
    [Commutative]>;
def Kiln_OrOp : Kiln_BinaryOp<"or", "logical or of booleans",
    [Commutative]>;
def Kiln_XorOp : Kiln_BinaryOp<"xor", "logical xor of booleans",
    [Commutative]>;
def Kiln_PReluOp : Kiln_BinaryOp<"prelu",
    "parametric ReLU: x < 0 ? slope * x : x (slope broadcasts to x)">;

def Kiln_EqualOp : Kiln_CompareOp<"equal", "equality">;
def Kiln_LessOp : Kiln_CompareOp<"less", "less-than">;
def Kiln_LessEqualOp : Kiln_CompareOp<"less_equal", "less-or-equal">;
def Kiln_GreaterOp : Kiln_CompareOp<"greater", "greater-than">;
def Kiln_GreaterEqualOp : Kiln_CompareOp<"greater_equal",
    "greater-or-equal">;

def Kiln_WhereOp : Kiln_Op<"where"> {
  let summary = "elementwise select with numpy broadcasting";
  let description = [{
    `condition ? lhs : rhs`, all three broadcasting to the result shape.

    Example:

    ```mlir
    %y = kiln.where %c, %a, %b
         : (tensor<2x3xi1>, tensor<2x3xf32>, tensor<f32>) -> tensor<2x3xf32>
    ```
  }];
  let arguments = (ins Kiln_BoolTensor:$condition, Kiln_Tensor:$lhs,
                   Kiln_Tensor:$rhs);
  let results = (outs Kiln_Tensor:$output);
  let assemblyFormat = [{
    $condition `,` $lhs `,` $rhs attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def Kiln_CastOp : Kiln_Op<"cast", [SameOperandsAndResultShape]> {
  let summary = "elementwise conversion to the result element type";
  let description = [{
    ONNX Cast: floats to integers truncate toward zero, to bool compare with
    zero; to 8-bit floats round to nearest even and, with `saturate`, clamp
    to the largest finite value instead of producing inf/NaN.

    Example:

    ```mlir
    %y = kiln.cast %x : (tensor<4xf32>) -> tensor<4xi64>
    ```
  }];
  let arguments = (ins Kiln_Tensor:$input,
                   DefaultValuedAttr<BoolAttr, "true">:$saturate);
  let results = (outs Kiln_Tensor:$output);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
  let hasFolder = 1;
}

#endif // KILN_DIALECTS_KILN_OPS_ELEMENTWISEOPS_TD
