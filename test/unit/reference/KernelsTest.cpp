//===- KernelsTest.cpp - Tests of the reference int8 kernels ----*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// Checks every kiln::ref kernel against hand-computed outputs and against
// an independent float64 model of the same layer (dequantize, compute in
// double, quantize): the integer result must be within one LSB of it,
// because requantization rounds twice and its multiplier has 31 bits. Also
// checks that bad parameters come back as errors naming the problem.
//
//===----------------------------------------------------------------------===//

#include "compiler/reference/IntegerKernels.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>

namespace {

using namespace kiln::ref;

/// Returns |count| seeded random int8 values in [lo, hi].
std::vector<int8_t> randomInt8(std::mt19937 &rng, size_t count, int lo = -128,
                               int hi = 127) {
  std::uniform_int_distribution<int> dist(lo, hi);
  std::vector<int8_t> values(count);
  for (int8_t &v : values)
    v = static_cast<int8_t>(dist(rng));
  return values;
}

/// Returns clamp(round(real) + zp) as the float model's quantized output.
int floatModelOutput(double real, int zp, ActivationRange range) {
  const double q = std::round(real) + zp;
  return static_cast<int>(std::clamp<double>(q, range.min, range.max));
}

/// Flattened multipliers and shifts with storage.
struct RequantStorage {
  std::vector<int32_t> multipliers;
  std::vector<int32_t> shifts;
  std::vector<double> reals;
  Requantization view() const { return {multipliers, shifts}; }
};

/// Returns per-channel requantization for real multipliers drawn from
/// [lo, hi) log-uniformly.
RequantStorage randomRequant(std::mt19937 &rng, int64_t channels, double lo,
                             double hi) {
  std::uniform_real_distribution<double> logScale(std::log2(lo), std::log2(hi));
  RequantStorage rq;
  for (int64_t c = 0; c < channels; ++c) {
    QuantizedMultiplier qm = *quantizeMultiplier(std::exp2(logScale(rng)));
    rq.multipliers.push_back(qm.multiplier);
    rq.shifts.push_back(qm.shift);
    rq.reals.push_back(dequantizeMultiplier(qm));
  }
  return rq;
}

TEST(Conv2D, HandCheckedTwoByTwo) {
  // Input 1x3x3x1 (zp 1), kernel 1x2x2x1, stride 1, no padding, multiplier
  // 0.5, output zp -1, bias 2.
  Conv2DParams p;
  p.inputHeight = p.inputWidth = 3;
  p.kernelHeight = p.kernelWidth = 2;
  p.inputZeroPoint = 1;
  p.outputZeroPoint = -1;
  const std::vector<int8_t> input = {1, 2, 3, 4, 5, 6, 7, 8, 9};
  const std::vector<int8_t> weights = {1, -1, 2, 0};
  const std::vector<int32_t> bias = {2};
  const std::vector<int32_t> mult = {1 << 30};
  const std::vector<int32_t> shift = {0};
  std::vector<int8_t> output(4);
  ASSERT_TRUE(conv2d(p, input, weights, bias, {mult, shift}, output));
  // (x-1): [[0,1,2],[3,4,5],[6,7,8]]; window (0,0): 0*1 + 1*-1 + 3*2 = 5;
  // +2 = 7 -> 3.5 -> 4 -> 3. (0,1): 1 - 2 + 8 = 7 + 2 = 9 -> 4.5 -> 5 -> 4.
  // (1,0): 3 - 4 + 12 = 11 + 2 = 13 -> 6.5 -> 7 -> 6.
  // (1,1): 4 - 5 + 14 = 13 + 2 = 15 -> 7.5 -> 8 -> 7.
  EXPECT_EQ(output, (std::vector<int8_t>{3, 4, 6, 7}));
}

TEST(Conv2D, PaddingReadsTheZeroPoint) {
  // A 1x1 input padded by 1 on every side with a 3x3 all-ones kernel: only
  // the centre tap sees data, so every output is (x - zp) * 1.
  Conv2DParams p;
  p.kernelHeight = p.kernelWidth = 3;
  p.padTop = p.padBottom = p.padLeft = p.padRight = 1;
  p.inputZeroPoint = 5;
  const std::vector<int8_t> input = {12};
  const std::vector<int8_t> weights(9, 1);
  const std::vector<int32_t> mult = {1 << 30};
  const std::vector<int32_t> shift = {1};
  std::vector<int8_t> output(1);
  ASSERT_TRUE(conv2d(p, input, weights, {}, {mult, shift}, output));
  EXPECT_EQ(output[0], 7);
}

/// Returns the float64 model of conv2d, written from the definition with an
/// explicitly padded input (a different structure from the reference).
std::vector<int> floatConv(const Conv2DParams &p,
                           const std::vector<int8_t> &input,
                           const std::vector<int8_t> &weights,
                           const std::vector<int32_t> &bias,
                           const RequantStorage &rq) {
  const int64_t ph = p.inputHeight + p.padTop + p.padBottom;
  const int64_t pw = p.inputWidth + p.padLeft + p.padRight;
  std::vector<double> padded(p.batch * ph * pw * p.inputChannels, 0.0);
  for (int64_t n = 0; n < p.batch; ++n)
    for (int64_t y = 0; y < p.inputHeight; ++y)
      for (int64_t x = 0; x < p.inputWidth; ++x)
        for (int64_t c = 0; c < p.inputChannels; ++c)
          padded[((n * ph + y + p.padTop) * pw + x + p.padLeft) *
                     p.inputChannels +
                 c] = input[((n * p.inputHeight + y) * p.inputWidth + x) *
                                p.inputChannels +
                            c] -
                      p.inputZeroPoint;
  const int64_t oh = p.outputHeight(), ow = p.outputWidth();
  const int64_t ig = p.inputChannels / p.groups;
  const int64_t og = p.outputChannels / p.groups;
  std::vector<int> out;
  for (int64_t n = 0; n < p.batch; ++n)
    for (int64_t y = 0; y < oh; ++y)
      for (int64_t x = 0; x < ow; ++x)
        for (int64_t o = 0; o < p.outputChannels; ++o) {
          double sum = bias.empty() ? 0.0 : bias[o];
          for (int64_t ky = 0; ky < p.kernelHeight; ++ky)
            for (int64_t kx = 0; kx < p.kernelWidth; ++kx)
              for (int64_t i = 0; i < ig; ++i)
                sum +=
                    padded[((n * ph + y * p.strideHeight +
                             ky * p.dilationHeight) *
                                pw +
                            x * p.strideWidth + kx * p.dilationWidth) *
                               p.inputChannels +
                           (o / og) * ig + i] *
                    weights[((o * p.kernelHeight + ky) * p.kernelWidth + kx) *
                                ig +
                            i];
          const double real = rq.reals.size() == 1 ? rq.reals[0] : rq.reals[o];
          out.push_back(
              floatModelOutput(sum * real, p.outputZeroPoint, p.activation));
        }
  return out;
}

TEST(Conv2D, WithinOneLsbOfFloatOnRandomShapes) {
  std::mt19937 rng(2024);
  std::uniform_int_distribution<int> small(1, 4);
  int checked = 0;
  for (int trial = 0; trial < 120; ++trial) {
    Conv2DParams p;
    p.batch = small(rng) > 3 ? 2 : 1;
    p.inputHeight = small(rng) + 3;
    p.inputWidth = small(rng) + 2;
    p.kernelHeight = small(rng) % 3 + 1;
    p.kernelWidth = small(rng) % 3 + 1;
    p.strideHeight = small(rng) % 2 + 1;
    p.strideWidth = small(rng) % 3 + 1;
    p.dilationHeight = small(rng) % 2 + 1;
    p.dilationWidth = small(rng) % 2 + 1;
    p.padTop = small(rng) % 3;
    p.padBottom = small(rng) % 2;
    p.padLeft = small(rng) % 2;
    p.padRight = small(rng) % 3;
    switch (trial % 3) {
    case 0: // Plain.
      p.inputChannels = small(rng) + 1;
      p.outputChannels = small(rng) + 2;
      break;
    case 1: // Grouped.
      p.groups = 2;
      p.inputChannels = 2 * small(rng);
      p.outputChannels = 2 * small(rng);
      break;
    case 2: // Depthwise with channel multiplier.
      p.inputChannels = small(rng) + 1;
      p.groups = p.inputChannels;
      p.outputChannels = p.inputChannels * small(rng);
      break;
    }
    if (p.outputHeight() <= 0 || p.outputWidth() <= 0)
      continue;
    p.inputZeroPoint = std::uniform_int_distribution<int>(-128, 127)(rng);
    p.outputZeroPoint = std::uniform_int_distribution<int>(-20, 20)(rng);
    if (trial % 4 == 0)
      p.activation = {p.outputZeroPoint, 100};
    const int64_t ig = p.inputChannels / p.groups;
    auto input = randomInt8(rng, p.batch * p.inputHeight * p.inputWidth *
                                     p.inputChannels);
    auto weights = randomInt8(
        rng, p.outputChannels * p.kernelHeight * p.kernelWidth * ig, -127, 127);
    std::vector<int32_t> bias;
    if (trial % 2 == 0)
      for (int64_t o = 0; o < p.outputChannels; ++o)
        bias.push_back(
            std::uniform_int_distribution<int32_t>(-20000, 20000)(rng));
    RequantStorage rq =
        randomRequant(rng, trial % 5 == 0 ? 1 : p.outputChannels, 1e-4, 5e-3);
    std::vector<int8_t> output(p.batch * p.outputHeight() * p.outputWidth() *
                               p.outputChannels);
    kiln::Status status = conv2d(p, input, weights, bias, rq.view(), output);
    ASSERT_TRUE(status) << status.str();
    std::vector<int> expected = floatConv(p, input, weights, bias, rq);
    ASSERT_EQ(expected.size(), output.size());
    for (size_t i = 0; i < output.size(); ++i)
      ASSERT_LE(std::abs(output[i] - expected[i]), 1)
          << "trial " << trial << " element " << i;
    ++checked;
  }
  EXPECT_GT(checked, 100);
}

TEST(Conv2D, ReportsBadParameters) {
  Conv2DParams p;
  p.inputChannels = 3;
  p.outputChannels = 4;
  p.groups = 2;
  const std::vector<int8_t> input(3), weights(4 * 1);
  const std::vector<int32_t> mult = {1 << 30}, shift = {0};
  std::vector<int8_t> output(4);
  kiln::Status status = conv2d(p, input, weights, {}, {mult, shift}, output);
  ASSERT_FALSE(status);
  EXPECT_NE(status.str().find("multiples of groups"), std::string::npos)
      << status.str();

  Conv2DParams q;
  q.inputChannels = 2;
  const std::vector<int8_t> wrongInput(3), w2(2);
  std::vector<int8_t> out1(1);
  status = conv2d(q, wrongInput, w2, {}, {mult, shift}, out1);
  ASSERT_FALSE(status);
  EXPECT_NE(status.str().find("conv2d: input has 3 elements, expected 2"),
            std::string::npos)
      << status.str();

  const std::vector<int32_t> badShift = {40};
  const std::vector<int8_t> in2(2);
  status = conv2d(q, in2, w2, {}, {mult, badShift}, out1);
  ASSERT_FALSE(status);
  EXPECT_NE(status.str().find("shift"), std::string::npos) << status.str();

  q.kernelHeight = 3; // Does not fit a 1x1 input without padding.
  status = conv2d(q, in2, w2, {}, {mult, shift}, out1);
  EXPECT_FALSE(status);
}

TEST(FullyConnected, HandCheckedAndPerChannel) {
  FullyConnectedParams p;
  p.inputFeatures = 3;
  p.outputFeatures = 2;
  p.inputZeroPoint = -2;
  p.outputZeroPoint = 10;
  const std::vector<int8_t> input = {0, 1, 2}; // x - zp = {2, 3, 4}
  const std::vector<int8_t> weights = {1, 2, 3, -1, 0, 1};
  const std::vector<int32_t> bias = {4, -4};
  // Channel 0: 2 + 6 + 12 + 4 = 24 * 0.25 = 6 -> 16.
  // Channel 1: -2 + 0 + 4 - 4 = -2 * 1.0 = -2 -> 8.
  const std::vector<int32_t> mult = {1 << 30, 1 << 30};
  const std::vector<int32_t> shift = {-1, 1};
  std::vector<int8_t> output(2);
  ASSERT_TRUE(fullyConnected(p, input, weights, bias, {mult, shift}, output));
  EXPECT_EQ(output, (std::vector<int8_t>{16, 8}));
}

TEST(FullyConnected, WithinOneLsbOfFloatOnRandom) {
  std::mt19937 rng(5);
  for (int trial = 0; trial < 40; ++trial) {
    FullyConnectedParams p;
    p.batch = trial % 3 + 1;
    p.inputFeatures = 1 + trial * 7 % 97;
    p.outputFeatures = 1 + trial % 13;
    p.inputZeroPoint = trial * 37 % 256 - 128;
    p.outputZeroPoint = trial % 11 - 5;
    auto input = randomInt8(rng, p.batch * p.inputFeatures);
    auto weights =
        randomInt8(rng, p.outputFeatures * p.inputFeatures, -127, 127);
    RequantStorage rq =
        randomRequant(rng, trial % 2 ? 1 : p.outputFeatures, 1e-4, 1e-2);
    std::vector<int8_t> output(p.batch * p.outputFeatures);
    ASSERT_TRUE(fullyConnected(p, input, weights, {}, rq.view(), output));
    for (int64_t b = 0; b < p.batch; ++b)
      for (int64_t o = 0; o < p.outputFeatures; ++o) {
        double sum = 0;
        for (int64_t i = 0; i < p.inputFeatures; ++i)
          sum += double(input[b * p.inputFeatures + i] - p.inputZeroPoint) *
                 weights[o * p.inputFeatures + i];
        const double real = rq.reals.size() == 1 ? rq.reals[0] : rq.reals[o];
        const int expected =
            floatModelOutput(sum * real, p.outputZeroPoint, p.activation);
        ASSERT_LE(std::abs(output[b * p.outputFeatures + o] - expected), 1);
      }
  }
}

TEST(AveragePool, TfliteRoundingHalfAwayFromZero) {
  Pool2DParams p;
  p.inputWidth = 4;
  p.kernelWidth = 2;
  p.strideWidth = 2;
  const std::vector<int8_t> input = {-1, -2, 1, 2}; // sums -3 and 3, count 2
  std::vector<int8_t> output(2);
  ASSERT_TRUE(averagePool2d(p, input, output));
  EXPECT_EQ(output, (std::vector<int8_t>{-2, 2}));
}

TEST(AveragePool, PaddingExcludedOrIncluded) {
  // 1x2x2x1 input, 2x2 window, pad 1 on top/left, stride 2 -> 1x1 output
  // whose window holds one real element (value 9) and three pads.
  Pool2DParams p;
  p.inputHeight = p.inputWidth = 2;
  p.kernelHeight = p.kernelWidth = 2;
  p.strideHeight = p.strideWidth = 2;
  p.padTop = p.padLeft = 1;
  p.zeroPoint = -3;
  const std::vector<int8_t> input = {9, 100, 100, 100};
  ASSERT_EQ(p.outputHeight(), 1);
  std::vector<int8_t> output(1);
  ASSERT_TRUE(averagePool2d(p, input, output));
  EXPECT_EQ(output[0], 9);
  p.countIncludePad = true; // (9 - 3 - 3 - 3) / 4 = 0
  ASSERT_TRUE(averagePool2d(p, input, output));
  EXPECT_EQ(output[0], 0);
}

TEST(AveragePool, CeilModeAddsPartialWindows) {
  Pool2DParams p;
  p.inputWidth = 5;
  p.kernelWidth = 2;
  p.strideWidth = 2;
  EXPECT_EQ(p.outputWidth(), 2);
  p.ceilMode = true;
  EXPECT_EQ(p.outputWidth(), 3);
  const std::vector<int8_t> input = {1, 3, 5, 7, 11};
  std::vector<int8_t> output(3);
  ASSERT_TRUE(averagePool2d(p, input, output));
  EXPECT_EQ(output, (std::vector<int8_t>{2, 6, 11}));
  // A window starting in the trailing padding is dropped.
  p.inputWidth = 4;
  p.kernelWidth = 2;
  p.strideWidth = 2;
  p.padRight = 1;
  EXPECT_EQ(p.outputWidth(), 2);
}

TEST(MaxPool, MaxThenClamp) {
  Pool2DParams p;
  p.inputHeight = 2;
  p.inputWidth = 3;
  p.channels = 2;
  p.kernelHeight = 2;
  p.kernelWidth = 2;
  p.padRight = 1;
  p.strideWidth = 2;
  p.activation = {-50, 40};
  // Channel 0: [[1, -7, 3], [60, 2, -9]]; channel 1: [[-100, -90, -80],
  // [-95, -85, -70]].
  const std::vector<int8_t> input = {1,  -100, -7, -90, 3,  -80,
                                     60, -95,  2,  -85, -9, -70};
  ASSERT_EQ(p.outputWidth(), 2);
  std::vector<int8_t> output(4);
  ASSERT_TRUE(maxPool2d(p, input, output));
  // Window x in [0, 2): max(1, -7, 60, 2) = 60 -> 40; ch1 -85 -> -50.
  // Window x in [2, 4) (pad at 3): max(3, -9) = 3; ch1 -70 -> -50.
  EXPECT_EQ(output, (std::vector<int8_t>{40, -50, 3, -50}));
}

TEST(Pool, ReportsWindowsOutsideTheInput) {
  Pool2DParams p;
  p.inputWidth = 3;
  p.kernelWidth = 2;
  p.padLeft = 2;
  std::vector<int8_t> input(3), output(4);
  kiln::Status status = maxPool2d(p, input, output);
  ASSERT_FALSE(status);
  EXPECT_NE(status.str().find("padding must be smaller than the kernel"),
            std::string::npos);
}

TEST(GlobalAveragePool, WithinOneLsbOfFloat) {
  std::mt19937 rng(3);
  GlobalAveragePoolParams p;
  p.batch = 2;
  p.height = 7;
  p.width = 5;
  p.channels = 6;
  p.inputZeroPoint = 13;
  p.outputZeroPoint = -7;
  const double inScale = 0.05, outScale = 0.02;
  p.multiplier = *makeGlobalAveragePoolMultiplier(inScale, outScale, 35);
  auto input = randomInt8(rng, 2 * 35 * 6);
  std::vector<int8_t> output(12);
  ASSERT_TRUE(globalAveragePool(p, input, output));
  for (int n = 0; n < 2; ++n)
    for (int c = 0; c < 6; ++c) {
      double sum = 0;
      for (int i = 0; i < 35; ++i)
        sum += input[(n * 35 + i) * 6 + c] - p.inputZeroPoint;
      const int expected = floatModelOutput(sum / 35 * inScale / outScale,
                                            p.outputZeroPoint, {});
      EXPECT_LE(std::abs(output[n * 6 + c] - expected), 1);
    }
}

TEST(Add, HandCheckedEqualScales) {
  // Equal scales 0.1, zps 0: out scale 0.2 zp 0: (3 + 5) / 2 = 4.
  AddParams p = *makeAddParams(0.1, 0, 0.1, 0, 0.2, 0);
  EXPECT_EQ(p.leftShift, 20);
  const std::vector<int64_t> shape = {3};
  const std::vector<int8_t> a = {3, -3, 127}, b = {5, -4, 127};
  std::vector<int8_t> out(3);
  ASSERT_TRUE(add(p, shape, a, shape, b, out));
  EXPECT_EQ(out, (std::vector<int8_t>{4, -4, 127}));
}

TEST(Add, BroadcastsAndStaysWithinOneLsb) {
  std::mt19937 rng(8);
  const double s1 = 0.037, s2 = 0.11, so = 0.09;
  const int z1 = -7, z2 = 20, zo = 3;
  AddParams p = *makeAddParams(s1, z1, s2, z2, so, zo);
  const std::vector<int64_t> shape1 = {2, 1, 3}, shape2 = {4, 1};
  auto a = randomInt8(rng, 6), b = randomInt8(rng, 4);
  std::vector<int8_t> out(24);
  ASSERT_TRUE(add(p, shape1, a, shape2, b, out));
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 4; ++j)
      for (int k = 0; k < 3; ++k) {
        const double real = s1 * (a[i * 3 + k] - z1) + s2 * (b[j] - z2);
        const int expected = floatModelOutput(real / so, zo, {});
        EXPECT_LE(std::abs(out[(i * 4 + j) * 3 + k] - expected), 1);
      }
  std::vector<int8_t> wrong(23);
  kiln::Status status = add(p, shape1, a, shape2, b, wrong);
  ASSERT_FALSE(status);
  const std::vector<int64_t> bad = {2};
  const std::vector<int8_t> two = {1, 2};
  status = add(p, shape1, a, bad, two, out);
  ASSERT_FALSE(status);
  EXPECT_NE(status.str().find("do not broadcast"), std::string::npos);
}

