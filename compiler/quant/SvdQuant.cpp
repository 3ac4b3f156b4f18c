//===- SvdQuant.cpp - SVDQuant low-rank outlier absorption ------*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// The truncated-SVD split of a weight into fp16 factors plus a residual
// (Eigen BDCSVD in double), and the emulated W4A4 + low-rank forward pass.
//
//===----------------------------------------------------------------------===//

#include "kiln/quant/SvdQuant.h"

#include "kiln/quant/FloatFormats.h"
#include "kiln/quant/Smooth.h"

#include <Eigen/Dense>
#include <Eigen/SVD>

#include <cmath>

namespace kiln::quant {

Result<LowRankSplit> lowRankSplit(MatrixRef w, int64_t rank) {
  if (Status st = checkMatrix(w, "weights"); !st)
    return st;
  const int64_t maxRank = std::min(w.rows, w.cols);
  if (rank < 0 || rank > maxRank)
    return Status::error("low-rank rank must be in [0, " +
                         std::to_string(maxRank) + "] for a " +
                         std::to_string(w.rows) + "x" + std::to_string(w.cols) +
                         " weight, got " + std::to_string(rank));

  Eigen::MatrixXd a(w.rows, w.cols);
  for (int64_t r = 0; r < w.rows; ++r)
    for (int64_t c = 0; c < w.cols; ++c)
      a(r, c) = w.at(r, c);
  Eigen::BDCSVD<Eigen::MatrixXd> svd(a,
                                     Eigen::ComputeThinU | Eigen::ComputeThinV);
  const Eigen::VectorXd &sigma = svd.singularValues();
  const Eigen::MatrixXd &u = svd.matrixU();
  const Eigen::MatrixXd &v = svd.matrixV();

  LowRankSplit split;
  split.singularValues.assign(sigma.data(), sigma.data() + sigma.size());
  split.l1 = Matrix(w.rows, rank);
  split.l2 = Matrix(rank, w.cols);
  for (int64_t n = 0; n < w.rows; ++n)
    for (int64_t i = 0; i < rank; ++i)
      split.l1.at(n, i) = roundToHalf(static_cast<float>(u(n, i) * sigma(i)));
  for (int64_t i = 0; i < rank; ++i)
    for (int64_t k = 0; k < w.cols; ++k)
      split.l2.at(i, k) = roundToHalf(static_cast<float>(v(k, i)));
  for (const Matrix *factor : {&split.l1, &split.l2})
    for (float value : factor->data)
      if (!std::isfinite(value))
        return Status::error("a low-rank factor element overflows fp16 "
                             "(magnitude above 65504); scale the weight "
                             "down or lower the smoothing alpha");

  Matrix product = lowRankProduct(split);
  split.residual = Matrix(w.rows, w.cols);
  for (int64_t i = 0; i < w.rows * w.cols; ++i)
    split.residual.data[i] = static_cast<float>(
        static_cast<double>(w.data[i]) - static_cast<double>(product.data[i]));
  return split;
}

/// Returns ||a - b - c||_F^2 in double.
static double residualError(MatrixRef a, const Matrix &b, const Matrix &c) {
  double sum = 0.0;
  for (int64_t i = 0; i < a.size(); ++i) {
    double d = static_cast<double>(a.data[i]) - b.data[i] - c.data[i];
    sum += d * d;
  }
  return sum;
}

Result<LowRankSplit> refineLowRankSplit(MatrixRef w, int64_t rank,
                                        const ResidualQuantizer &quantize,
                                        int iterations) {
  if (iterations < 0)
    return Status::error("low-rank refinement iterations must be >= 0, got " +
                         std::to_string(iterations));
  Result<LowRankSplit> best = lowRankSplit(w, rank);
  if (!best || rank == 0 || iterations == 0)
    return best;
  Result<Matrix> q = quantize(best->residual);
  if (!q)
    return q.status();
  double bestError = residualError(w, lowRankProduct(*best), *q);
  std::vector<double> sigma = best->singularValues;
  Matrix target(w.rows, w.cols);
  for (int it = 0; it < iterations; ++it) {
    // The low-rank branch absorbs what the quantized residual misses.
    for (int64_t i = 0; i < w.size(); ++i)
      target.data[i] = w.data[i] - q->data[i];
    Result<LowRankSplit> next = lowRankSplit(target, rank);
    if (!next)
      return next.status();
    Matrix product = lowRankProduct(*next);
    for (int64_t i = 0; i < w.size(); ++i)
      next->residual.data[i] = static_cast<float>(
          static_cast<double>(w.data[i]) - product.data[i]);
    q = quantize(next->residual);
    if (!q)
      return q.status();
    double error = residualError(w, product, *q);
    if (error >= bestError)
      break;
    bestError = error;
    best = next.take();
  }
  // Report the spectrum of W itself, not of the last target.
  best->singularValues = std::move(sigma);
  return best;
}

Matrix lowRankProduct(const LowRankSplit &split) {
  const int64_t n = split.l1.rows, k = split.l2.cols, r = split.rank();
  Matrix out(n, k);
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t j = 0; j < k; ++j) {
      double acc = 0.0;
      for (int64_t t = 0; t < r; ++t)
        acc += static_cast<double>(split.l1.at(i, t)) *
               static_cast<double>(split.l2.at(t, j));
      out.at(i, j) = static_cast<float>(acc);
    }
  }
  return out;
}

