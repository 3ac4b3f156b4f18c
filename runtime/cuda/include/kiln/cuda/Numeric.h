//===- Numeric.h - Scalar arithmetic shared by host and device -*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// The scalar arithmetic of Kiln's CUDA kernels, written once for the device
// and for the host references that test them:
//
// - TFLite fixed-point requantization with double rounding
//   (SaturatingRoundingDoublingHighMul + RoundingDivideByPOT), identical to
//   kiln::ref::multiplyByQuantizedMultiplier (compiler/reference);
// - float -> int quantization with one IEEE float32 division and rounding
//   half away from zero, identical to kiln::quant::quantizeToInt and
//   kiln::ref::quantize;
// - fp16 <-> float32 conversions (round to nearest even), identical to
//   kiln::quant's fp16 encoder for finite values;
// - activation functions.
//
// Bit-exactness across host and device rests on three rules: every float
// operation of an integer path is a single IEEE operation (the device code
// uses __fmul_rn / __fadd_rn / __fdiv_rn, which nvcc never contracts into an
// FMA), the host side is compiled with -ffp-contract=off, and transcendental
// functions (erf, tanh, exp) are never part of a path that is compared bit
// for bit. test/gpu/HostChecks.cpp checks these functions against the
// reference libraries on the CPU.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_RUNTIME_CUDA_INCLUDE_KILN_CUDA_NUMERIC_H
#define KILN_RUNTIME_CUDA_INCLUDE_KILN_CUDA_NUMERIC_H

#include "kiln/cuda/Config.h"

#include <cmath>
#include <cstdint>
#include <cstring>

#if defined(__CUDACC__)
#include <cuda_fp16.h>
#endif

