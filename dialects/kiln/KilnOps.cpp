//===- KilnOps.cpp - Operators of the kiln dialect --------------*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// Verifiers and folders of the kiln ops. Result shapes are checked against
// the shape functions of KilnShapes.h, which the importer also uses.
//
//===----------------------------------------------------------------------===//

#include "dialects/kiln/KilnOps.h"
#include "dialects/kiln/KilnShapes.h"

#include "mlir/Dialect/Quant/IR/QuantTypes.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/OpImplementation.h"

using namespace mlir;
using namespace mlir::kiln;

/// Returns the shape of |value|'s ranked tensor type.
static ArrayRef<int64_t> shapeOf(Value value) {
  return cast<RankedTensorType>(value.getType()).getShape();
}

/// Checks that |op|'s single result has the static shape |expected|.
static LogicalResult verifyResultShape(Operation *op,
                                       ArrayRef<int64_t> expected) {
  ArrayRef<int64_t> actual = shapeOf(op->getResult(0));
  if (actual != expected)
    return op->emitOpError("result shape ")
           << formatShape(actual) << " does not match the inferred shape "
           << formatShape(expected);
  return success();
}

/// Returns a callback emitting an op error on |op|.
static auto opErrorFn(Operation *op) {
  return [op]() { return op->emitOpError(); };
}

//===----------------------------------------------------------------------===//
// ConstantOp
//===----------------------------------------------------------------------===//

LogicalResult ConstantOp::verify() {
  auto valueType = cast<ShapedType>(getValue().getType());
  auto resultType = getType();
  if (valueType.getShape() != resultType.getShape())
    return emitOpError("value shape ")
           << formatShape(valueType.getShape())
           << " does not match result shape "
           << formatShape(resultType.getShape());
  Type valueElement = valueType.getElementType();
  Type resultElement = resultType.getElementType();
  if (valueElement == resultElement)
    return success();
  if (auto quantType = dyn_cast<quant::QuantizedType>(resultElement)) {
    auto storage = dyn_cast<IntegerType>(valueElement);
    if (storage && storage.getWidth() == quantType.getStorageTypeIntegralWidth())
      return success();
    return emitOpError("quantized result needs an integer value of ")
           << quantType.getStorageTypeIntegralWidth()
           << " bits (the storage type), got " << valueElement;
  }
  return emitOpError("value element type ")
         << valueElement << " does not match result element type "
         << resultElement;
}

OpFoldResult ConstantOp::fold(FoldAdaptor) { return getValue(); }

//===----------------------------------------------------------------------===//
// Linear algebra
//===----------------------------------------------------------------------===//

LogicalResult ConvOp::verify() {
  auto expected = inferConvShape(shapeOf(getInput()), shapeOf(getWeight()),
                                 getStrides(), getPads(), getDilations(),
                                 getGroup(), opErrorFn(*this));
  if (failed(expected))
    return failure();
  if (getBias() && shapeOf(getBias()) != ArrayRef<int64_t>{(*expected)[1]})
    return emitOpError("bias must have shape ")
           << (*expected)[1] << " (one per output channel), got "
           << formatShape(shapeOf(getBias()));
  return verifyResultShape(*this, *expected);
}

LogicalResult MatMulOp::verify() {
  auto expected = inferMatMulShape(shapeOf(getLhs()), shapeOf(getRhs()),
                                   opErrorFn(*this));
  if (failed(expected))
    return failure();
  return verifyResultShape(*this, *expected);
}

LogicalResult GemmOp::verify() {
  std::optional<ArrayRef<int64_t>> c;
  if (getC())
    c = shapeOf(getC());
  auto expected = inferGemmShape(shapeOf(getA()), shapeOf(getB()), c,
                                 getTransA(), getTransB(), opErrorFn(*this));
  if (failed(expected))
    return failure();
  return verifyResultShape(*this, *expected);
}

//===----------------------------------------------------------------------===//
// Elementwise
//===----------------------------------------------------------------------===//

/// Verifies a binary broadcasting op.
static LogicalResult verifyBinary(Operation *op) {
  auto expected = inferBroadcastShape(shapeOf(op->getOperand(0)),
                                      shapeOf(op->getOperand(1)),
                                      opErrorFn(op));
  if (failed(expected))
    return failure();
  return verifyResultShape(op, *expected);
}

LogicalResult AddOp::verify() { return verifyBinary(*this); }
LogicalResult SubOp::verify() { return verifyBinary(*this); }
LogicalResult MulOp::verify() { return verifyBinary(*this); }
LogicalResult DivOp::verify() { return verifyBinary(*this); }

//===----------------------------------------------------------------------===//
// Pooling
//===----------------------------------------------------------------------===//

LogicalResult MaxPoolOp::verify() {
  auto expected = inferPoolShape(shapeOf(getInput()), getKernelShape(),
                                 getStrides(), getPads(), getDilations(),
                                 getCeilMode(), opErrorFn(*this));
  if (failed(expected))
    return failure();
  return verifyResultShape(*this, *expected);
}

LogicalResult AvgPoolOp::verify() {
  auto expected = inferPoolShape(shapeOf(getInput()), getKernelShape(),
                                 getStrides(), getPads(), getDilations(),
                                 getCeilMode(), opErrorFn(*this));
  if (failed(expected))
    return failure();
  return verifyResultShape(*this, *expected);
}

/// Verifies a global pooling op: every spatial dimension becomes 1.
static LogicalResult verifyGlobalPool(Operation *op) {
  ArrayRef<int64_t> input = shapeOf(op->getOperand(0));
  if (input.size() < 3)
    return op->emitOpError("expected input of rank >= 3 (N x C x spatial), "
                           "got rank ")
           << input.size();
  SmallVector<int64_t> expected(input.begin(), input.begin() + 2);
  expected.append(input.size() - 2, 1);
  return verifyResultShape(op, expected);
}

LogicalResult GlobalAvgPoolOp::verify() { return verifyGlobalPool(*this); }
LogicalResult GlobalMaxPoolOp::verify() { return verifyGlobalPool(*this); }

//===----------------------------------------------------------------------===//
// Shape manipulation
//===----------------------------------------------------------------------===//

LogicalResult ReshapeOp::verify() {
  auto inputType = cast<RankedTensorType>(getInput().getType());
  auto resultType = getType();
  if (inputType.hasStaticShape() && resultType.hasStaticShape() &&
      inputType.getNumElements() != resultType.getNumElements())
    return emitOpError("cannot reshape ")
           << formatShape(inputType.getShape()) << " ("
           << inputType.getNumElements() << " elements) to "
           << formatShape(resultType.getShape()) << " ("
           << resultType.getNumElements() << " elements)";
  return success();
}

OpFoldResult ReshapeOp::fold(FoldAdaptor adaptor) {
  if (getInput().getType() == getType())
    return getInput();
  // reshape(reshape(x)) == reshape(x): fold in place onto the inner input.
  if (auto inner = getInput().getDefiningOp<ReshapeOp>()) {
    getInputMutable().assign(inner.getInput());
    return getResult();
  }
  if (auto dense = dyn_cast_if_present<DenseElementsAttr>(adaptor.getInput()))
    return dense.reshape(getType());
  return {};
}

#define GET_OP_CLASSES
#include "dialects/kiln/KilnOps.cpp.inc"
