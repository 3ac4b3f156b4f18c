//===- FloatFormatsTest.cpp - fp16 / E4M3 / E2M1 conversions ----*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// Hand-computed tables for the three minifloat encoders: exact values,
// ties (to the even mantissa), subnormals and their ties, saturation (E4M3,
// E2M1) versus overflow to infinity (fp16), NaN and signed zero; plus
// exhaustive decode -> encode round trips over every code.
//
//===----------------------------------------------------------------------===//

#include "kiln/quant/FloatFormats.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>

using namespace kiln;
using namespace kiln::quant;

namespace {

struct HalfCase {
  float in;
  uint16_t bits;
};

TEST(QuantFloatFormats, HalfTable) {
  const HalfCase cases[] = {
      {0.0f, 0x0000},
      {-0.0f, 0x8000},
      {1.0f, 0x3c00},
      {-2.0f, 0xc000},
      {0.1f, 0x2e66},     // 0.0999755859375
      {65504.0f, 0x7bff}, // max finite
      {65519.0f, 0x7bff}, // below the overflow midpoint
      {65520.0f, 0x7c00}, // midpoint 65504|65536: even -> inf
      {1.0e6f, 0x7c00},   // overflow -> inf (IEEE, no saturation)
      {-1.0e6f, 0xfc00},
      {INFINITY, 0x7c00},
      {-INFINITY, 0xfc00},
      {1.0f + 0x1p-11f, 0x3c00},     // tie: 1.0 (m=0, even) wins
      {1.0f + 3 * 0x1p-11f, 0x3c02}, // tie between m=1 and m=2: m=2
      {2049.0f, 0x6800},             // step 2 here: tie -> 2048
      {2051.0f, 0x6802},             // tie -> 2052 (even mantissa)
      {0x1p-14f, 0x0400},            // smallest normal
      {0x1p-24f, 0x0001},            // smallest subnormal
      {0x1p-25f, 0x0000},            // tie 0 | 2^-24: even -> 0
      {1.5f * 0x1p-25f, 0x0001},     // above the tie
      {3 * 0x1p-25f, 0x0002},        // tie 1 | 2 units: even -> 2
      {-0x1p-26f, 0x8000},           // underflow keeps the sign
      {1023 * 0x1p-24f, 0x03ff},     // largest subnormal
  };
  for (const HalfCase &c : cases) {
    EXPECT_EQ(floatToHalf(c.in), c.bits) << "input " << c.in;
    if ((c.bits & 0x7c00) != 0x7c00)
      EXPECT_EQ(halfToFloat(c.bits), roundToHalf(c.in));
  }
  EXPECT_EQ(floatToHalf(NAN) & 0x7fff, 0x7e00);
  EXPECT_TRUE(std::isnan(halfToFloat(0x7e00)));
  EXPECT_EQ(halfToFloat(0x7c00), INFINITY);
  EXPECT_EQ(halfToFloat(0x0001), 0x1p-24f);
  EXPECT_EQ(halfToFloat(0x7bff), 65504.0f);
}

TEST(QuantFloatFormats, HalfRoundTripsEveryCode) {
  for (uint32_t bits = 0; bits <= 0xffff; ++bits) {
    uint16_t b = static_cast<uint16_t>(bits);
    float v = halfToFloat(b);
    if (std::isnan(v))
      continue;
    ASSERT_EQ(floatToHalf(v), b) << "code " << bits;
  }
}

#if defined(__FLT16_MAX__)
// The compiler's own float -> _Float16 conversion (libgcc/compiler-rt,
// IEEE round-to-nearest-even) is an independent oracle.
TEST(QuantFloatFormats, HalfMatchesCompilerConversion) {
  std::mt19937 rng(7);
  std::uniform_int_distribution<uint32_t> any;
  int checked = 0;
  for (int i = 0; i < 200000; ++i) {
    uint32_t raw = any(rng);
    // Focus on magnitudes near fp16's range (exponents 100..150).
    raw = (raw & 0x807fffffu) | ((100u + raw % 51u) << 23);
    float x;
    std::memcpy(&x, &raw, sizeof x);
    _Float16 h = static_cast<_Float16>(x);
    uint16_t expected;
    std::memcpy(&expected, &h, sizeof expected);
    ASSERT_EQ(floatToHalf(x), expected) << "input " << x;
    ++checked;
  }
  EXPECT_EQ(checked, 200000);
}
#else
TEST(QuantFloatFormats, HalfMatchesCompilerConversion) {
  GTEST_SKIP() << "this compiler has no _Float16 to compare against; the "
                  "hand tables and round trips still cover fp16";
}
#endif

struct E4M3Case {
  float in;
  uint8_t bits;
};

TEST(QuantFloatFormats, E4M3Table) {
  const E4M3Case cases[] = {
      {0.0f, 0x00},
      {-0.0f, 0x80},
      {1.0f, 0x38},
      {-1.0f, 0xb8},
      {2.0f, 0x40},
      {1.0625f, 0x38}, // tie 1.0 | 1.125: even -> 1.0
      {1.1875f, 0x3a}, // tie 1.125 | 1.25: even -> 1.25
      {17.0f, 0x58},   // step 2 here: tie -> 16
      {240.0f, 0x77},  // 1.875 * 2^7
      {448.0f, 0x7e},  // max finite
      {-448.0f, 0xfe},
      {460.0f, 0x7e}, // rounds down to 448
      {464.0f, 0x7e}, // tie 448 | 480: even -> 448
      {470.0f, 0x7e}, // would round to 480: saturates
      {1.0e9f, 0x7e}, // saturates, no inf
      {INFINITY, 0x7e},
      {-INFINITY, 0xfe},
      {0x1p-6f, 0x08},       // smallest
                             // normal
      {0x1p-9f, 0x01},       // smallest subnormal
      {7 * 0x1p-9f, 0x07},   // largest subnormal
      {0x1p-10f, 0x00},      // tie 0 | 2^-9: even -> 0
      {3 * 0x1p-10f, 0x02},  // tie 1 | 2 units: even -> 2
      {15 * 0x1p-10f, 0x08}, // tie 7 | 8 units rounds up into the normals
      {0x1p-12f, 0x00},      // underflow
  };
  for (const E4M3Case &c : cases) {
    EXPECT_EQ(floatToE4M3(c.in), c.bits) << "input " << c.in;
    EXPECT_EQ(e4m3ToFloat(c.bits), roundToE4M3(c.in)) << "input " << c.in;
  }
  EXPECT_EQ(floatToE4M3(NAN) & 0x7f, 0x7f);
  EXPECT_TRUE(std::isnan(e4m3ToFloat(0x7f)));
  EXPECT_TRUE(std::isnan(e4m3ToFloat(0xff)));
  EXPECT_EQ(e4m3ToFloat(0x7e), 448.0f);
  EXPECT_EQ(e4m3ToFloat(0x01), 0x1p-9f);
  EXPECT_EQ(e4m3ToFloat(0x3f), 1.875f);
}

TEST(QuantFloatFormats, E4M3RoundTripsEveryCodeAndIsMonotonic) {
  float previous = -1.0f;
  for (uint32_t bits = 0; bits < 256; ++bits) {
    uint8_t b = static_cast<uint8_t>(bits);
    float v = e4m3ToFloat(b);
    if (std::isnan(v))
      continue;
    EXPECT_EQ(floatToE4M3(v), b) << "code " << bits;
    if (bits < 0x7f) { // positive codes increase with the value
      EXPECT_GT(v, previous) << "code " << bits;
      previous = v;
    }
  }
  // Midpoints between neighbours go to the even code.
  for (uint32_t bits = 0; bits < 0x7e; ++bits) {
    float lo = e4m3ToFloat(static_cast<uint8_t>(bits));
    float hi = e4m3ToFloat(static_cast<uint8_t>(bits + 1));
    float mid = 0.5f * (lo + hi);
    uint8_t expected = static_cast<uint8_t>((bits % 2 == 0) ? bits : bits + 1);
    EXPECT_EQ(floatToE4M3(mid), expected) << "midpoint of " << bits;
  }
}

TEST(QuantFloatFormats, E2M1Table) {
  const float values[16] = {0.0f,  0.5f,  1.0f,  1.5f,  2.0f,  3.0f,
                            4.0f,  6.0f,  -0.0f, -0.5f, -1.0f, -1.5f,
                            -2.0f, -3.0f, -4.0f, -6.0f};
  for (uint8_t code = 0; code < 16; ++code) {
    EXPECT_EQ(e2m1ToFloat(code), values[code]) << "code " << int(code);
    EXPECT_EQ(std::signbit(e2m1ToFloat(code)), code >= 8);
    EXPECT_EQ(floatToE2M1(values[code]), code);
  }
  struct Case {
    float in;
    uint8_t code;
  };
  const Case cases[] = {
      {0.25f, 0x0},                // tie 0 | 0.5: even (0) wins
      {0.26f, 0x1},  {0.75f, 0x2}, // tie 0.5 | 1.0: 1.0 has the even mantissa
      {1.25f, 0x2},                // tie 1.0 | 1.5 -> 1.0
      {1.75f, 0x4},                // tie 1.5 | 2.0 -> 2.0
      {2.5f, 0x4},                 // tie 2 | 3 -> 2
      {3.5f, 0x6},                 // tie 3 | 4 -> 4
      {5.0f, 0x6},                 // tie 4 | 6 -> 4
      {5.01f, 0x7},  {7.0f, 0x7},  // saturates
      {100.0f, 0x7}, {INFINITY, 0x7}, {-INFINITY, 0xf},
      {-2.5f, 0xc},  {-0.1f, 0x8}, // rounds to -0
      {NAN, 0x0},
  };
  for (const Case &c : cases)
    EXPECT_EQ(floatToE2M1(c.in), c.code) << "input " << c.in;
  EXPECT_EQ(e2m1ToFloat(0xf7), 6.0f) << "upper nibble must be ignored";
}

} // namespace
