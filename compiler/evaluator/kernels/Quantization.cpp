//===- Quantization.cpp - Kernels of the quantization ops ---*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// Evaluator kernels of the ops declared in dialects/kiln/ops/QuantizationOps.td.
//
//===----------------------------------------------------------------------===//

#include "compiler/evaluator/Kernel.h"

#include "dialects/kiln/KilnOps.h"

using namespace mlir;
using namespace mlir::kiln;

namespace kiln::eval {

void registerQuantizationKernels(KernelRegistry &r) { (void)r; }

} // namespace kiln::eval
