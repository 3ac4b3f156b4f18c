//===- Diagnostics.cpp - Diagnostics returned by the Kiln API ---*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// Formatting and bookkeeping of kiln::Diagnostic and kiln::Status.
//
//===----------------------------------------------------------------------===//

#include "kiln/Diagnostics.h"

namespace kiln {

/// Returns the lowercase name of |severity| as printed in messages.
static const char *severityName(Severity severity) {
  switch (severity) {
  case Severity::Note:
    return "note";
  case Severity::Remark:
    return "remark";
  case Severity::Warning:
    return "warning";
  case Severity::Error:
    return "error";
  }
  return "error";
}

std::string Diagnostic::str() const {
  std::string text;
  if (!location.empty())
    text += location + ": ";
  text += severityName(severity);
  text += ": ";
  text += message;
  for (const Diagnostic &note : notes)
    text += "\n" + note.str();
  return text;
}

Status Status::error(std::string message, std::string location) {
  Status status;
  status.add(Diagnostic{Severity::Error, std::move(location),
                        std::move(message), {}});
  return status;
}

void Status::add(Diagnostic diag) {
  if (diag.severity == Severity::Error)
    failed_ = true;
  diagnostics_.push_back(std::move(diag));
}

void Status::append(const Status &other) {
  for (const Diagnostic &diag : other.diagnostics_)
    diagnostics_.push_back(diag);
  failed_ = failed_ || other.failed_;
}

std::string Status::str() const {
  std::string text;
  for (const Diagnostic &diag : diagnostics_) {
    if (!text.empty())
      text += '\n';
    text += diag.str();
  }
  return text;
}

} // namespace kiln
