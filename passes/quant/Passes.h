//===- Passes.h - Quantization passes ---------------------------*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// Declarations and registration of the passes in Passes.td, and the range
// annotations they exchange.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_PASSES_QUANT_PASSES_H
#define KILN_PASSES_QUANT_PASSES_H

#include "dialects/kiln/KilnDialect.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Quant/IR/Quant.h"
#include "mlir/Pass/Pass.h"

#include <optional>
#include <utility>

namespace mlir::kiln {

#define GEN_PASS_DECL
#include "passes/quant/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "passes/quant/Passes.h.inc"

/// A real-valued range [lo, hi] of an activation.
using Range = std::pair<double, double>;

/// Returns the calibrated range of |value| (kiln.ranges / kiln.range).
std::optional<Range> getRange(Value value);
/// Records |range| on |value|'s producer (or function argument).
void setRange(Value value, Range range);
/// Returns the exact (scale, int8 zero point) recorded by kiln-fold-qdq.
std::optional<std::pair<double, int32_t>> getQParams(Value value);
/// Records exact quantization parameters on |value|.
void setQParams(Value value, double scale, int32_t zeroPoint);

} // namespace mlir::kiln

#endif // KILN_PASSES_QUANT_PASSES_H
