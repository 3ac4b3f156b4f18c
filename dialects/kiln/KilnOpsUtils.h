//===- KilnOpsUtils.h - Helpers shared by the op verifiers ------*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// Small helpers used by the verifiers in KilnOps.cpp and ops/*.cpp. Private
// to the dialect library.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_DIALECTS_KILN_KILNOPSUTILS_H
#define KILN_DIALECTS_KILN_KILNOPSUTILS_H

#include "dialects/kiln/KilnOps.h"
#include "dialects/kiln/KilnShapes.h"

namespace mlir::kiln::detail {

/// Returns the shape of |value|'s ranked tensor type.
inline ArrayRef<int64_t> shapeOf(Value value) {
  return cast<RankedTensorType>(value.getType()).getShape();
}

/// Returns the element type of |value|'s tensor type.
inline Type elementTypeOf(Value value) {
  return cast<RankedTensorType>(value.getType()).getElementType();
}

/// Checks that |result| has the shape |expected|.
inline LogicalResult verifyShape(Operation *op, Value result,
                                 ArrayRef<int64_t> expected,
                                 StringRef what = "result") {
  ArrayRef<int64_t> actual = shapeOf(result);
  if (actual != expected)
    return op->emitOpError() << what << " shape " << formatShape(actual)
                             << " does not match the inferred shape "
                             << formatShape(expected);
  return success();
}

/// Checks that |op|'s first result has the shape |expected|.
inline LogicalResult verifyResultShape(Operation *op,
                                       ArrayRef<int64_t> expected) {
  return verifyShape(op, op->getResult(0), expected);
}

/// Returns a callback emitting an op error on |op|.
inline auto opErrorFn(Operation *op) {
  return [op]() { return op->emitOpError(); };
}

/// Checks 0 <= axis < rank.
inline LogicalResult verifyAxis(Operation *op, int64_t axis, int64_t rank,
                                StringRef what = "axis") {
  if (axis < 0 || axis >= rank)
    return op->emitOpError() << what << " " << axis
                             << " is out of range for rank " << rank
                             << " (expected 0 to " << rank - 1 << ")";
  return success();
}

} // namespace mlir::kiln::detail

#endif // KILN_DIALECTS_KILN_KILNOPSUTILS_H
