//===- Smooth.cpp - SmoothQuant scales and alpha search ---------*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// SmoothQuant's per-channel scales, their application to activations and
// weights, and the per-layer alpha grid search on calibration data.
//
//===----------------------------------------------------------------------===//

#include "kiln/quant/Smooth.h"

#include "kiln/quant/Metrics.h"

#include <cmath>

namespace kiln::quant {

std::vector<float> columnAbsMax(MatrixRef m) {
  std::vector<float> maxima(static_cast<size_t>(m.cols > 0 ? m.cols : 0), 0.0f);
  for (int64_t r = 0; r < m.rows; ++r)
    for (int64_t c = 0; c < m.cols; ++c)
      maxima[c] = std::fmax(maxima[c], std::fabs(m.at(r, c)));
  return maxima;
}

Result<std::vector<float>>
computeSmoothScales(const std::vector<float> &actAbsMax,
                    const std::vector<float> &weightAbsMax, double alpha) {
  if (actAbsMax.size() != weightAbsMax.size())
    return Status::error("smoothing needs one activation and one weight "
                         "maximum per channel, got " +
                         std::to_string(actAbsMax.size()) + " and " +
                         std::to_string(weightAbsMax.size()));
  if (!(alpha >= 0.0 && alpha <= 1.0))
    return Status::error("smoothing alpha must be in [0, 1], got " +
                         std::to_string(alpha));
  std::vector<float> s(actAbsMax.size(), 1.0f);
  for (size_t j = 0; j < s.size(); ++j) {
    double a = actAbsMax[j], w = weightAbsMax[j];
    if (!std::isfinite(a) || !std::isfinite(w) || a < 0.0 || w < 0.0)
      return Status::error("channel " + std::to_string(j) +
                           " has an invalid maximum (activation " +
                           std::to_string(a) + ", weight " + std::to_string(w) +
                           ")");
    if (a == 0.0 || w == 0.0)
      continue;
    float v = static_cast<float>(std::pow(a, alpha) / std::pow(w, 1.0 - alpha));
    if (std::isfinite(v) && v > 0.0f)
      s[j] = v;
  }
  return s;
}

/// Returns an error unless |s| has one positive finite entry per column of
/// a |cols|-column matrix.
static Status checkScales(const std::vector<float> &s, int64_t cols) {
  if (static_cast<int64_t>(s.size()) != cols)
    return Status::error("expected " + std::to_string(cols) +
                         " smoothing scales, got " + std::to_string(s.size()));
  for (size_t j = 0; j < s.size(); ++j)
    if (!(std::isfinite(s[j]) && s[j] > 0.0f))
      return Status::error("smoothing scale " + std::to_string(j) +
                           " must be positive and finite, got " +
                           std::to_string(s[j]));
  return Status::ok();
}

Result<Matrix> smoothActivations(MatrixRef x, const std::vector<float> &s) {
  if (Status st = checkScales(s, x.cols); !st)
    return st;
  Matrix out(x.rows, x.cols);
  for (int64_t r = 0; r < x.rows; ++r)
    for (int64_t c = 0; c < x.cols; ++c)
      out.at(r, c) = x.at(r, c) / s[c];
  return out;
}

Result<Matrix> smoothWeights(MatrixRef w, const std::vector<float> &s) {
  if (Status st = checkScales(s, w.cols); !st)
    return st;
  Matrix out(w.rows, w.cols);
  for (int64_t r = 0; r < w.rows; ++r)
    for (int64_t c = 0; c < w.cols; ++c)
      out.at(r, c) = w.at(r, c) * s[c];
  return out;
}

std::vector<double> defaultAlphaGrid() {
  std::vector<double> grid;
  for (int i = 0; i <= 20; ++i)
    grid.push_back(i / 20.0);
  return grid;
}

Result<AlphaSearchResult> searchSmoothAlpha(MatrixRef x, MatrixRef w,
                                            const QuantizedLayerFn &layer,
                                            const std::vector<double> &alphas) {
  if (Status st = checkMatrix(x, "calibration activations"); !st)
    return st;
  if (Status st = checkMatrix(w, "weights"); !st)
    return st;
  if (alphas.empty())
    return Status::error("the alpha grid is empty");
  Result<Matrix> reference = matmulTransposed(x, w);
  if (!reference)
    return reference.status();
  std::vector<float> actMax = columnAbsMax(x);
  std::vector<float> weightMax = columnAbsMax(w);

  AlphaSearchResult result;
  bool found = false;
  for (double alpha : alphas) {
    Result<std::vector<float>> s =
        computeSmoothScales(actMax, weightMax, alpha);
    if (!s)
      return s.status();
    Result<Matrix> xs = smoothActivations(x, *s);
    if (!xs)
      return xs.status();
    Result<Matrix> ws = smoothWeights(w, *s);
    if (!ws)
      return ws.status();
    Result<Matrix> y = layer(*xs, *ws);
    if (!y)
      return y.status();
    Result<ErrorStats> stats = compareMatrices(*reference, *y);
    if (!stats)
      return stats.status();
    result.alphas.push_back(alpha);
    result.errors.push_back(stats->mse);
    if (!found || stats->mse < result.error) {
      found = true;
      result.alpha = alpha;
      result.error = stats->mse;
      result.scales = s.take();
    }
  }
  return result;
}

Result<Matrix> quantizedLinear(MatrixRef x, MatrixRef w,
                               const QuantSpec &weightSpec,
                               const QuantSpec &actSpec) {
  Result<Matrix> xq = fakeQuantize(x, actSpec);
  if (!xq)
    return xq.status();
  Result<Matrix> wq = fakeQuantize(w, weightSpec);
  if (!wq)
    return wq.status();
  return matmulTransposed(*xq, *wq);
}

Result<AlphaSearchResult> searchSmoothAlpha(MatrixRef x, MatrixRef w,
                                            const QuantSpec &weightSpec,
                                            const QuantSpec &actSpec,
                                            const std::vector<double> &alphas) {
  QuantizedLayerFn layer = [&](MatrixRef xs, MatrixRef ws) {
    return quantizedLinear(xs, ws, weightSpec, actSpec);
  };
  return searchSmoothAlpha(x, w, layer, alphas);
}

} // namespace kiln::quant
