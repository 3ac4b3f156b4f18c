//===- Normalization.cpp - Converters of normalization ONNX ops ---*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// Converters of the ONNX operators that map onto dialects/kiln/ops/NormalizationOps.td.
//
//===----------------------------------------------------------------------===//

#include "compiler/frontend/ImportContext.h"

#include "dialects/kiln/KilnOps.h"

using namespace mlir;
using namespace mlir::kiln;

namespace kiln::frontend {

void registerNormalizationConverters(ConverterRegistry &r) { (void)r; }

} // namespace kiln::frontend
