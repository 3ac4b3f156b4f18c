//===- KilnOps.cpp - Operators of the kiln dialect --------------*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// The generated op definitions and kiln.constant. The verifiers and folders
// of each op family live in ops/<Family>Ops.cpp.
//
//===----------------------------------------------------------------------===//

#include "dialects/kiln/KilnOps.h"
#include "dialects/kiln/KilnOpsUtils.h"

#include "mlir/Dialect/Quant/IR/QuantTypes.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/OpImplementation.h"

using namespace mlir;
using namespace mlir::kiln;

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

#define GET_OP_CLASSES
#include "dialects/kiln/KilnOps.cpp.inc"
