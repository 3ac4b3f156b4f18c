//===- Normalization.cpp - Kernels of the normalization ops ---*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// Evaluator kernels of the ops declared in dialects/kiln/ops/NormalizationOps.td.
//
//===----------------------------------------------------------------------===//

#include "compiler/evaluator/Kernel.h"

#include "dialects/kiln/KilnOps.h"

using namespace mlir;
using namespace mlir::kiln;

namespace kiln::eval {

void registerNormalizationKernels(KernelRegistry &r) { (void)r; }

} // namespace kiln::eval
