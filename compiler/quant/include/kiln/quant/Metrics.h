//===- Metrics.h - Error metrics of quantized results -----------*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// The numbers every quantization technique is judged by: SQNR in dB, cosine
// similarity, mean squared error and max absolute error of an approximation
// against a float reference. All sums run in double in index order.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_COMPILER_QUANT_INCLUDE_KILN_QUANT_METRICS_H
#define KILN_COMPILER_QUANT_INCLUDE_KILN_QUANT_METRICS_H

#include "kiln/quant/Matrix.h"

#include <cstddef>

namespace kiln::quant {

/// Returns 10 log10(sum ref^2 / sum (ref - x)^2) over |n| values. A zero
/// error gives +inf; a zero reference with a non-zero error gives -inf.
double sqnrDb(const float *ref, const float *x, size_t n);

/// Returns sum(ref * x) / (|ref| |x|) over |n| values; 1 when both are all
/// zero, 0 when exactly one of them is.
double cosineSimilarity(const float *ref, const float *x, size_t n);

/// Returns sum (ref - x)^2 / n (0 for n = 0).
double meanSquaredError(const float *ref, const float *x, size_t n);

/// Returns max |ref - x| (0 for n = 0).
double maxAbsError(const float *ref, const float *x, size_t n);

/// All four metrics of one comparison.
struct ErrorStats {
  double sqnrDb = 0.0;
  double cosine = 0.0;
  double mse = 0.0;
  double maxAbs = 0.0;
};

/// Returns the metrics of |approx| against |ref|; fails when the shapes
/// differ.
Result<ErrorStats> compareMatrices(MatrixRef ref, MatrixRef approx);

} // namespace kiln::quant

#endif // KILN_COMPILER_QUANT_INCLUDE_KILN_QUANT_METRICS_H
