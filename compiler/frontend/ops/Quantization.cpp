//===- Quantization.cpp - Converters of quantization ONNX ops ---*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// Converters of the ONNX operators that map onto dialects/kiln/ops/QuantizationOps.td.
//
//===----------------------------------------------------------------------===//

#include "compiler/frontend/ImportContext.h"

#include "dialects/kiln/KilnOps.h"

using namespace mlir;
using namespace mlir::kiln;

namespace kiln::frontend {

void registerQuantizationConverters(ConverterRegistry &r) { (void)r; }

} // namespace kiln::frontend
