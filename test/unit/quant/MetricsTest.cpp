//===- MetricsTest.cpp - SQNR, cosine, MSE, max abs error -------*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// Hand-computed values of the error metrics and their edge cases.
//
//===----------------------------------------------------------------------===//

#include "kiln/quant/Metrics.h"

#include <gtest/gtest.h>

#include <cmath>

using namespace kiln;
using namespace kiln::quant;

namespace {

TEST(QuantMetrics, HandValues) {
  const float ref[4] = {1, 1, 1, 1};
  const float x[4] = {1.1f, 0.9f, 1.1f, 0.9f};
  // signal 4, noise 4 * 0.01 -> 20 dB.
  EXPECT_NEAR(sqnrDb(ref, x, 4), 20.0, 1e-5);
  EXPECT_NEAR(meanSquaredError(ref, x, 4), 0.01, 1e-8);
  EXPECT_NEAR(maxAbsError(ref, x, 4), 0.1, 1e-7);
  const float a[2] = {1, 0}, b[2] = {0, 3}, c[2] = {2, 0};
  EXPECT_DOUBLE_EQ(cosineSimilarity(a, b, 2), 0.0);
  EXPECT_DOUBLE_EQ(cosineSimilarity(a, c, 2), 1.0);
}

TEST(QuantMetrics, EdgeCases) {
  const float zero[2] = {0, 0}, one[2] = {1, 1};
  EXPECT_EQ(sqnrDb(one, one, 2), INFINITY);
  EXPECT_EQ(sqnrDb(zero, one, 2), -INFINITY);
  EXPECT_EQ(cosineSimilarity(zero, zero, 2), 1.0);
  EXPECT_EQ(cosineSimilarity(zero, one, 2), 0.0);
  EXPECT_EQ(meanSquaredError(one, one, 0), 0.0);
}

TEST(QuantMetrics, CompareMatricesChecksShapes) {
  Matrix a(2, 3, 1.0f), b(3, 2, 1.0f), c(2, 3, 1.0f);
  EXPECT_FALSE(compareMatrices(a, b).succeeded());
  Result<ErrorStats> s = compareMatrices(a, c);
  ASSERT_TRUE(s.succeeded());
  EXPECT_EQ(s->sqnrDb, INFINITY);
  EXPECT_EQ(s->cosine, 1.0);
  EXPECT_EQ(s->mse, 0.0);
}

} // namespace
