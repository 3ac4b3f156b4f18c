//===- ElementwiseOps.cpp - Verifiers of elementwise ops --------*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// Broadcasting checks of the binary ops, clip bounds, where, cast folding.
//
//===----------------------------------------------------------------------===//

#include "dialects/kiln/KilnOpsUtils.h"

#include "mlir/IR/BuiltinAttributes.h"

using namespace mlir;
using namespace mlir::kiln;
using namespace mlir::kiln::detail;

/// Verifies a binary broadcasting op.
static LogicalResult verifyBinary(Operation *op) {
  auto expected = inferBroadcastShape(shapeOf(op->getOperand(0)),
                                      shapeOf(op->getOperand(1)),
                                      opErrorFn(op));
  if (failed(expected))
    return failure();
  return verifyResultShape(op, *expected);
}

#define KILN_BINARY_VERIFIER(Op)                                               \
  LogicalResult Op::verify() { return verifyBinary(*this); }
KILN_BINARY_VERIFIER(AddOp)
KILN_BINARY_VERIFIER(SubOp)
KILN_BINARY_VERIFIER(MulOp)
KILN_BINARY_VERIFIER(DivOp)
KILN_BINARY_VERIFIER(PowOp)
KILN_BINARY_VERIFIER(MinOp)
KILN_BINARY_VERIFIER(MaxOp)
KILN_BINARY_VERIFIER(ModOp)
KILN_BINARY_VERIFIER(BitShiftOp)
KILN_BINARY_VERIFIER(BitwiseAndOp)
KILN_BINARY_VERIFIER(BitwiseOrOp)
KILN_BINARY_VERIFIER(BitwiseXorOp)
KILN_BINARY_VERIFIER(AndOp)
KILN_BINARY_VERIFIER(OrOp)
KILN_BINARY_VERIFIER(XorOp)
KILN_BINARY_VERIFIER(EqualOp)
KILN_BINARY_VERIFIER(LessOp)
KILN_BINARY_VERIFIER(LessEqualOp)
KILN_BINARY_VERIFIER(GreaterOp)
KILN_BINARY_VERIFIER(GreaterEqualOp)
#undef KILN_BINARY_VERIFIER

LogicalResult PReluOp::verify() {
  if (!isUnidirectionallyBroadcastable(shapeOf(getRhs()), shapeOf(getLhs())))
    return emitOpError("slope shape ")
           << formatShape(shapeOf(getRhs())) << " does not broadcast to "
           << formatShape(shapeOf(getLhs()));
  return verifyResultShape(*this, shapeOf(getLhs()));
}

LogicalResult ClipOp::verify() {
  Type element = getType().getElementType();
  for (auto [name, bound] : {std::make_pair("min", getMinAttr()),
                             std::make_pair("max", getMaxAttr())}) {
    if (bound && bound.getType() != element)
      return emitOpError() << name << " bound has type " << bound.getType()
                           << ", expected the element type " << element;
  }
  return success();
}

LogicalResult WhereOp::verify() {
  auto partial = inferBroadcastShape(shapeOf(getCondition()),
                                     shapeOf(getLhs()), opErrorFn(*this));
  if (failed(partial))
    return failure();
  auto expected =
      inferBroadcastShape(*partial, shapeOf(getRhs()), opErrorFn(*this));
  if (failed(expected))
    return failure();
  if (elementTypeOf(getLhs()) != elementTypeOf(getRhs()) ||
      elementTypeOf(getLhs()) != getType().getElementType())
    return emitOpError("both branches and the result must have one element "
                       "type");
  return verifyResultShape(*this, *expected);
}

OpFoldResult CastOp::fold(FoldAdaptor) {
  if (getInput().getType() == getType())
    return getInput();
  return {};
}
