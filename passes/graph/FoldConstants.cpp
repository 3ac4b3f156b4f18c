//===- FoldConstants.cpp - kiln-fold-constants ------------------*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// Evaluates every op whose operands are all constants (see Passes.td).
//
//===----------------------------------------------------------------------===//

#include "passes/graph/Passes.h"

#include "compiler/evaluator/ConstantFolding.h"
#include "dialects/kiln/KilnOps.h"

namespace mlir::kiln {

#define GEN_PASS_DEF_KILNFOLDCONSTANTSPASS
#include "passes/graph/Passes.h.inc"

namespace {

struct KilnFoldConstantsPass final
    : impl::KilnFoldConstantsPassBase<KilnFoldConstantsPass> {
  using Base::Base;

  void runOnOperation() override {
    func::FuncOp func = getOperation();
    OpBuilder builder(func.getContext());
    // Block order is topological, so one walk folds whole constant chains.
    for (Block &block : func.getBody()) {
      for (Operation &op : llvm::make_early_inc_range(block)) {
        if (op.getDialect() != op.getContext()->getLoadedDialect<KilnDialect>())
          continue;
        std::string error;
        ::kiln::FoldResult result =
            ::kiln::tryFoldToConstants(&op, builder, maxElements, error);
        if (result == ::kiln::FoldResult::Failed) {
          op.emitOpError("cannot be evaluated on its constant operands: ")
              << error;
          return signalPassFailure();
        }
        if (result == ::kiln::FoldResult::Folded)
          op.erase();
      }
    }
  }
};

} // namespace
} // namespace mlir::kiln
