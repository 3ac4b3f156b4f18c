//===- QoqTest.cpp - QoQ progressive W4A8, SmoothAttention, KV4 -*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// The progressive weight quantizer never leaves int8 range and dequantizes
// integer-exactly (exhaustively over every group range and value), the W4A8
// forward equals its integer definition, SmoothAttention keeps Q K^T while
// shrinking key outliers, and the 4-bit KV cache benefits from it.
//
//===----------------------------------------------------------------------===//

#include "kiln/quant/Qoq.h"

#include "kiln/quant/GroupInt4.h"
#include "kiln/quant/Int8.h"
#include "kiln/quant/Metrics.h"

#include "TestUtil.h"

using namespace kiln;
using namespace kiln::quant;
using namespace kiln::quant::test;

namespace {

// Every group range [lo, hi] within the protective range and every value in
// it: parameters in their 8-bit ranges, products fit uint8, the modulo-256
// kernel arithmetic equals the exact integer, the result stays in int8, and
// the error is at most half a step.
TEST(QuantQoq, ProgressiveDequantIsIntegerExactAndInRangeExhaustive) {
  int64_t checked = 0;
  for (int32_t lo = -119; lo <= 119; ++lo) {
    for (int32_t hi = lo; hi <= 119; ++hi) {
      QoqGroupParams p = chooseQoqGroupParams(lo, hi);
      ASSERT_GE(p.scale, 1);
      ASSERT_LE(p.scale, 16);
      ASSERT_LE(p.zero, 15);
      ASSERT_EQ(p.scaledZero, p.zero * p.scale);
      for (int32_t q8 = lo; q8 <= hi; ++q8) {
        uint8_t q4 = quantizeQoqValue(q8, p);
        ASSERT_LE(q4, 15);
        ASSERT_LE(q4 * p.scale, 255);
        int32_t exact = (int32_t(q4) - p.zero) * p.scale;
        int8_t kernel = dequantizeQoqValue(q4, p);
        ASSERT_EQ(int32_t(kernel), exact) << lo << ".." << hi << " " << q8;
        ASSERT_GE(exact, -127);
        ASSERT_LE(exact, 127);
        ASSERT_LE(2 * std::abs(exact - q8), p.scale)
            << lo << ".." << hi << " " << q8;
        ++checked;
      }
    }
  }
  EXPECT_EQ(checked, 2303960); // sum over all ranges of (hi - lo + 1)
}

TEST(QuantQoq, WeightsStayInInt8AndMatchTheirDefinition) {
  Matrix w = randomMatrix(24, 256, 61, 0.05f);
  w.at(1, 3) = 1.5f; // outliers widen some channels' level-1 scale
  w.at(9, 200) = -0.9f;
  KILN_ASSERT_OK_AND_ASSIGN(q, quantizeQoqWeights(w, 128));
  ASSERT_EQ(q.groupsPerRow(), 2);
  KILN_ASSERT_OK_AND_ASSIGN(level1, quantizeInt8PerRow(w, 119));
  EXPECT_EQ(q.channelScales, level1.scales);
  std::vector<int8_t> q8 = q.int8Values();
  Matrix d = q.dequantize();
  for (int64_t r = 0; r < w.rows; ++r) {
    for (int64_t c = 0; c < w.cols; ++c) {
      const QoqGroupParams &p = q.groups[r * 2 + c / 128];
      int32_t v = q8[r * w.cols + c];
      ASSERT_GE(v, -127);
      ASSERT_LE(v, 127);
      ASSERT_EQ(v, (int32_t(q.values[r * w.cols + c]) - p.zero) * p.scale);
      // Level 2 moves a level-1 value by at most half a group step.
      ASSERT_LE(2 * std::abs(v - level1.values[r * w.cols + c]), p.scale);
      ASSERT_EQ(d.at(r, c), float(v) * q.channelScales[r]);
    }
  }
  // Progressive W4 g128 is close to direct asymmetric RTN W4 g128.
  KILN_ASSERT_OK_AND_ASSIGN(rtn,
                            fakeQuantGroupInt4(w, 128, Int4Kind::Asymmetric));
  double qoqDb = sqnrDb(w.data.data(), d.data.data(), w.data.size());
  double rtnDb = sqnrDb(w.data.data(), rtn.data.data(), w.data.size());
  std::printf("[ qoq      ] weight SQNR: progressive W4 g128 %.2f dB, "
              "direct RTN W4 g128 %.2f dB\n",
              qoqDb, rtnDb);
  EXPECT_GT(qoqDb, rtnDb - 1.5);
}

TEST(QuantQoq, ForwardIsTheIntegerGemm) {
  Matrix w = randomMatrix(16, 128, 62, 0.05f);
  Matrix x = randomMatrix(6, 128, 63);
  KILN_ASSERT_OK_AND_ASSIGN(q, quantizeQoqWeights(w, 128));
  KILN_ASSERT_OK_AND_ASSIGN(y, qoqForward(x, q));
  KILN_ASSERT_OK_AND_ASSIGN(qa, quantizeActivationsInt8PerToken(x));
  std::vector<int8_t> q8 = q.int8Values();
  for (int64_t m = 0; m < 6; ++m)
    for (int64_t n = 0; n < 16; ++n) {
      int32_t acc = 0;
      for (int64_t k = 0; k < 128; ++k)
        acc += int32_t(qa.values[m * 128 + k]) * q8[n * 128 + k];
      float expected = float(acc) * (qa.scales[m] * q.channelScales[n]);
      ASSERT_EQ(y.at(m, n), expected) << m << "," << n;
    }
  KILN_ASSERT_OK_AND_ASSIGN(ref, matmulTransposed(x, w));
  double db = sqnrDb(ref.data.data(), y.data.data(), ref.data.size());
  std::printf("[ qoq      ] W4A8 g128 output SQNR %.2f dB\n", db);
  EXPECT_GT(db, 15.0);
  EXPECT_FALSE(qoqForward(randomMatrix(2, 64, 1), q).succeeded());
  EXPECT_FALSE(quantizeQoqWeights(w, 100).succeeded());
}

/// Returns Q K^T restricted to one query head |h| (keys of its KV head).
static Matrix headScores(const Matrix &q, const Matrix &k, int64_t h,
                         int64_t kvHead, int64_t headDim) {
  Matrix s(q.rows, k.rows);
  for (int64_t i = 0; i < q.rows; ++i)
    for (int64_t j = 0; j < k.rows; ++j) {
      double acc = 0.0;
      for (int64_t d = 0; d < headDim; ++d)
        acc += double(q.at(i, h * headDim + d)) * k.at(j, kvHead * headDim + d);
      s.at(i, j) = static_cast<float>(acc);
    }
  return s;
}

TEST(QuantQoq, SmoothAttentionKeepsScoresAndShrinksKeyOutliers) {
  const int64_t hidden = 64, headDim = 16, qHeads = 4, kvHeads = 2;
  Matrix x = randomMatrix(32, hidden, 71);
  Matrix wq = randomMatrix(qHeads * headDim, hidden, 72, 0.2f);
  Matrix wk = randomMatrix(kvHeads * headDim, hidden, 73, 0.2f);
  // Key outlier channels, as in real attention layers.
  for (int64_t row : {3, 19, 20})
    for (int64_t c = 0; c < hidden; ++c)
      wk.at(row, c) *= 12.0f;
  KILN_ASSERT_OK_AND_ASSIGN(keys, matmulTransposed(x, wk));
  KILN_ASSERT_OK_AND_ASSIGN(queries, matmulTransposed(x, wq));
  KILN_ASSERT_OK_AND_ASSIGN(lambda, smoothAttentionScales(keys, headDim));
  std::vector<float> keyMax(keys.cols, 0.0f);
  for (int64_t t = 0; t < keys.rows; ++t)
    for (int64_t j = 0; j < keys.cols; ++j)
      keyMax[j] = std::fmax(keyMax[j], std::fabs(keys.at(t, j)));
  for (int64_t j = 0; j < keys.cols; ++j)
    EXPECT_FLOAT_EQ(lambda[j], std::sqrt(keyMax[j]));

  Matrix wq2 = wq, wk2 = wk;
  std::vector<float> bq(wq.rows, 0.5f), bk(wk.rows, 0.25f);
  ASSERT_TRUE(
      foldSmoothAttention(wq2, &bq, wk2, &bk, lambda, qHeads, kvHeads, headDim)
          .succeeded());
  EXPECT_FLOAT_EQ(bq[headDim * 2 + 3], 0.5f * lambda[headDim + 3]);
  EXPECT_FLOAT_EQ(bk[3], 0.25f / lambda[3]);
  KILN_ASSERT_OK_AND_ASSIGN(keys2, matmulTransposed(x, wk2));
  KILN_ASSERT_OK_AND_ASSIGN(queries2, matmulTransposed(x, wq2));
  // Scores are unchanged for every query head (GQA: head h reads KV head
  // h / 2).
  for (int64_t h = 0; h < qHeads; ++h) {
    Matrix s = headScores(queries, keys, h, h / 2, headDim);
    Matrix s2 = headScores(queries2, keys2, h, h / 2, headDim);
    EXPECT_GT(sqnrDb(s.data.data(), s2.data.data(), s.data.size()), 100.0)
        << "head " << h;
  }
  // Smoothed keys: max|K'_j| = max|K_j|^(1 - alpha).
  for (int64_t j = 0; j < keys2.cols; ++j) {
    float m2 = 0.0f;
    for (int64_t t = 0; t < keys2.rows; ++t)
      m2 = std::fmax(m2, std::fabs(keys2.at(t, j)));
    EXPECT_NEAR(m2, std::sqrt(keyMax[j]), 1e-4f * std::sqrt(keyMax[j])) << j;
  }

  // 4-bit KV cache: the attention scores computed from KV4 keys are much
  // closer to the float scores after SmoothAttention.
  KILN_ASSERT_OK_AND_ASSIGN(kv4, quantizeKvCache4(keys, headDim));
  KILN_ASSERT_OK_AND_ASSIGN(kv4s, quantizeKvCache4(keys2, headDim));
  ASSERT_EQ(kv4.groupsPerRow(), kvHeads);
  Matrix k4 = kv4.dequantize(), k4s = kv4s.dequantize();
  double plain = 0.0, smoothed = 0.0;
  for (int64_t h = 0; h < qHeads; ++h) {
    Matrix ref = headScores(queries, keys, h, h / 2, headDim);
    Matrix a = headScores(queries, k4, h, h / 2, headDim);
    Matrix b = headScores(queries2, k4s, h, h / 2, headDim);
    plain += sqnrDb(ref.data.data(), a.data.data(), ref.data.size());
    smoothed += sqnrDb(ref.data.data(), b.data.data(), ref.data.size());
  }
  std::printf("[ qoq      ] KV4 attention-score SQNR (mean over heads): "
              "plain %.2f dB, SmoothAttention %.2f dB\n",
              plain / qHeads, smoothed / qHeads);
  EXPECT_GT(smoothed, plain + 3.0 * qHeads);
}

TEST(QuantQoq, RopePairsShareLambda) {
  Matrix keys = randomMatrix(8, 16, 81);
  keys.at(2, 1) = 40.0f; // channel 1 of head 0
  KILN_ASSERT_OK_AND_ASSIGN(
      half, smoothAttentionScales(keys, 8, 0.5, RopePairing::HalfSplit));
  KILN_ASSERT_OK_AND_ASSIGN(
      inter, smoothAttentionScales(keys, 8, 0.5, RopePairing::Interleaved));
  for (int64_t j = 0; j < 16; ++j) {
    int64_t base = j - j % 8, d = j % 8;
    EXPECT_EQ(half[j], half[base + (d + 4) % 8]) << j;
    EXPECT_EQ(inter[j], inter[base + (d ^ 1)]) << j;
  }
  EXPECT_FLOAT_EQ(half[5], std::sqrt(40.0f));
  EXPECT_FLOAT_EQ(inter[0], std::sqrt(40.0f));
  EXPECT_FALSE(smoothAttentionScales(keys, 5).succeeded());
}

TEST(QuantQoq, FoldRejectsBadShapes) {
  Matrix wq(8, 4, 1.0f), wk(4, 4, 1.0f);
  std::vector<float> lambda(4, 2.0f);
  Status st = foldSmoothAttention(wq, nullptr, wk, nullptr, lambda, 3, 2, 4);
  ASSERT_FALSE(st.succeeded());
  EXPECT_NE(st.str().find("query heads a multiple of key/value heads"),
            std::string::npos);
  EXPECT_FALSE(foldSmoothAttention(wq, nullptr, wk, nullptr, {1, 1}, 2, 1, 4)
                   .succeeded());
}

} // namespace
