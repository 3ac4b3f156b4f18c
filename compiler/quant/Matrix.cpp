//===- Matrix.cpp - Row-major float matrices and exact rounding -*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// Construction and checks of Matrix / MatrixRef, the deterministic
// double-accumulating matrix product, and the integer rounding rules shared
// by all quantizers of kiln::quant.
//
//===----------------------------------------------------------------------===//

#include "kiln/quant/Matrix.h"

#include <cmath>

namespace kiln::quant {

Matrix::Matrix(int64_t rows, int64_t cols, float fill)
    : rows(rows), cols(cols),
      data(static_cast<size_t>(rows > 0 && cols > 0 ? rows * cols : 0), fill) {}

Matrix::Matrix(int64_t rows, int64_t cols, std::vector<float> values)
    : rows(rows), cols(cols), data(std::move(values)) {}

Result<Matrix> Matrix::fromVector(int64_t rows, int64_t cols,
                                  std::vector<float> values) {
  if (rows <= 0 || cols <= 0)
    return Status::error("matrix dimensions must be positive, got " +
                         std::to_string(rows) + "x" + std::to_string(cols));
  if (static_cast<int64_t>(values.size()) != rows * cols)
    return Status::error("expected " + std::to_string(rows * cols) +
                         " values for a " + std::to_string(rows) + "x" +
                         std::to_string(cols) + " matrix, got " +
                         std::to_string(values.size()));
  return Matrix(rows, cols, std::move(values));
}

Status checkMatrix(MatrixRef m, const std::string &what) {
  if (m.rows <= 0 || m.cols <= 0)
    return Status::error("'" + what + "' must have positive dimensions, got " +
                         std::to_string(m.rows) + "x" + std::to_string(m.cols));
  if (!m.data)
    return Status::error("'" + what + "' has no data");
  for (int64_t i = 0; i < m.size(); ++i) {
    if (!std::isfinite(m.data[i]))
      return Status::error("'" + what + "' has a non-finite value at row " +
                           std::to_string(i / m.cols) + ", column " +
                           std::to_string(i % m.cols));
  }
  return Status::ok();
}

Result<Matrix> matmulTransposed(MatrixRef x, MatrixRef w) {
  if (x.cols != w.cols)
    return Status::error("matmul needs equal inner dimensions, got x " +
                         std::to_string(x.rows) + "x" + std::to_string(x.cols) +
                         " and w " + std::to_string(w.rows) + "x" +
                         std::to_string(w.cols));
  Matrix y(x.rows, w.rows);
  for (int64_t m = 0; m < x.rows; ++m) {
    const float *xr = x.row(m);
    for (int64_t n = 0; n < w.rows; ++n) {
      const float *wr = w.row(n);
      double acc = 0.0;
      for (int64_t k = 0; k < x.cols; ++k)
        acc += static_cast<double>(xr[k]) * static_cast<double>(wr[k]);
      y.at(m, n) = static_cast<float>(acc);
    }
  }
  return y;
}

Result<Matrix> add(MatrixRef a, MatrixRef b) {
  if (a.rows != b.rows || a.cols != b.cols)
    return Status::error("add needs equal shapes, got " +
                         std::to_string(a.rows) + "x" + std::to_string(a.cols) +
                         " and " + std::to_string(b.rows) + "x" +
                         std::to_string(b.cols));
  Matrix c(a.rows, a.cols);
  for (int64_t i = 0; i < a.size(); ++i)
    c.data[i] = a.data[i] + b.data[i];
  return c;
}

Matrix transpose(MatrixRef m) {
  Matrix t(m.cols, m.rows);
  for (int64_t r = 0; r < m.rows; ++r)
    for (int64_t c = 0; c < m.cols; ++c)
      t.at(c, r) = m.at(r, c);
  return t;
}

Matrix copyOf(MatrixRef m) {
  return Matrix(m.rows, m.cols, std::vector<float>(m.data, m.data + m.size()));
}

double roundHalfAwayFromZero(double v) { return std::round(v); }

double roundHalfToEven(double v) {
  double f = std::floor(v);
  double frac = v - f;
  if (frac > 0.5)
    return f + 1.0;
  if (frac < 0.5)
    return f;
  // A tie: pick the even neighbour. fmod keeps this exact for any magnitude.
  return std::fmod(f, 2.0) == 0.0 ? f : f + 1.0;
}

int32_t quantizeToInt(float x, float scale, int32_t zeroPoint, int32_t qmin,
                      int32_t qmax) {
  float ratio = x / scale;
  // Clamp in double before the integer conversion so that huge ratios (a
  // value far outside a calibrated range) cannot overflow int32.
  double q = roundHalfAwayFromZero(static_cast<double>(ratio)) +
             static_cast<double>(zeroPoint);
  if (std::isnan(q))
    q = zeroPoint;
  if (q < qmin)
    return qmin;
  if (q > qmax)
    return qmax;
  return static_cast<int32_t>(q);
}

} // namespace kiln::quant
