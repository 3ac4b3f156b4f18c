//===- Qoq.cpp - QoQ W4A8KV4: progressive weights, SmoothAttention -*- C++ -*-//
// SPDX-License-Identifier: Apache-2.0
//
// Two-level (int8 per channel, then uint4 per group on the int8 values)
// weight quantization with integer-only dequantization, the W4A8 forward
// emulation, SmoothAttention's key scales and their folding, and the 4-bit
// KV-cache quantizer.
//
//===----------------------------------------------------------------------===//

#include "kiln/quant/Qoq.h"

#include "kiln/quant/Int8.h"

#include <algorithm>
#include <cmath>

namespace kiln::quant {

/// Returns a / b rounded half away from zero, exactly (b > 0).
static int32_t divRoundHalfAway(int32_t a, int32_t b) {
  if (a >= 0)
    return (2 * a + b) / (2 * b);
  return -((-2 * a + b) / (2 * b));
}

QoqGroupParams chooseQoqGroupParams(int32_t lo, int32_t hi) {
  lo = std::min(lo, 0);
  hi = std::max(hi, 0);
  int32_t span = hi - lo;
  int32_t s2 = std::max<int32_t>(1, (span + 14) / 15); // ceil(span / 15)
  int32_t z = std::clamp(divRoundHalfAway(-lo, s2), 0, 15);
  QoqGroupParams p;
  p.scale = static_cast<uint8_t>(s2);
  p.zero = static_cast<uint8_t>(z);
  p.scaledZero = static_cast<uint8_t>(z * s2);
  return p;
}

uint8_t quantizeQoqValue(int32_t q8, const QoqGroupParams &params) {
  return static_cast<uint8_t>(
      std::clamp(divRoundHalfAway(q8, params.scale) + params.zero, 0, 15));
}

int8_t dequantizeQoqValue(uint8_t q4, const QoqGroupParams &params) {
  // Both products fit in 8 bits (<= 240); the difference is taken modulo 256
  // exactly as a SIMD-within-a-register kernel does, then read as int8.
  uint8_t product = static_cast<uint8_t>(q4 * params.scale);
  uint8_t diff = static_cast<uint8_t>(product - params.scaledZero);
  return static_cast<int8_t>(diff);
}

std::vector<int8_t> QoqWeights::int8Values() const {
  std::vector<int8_t> out(values.size());
  const int64_t groupsRow = groupsPerRow();
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c)
      out[r * cols + c] = dequantizeQoqValue(
          values[r * cols + c], groups[r * groupsRow + c / groupSize]);
  return out;
}

Matrix QoqWeights::dequantize() const {
  std::vector<int8_t> q8 = int8Values();
  Matrix m(rows, cols);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c)
      m.at(r, c) = static_cast<float>(q8[r * cols + c]) * channelScales[r];
  return m;
}

Result<QoqWeights> quantizeQoqWeights(MatrixRef w, int64_t groupSize) {
  if (Status st = checkGroupSize(w.cols, groupSize); !st)
    return st;
  Result<Int8PerRow> level1 = quantizeInt8PerRow(w, kQoqProtectiveRange);
  if (!level1)
    return level1.status();
  QoqWeights q;
  q.rows = w.rows;
  q.cols = w.cols;
  q.groupSize = groupSize;
  q.channelScales = level1->scales;
  q.values.resize(static_cast<size_t>(w.size()));
  const int64_t groupsRow = q.groupsPerRow();
  q.groups.resize(static_cast<size_t>(w.rows * groupsRow));
  for (int64_t r = 0; r < w.rows; ++r) {
    for (int64_t g = 0; g < groupsRow; ++g) {
      const int8_t *q8 = level1->values.data() + r * w.cols + g * groupSize;
      int32_t lo = 0, hi = 0;
      for (int64_t i = 0; i < groupSize; ++i) {
        lo = std::min<int32_t>(lo, q8[i]);
        hi = std::max<int32_t>(hi, q8[i]);
      }
      QoqGroupParams p = chooseQoqGroupParams(lo, hi);
      q.groups[r * groupsRow + g] = p;
      for (int64_t i = 0; i < groupSize; ++i)
        q.values[r * w.cols + g * groupSize + i] = quantizeQoqValue(q8[i], p);
    }
  }
  return q;
}

Result<Matrix> qoqForward(MatrixRef x, const QoqWeights &w) {
  if (x.cols != w.cols)
    return Status::error("qoq activations have " + std::to_string(x.cols) +
                         " channels, the weight " + std::to_string(w.cols));
  Result<Int8PerRow> qa = quantizeActivationsInt8PerToken(x);
  if (!qa)
    return qa.status();
  std::vector<int8_t> q8 = w.int8Values();
  Matrix y(x.rows, w.rows);
  for (int64_t m = 0; m < x.rows; ++m) {
    const int8_t *a = qa->values.data() + m * x.cols;
    for (int64_t n = 0; n < w.rows; ++n) {
      const int8_t *b = q8.data() + n * w.cols;
      // |a * b| <= 127 * 127, so int64 is exact for any K; a kernel's int32
      // accumulator is exact for K < 133,000.
      int64_t acc = 0;
      for (int64_t k = 0; k < x.cols; ++k)
        acc += static_cast<int32_t>(a[k]) * static_cast<int32_t>(b[k]);
      y.at(m, n) =
          static_cast<float>(acc) * (qa->scales[m] * w.channelScales[n]);
    }
  }
  return y;
}