TEST(Mul, WithinOneLsbOfFloat) {
  std::mt19937 rng(9);
  const double s1 = 0.05, s2 = 0.02, so = 0.03;
  MulParams p = *makeMulParams(s1, 4, s2, -9, so, -1);
  const std::vector<int64_t> shape = {256};
  auto a = randomInt8(rng, 256), b = randomInt8(rng, 256);
  std::vector<int8_t> out(256);
  ASSERT_TRUE(mul(p, shape, a, shape, b, out));
  for (int i = 0; i < 256; ++i) {
    const double real = s1 * (a[i] - 4) * s2 * (b[i] + 9);
    EXPECT_LE(std::abs(out[i] - floatModelOutput(real / so, -1, {})), 1);
  }
}

TEST(Requantize, IdentityAndRescale) {
  std::vector<int8_t> all(256);
  for (int i = 0; i < 256; ++i)
    all[i] = static_cast<int8_t>(i - 128);
  RequantizeParams same;
  same.inputZeroPoint = same.outputZeroPoint = 5;
  same.multiplier = *makeRequantizeMultiplier(0.1, 0.1);
  std::vector<int8_t> out(256);
  ASSERT_TRUE(requantize(same, all, out));
  EXPECT_EQ(out, all);
  RequantizeParams half;
  half.inputZeroPoint = 0;
  half.outputZeroPoint = 0;
  half.multiplier = *makeRequantizeMultiplier(0.1, 0.2);
  ASSERT_TRUE(requantize(half, all, out));
  // 0.5 = {2^30, 0}: the halving happens in the doubling high multiply,
  // whose ties round towards +infinity (-1.5 -> -1, 1.5 -> 2).
  for (int i = 0; i < 256; ++i)
    EXPECT_EQ(out[i], static_cast<int8_t>(std::floor((i - 128) / 2.0 + 0.5)));
}

