//===- Int8Test.cpp - Int8 per-channel, per-token and affine ----*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// Symmetric per-row int8 (weights per output channel, activations per
// token) and TFLite-style asymmetric activation parameters.
//
//===----------------------------------------------------------------------===//

#include "kiln/quant/Int8.h"

#include "TestUtil.h"

using namespace kiln;
using namespace kiln::quant;
using namespace kiln::quant::test;

namespace {

TEST(QuantInt8, PerRowHandExample) {
  // Row 0: scale 1, ties round away from zero. Row 1: all zero -> scale 1.
  Matrix m(2, 4, std::vector<float>{127, 2.5f, -2.5f, 0.5f, 0, 0, 0, 0});
  KILN_ASSERT_OK_AND_ASSIGN(q, quantizeInt8PerRow(m));
  EXPECT_EQ(q.scales[0], 1.0f);
  EXPECT_EQ(q.scales[1], 1.0f);
  std::vector<int8_t> expected = {127, 3, -3, 1, 0, 0, 0, 0};
  EXPECT_EQ(q.values, expected);
}

TEST(QuantInt8, PerChannelWeightsStayInRangeWithinHalfAStep) {
  Matrix w = randomMatrix(32, 96, 1, 0.05f);
  w.at(3, 7) = 2.0f; // an outlier channel
  KILN_ASSERT_OK_AND_ASSIGN(q, quantizeWeightsInt8PerChannel(w));
  Matrix d = q.dequantize();
  for (int64_t r = 0; r < w.rows; ++r) {
    float amax = 0.0f;
    int maxCode = 0;
    for (int64_t c = 0; c < w.cols; ++c) {
      amax = std::fmax(amax, std::fabs(w.at(r, c)));
      int v = q.values[r * w.cols + c];
      ASSERT_GE(v, -127);
      ASSERT_LE(v, 127);
      maxCode = std::max(maxCode, std::abs(v));
      // Tolerance: half a step plus float32 rounding of the product.
      EXPECT_LE(std::fabs(d.at(r, c) - w.at(r, c)),
                0.5f * q.scales[r] * (1.0f + 1e-5f));
    }
    EXPECT_EQ(q.scales[r], amax / 127.0f);
    EXPECT_EQ(maxCode, 127) << "the row maximum must map to +-127";
  }
}

TEST(QuantInt8, PerTokenActivationsAreAlsoPerRow) {
  Matrix x = randomMatrix(8, 64, 2);
  KILN_ASSERT_OK_AND_ASSIGN(a, quantizeActivationsInt8PerToken(x));
  KILN_ASSERT_OK_AND_ASSIGN(b, quantizeInt8PerRow(x, 127));
  EXPECT_EQ(a.values, b.values);
  EXPECT_EQ(a.scales, b.scales);
  EXPECT_EQ(a.scales.size(), 8u);
}

TEST(QuantInt8, ProtectiveRangeQmax) {
  Matrix w = randomMatrix(4, 32, 3);
  KILN_ASSERT_OK_AND_ASSIGN(q, quantizeInt8PerRow(w, 119));
  for (int8_t v : q.values) {
    EXPECT_GE(v, -119);
    EXPECT_LE(v, 119);
  }
}

TEST(QuantInt8, RejectsBadInput) {
  Matrix w(2, 2, std::vector<float>{1, NAN, 2, 3});
  Result<Int8PerRow> q = quantizeInt8PerRow(w);
  ASSERT_FALSE(q.succeeded());
  EXPECT_NE(q.status().str().find("non-finite value at row 0, column 1"),
            std::string::npos)
      << q.status().str();
  Matrix ok(1, 2, 1.0f);
  Result<Int8PerRow> bad = quantizeInt8PerRow(ok, 128);
  ASSERT_FALSE(bad.succeeded());
  EXPECT_NE(bad.status().str().find("qmax must be in [1, 127]"),
            std::string::npos);
}

struct AffineCase {
  float rmin, rmax;
  float scale;
  int32_t zeroPoint;
};

TEST(QuantInt8, AffineParamsFollowTflite) {
  const AffineCase cases[] = {
      // [-1, 1]: zero point -0.5 from the max end (smaller error), nudged
      // half away from zero to -1.
      {-1.0f, 1.0f, static_cast<float>(2.0 / 255.0), -1},
      // ReLU6 output: zero at the bottom of the range.
      {0.0f, 6.0f, static_cast<float>(6.0 / 255.0), -128},
      // A positive range is widened to include 0.
      {2.0f, 5.0f, static_cast<float>(5.0 / 255.0), -128},
      // A negative range: zero at the top.
      {-3.0f, -1.0f, static_cast<float>(3.0 / 255.0), 127},
      // All zero: unit scale.
      {0.0f, 0.0f, 1.0f, 0},
  };
  for (const AffineCase &c : cases) {
    KILN_ASSERT_OK_AND_ASSIGN(p, chooseAffineInt8Params(c.rmin, c.rmax));
    EXPECT_EQ(p.scale, c.scale) << c.rmin << ".." << c.rmax;
    EXPECT_EQ(p.zeroPoint, c.zeroPoint) << c.rmin << ".." << c.rmax;
    // 0.0 is exactly representable.
    EXPECT_EQ(quantizeAffine(0.0f, p), p.zeroPoint);
    EXPECT_EQ(dequantizeAffine(static_cast<int8_t>(p.zeroPoint), p), 0.0f);
  }
}

TEST(QuantInt8, AffineQuantizeSaturatesAndRoundTrips) {
  KILN_ASSERT_OK_AND_ASSIGN(p, chooseAffineInt8Params(-2.0f, 6.0f));
  EXPECT_EQ(quantizeAffine(1000.0f, p), 127);
  EXPECT_EQ(quantizeAffine(-1000.0f, p), -128);
  for (float x = -2.0f; x <= 6.0f; x += 0.01f) {
    float back = dequantizeAffine(quantizeAffine(x, p), p);
    EXPECT_LE(std::fabs(back - x), 0.5f * p.scale * (1.0f + 1e-5f) + 1e-6f)
        << x;
  }
}

TEST(QuantInt8, AffineRejectsBadRange) {
  EXPECT_FALSE(chooseAffineInt8Params(1.0f, -1.0f).succeeded());
  Result<AffineParams> p = chooseAffineInt8Params(NAN, 1.0f);
  ASSERT_FALSE(p.succeeded());
  EXPECT_NE(p.status().str().find("must be finite"), std::string::npos);
}

} // namespace
