//===- DiagnosticCapture.cpp - MLIR diagnostics into a Status ---*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// Implements DiagnosticCapture and the location formatting it uses.
//
//===----------------------------------------------------------------------===//

#include "compiler/support/DiagnosticCapture.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "llvm/Support/raw_ostream.h"

namespace kiln {

std::string formatLocation(mlir::Location loc) {
  std::string text;
  llvm::raw_string_ostream os(text);
  if (auto name = llvm::dyn_cast<mlir::NameLoc>(loc)) {
    std::string child = formatLocation(name.getChildLoc());
    if (!child.empty())
      os << child << ": ";
    os << "node '" << name.getName().getValue() << "'";
  } else if (auto file = llvm::dyn_cast<mlir::FileLineColLoc>(loc)) {
    os << file.getFilename().getValue();
    // The importer uses line 0 for "the file as a whole".
    if (file.getLine() != 0)
      os << ':' << file.getLine() << ':' << file.getColumn();
  } else if (auto fused = llvm::dyn_cast<mlir::FusedLoc>(loc)) {
    llvm::interleave(
        fused.getLocations(), os,
        [&](mlir::Location inner) { os << formatLocation(inner); }, ", ");
  } else if (auto callSite = llvm::dyn_cast<mlir::CallSiteLoc>(loc)) {
    os << formatLocation(callSite.getCallee());
  }
  return text;
}

/// Maps MLIR's severity onto Kiln's.
static Severity convertSeverity(mlir::DiagnosticSeverity severity) {
  switch (severity) {
  case mlir::DiagnosticSeverity::Note:
    return Severity::Note;
  case mlir::DiagnosticSeverity::Remark:
    return Severity::Remark;
  case mlir::DiagnosticSeverity::Warning:
    return Severity::Warning;
  case mlir::DiagnosticSeverity::Error:
    return Severity::Error;
  }
  return Severity::Error;
}

Diagnostic convertDiagnostic(mlir::Diagnostic &diag) {
  Diagnostic result;
  result.severity = convertSeverity(diag.getSeverity());
  result.location = formatLocation(diag.getLocation());
  result.message = diag.str();
  for (mlir::Diagnostic &note : diag.getNotes())
    result.notes.push_back(convertDiagnostic(note));
  return result;
}

DiagnosticCapture::DiagnosticCapture(mlir::MLIRContext *context,
                                     Status &status)
    : handler(context, [&status](mlir::Diagnostic &diag) {
        status.add(convertDiagnostic(diag));
        return mlir::success();
      }) {}

} // namespace kiln
