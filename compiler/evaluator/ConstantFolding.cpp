//===- ConstantFolding.cpp - Folding ops with constant operands -*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// Implements tryFoldToConstants (see ConstantFolding.h).
//
//===----------------------------------------------------------------------===//

#include "compiler/evaluator/ConstantFolding.h"
#include "compiler/evaluator/Evaluator.h"
#include "compiler/support/TensorAttr.h"

#include "dialects/kiln/KilnOps.h"

namespace kiln {

FoldResult
tryFoldToConstants(mlir::Operation *op, mlir::OpBuilder &builder,
                   int64_t maxElements, std::string &error,
                   llvm::StringRef blobPrefix,
                   llvm::SmallVectorImpl<mlir::Value> *replacements) {
  // dequantize_linear of a constant is a quantized weight of an ONNX QDQ
  // model: kept, so the int8 lowering can reuse its integers and scales.
  if (llvm::isa<mlir::kiln::ConstantOp, mlir::kiln::DequantizeLinearOp>(op) ||
      op->getNumResults() == 0 || op->getNumRegions() != 0)
    return FoldResult::NotFoldable;
  std::vector<Tensor> operands;
  for (mlir::Value v : op->getOperands()) {
    auto constant = v.getDefiningOp<mlir::kiln::ConstantOp>();
    if (!constant)
      return FoldResult::NotFoldable;
    std::optional<Tensor> tensor = fromElementsAttr(constant.getValue());
    if (!tensor)
      return FoldResult::NotFoldable;
    operands.push_back(std::move(*tensor));
  }
  for (mlir::Type t : op->getResultTypes()) {
    auto type = llvm::dyn_cast<mlir::RankedTensorType>(t);
    if (!type || !type.hasStaticShape() || type.getNumElements() > maxElements)
      return FoldResult::NotFoldable;
  }
  std::optional<std::vector<Tensor>> results =
      evaluateOp(op, operands, error);
  if (!results)
    return FoldResult::Failed;
  static unsigned counter = 0;
  builder.setInsertionPoint(op);
  for (auto [value, tensor] : llvm::zip(op->getResults(), *results)) {
    auto type = llvm::cast<mlir::RankedTensorType>(value.getType());
    std::string blob = (blobPrefix + llvm::Twine(counter++)).str();
    auto constant = mlir::kiln::ConstantOp::create(
        builder, op->getLoc(), type, toElementsAttr(tensor, type, blob));
    value.replaceAllUsesWith(constant.getResult());
    if (replacements)
      replacements->push_back(constant.getResult());
  }
  return FoldResult::Folded;
}

} // namespace kiln
