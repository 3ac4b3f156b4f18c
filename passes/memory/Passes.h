//===- Passes.h - Memory planning passes ------------------------*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// Declarations and registration of the passes in Passes.td.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_PASSES_MEMORY_PASSES_H
#define KILN_PASSES_MEMORY_PASSES_H

#include "dialects/kiln/KilnDialect.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Pass/Pass.h"

namespace mlir::kiln {

#define GEN_PASS_DECL
#include "passes/memory/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "passes/memory/Passes.h.inc"

/// Returns true when |op| is the program input boundary: kiln.quantize of a
/// function argument (the C program receives the int8 values).
bool isInputBoundary(Operation *op);

/// Returns true when |op| is an output boundary: kiln.dequantize whose only
/// users are the function's return (the C program returns the int8 values).
bool isOutputBoundary(Operation *op);

/// Returns the bytes of scratch memory the C kernel of |op| needs.
uint64_t kernelScratchBytes(Operation *op);

} // namespace mlir::kiln

#endif // KILN_PASSES_MEMORY_PASSES_H
