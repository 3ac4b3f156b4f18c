//===- Elementwise.cpp - Converters of elementwise ONNX ops -----*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// Unary math and activations, binary arithmetic (variadic Sum/Mean/Min/Max
// become chains of binary ops), comparisons, logical and bitwise ops,
// Where and Clip. Element types are checked against what each op's kernel
// implements before any op is built.
//
//===----------------------------------------------------------------------===//

#include "compiler/frontend/ImportContext.h"
#include "compiler/support/TensorAttr.h"

#include "dialects/kiln/KilnOps.h"

#include "mlir/IR/BuiltinAttributes.h"

using namespace mlir;
using namespace mlir::kiln;

namespace kiln::frontend {
namespace {

/// Which element types an op accepts.
enum class Accepts { Float, Numeric, SignedNumeric, Integer, Bool, Any };

/// Checks input |i|'s element type against |accepts|.
LogicalResult checkType(NodeImporter &n, size_t i, Accepts accepts) {
  DType t = n.inputDType(i);
  bool ok = false;
  switch (accepts) {
  case Accepts::Float:
    ok = isFloat(t);
    break;
  case Accepts::Numeric:
    ok = t != DType::Bool;
    break;
  case Accepts::SignedNumeric:
    ok = isFloat(t) || isSignedInt(t);
    break;
  case Accepts::Integer:
    ok = isSignedInt(t) || isUnsignedInt(t);
    break;
  case Accepts::Bool:
    ok = t == DType::Bool;
    break;
  case Accepts::Any:
    ok = true;
    break;
  }
  if (!ok)
    return n.unsupported(llvm::Twine("element type ") + dtypeName(t));
  return success();
}

template <typename OpTy, Accepts accepts>
LogicalResult convertUnary(NodeImporter &n) {
  if (failed(checkType(n, 0, accepts)))
    return failure();
  n.setOutput(0, OpTy::create(n.builder(), n.loc(), n.inputType(0),
                              n.input(0)));
  return success();
}

/// Builds |OpTy| on two values with a broadcast result shape; the result
/// element type is |resultElement| (or the lhs element type when null).
template <typename OpTy>
FailureOr<Value> buildBinary(NodeImporter &n, Value lhs, Value rhs,
                             Type resultElement = {}) {
  auto lhsType = cast<RankedTensorType>(lhs.getType());
  auto rhsType = cast<RankedTensorType>(rhs.getType());
  auto shape = inferBroadcastShape(lhsType.getShape(), rhsType.getShape(),
                                   n.errorFn());
  if (failed(shape))
    return failure();
  if (!resultElement)
    resultElement = lhsType.getElementType();
  return Value(OpTy::create(n.builder(), n.loc(),
                            RankedTensorType::get(*shape, resultElement), lhs,
                            rhs));
}

/// Requires inputs 0 and 1 to share an element type (ONNX's T).
LogicalResult checkSameType(NodeImporter &n) {
  if (n.inputElementType(0) != n.inputElementType(1)) {
    n.emitError() << "operands have different element types "
                  << n.inputElementType(0) << " and "
                  << n.inputElementType(1);
    return failure();
  }
  return success();
}

template <typename OpTy, Accepts accepts>
LogicalResult convertBinary(NodeImporter &n) {
  if (failed(checkType(n, 0, accepts)) || failed(checkSameType(n)))
    return failure();
  auto result = buildBinary<OpTy>(n, n.input(0), n.input(1));
  if (failed(result))
    return failure();
  n.setOutput(0, *result);
  return success();
}

template <typename OpTy, Accepts accepts>
LogicalResult convertCompare(NodeImporter &n) {
  if (failed(checkType(n, 0, accepts)) || failed(checkSameType(n)))
    return failure();
  auto result = buildBinary<OpTy>(n, n.input(0), n.input(1),
                                  n.builder().getI1Type());
  if (failed(result))
    return failure();
  n.setOutput(0, *result);
  return success();
}

/// Variadic Sum / Min / Max as a left fold of binary ops.
template <typename OpTy>
FailureOr<Value> foldVariadic(NodeImporter &n) {
  if (n.numInputs() == 0) {
    n.emitError() << "needs at least one input";
    return failure();
  }
  if (failed(checkType(n, 0, Accepts::Numeric)))
    return failure();
  Value acc = n.input(0);
  for (size_t i = 1; i < n.numInputs(); ++i) {
    if (n.inputElementType(i) != n.inputElementType(0)) {
      n.emitError() << "inputs have different element types";
      return failure();
    }
    auto next = buildBinary<OpTy>(n, acc, n.input(i));
    if (failed(next))
      return failure();
    acc = *next;
  }
  return acc;
}

template <typename OpTy> LogicalResult convertVariadic(NodeImporter &n) {
  auto result = foldVariadic<OpTy>(n);
  if (failed(result))
    return failure();
  // A single input still yields a new value (ONNX Sum(x) == x).
  n.setOutput(0, *result);
  return success();
}

LogicalResult convertMean(NodeImporter &n) {
  if (failed(checkType(n, 0, Accepts::Float)))
    return failure();
  auto sum = foldVariadic<AddOp>(n);
  if (failed(sum))
    return failure();
  Value count =
      n.scalar(n.inputDType(0), static_cast<double>(n.numInputs()));
  auto mean = buildBinary<DivOp>(n, *sum, count);
  if (failed(mean))
    return failure();
  n.setOutput(0, *mean);
  return success();
}

LogicalResult convertPow(NodeImporter &n) {
  if (failed(checkType(n, 0, Accepts::Numeric)) ||
      failed(checkType(n, 1, Accepts::Numeric)))
    return failure();
  auto result = buildBinary<PowOp>(n, n.input(0), n.input(1));
  if (failed(result))
    return failure();
  n.setOutput(0, *result);
  return success();
}

LogicalResult convertMod(NodeImporter &n) {
  if (failed(checkType(n, 0, Accepts::Numeric)) || failed(checkSameType(n)))
    return failure();
  bool fmod = n.getInt("fmod", 0) != 0;
  if (!fmod && isFloat(n.inputDType(0)))
    return n.unsupported("fmod = 0 on floating-point inputs (ONNX requires "
                         "fmod = 1)");
  auto shape = inferBroadcastShape(n.inputShape(0), n.inputShape(1),
                                   n.errorFn());
  if (failed(shape))
    return failure();
  n.setOutput(0, ModOp::create(n.builder(), n.loc(),
                               n.tensorType(*shape, n.inputElementType(0)),
                               n.input(0), n.input(1),
                               n.builder().getBoolAttr(fmod)));
  return success();
}

LogicalResult convertBitShift(NodeImporter &n) {
  if (!isUnsignedInt(n.inputDType(0)))
    return n.unsupported(llvm::Twine("element type ") +
                         dtypeName(n.inputDType(0)) +
                         " (Kiln shifts unsigned integers only)");
  if (failed(checkSameType(n)))
    return failure();
  std::string direction = n.getString("direction", "");
  if (direction != "LEFT" && direction != "RIGHT") {
    n.emitError() << "attribute 'direction' must be LEFT or RIGHT, got '"
                  << direction << "'";
    return failure();
  }
  auto shape = inferBroadcastShape(n.inputShape(0), n.inputShape(1),
                                   n.errorFn());
  if (failed(shape))
    return failure();
  n.setOutput(0, BitShiftOp::create(
                     n.builder(), n.loc(),
                     n.tensorType(*shape, n.inputElementType(0)), n.input(0),
                     n.input(1), n.builder().getBoolAttr(direction == "LEFT")));
  return success();
}

LogicalResult convertPRelu(NodeImporter &n) {
  if (failed(checkType(n, 0, Accepts::Numeric)) || failed(checkSameType(n)))
    return failure();
  Value slope = n.input(1);
  ArrayRef<int64_t> x = n.inputShape(0);
  if (!isUnidirectionallyBroadcastable(n.inputShape(1), x)) {
    n.emitError() << "slope shape "
                  << mlir::kiln::formatShape(n.inputShape(1))
                  << " does not broadcast to the input shape "
                  << mlir::kiln::formatShape(x);
    return failure();
  }
  n.setOutput(0, PReluOp::create(n.builder(), n.loc(), n.inputType(0),
                                 n.input(0), slope));
  return success();
}

LogicalResult convertWhere(NodeImporter &n) {
  if (failed(checkType(n, 0, Accepts::Bool)))
    return failure();
  if (n.inputElementType(1) != n.inputElementType(2)) {
    n.emitError() << "X and Y have different element types";
    return failure();
  }
  auto partial = inferBroadcastShape(n.inputShape(0), n.inputShape(1),
                                     n.errorFn());
  if (failed(partial))
    return failure();
  auto shape = inferBroadcastShape(*partial, n.inputShape(2), n.errorFn());
  if (failed(shape))
    return failure();
  n.setOutput(0, WhereOp::create(n.builder(), n.loc(),
                                 n.tensorType(*shape, n.inputElementType(1)),
                                 n.input(0), n.input(1), n.input(2)));
  return success();
}

/// Returns |value| as an attribute of |type| (integer or float).
TypedAttr scalarAttr(Type type, double value) {
  if (auto integer = dyn_cast<IntegerType>(type))
    return IntegerAttr::get(integer, static_cast<int64_t>(value));
  return FloatAttr::get(type, value);
}

LogicalResult convertClip(NodeImporter &n) {
  if (failed(checkType(n, 0, Accepts::Numeric)))
    return failure();
  Type element = n.inputElementType(0);
  OpBuilder &b = n.builder();
  TypedAttr lo, hi;
  if (n.version() < 11) {
    if (n.hasAttr("min"))
      lo = scalarAttr(element, n.getFloat("min", 0));
    if (n.hasAttr("max"))
      hi = scalarAttr(element, n.getFloat("max", 0));
    n.setOutput(0, ClipOp::create(b, n.loc(), n.inputType(0), n.input(0), lo,
                                  hi));
    return success();
  }
  // Opset 11+: bounds are optional inputs. Constant bounds become
  // attributes (so ReLU6 is recognisable); others lower to max then min,
  // which is ONNX's definition min(max(x, lo), hi).
  bool constantBounds = true;
  for (size_t i : {1, 2}) {
    if (!n.hasInput(i))
      continue;
    std::optional<Tensor> bound = n.constantInput(i);
    if (!bound) {
      constantBounds = false;
      continue;
    }
    if (bound->numElements() != 1) {
      n.emitError() << "clip bounds must be scalars";
      return failure();
    }
    TypedAttr attr;
    if (auto integer = dyn_cast<IntegerType>(element))
      attr = IntegerAttr::get(
          integer, isUnsignedInt(bound->dtype)
                       ? static_cast<int64_t>(loadUnsigned(*bound, 0))
                       : loadInt(*bound, 0));
    else
      attr = FloatAttr::get(element, loadFloat(*bound, 0));
    (i == 1 ? lo : hi) = attr;
  }
  if (constantBounds) {
    n.setOutput(0, ClipOp::create(b, n.loc(), n.inputType(0), n.input(0), lo,
                                  hi));
    return success();
  }
  Value result = n.input(0);
  if (n.hasInput(1)) {
    auto max = buildBinary<MaxOp>(n, result, n.input(1));
    if (failed(max))
      return failure();
    result = *max;
  }
  if (n.hasInput(2)) {
    auto min = buildBinary<MinOp>(n, result, n.input(2));
    if (failed(min))
      return failure();
    result = *min;
  }
  n.setOutput(0, result);
  return success();
}

/// Activation with float attributes: |names| and |defaults| in ODS order.
template <typename OpTy>
LogicalResult convertActivation(NodeImporter &n,
                                std::initializer_list<const char *> names,
                                std::initializer_list<float> defaults) {
  if (failed(checkType(n, 0, Accepts::Float)))
    return failure();
  OpBuilder &b = n.builder();
  SmallVector<NamedAttribute> attrs;
  auto def = defaults.begin();
  for (const char *name : names)
    attrs.push_back(
        b.getNamedAttr(name, b.getF32FloatAttr(n.getFloat(name, *def++))));
  OperationState state(n.loc(), OpTy::getOperationName());
  state.addOperands(n.input(0));
  state.addTypes(n.inputType(0));
  state.addAttributes(attrs);
  n.setOutput(0, b.create(state)->getResult(0));
  return success();
}

LogicalResult convertGelu(NodeImporter &n) {
  if (failed(checkType(n, 0, Accepts::Float)))
    return failure();
  std::string approximate = n.getString("approximate", "none");
  if (approximate != "none" && approximate != "tanh")
    return n.unsupported("approximate = '" + approximate + "'");
  n.setOutput(0, GeluOp::create(n.builder(), n.loc(), n.inputType(0),
                                n.input(0),
                                n.builder().getBoolAttr(approximate ==
                                                        "tanh")));
  return success();
}

LogicalResult convertShrink(NodeImporter &n) {
  if (failed(checkType(n, 0, Accepts::Numeric)))
    return failure();
  OpBuilder &b = n.builder();
  n.setOutput(0, ShrinkOp::create(b, n.loc(), n.inputType(0), n.input(0),
                                  b.getF32FloatAttr(n.getFloat("bias", 0)),
                                  b.getF32FloatAttr(n.getFloat("lambd", 0.5))));
  return success();
}

LogicalResult convertIsInf(NodeImporter &n) {
  if (failed(checkType(n, 0, Accepts::Float)))
    return failure();
  OpBuilder &b = n.builder();
  n.setOutput(0, IsInfOp::create(
                     b, n.loc(), n.tensorType(n.inputShape(0), b.getI1Type()),
                     n.input(0),
                     b.getBoolAttr(n.getInt("detect_negative", 1) != 0),
                     b.getBoolAttr(n.getInt("detect_positive", 1) != 0)));
  return success();
}

LogicalResult convertIsNaN(NodeImporter &n) {
  if (failed(checkType(n, 0, Accepts::Float)))
    return failure();
  OpBuilder &b = n.builder();
  n.setOutput(0, IsNaNOp::create(b, n.loc(),
                                 n.tensorType(n.inputShape(0), b.getI1Type()),
                                 n.input(0)));
  return success();
}

} // namespace

void registerElementwiseConverters(ConverterRegistry &r) {
  using A = Accepts;
  // Unary math. Versions listed are those whose only change was new types.
  r.add("", "Relu", {6, 13, 14}, convertUnary<ReluOp, A::SignedNumeric>);
  r.add("", "Abs", {6, 13}, convertUnary<AbsOp, A::Numeric>);
  r.add("", "Neg", {6, 13}, convertUnary<NegOp, A::SignedNumeric>);
  r.add("", "Sign", {9, 13}, convertUnary<SignOp, A::Numeric>);
  r.add("", "Sigmoid", {6, 13}, convertUnary<SigmoidOp, A::Float>);
  r.add("", "Tanh", {6, 13}, convertUnary<TanhOp, A::Float>);
  r.add("", "Exp", {6, 13}, convertUnary<ExpOp, A::Float>);
  r.add("", "Log", {6, 13}, convertUnary<LogOp, A::Float>);
  r.add("", "Sqrt", {6, 13}, convertUnary<SqrtOp, A::Float>);
  r.add("", "Reciprocal", {6, 13}, convertUnary<ReciprocalOp, A::Float>);
  r.add("", "Floor", {6, 13}, convertUnary<FloorOp, A::Float>);
  r.add("", "Ceil", {6, 13}, convertUnary<CeilOp, A::Float>);
  r.add("", "Round", {11, 22}, convertUnary<RoundOp, A::Float>);
  r.add("", "Sin", {7, 22}, convertUnary<SinOp, A::Float>);
  r.add("", "Cos", {7, 22}, convertUnary<CosOp, A::Float>);
  r.add("", "Tan", {7, 22}, convertUnary<TanOp, A::Float>);
  r.add("", "Asin", {7, 22}, convertUnary<AsinOp, A::Float>);
  r.add("", "Acos", {7, 22}, convertUnary<AcosOp, A::Float>);
  r.add("", "Atan", {7, 22}, convertUnary<AtanOp, A::Float>);
  r.add("", "Sinh", {9, 22}, convertUnary<SinhOp, A::Float>);
  r.add("", "Cosh", {9, 22}, convertUnary<CoshOp, A::Float>);
  r.add("", "Asinh", {9, 22}, convertUnary<AsinhOp, A::Float>);
  r.add("", "Acosh", {9, 22}, convertUnary<AcoshOp, A::Float>);
  r.add("", "Atanh", {9, 22}, convertUnary<AtanhOp, A::Float>);
  r.add("", "Erf", {9, 13}, convertUnary<ErfOp, A::Float>);
  r.add("", "Softplus", {1, 22}, convertUnary<SoftplusOp, A::Float>);
  r.add("", "Softsign", {1, 22}, convertUnary<SoftsignOp, A::Float>);
  r.add("", "HardSwish", {14, 22}, convertUnary<HardSwishOp, A::Float>);
  r.add("", "Mish", {18, 22}, convertUnary<MishOp, A::Float>);
  r.add("", "Not", {1}, convertUnary<NotOp, A::Bool>);
  r.add("", "BitwiseNot", {18}, convertUnary<BitwiseNotOp, A::Integer>);
  r.add("", "IsNaN", {9, 13, 20}, convertIsNaN);
  r.add("", "IsInf", {10, 20}, convertIsInf);

  // Activations with parameters (ONNX defaults).
  r.add("", "LeakyRelu", {6, 16}, [](NodeImporter &n) {
    return convertActivation<LeakyReluOp>(n, {"alpha"}, {0.01f});
  });
  r.add("", "Elu", {6, 22}, [](NodeImporter &n) {
    return convertActivation<EluOp>(n, {"alpha"}, {1.0f});
  });
  r.add("", "Selu", {6, 22}, [](NodeImporter &n) {
    return convertActivation<SeluOp>(n, {"alpha", "gamma"},
                                     {1.67326319217681884765625f,
                                      1.05070102214813232421875f});
  });
  r.add("", "Celu", {12}, [](NodeImporter &n) {
    return convertActivation<CeluOp>(n, {"alpha"}, {1.0f});
  });
  r.add("", "HardSigmoid", {6, 22}, [](NodeImporter &n) {
    return convertActivation<HardSigmoidOp>(n, {"alpha", "beta"},
                                            {0.2f, 0.5f});
  });
  r.add("", "ThresholdedRelu", {10, 22}, [](NodeImporter &n) {
    return convertActivation<ThresholdedReluOp>(n, {"alpha"}, {1.0f});
  });
  r.add("", "Swish", {24}, [](NodeImporter &n) {
    return convertActivation<SwishOp>(n, {"alpha"}, {1.0f});
  });
  r.add("", "Gelu", {20}, convertGelu);
  r.add("", "Shrink", {9}, convertShrink);
  r.add("", "Clip", {6, 11, 12, 13}, convertClip);

  // Binary arithmetic.
  r.add("", "Add", {7, 13, 14}, convertBinary<AddOp, A::Numeric>);
  r.add("", "Sub", {7, 13, 14}, convertBinary<SubOp, A::Numeric>);
  r.add("", "Mul", {7, 13, 14}, convertBinary<MulOp, A::Numeric>);
  r.add("", "Div", {7, 13, 14}, convertBinary<DivOp, A::Numeric>);
  r.add("", "Pow", {7, 12, 13, 15}, convertPow);
  r.add("", "Mod", {10, 13}, convertMod);
  r.add("", "BitShift", {11}, convertBitShift);
  r.add("", "BitwiseAnd", {18}, convertBinary<BitwiseAndOp, A::Integer>);
  r.add("", "BitwiseOr", {18}, convertBinary<BitwiseOrOp, A::Integer>);
  r.add("", "BitwiseXor", {18}, convertBinary<BitwiseXorOp, A::Integer>);
  r.add("", "And", {7}, convertBinary<AndOp, A::Bool>);
  r.add("", "Or", {7}, convertBinary<OrOp, A::Bool>);
  r.add("", "Xor", {7}, convertBinary<XorOp, A::Bool>);
  r.add("", "PRelu", {7, 9, 16}, convertPRelu);
  r.add("", "Sum", {6, 8, 13}, convertVariadic<AddOp>);
  r.add("", "Min", {6, 8, 12, 13}, convertVariadic<MinOp>);
  r.add("", "Max", {6, 8, 12, 13}, convertVariadic<MaxOp>);
  r.add("", "Mean", {6, 8, 13}, convertMean);

  // Comparisons (string comparison in Equal-19 is rejected by type).
  r.add("", "Equal", {7, 11, 13, 19}, convertCompare<EqualOp, A::Any>);
  r.add("", "Less", {7, 9, 13}, convertCompare<LessOp, A::Numeric>);
  r.add("", "LessOrEqual", {12, 16},
        convertCompare<LessEqualOp, A::Numeric>);
  r.add("", "Greater", {7, 9, 13}, convertCompare<GreaterOp, A::Numeric>);
  r.add("", "GreaterOrEqual", {12, 16},
        convertCompare<GreaterEqualOp, A::Numeric>);
  r.add("", "Where", {9, 16}, convertWhere);
}

} // namespace kiln::frontend