TEST(Clamp, IsReluAndRelu6) {
  const std::vector<int8_t> input = {-128, -11, -10, 0, 50, 51, 127};
  std::vector<int8_t> out(7);
  ASSERT_TRUE(clampToActivation(activationRange(Activation::Relu6, 0.1f, -10),
                                input, out));
  EXPECT_EQ(out, (std::vector<int8_t>{-10, -10, -10, 0, 50, 50, 50}));
  EXPECT_FALSE(clampToActivation({10, 5}, input, out));
}

TEST(Concat, RequantizesInputsWithOtherScales) {
  // [2,1] with scale 0.1 zp 0 and [2,2] with scale 0.2 zp 1 into scale 0.1
  // zp -2 along axis 1.
  const std::vector<int64_t> shapeA = {2, 1}, shapeB = {2, 2};
  const std::vector<int8_t> a = {10, -20}, b = {1, 2, 11, -9};
  ConcatInput inA{shapeA, a, 0, *makeRequantizeMultiplier(0.1, 0.1)};
  ConcatInput inB{shapeB, b, 1, *makeRequantizeMultiplier(0.2, 0.1)};
  const std::vector<ConcatInput> inputs = {inA, inB};
  std::vector<int8_t> out(6);
  ASSERT_TRUE(concat(inputs, -1, -2, out));
  EXPECT_EQ(out, (std::vector<int8_t>{8, -2, 0, -22, 18, -22}));
  std::vector<int8_t> small(5);
  EXPECT_FALSE(concat(inputs, 1, -2, small));
  EXPECT_FALSE(concat(inputs, 0, -2, out)); // Shapes differ outside axis 0.
}

