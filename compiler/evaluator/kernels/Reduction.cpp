//===- Reduction.cpp - Kernels of the reduction ops ---*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// Evaluator kernels of the ops declared in dialects/kiln/ops/ReductionOps.td.
//
//===----------------------------------------------------------------------===//

#include "compiler/evaluator/Kernel.h"

#include "dialects/kiln/KilnOps.h"

using namespace mlir;
using namespace mlir::kiln;

namespace kiln::eval {

void registerReductionKernels(KernelRegistry &r) { (void)r; }

} // namespace kiln::eval
