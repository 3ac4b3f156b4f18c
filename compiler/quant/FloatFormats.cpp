//===- FloatFormats.cpp - fp16, FP8 E4M3 and FP4 E2M1 conversions -*- C++ -*-//
// SPDX-License-Identifier: Apache-2.0
//
// One generic minifloat encoder (sign, e exponent bits, m mantissa bits,
// bias, and a rule for overflow) instantiated for binary16, E4M3 and E2M1.
// The encoder works in double, where every float32 input is exact and every
// scaling by a power of two is exact, so the only rounding is the single
// round-half-to-even of the scaled mantissa.
//
//===----------------------------------------------------------------------===//

#include "kiln/quant/FloatFormats.h"

#include "kiln/quant/Matrix.h"

#include <cmath>
#include <cstring>

namespace kiln::quant {

namespace {

/// What an encoder does with a magnitude that rounds above its largest
/// finite value.
enum class Overflow { ToInfinity, Saturate };

/// Describes one small binary floating-point format.
struct MiniFloat {
  int expBits;
  int manBits;
  int bias;
  /// The largest finite magnitude.
  double maxFinite;
  Overflow overflow;
  /// Bits of +inf (ToInfinity formats only).
  uint32_t infBits;
  /// Bits of +NaN, or 0 when NaN maps to +0.
  uint32_t nanBits;
};

constexpr MiniFloat kHalf{5,      10,    15, 65504.0, Overflow::ToInfinity,
                          0x7c00, 0x7e00};
constexpr MiniFloat kE4M3{4, 3, 7, 448.0, Overflow::Saturate, 0, 0x7f};
constexpr MiniFloat kE2M1{2, 1, 1, 6.0, Overflow::Saturate, 0, 0};

} // namespace

/// Returns the bits of the largest finite magnitude of |f|.
static uint32_t maxFiniteBits(const MiniFloat &f) {
  int e = 0;
  double mant = std::frexp(f.maxFinite, &e); // maxFinite = mant * 2^e
  int unbiased = e - 1;
  uint32_t man =
      static_cast<uint32_t>(std::ldexp(mant * 2.0 - 1.0, f.manBits)); // exact
  return (static_cast<uint32_t>(unbiased + f.bias) << f.manBits) | man;
}

/// Returns the encoding of |x| in format |f| (sign bit at expBits + manBits).
static uint32_t encode(float x, const MiniFloat &f) {
  const uint32_t signBit = std::signbit(x) ? 1u << (f.expBits + f.manBits) : 0u;
  if (std::isnan(x))
    return f.nanBits == 0 ? 0u : (signBit | f.nanBits);
  double a = std::fabs(static_cast<double>(x));
  if (std::isinf(a))
    return signBit |
           (f.overflow == Overflow::Saturate ? maxFiniteBits(f) : f.infBits);
  if (a == 0.0)
    return signBit;

  // The binade exponent of |a|, not below the smallest normal exponent, so
  // that subnormals share the quantum of the lowest binade.
  const int minNormalExp = 1 - f.bias;
  int e = 0;
  std::frexp(a, &e);
  int exp = e - 1;
  if (exp < minNormalExp)
    exp = minNormalExp;
  // a / quantum is exact: quantum is a power of two and the result fits in
  // double's exponent range for every float32 input.
  double scaled = std::ldexp(a, f.manBits - exp);
  double n = roundHalfToEven(scaled);
  const double hidden = std::ldexp(1.0, f.manBits);
  if (n == 2.0 * hidden) {
    // Rounded up into the next binade: same value, renormalized.
    n = hidden;
    ++exp;
  }
  double value = std::ldexp(n, exp - f.manBits);
  if (value > f.maxFinite)
    return signBit |
           (f.overflow == Overflow::Saturate ? maxFiniteBits(f) : f.infBits);
  if (n < hidden) // Subnormal (or zero): exponent field 0.
    return signBit | static_cast<uint32_t>(n);
  uint32_t expField = static_cast<uint32_t>(exp + f.bias);
  uint32_t man = static_cast<uint32_t>(n - hidden);
  return signBit | (expField << f.manBits) | man;
}

/// Returns the value of |bits| in format |f| (NaN and inf handled by the
/// callers, which know their format's special codes).
static double decodeFinite(uint32_t bits, const MiniFloat &f) {
  const uint32_t signBit = 1u << (f.expBits + f.manBits);
  const uint32_t manMask = (1u << f.manBits) - 1u;
  uint32_t expField = (bits >> f.manBits) & ((1u << f.expBits) - 1u);
  uint32_t man = bits & manMask;
  double mag;
  if (expField == 0)
    mag = std::ldexp(static_cast<double>(man), 1 - f.bias - f.manBits);
  else
    mag = std::ldexp(static_cast<double>(man | (manMask + 1u)),
                     static_cast<int>(expField) - f.bias - f.manBits);
  return (bits & signBit) ? -mag : mag;
}

uint16_t floatToHalf(float x) {
  return static_cast<uint16_t>(encode(x, kHalf));
}

float halfToFloat(uint16_t bits) {
  uint32_t expField = (bits >> 10) & 0x1fu;
  if (expField == 0x1fu) {
    bool negative = bits & 0x8000u;
    if (bits & 0x3ffu)
      return std::copysign(NAN, negative ? -1.0f : 1.0f);
    return negative ? -INFINITY : INFINITY;
  }
  return static_cast<float>(decodeFinite(bits, kHalf));
}

float roundToHalf(float x) { return halfToFloat(floatToHalf(x)); }

uint8_t floatToE4M3(float x) { return static_cast<uint8_t>(encode(x, kE4M3)); }

float e4m3ToFloat(uint8_t bits) {
  if ((bits & 0x7fu) == 0x7fu)
    return std::copysign(NAN, (bits & 0x80u) ? -1.0f : 1.0f);
  return static_cast<float>(decodeFinite(bits, kE4M3));
}

float roundToE4M3(float x) { return e4m3ToFloat(floatToE4M3(x)); }

uint8_t floatToE2M1(float x) { return static_cast<uint8_t>(encode(x, kE2M1)); }

float e2m1ToFloat(uint8_t code) {
  return static_cast<float>(decodeFinite(code & 0x0fu, kE2M1));
}

float roundToE2M1(float x) { return e2m1ToFloat(floatToE2M1(x)); }

} // namespace kiln::quant
