//===- SvdQuant.h - SVDQuant low-rank outlier absorption --------*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// SVDQuant (Li et al. 2025): after smoothing, split the weight into a 16-bit
// low-rank branch and a 4-bit residual,
//
//   W = L1 L2 + R,   L1 [N, r],  L2 [r, K],  R = W - L1 L2
//   Y = X L2^T L1^T + Q(X) Q(R)^T
//
// The split is the rank-r truncated SVD W ~ U_r S_r V_r^T (Eigen's BDCSVD,
// in double), with the singular values absorbed by the LEFT factor:
// L1 = U_r S_r (the "up" projection), L2 = V_r^T (the "down" projection, on
// the activation side; its rows are orthonormal, so its entries are within
// [-1, 1] and keep fp16's full relative precision). Both factors are stored
// in fp16: every element is rounded to IEEE binary16, round to nearest even
// (FloatFormats.h), and the residual is computed from the ROUNDED factors,
// R = W - L1 L2 (product accumulated in double, difference rounded to
// float32), so that L1 L2 + R reproduces W up to float32 rounding whatever
// rank is chosen. The residual and the activations are then quantized by a
// QuantSpec, by default symmetric int4 per group of 64 along K.
//
// The emulated forward computes the low-rank branch in float32: T = X L2^T
// ([M, r], double accumulation, rounded to float), then T L1^T, plus
// Q(X) Q(R)^T, each product double-accumulated and rounded to float, and
// the two branches added in float32.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_COMPILER_QUANT_INCLUDE_KILN_QUANT_SVDQUANT_H
#define KILN_COMPILER_QUANT_INCLUDE_KILN_QUANT_SVDQUANT_H

#include "kiln/quant/FakeQuant.h"
#include "kiln/quant/Matrix.h"

#include <cstdint>
#include <functional>
#include <vector>

namespace kiln::quant {

/// The low-rank split W = L1 L2 + R.
struct LowRankSplit {
  /// [N, r] = U_r S_r, every element exactly representable in fp16.
  Matrix l1;
  /// [r, K] = V_r^T, every element exactly representable in fp16.
  Matrix l2;
  /// [N, K] = W - L1 L2 (with the fp16 factors).
  Matrix residual;
  /// All min(N, K) singular values of W, descending.
  std::vector<double> singularValues;

  int64_t rank() const { return l1.cols; }
};

/// Splits |w| [N, K] at |rank| (0 <= rank <= min(N, K); rank 0 gives empty
/// factors and R = W). Fails on a non-finite matrix, a rank out of range, or
/// a factor element that overflows fp16.
Result<LowRankSplit> lowRankSplit(MatrixRef w, int64_t rank);

/// Dequantized image of a residual under the scheme's weight quantizer.
using ResidualQuantizer = std::function<Result<Matrix>(MatrixRef)>;

/// Quantization-aware refinement of the split (alternating minimisation,
/// as in LoftQ): starting from lowRankSplit(w, rank), repeat |iterations|
/// times L = SVD_r(W - Q(R)), R = W - L, and keep the split whose
/// ||W - L - Q(R)||_F is lowest (so the result is never worse than the
/// plain split). The returned residual is W - L1 L2 as in lowRankSplit.
/// On SVDQuant's smoothed weights this lowers the weight error of the
/// 4-bit residual by ~1.5-2 dB at rank 32.
Result<LowRankSplit> refineLowRankSplit(MatrixRef w, int64_t rank,
                                        const ResidualQuantizer &quantize,
                                        int iterations);

/// Returns L1 L2 (double accumulation, rounded to float).
Matrix lowRankProduct(const LowRankSplit &split);

/// Returns the fp16 bits of |m| row-major (the stored form of L1 and L2).
std::vector<uint16_t> toHalfBits(MatrixRef m);

/// SVDQuant weights of one layer: the split plus the dequantized residual.
struct SvdQuantWeights {
  LowRankSplit split;
  QuantSpec residualSpec;
  /// fakeQuantize(split.residual, residualSpec).
  Matrix residualDequantized;
};

/// Decomposes the (already smoothed) weight |w| at |rank| and quantizes the
/// residual with |residualSpec|.
Result<SvdQuantWeights>
svdQuantWeights(MatrixRef w, int64_t rank,
                const QuantSpec &residualSpec = QuantSpec::int4GroupSym(64));

/// Returns the emulated SVDQuant output for (already smoothed) activations
/// |x| [M, K]: X L2^T L1^T + fakeQuantize(X, actSpec) R~^T.
Result<Matrix>
svdQuantForward(MatrixRef x, const SvdQuantWeights &weights,
                const QuantSpec &actSpec = QuantSpec::int4GroupSym(64));

/// Options of the whole SVDQuant recipe for one linear layer.
struct SvdQuantOptions {
  /// Rank r of the low-rank branch.
  int64_t rank = 32;
  /// Quantizer of the residual R.
  QuantSpec weightSpec = QuantSpec::int4GroupSym(64);
  /// Quantizer of the (smoothed) activations.
  QuantSpec actSpec = QuantSpec::int4GroupSym(64);
  /// Smoothing alphas to try; the one whose SVDQuant output on the
  /// calibration activations has the lowest MSE wins (Smooth.h).
  std::vector<double> alphaGrid = {0.0, 0.1, 0.2, 0.3, 0.4, 0.5,
                                   0.6, 0.7, 0.8, 0.9, 1.0};
};

/// One layer quantized with SVDQuant: smoothing scales (to fold into the
/// previous op and the weight) plus the decomposed smoothed weight.
struct SvdQuantLayer {
  double alpha = 0.0;
  std::vector<float> smoothScales;
  SvdQuantWeights weights;
  QuantSpec actSpec;
};

/// Runs the recipe on weight |w| [N, K] with calibration activations
/// |calibration| [M, K]: alpha search over smoothing + split + residual
/// quantization, then the decomposition at the best alpha.
Result<SvdQuantLayer> buildSvdQuantLayer(MatrixRef calibration, MatrixRef w,
                                         const SvdQuantOptions &options);

/// Returns the emulated output for UNsmoothed activations |x|: X diag(s)^-1
/// followed by svdQuantForward.
Result<Matrix> svdQuantLayerForward(MatrixRef x, const SvdQuantLayer &layer);

} // namespace kiln::quant

#endif // KILN_COMPILER_QUANT_INCLUDE_KILN_QUANT_SVDQUANT_H