TEST(Pad, FillsWithValue) {
  const std::vector<int64_t> shape = {1, 2, 2, 1};
  const std::vector<int8_t> input = {1, 2, 3, 4};
  const std::vector<int64_t> before = {0, 1, 0, 0}, after = {0, 0, 1, 1};
  std::vector<int8_t> out(1 * 3 * 3 * 2);
  ASSERT_TRUE(pad(shape, input, before, after, -5, out));
  EXPECT_EQ(out, (std::vector<int8_t>{-5, -5, -5, -5, -5, -5, 1, -5, 2, -5, -5,
                                      -5, 3, -5, 4, -5, -5, -5}));
  const std::vector<int64_t> negative = {0, -1, 0, 0};
  EXPECT_FALSE(pad(shape, input, negative, after, 0, out));
}

TEST(Softmax, WithinOneLsbOfFloatSoftmax) {
  std::mt19937 rng(21);
  for (int64_t rowLength : {1, 2, 10, 100, 1000}) {
    const double scale = 0.0625 * (1 + rowLength % 7);
    auto table = makeSoftmaxTable(scale, 1.0, rowLength);
    ASSERT_TRUE(table.succeeded()) << table.status().str();
    EXPECT_LE(int64_t((*table)[0]) * rowLength, int64_t(INT32_MAX));
    const int64_t rows = 3;
    auto input = randomInt8(rng, rows * rowLength);
    std::vector<int8_t> output(input.size());
    ASSERT_TRUE(softmax(rows, rowLength, *table, input, output));
    for (int64_t r = 0; r < rows; ++r) {
      double denom = 0;
      for (int64_t j = 0; j < rowLength; ++j)
        denom += std::exp(scale * input[r * rowLength + j]);
      for (int64_t j = 0; j < rowLength; ++j) {
        const double prob = std::exp(scale * input[r * rowLength + j]) / denom;
        const int expected = floatModelOutput(prob * 256.0, -128, {});
        ASSERT_LE(std::abs(output[r * rowLength + j] - expected), 1)
            << "row length " << rowLength;
      }
    }
  }
}

