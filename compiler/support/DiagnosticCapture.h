//===- DiagnosticCapture.h - MLIR diagnostics into a Status -----*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// While a DiagnosticCapture is alive, every diagnostic emitted on its MLIR
// context is converted to a kiln::Diagnostic and appended to a Status instead
// of being printed. Locations are rendered the way users read them:
// "model.onnx: node 'conv1'" for importer locations, "file:line:col" for IR.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_COMPILER_SUPPORT_DIAGNOSTICCAPTURE_H
#define KILN_COMPILER_SUPPORT_DIAGNOSTICCAPTURE_H

#include "kiln/Diagnostics.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Location.h"

namespace kiln {

/// Returns a human-readable rendering of |loc|.
std::string formatLocation(mlir::Location loc);

/// Converts one MLIR diagnostic (with its notes) to a kiln::Diagnostic.
Diagnostic convertDiagnostic(mlir::Diagnostic &diag);

/// RAII: routes the context's diagnostics into |status| while alive.
class DiagnosticCapture {
public:
  DiagnosticCapture(mlir::MLIRContext *context, Status &status);

private:
  mlir::ScopedDiagnosticHandler handler;
};

} // namespace kiln

#endif // KILN_COMPILER_SUPPORT_DIAGNOSTICCAPTURE_H
