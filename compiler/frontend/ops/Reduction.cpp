//===- Reduction.cpp - Converters of reduction ONNX ops ---*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// Converters of the ONNX operators that map onto dialects/kiln/ops/ReductionOps.td.
//
//===----------------------------------------------------------------------===//

#include "compiler/frontend/ImportContext.h"

#include "dialects/kiln/KilnOps.h"

using namespace mlir;
using namespace mlir::kiln;

namespace kiln::frontend {

void registerReductionConverters(ConverterRegistry &r) { (void)r; }

} // namespace kiln::frontend
