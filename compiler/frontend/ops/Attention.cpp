//===- Attention.cpp - Converters of attention ONNX ops ---*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// Converters of the ONNX operators that map onto dialects/kiln/ops/AttentionOps.td.
//
//===----------------------------------------------------------------------===//

#include "compiler/frontend/ImportContext.h"

#include "dialects/kiln/KilnOps.h"

using namespace mlir;
using namespace mlir::kiln;

namespace kiln::frontend {

void registerAttentionConverters(ConverterRegistry &r) { (void)r; }

} // namespace kiln::frontend
