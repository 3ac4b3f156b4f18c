//===- SmoothTest.cpp - SmoothQuant scales and alpha search -----*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// Hand values of s_j, the zero guards, the migration of outlier magnitude
// from activations to weights, invariance of X W^T, and the alpha search.
//
//===----------------------------------------------------------------------===//

#include "kiln/quant/Smooth.h"

#include "kiln/quant/Metrics.h"

#include "TestUtil.h"

#include <algorithm>

using namespace kiln;
using namespace kiln::quant;
using namespace kiln::quant::test;

namespace {

TEST(QuantSmooth, ScalesHandValuesAndGuards) {
  std::vector<float> act = {16, 0, 5, 16}, weight = {4, 3, 0, 4};
  KILN_ASSERT_OK_AND_ASSIGN(half, computeSmoothScales(act, weight, 0.5));
  EXPECT_FLOAT_EQ(half[0], 2.0f); // sqrt(16) / sqrt(4)
  EXPECT_EQ(half[1], 1.0f);       // activation max 0
  EXPECT_EQ(half[2], 1.0f);       // weight max 0
  KILN_ASSERT_OK_AND_ASSIGN(one, computeSmoothScales(act, weight, 1.0));
  EXPECT_FLOAT_EQ(one[0], 16.0f);
  KILN_ASSERT_OK_AND_ASSIGN(zero, computeSmoothScales(act, weight, 0.0));
  EXPECT_FLOAT_EQ(zero[0], 0.25f);
  EXPECT_FALSE(computeSmoothScales(act, weight, 1.5).succeeded());
  EXPECT_FALSE(computeSmoothScales(act, {1, 2}, 0.5).succeeded());
  Result<std::vector<float>> bad = computeSmoothScales({-1}, {1}, 0.5);
  ASSERT_FALSE(bad.succeeded());
  EXPECT_NE(bad.status().str().find("channel 0 has an invalid maximum"),
            std::string::npos);
}

TEST(QuantSmooth, MovesOutlierMagnitudeIntoWeights) {
  const std::vector<int64_t> outliers = {3, 40, 77};
  Matrix x = withOutlierColumns(randomMatrix(64, 128, 21), outliers, 50.0f);
  Matrix w = randomMatrix(32, 128, 22, 0.1f);
  std::vector<float> actMax = columnAbsMax(x), weightMax = columnAbsMax(w);
  KILN_ASSERT_OK_AND_ASSIGN(s, computeSmoothScales(actMax, weightMax, 0.5));
  KILN_ASSERT_OK_AND_ASSIGN(xs, smoothActivations(x, s));
  KILN_ASSERT_OK_AND_ASSIGN(ws, smoothWeights(w, s));
  std::vector<float> xsMax = columnAbsMax(xs), wsMax = columnAbsMax(ws);

  // alpha = 0.5 balances every channel: max|X'_j| = max|W'_j| =
  // sqrt(max|X_j| max|W_j|) (float rounding only).
  for (int64_t j = 0; j < 128; ++j) {
    float balanced = std::sqrt(actMax[j] * weightMax[j]);
    EXPECT_NEAR(xsMax[j], balanced, 1e-5f * balanced) << j;
    EXPECT_NEAR(wsMax[j], balanced, 1e-5f * balanced) << j;
  }
  // The outlier channels' share of the activation range shrinks by about
  // sqrt(50); the weights pick it up.
  auto ratio = [&](const std::vector<float> &m) {
    std::vector<float> sorted = m;
    std::sort(sorted.begin(), sorted.end());
    return sorted.back() / sorted[sorted.size() / 2];
  };
  EXPECT_GT(ratio(actMax), 40.0f);
  EXPECT_LT(ratio(xsMax), ratio(actMax) / 4.0f);
  EXPECT_GT(ratio(wsMax), ratio(weightMax));
  // The product is unchanged up to float rounding.
  KILN_ASSERT_OK_AND_ASSIGN(y, matmulTransposed(x, w));
  KILN_ASSERT_OK_AND_ASSIGN(ys, matmulTransposed(xs, ws));
  EXPECT_GT(sqnrDb(y.data.data(), ys.data.data(), y.data.size()), 120.0);
}

TEST(QuantSmooth, AlphaSearchBeatsUnsmoothedW4A4) {
  Matrix x = withOutlierColumns(randomMatrix(64, 128, 31), {5, 70}, 30.0f);
  Matrix w = randomMatrix(48, 128, 32, 0.1f);
  QuantSpec spec = QuantSpec::int4GroupSym(64);
  KILN_ASSERT_OK_AND_ASSIGN(best, searchSmoothAlpha(x, w, spec, spec));
  ASSERT_EQ(best.alphas.size(), 21u);
  ASSERT_EQ(best.errors.size(), 21u);
  EXPECT_DOUBLE_EQ(best.alphas[1], 0.05);
  double minError = *std::min_element(best.errors.begin(), best.errors.end());
  EXPECT_EQ(best.error, minError);
  EXPECT_GT(best.alpha, 0.0);
  EXPECT_LT(best.alpha, 1.0);

  KILN_ASSERT_OK_AND_ASSIGN(y, matmulTransposed(x, w));
  KILN_ASSERT_OK_AND_ASSIGN(yRtn, quantizedLinear(x, w, spec, spec));
  double rtnError =
      meanSquaredError(y.data.data(), yRtn.data.data(), y.data.size());
  EXPECT_LT(best.error, 0.5 * rtnError);
  std::printf("[ smooth   ] W4A4 g64: rtn mse %.4g, best alpha %.2f mse %.4g\n",
              rtnError, best.alpha, best.error);
}

TEST(QuantSmooth, RejectsMismatchedScales) {
  Matrix x(2, 3, 1.0f);
  Result<Matrix> r = smoothActivations(x, {1.0f, 2.0f});
  ASSERT_FALSE(r.succeeded());
  EXPECT_NE(r.status().str().find("expected 3 smoothing scales, got 2"),
            std::string::npos);
  EXPECT_FALSE(smoothWeights(x, {1.0f, 0.0f, 1.0f}).succeeded());
}

} // namespace
