//===- Int8.h - Int8 per-channel, per-token, affine quantizers -*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// The int8 building blocks:
// - symmetric per-row quantization, which is both per-output-channel weight
//   quantization (rows of W, qmax 127, or 119 for QoQ's protective range)
//   and per-token activation quantization (rows of X);
// - TFLite-style asymmetric per-tensor activation parameters chosen from a
//   calibrated range [rmin, rmax].
// Rounding is half away from zero everywhere (TFLite's rule); the ratio
// x / scale is one float32 division.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_COMPILER_QUANT_INCLUDE_KILN_QUANT_INT8_H
#define KILN_COMPILER_QUANT_INCLUDE_KILN_QUANT_INT8_H

#include "kiln/quant/Matrix.h"

#include <cstdint>
#include <vector>

namespace kiln::quant {

/// Symmetric int8 values with one float32 scale per row. Row r holds
/// q[r, k] = clamp(round(x[r, k] / scale[r]), -qmax, qmax) with
/// scale[r] = max_k |x[r, k]| / qmax (float32), or 1 for an all-zero row.
struct Int8PerRow {
  int64_t rows = 0;
  int64_t cols = 0;
  /// The largest magnitude a value may take (127, or 119 for QoQ).
  int32_t qmax = 127;
  /// rows * cols values, row-major.
  std::vector<int8_t> values;
  /// One scale per row.
  std::vector<float> scales;

  /// Returns q * scale (float32) for every element.
  Matrix dequantize() const;
};

/// Quantizes each row of |m| symmetrically to [-qmax, qmax]; |qmax| must be
/// in [1, 127]. Fails on an empty or non-finite matrix.
Result<Int8PerRow> quantizeInt8PerRow(MatrixRef m, int32_t qmax = 127);

/// Per-output-channel symmetric weights: quantizeInt8PerRow(w, 127).
Result<Int8PerRow> quantizeWeightsInt8PerChannel(MatrixRef w);

/// Per-token symmetric activations: quantizeInt8PerRow(x, 127).
Result<Int8PerRow> quantizeActivationsInt8PerToken(MatrixRef x);

/// Asymmetric (affine) quantization parameters: q = clamp(round(x / scale) +
/// zeroPoint, qmin, qmax), x ~ (q - zeroPoint) * scale.
struct AffineParams {
  float scale = 1.0f;
  int32_t zeroPoint = 0;
  int32_t qmin = -128;
  int32_t qmax = 127;
};

/// Returns TFLite's int8 activation parameters for the calibrated range
/// [rmin, rmax]: the range is first widened to include 0, scale =
/// (rmax - rmin) / 255 (computed in double, stored as float32); the zero
/// point is taken from whichever end (qmin - rmin / scale or qmax - rmax /
/// scale) has the smaller rounding error, then nudged to an integer in
/// [-128, 127] (half away from zero), so that 0.0 is exactly representable.
/// A range that is all zero gives scale 1 and zero point 0. Fails when
/// rmin > rmax or either end is not finite.
Result<AffineParams> chooseAffineInt8Params(float rmin, float rmax);

/// Returns clamp(round(x / p.scale) + p.zeroPoint, p.qmin, p.qmax).
int8_t quantizeAffine(float x, const AffineParams &p);
/// Returns (q - p.zeroPoint) * p.scale in float32.
float dequantizeAffine(int8_t q, const AffineParams &p);
/// Quantizes every element of |m| with |p| (row-major result).
std::vector<int8_t> quantizeAffine(MatrixRef m, const AffineParams &p);

} // namespace kiln::quant

#endif // KILN_COMPILER_QUANT_INCLUDE_KILN_QUANT_INT8_H
