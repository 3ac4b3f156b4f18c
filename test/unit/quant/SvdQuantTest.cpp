//===- SvdQuantTest.cpp - SVDQuant low-rank split and W4A4 ------*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// The fp16 low-rank split reconstructs W, its error falls with the rank as
// Eckart-Young predicts, the singular values sit in L1 (L2 has orthonormal
// rows), and on a synthetic layer with activation outlier channels and a
// low-rank-heavy weight W4A4 SVDQuant beats smoothing-only W4A4, which beats
// RTN W4A4 (SQNR figures printed).
//
//===----------------------------------------------------------------------===//

#include "kiln/quant/SvdQuant.h"

#include "kiln/quant/FloatFormats.h"
#include "kiln/quant/Metrics.h"
#include "kiln/quant/Smooth.h"

#include "TestUtil.h"

#include <cstdio>

using namespace kiln;
using namespace kiln::quant;
using namespace kiln::quant::test;

namespace {

TEST(QuantSvdQuant, FullRankSplitReconstructsW) {
  Matrix w = randomMatrix(64, 96, 41, 0.2f);
  KILN_ASSERT_OK_AND_ASSIGN(split, lowRankSplit(w, 64));
  ASSERT_EQ(split.l1.rows, 64);
  ASSERT_EQ(split.l1.cols, 64);
  ASSERT_EQ(split.l2.rows, 64);
  ASSERT_EQ(split.l2.cols, 96);
  for (const Matrix *f : {&split.l1, &split.l2})
    for (float v : f->data)
      ASSERT_EQ(roundToHalf(v), v) << "factors must be fp16 values";
  Matrix product = lowRankProduct(split);
  // fp16 factors: relative error of the product ~ 2^-11 per element.
  double rel = frobeniusDiff(product, w) / frobenius(w);
  EXPECT_LT(rel, 2e-3);
  // L1 L2 + R is W up to float32 rounding, at any rank.
  for (int64_t rank : {0, 5, 64}) {
    KILN_ASSERT_OK_AND_ASSIGN(s, lowRankSplit(w, rank));
    Matrix p = lowRankProduct(s);
    for (int64_t i = 0; i < w.size(); ++i)
      ASSERT_NEAR(p.data[i] + s.residual.data[i], w.data[i], 1e-6f) << rank;
  }
}

TEST(QuantSvdQuant, ErrorFallsWithRankAsEckartYoung) {
  Matrix w = randomMatrix(48, 80, 42);
  KILN_ASSERT_OK_AND_ASSIGN(full, lowRankSplit(w, 0));
  const std::vector<double> &sigma = full.singularValues;
  ASSERT_EQ(sigma.size(), 48u);
  double norm = frobenius(w), previous = norm + 1.0;
  for (int64_t rank : {0, 1, 2, 4, 8, 16, 32, 48}) {
    KILN_ASSERT_OK_AND_ASSIGN(s, lowRankSplit(w, rank));
    double err = frobenius(s.residual);
    double tail = 0.0;
    for (size_t i = static_cast<size_t>(rank); i < sigma.size(); ++i)
      tail += sigma[i] * sigma[i];
    // Optimal truncation error, plus the fp16 rounding of the factors.
    EXPECT_NEAR(err, std::sqrt(tail), 2e-3 * norm) << "rank " << rank;
    EXPECT_LT(err, previous) << "rank " << rank;
    previous = err;
  }
}

TEST(QuantSvdQuant, SingularValuesLiveInL1) {
  Matrix w = randomMatrix(32, 64, 43);
  KILN_ASSERT_OK_AND_ASSIGN(s, lowRankSplit(w, 8));
  for (int64_t i = 0; i < 8; ++i) {
    double colNorm = 0.0;
    for (int64_t n = 0; n < 32; ++n)
      colNorm += double(s.l1.at(n, i)) * s.l1.at(n, i);
    EXPECT_NEAR(std::sqrt(colNorm), s.singularValues[i],
                2e-3 * s.singularValues[i]);
    for (int64_t j = 0; j < 8; ++j) {
      double dot = 0.0;
      for (int64_t k = 0; k < 64; ++k)
        dot += double(s.l2.at(i, k)) * s.l2.at(j, k);
      EXPECT_NEAR(dot, i == j ? 1.0 : 0.0, 2e-3) << i << "," << j;
    }
  }
  std::vector<uint16_t> bits = toHalfBits(s.l2);
  ASSERT_EQ(bits.size(), 8u * 64u);
  EXPECT_EQ(halfToFloat(bits[5]), s.l2.data[5]);
}

TEST(QuantSvdQuant, RejectsBadRankAndFp16Overflow) {
  Matrix w = randomMatrix(8, 16, 44);
  Result<LowRankSplit> r = lowRankSplit(w, 9);
  ASSERT_FALSE(r.succeeded());
  EXPECT_NE(r.status().str().find("rank must be in [0, 8]"), std::string::npos);
  Matrix big(4, 4, 0.0f);
  big.at(0, 0) = 1.0e6f;
  Result<LowRankSplit> o = lowRankSplit(big, 1);
  ASSERT_FALSE(o.succeeded());
  EXPECT_NE(o.status().str().find("overflows fp16"), std::string::npos);
}

TEST(QuantSvdQuant, RankZeroIsPlainW4A4) {
  Matrix x = randomMatrix(8, 128, 45), w = randomMatrix(16, 128, 46, 0.1f);
  const QuantSpec spec = QuantSpec::int4GroupSym(64);
  KILN_ASSERT_OK_AND_ASSIGN(q, svdQuantWeights(w, 0, spec));
  EXPECT_EQ(q.split.residual.data, w.data);
  KILN_ASSERT_OK_AND_ASSIGN(y, svdQuantForward(x, q, spec));
  KILN_ASSERT_OK_AND_ASSIGN(yPlain, quantizedLinear(x, w, spec, spec));
  EXPECT_EQ(y.data, yPlain.data);
  // The low-rank branch adds exactly X L2^T L1^T on top of the 4-bit one.
  KILN_ASSERT_OK_AND_ASSIGN(q4, svdQuantWeights(w, 4, spec));
  KILN_ASSERT_OK_AND_ASSIGN(y4, svdQuantForward(x, q4, spec));
  EXPECT_EQ(y4.rows, 8);
  EXPECT_EQ(y4.cols, 16);
  EXPECT_FALSE(svdQuantForward(randomMatrix(2, 64, 47), q4, spec).succeeded());
}

TEST(QuantSvdQuant, RefinementNeverRaisesTheWeightError) {
  // A weight with a few large columns (smoothing moves activation outliers
  // there) on top of noise, so the 4-bit residual matters.
  Matrix w = withOutlierColumns(randomMatrix(96, 128, 48, 0.1f), {3, 60, 99},
                                12.0f);
  const QuantSpec spec = QuantSpec::int4GroupSym(64);
  ResidualQuantizer quantize = [&](MatrixRef r) { return fakeQuantize(r, spec); };
  auto error = [&](const LowRankSplit &s) {
    Matrix q = fakeQuantize(s.residual, spec).take();
    Matrix low = lowRankProduct(s);
    for (size_t i = 0; i < q.data.size(); ++i)
      q.data[i] += low.data[i];
    return frobeniusDiff(q, w);
  };
  KILN_ASSERT_OK_AND_ASSIGN(plain, lowRankSplit(w, 8));
  KILN_ASSERT_OK_AND_ASSIGN(same, refineLowRankSplit(w, 8, quantize, 0));
  EXPECT_EQ(same.l1.data, plain.l1.data) << "0 iterations is the plain split";
  KILN_ASSERT_OK_AND_ASSIGN(refined, refineLowRankSplit(w, 8, quantize, 6));
  const double before = error(plain), after = error(refined);
  std::printf("weight error of W4 + rank 8: plain %.5f, refined %.5f\n",
              before, after);
  EXPECT_LE(after, before);
  EXPECT_LT(after, 0.97 * before) << "alternation should gain on this weight";
  // The split stays a split: L1 L2 + R is W, the factors are fp16 values.
  Matrix product = lowRankProduct(refined);
  for (size_t i = 0; i < product.data.size(); ++i)
    ASSERT_NEAR(product.data[i] + refined.residual.data[i], w.data[i], 1e-5);
  for (float v : refined.l1.data)
    ASSERT_EQ(roundToHalf(v), v);
  EXPECT_EQ(refined.singularValues, plain.singularValues);
  EXPECT_FALSE(refineLowRankSplit(w, 8, quantize, -1).succeeded());
}

/// Returns a layer whose activations have persistent outlier channels and
/// whose weight is dominated by a rank-8 component.
static void makeSyntheticLayer(Matrix &x, Matrix &w) {
  const int64_t m = 128, k = 256, n = 128, r = 8;
  x = withOutlierColumns(randomMatrix(m, k, 51), {7, 50, 130, 201, 255}, 25.0f);
  Matrix a = randomMatrix(n, r, 52), b = randomMatrix(r, k, 53);
  Matrix noise = randomMatrix(n, k, 54, 0.03f);
  w = Matrix(n, k);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < k; ++j) {
      double acc = 0.0;
      for (int64_t t = 0; t < r; ++t)
        acc += double(a.at(i, t)) * b.at(t, j);
      w.at(i, j) = static_cast<float>(0.05 * acc) + noise.at(i, j);
    }
}

