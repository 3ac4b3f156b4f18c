//===- Attention.cpp - Kernels of the attention ops ---*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// Evaluator kernels of the ops declared in dialects/kiln/ops/AttentionOps.td.
//
//===----------------------------------------------------------------------===//

#include "compiler/evaluator/Kernel.h"

#include "dialects/kiln/KilnOps.h"

using namespace mlir;
using namespace mlir::kiln;

namespace kiln::eval {

void registerAttentionKernels(KernelRegistry &r) { (void)r; }

} // namespace kiln::eval
