//===- Int8.cpp - Int8 quantizers (per-channel, per-token, affine) -*- C++ -*-//
// SPDX-License-Identifier: Apache-2.0
//
// Symmetric per-row int8 quantization and TFLite's asymmetric per-tensor
// parameter choice (ChooseQuantizationParams with a nudged zero point).
//
//===----------------------------------------------------------------------===//

#include "kiln/quant/Int8.h"

#include <cmath>

namespace kiln::quant {

Matrix Int8PerRow::dequantize() const {
  Matrix m(rows, cols);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c)
      m.at(r, c) = static_cast<float>(values[r * cols + c]) * scales[r];
  return m;
}

Result<Int8PerRow> quantizeInt8PerRow(MatrixRef m, int32_t qmax) {
  if (qmax < 1 || qmax > 127)
    return Status::error("int8 qmax must be in [1, 127], got " +
                         std::to_string(qmax));
  if (Status st = checkMatrix(m, "int8 input"); !st)
    return st;
  Int8PerRow q;
  q.rows = m.rows;
  q.cols = m.cols;
  q.qmax = qmax;
  q.values.resize(static_cast<size_t>(m.size()));
  q.scales.resize(static_cast<size_t>(m.rows));
  for (int64_t r = 0; r < m.rows; ++r) {
    const float *row = m.row(r);
    float amax = 0.0f;
    for (int64_t c = 0; c < m.cols; ++c)
      amax = std::fmax(amax, std::fabs(row[c]));
    float scale = amax > 0.0f ? amax / static_cast<float>(qmax) : 1.0f;
    // amax / qmax can underflow to 0 for subnormal rows; keep it usable.
    if (scale == 0.0f)
      scale = 1.0f;
    q.scales[r] = scale;
    for (int64_t c = 0; c < m.cols; ++c)
      q.values[r * m.cols + c] =
          static_cast<int8_t>(quantizeToInt(row[c], scale, 0, -qmax, qmax));
  }
  return q;
}

Result<Int8PerRow> quantizeWeightsInt8PerChannel(MatrixRef w) {
  return quantizeInt8PerRow(w, 127);
}

Result<Int8PerRow> quantizeActivationsInt8PerToken(MatrixRef x) {
  return quantizeInt8PerRow(x, 127);
}

Result<AffineParams> chooseAffineInt8Params(float rmin, float rmax) {
  if (!std::isfinite(rmin) || !std::isfinite(rmax))
    return Status::error("activation range must be finite, got [" +
                         std::to_string(rmin) + ", " + std::to_string(rmax) +
                         "]");
  if (rmin > rmax)
    return Status::error("activation range minimum " + std::to_string(rmin) +
                         " exceeds its maximum " + std::to_string(rmax));
  AffineParams p;
  double lo = std::fmin(static_cast<double>(rmin), 0.0);
  double hi = std::fmax(static_cast<double>(rmax), 0.0);
  if (lo == hi) {
    p.scale = 1.0f;
    p.zeroPoint = 0;
    return p;
  }
  const double qmin = p.qmin, qmax = p.qmax;
  double scale = (hi - lo) / (qmax - qmin);
  double zpFromMin = qmin - lo / scale;
  double zpFromMax = qmax - hi / scale;
  double errFromMin = std::fabs(qmin) + std::fabs(lo / scale);
  double errFromMax = std::fabs(qmax) + std::fabs(hi / scale);
  double zp = errFromMin < errFromMax ? zpFromMin : zpFromMax;
  if (zp < qmin)
    p.zeroPoint = p.qmin;
  else if (zp > qmax)
    p.zeroPoint = p.qmax;
  else
    p.zeroPoint = static_cast<int32_t>(roundHalfAwayFromZero(zp));
  p.scale = static_cast<float>(scale);
  if (p.scale == 0.0f) // A range narrower than float can resolve.
    p.scale = 1.0f;
  return p;
}

int8_t quantizeAffine(float x, const AffineParams &p) {
  return static_cast<int8_t>(
      quantizeToInt(x, p.scale, p.zeroPoint, p.qmin, p.qmax));
}

float dequantizeAffine(int8_t q, const AffineParams &p) {
  return static_cast<float>(static_cast<int32_t>(q) - p.zeroPoint) * p.scale;
}

std::vector<int8_t> quantizeAffine(MatrixRef m, const AffineParams &p) {
  std::vector<int8_t> out(static_cast<size_t>(m.size()));
  for (int64_t i = 0; i < m.size(); ++i)
    out[i] = quantizeAffine(m.data[i], p);
  return out;
}

} // namespace kiln::quant