namespace kiln::cuda {

//===----------------------------------------------------------------------===//
// Single IEEE float operations (never contracted)
//===----------------------------------------------------------------------===//

/// Returns a * b rounded once to float32.
KILN_HD float fmulRn(float a, float b) {
#if defined(__CUDA_ARCH__)
  return __fmul_rn(a, b);
#else
  return a * b;
#endif
}

/// Returns a + b rounded once to float32.
KILN_HD float faddRn(float a, float b) {
#if defined(__CUDA_ARCH__)
  return __fadd_rn(a, b);
#else
  return a + b;
#endif
}

/// Returns a / b rounded once to float32 (IEEE division, never the fast
/// approximate one).
KILN_HD float fdivRn(float a, float b) {
#if defined(__CUDA_ARCH__)
  return __fdiv_rn(a, b);
#else
  return a / b;
#endif
}

/// Returns a * b + c with a single rounding.
KILN_HD float fmaRn(float a, float b, float c) {
#if defined(__CUDA_ARCH__)
  return __fmaf_rn(a, b, c);
#else
  return std::fma(a, b, c);
#endif
}

/// Returns |x| rounded to an integer, halfway cases away from zero.
KILN_HD float roundHalfAway(float x) {
#if defined(__CUDA_ARCH__)
  return roundf(x);
#else
  return std::round(x);
#endif
}

/// Returns the int32 |x| converted to float32, rounded to nearest even.
KILN_HD float intToFloat(int32_t x) {
#if defined(__CUDA_ARCH__)
  return __int2float_rn(x);
#else
  return static_cast<float>(x);
#endif
}

/// Returns float(x) for |x| < 2^22 with two full-rate ALU operations on the
/// device instead of the quarter-rate conversion unit: the bits of 1.5 * 2^23
/// plus x are the float 1.5 * 2^23 + x exactly, and subtracting 1.5 * 2^23
/// is exact. Identical to intToFloat in that range.
KILN_HD float smallIntToFloat(int32_t x) {
#if defined(__CUDA_ARCH__)
  return __fsub_rn(__int_as_float(0x4b400000 + x), 12582912.0f);
#else
  return static_cast<float>(x);
#endif
}

//===----------------------------------------------------------------------===//
// fp16
//===----------------------------------------------------------------------===//

/// Returns the fp16 bits nearest to |x| (ties to even; overflow to +-inf;
/// NaN to a quiet NaN).
KILN_HD uint16_t floatToHalfBits(float x) {
#if defined(__CUDA_ARCH__)
  return __half_as_ushort(__float2half_rn(x));
#else
  uint32_t u;
  std::memcpy(&u, &x, 4);
  const uint32_t sign = (u >> 16) & 0x8000u;
  const uint32_t absBits = u & 0x7fffffffu;
  if (absBits >= 0x7f800000u) // inf or NaN
    return static_cast<uint16_t>(sign |
                                 (absBits > 0x7f800000u ? 0x7e00u : 0x7c00u));
  if (absBits >= 0x477ff000u) // >= 65520: rounds to inf
    return static_cast<uint16_t>(sign | 0x7c00u);
  const int32_t exp = static_cast<int32_t>(absBits >> 23) - 127;
  if (exp >= -14) { // normal fp16
    const uint32_t mant = absBits & 0x7fffffu;
    uint32_t h = (static_cast<uint32_t>(exp + 15) << 10) | (mant >> 13);
    const uint32_t rest = mant & 0x1fffu;
    if (rest > 0x1000u || (rest == 0x1000u && (h & 1u)))
      ++h; // may carry into the exponent, which is still correct
    return static_cast<uint16_t>(sign | h);
  }
  if (exp < -25) // below half the smallest subnormal: +-0
    return static_cast<uint16_t>(sign);
  // Subnormal fp16: value = m * 2^-24 with m = round(|x| * 2^24).
  const uint32_t mant = (absBits & 0x7fffffu) | 0x800000u;
  const int32_t shift = -exp - 14 + 13; // 14..24
  uint32_t h = mant >> shift;
  const uint32_t rest = mant & ((1u << shift) - 1u);
  const uint32_t half = 1u << (shift - 1);
  if (rest > half || (rest == half && (h & 1u)))
    ++h;
  return static_cast<uint16_t>(sign | h);
#endif
}

/// Returns the float32 value of fp16 bits |h| (exact).
KILN_HD float halfBitsToFloat(uint16_t h) {
#if defined(__CUDA_ARCH__)
  return __half2float(__ushort_as_half(h));
#else
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  const uint32_t exp = (h >> 10) & 0x1fu;
  const uint32_t mant = h & 0x3ffu;
  uint32_t u;
  if (exp == 0) {
    if (mant == 0) {
      u = sign;
    } else {
      // Subnormal: mant * 2^-24, exact in float32.
      const float v = static_cast<float>(mant) * 5.9604644775390625e-8f;
      std::memcpy(&u, &v, 4);
      u |= sign;
    }
  } else if (exp == 31) {
    u = sign | 0x7f800000u | (mant << 13);
  } else {
    u = sign | ((exp + 112u) << 23) | (mant << 13);
  }
  float f;
  std::memcpy(&f, &u, 4);
  return f;
#endif
}

//===----------------------------------------------------------------------===//
// Fixed point (TFLite / gemmlowp), bit-exact with kiln::ref
//===----------------------------------------------------------------------===//

/// Returns round(a * b / 2^31), ties towards +infinity; INT32_MIN squared
/// saturates to INT32_MAX (gemmlowp's SaturatingRoundingDoublingHighMul).
KILN_HD int32_t saturatingRoundingDoublingHighMul(int32_t a, int32_t b) {
  const bool overflow = a == b && a == INT32_MIN;
  const int64_t ab = static_cast<int64_t>(a) * static_cast<int64_t>(b);
  const int64_t nudge = ab >= 0 ? (1 << 30) : (1 - (1 << 30));
  // Truncating division (not a shift): with the nudge this rounds ties up.
  const int32_t high =
      static_cast<int32_t>((ab + nudge) / (static_cast<int64_t>(1) << 31));
  return overflow ? INT32_MAX : high;
}

/// Returns x / 2^exponent rounded half away from zero, 0 <= exponent <= 31
/// (gemmlowp's RoundingDivideByPOT).
KILN_HD int32_t roundingDivideByPOT(int32_t x, int32_t exponent) {
  const int32_t mask =
      static_cast<int32_t>((static_cast<int64_t>(1) << exponent) - 1);
  const int32_t remainder = x & mask;
  const int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
  return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

/// Returns x * multiplier * 2^(shift - 31) with TFLite's double rounding;
/// an overflowing x * 2^shift saturates (as kiln::ref does).
KILN_HD int32_t multiplyByQuantizedMultiplier(int32_t x, int32_t multiplier,
                                              int32_t shift) {
  const int32_t leftShift = shift > 0 ? shift : 0;
  const int32_t rightShift = shift > 0 ? 0 : -shift;
  int64_t shifted = static_cast<int64_t>(x) * (static_cast<int64_t>(1)
                                               << leftShift);
  shifted = shifted < INT32_MIN ? INT32_MIN
                                : (shifted > INT32_MAX ? INT32_MAX : shifted);
  return roundingDivideByPOT(
      saturatingRoundingDoublingHighMul(static_cast<int32_t>(shifted),
                                        multiplier),
      rightShift);
}

/// Returns |v| clamped to [lo, hi].
KILN_HD int32_t clampInt(int32_t v, int32_t lo, int32_t hi) {
  return v < lo ? lo : (v > hi ? hi : v);
}

//===----------------------------------------------------------------------===//
// Float -> integer quantization (kiln::quant::quantizeToInt)
//===----------------------------------------------------------------------===//

/// Returns clamp(round(x / scale) + zeroPoint, qmin, qmax) with one float32
/// division and rounding half away from zero; NaN gives the clamped zero
/// point.
KILN_HD int32_t quantizeToInt(float x, float scale, int32_t zeroPoint,
                              int32_t qmin, int32_t qmax) {
  const float ratio = fdivRn(x, scale);
  if (ratio != ratio)
    return clampInt(zeroPoint, qmin, qmax);
  // Comparing with the float bounds first keeps huge ratios from
  // overflowing int32.
  const float r = roundHalfAway(ratio);
  if (r <= static_cast<float>(qmin - zeroPoint))
    return qmin;
  if (r >= static_cast<float>(qmax - zeroPoint))
    return qmax;
  return static_cast<int32_t>(r) + zeroPoint;
}

//===----------------------------------------------------------------------===//
// Activations
//===----------------------------------------------------------------------===//

/// Activation functions that epilogues and elementwise kernels fuse.
enum class Act : int {
  kNone,
  kRelu,
  kRelu6,
  /// 0.5 x (1 + erf(x / sqrt(2))) (ONNX Gelu, approximate = "none").
  kGeluErf,
  /// 0.5 x (1 + tanh(sqrt(2 / pi) (x + 0.044715 x^3))) ("tanh").
  kGeluTanh,
  /// x * sigmoid(x) = x / (1 + exp(-x)).
  kSilu,
};

/// Returns true when |A| involves a transcendental function, i.e. results
/// may differ between host and device in the last bits.
constexpr KILN_HD bool isTranscendental(Act a) {
  return a == Act::kGeluErf || a == Act::kGeluTanh || a == Act::kSilu;
}

/// Returns A(x) in float32.
template <Act A> KILN_HD float applyAct(float x) {
  if constexpr (A == Act::kRelu) {
    return x > 0.0f ? x : 0.0f;
  } else if constexpr (A == Act::kRelu6) {
    return x > 0.0f ? (x < 6.0f ? x : 6.0f) : 0.0f;
  } else if constexpr (A == Act::kGeluErf) {
#if defined(__CUDA_ARCH__)
    return 0.5f * x * (1.0f + erff(x * 0.70710678118654752f));
#else
    return 0.5f * x * (1.0f + std::erf(x * 0.70710678118654752f));
#endif
  } else if constexpr (A == Act::kGeluTanh) {
    const float inner = 0.79788456080286536f * (x + 0.044715f * x * x * x);
#if defined(__CUDA_ARCH__)
    return 0.5f * x * (1.0f + tanhf(inner));
#else
    return 0.5f * x * (1.0f + std::tanh(inner));
#endif
  } else if constexpr (A == Act::kSilu) {
#if defined(__CUDA_ARCH__)
    return x / (1.0f + expf(-x));
#else
    return x / (1.0f + std::exp(-x));
#endif
  } else {
    return x;
  }
}

} // namespace kiln::cuda

#endif // KILN_RUNTIME_CUDA_INCLUDE_KILN_CUDA_NUMERIC_H
