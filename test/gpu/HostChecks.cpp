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
#include "kiln/cuda/Packing.h"
#include "kiln/cuda/Select.h"
#include "kiln/quant/FloatFormats.h"
#include "kiln/quant/GroupInt4.h"
#include "kiln/quant/Int8.h"
#include "kiln/quant/Matrix.h"
#include "kiln/quant/Qoq.h"
#include "kiln/quant/SvdQuant.h"

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

/// The device's smallIntToFloat bit trick, evaluated on the host, is exact
/// over its whole documented range.
TEST(GpuNumeric, SmallIntToFloatTrickIsExact) {
  for (int32_t x = -(1 << 22); x < (1 << 22); ++x) {
    const uint32_t bits = 0x4b400000u + uint32_t(x);
    float f;
    std::memcpy(&f, &bits, 4);
    ASSERT_EQ(f - 12582912.0f, static_cast<float>(x)) << x;
  }
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

//===----------------------------------------------------------------------===//
// Low-bit register paths, emulated with the PTX fragment layouts
//===----------------------------------------------------------------------===//

/// mma.m16n8k32.s8 on emulated registers: A register r of lane (g, t) holds
/// row g + 8 (r % 2), k = 16 (r / 2) + 4t + byte; B register r holds column
/// g, k = 16 r + 4t + byte.
void mmaS8Emu(const uint32_t (&a)[32][4], const uint32_t (&b)[32][2],
              int32_t (&d)[16][8]) {
  int32_t A[16][32], B[32][8];
  for (int l = 0; l < 32; ++l)
    for (int r = 0; r < 4; ++r)
      for (int j = 0; j < 4; ++j)
        A[l / 4 + 8 * (r % 2)][16 * (r / 2) + 4 * (l % 4) + j] =
            int8_t(a[l][r] >> (8 * j));
  for (int l = 0; l < 32; ++l)
    for (int r = 0; r < 2; ++r)
      for (int j = 0; j < 4; ++j)
        B[16 * r + 4 * (l % 4) + j][l / 4] = int8_t(b[l][r] >> (8 * j));
  for (int m = 0; m < 16; ++m)
    for (int n = 0; n < 8; ++n)
      for (int k = 0; k < 32; ++k)
        d[m][n] += A[m][k] * B[k][n];
}

/// mma.m16n8k64.s4: A register r holds row g + 8 (r % 2), k = 32 (r / 2) +
/// 8t + nibble; B register r holds column g, k = 32 r + 8t + nibble.
void mmaS4Emu(const uint32_t (&a)[32][4], const uint32_t (&b)[32][2],
              int32_t (&d)[16][8]) {
  int32_t A[16][64], B[64][8];
  const auto nib = [](uint32_t w, int i) {
    return int32_t(int8_t(uint8_t((w >> (4 * i)) & 0xf) << 4) >> 4);
  };
  for (int l = 0; l < 32; ++l)
    for (int r = 0; r < 4; ++r)
      for (int i = 0; i < 8; ++i)
        A[l / 4 + 8 * (r % 2)][32 * (r / 2) + 8 * (l % 4) + i] = nib(a[l][r], i);
  for (int l = 0; l < 32; ++l)
    for (int r = 0; r < 2; ++r)
      for (int i = 0; i < 8; ++i)
        B[32 * r + 8 * (l % 4) + i][l / 4] = nib(b[l][r], i);
  for (int m = 0; m < 16; ++m)
    for (int n = 0; n < 8; ++n)
      for (int k = 0; k < 64; ++k)
        d[m][n] += A[m][k] * B[k][n];
}

/// ldmatrix.x4 over a 16-row tile of 32-byte rows (GemmSm80's A
/// addressing): register i is matrix i = (rows + 8 (i % 2), bytes +
/// 16 (i / 2)); lane (g, t) receives row g, bytes 4t..4t+3.
uint32_t ldmatrixA(const uint8_t *tile, int lane, int i) {
  const uint8_t *p = tile + (lane / 4 + 8 * (i % 2)) * 32 + 16 * (i / 2) +
                     4 * (lane % 4);
  return uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 |
         uint32_t(p[3]) << 24;
}

/// ldmatrix of one 8-column B tile of 32-byte rows: register r = bytes
/// 16 r + 4t of row g.
uint32_t ldmatrixB(const uint8_t *tile, int lane, int r) {
  const uint8_t *p = tile + (lane / 4) * 32 + 16 * r + 4 * (lane % 4);
  return uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 |
         uint32_t(p[3]) << 24;
}

TEST(GpuLowBit, Sub4Mod256IsBytewiseSubtraction) {
  std::mt19937 rng(10);
  std::uniform_int_distribution<uint32_t> any;
  for (uint32_t b = 0; b < 256; ++b) {
    const kc::Sub4Operand op = kc::makeSub4Operand(b);
    for (int i = 0; i < 2000; ++i) {
      const uint32_t a = any(rng);
      const uint32_t r = kc::sub4Mod256(a, op.low, op.invHigh);
      for (int j = 0; j < 4; ++j)
        ASSERT_EQ((r >> (8 * j)) & 0xff, ((a >> (8 * j)) - b) & 0xff);
    }
  }
}

/// Int4 fragments through the int8 path give the s4 mma's result, which is
/// the plain product.
TEST(GpuLowBit, Int4FragmentsThroughInt8MatchS4Mma) {
  std::mt19937 rng(11);
  std::uniform_int_distribution<int> q(-8, 7);
  for (int trial = 0; trial < 200; ++trial) {
    int8_t A[16][64], B[8][64];
    uint8_t aBytes[16 * 32], bBytes[8 * 32];
    for (int m = 0; m < 16; ++m)
      for (int k = 0; k < 64; ++k)
        A[m][k] = int8_t(q(rng));
    for (int n = 0; n < 8; ++n)
      for (int k = 0; k < 64; ++k)
        B[n][k] = int8_t(q(rng));
    const kc::W4A4Packed pa = kc::packW4A4(&A[0][0], std::vector<float>(16).data(), 16, 64);
    const kc::W4A4Packed pb = kc::packW4A4(&B[0][0], std::vector<float>(8).data(), 8, 64);
    std::copy(pa.codes.begin(), pa.codes.end(), aBytes);
    std::copy(pb.codes.begin(), pb.codes.end(), bBytes);
    uint32_t a[32][4], b[32][2], a0[32][4], b0[32][2], a1[32][4], b1[32][2];
    for (int l = 0; l < 32; ++l) {
      for (int i = 0; i < 4; ++i)
        a[l][i] = ldmatrixA(aBytes, l, i);
      for (int r = 0; r < 2; ++r)
        b[l][r] = ldmatrixB(bBytes, l, r);
      kc::s4FragmentsToS8(a[l], b[l], a0[l], b0[l], a1[l], b1[l]);
    }
    int32_t d4[16][8] = {}, d8[16][8] = {};
    mmaS4Emu(a, b, d4);
    mmaS8Emu(a0, b0, d8);
    mmaS8Emu(a1, b1, d8);
    for (int m = 0; m < 16; ++m)
      for (int n = 0; n < 8; ++n) {
        int32_t want = 0;
        for (int k = 0; k < 64; ++k)
          want += A[m][k] * B[n][k];
        ASSERT_EQ(d4[m][n], want);
        ASSERT_EQ(d8[m][n], want);
      }
  }
}

TEST(GpuLowBit, QoqRuleMatchesQuant) {
  for (int32_t lo = -119; lo <= 119; ++lo)
    for (int32_t hi = lo; hi <= 119; hi += 3) {
      const quant::QoqGroupParams p = quant::chooseQoqGroupParams(lo, hi);
      uint8_t s2, z;
      gt::qoqGroup(lo, hi, s2, z);
      ASSERT_EQ(s2, p.scale) << lo << " " << hi;
      ASSERT_EQ(z, p.zero) << lo << " " << hi;
      for (int32_t v = lo; v <= hi; v += 7) {
        const uint8_t c = gt::qoqCode(v, s2, z);
        ASSERT_EQ(c, quant::quantizeQoqValue(v, p));
        ASSERT_EQ(gt::qoqValue(c, s2, uint8_t(z * s2)),
                  quant::dequantizeQoqValue(c, p));
      }
    }
}

/// kiln::quant's QoQ weights, packed in fragment order and decoded the way
/// a GemmW4A8 thread does, give kiln::quant's int8 values at the positions
/// the s8 mma reads; the GEMM on them equals qoqForward bit for bit.
TEST(GpuLowBit, W4A8PackingMatchesQoq) {
  std::mt19937 rng(12);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  const int N = 16, K = 256, M = 5;
  std::vector<float> w(size_t(N) * K), x(size_t(M) * K);
  for (auto &v : w)
    v = normal(rng);
  for (int i = 0; i < 40; ++i) // a few outliers
    w[rng() % w.size()] *= 8.0f;
  for (auto &v : x)
    v = normal(rng);
  Result<quant::QoqWeights> q =
      quant::quantizeQoqWeights(quant::MatrixRef(w.data(), N, K), 128);
  ASSERT_TRUE(q.succeeded());
  const std::vector<int8_t> q8 = q->int8Values();
  std::vector<uint8_t> s2(size_t(N) * 2), zs2(size_t(N) * 2);
  for (size_t i = 0; i < s2.size(); ++i) {
    s2[i] = q->groups[i].scale;
    zs2[i] = q->groups[i].scaledZero;
  }
  const kc::W4A8Packed packed =
      kc::packW4A8(q->values.data(), s2.data(), zs2.data(), N, K);
  for (int nt = 0; nt < N / 8; ++nt)
    for (int kb = 0; kb < K / 128; ++kb)
      for (int ks = 0; ks < 4; ++ks) {
        uint32_t a[32][4] = {}, b[32][2];
        for (int l = 0; l < 32; ++l) {
          uint32_t word;
          std::memcpy(&word,
                      &packed.weights[size_t(kc::w4a8WordOffset(nt, kb, l, ks, K))],
                      4);
          const uint16_t gp = packed.groups[size_t(kb * N + nt * 8 + l / 4)];
          kc::decodeQoqWord(word, gp & 0xff, kc::makeSub4Operand(gp >> 8),
                            b[l][0], b[l][1]);
        }
        // Read B back through the s8 layout: put a one-hot A row per k.
        for (int k = 0; k < 32; ++k) {
          uint32_t onehot[32][4] = {};
          // Row 0, column k = 16 (r / 2) + 4t + j -> lane t (g = 0), reg r.
          const int r = 2 * (k / 16), t = (k % 16) / 4, j = k % 4;
          onehot[t][r] = 1u << (8 * j);
          int32_t d[16][8] = {};
          mmaS8Emu(onehot, b, d);
          for (int n = 0; n < 8; ++n)
            ASSERT_EQ(d[0][n], q8[size_t(nt * 8 + n) * K + kb * 128 + ks * 32 + k])
                << "nt " << nt << " kb " << kb << " ks " << ks << " k " << k;
        }
        (void)a;
      }
  // The W4A8 GEMM reference equals qoqForward.
  Result<quant::Int8PerRow> qa =
      quant::quantizeActivationsInt8PerToken(quant::MatrixRef(x.data(), M, K));
  ASSERT_TRUE(qa.succeeded());
  Result<quant::Matrix> want = quant::qoqForward(quant::MatrixRef(x.data(), M, K), *q);
  ASSERT_TRUE(want.succeeded());
  using Epi = kc::Epilogue<kc::OutKind::kFloat32, kc::Act::kNone,
                           kc::kEpiRowScale | kc::kEpiColScale>;
  kc::EpilogueParams ep;
  ep.rowScale = qa->scales.data();
  ep.colScale = q->channelScales.data();
  const std::vector<float> got = gt::applyEpilogue<Epi>(
      ep, M, N, gt::gemmInt32(M, N, K, qa->values.data(), K, q8.data(), K));
  for (int m = 0; m < M; ++m)
    for (int n = 0; n < N; ++n)
      ASSERT_EQ(got[size_t(m) * N + n], want->at(m, n));
}

/// The W4A4 activation quantizer equals kiln::quant's symmetric group int4,
/// and the W4A4 main loop matches the SVDQuant forward (rank 0) within
/// float rounding.
TEST(GpuLowBit, W4A4MatchesSvdQuant) {
  std::mt19937 rng(13);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  const int M = 6, N = 10, K = 192;
  std::vector<float> x(size_t(M) * K), w(size_t(N) * K);
  for (auto &v : x) // fp16-representable, as the kernel reads fp16
    v = kc::halfBitsToFloat(kc::floatToHalfBits(normal(rng) * 3.0f));
  for (auto &v : w)
    v = normal(rng);
  Result<quant::GroupInt4> qx = quant::quantizeGroupInt4(
      quant::MatrixRef(x.data(), M, K), 64, quant::Int4Kind::Symmetric);
  ASSERT_TRUE(qx.succeeded());
  std::vector<int8_t> codes(size_t(M) * K);
  std::vector<float> scales(size_t(M) * K / 64);
  for (int m = 0; m < M; ++m)
    for (int g = 0; g < K / 64; ++g) {
      scales[size_t(m) * (K / 64) + g] = gt::quantizeGroupSym4(
          &x[size_t(m) * K + g * 64], &codes[size_t(m) * K + g * 64]);
      ASSERT_EQ(scales[size_t(m) * (K / 64) + g], qx->scales[size_t(m) * (K / 64) + g]);
    }
  ASSERT_EQ(codes, qx->values);
  Result<quant::SvdQuantWeights> sw = quant::svdQuantWeights(
      quant::MatrixRef(w.data(), N, K), 0, quant::QuantSpec::int4GroupSym(64));
  ASSERT_TRUE(sw.succeeded());
  Result<quant::GroupInt4> qw = quant::quantizeGroupInt4(
      quant::MatrixRef(sw->split.residual), 64,
      quant::Int4Kind::Symmetric);
  ASSERT_TRUE(qw.succeeded());
  const std::vector<float> got = gt::w4a4Main(M, N, K, codes.data(), scales.data(),
                                              qw->values.data(), qw->scales.data());
  Result<quant::Matrix> want =
      quant::svdQuantForward(quant::MatrixRef(x.data(), M, K), *sw,
                             quant::QuantSpec::int4GroupSym(64));
  ASSERT_TRUE(want.succeeded());
  for (int m = 0; m < M; ++m)
    for (int n = 0; n < N; ++n)
      ASSERT_NEAR(got[size_t(m) * N + n], want->at(m, n),
                  1e-5 * (1.0 + std::fabs(want->at(m, n))));
}

/// KV4 (Attention.cuh, KvFormat::kInt4Asym): packKv4 reproduces
/// kiln::quant's asymmetric group int4 with group = head_dim (what
/// kiln-quantize-lowbit --kv-bits 4 inserts) bit for bit: codes, float32
/// scales, zero points and the dequantized values, for float32 and fp16
/// rows, with all-zero, one-signed, constant, outlier and half-step rows.
TEST(GpuLowBit, Kv4PackingMatchesQuant) {
  std::mt19937 rng(29);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  for (int D : {64, 128}) {
    const int rows = 40;
    const int64_t stride = D + 8; // padded rows: the packer honours strides
    std::vector<float> x(size_t(rows) * stride, 0.0f);
    for (int r = 0; r < rows; ++r)
      for (int d = 0; d < D; ++d) {
        float v = normal(rng) * (r % 5 + 0.25f);
        switch (r) {
        case 0: v = 0.0f; break;                     // all zero: scale 1
        case 1: v = std::fabs(v) + 0.5f; break;      // positive: zero 0
        case 2: v = -std::fabs(v) - 0.5f; break;     // negative: zero 15
        case 3: v = 2.5f; break;                     // constant
        case 4: v = d == 7 ? 1000.0f : v; break;     // outlier
        case 5: v = float(d % 16) - 7.5f; break;     // half steps (ties)
        default: break;
        }
        // fp16-representable, as a KV cache holds fp16.
        x[size_t(r) * stride + d] = kc::halfBitsToFloat(kc::floatToHalfBits(v));
      }
    std::vector<float> dense(size_t(rows) * D);
    std::vector<uint16_t> half(size_t(rows) * stride, 0);
    for (int r = 0; r < rows; ++r)
      for (int d = 0; d < D; ++d) {
        dense[size_t(r) * D + d] = x[size_t(r) * stride + d];
        half[size_t(r) * stride + d] = kc::floatToHalfBits(x[size_t(r) * stride + d]);
      }
    Result<quant::GroupInt4> q = quant::quantizeGroupInt4(
        quant::MatrixRef(dense.data(), rows, D), D, quant::Int4Kind::Asymmetric);
    ASSERT_TRUE(q.succeeded());
    Result<quant::Matrix> fq = quant::fakeQuantGroupInt4(
        quant::MatrixRef(dense.data(), rows, D), D, quant::Int4Kind::Asymmetric);
    ASSERT_TRUE(fq.succeeded());
    const kc::Kv4Packed pf = kc::packKv4(x.data(), rows, D, stride);
    const kc::Kv4Packed ph = kc::packKv4(half.data(), rows, D, stride);
    for (const kc::Kv4Packed *p : {&pf, &ph}) {
      ASSERT_EQ(p->codes.size(), size_t(rows) * D / 2);
      for (int r = 0; r < rows; ++r) {
        ASSERT_EQ(std::memcmp(&p->scales[size_t(r)], &q->scales[size_t(r)], 4), 0)
            << "row " << r;
        ASSERT_EQ(p->zeros[size_t(r)], q->zeros[size_t(r)]) << "row " << r;
        for (int d = 0; d < D; ++d) {
          const uint8_t byte = p->codes[size_t(r) * D / 2 + d / 2];
          const int code = (d & 1) ? byte >> 4 : byte & 15;
          ASSERT_EQ(code, q->values[size_t(r) * D + d]) << r << "," << d;
          const float got = kc::kv4Dequant(*p, r, d);
          const float want = fq->at(r, d);
          ASSERT_EQ(std::memcmp(&got, &want, 4), 0) << r << "," << d;
        }
        // The kernel's path: 32-bit words of the row, decoded 8 at a time.
        for (int w = 0; w < D / 8; ++w) {
          uint32_t word;
          std::memcpy(&word, &p->codes[size_t(r) * D / 2 + size_t(w) * 4], 4);
          float x8[8];
          kc::kv4DecodeWord(word, p->zeros[size_t(r)], p->scales[size_t(r)],
                            x8);
          for (int e = 0; e < 8; ++e) {
            const float want = fq->at(r, 8 * w + e);
            ASSERT_EQ(std::memcmp(&x8[e], &want, 4), 0) << r << "," << 8 * w + e;
          }
        }
      }
    }
  }
}

/// The tile heuristic the code generator calls: skinny tiles for decode
/// shapes, split-K only when tiles leave SMs idle, never more than K allows.
TEST(GpuSelect, HeuristicIsSane) {
  for (int64_t M : {1, 16, 17, 64, 128, 1024, 4096})
    for (auto [N, K] : {std::pair<int64_t, int64_t>{4096, 4096},
                        {11008, 4096}, {4096, 11008}, {64, 64}})
      for (int e : {1, 2}) {
        const kc::GemmChoice c = kc::selectGemm(M, N, K, e, 132);
        EXPECT_GE(c.splitK, 1);
        EXPECT_LE(c.splitK, 16);
        const int64_t steps = kc::ceilDiv<int64_t>(K * e, kc::tileKBytes(c.tile));
        EXPECT_LE(c.splitK, std::max<int64_t>(1, steps / 4));
        if (M <= 16)
          EXPECT_EQ(c.tile, kc::TileKind::kSkinny);
        if (M >= 4096)
          EXPECT_EQ(c.splitK, 1);
        EXPECT_NE(std::string(kc::tileTypeName(c.tile, e == 1)), "");
      }
}

TEST(GpuSelect, KernelChoicePerArch) {
  const kc::KernelChoice big = kc::chooseGemmKernel(kc::Arch::kSm90, 4096, 4096, 4096, 1);
  EXPECT_STREQ(big.launcher, "kiln::cuda::GemmInt8Sm90");
  EXPECT_TRUE(big.needsPlan);
  const kc::KernelChoice decode = kc::chooseGemmKernel(kc::Arch::kSm90, 1, 4096, 4096, 2);
  EXPECT_STREQ(decode.launcher, "kiln::cuda::GemmFp16Sm80");
  EXPECT_GT(decode.splitK, 1);
  EXPECT_STREQ(kc::chooseGemmKernel(kc::Arch::kSm80, 4096, 4096, 4096, 1).launcher,
               "kiln::cuda::GemmInt8Sm80");
  EXPECT_STREQ(kc::chooseW4A8Kernel(kc::Arch::kSm90, 1024, 4096, 4096).launcher,
               "kiln::cuda::GemmW4A8Sm90");
  EXPECT_STREQ(kc::chooseW4A8Kernel(kc::Arch::kSm90, 1, 4096, 4096).tile,
               "kiln::cuda::TileW4A8Skinny");
  EXPECT_FALSE(kc::w4a4UsesInt4Mma(kc::Arch::kSm90));
  EXPECT_STREQ(kc::chooseAttentionKernel(kc::Arch::kSm90, 128).launcher,
               "kiln::cuda::AttentionSm90");
}

TEST(GpuPacking, PaddingAndDepthwise) {
  EXPECT_EQ(kc::paddedStride(196, 1), 208);
  EXPECT_EQ(kc::paddedStride(196, 2), 200);
  EXPECT_EQ(kc::paddedStride(64, 1), 64);
  const std::vector<int8_t> w = {1, 2, 3, 4, 5, 6};
  const std::vector<uint8_t> p = kc::padRows(w.data(), 2, 3, 16, 1);
  ASSERT_EQ(p.size(), 32u);
  EXPECT_EQ(p[0], 1);
  EXPECT_EQ(p[2], 3);
  EXPECT_EQ(p[3], 0);
  EXPECT_EQ(p[16], 4);
  EXPECT_EQ(p[18], 6);
  // [C=2][KH*KW=3] -> [3][2].
  const std::vector<int8_t> d = kc::packDepthwise(w.data(), 2, 1, 3);
  EXPECT_EQ(d, (std::vector<int8_t>{1, 4, 2, 5, 3, 6}));
}

} // namespace
