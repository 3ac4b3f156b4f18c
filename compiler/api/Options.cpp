//===- Options.cpp - Options of the Kiln compiler ---------------*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// The tables of supported targets and schemes, option validation, and the
// parser of `--input-shape` values.
//
//===----------------------------------------------------------------------===//

#include "kiln/Options.h"

#include <algorithm>
#include <cerrno>
#include <cstdlib>

namespace kiln {

const std::vector<std::string> &supportedTargets() {
  static const std::vector<std::string> targets = {
      "host",      "cortex-m4", "cortex-m7",
      "cortex-m55", "cuda-sm80", "cuda-sm90"};
  return targets;
}

const std::vector<std::string> &supportedQuantizeSchemes() {
  static const std::vector<std::string> schemes = {"none", "fp16", "int8"};
  return schemes;
}

/// Returns "a, b, c".
static std::string joinNames(const std::vector<std::string> &names) {
  std::string text;
  for (const std::string &name : names) {
    if (!text.empty())
      text += ", ";
    text += name;
  }
  return text;
}

/// Returns true when |value| is one of |allowed|.
static bool contains(const std::vector<std::string> &allowed,
                     const std::string &value) {
  return std::find(allowed.begin(), allowed.end(), value) != allowed.end();
}

Status validate(const CompileOptions &options) {
  Status status;
  if (!contains(supportedTargets(), options.target))
    status.add({Severity::Error, "--target",
                "unknown target '" + options.target +
                    "' (expected one of: " + joinNames(supportedTargets()) +
                    ")",
                {}});
  if (!contains(supportedQuantizeSchemes(), options.quantize))
    status.add({Severity::Error, "--quantize",
                "unknown quantization scheme '" + options.quantize +
                    "' (expected one of: " +
                    joinNames(supportedQuantizeSchemes()) + ")",
                {}});
  static const std::vector<std::string> observers = {"minmax", "percentile",
                                                     "mse"};
  if (!contains(observers, options.observer))
    status.add({Severity::Error, "--observer",
                "unknown observer '" + options.observer +
                    "' (expected one of: " + joinNames(observers) + ")",
                {}});
  if (options.memoryPlanner != "default" && options.memoryPlanner != "greedy")
    status.add({Severity::Error, "--memory-planner",
                "unknown memory planner '" + options.memoryPlanner +
                    "' (expected default or greedy)",
                {}});
  if (options.patch < 0 || options.patch > 64)
    status.add({Severity::Error, "--patch",
                "patches per side must be in [0, 64], got " +
                    std::to_string(options.patch),
                {}});
  if (!(options.percentile > 50.0 && options.percentile <= 100.0))
    status.add({Severity::Error, "--percentile",
                "percentile must be in (50, 100], got " +
                    std::to_string(options.percentile),
                {}});
  for (const InputShape &shape : options.inputShapes) {
    if (shape.name.empty())
      status.add({Severity::Error, "--input-shape", "input name is empty", {}});
    for (int64_t dim : shape.dims)
      if (dim <= 0)
        status.add({Severity::Error, "--input-shape",
                    "dimensions of '" + shape.name + "' must be positive",
                    {}});
  }
  return status;
}

Status parseInputShape(const std::string &text, InputShape &out) {
  size_t eq = text.rfind('=');
  if (eq == std::string::npos || eq == 0 || eq + 1 == text.size())
    return Status::error("expected NAME=D0xD1x..., got '" + text + "'",
                         "--input-shape");
  out.name = text.substr(0, eq);
  out.dims.clear();
  std::string dims = text.substr(eq + 1);
  size_t pos = 0;
  while (pos <= dims.size()) {
    size_t next = dims.find('x', pos);
    if (next == std::string::npos)
      next = dims.size();
    std::string field = dims.substr(pos, next - pos);
    char *end = nullptr;
    errno = 0;
    long long value = std::strtoll(field.c_str(), &end, 10);
    // One dimension over 2^31 is never a real model input; rejecting it early
    // keeps element counts far from int64 overflow.
    if (field.empty() || *end != '\0' || errno != 0 || value <= 0 ||
        value > (1LL << 31))
      return Status::error("bad dimension '" + field + "' in '" + text +
                               "' (expected positive integers separated by "
                               "'x', each at most 2^31)",
                           "--input-shape");
    out.dims.push_back(value);
    pos = next + 1;
  }
  return Status::ok();
}

} // namespace kiln