TEST(QuantSvdQuant, W4A4SvdBeatsSmoothBeatsRtn) {
  Matrix x, w;
  makeSyntheticLayer(x, w);
  const QuantSpec spec = QuantSpec::int4GroupSym(64);
  const int64_t rank = 16;
  KILN_ASSERT_OK_AND_ASSIGN(y, matmulTransposed(x, w));

  KILN_ASSERT_OK_AND_ASSIGN(yRtn, quantizedLinear(x, w, spec, spec));

  KILN_ASSERT_OK_AND_ASSIGN(smooth, searchSmoothAlpha(x, w, spec, spec));
  KILN_ASSERT_OK_AND_ASSIGN(xs, smoothActivations(x, smooth.scales));
  KILN_ASSERT_OK_AND_ASSIGN(ws, smoothWeights(w, smooth.scales));
  KILN_ASSERT_OK_AND_ASSIGN(ySmooth, quantizedLinear(xs, ws, spec, spec));

  SvdQuantOptions options;
  options.rank = rank;
  options.weightSpec = spec;
  options.actSpec = spec;
  KILN_ASSERT_OK_AND_ASSIGN(svd, buildSvdQuantLayer(x, w, options));
  EXPECT_EQ(svd.weights.split.rank(), rank);
  KILN_ASSERT_OK_AND_ASSIGN(ySvd, svdQuantLayerForward(x, svd));

  KILN_ASSERT_OK_AND_ASSIGN(rtnStats, compareMatrices(y, yRtn));
  KILN_ASSERT_OK_AND_ASSIGN(smoothStats, compareMatrices(y, ySmooth));
  KILN_ASSERT_OK_AND_ASSIGN(svdStats, compareMatrices(y, ySvd));
  std::printf("[ svdquant ] W4A4 int4-sym-g64, M=128 K=256 N=128, rank %lld\n"
              "[ svdquant ] rtn    SQNR %6.2f dB  cosine %.5f\n"
              "[ svdquant ] smooth SQNR %6.2f dB  cosine %.5f  (alpha %.2f)\n"
              "[ svdquant ] svd    SQNR %6.2f dB  cosine %.5f  (alpha %.2f)\n",
              static_cast<long long>(rank), rtnStats.sqnrDb, rtnStats.cosine,
              smoothStats.sqnrDb, smoothStats.cosine, smooth.alpha,
              svdStats.sqnrDb, svdStats.cosine, svd.alpha);
  EXPECT_GT(smoothStats.sqnrDb, rtnStats.sqnrDb + 1.0);
  EXPECT_GT(svdStats.sqnrDb, smoothStats.sqnrDb + 1.0);
  EXPECT_GT(svdStats.cosine, smoothStats.cosine);
  EXPECT_GT(smoothStats.cosine, rtnStats.cosine);
}

} // namespace
