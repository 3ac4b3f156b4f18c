//===- Smooth.h - SmoothQuant scales and alpha search -----------*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// SmoothQuant (Xiao et al. 2023) moves activation outliers into the weights
// with a per-input-channel scale s_j:
//
//   s_j = max|X_j|^alpha / max|W_j|^(1 - alpha)    (computed in double,
//                                                   rounded to float32)
//   X' = X diag(s)^-1  (x'[m, j] = x[m, j] / s_j, one float32 division)
//   W' = W diag(s)     (w'[n, j] = w[n, j] * s_j, one float32 product)
//
// so that X' W'^T = X W^T in exact arithmetic. max|X_j| is the per-channel
// (column) absolute maximum of the calibration activations, max|W_j| that
// of weight column j over all output channels. A channel where either
// maximum is 0, or whose scale is not a positive finite float, gets s_j = 1
// (nothing to balance). std::pow makes the scale host-dependent in its last
// bit; it is computed once at compile time and stored, so the runtime and
// the evaluator only ever use the stored value.
//
// The alpha search quantizes the smoothed layer for every alpha of a grid
// (default 0, 0.05, ..., 1, i.e. i / 20) and keeps the alpha whose output
// has the lowest mean squared error against the float output X W^T; ties
// keep the smaller alpha.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_COMPILER_QUANT_INCLUDE_KILN_QUANT_SMOOTH_H
#define KILN_COMPILER_QUANT_INCLUDE_KILN_QUANT_SMOOTH_H

#include "kiln/quant/FakeQuant.h"
#include "kiln/quant/Matrix.h"

#include <functional>
#include <vector>

namespace kiln::quant {

/// Returns max_r |m[r, c]| for every column c.
std::vector<float> columnAbsMax(MatrixRef m);

/// Returns the smoothing scales from per-channel activation maxima and
/// weight column maxima (equal lengths, non-negative, finite) for |alpha| in
/// [0, 1].
Result<std::vector<float>>
computeSmoothScales(const std::vector<float> &actAbsMax,
                    const std::vector<float> &weightAbsMax, double alpha);

/// Returns X diag(s)^-1; fails when s has not one entry per column.
Result<Matrix> smoothActivations(MatrixRef x, const std::vector<float> &s);

/// Returns W diag(s); fails when s has not one entry per column.
Result<Matrix> smoothWeights(MatrixRef w, const std::vector<float> &s);

/// Returns the grid {i / 20 : i = 0..20}.
std::vector<double> defaultAlphaGrid();

/// Computes the quantized layer's output [M, N] from smoothed activations
/// [M, K] and smoothed weights [N, K].
using QuantizedLayerFn =
    std::function<Result<Matrix>(MatrixRef xSmoothed, MatrixRef wSmoothed)>;

/// The outcome of an alpha search.
struct AlphaSearchResult {
  /// The best alpha and its scales.
  double alpha = 0.0;
  std::vector<float> scales;
  /// The output MSE of the best alpha.
  double error = 0.0;
  /// Every alpha tried, with its output MSE (same order).
  std::vector<double> alphas;
  std::vector<double> errors;
};

/// Searches |alphas| for the smoothing that minimises the output MSE of
/// |layer| on calibration activations |x| [M, K] for weights |w| [N, K].
Result<AlphaSearchResult>
searchSmoothAlpha(MatrixRef x, MatrixRef w, const QuantizedLayerFn &layer,
                  const std::vector<double> &alphas = defaultAlphaGrid());

/// The same with the layer fakeQuantize(X', actSpec) * fakeQuantize(W',
/// weightSpec)^T.
Result<AlphaSearchResult>
searchSmoothAlpha(MatrixRef x, MatrixRef w, const QuantSpec &weightSpec,
                  const QuantSpec &actSpec,
                  const std::vector<double> &alphas = defaultAlphaGrid());

/// Returns fakeQuantize(x, actSpec) * fakeQuantize(w, weightSpec)^T: the
/// output of a layer with quantized weights and activations (no smoothing).
Result<Matrix> quantizedLinear(MatrixRef x, MatrixRef w,
                               const QuantSpec &weightSpec,
                               const QuantSpec &actSpec);

} // namespace kiln::quant

#endif // KILN_COMPILER_QUANT_INCLUDE_KILN_QUANT_SMOOTH_H
