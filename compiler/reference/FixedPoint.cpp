//===- FixedPoint.cpp - TFLite fixed-point arithmetic -----------*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// The fixed-point primitives of the int8 scheme, written as literally as
// TFLite / gemmlowp write them (SaturatingRoundingDoublingHighMul,
// RoundingDivideByPOT, MultiplyByQuantizedMultiplier, QuantizeMultiplier),
// plus the float-boundary helpers (quantize, dequantize, bias quantization,
// activation ranges) and the derivation of per-channel multipliers.
//
//===----------------------------------------------------------------------===//

#include "compiler/reference/IntegerKernels.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

namespace kiln::ref {

int32_t saturatingRoundingDoublingHighMul(int32_t a, int32_t b) {
  const bool overflow = a == b && a == std::numeric_limits<int32_t>::min();
  const int64_t ab = static_cast<int64_t>(a) * static_cast<int64_t>(b);
  const int32_t nudge = ab >= 0 ? (1 << 30) : (1 - (1 << 30));
  // Truncating int64 division, exactly as gemmlowp: together with the
  // sign-dependent nudge this rounds ties towards +infinity.
  const int32_t high =
      static_cast<int32_t>((ab + nudge) / (static_cast<int64_t>(1) << 31));
  return overflow ? std::numeric_limits<int32_t>::max() : high;
}

int32_t roundingDivideByPOT(int32_t x, int32_t exponent) {
  const int32_t mask =
      static_cast<int32_t>((static_cast<int64_t>(1) << exponent) - 1);
  const int32_t remainder = x & mask;
  const int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
  // Arithmetic right shift of a negative value: implementation-defined in
  // C++17 but arithmetic on every compiler Kiln supports (and defined in
  // C++20); TFLite relies on the same.
  return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

int32_t multiplyByQuantizedMultiplier(int32_t x, int32_t multiplier,
                                      int32_t shift) {
  const int32_t leftShift = shift > 0 ? shift : 0;
  const int32_t rightShift = shift > 0 ? 0 : -shift;
  // x * 2^leftShift in int64, saturated: TFLite's int32 product would be
  // undefined on overflow.
  const int64_t shifted =
      static_cast<int64_t>(x) * (static_cast<int64_t>(1) << leftShift);
  const int32_t saturated = static_cast<int32_t>(
      std::clamp<int64_t>(shifted, std::numeric_limits<int32_t>::min(),
                          std::numeric_limits<int32_t>::max()));
  return roundingDivideByPOT(
      saturatingRoundingDoublingHighMul(saturated, multiplier), rightShift);
}

Result<QuantizedMultiplier> quantizeMultiplier(double realMultiplier) {
  if (!std::isfinite(realMultiplier) || realMultiplier < 0.0)
    return Status::error("quantized multiplier must be finite and "
                         "non-negative, got " +
                         std::to_string(realMultiplier));
  if (realMultiplier == 0.0)
    return QuantizedMultiplier{0, 0};
  int exponent = 0;
  const double q = std::frexp(realMultiplier, &exponent);
  // std::round rounds half away from zero, as TfLiteRound.
  int64_t qFixed = static_cast<int64_t>(
      std::round(q * static_cast<double>(static_cast<int64_t>(1) << 31)));
  if (qFixed == (static_cast<int64_t>(1) << 31)) {
    qFixed /= 2;
    ++exponent;
  }
  // A shift below -31 would shift every bit out: TFLite flushes those tiny
  // multipliers to zero.
  if (exponent < kMinShift)
    return QuantizedMultiplier{0, 0};
  if (exponent > kMaxShift)
    return Status::error("quantized multiplier " +
                         std::to_string(realMultiplier) +
                         " is too large: expected a value below 2^30");
  return QuantizedMultiplier{static_cast<int32_t>(qFixed), exponent};
}

double dequantizeMultiplier(QuantizedMultiplier qm) {
  return std::ldexp(static_cast<double>(qm.multiplier), qm.shift - 31);
}

/// Returns |value| rounded half away from zero and clamped to [lo, hi];
/// NaN gives 0 (callers add the zero point afterwards).
static int64_t roundAndClamp(double value, int64_t lo, int64_t hi) {
  if (std::isnan(value))
    return 0;
  const double rounded = std::round(value);
  if (rounded < static_cast<double>(lo))
    return lo;
  if (rounded > static_cast<double>(hi))
    return hi;
  return static_cast<int64_t>(rounded);
}

int8_t quantize(float x, float scale, int32_t zeroPoint) {
  // The division is float32, as in TFLite's AffineQuantize; std::round of a
  // float is exact (no double rounding through the widening).
  const float ratio = x / scale;
  const int64_t rounded =
      roundAndClamp(static_cast<double>(ratio), -1024, 1024);
  const int64_t value = std::isnan(ratio) ? zeroPoint : rounded + zeroPoint;
  return static_cast<int8_t>(std::clamp<int64_t>(value, -128, 127));
}

float dequantize(int8_t q, float scale, int32_t zeroPoint) {
  return scale * static_cast<float>(static_cast<int32_t>(q) - zeroPoint);
}

int32_t quantizeBias(float bias, double inputScale, double weightScale) {
  const double biasScale = inputScale * weightScale;
  if (biasScale == 0.0)
    return 0;
  return static_cast<int32_t>(
      roundAndClamp(static_cast<double>(bias) / biasScale,
                    std::numeric_limits<int32_t>::min(),
                    std::numeric_limits<int32_t>::max()));
}

ActivationRange activationRange(Activation activation, float scale,
                                int32_t zeroPoint) {
  ActivationRange range;
  /// Quantizes |real| as TFLite's CalculateActivationRangeQuantized does,
  /// without clamping to int8.
  auto quantizeUnclamped = [&](float real) -> int64_t {
    return zeroPoint + roundAndClamp(static_cast<double>(real / scale),
                                     -(int64_t(1) << 40), int64_t(1) << 40);
  };
  switch (activation) {
  case Activation::None:
    break;
  case Activation::Relu:
    range.min =
        static_cast<int32_t>(std::max<int64_t>(-128, quantizeUnclamped(0.0f)));
    break;
  case Activation::Relu6:
    range.min =
        static_cast<int32_t>(std::max<int64_t>(-128, quantizeUnclamped(0.0f)));
    range.max =
        static_cast<int32_t>(std::min<int64_t>(127, quantizeUnclamped(6.0f)));
    break;
  }
  return range;
}

Result<std::vector<QuantizedMultiplier>>
makeConvMultipliers(double inputScale, Span<const double> weightScales,
                    double outputScale) {
  if (weightScales.empty())
    return Status::error("expected at least one weight scale");
  if (!(outputScale > 0.0))
    return Status::error("output scale must be positive, got " +
                         std::to_string(outputScale));
  std::vector<QuantizedMultiplier> result;
  result.reserve(weightScales.size());
  for (size_t c = 0; c < weightScales.size(); ++c) {
    Result<QuantizedMultiplier> qm =
        quantizeMultiplier(inputScale * weightScales[c] / outputScale);
    if (!qm) {
      Status status = Status::error("channel " + std::to_string(c) + ": " +
                                    qm.status().diagnostics()[0].message);
      return status;
    }
    result.push_back(*qm);
  }
  return result;
}

Status quantizeArray(Span<const float> input, float scale, int32_t zeroPoint,
                     Span<int8_t> output) {
  if (input.size() != output.size())
    return Status::error("quantize: input has " + std::to_string(input.size()) +
                         " elements but output has " +
                         std::to_string(output.size()));
  for (size_t i = 0; i < input.size(); ++i)
    output[i] = quantize(input[i], scale, zeroPoint);
  return Status::ok();
}

Status dequantizeArray(Span<const int8_t> input, float scale, int32_t zeroPoint,
                       Span<float> output) {
  if (input.size() != output.size())
    return Status::error(
        "dequantize: input has " + std::to_string(input.size()) +
        " elements but output has " + std::to_string(output.size()));
  for (size_t i = 0; i < input.size(); ++i)
    output[i] = dequantize(input[i], scale, zeroPoint);
  return Status::ok();
}

} // namespace kiln::ref
