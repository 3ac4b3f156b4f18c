//===- Matrix.h - Row-major float matrices and exact rounding ---*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// The plain data types of the quantization math library (KilnQuantMath):
// an owning row-major float Matrix, a non-owning MatrixRef view, the
// deterministic matrix product used by every emulated forward pass, and the
// two integer rounding rules the library uses. Everything here is plain
// C++17 with no MLIR dependency, so the passes, the reference evaluator and
// tests can all call it on raw buffers.
//
// Conventions used throughout kiln::quant (see docs/quantization.md):
// - A weight W has shape [N out_features, K in_features] and activations X
//   have shape [M tokens, K]; a linear layer computes Y = X * W^T ([M, N]).
// - Every "group" or "block" runs along K (the columns), inside one row.
// - Scalar quantization arithmetic is float32 with IEEE round-to-nearest
//   (the library is compiled with -ffp-contract=off), sums of products are
//   accumulated in double in index order and rounded to float once.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_COMPILER_QUANT_INCLUDE_KILN_QUANT_MATRIX_H
#define KILN_COMPILER_QUANT_INCLUDE_KILN_QUANT_MATRIX_H

#include "kiln/Diagnostics.h"

#include <cstdint>
#include <string>
#include <vector>

namespace kiln::quant {

/// A dense row-major float32 matrix that owns its storage.
struct Matrix {
  int64_t rows = 0;
  int64_t cols = 0;
  /// rows * cols values, row r at [r * cols, (r + 1) * cols).
  std::vector<float> data;

  Matrix() = default;
  /// Creates a |rows| x |cols| matrix filled with |fill|.
  Matrix(int64_t rows, int64_t cols, float fill = 0.0f);
  /// Creates a |rows| x |cols| matrix from |values| (row-major, size checked
  /// by the caller; use fromVector for a checked version).
  Matrix(int64_t rows, int64_t cols, std::vector<float> values);

  /// Returns a matrix made from |values|, or an error when the size is not
  /// rows * cols.
  static Result<Matrix> fromVector(int64_t rows, int64_t cols,
                                   std::vector<float> values);

  int64_t size() const { return rows * cols; }
  float &at(int64_t r, int64_t c) { return data[r * cols + c]; }
  float at(int64_t r, int64_t c) const { return data[r * cols + c]; }
  float *row(int64_t r) { return data.data() + r * cols; }
  const float *row(int64_t r) const { return data.data() + r * cols; }
};

/// A read-only view of a row-major float32 matrix owned elsewhere (a Matrix,
/// an MLIR dense attribute's buffer, a tensor of the evaluator).
struct MatrixRef {
  const float *data = nullptr;
  int64_t rows = 0;
  int64_t cols = 0;

  MatrixRef() = default;
  MatrixRef(const float *data, int64_t rows, int64_t cols)
      : data(data), rows(rows), cols(cols) {}
  /// Views |m|; the view is valid while |m| is alive and unchanged.
  MatrixRef(const Matrix &m)
      : data(m.data.data()), rows(m.rows), cols(m.cols) {}

  int64_t size() const { return rows * cols; }
  float at(int64_t r, int64_t c) const { return data[r * cols + c]; }
  const float *row(int64_t r) const { return data + r * cols; }
};

/// Returns an error naming |what| when |m| has a non-positive dimension, a
/// null buffer, or a NaN or infinite element; quantizers call it first so
/// that no scale is ever computed from a non-finite value.
Status checkMatrix(MatrixRef m, const std::string &what);

/// Returns X * W^T for X [M, K] and W [N, K]: each output is the sum over k
/// (ascending) of x[m,k] * w[n,k], both widened to double, rounded to float
/// once. Deterministic on every host. Fails when the K dimensions differ.
Result<Matrix> matmulTransposed(MatrixRef x, MatrixRef w);

/// Returns a + b elementwise in float32; fails when the shapes differ.
Result<Matrix> add(MatrixRef a, MatrixRef b);

/// Returns |m| with rows and columns exchanged.
Matrix transpose(MatrixRef m);

/// Returns a copy of |m|.
Matrix copyOf(MatrixRef m);

/// Returns |v| rounded to the nearest integer, ties away from zero (the TFLite
/// rule, std::round); every integer quantizer in kiln::quant uses it.
double roundHalfAwayFromZero(double v);

/// Returns |v| rounded to the nearest integer, ties to the even integer (the
/// IEEE default); the minifloat encoders use it on the mantissa.
double roundHalfToEven(double v);

/// Returns clamp(roundHalfAwayFromZero(x / scale) + zeroPoint, qmin, qmax)
/// where x / scale is one float32 division (|scale| > 0); the common step of
/// every integer quantizer in kiln::quant. A NaN ratio gives the clamped
/// zero point (quantizers reject non-finite inputs before this point).
int32_t quantizeToInt(float x, float scale, int32_t zeroPoint, int32_t qmin,
                      int32_t qmax);

} // namespace kiln::quant

#endif // KILN_COMPILER_QUANT_INCLUDE_KILN_QUANT_MATRIX_H
