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
  static const std::vector<std::string> schemes = {
      "none", "fp16",        "int8",     "w8a8", "w8a8-smooth", "w4a16",
      "w4a4", "w4a4-smooth", "w4a4-svd", "w4a8", "nvfp4",       "nvfp4-4over6"};
  return schemes;
}

bool isLowBitScheme(const std::string &scheme) {
  static const std::vector<std::string> schemes = {
      "w8a8", "w8a8-smooth", "w4a16", "w4a4",  "w4a4-smooth",
      "w4a4-svd", "w4a8",    "nvfp4", "nvfp4-4over6"};
  return std::find(schemes.begin(), schemes.end(), scheme) != schemes.end();
}

bool needsCalibration(const CompileOptions &options) {
  if (options.quantize == "int8")
    return true;
  if (!isLowBitScheme(options.quantize))
    return false;
  bool smoothing = options.quantize == "w8a8-smooth" ||
                   options.quantize == "w4a4-smooth" ||
                   options.quantize == "w4a4-svd" ||
                   options.quantize == "w4a8";
  return smoothing || options.kvBits == 4;
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
  if (options.smoothAlpha != "auto") {
    char *end = nullptr;
    errno = 0;
    double alpha = std::strtod(options.smoothAlpha.c_str(), &end);
    if (options.smoothAlpha.empty() || *end != '\0' || errno != 0 ||
        !(alpha >= 0.0 && alpha <= 1.0))
      status.add({Severity::Error, "--smooth-alpha",
                  "smoothing alpha must be 'auto' or a number in [0, 1], "
                  "got '" +
                      options.smoothAlpha + "'",
                  {}});
  }
  if (options.rank <= 0 || options.rank > 4096)
    status.add({Severity::Error, "--rank",
                "the low-rank branch's rank must be in [1, 4096], got " +
                    std::to_string(options.rank),
                {}});
  if (options.kvBits != 16 && options.kvBits != 8 && options.kvBits != 4)
    status.add({Severity::Error, "--kv-bits",
                "KV-cache bits must be 16, 8 or 4, got " +
                    std::to_string(options.kvBits),
                {}});
  else if (options.kvBits != 16 && !isLowBitScheme(options.quantize))
    status.add({Severity::Error, "--kv-bits",
                "--kv-bits " + std::to_string(options.kvBits) +
                    " needs a low-bit scheme (--quantize w4a8, w8a8, ...), "
                    "got '" +
                    options.quantize + "'",
                {}});
  if (options.fp4Error != "mse" && options.fp4Error != "mae")
    status.add({Severity::Error, "--fp4-error",
                "unknown block error '" + options.fp4Error +
                    "' (expected mse or mae)",
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

Status checkTargetSupportsScheme(const CompileOptions &options) {
  bool cuda = options.target.rfind("cuda-", 0) == 0;
  if (isLowBitScheme(options.quantize)) {
    std::string where = cuda ? "the CUDA code generator does not emit "
                               "runtime/cuda's low-bit GEMM kernels yet"
                             : "the C runtime has int8 kernels only "
                               "(--quantize int8)";
    return Status::error("target '" + options.target +
                             "' has no kernels for quantization scheme '" +
                             options.quantize + "': " + where +
                             "; use 'kiln run' to evaluate the scheme",
                         "--quantize");
  }
  return Status::ok();
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