TEST(Softmax, UniformRowAndBadTables) {
  auto table = *makeSoftmaxTable(0.1, 1.0, 4);
  const std::vector<int8_t> input = {7, 7, 7, 7};
  std::vector<int8_t> output(4);
  ASSERT_TRUE(softmax(1, 4, table, input, output));
  EXPECT_EQ(output, (std::vector<int8_t>{-64, -64, -64, -64})); // 64 - 128
  SoftmaxTable bad = table;
  bad[3] = bad[0] + 1;
  EXPECT_FALSE(softmax(1, 4, bad, input, output));
  // A table built for short rows overflows on long ones: rejected.
  auto shortTable = *makeSoftmaxTable(0.1, 1.0, 4);
  std::vector<int8_t> longInput(1000), longOutput(1000);
  EXPECT_FALSE(softmax(1, 1000, shortTable, longInput, longOutput));
}

TEST(QuantizeArray, MatchesScalar) {
  const std::vector<float> input = {-1.0f, 0.04f, 0.16f, 3.0f};
  std::vector<int8_t> q(4);
  ASSERT_TRUE(quantizeArray(input, 0.1f, 2, q));
  EXPECT_EQ(q, (std::vector<int8_t>{-8, 2, 4, 32}));
  std::vector<float> back(4);
  ASSERT_TRUE(dequantizeArray(q, 0.1f, 2, back));
  EXPECT_FLOAT_EQ(back[0], -1.0f);
  EXPECT_FLOAT_EQ(back[3], 3.0f);
  std::vector<int8_t> wrong(3);
  EXPECT_FALSE(quantizeArray(input, 0.1f, 2, wrong));
}

} // namespace
