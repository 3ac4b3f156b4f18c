//===- GroupInt4.cpp - Group-wise round-to-nearest int4 ---------*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// Asymmetric (uint4 + zero) and symmetric (int4 -7..7) RTN quantization with
// one scale per group of consecutive columns.
//
//===----------------------------------------------------------------------===//

#include "kiln/quant/GroupInt4.h"

#include <cmath>

namespace kiln::quant {

Matrix GroupInt4::dequantize() const {
  Matrix m(rows, cols);
  const int64_t groups = groupsPerRow();
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t c = 0; c < cols; ++c) {
      int64_t g = r * groups + c / groupSize;
      int32_t q = values[r * cols + c];
      if (kind == Int4Kind::Asymmetric)
        q -= zeros[g];
      m.at(r, c) = static_cast<float>(q) * scales[g];
    }
  }
  return m;
}

Status checkGroupSize(int64_t cols, int64_t groupSize) {
  if (groupSize <= 0)
    return Status::error("group size must be positive, got " +
                         std::to_string(groupSize));
  if (cols % groupSize != 0)
    return Status::error("group size " + std::to_string(groupSize) +
                         " does not divide the " + std::to_string(cols) +
                         " columns");
  return Status::ok();
}

Result<GroupInt4> quantizeGroupInt4(MatrixRef m, int64_t groupSize,
                                    Int4Kind kind) {
  if (Status st = checkMatrix(m, "int4 input"); !st)
    return st;
  if (Status st = checkGroupSize(m.cols, groupSize); !st)
    return st;
  GroupInt4 q;
  q.rows = m.rows;
  q.cols = m.cols;
  q.groupSize = groupSize;
  q.kind = kind;
  const int64_t groups = q.groupsPerRow();
  q.values.resize(static_cast<size_t>(m.size()));
  q.scales.resize(static_cast<size_t>(m.rows * groups));
  if (kind == Int4Kind::Asymmetric)
    q.zeros.resize(static_cast<size_t>(m.rows * groups));

  for (int64_t r = 0; r < m.rows; ++r) {
    for (int64_t g = 0; g < groups; ++g) {
      const float *x = m.row(r) + g * groupSize;
      int8_t *out = q.values.data() + r * m.cols + g * groupSize;
      int64_t gi = r * groups + g;
      if (kind == Int4Kind::Symmetric) {
        float amax = 0.0f;
        for (int64_t i = 0; i < groupSize; ++i)
          amax = std::fmax(amax, std::fabs(x[i]));
        float scale = amax / 7.0f;
        if (scale == 0.0f)
          scale = 1.0f;
        q.scales[gi] = scale;
        for (int64_t i = 0; i < groupSize; ++i)
          out[i] = static_cast<int8_t>(quantizeToInt(x[i], scale, 0, -7, 7));
        continue;
      }
      float lo = 0.0f, hi = 0.0f;
      for (int64_t i = 0; i < groupSize; ++i) {
        lo = std::fmin(lo, x[i]);
        hi = std::fmax(hi, x[i]);
      }
      // In double, so that a range near FLT_MAX cannot overflow to inf.
      float scale = static_cast<float>(
          (static_cast<double>(hi) - static_cast<double>(lo)) / 15.0);
      if (scale == 0.0f)
        scale = 1.0f;
      int32_t zero = quantizeToInt(-lo, scale, 0, 0, 15);
      q.scales[gi] = scale;
      q.zeros[gi] = static_cast<uint8_t>(zero);
      for (int64_t i = 0; i < groupSize; ++i)
        out[i] = static_cast<int8_t>(quantizeToInt(x[i], scale, zero, 0, 15));
    }
  }
  return q;
}

Result<Matrix> fakeQuantGroupInt4(MatrixRef m, int64_t groupSize,
                                  Int4Kind kind) {
  Result<GroupInt4> q = quantizeGroupInt4(m, groupSize, kind);
  if (!q)
    return q.status();
  return q->dequantize();
}

} // namespace kiln::quant
