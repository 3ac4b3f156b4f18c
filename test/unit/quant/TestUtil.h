//===- TestUtil.h - Shared helpers of the KilnQuantMath tests ---*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// Deterministic random matrices (fixed-seed mt19937) and small assertions
// shared by the quantization unit tests.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_TEST_UNIT_QUANT_TESTUTIL_H
#define KILN_TEST_UNIT_QUANT_TESTUTIL_H

#include "kiln/quant/Matrix.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

namespace kiln::quant::test {

/// Returns a rows x cols matrix of N(0, stddev^2) values from |seed|.
inline Matrix randomMatrix(int64_t rows, int64_t cols, uint32_t seed,
                           float stddev = 1.0f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, stddev);
  Matrix m(rows, cols);
  for (float &v : m.data)
    v = dist(rng);
  return m;
}

/// Returns |m| with the listed columns multiplied by |factor| (activation
/// outlier channels as they appear in transformer layers).
inline Matrix withOutlierColumns(Matrix m, const std::vector<int64_t> &cols,
                                 float factor) {
  for (int64_t r = 0; r < m.rows; ++r)
    for (int64_t c : cols)
      m.at(r, c) *= factor;
  return m;
}

/// Returns the Frobenius norm of |m|.
inline double frobenius(MatrixRef m) {
  double sum = 0.0;
  for (int64_t i = 0; i < m.size(); ++i)
    sum += static_cast<double>(m.data[i]) * m.data[i];
  return std::sqrt(sum);
}

/// Returns ||a - b||_F (shapes must match).
inline double frobeniusDiff(MatrixRef a, MatrixRef b) {
  double sum = 0.0;
  for (int64_t i = 0; i < a.size(); ++i) {
    double d = static_cast<double>(a.data[i]) - b.data[i];
    sum += d * d;
  }
  return std::sqrt(sum);
}

/// Unwraps a Result in a test, failing with its diagnostics.
#define KILN_ASSERT_OK_AND_ASSIGN(lhs, expr)                                   \
  auto lhs##Result = (expr);                                                   \
  ASSERT_TRUE(lhs##Result.succeeded()) << lhs##Result.status().str();          \
  auto lhs = lhs##Result.take()

} // namespace kiln::quant::test

#endif // KILN_TEST_UNIT_QUANT_TESTUTIL_H
