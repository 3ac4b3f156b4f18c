//===- FixedPointTest.cpp - Tests of the fixed-point primitives -*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// Checks kiln::ref's TFLite fixed-point arithmetic against hand-computed
// values, TFLite's documented edge cases (INT32_MIN * INT32_MIN saturation,
// tie rounding, q == 2^31 renormalization, tiny multipliers flushed to zero)
// and against exact rational arithmetic on seeded random values.
//
//===----------------------------------------------------------------------===//

#include "compiler/reference/IntegerKernels.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <random>

namespace {

using namespace kiln::ref;

constexpr int32_t kMin = std::numeric_limits<int32_t>::min();
constexpr int32_t kMax = std::numeric_limits<int32_t>::max();

/// Returns floor(n / 2^e) for a 128-bit n (exact).
__int128 floorDivPow2(__int128 n, int e) {
  const __int128 d = static_cast<__int128>(1) << e;
  __int128 q = n / d;
  if (n % d != 0 && n < 0)
    --q;
  return q;
}

TEST(SaturatingRoundingDoublingHighMul, HandCheckedValues) {
  EXPECT_EQ(saturatingRoundingDoublingHighMul(kMin, kMin), kMax);
  EXPECT_EQ(saturatingRoundingDoublingHighMul(1 << 30, 1 << 30), 1 << 29);
  EXPECT_EQ(saturatingRoundingDoublingHighMul(kMax, kMax), kMax - 1);
  EXPECT_EQ(saturatingRoundingDoublingHighMul(kMin, kMax), kMin + 1);
  EXPECT_EQ(saturatingRoundingDoublingHighMul(0, kMin), 0);
  // a*b / 2^31 == +0.5 rounds up to 1, -0.5 rounds up to 0 (gemmlowp's
  // nudge makes ties go towards +infinity), just below -0.5 gives -1.
  EXPECT_EQ(saturatingRoundingDoublingHighMul(1 << 15, 1 << 15), 1);
  EXPECT_EQ(saturatingRoundingDoublingHighMul(-(1 << 15), 1 << 15), 0);
  EXPECT_EQ(saturatingRoundingDoublingHighMul(-(1 << 15) - 1, 1 << 15), -1);
  EXPECT_EQ(saturatingRoundingDoublingHighMul(3 << 14, 1 << 16), 2); // 1.5
  EXPECT_EQ(saturatingRoundingDoublingHighMul(-(3 << 14), 1 << 16), -1);
}

TEST(SaturatingRoundingDoublingHighMul, MatchesExactRoundHalfUpOnRandom) {
  std::mt19937 rng(1234);
  std::uniform_int_distribution<int32_t> any(kMin, kMax);
  for (int i = 0; i < 200000; ++i) {
    const int32_t a = any(rng);
    const int32_t b = i % 4 == 0 ? (any(rng) >> 16) : any(rng);
    if (a == kMin && b == kMin)
      continue;
    const __int128 product = static_cast<__int128>(a) * b;
    const __int128 expected = floorDivPow2(product + (1 << 30), 31);
    ASSERT_EQ(saturatingRoundingDoublingHighMul(a, b),
              static_cast<int32_t>(expected))
        << a << " * " << b;
  }
}

TEST(RoundingDivideByPOT, HandCheckedValues) {
  EXPECT_EQ(roundingDivideByPOT(5, 1), 3);   // 2.5 -> 3
  EXPECT_EQ(roundingDivideByPOT(-5, 1), -3); // -2.5 -> -3 (away from zero)
  EXPECT_EQ(roundingDivideByPOT(3, 1), 2);
  EXPECT_EQ(roundingDivideByPOT(-3, 1), -2);
  EXPECT_EQ(roundingDivideByPOT(-7, 2), -2); // -1.75
  EXPECT_EQ(roundingDivideByPOT(-6, 2), -2); // -1.5
  EXPECT_EQ(roundingDivideByPOT(-5, 2), -1); // -1.25
  EXPECT_EQ(roundingDivideByPOT(123, 0), 123);
  EXPECT_EQ(roundingDivideByPOT(kMin, 0), kMin);
  EXPECT_EQ(roundingDivideByPOT(kMin, 31), -1);
  EXPECT_EQ(roundingDivideByPOT(kMax, 31), 1);
  EXPECT_EQ(roundingDivideByPOT(1 << 30, 31), 1); // 0.5 -> 1
  EXPECT_EQ(roundingDivideByPOT(-(1 << 30), 31), -1);
}

TEST(RoundingDivideByPOT, MatchesExactRoundHalfAwayOnRandom) {
  std::mt19937 rng(99);
  std::uniform_int_distribution<int32_t> any(kMin, kMax);
  for (int i = 0; i < 200000; ++i) {
    const int32_t x = any(rng);
    const int e = i % 32;
    // round half away from zero of x / 2^e, exactly.
    const __int128 magnitude = x < 0 ? -static_cast<__int128>(x) : x;
    const __int128 rounded =
        e == 0 ? magnitude
               : floorDivPow2(magnitude + (static_cast<__int128>(1) << (e - 1)),
                              e);
    const __int128 expected = x < 0 ? -rounded : rounded;
    ASSERT_EQ(roundingDivideByPOT(x, e), static_cast<int32_t>(expected))
        << x << " / 2^" << e;
  }
}

TEST(MultiplyByQuantizedMultiplier, HandCheckedValues) {
  // 0.25 = 2^30 * 2^(-1 - 31).
  EXPECT_EQ(multiplyByQuantizedMultiplier(100, 1 << 30, -1), 25);
  EXPECT_EQ(multiplyByQuantizedMultiplier(-100, 1 << 30, -1), -25);
  EXPECT_EQ(multiplyByQuantizedMultiplier(-102, 1 << 30, -1), -26); // -25.5
  EXPECT_EQ(multiplyByQuantizedMultiplier(102, 1 << 30, -1), 26);
  // 1.0 = {2^30, 1}: the identity while x * 2 fits in int32; beyond that
  // the left shift saturates.
  EXPECT_EQ(multiplyByQuantizedMultiplier(-7, 1 << 30, 1), -7);
  EXPECT_EQ(multiplyByQuantizedMultiplier((1 << 30) - 1, 1 << 30, 1),
            (1 << 30) - 1);
  EXPECT_EQ(multiplyByQuantizedMultiplier(kMin / 2, 1 << 30, 1), kMin / 2);
  EXPECT_EQ(multiplyByQuantizedMultiplier(kMax, 1 << 30, 1), 1 << 30);
  EXPECT_EQ(multiplyByQuantizedMultiplier(kMin, 1 << 30, 1), -(1 << 30));
  // 3.0 = {3 * 2^29, 2}; 1e9 * 3 saturates in the left shift.
  EXPECT_EQ(multiplyByQuantizedMultiplier(1000, 3 << 29, 2), 3000);
  EXPECT_EQ(multiplyByQuantizedMultiplier(1000000000, 3 << 29, 2),
            saturatingRoundingDoublingHighMul(kMax, 3 << 29));
  EXPECT_EQ(multiplyByQuantizedMultiplier(-1000000000, 3 << 29, 2),
            saturatingRoundingDoublingHighMul(kMin, 3 << 29));
  EXPECT_EQ(multiplyByQuantizedMultiplier(12345, 0, 0), 0);
}

TEST(MultiplyByQuantizedMultiplier, WithinOneOfRealProductOnRandom) {
  std::mt19937 rng(7);
  std::uniform_real_distribution<double> logScale(-20.0, 6.0);
  std::uniform_int_distribution<int32_t> acc(-(1 << 24), 1 << 24);
  for (int i = 0; i < 100000; ++i) {
    const double real = std::exp2(logScale(rng));
    kiln::Result<QuantizedMultiplier> qm = quantizeMultiplier(real);
    ASSERT_TRUE(qm.succeeded()) << real;
    const int32_t x = acc(rng) >> (i % 16);
    const double exact = static_cast<double>(x) * real;
    if (std::fabs(exact) > 2e9)
      continue;
    const int32_t got =
        multiplyByQuantizedMultiplier(x, qm->multiplier, qm->shift);
    // Double rounding plus the multiplier's 31-bit mantissa: within 1.
    ASSERT_LE(std::fabs(static_cast<double>(got) - std::round(exact)), 1.0)
        << x << " * " << real;
  }
}

TEST(QuantizeMultiplier, RoundTripsWithin31Bits) {
  std::mt19937 rng(11);
  std::uniform_real_distribution<double> logScale(-31.0, 29.9);
  for (int i = 0; i < 100000; ++i) {
    const double real = std::exp2(logScale(rng));
    kiln::Result<QuantizedMultiplier> qm = quantizeMultiplier(real);
    ASSERT_TRUE(qm.succeeded()) << real;
    EXPECT_GE(qm->multiplier, 1 << 30);
    EXPECT_GE(qm->shift, kMinShift);
    EXPECT_LE(qm->shift, kMaxShift);
    const double back = dequantizeMultiplier(*qm);
    ASSERT_LE(std::fabs(back - real) / real, std::ldexp(1.0, -31)) << real;
  }
}

TEST(QuantizeMultiplier, EdgeCases) {
  EXPECT_EQ(*quantizeMultiplier(0.0), (QuantizedMultiplier{0, 0}));
  EXPECT_EQ(*quantizeMultiplier(1.0), (QuantizedMultiplier{1 << 30, 1}));
  EXPECT_EQ(*quantizeMultiplier(0.5), (QuantizedMultiplier{1 << 30, 0}));
  EXPECT_EQ(*quantizeMultiplier(0.75), (QuantizedMultiplier{3 << 29, 0}));
  // q rounds to 2^31: renormalized to 2^30 with the exponent + 1.
  EXPECT_EQ(*quantizeMultiplier(1.0 - std::ldexp(1.0, -33)),
            (QuantizedMultiplier{1 << 30, 1}));
  EXPECT_EQ(*quantizeMultiplier(std::ldexp(1.0, -32)),
            (QuantizedMultiplier{1 << 30, -31}));
  // Below 2^-32 the shift would be < -31: flushed to zero as TFLite does.
  EXPECT_EQ(*quantizeMultiplier(std::ldexp(1.0, -33)),
            (QuantizedMultiplier{0, 0}));
  EXPECT_EQ(*quantizeMultiplier(1e-30), (QuantizedMultiplier{0, 0}));
  EXPECT_EQ(quantizeMultiplier(std::ldexp(1.0, 30) * 0.999)->shift, 30);
  kiln::Result<QuantizedMultiplier> tooLarge =
      quantizeMultiplier(std::ldexp(1.0, 30));
  ASSERT_FALSE(tooLarge.succeeded());
  EXPECT_NE(tooLarge.status().str().find("too large"), std::string::npos);
  EXPECT_FALSE(quantizeMultiplier(-0.5).succeeded());
  EXPECT_FALSE(quantizeMultiplier(std::nan("")).succeeded());
  EXPECT_FALSE(
      quantizeMultiplier(std::numeric_limits<double>::infinity()).succeeded());
}

TEST(Quantize, RoundsHalfAwayFromZeroAndClamps) {
  EXPECT_EQ(quantize(0.25f, 0.5f, 0), 1);   // 0.5 -> 1
  EXPECT_EQ(quantize(-0.25f, 0.5f, 0), -1); // -0.5 -> -1 (ONNX would give 0)
  EXPECT_EQ(quantize(0.75f, 0.5f, 0), 2);   // 1.5 -> 2
  EXPECT_EQ(quantize(1.25f, 0.5f, 0), 3);   // 2.5 -> 3
  EXPECT_EQ(quantize(0.2f, 0.5f, 0), 0);
  EXPECT_EQ(quantize(1.0f, 0.1f, -5), 5);
  EXPECT_EQ(quantize(1000.0f, 0.1f, 0), 127);
  EXPECT_EQ(quantize(-1000.0f, 0.1f, 10), -128);
  EXPECT_EQ(quantize(std::numeric_limits<float>::infinity(), 0.1f, 0), 127);
  EXPECT_EQ(quantize(-std::numeric_limits<float>::infinity(), 0.1f, 0), -128);
  EXPECT_EQ(quantize(std::nanf(""), 0.1f, 7), 7);
  // 0.49999997f / 1 must not round up through a float addition of 0.5.
  EXPECT_EQ(quantize(0.49999997f, 1.0f, 0), 0);
}

TEST(Quantize, DequantizeRoundTrips) {
  for (int zp : {-128, -3, 0, 17, 127})
    for (int q = -128; q <= 127; ++q) {
      const float real = dequantize(static_cast<int8_t>(q), 0.0371f, zp);
      EXPECT_EQ(real, 0.0371f * static_cast<float>(q - zp));
      EXPECT_EQ(quantize(real, 0.0371f, zp), q);
    }
}

TEST(QuantizeBias, UsesProductScale) {
  EXPECT_EQ(quantizeBias(1.0f, 0.5, 0.25), 8);
  EXPECT_EQ(quantizeBias(-0.0625f, 0.5, 0.25), -1); // -0.5 -> -1
  EXPECT_EQ(quantizeBias(1e30f, 1e-3, 1e-3), kMax);
  EXPECT_EQ(quantizeBias(3.0f, 0.0, 1.0), 0);
}

TEST(ActivationRange, MatchesTfliteDefinition) {
  ActivationRange none = activationRange(Activation::None, 0.1f, -10);
  EXPECT_EQ(none.min, -128);
  EXPECT_EQ(none.max, 127);
  ActivationRange relu = activationRange(Activation::Relu, 0.1f, -10);
  EXPECT_EQ(relu.min, -10);
  EXPECT_EQ(relu.max, 127);
  ActivationRange relu6 = activationRange(Activation::Relu6, 0.1f, -10);
  EXPECT_EQ(relu6.min, -10);
  EXPECT_EQ(relu6.max, 50);
  ActivationRange wide = activationRange(Activation::Relu6, 0.01f, -128);
  EXPECT_EQ(wide.min, -128);
  EXPECT_EQ(wide.max, 127);
}

TEST(MakeConvMultipliers, PerChannel) {
  const std::vector<double> weightScales = {0.01, 0.02, 1e-12};
  auto qms = makeConvMultipliers(0.5, weightScales, 0.25);
  ASSERT_TRUE(qms.succeeded()) << qms.status().str();
  ASSERT_EQ(qms->size(), 3u);
  EXPECT_NEAR(dequantizeMultiplier((*qms)[0]), 0.02, 1e-11);
  EXPECT_NEAR(dequantizeMultiplier((*qms)[1]), 0.04, 1e-11);
  EXPECT_EQ((*qms)[2], (QuantizedMultiplier{0, 0}));
  EXPECT_FALSE(makeConvMultipliers(0.5, weightScales, 0.0).succeeded());
}

} // namespace
