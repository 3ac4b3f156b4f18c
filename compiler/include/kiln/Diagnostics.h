//===- Diagnostics.h - Diagnostics returned by the Kiln API -----*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// The Kiln API never prints and never exits: every entry point returns a
// Status (or a Result<T>) that carries the diagnostics it produced. This
// header is free of MLIR types so that embedders need only the C++ standard
// library to use it.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_COMPILER_INCLUDE_KILN_DIAGNOSTICS_H
#define KILN_COMPILER_INCLUDE_KILN_DIAGNOSTICS_H

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace kiln {

/// How serious a diagnostic is.
enum class Severity { Note, Remark, Warning, Error };

/// One message with the place it refers to, e.g. location
/// "model.onnx: node 'conv1'" or "input.mlir:3:7".
struct Diagnostic {
  Severity severity = Severity::Error;
  /// Where the problem is; empty when it concerns no particular place.
  std::string location;
  /// What is wrong and what was expected, lowercase, no trailing period.
  std::string message;
  /// Attached notes (e.g. the supported opset range).
  std::vector<Diagnostic> notes;

  /// Returns "location: error: message" plus one line per note.
  std::string str() const;
};

/// The outcome of an API call: success or failure, plus every diagnostic
/// (errors, warnings, remarks) produced on the way.
class Status {
public:
  /// Returns a successful status with no diagnostics.
  static Status ok() { return Status(); }
  /// Returns a failed status with a single error |message| at |location|.
  static Status error(std::string message, std::string location = {});

  bool succeeded() const { return !failed_; }
  bool failed() const { return failed_; }
  explicit operator bool() const { return succeeded(); }

  /// All diagnostics, in the order they were produced.
  const std::vector<Diagnostic> &diagnostics() const { return diagnostics_; }
  /// Appends |diag|; an error diagnostic makes the status failed.
  void add(Diagnostic diag);
  /// Appends all diagnostics of |other| (and its failure).
  void append(const Status &other);
  /// Marks the status failed (used when the errors were already added).
  void setFailed() { failed_ = true; }
  /// Returns all diagnostics formatted with Diagnostic::str, one per line.
  std::string str() const;

private:
  bool failed_ = false;
  std::vector<Diagnostic> diagnostics_;
};

/// A value of type T, or the diagnostics explaining why there is none.
template <typename T> class Result {
public:
  Result(T value, Status status = Status::ok())
      : value_(std::move(value)), status_(std::move(status)) {}
  Result(Status status) : status_(std::move(status)) {
    status_.setFailed();
  }

  bool succeeded() const { return value_.has_value(); }
  explicit operator bool() const { return succeeded(); }
  T &operator*() { return *value_; }
  const T &operator*() const { return *value_; }
  T *operator->() { return &*value_; }
  const T *operator->() const { return &*value_; }
  const Status &status() const { return status_; }
  /// Moves the value out (requires succeeded()).
  T take() { return std::move(*value_); }

private:
  std::optional<T> value_;
  Status status_;
};

} // namespace kiln

#endif // KILN_COMPILER_INCLUDE_KILN_DIAGNOSTICS_H