Result<std::vector<float>> smoothAttentionScales(MatrixRef keys,
                                                 int64_t headDim, double alpha,
                                                 RopePairing rope) {
  if (Status st = checkMatrix(keys, "keys"); !st)
    return st;
  if (headDim <= 0 || keys.cols % headDim != 0)
    return Status::error("head dimension " + std::to_string(headDim) +
                         " does not divide the " + std::to_string(keys.cols) +
                         " key channels");
  if (rope != RopePairing::None && headDim % 2 != 0)
    return Status::error("rotary embeddings need an even head dimension, "
                         "got " +
                         std::to_string(headDim));
  if (!(alpha >= 0.0 && alpha <= 1.0))
    return Status::error("smooth-attention alpha must be in [0, 1], got " +
                         std::to_string(alpha));
  std::vector<float> maxima(static_cast<size_t>(keys.cols), 0.0f);
  for (int64_t t = 0; t < keys.rows; ++t)
    for (int64_t j = 0; j < keys.cols; ++j)
      maxima[j] = std::fmax(maxima[j], std::fabs(keys.at(t, j)));
  std::vector<float> lambda(maxima.size(), 1.0f);
  for (int64_t j = 0; j < keys.cols; ++j) {
    int64_t d = j % headDim, base = j - d, partner = j;
    if (rope == RopePairing::HalfSplit)
      partner = base + (d + headDim / 2) % headDim;
    else if (rope == RopePairing::Interleaved)
      partner = base + (d ^ 1);
    double m = std::fmax(maxima[j], maxima[partner]);
    if (m > 0.0) {
      float v = static_cast<float>(std::pow(m, alpha));
      if (std::isfinite(v) && v > 0.0f)
        lambda[j] = v;
    }
  }
  return lambda;
}

Status foldSmoothAttention(Matrix &wq, std::vector<float> *bq, Matrix &wk,
                           std::vector<float> *bk,
                           const std::vector<float> &lambda, int64_t numQHeads,
                           int64_t numKvHeads, int64_t headDim) {
  if (numQHeads <= 0 || numKvHeads <= 0 || headDim <= 0 ||
      numQHeads % numKvHeads != 0)
    return Status::error("expected positive head counts with query heads a "
                         "multiple of key/value heads, got " +
                         std::to_string(numQHeads) + " and " +
                         std::to_string(numKvHeads) + " (head dimension " +
                         std::to_string(headDim) + ")");
  if (wq.rows != numQHeads * headDim || wk.rows != numKvHeads * headDim)
    return Status::error("query/key projections have " +
                         std::to_string(wq.rows) + " and " +
                         std::to_string(wk.rows) + " rows, expected " +
                         std::to_string(numQHeads * headDim) + " and " +
                         std::to_string(numKvHeads * headDim));
  if (static_cast<int64_t>(lambda.size()) != wk.rows)
    return Status::error("expected " + std::to_string(wk.rows) +
                         " smooth-attention scales, got " +
                         std::to_string(lambda.size()));
  if ((bq && static_cast<int64_t>(bq->size()) != wq.rows) ||
      (bk && static_cast<int64_t>(bk->size()) != wk.rows))
    return Status::error("query/key bias lengths do not match their "
                         "projections");
  for (float l : lambda)
    if (!(std::isfinite(l) && l > 0.0f))
      return Status::error("smooth-attention scales must be positive and "
                           "finite, got " +
                           std::to_string(l));
  const int64_t group = numQHeads / numKvHeads;
  for (int64_t row = 0; row < wq.rows; ++row) {
    int64_t h = row / headDim, d = row % headDim;
    float l = lambda[(h / group) * headDim + d];
    for (int64_t c = 0; c < wq.cols; ++c)
      wq.at(row, c) *= l;
    if (bq)
      (*bq)[row] *= l;
  }
  for (int64_t row = 0; row < wk.rows; ++row) {
    for (int64_t c = 0; c < wk.cols; ++c)
      wk.at(row, c) /= lambda[row];
    if (bk)
      (*bk)[row] /= lambda[row];
  }
  return Status::ok();
}

Result<GroupInt4> quantizeKvCache4(MatrixRef kv, int64_t headDim) {
  return quantizeGroupInt4(kv, headDim, Int4Kind::Asymmetric);
}

} // namespace kiln::quant