std::vector<uint16_t> toHalfBits(MatrixRef m) {
  std::vector<uint16_t> bits(static_cast<size_t>(m.size()));
  for (int64_t i = 0; i < m.size(); ++i)
    bits[i] = floatToHalf(m.data[i]);
  return bits;
}

Result<SvdQuantWeights> svdQuantWeights(MatrixRef w, int64_t rank,
                                        const QuantSpec &residualSpec) {
  if (Status st = checkSpec(residualSpec, w.cols); !st)
    return st;
  Result<LowRankSplit> split = lowRankSplit(w, rank);
  if (!split)
    return split.status();
  Result<Matrix> residual = fakeQuantize(split->residual, residualSpec);
  if (!residual)
    return residual.status();
  SvdQuantWeights weights;
  weights.split = split.take();
  weights.residualSpec = residualSpec;
  weights.residualDequantized = residual.take();
  return weights;
}

Result<Matrix> svdQuantForward(MatrixRef x, const SvdQuantWeights &weights,
                               const QuantSpec &actSpec) {
  const LowRankSplit &split = weights.split;
  if (x.cols != split.residual.cols)
    return Status::error("svdquant activations have " + std::to_string(x.cols) +
                         " channels, the weight " +
                         std::to_string(split.residual.cols));
  Result<Matrix> xq = fakeQuantize(x, actSpec);
  if (!xq)
    return xq.status();
  Result<Matrix> y = matmulTransposed(*xq, weights.residualDequantized);
  if (!y)
    return y.status();
  if (split.rank() == 0)
    return y;
  // Down-projection T = X L2^T, then up-projection T L1^T.
  Result<Matrix> t = matmulTransposed(x, split.l2);
  if (!t)
    return t.status();
  Result<Matrix> low = matmulTransposed(*t, split.l1);
  if (!low)
    return low.status();
  return add(*low, *y);
}

Result<SvdQuantLayer> buildSvdQuantLayer(MatrixRef calibration, MatrixRef w,
                                         const SvdQuantOptions &options) {
  if (Status st = checkSpec(options.actSpec, w.cols); !st)
    return st;
  QuantizedLayerFn layer = [&](MatrixRef xs, MatrixRef ws) -> Result<Matrix> {
    Result<SvdQuantWeights> q =
        svdQuantWeights(ws, options.rank, options.weightSpec);
    if (!q)
      return q.status();
    return svdQuantForward(xs, *q, options.actSpec);
  };
  Result<AlphaSearchResult> search =
      searchSmoothAlpha(calibration, w, layer, options.alphaGrid);
  if (!search)
    return search.status();
  Result<Matrix> ws = smoothWeights(w, search->scales);
  if (!ws)
    return ws.status();
  Result<SvdQuantWeights> weights =
      svdQuantWeights(*ws, options.rank, options.weightSpec);
  if (!weights)
    return weights.status();
  SvdQuantLayer result;
  result.alpha = search->alpha;
  result.smoothScales = search->scales;
  result.weights = weights.take();
  result.actSpec = options.actSpec;
  return result;
}

Result<Matrix> svdQuantLayerForward(MatrixRef x, const SvdQuantLayer &layer) {
  Result<Matrix> xs = smoothActivations(x, layer.smoothScales);
  if (!xs)
    return xs.status();
  return svdQuantForward(*xs, layer.weights, layer.actSpec);
}

} // namespace kiln::quant
