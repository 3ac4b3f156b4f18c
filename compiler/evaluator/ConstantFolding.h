//===- ConstantFolding.h - Folding ops with constant operands ---*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// Evaluates an op whose operands are all kiln.constant with the reference
// evaluator and replaces its results by constants. Shared by the importer
// (shape subgraphs fold as they are imported) and kiln-fold-constants.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_COMPILER_EVALUATOR_CONSTANTFOLDING_H
#define KILN_COMPILER_EVALUATOR_CONSTANTFOLDING_H

#include "mlir/IR/Builders.h"
#include "mlir/IR/Operation.h"

#include <string>

namespace kiln {

/// The outcome of tryFoldToConstants.
enum class FoldResult {
  NotFoldable, ///< some operand is not constant, or a result is too large
  Folded,      ///< the results were replaced by constants (op not erased)
  Failed,      ///< evaluation failed; |error| says why
};

/// If every operand of |op| is a kiln.constant and every result has at most
/// |maxElements| elements, evaluates |op|, inserts constants before it with
/// |builder| and replaces all uses of its results. The caller erases |op|.
/// kiln.dequantize_linear is never folded (it marks a QDQ model's quantized
/// weights). Constants get dense_resource blob names starting with |blobPrefix|; the
/// new constant values are appended to |replacements| when given.
FoldResult
tryFoldToConstants(mlir::Operation *op, mlir::OpBuilder &builder,
                   int64_t maxElements, std::string &error,
                   llvm::StringRef blobPrefix = "c",
                   llvm::SmallVectorImpl<mlir::Value> *replacements = nullptr);

} // namespace kiln

#endif // KILN_COMPILER_EVALUATOR_CONSTANTFOLDING_H
