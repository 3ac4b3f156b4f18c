//===- QuantizationOps.cpp - Verifiers of ONNX quantization ops -*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// Scale / zero-point layout and element type checks of quantize_linear and
// dequantize_linear (per tensor, per axis, or blocked), and the result
// types of dynamic_quantize_linear.
//
//===----------------------------------------------------------------------===//

#include "dialects/kiln/KilnOpsUtils.h"

using namespace mlir;
using namespace mlir::kiln;
using namespace mlir::kiln::detail;

/// Checks the scale (and zero point) layout against the input shape.
static LogicalResult verifyQuantParams(Operation *op, Value input, Value scale,
                                       Value zeroPoint, int64_t axis,
                                       int64_t blockSize) {
  ArrayRef<int64_t> in = shapeOf(input);
  ArrayRef<int64_t> sc = shapeOf(scale);
  if (zeroPoint && shapeOf(zeroPoint) != sc)
    return op->emitOpError("zero point shape ")
           << formatShape(shapeOf(zeroPoint)) << " differs from scale shape "
           << formatShape(sc);
  int64_t elements = 1;
  for (int64_t d : sc)
    elements *= d;
  if (blockSize > 0) {
    if (sc.size() != in.size() || failed(verifyAxis(op, axis, in.size())))
      return op->emitOpError("blocked scales need the input's rank and a "
                             "valid axis");
    for (size_t d = 0; d < in.size(); ++d) {
      int64_t expected = static_cast<int64_t>(d) == axis
                             ? (in[d] + blockSize - 1) / blockSize
                             : in[d];
      if (sc[d] != expected)
        return op->emitOpError("blocked scale shape ")
               << formatShape(sc) << " does not match input " << formatShape(in)
               << " with block_size " << blockSize << " on axis " << axis;
    }
    return success();
  }
  if (elements == 1 && sc.size() <= 1)
    return success();
  if (sc.size() != 1 || failed(verifyAxis(op, axis, in.size())) ||
      sc[0] != in[axis])
    return op->emitOpError("per-axis scale of shape ")
           << formatShape(sc) << " does not match dimension " << axis << " of "
           << formatShape(in);
  return success();
}

/// Checks that |value| has a floating-point element type.
static LogicalResult verifyFloat(Operation *op, Value value, StringRef what) {
  if (!isa<FloatType>(elementTypeOf(value)))
    return op->emitOpError() << what << " must have a floating-point element "
                             << "type, got " << elementTypeOf(value);
  return success();
}

LogicalResult QuantizeLinearOp::verify() {
  if (failed(verifyQuantParams(*this, getInput(), getScale(), getZeroPoint(),
                               getAxis(), getBlockSize())) ||
      failed(verifyFloat(*this, getScale(), "scale")))
    return failure();
  if (getZeroPoint() &&
      elementTypeOf(getZeroPoint()) != elementTypeOf(getOutput()))
    return emitOpError("zero point element type ")
           << elementTypeOf(getZeroPoint())
           << " differs from the result element type "
           << elementTypeOf(getOutput());
  return verifyResultShape(*this, shapeOf(getInput()));
}

LogicalResult DequantizeLinearOp::verify() {
  if (failed(verifyQuantParams(*this, getInput(), getScale(), getZeroPoint(),
                               getAxis(), getBlockSize())) ||
      failed(verifyFloat(*this, getScale(), "scale")) ||
      failed(verifyFloat(*this, getOutput(), "result")))
    return failure();
  if (getZeroPoint() &&
      elementTypeOf(getZeroPoint()) != elementTypeOf(getInput()))
    return emitOpError("zero point element type ")
           << elementTypeOf(getZeroPoint())
           << " differs from the input element type "
           << elementTypeOf(getInput());
  return verifyResultShape(*this, shapeOf(getInput()));
}

LogicalResult DynamicQuantizeLinearOp::verify() {
  Type u8 = IntegerType::get(getContext(), 8, IntegerType::Unsigned);
  if (elementTypeOf(getOutput()) != u8 || elementTypeOf(getZeroPoint()) != u8)
    return emitOpError("result and zero point must be ui8");
  if (elementTypeOf(getScale()) != elementTypeOf(getInput()))
    return emitOpError("scale must have the input's element type");
  if (!shapeOf(getScale()).empty() || !shapeOf(getZeroPoint()).empty())
    return emitOpError("scale and zero point must be scalars");
  return verifyResultShape(*this, shapeOf(getInput()));
}
