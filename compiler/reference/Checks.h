//===- Checks.h - Checks shared by the reference kernels --------*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// Internal helpers of the reference kernels: validation that turns bad
// parameters into kiln::Status errors (never asserts), int32 wrapping
// accumulation and the final requantize-and-clamp step shared by the
// convolution-like ops.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_COMPILER_REFERENCE_CHECKS_H
#define KILN_COMPILER_REFERENCE_CHECKS_H

#include "compiler/reference/IntegerKernels.h"

#include <algorithm>
#include <string>

namespace kiln::ref::detail {

/// Returns an error "<op>: <message>".
inline Status fail(const char *op, const std::string &message) {
  return Status::error(std::string(op) + ": " + message);
}

/// Returns ok when |size| equals |expected|, else an error naming |what|.
inline Status checkSize(const char *op, const char *what, size_t size,
                        int64_t expected) {
  if (expected < 0 || size != static_cast<size_t>(expected))
    return fail(op, std::string(what) + " has " + std::to_string(size) +
                        " elements, expected " + std::to_string(expected));
  return Status::ok();
}

/// Returns ok when |value| > 0, else an error naming |what|.
inline Status checkPositive(const char *op, const char *what, int64_t value) {
  if (value <= 0)
    return fail(op, std::string(what) + " must be positive, got " +
                        std::to_string(value));
  return Status::ok();
}

/// Returns ok when |value| >= 0, else an error naming |what|.
inline Status checkNonNegative(const char *op, const char *what,
                               int64_t value) {
  if (value < 0)
    return fail(op, std::string(what) + " must be non-negative, got " +
                        std::to_string(value));
  return Status::ok();
}

/// Returns ok when |zeroPoint| is an int8 value.
inline Status checkZeroPoint(const char *op, const char *what,
                             int32_t zeroPoint) {
  if (zeroPoint < -128 || zeroPoint > 127)
    return fail(op, std::string(what) + " must be in [-128, 127], got " +
                        std::to_string(zeroPoint));
  return Status::ok();
}

/// Returns ok when |range| is a non-empty sub-range of [-128, 127].
inline Status checkActivation(const char *op, ActivationRange range) {
  if (range.min < -128 || range.max > 127 || range.min > range.max)
    return fail(op, "activation range [" + std::to_string(range.min) + ", " +
                        std::to_string(range.max) +
                        "] must be a non-empty sub-range of [-128, 127]");
  return Status::ok();
}

/// Returns ok when |qm| is usable by multiplyByQuantizedMultiplier.
inline Status checkMultiplier(const char *op, QuantizedMultiplier qm) {
  if (qm.multiplier < 0 || qm.shift < kMinShift || qm.shift > kMaxShift)
    return fail(op, "multiplier " + std::to_string(qm.multiplier) +
                        " with shift " + std::to_string(qm.shift) +
                        " is invalid: expected multiplier >= 0 and shift "
                        "in [-31, 30]");
  return Status::ok();
}

/// Returns ok when |rq| has one entry or |channels| entries, all valid.
inline Status checkRequantization(const char *op, const Requantization &rq,
                                  int64_t channels) {
  if (rq.multipliers.size() != rq.shifts.size())
    return fail(op, "requantization has " +
                        std::to_string(rq.multipliers.size()) +
                        " multipliers but " + std::to_string(rq.shifts.size()) +
                        " shifts");
  if (rq.multipliers.size() != 1 &&
      rq.multipliers.size() != static_cast<size_t>(channels))
    return fail(op, "requantization has " +
                        std::to_string(rq.multipliers.size()) +
                        " entries, expected 1 or " + std::to_string(channels));
  for (size_t i = 0; i < rq.multipliers.size(); ++i)
    if (Status s = checkMultiplier(op, {rq.multipliers[i], rq.shifts[i]}); !s)
      return s;
  return Status::ok();
}

/// Returns the multiplier of output channel |channel| of |rq|.
inline QuantizedMultiplier channelMultiplier(const Requantization &rq,
                                             int64_t channel) {
  const size_t index = rq.multipliers.size() == 1 ? 0 : channel;
  return {rq.multipliers[index], rq.shifts[index]};
}

/// Returns a + b modulo 2^32 (the int32 accumulator wraps, as SMLAD does).
inline int32_t wrappingAdd(int32_t a, int32_t b) {
  return static_cast<int32_t>(static_cast<uint32_t>(a) +
                              static_cast<uint32_t>(b));
}

/// Returns a * b + acc modulo 2^32.
inline int32_t wrappingMac(int32_t acc, int32_t a, int32_t b) {
  return wrappingAdd(acc, static_cast<int32_t>(static_cast<uint32_t>(a) *
                                               static_cast<uint32_t>(b)));
}

/// Returns clamp(MBQM(acc, qm) + zeroPoint, range) as int8: the output stage
/// of conv, fully connected and the requantizing ops.
inline int8_t requantizeOutput(int32_t acc, QuantizedMultiplier qm,
                               int32_t zeroPoint, ActivationRange range) {
  const int64_t value = static_cast<int64_t>(multiplyByQuantizedMultiplier(
                            acc, qm.multiplier, qm.shift)) +
                        zeroPoint;
  return static_cast<int8_t>(std::clamp<int64_t>(value, range.min, range.max));
}

/// Returns the number of elements of |shape| (1 for rank 0), or -1 when a
/// dim is negative.
inline int64_t numElements(Span<const int64_t> shape) {
  int64_t count = 1;
  for (int64_t dim : shape) {
    if (dim < 0)
      return -1;
    count *= dim;
  }
  return count;
}

/// Returns "[a, b, c]".
inline std::string shapeString(Span<const int64_t> shape) {
  std::string text = "[";
  for (size_t i = 0; i < shape.size(); ++i)
    text += (i ? ", " : "") + std::to_string(shape[i]);
  return text + "]";
}

} // namespace kiln::ref::detail

#endif // KILN_COMPILER_REFERENCE_CHECKS_H
