//===- Passes.h - Fusion passes ---------------------------------*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// Declarations and registration of the passes in Passes.td.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_PASSES_FUSION_PASSES_H
#define KILN_PASSES_FUSION_PASSES_H

#include "dialects/kiln/KilnDialect.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Pass/Pass.h"

namespace mlir::kiln {

#define GEN_PASS_DECL
#include "passes/fusion/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "passes/fusion/Passes.h.inc"

} // namespace mlir::kiln

#endif // KILN_PASSES_FUSION_PASSES_H
