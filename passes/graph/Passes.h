//===- Passes.h - Graph clean-up passes -------------------------*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// Declarations and registration of the passes in Passes.td.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_PASSES_GRAPH_PASSES_H
#define KILN_PASSES_GRAPH_PASSES_H

#include "dialects/kiln/KilnDialect.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Pass/Pass.h"

namespace mlir::kiln {

#define GEN_PASS_DECL
#include "passes/graph/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "passes/graph/Passes.h.inc"

/// Adds the transpose-cancellation patterns to |patterns|.
void populateKilnCancelTransposesPatterns(RewritePatternSet &patterns);

} // namespace mlir::kiln

#endif // KILN_PASSES_GRAPH_PASSES_H
