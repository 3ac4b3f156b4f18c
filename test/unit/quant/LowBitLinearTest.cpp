//===- LowBitLinearTest.cpp - Tests of LowBitLinear.h -----------*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// Format names and pairing rules, the stored forms (codes and parameters
// equal the underlying quantizers'), their storage size, the checks of
// malformed weights, and the accumulation orders of lowBitLinearForward.
//
//===----------------------------------------------------------------------===//

#include "kiln/quant/FakeQuant.h"
#include "kiln/quant/GroupInt4.h"
#include "kiln/quant/LowBitLinear.h"
#include "kiln/quant/NvFp4.h"
#include "kiln/quant/Qoq.h"
#include "kiln/quant/Smooth.h"

#include "TestUtil.h"

namespace kiln::quant {
namespace {

using test::randomMatrix;

TEST(LowBitLinear, FormatNamesRoundTrip) {
  for (WeightFormat f :
       {WeightFormat::Int8, WeightFormat::Int4Sym, WeightFormat::Int4Asym,
        WeightFormat::Qoq, WeightFormat::NvFp4,
        WeightFormat::NvFp4FourOverSix}) {
    auto parsed = parseWeightFormat(weightFormatName(f));
    ASSERT_TRUE(parsed);
    EXPECT_EQ(*parsed, f);
  }
  for (ActFormat f : {ActFormat::None, ActFormat::Int8, ActFormat::Int4Sym,
                      ActFormat::NvFp4, ActFormat::NvFp4FourOverSix}) {
    auto parsed = parseActFormat(actFormatName(f));
    ASSERT_TRUE(parsed);
    EXPECT_EQ(*parsed, f);
  }
  EXPECT_FALSE(parseWeightFormat("int3"));
  EXPECT_FALSE(parseActFormat("fp8"));
}

TEST(LowBitLinear, PairsWithKernels) {
  EXPECT_TRUE(checkLowBitFormats(WeightFormat::Int8, 0, ActFormat::Int8, 0,
                                 256));
  EXPECT_TRUE(checkLowBitFormats(WeightFormat::Qoq, 128, ActFormat::Int8, 0,
                                 256));
  EXPECT_TRUE(checkLowBitFormats(WeightFormat::Int4Sym, 64,
                                 ActFormat::Int4Sym, 64, 256));
  EXPECT_TRUE(checkLowBitFormats(WeightFormat::Int4Asym, 128,
                                 ActFormat::None, 0, 256));
  EXPECT_TRUE(checkLowBitFormats(WeightFormat::NvFp4FourOverSix, 16,
                                 ActFormat::NvFp4, 16, 256));
  // No kernel, group mismatch, group not dividing K, NVFP4 block size.
  EXPECT_FALSE(checkLowBitFormats(WeightFormat::Int4Asym, 128,
                                  ActFormat::Int8, 0, 256));
  EXPECT_FALSE(checkLowBitFormats(WeightFormat::Int4Sym, 64,
                                  ActFormat::Int4Sym, 128, 256));
  EXPECT_FALSE(checkLowBitFormats(WeightFormat::Int4Sym, 96,
                                  ActFormat::None, 0, 256));
  EXPECT_FALSE(checkLowBitFormats(WeightFormat::NvFp4, 32, ActFormat::None,
                                  0, 256));
}

TEST(LowBitLinear, StoredFormsAreTheQuantizers) {
  Matrix w = randomMatrix(8, 256, 21);
  auto qoq = quantizeLowBitWeights(w, WeightFormat::Qoq, 128);
  ASSERT_TRUE(qoq) << qoq.status().str();
  auto ref = quantizeQoqWeights(w, 128);
  ASSERT_TRUE(ref);
  EXPECT_EQ(qoq->int8Values(), ref->int8Values());
  Matrix a = qoq->dequantize(), b = ref->dequantize();
  EXPECT_EQ(a.data, b.data);

  auto nv = quantizeLowBitWeights(w, WeightFormat::NvFp4FourOverSix, 16);
  ASSERT_TRUE(nv);
  NvFp4Options options;
  options.scaling = NvFp4Scaling::FourOverSix;
  auto nvRef = fakeQuantNvFp4(w, options);
  ASSERT_TRUE(nvRef);
  EXPECT_EQ(nv->dequantize().data, nvRef->data);

  auto asym = quantizeLowBitWeights(w, WeightFormat::Int4Asym, 128);
  ASSERT_TRUE(asym);
  auto asymRef = fakeQuantGroupInt4(w, 128, Int4Kind::Asymmetric);
  ASSERT_TRUE(asymRef);
  EXPECT_EQ(asym->dequantize().data, asymRef->data);
}

TEST(LowBitLinear, StorageBits) {
  Matrix w = randomMatrix(4, 256, 22);
  auto bits = [&](WeightFormat f, int64_t g) {
    auto q = quantizeLowBitWeights(w, f, g);
    EXPECT_TRUE(q);
    return q ? q->storageBits() : 0;
  };
  // Codes, then per-row or per-group parameters.
  EXPECT_EQ(bits(WeightFormat::Int8, 0), 4 * 256 * 8 + 4 * 32);
  EXPECT_EQ(bits(WeightFormat::Int4Sym, 64), 4 * 256 * 4 + 4 * 4 * 32);
  EXPECT_EQ(bits(WeightFormat::Int4Asym, 128), 4 * 256 * 4 + 4 * 2 * 36);
  EXPECT_EQ(bits(WeightFormat::Qoq, 128), 4 * 256 * 4 + 4 * 32 + 4 * 2 * 16);
  EXPECT_EQ(bits(WeightFormat::NvFp4, 16), 4 * 256 * 4 + 4 * 16 * 8 + 32);
}

TEST(LowBitLinear, RejectsMalformedWeights) {
  Matrix w = randomMatrix(2, 128, 23);
  auto q = quantizeLowBitWeights(w, WeightFormat::Qoq, 128);
  ASSERT_TRUE(q);
  LowBitWeights bad = *q;
  bad.groupScales[0] = 17;
  Status st = checkLowBitWeights(bad);
  ASSERT_FALSE(st);
  EXPECT_NE(st.str().find("qoq group 0 needs a scale in [1, 16]"),
            std::string::npos)
      << st.str();
  bad = *q;
  bad.codes[5] = 16;
  st = checkLowBitWeights(bad);
  ASSERT_FALSE(st);
  EXPECT_NE(st.str().find("weight code 5 is 16, outside [0, 15] of 'qoq'"),
            std::string::npos)
      << st.str();
  bad = *q;
  bad.scales[1] = 0.0f;
  EXPECT_FALSE(checkLowBitWeights(bad));
  // The forward pass checks before it computes.
  auto y = lowBitLinearForward(randomMatrix(1, 128, 24), bad,
                               ActQuant{ActFormat::Int8, 0, {}});
  EXPECT_FALSE(y);
}

TEST(LowBitLinear, BiasIsAddedLast) {
  Matrix x = randomMatrix(3, 64, 25), w = randomMatrix(5, 64, 26);
  auto q = quantizeLowBitWeights(w, WeightFormat::Int4Sym, 64);
  ASSERT_TRUE(q);
  ActQuant act{ActFormat::Int4Sym, 64, {}};
  std::vector<float> bias = {1.0f, -2.0f, 0.5f, 0.0f, 3.25f};
  auto y0 = lowBitLinearForward(x, *q, act);
  auto y1 = lowBitLinearForward(x, *q, act, bias.data());
  ASSERT_TRUE(y0 && y1);
  for (int64_t m = 0; m < 3; ++m)
    for (int64_t n = 0; n < 5; ++n)
      EXPECT_EQ(y1->at(m, n), y0->at(m, n) + bias[n]);
}

} // namespace
} // namespace kiln::quant
