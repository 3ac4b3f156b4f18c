//===- Metrics.cpp - Error metrics of quantized results ---------*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// SQNR, cosine similarity, MSE and max absolute error, accumulated in double
// in index order so that the figures are reproducible across hosts.
//
//===----------------------------------------------------------------------===//

#include "kiln/quant/Metrics.h"

#include <cmath>
#include <limits>

namespace kiln::quant {

double sqnrDb(const float *ref, const float *x, size_t n) {
  double signal = 0.0, noise = 0.0;
  for (size_t i = 0; i < n; ++i) {
    double r = ref[i];
    double d = r - static_cast<double>(x[i]);
    signal += r * r;
    noise += d * d;
  }
  if (noise == 0.0)
    return std::numeric_limits<double>::infinity();
  if (signal == 0.0)
    return -std::numeric_limits<double>::infinity();
  return 10.0 * std::log10(signal / noise);
}

double cosineSimilarity(const float *ref, const float *x, size_t n) {
  double dot = 0.0, rr = 0.0, xx = 0.0;
  for (size_t i = 0; i < n; ++i) {
    double r = ref[i], v = x[i];
    dot += r * v;
    rr += r * r;
    xx += v * v;
  }
  if (rr == 0.0 && xx == 0.0)
    return 1.0;
  if (rr == 0.0 || xx == 0.0)
    return 0.0;
  // sqrt(rr * xx) (not sqrt(rr) * sqrt(xx)) makes identical inputs give
  // exactly 1; the clamp absorbs rounding just outside [-1, 1].
  return std::fmax(-1.0, std::fmin(1.0, dot / std::sqrt(rr * xx)));
}

double meanSquaredError(const float *ref, const float *x, size_t n) {
  if (n == 0)
    return 0.0;
  double sum = 0.0;
  for (size_t i = 0; i < n; ++i) {
    double d = static_cast<double>(ref[i]) - static_cast<double>(x[i]);
    sum += d * d;
  }
  return sum / static_cast<double>(n);
}

double maxAbsError(const float *ref, const float *x, size_t n) {
  double worst = 0.0;
  for (size_t i = 0; i < n; ++i)
    worst = std::fmax(worst, std::fabs(static_cast<double>(ref[i]) -
                                       static_cast<double>(x[i])));
  return worst;
}

Result<ErrorStats> compareMatrices(MatrixRef ref, MatrixRef approx) {
  if (ref.rows != approx.rows || ref.cols != approx.cols)
    return Status::error("cannot compare a " + std::to_string(ref.rows) + "x" +
                         std::to_string(ref.cols) + " reference with a " +
                         std::to_string(approx.rows) + "x" +
                         std::to_string(approx.cols) + " result");
  size_t n = static_cast<size_t>(ref.size());
  ErrorStats stats;
  stats.sqnrDb = sqnrDb(ref.data, approx.data, n);
  stats.cosine = cosineSimilarity(ref.data, approx.data, n);
  stats.mse = meanSquaredError(ref.data, approx.data, n);
  stats.maxAbs = maxAbsError(ref.data, approx.data, n);
  return stats;
}

} // namespace kiln::quant
