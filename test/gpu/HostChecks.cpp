//===- HostChecks.cpp - CUDA runtime arithmetic vs the oracles (CPU) ------===//
// SPDX-License-Identifier: Apache-2.0
//
// The GPU tests compare kernels with the host references of Reference.h and
// with the host side of the shared arithmetic (Numeric.h, Epilogue.h,
// Elementwise.cuh's element functions, Packing.h). This CPU-only test closes
// the chain: those references must equal the project's oracles, kiln::ref
// (TFLite int8 semantics) and kiln::quant (QoQ, group int4, fp16), bit for
// bit. It runs in every CI build, GPU or not.
//
//===----------------------------------------------------------------------===//

#include "Reference.h"

#include "compiler/reference/IntegerKernels.h"
#include "kiln/cuda/ElementOps.h"
#include "kiln/cuda/Epilogue.h"
#include "kiln/cuda/Numeric.h"
#include "kiln/quant/FloatFormats.h"
#include "kiln/quant/Int8.h"
#include "kiln/quant/Matrix.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

namespace {

using namespace kiln;
namespace kc = kiln::cuda;
namespace gt = kiln::gputest;

TEST(GpuNumeric, FixedPointMatchesReference) {
  std::mt19937 rng(1);
  std::uniform_int_distribution<int32_t> any(INT32_MIN, INT32_MAX);
  std::uniform_int_distribution<int32_t> small(-70000, 70000);
  std::uniform_real_distribution<double> logReal(-40.0, 29.0);
  for (int i = 0; i < 200000; ++i) {
    const int32_t x = i % 3 == 0 ? any(rng) : small(rng);
    Result<ref::QuantizedMultiplier> qm =
        ref::quantizeMultiplier(std::exp2(logReal(rng)));
    ASSERT_TRUE(qm.succeeded());
    ASSERT_EQ(kc::multiplyByQuantizedMultiplier(x, qm->multiplier, qm->shift),
              ref::multiplyByQuantizedMultiplier(x, qm->multiplier, qm->shift))
        << "x=" << x << " m=" << qm->multiplier << " s=" << qm->shift;
  }
  for (int32_t a : {INT32_MIN, INT32_MIN + 1, -1, 0, 1, INT32_MAX})
    for (int32_t b : {INT32_MIN, -(1 << 30), 1 << 30, INT32_MAX})
      EXPECT_EQ(kc::saturatingRoundingDoublingHighMul(a, b),
                ref::saturatingRoundingDoublingHighMul(a, b));
  for (int32_t e = 0; e <= 31; ++e)
    for (int32_t x : {INT32_MIN, -5, -4, -3, -1, 0, 1, 3, 4, 5, INT32_MAX})
      EXPECT_EQ(kc::roundingDivideByPOT(x, e), ref::roundingDivideByPOT(x, e));
}

TEST(GpuNumeric, QuantizeMatchesQuantAndReference) {
  std::mt19937 rng(2);
  std::normal_distribution<float> normal(0.0f, 30.0f);
  std::uniform_real_distribution<float> scales(0.001f, 2.0f);
  std::uniform_int_distribution<int32_t> zps(-128, 127);
  for (int i = 0; i < 200000; ++i) {
    const float scale = scales(rng);
    const int32_t zp = zps(rng);
    float x = normal(rng) * scale;
    if (i % 5 == 0) // exact ties: (k + 0.5) * scale
      x = (std::round(normal(rng)) + 0.5f) * scale;
    ASSERT_EQ(kc::quantizeToInt(x, scale, zp, -128, 127),
              quant::quantizeToInt(x, scale, zp, -128, 127));
    ASSERT_EQ(int8_t(kc::quantizeToInt(x, scale, zp, -128, 127)),
              ref::quantize(x, scale, zp));
    ASSERT_EQ(kc::quantizeToInt(x, scale, 0, -7, 7),
              quant::quantizeToInt(x, scale, 0, -7, 7));
  }
  const float nan = std::numeric_limits<float>::quiet_NaN();
  EXPECT_EQ(kc::quantizeToInt(nan, 1.0f, 5, -128, 127), 5);
  EXPECT_EQ(kc::quantizeToInt(1e30f, 1e-30f, 0, -128, 127), 127);
  EXPECT_EQ(kc::quantizeToInt(-1e30f, 1e-30f, 0, -128, 127), -128);
}

TEST(GpuNumeric, HalfConversionMatchesQuant) {
  std::mt19937 rng(3);
  std::uniform_int_distribution<uint32_t> bits;
  for (int i = 0; i < 1000000; ++i) {
    uint32_t u = bits(rng);
    // Concentrate on the fp16 range (exponents 100..145) most of the time.
    if (i % 4 != 0)
      u = (u & 0x807fffffu) | ((100u + u % 46u) << 23);
    float x;
    std::memcpy(&x, &u, 4);
    if (std::isnan(x))
      continue;
    ASSERT_EQ(kc::floatToHalfBits(x), quant::floatToHalf(x)) << x;
  }
  for (uint32_t h = 0; h < 0x10000u; ++h) {
    const float a = kc::halfBitsToFloat(uint16_t(h));
    const float b = quant::halfToFloat(uint16_t(h));
    if (std::isnan(b))
      EXPECT_TRUE(std::isnan(a));
    else
      ASSERT_EQ(std::memcmp(&a, &b, 4), 0) << h;
  }
}

/// TFLite fully connected with zero points through the GEMM reference plus
/// the kInt8Fixed epilogue (zero-point correction folded into biasInt).
TEST(GpuReference, Int8GemmRequantMatchesFullyConnected) {
  std::mt19937 rng(4);
  std::uniform_int_distribution<int> i8(-128, 127), w8(-127, 127);
  for (auto [M, N, K] : {std::tuple{1, 7, 33}, std::tuple{5, 16, 64},
                         std::tuple{9, 31, 200}}) {
    const int32_t inZp = i8(rng) / 4, outZp = i8(rng) / 4;
    std::vector<int8_t> x(size_t(M) * K), w(size_t(N) * K);
    std::vector<int32_t> bias(N);
    for (auto &v : x)
      v = int8_t(i8(rng));
    for (auto &v : w)
      v = int8_t(w8(rng));
    for (auto &v : bias)
      v = i8(rng) * 50;
    std::vector<double> wScales(N);
    for (auto &s : wScales)
      s = 0.001 + 0.002 * (i8(rng) + 128) / 255.0;
    Result<std::vector<ref::QuantizedMultiplier>> qms =
        ref::makeConvMultipliers(0.05, {wScales.data(), wScales.size()}, 0.1);
    ASSERT_TRUE(qms.succeeded());
    std::vector<int32_t> mult(N), shift(N);
    for (int n = 0; n < N; ++n) {
      mult[n] = (*qms)[n].multiplier;
      shift[n] = (*qms)[n].shift;
    }
    ref::FullyConnectedParams p;
    p.batch = M;
    p.inputFeatures = K;
    p.outputFeatures = N;
    p.inputZeroPoint = inZp;
    p.outputZeroPoint = outZp;
    p.activation = ref::activationRange(ref::Activation::Relu, 0.1f, outZp);
    std::vector<int8_t> want(size_t(M) * N);
    ASSERT_TRUE(ref::fullyConnected(p, {x.data(), x.size()},
                                    {w.data(), w.size()},
                                    {bias.data(), bias.size()},
                                    {{mult.data(), mult.size()},
                                     {shift.data(), shift.size()}},
                                    {want.data(), want.size()})
                    .succeeded());
    // What the compiler emits: biasInt = bias - inZp * sum_k w.
    std::vector<int32_t> biasInt(N);
    for (int n = 0; n < N; ++n) {
      int32_t s = 0;
      for (int k = 0; k < K; ++k)
        s += w[size_t(n) * K + k];
      biasInt[n] = bias[n] - inZp * s;
    }
    using Epi = kc::Epilogue<kc::OutKind::kInt8Fixed, kc::Act::kNone,
                             kc::kEpiBiasInt>;
    kc::EpilogueParams ep;
    ep.biasInt = biasInt.data();
    ep.multiplier = mult.data();
    ep.shift = shift.data();
    ep.outZeroPoint = outZp;
    ep.clampMin = p.activation.min;
    ep.clampMax = p.activation.max;
    const std::vector<int8_t> got = gt::applyEpilogue<Epi>(
        ep, M, N, gt::gemmInt32(M, N, K, x.data(), K, w.data(), K));
    EXPECT_EQ(got, want);
  }
}

/// The convolution references (implicit GEMM with zero-point padding and
/// depthwise with a [KH][KW][C] filter) against kiln::ref::conv2d.
TEST(GpuReference, ConvolutionsMatchConv2d) {
  std::mt19937 rng(5);
  std::uniform_int_distribution<int> i8(-128, 127), w8(-127, 127);
  struct Case {
    int batch, H, W, C, OC, KH, KW, stride, pad, dilation;
    bool depthwise;
  };
  for (const Case &c :
       {Case{1, 7, 7, 8, 5, 3, 3, 1, 1, 1, false},
        Case{2, 9, 6, 4, 3, 3, 2, 2, 1, 1, false},
        Case{1, 11, 11, 3, 4, 5, 5, 1, 2, 2, false},
        Case{1, 8, 8, 8, 8, 3, 3, 1, 1, 1, true},
        Case{2, 9, 7, 6, 6, 3, 3, 2, 1, 1, true},
        Case{1, 10, 10, 5, 5, 5, 5, 1, 4, 2, true}}) {
    const int32_t inZp = i8(rng) / 4, outZp = i8(rng) / 4;
    ref::Conv2DParams p;
    p.batch = c.batch;
    p.inputHeight = c.H;
    p.inputWidth = c.W;
    p.inputChannels = c.C;
    p.outputChannels = c.OC;
    p.kernelHeight = c.KH;
    p.kernelWidth = c.KW;
    p.strideHeight = p.strideWidth = c.stride;
    p.dilationHeight = p.dilationWidth = c.dilation;
    p.padTop = p.padBottom = p.padLeft = p.padRight = c.pad;
    p.groups = c.depthwise ? c.C : 1;
    p.inputZeroPoint = inZp;
    p.outputZeroPoint = outZp;
    const int Ig = c.depthwise ? 1 : c.C;
    const int K = c.KH * c.KW * Ig;
    std::vector<int8_t> x(size_t(c.batch) * c.H * c.W * c.C),
        w(size_t(c.OC) * K);
    for (auto &v : x)
      v = int8_t(i8(rng));
    for (auto &v : w)
      v = int8_t(w8(rng));
    std::vector<int32_t> bias(c.OC), mult(c.OC), shift(c.OC);
    for (int o = 0; o < c.OC; ++o) {
      bias[o] = i8(rng) * 20;
      gt::quantizeMultiplier(0.002 * (1 + o % 3), mult[o], shift[o]);
    }
    const int OH = int(p.outputHeight()), OW = int(p.outputWidth());
    std::vector<int8_t> want(size_t(c.batch) * OH * OW * c.OC);
    ASSERT_TRUE(ref::conv2d(p, {x.data(), x.size()}, {w.data(), w.size()},
                            {bias.data(), bias.size()},
                            {{mult.data(), mult.size()},
                             {shift.data(), shift.size()}},
                            {want.data(), want.size()})
                    .succeeded());
    std::vector<int32_t> biasInt(c.OC);
    for (int o = 0; o < c.OC; ++o) {
      int32_t s = 0;
      for (int k = 0; k < K; ++k)
        s += w[size_t(o) * K + k];
      biasInt[o] = bias[o] - inZp * s;
    }
    gt::ConvShape s;
    s.batch = c.batch;
    s.H = c.H;
    s.W = c.W;
    s.C = c.C;
    s.OH = OH;
    s.OW = OW;
    s.KH = c.KH;
    s.KW = c.KW;
    s.strideH = s.strideW = c.stride;
    s.padTop = s.padLeft = c.pad;
    s.dilationH = s.dilationW = c.dilation;
    std::vector<int32_t> acc;
    if (c.depthwise) {
      // The compiler repacks [C][KH][KW] to [KH][KW][C].
      std::vector<int8_t> packed(w.size());
      for (int ch = 0; ch < c.C; ++ch)
        for (int t = 0; t < c.KH * c.KW; ++t)
          packed[size_t(t) * c.C + ch] = w[size_t(ch) * c.KH * c.KW + t];
      acc = gt::depthwise<int32_t>(s, x.data(), packed.data(), inZp);
    } else {
      acc = gt::convInt32(s, c.OC, x.data(), w.data(), inZp);
    }
    using Epi = kc::Epilogue<kc::OutKind::kInt8Fixed, kc::Act::kNone,
                             kc::kEpiBiasInt>;
    kc::EpilogueParams ep;
    ep.biasInt = biasInt.data();
    ep.multiplier = mult.data();
    ep.shift = shift.data();
    ep.outZeroPoint = outZp;
    const std::vector<int8_t> got =
        gt::applyEpilogue<Epi>(ep, c.batch * OH * OW, c.OC, acc);
    EXPECT_EQ(got, want) << "case C=" << c.C << " depthwise=" << c.depthwise;
  }
}

TEST(GpuReference, PoolingMatchesReference) {
  std::mt19937 rng(6);
  std::uniform_int_distribution<int> i8(-128, 127);
  for (bool includePad : {false, true})
    for (auto [H, W, k, s, pad] : {std::tuple{8, 8, 2, 2, 0},
                                   std::tuple{9, 7, 3, 2, 1},
                                   std::tuple{5, 6, 3, 1, 1}}) {
      ref::Pool2DParams p;
      p.batch = 2;
      p.inputHeight = H;
      p.inputWidth = W;
      p.channels = 5;
      p.kernelHeight = p.kernelWidth = k;
      p.strideHeight = p.strideWidth = s;
      p.padTop = p.padBottom = p.padLeft = p.padRight = pad;
      p.countIncludePad = includePad;
      p.zeroPoint = -9;
      p.activation = {-100, 120};
      std::vector<int8_t> x(size_t(2) * H * W * 5);
      for (auto &v : x)
        v = int8_t(i8(rng));
      gt::PoolShape q;
      q.batch = 2;
      q.H = H;
      q.W = W;
      q.C = 5;
      q.OH = int(p.outputHeight());
      q.OW = int(p.outputWidth());
      q.KH = q.KW = k;
      q.strideH = q.strideW = s;
      q.padTop = q.padLeft = q.padBottom = q.padRight = pad;
      q.countIncludePad = includePad;
      q.zeroPoint = -9;
      q.clampMin = -100;
      q.clampMax = 120;
      std::vector<int8_t> want(size_t(2) * q.OH * q.OW * 5);
      ASSERT_TRUE(ref::averagePool2d(p, {x.data(), x.size()},
                                     {want.data(), want.size()})
                      .succeeded());
      EXPECT_EQ(gt::poolInt8(q, x.data(), false), want);
      ASSERT_TRUE(
          ref::maxPool2d(p, {x.data(), x.size()}, {want.data(), want.size()})
              .succeeded());
      EXPECT_EQ(gt::poolInt8(q, x.data(), true), want);
    }
}

TEST(GpuReference, Int8AddMatchesReference) {
  std::mt19937 rng(7);
  std::uniform_int_distribution<int> i8(-128, 127);
  Result<ref::AddParams> rp =
      ref::makeAddParams(0.05, 3, 0.03, -7, 0.07, 1, {-128, 127});
  ASSERT_TRUE(rp.succeeded());
  kc::Int8AddParams p;
  p.input1ZeroPoint = rp->input1ZeroPoint;
  p.input2ZeroPoint = rp->input2ZeroPoint;
  p.outputZeroPoint = rp->outputZeroPoint;
  p.leftShift = rp->leftShift;
  p.input1Multiplier = rp->input1.multiplier;
  p.input1Shift = rp->input1.shift;
  p.input2Multiplier = rp->input2.multiplier;
  p.input2Shift = rp->input2.shift;
  p.outputMultiplier = rp->output.multiplier;
  p.outputShift = rp->output.shift;
  std::vector<int8_t> a(4096), b(4096), want(4096);
  for (size_t i = 0; i < a.size(); ++i) {
    a[i] = int8_t(i8(rng));
    b[i] = int8_t(i8(rng));
  }
  const int64_t shape[] = {4096};
  ASSERT_TRUE(ref::add(*rp, {shape, 1}, {a.data(), a.size()}, {shape, 1},
                       {b.data(), b.size()}, {want.data(), want.size()})
                  .succeeded());
  for (size_t i = 0; i < a.size(); ++i)
    ASSERT_EQ(kc::int8AddElement(p, a[i], b[i]), want[i]) << i;
}

TEST(GpuReference, Int8SoftmaxMatchesReference) {
  std::mt19937 rng(8);
  std::uniform_int_distribution<int> i8(-128, 127);
  for (int64_t cols : {int64_t(1), int64_t(10), int64_t(1000)}) {
    Result<ref::SoftmaxTable> table = ref::makeSoftmaxTable(0.05, 1.0, cols);
    ASSERT_TRUE(table.succeeded());
    std::vector<int8_t> x(size_t(3) * cols), want(x.size());
    for (auto &v : x)
      v = int8_t(i8(rng));
    ASSERT_TRUE(ref::softmax(3, cols, *table, {x.data(), x.size()},
                             {want.data(), want.size()})
                    .succeeded());
    for (int r = 0; r < 3; ++r) {
      const int8_t *row = &x[size_t(r) * cols];
      int32_t mx = -128, S = 0;
      for (int64_t c = 0; c < cols; ++c)
        mx = std::max<int32_t>(mx, row[c]);
      for (int64_t c = 0; c < cols; ++c)
        S += (*table)[mx - row[c]];
      for (int64_t c = 0; c < cols; ++c)
        ASSERT_EQ(kc::int8SoftmaxValue(uint32_t((*table)[mx - row[c]]),
                                       uint32_t(S)),
                  want[size_t(r) * cols + c]);
    }
  }
}

TEST(GpuReference, PerTokenQuantMatchesQuant) {
  std::mt19937 rng(9);
  std::normal_distribution<float> normal(0.0f, 3.0f);
  const int rows = 9, cols = 300;
  std::vector<float> x(size_t(rows) * cols);
  for (auto &v : x) // fp16-representable inputs, as the kernel reads fp16
    v = kc::halfBitsToFloat(kc::floatToHalfBits(normal(rng)));
  for (int c = 0; c < cols; ++c)
    x[c] = 0.0f; // a zero row
  Result<quant::Int8PerRow> q = quant::quantizeActivationsInt8PerToken(
      quant::MatrixRef(x.data(), rows, cols));
  ASSERT_TRUE(q.succeeded());
  for (int r = 0; r < rows; ++r) {
    float amax = 0;
    for (int c = 0; c < cols; ++c)
      amax = std::fmax(amax, std::fabs(x[size_t(r) * cols + c]));
    const float s = kc::perTokenScale(amax);
    ASSERT_EQ(s, q->scales[r]);
    for (int c = 0; c < cols; ++c)
      ASSERT_EQ(int8_t(kc::quantizeToInt(x[size_t(r) * cols + c], s, 0, -127,
                                         127)),
                q->values[size_t(r) * cols + c]);
  }
}

} // namespace
