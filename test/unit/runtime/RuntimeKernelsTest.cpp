//===- RuntimeKernelsTest.cpp - Runtime kernels vs kiln::ref ----*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// Runs every kernel of runtime/c on many seeded random shapes and parameters
// (odd sizes, asymmetric padding, strides, dilations, groups, channel
// multipliers, per-tensor and per-channel requantization, broadcasting) and
// requires bit-exact equality with the integer reference (kiln::ref). The
// file is built twice: against kiln_rt (portable C path) and against
// kiln_rt_dspemu (the Cortex-M DSP path with C models of the instructions);
// KILN_RT_EXPECTED_PATH names which. Buffers are exactly sized so that the
// sanitizers catch any out-of-bounds access; scratch buffers are exactly
// *_scratch_bytes() long.
//
//===----------------------------------------------------------------------===//

#include "compiler/reference/IntegerKernels.h"
#include "kiln_rt.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <memory>
#include <random>

namespace {

namespace ref = kiln::ref;

constexpr int32_t kMin = std::numeric_limits<int32_t>::min();
constexpr int32_t kMax = std::numeric_limits<int32_t>::max();

/// Returns an int in [lo, hi].
int uniform(std::mt19937 &rng, int lo, int hi) {
  return std::uniform_int_distribution<int>(lo, hi)(rng);
}

/// Returns |count| random int8 values in [lo, hi].
std::vector<int8_t> randomInt8(std::mt19937 &rng, size_t count, int lo = -128,
                               int hi = 127) {
  std::vector<int8_t> values(count);
  for (int8_t &v : values)
    v = static_cast<int8_t>(uniform(rng, lo, hi));
  return values;
}

/// Requantization arrays with storage for both APIs.
struct Requant {
  std::vector<int32_t> multipliers;
  std::vector<int32_t> shifts;
  bool perChannel = true;

  ref::Requantization refView() const { return {multipliers, shifts}; }
  kiln_requant_t rtView() const {
    return {multipliers.data(), shifts.data(), perChannel ? 1 : 0};
  }
};

/// Returns random requantization for |channels| channels (one entry when not
/// |perChannel|) with real multipliers log-uniform in [lo, hi].
Requant randomRequant(std::mt19937 &rng, int channels, bool perChannel,
                      double lo, double hi) {
  Requant rq;
  rq.perChannel = perChannel;
  std::uniform_real_distribution<double> logScale(std::log2(lo), std::log2(hi));
  for (int c = 0; c < (perChannel ? channels : 1); ++c) {
    ref::QuantizedMultiplier qm =
        *ref::quantizeMultiplier(std::exp2(logScale(rng)));
    rq.multipliers.push_back(qm.multiplier);
    rq.shifts.push_back(qm.shift);
  }
  return rq;
}

/// Returns |count| random int32 biases.
std::vector<int32_t> randomBias(std::mt19937 &rng, int count) {
  std::vector<int32_t> bias(count);
  for (int32_t &b : bias)
    b = uniform(rng, -30000, 30000);
  return bias;
}

/// Returns the runtime parameters of |p|.
kiln_conv_params_t toRuntime(const ref::Conv2DParams &p) {
  kiln_conv_params_t r;
  r.batch = static_cast<int32_t>(p.batch);
  r.in_h = static_cast<int32_t>(p.inputHeight);
  r.in_w = static_cast<int32_t>(p.inputWidth);
  r.in_c = static_cast<int32_t>(p.inputChannels);
  r.out_h = static_cast<int32_t>(p.outputHeight());
  r.out_w = static_cast<int32_t>(p.outputWidth());
  r.out_c = static_cast<int32_t>(p.outputChannels);
  r.kernel_h = static_cast<int32_t>(p.kernelHeight);
  r.kernel_w = static_cast<int32_t>(p.kernelWidth);
  r.stride_h = static_cast<int32_t>(p.strideHeight);
  r.stride_w = static_cast<int32_t>(p.strideWidth);
  r.dilation_h = static_cast<int32_t>(p.dilationHeight);
  r.dilation_w = static_cast<int32_t>(p.dilationWidth);
  r.pad_top = static_cast<int32_t>(p.padTop);
  r.pad_left = static_cast<int32_t>(p.padLeft);
  r.pad_bottom = static_cast<int32_t>(p.padBottom);
  r.pad_right = static_cast<int32_t>(p.padRight);
  r.groups = static_cast<int32_t>(p.groups);
  r.input_zp = p.inputZeroPoint;
  r.output_zp = p.outputZeroPoint;
  r.act_min = p.activation.min;
  r.act_max = p.activation.max;
  return r;
}

/// A random convolution case with its data and reference output.
struct ConvCase {
  ref::Conv2DParams params;
  std::vector<int8_t> input, weights, expected;
  std::vector<int32_t> bias;
  Requant rq;
};

/// Kinds of random convolution cases.
enum class ConvKind { Dense, Pointwise, ThreeByThree, Grouped, Depthwise };

/// Returns a random convolution of |kind| with its reference output.
ConvCase randomConv(std::mt19937 &rng, ConvKind kind) {
  ConvCase c;
  ref::Conv2DParams &p = c.params;
  do {
    p = ref::Conv2DParams();
    p.batch = uniform(rng, 0, 5) == 0 ? 2 : 1;
    p.inputHeight = uniform(rng, 1, 9);
    p.inputWidth = uniform(rng, 1, 11);
    p.strideHeight = uniform(rng, 1, 3);
    p.strideWidth = uniform(rng, 1, 3);
    p.inputChannels = uniform(rng, 1, 13);
    p.outputChannels = uniform(rng, 1, 11);
    switch (kind) {
    case ConvKind::Pointwise:
      break;
    case ConvKind::ThreeByThree:
      p.kernelHeight = p.kernelWidth = 3;
      p.dilationHeight = uniform(rng, 1, 2);
      p.padTop = uniform(rng, 0, 2);
      p.padBottom = uniform(rng, 0, 2);
      p.padLeft = uniform(rng, 0, 2);
      p.padRight = uniform(rng, 0, 2);
      break;
    case ConvKind::Dense:
    case ConvKind::Grouped:
    case ConvKind::Depthwise:
      p.kernelHeight = uniform(rng, 1, 5);
      p.kernelWidth = uniform(rng, 1, 5);
      p.dilationHeight = uniform(rng, 1, 2);
      p.dilationWidth = uniform(rng, 1, 3);
      p.padTop = uniform(rng, 0, 3);
      p.padBottom = uniform(rng, 0, 2);
      p.padLeft = uniform(rng, 0, 2);
      p.padRight = uniform(rng, 0, 3);
      break;
    }
    if (kind == ConvKind::Grouped) {
      p.groups = uniform(rng, 2, 3);
      p.inputChannels = p.groups * uniform(rng, 1, 4);
      p.outputChannels = p.groups * uniform(rng, 1, 3);
    } else if (kind == ConvKind::Depthwise) {
      p.groups = p.inputChannels;
      p.outputChannels = p.inputChannels * uniform(rng, 1, 3);
    }
  } while (p.outputHeight() <= 0 || p.outputWidth() <= 0);
  p.inputZeroPoint = uniform(rng, -128, 127);
  p.outputZeroPoint = uniform(rng, -30, 30);
  if (uniform(rng, 0, 3) == 0)
    p.activation = {p.outputZeroPoint, uniform(rng, p.outputZeroPoint, 127)};
  const int64_t taps =
      p.kernelHeight * p.kernelWidth * (p.inputChannels / p.groups);
  c.input =
      randomInt8(rng, p.batch * p.inputHeight * p.inputWidth * p.inputChannels);
  c.weights = randomInt8(rng, p.outputChannels * taps, -127, 127);
  if (uniform(rng, 0, 3) != 0)
    c.bias = randomBias(rng, static_cast<int>(p.outputChannels));
  // Scale the multipliers to the accumulator range so outputs spread over
  // int8 rather than saturating.
  const double typical = 128.0 * 64.0 * std::sqrt(double(taps));
  c.rq = randomRequant(rng, static_cast<int>(p.outputChannels),
                       uniform(rng, 0, 4) != 0, 4.0 / typical, 256.0 / typical);
  c.expected.resize(p.batch * p.outputHeight() * p.outputWidth() *
                    p.outputChannels);
  kiln::Status status =
      ref::conv2d(p, c.input, c.weights, c.bias, c.rq.refView(), c.expected);
  EXPECT_TRUE(status) << status.str();
  return c;
}

/// Returns a description of |p| for failure messages.
std::string describe(const ref::Conv2DParams &p) {
  return "n" + std::to_string(p.batch) + " " + std::to_string(p.inputHeight) +
         "x" + std::to_string(p.inputWidth) + "x" +
         std::to_string(p.inputChannels) + " -> " +
         std::to_string(p.outputChannels) + " k" +
         std::to_string(p.kernelHeight) + "x" + std::to_string(p.kernelWidth) +
         " s" + std::to_string(p.strideHeight) + "," +
         std::to_string(p.strideWidth) + " d" +
         std::to_string(p.dilationHeight) + "," +
         std::to_string(p.dilationWidth) + " pad" + std::to_string(p.padTop) +
         "," + std::to_string(p.padLeft) + "," + std::to_string(p.padBottom) +
         "," + std::to_string(p.padRight) + " g" + std::to_string(p.groups) +
         " zp" + std::to_string(p.inputZeroPoint);
}

/// A convolution-like runtime entry point without scratch.
using ConvFn = kiln_rt_status_t (*)(const kiln_conv_params_t *,
                                    const kiln_requant_t *, const int8_t *,
                                    const int8_t *, const int32_t *, int8_t *);

/// Runs |fn| on |c| and expects the reference output exactly.
void expectConvMatches(const ConvCase &c, ConvFn fn, const char *name) {
  const kiln_conv_params_t p = toRuntime(c.params);
  const kiln_requant_t rq = c.rq.rtView();
  std::vector<int8_t> output(c.expected.size(), 0x55);
  ASSERT_EQ(fn(&p, &rq, c.input.data(), c.weights.data(),
               c.bias.empty() ? nullptr : c.bias.data(), output.data()),
            KILN_RT_OK)
      << name << " " << describe(c.params);
  ASSERT_EQ(output, c.expected) << name << " " << describe(c.params);
}

TEST(Runtime, ReportsItsPath) {
  EXPECT_STREQ(kiln_rt_path(), KILN_RT_EXPECTED_PATH);
}

TEST(FixedPoint, MatchesReferenceOnRandomAndEdgeValues) {
  std::mt19937 rng(17);
  const int32_t edges[] = {0,        1,          -1,       2,       -2,
                           1 << 30,  -(1 << 30), kMax,     kMin,    kMax - 1,
                           kMin + 1, 12345678,   -7654321, 1 << 15, -(1 << 15)};
  for (int32_t shift = ref::kMinShift; shift <= ref::kMaxShift; ++shift) {
    for (int32_t x : edges)
      for (int32_t m : {0, 1, 1 << 30, kMax, (1 << 30) + 12345, 3 << 29})
        ASSERT_EQ(kiln_multiply_by_quantized_multiplier(x, m, shift),
                  ref::multiplyByQuantizedMultiplier(x, m, shift))
            << x << " " << m << " " << shift;
    for (int i = 0; i < 20000; ++i) {
      const int32_t x = static_cast<int32_t>(rng()) >> uniform(rng, 0, 31);
      const int32_t m = static_cast<int32_t>(rng() >> 1);
      ASSERT_EQ(kiln_multiply_by_quantized_multiplier(x, m, shift),
                ref::multiplyByQuantizedMultiplier(x, m, shift))
          << x << " " << m << " " << shift;
    }
  }
  // The saturating case of the doubling high multiply.
  for (int32_t shift : {-31, -5, 0, 3})
    EXPECT_EQ(kiln_multiply_by_quantized_multiplier(kMin, kMin, shift),
              ref::multiplyByQuantizedMultiplier(kMin, kMin, shift));
}

/// A convolution entry point with scratch.
using ConvScratchFn = kiln_rt_status_t (*)(const kiln_conv_params_t *,
                                           const kiln_requant_t *,
                                           const int8_t *, const int8_t *,
                                           const int32_t *, int8_t *, void *);

/// Runs |fn| on |c| with an exactly sized scratch buffer of
/// kiln_conv2d_s8_scratch_bytes() and expects the reference output.
void expectConvMatches(const ConvCase &c, ConvScratchFn fn, const char *name) {
  const kiln_conv_params_t p = toRuntime(c.params);
  const kiln_requant_t rq = c.rq.rtView();
  std::vector<int8_t> output(c.expected.size(), 0x55);
  const size_t bytes = kiln_conv2d_s8_scratch_bytes(&p);
  std::unique_ptr<uint32_t[]> scratch(bytes ? new uint32_t[(bytes + 3) / 4]
                                            : nullptr);
  // Garbage in the scratch must not matter.
  if (bytes)
    std::memset(scratch.get(), 0xA5, bytes);
  ASSERT_EQ(fn(&p, &rq, c.input.data(), c.weights.data(),
               c.bias.empty() ? nullptr : c.bias.data(), output.data(),
               scratch.get()),
            KILN_RT_OK)
      << name << " " << describe(c.params);
  ASSERT_EQ(output, c.expected) << name << " " << describe(c.params);
}

TEST(Conv2D, GenericAndDispatchMatchReference) {
  std::mt19937 rng(101);
  const ConvKind kinds[] = {ConvKind::Dense, ConvKind::Grouped,
                            ConvKind::Depthwise, ConvKind::Pointwise,
                            ConvKind::ThreeByThree};
  for (int i = 0; i < 250; ++i) {
    const ConvCase c = randomConv(rng, kinds[i % 5]);
    expectConvMatches(c, kiln_conv2d_generic_s8, "generic");
    expectConvMatches(c, kiln_conv2d_s8, "dispatch");
  }
}

TEST(Conv2D, TallKernelsMatchReference) {
  // Kernels taller than 16 rows take the portable row kernel's unfolded
  // path (the zero point added per value).
  std::mt19937 rng(105);
  for (int i = 0; i < 6; ++i) {
    ConvCase c;
    ref::Conv2DParams &p = c.params;
    p.inputHeight = 20;
    p.inputWidth = 5;
    p.inputChannels = uniform(rng, 1, 5);
    p.outputChannels = uniform(rng, 1, 4);
    p.kernelHeight = 17;
    p.kernelWidth = uniform(rng, 1, 3);
    p.padTop = uniform(rng, 0, 2);
    p.padLeft = p.padRight = uniform(rng, 0, 1);
    p.inputZeroPoint = uniform(rng, -128, 127);
    c.input = randomInt8(rng, 20 * 5 * p.inputChannels);
    c.weights =
        randomInt8(rng, p.outputChannels * 17 * p.kernelWidth * p.inputChannels,
                   -127, 127);
    c.bias = randomBias(rng, static_cast<int>(p.outputChannels));
    c.rq = randomRequant(rng, static_cast<int>(p.outputChannels), true, 1e-5,
                         1e-3);
    c.expected.resize(p.outputHeight() * p.outputWidth() * p.outputChannels);
    ASSERT_TRUE(
        ref::conv2d(p, c.input, c.weights, c.bias, c.rq.refView(), c.expected));
    expectConvMatches(c, kiln_conv2d_s8, "tall");
  }
}

TEST(Conv2D, ScratchSizeFormula) {
  ref::Conv2DParams p;
  p.inputChannels = 5;
  p.kernelHeight = p.kernelWidth = 3;
  p.padTop = p.padBottom = p.padLeft = p.padRight = 1;
  kiln_conv_params_t r = toRuntime(p);
  EXPECT_EQ(kiln_conv2d_s8_scratch_bytes(&r), 16u * 12u); // ceil(45 / 4)
  r.in_c = 8;
  r.out_c = 8;
  r.groups = 2;
  EXPECT_EQ(kiln_conv2d_s8_scratch_bytes(&r), 0u);
}

TEST(Conv2D, PointwiseFastPathMatchesReference) {
  std::mt19937 rng(102);
  for (int i = 0; i < 150; ++i) {
    ConvCase c = randomConv(rng, ConvKind::Pointwise);
    expectConvMatches(c, kiln_conv2d_1x1_s8, "1x1");
  }
  // A bigger layer with channel counts that exercise the 4-wide loop and
  // its tails: 7x5x37 -> 19.
  ref::Conv2DParams p;
  p.inputHeight = 7;
  p.inputWidth = 5;
  p.inputChannels = 37;
  p.outputChannels = 19;
  p.inputZeroPoint = -3;
  ConvCase c;
  c.params = p;
  c.input = randomInt8(rng, 7 * 5 * 37);
  c.weights = randomInt8(rng, 19 * 37, -127, 127);
  c.bias = randomBias(rng, 19);
  c.rq = randomRequant(rng, 19, true, 1e-4, 1e-2);
  c.expected.resize(7 * 5 * 19);
  ASSERT_TRUE(
      ref::conv2d(p, c.input, c.weights, c.bias, c.rq.refView(), c.expected));
  expectConvMatches(c, kiln_conv2d_1x1_s8, "1x1 big");
}

TEST(Conv2D, ThreeByThreeFastPathMatchesReference) {
  std::mt19937 rng(103);
  for (int i = 0; i < 200; ++i) {
    ConvCase c = randomConv(rng, ConvKind::ThreeByThree);
    expectConvMatches(c, kiln_conv2d_3x3_s8, "3x3");
  }
}

TEST(Conv2D, FastPathsRejectOtherShapes) {
  std::mt19937 rng(104);
  ConvCase c = randomConv(rng, ConvKind::Grouped);
  const kiln_conv_params_t p = toRuntime(c.params);
  const kiln_requant_t rq = c.rq.rtView();
  std::vector<int8_t> output(c.expected.size(), 7);
  std::vector<uint32_t> scratch(1024);
  EXPECT_EQ(kiln_conv2d_1x1_s8(&p, &rq, c.input.data(), c.weights.data(),
                               nullptr, output.data(), scratch.data()),
            KILN_RT_UNSUPPORTED);
  EXPECT_EQ(kiln_conv2d_3x3_s8(&p, &rq, c.input.data(), c.weights.data(),
                               nullptr, output.data(), scratch.data()),
            KILN_RT_UNSUPPORTED);
  // The fast paths need scratch.
  ConvCase pw = randomConv(rng, ConvKind::Pointwise);
  const kiln_conv_params_t ppw = toRuntime(pw.params);
  const kiln_requant_t rqpw = pw.rq.rtView();
  std::vector<int8_t> outpw(pw.expected.size());
  EXPECT_EQ(kiln_conv2d_1x1_s8(&ppw, &rqpw, pw.input.data(), pw.weights.data(),
                               nullptr, outpw.data(), nullptr),
            KILN_RT_INVALID_ARGUMENT);
  EXPECT_TRUE(std::all_of(output.begin(), output.end(),
                          [](int8_t v) { return v == 7; }));
  kiln_conv_params_t bad = p;
  bad.out_h += 1; // Inconsistent output size.
  EXPECT_EQ(kiln_conv2d_s8(&bad, &rq, c.input.data(), c.weights.data(), nullptr,
                           output.data(), scratch.data()),
            KILN_RT_INVALID_ARGUMENT);
  bad = p;
  bad.act_min = 10;
  bad.act_max = 5;
  EXPECT_EQ(kiln_conv2d_generic_s8(&bad, &rq, c.input.data(), c.weights.data(),
                                   nullptr, output.data()),
            KILN_RT_INVALID_ARGUMENT);
  std::vector<int32_t> badShift(c.rq.shifts.size(), 31);
  const kiln_requant_t badRq = {c.rq.multipliers.data(), badShift.data(),
                                c.rq.perChannel ? 1 : 0};
  EXPECT_EQ(kiln_conv2d_s8(&p, &badRq, c.input.data(), c.weights.data(),
                           nullptr, output.data(), scratch.data()),
            KILN_RT_INVALID_ARGUMENT);
  EXPECT_TRUE(std::all_of(output.begin(), output.end(),
                          [](int8_t v) { return v == 7; }));
}

/// Runs a scratch-taking depthwise entry point on |c| with an exactly sized
/// scratch buffer and expects the reference output.
void expectDwMatches(const ConvCase &c,
                     kiln_rt_status_t (*fn)(const kiln_conv_params_t *,
                                            const kiln_requant_t *,
                                            const int8_t *, const int8_t *,
                                            const int32_t *, int8_t *, void *),
                     size_t scratchBytes, const char *name) {
  const kiln_conv_params_t p = toRuntime(c.params);
  const kiln_requant_t rq = c.rq.rtView();
  std::vector<int8_t> output(c.expected.size(), 0x55);
  std::unique_ptr<uint8_t[]> scratch(scratchBytes ? new uint8_t[scratchBytes]
                                                  : nullptr);
  ASSERT_EQ(fn(&p, &rq, c.input.data(), c.weights.data(),
               c.bias.empty() ? nullptr : c.bias.data(), output.data(),
               scratch.get()),
            KILN_RT_OK)
      << name << " " << describe(c.params);
  ASSERT_EQ(output, c.expected) << name << " " << describe(c.params);
}

TEST(DepthwiseConv2D, GenericMatchesReference) {
  std::mt19937 rng(201);
  for (int i = 0; i < 200; ++i) {
    ConvCase c = randomConv(rng, ConvKind::Depthwise);
    expectConvMatches(c, kiln_dwconv2d_generic_s8, "dw generic");
    const kiln_conv_params_t p = toRuntime(c.params);
    expectDwMatches(c, kiln_dwconv2d_s8, kiln_dwconv2d_s8_scratch_bytes(&p),
                    "dw dispatch");
  }
}

/// Returns a random 3x3 depthwise case (stride 1 or 2, any padding and
/// channel multiplier).
ConvCase randomDw3x3(std::mt19937 &rng, bool multiplierOne) {
  for (;;) {
    ConvCase c = randomConv(rng, ConvKind::Depthwise);
    ref::Conv2DParams &p = c.params;
    p.kernelHeight = p.kernelWidth = 3;
    p.dilationHeight = p.dilationWidth = 1;
    p.strideHeight = uniform(rng, 1, 2);
    p.strideWidth = uniform(rng, 1, 2);
    p.padTop = uniform(rng, 0, 1);
    p.padBottom = uniform(rng, 0, 2);
    p.padLeft = uniform(rng, 0, 1);
    p.padRight = uniform(rng, 0, 2);
    if (multiplierOne)
      p.outputChannels = p.inputChannels;
    if (p.outputHeight() <= 0 || p.outputWidth() <= 0)
      continue;
    c.weights = randomInt8(rng, p.outputChannels * 9, -127, 127);
    if (!c.bias.empty())
      c.bias = randomBias(rng, static_cast<int>(p.outputChannels));
    c.rq =
        randomRequant(rng, static_cast<int>(p.outputChannels), c.rq.perChannel,
                      0.5 / (128 * 64 * 3), 64.0 / (128 * 64 * 3));
    c.expected.assign(
        p.batch * p.outputHeight() * p.outputWidth() * p.outputChannels, 0);
    EXPECT_TRUE(
        ref::conv2d(p, c.input, c.weights, c.bias, c.rq.refView(), c.expected));
    return c;
  }
}

TEST(DepthwiseConv2D, ThreeByThreeFastPathMatchesReference) {
  std::mt19937 rng(202);
  for (int i = 0; i < 250; ++i) {
    ConvCase c = randomDw3x3(rng, false);
    const kiln_conv_params_t p = toRuntime(c.params);
    expectDwMatches(c, kiln_dwconv2d_3x3_s8,
                    kiln_dwconv2d_3x3_s8_scratch_bytes(&p), "dw 3x3");
    expectDwMatches(c, kiln_dwconv2d_s8, kiln_dwconv2d_s8_scratch_bytes(&p),
                    "dw dispatch 3x3");
  }
}

/// Runs the in-place kernel on a copy of |c|'s input and expects the
/// reference output at the start of the buffer.
void expectInPlaceMatches(const ConvCase &c) {
  const kiln_conv_params_t p = toRuntime(c.params);
  const kiln_requant_t rq = c.rq.rtView();
  std::vector<int8_t> buffer = c.input;
  const size_t scratchBytes = kiln_dwconv2d_inplace_s8_scratch_bytes(&p);
  EXPECT_GE(scratchBytes, size_t((p.in_h + p.pad_top + p.pad_bottom) *
                                 (p.in_w + p.pad_left + p.pad_right)));
  std::unique_ptr<uint8_t[]> scratch(new uint8_t[scratchBytes]);
  ASSERT_EQ(kiln_dwconv2d_inplace_s8(&p, &rq, c.weights.data(),
                                     c.bias.empty() ? nullptr : c.bias.data(),
                                     buffer.data(), scratch.get()),
            KILN_RT_OK)
      << describe(c.params);
  ASSERT_TRUE(std::equal(c.expected.begin(), c.expected.end(), buffer.begin()))
      << "in place " << describe(c.params);
}

TEST(DepthwiseConv2D, InPlaceMatchesReference) {
  std::mt19937 rng(203);
  int checked = 0;
  for (int i = 0; i < 300; ++i) {
    // Alternate between 3x3 layers (the fast core) and any kernel.
    ConvCase c =
        i % 2 ? randomDw3x3(rng, true) : randomConv(rng, ConvKind::Depthwise);
    const ref::Conv2DParams &p = c.params;
    if (p.outputChannels != p.inputChannels ||
        p.outputHeight() * p.outputWidth() > p.inputHeight * p.inputWidth)
      continue;
    expectInPlaceMatches(c);
    ++checked;
  }
  EXPECT_GT(checked, 150);
}

TEST(DepthwiseConv2D, InPlaceRejectsGrowingOutputs) {
  std::mt19937 rng(204);
  ConvCase c = randomDw3x3(rng, true);
  kiln_conv_params_t p = toRuntime(c.params);
  // Padding 2 on each side with stride 1 grows the plane.
  p.stride_h = p.stride_w = 1;
  p.pad_top = p.pad_bottom = p.pad_left = p.pad_right = 2;
  p.out_h = p.in_h + 2;
  p.out_w = p.in_w + 2;
  const kiln_requant_t rq = c.rq.rtView();
  std::vector<uint8_t> scratch(kiln_dwconv2d_inplace_s8_scratch_bytes(&p));
  std::vector<int8_t> buffer = c.input;
  EXPECT_EQ(kiln_dwconv2d_inplace_s8(&p, &rq, c.weights.data(), nullptr,
                                     buffer.data(), scratch.data()),
            KILN_RT_UNSUPPORTED);
  EXPECT_EQ(buffer, c.input);
  EXPECT_EQ(kiln_dwconv2d_3x3_s8(&p, &rq, c.input.data(), c.weights.data(),
                                 nullptr, buffer.data(), nullptr),
            KILN_RT_INVALID_ARGUMENT);
}

TEST(FullyConnected, MatchesReference) {
  std::mt19937 rng(301);
  for (int i = 0; i < 200; ++i) {
    ref::FullyConnectedParams p;
    p.batch = uniform(rng, 1, 5);
    p.inputFeatures = uniform(rng, 1, 70);
    p.outputFeatures = uniform(rng, 1, 17);
    p.inputZeroPoint = uniform(rng, -128, 127);
    p.outputZeroPoint = uniform(rng, -20, 20);
    if (i % 3 == 0)
      p.activation = {p.outputZeroPoint, 127};
    auto input = randomInt8(rng, p.batch * p.inputFeatures);
    auto weights =
        randomInt8(rng, p.outputFeatures * p.inputFeatures, -127, 127);
    std::vector<int32_t> bias;
    if (i % 2)
      bias = randomBias(rng, static_cast<int>(p.outputFeatures));
    const double typical = 128.0 * 64.0 * std::sqrt(double(p.inputFeatures));
    Requant rq = randomRequant(rng, static_cast<int>(p.outputFeatures),
                               i % 4 != 0, 4.0 / typical, 256.0 / typical);
    std::vector<int8_t> expected(p.batch * p.outputFeatures);
    ASSERT_TRUE(
        ref::fullyConnected(p, input, weights, bias, rq.refView(), expected));
    kiln_fc_params_t r = {static_cast<int32_t>(p.batch),
                          static_cast<int32_t>(p.inputFeatures),
                          static_cast<int32_t>(p.outputFeatures),
                          p.inputZeroPoint,
                          p.outputZeroPoint,
                          p.activation.min,
                          p.activation.max};
    const kiln_requant_t rrq = rq.rtView();
    std::vector<int8_t> output(expected.size());
    ASSERT_EQ(kiln_fully_connected_s8(&r, &rrq, input.data(), weights.data(),
                                      bias.empty() ? nullptr : bias.data(),
                                      output.data()),
              KILN_RT_OK);
    ASSERT_EQ(output, expected) << "case " << i;
  }
}

TEST(Pooling, AverageAndMaxMatchReference) {
  std::mt19937 rng(401);
  int checked = 0;
  for (int i = 0; i < 400; ++i) {
    ref::Pool2DParams p;
    p.batch = uniform(rng, 1, 2);
    p.inputHeight = uniform(rng, 1, 9);
    p.inputWidth = uniform(rng, 1, 9);
    p.channels = uniform(rng, 1, 6);
    p.kernelHeight = uniform(rng, 1, 4);
    p.kernelWidth = uniform(rng, 1, 4);
    p.strideHeight = uniform(rng, 1, 3);
    p.strideWidth = uniform(rng, 1, 3);
    p.padTop = uniform(rng, 0, int(p.kernelHeight) - 1);
    p.padBottom = uniform(rng, 0, int(p.kernelHeight) - 1);
    p.padLeft = uniform(rng, 0, int(p.kernelWidth) - 1);
    p.padRight = uniform(rng, 0, int(p.kernelWidth) - 1);
    p.ceilMode = uniform(rng, 0, 1);
    p.countIncludePad = uniform(rng, 0, 1);
    p.zeroPoint = uniform(rng, -128, 127);
    if (i % 3 == 0)
      p.activation = {uniform(rng, -128, 0), uniform(rng, 1, 127)};
    if (p.outputHeight() <= 0 || p.outputWidth() <= 0)
      continue;
    auto input =
        randomInt8(rng, p.batch * p.inputHeight * p.inputWidth * p.channels);
    const size_t outSize =
        p.batch * p.outputHeight() * p.outputWidth() * p.channels;
    std::vector<int8_t> expectedAvg(outSize), expectedMax(outSize);
    ASSERT_TRUE(ref::averagePool2d(p, input, expectedAvg));
    ASSERT_TRUE(ref::maxPool2d(p, input, expectedMax));
    kiln_pool_params_t r;
    r.batch = int32_t(p.batch);
    r.in_h = int32_t(p.inputHeight);
    r.in_w = int32_t(p.inputWidth);
    r.channels = int32_t(p.channels);
    r.out_h = int32_t(p.outputHeight());
    r.out_w = int32_t(p.outputWidth());
    r.kernel_h = int32_t(p.kernelHeight);
    r.kernel_w = int32_t(p.kernelWidth);
    r.stride_h = int32_t(p.strideHeight);
    r.stride_w = int32_t(p.strideWidth);
    r.pad_top = int32_t(p.padTop);
    r.pad_left = int32_t(p.padLeft);
    r.pad_bottom = int32_t(p.padBottom);
    r.pad_right = int32_t(p.padRight);
    r.count_include_pad = p.countIncludePad;
    r.zero_point = p.zeroPoint;
    r.act_min = p.activation.min;
    r.act_max = p.activation.max;
    std::vector<int8_t> output(outSize);
    ASSERT_EQ(kiln_avgpool2d_s8(&r, input.data(), output.data()), KILN_RT_OK);
    ASSERT_EQ(output, expectedAvg) << "avg case " << i;
    ASSERT_EQ(kiln_maxpool2d_s8(&r, input.data(), output.data()), KILN_RT_OK);
    ASSERT_EQ(output, expectedMax) << "max case " << i;
    ++checked;
  }
  EXPECT_GT(checked, 300);
}

TEST(Pooling, GlobalAverageMatchesReference) {
  std::mt19937 rng(402);
  for (int i = 0; i < 100; ++i) {
    ref::GlobalAveragePoolParams p;
    p.batch = uniform(rng, 1, 3);
    p.height = uniform(rng, 1, 12);
    p.width = uniform(rng, 1, 12);
    p.channels = uniform(rng, 1, 20);
    p.inputZeroPoint = uniform(rng, -128, 127);
    p.outputZeroPoint = uniform(rng, -128, 127);
    p.multiplier = *ref::makeGlobalAveragePoolMultiplier(
        std::exp2(uniform(rng, -8, 0)), std::exp2(uniform(rng, -8, 0)),
        p.height * p.width);
    auto input = randomInt8(rng, p.batch * p.height * p.width * p.channels);
    std::vector<int8_t> expected(p.batch * p.channels), output(expected.size());
    ASSERT_TRUE(ref::globalAveragePool(p, input, expected));
    kiln_global_avgpool_params_t r = {int32_t(p.batch),
                                      int32_t(p.height),
                                      int32_t(p.width),
                                      int32_t(p.channels),
                                      p.inputZeroPoint,
                                      p.outputZeroPoint,
                                      p.multiplier.multiplier,
                                      p.multiplier.shift,
                                      -128,
                                      127};
    ASSERT_EQ(kiln_global_avgpool_s8(&r, input.data(), output.data()),
              KILN_RT_OK);
    ASSERT_EQ(output, expected) << "case " << i;
  }
}

/// Returns random scales for the elementwise tests.
double randomScale(std::mt19937 &rng) {
  return std::exp2(std::uniform_real_distribution<double>(-9.0, -1.0)(rng));
}

/// Returns the runtime broadcast description of |shape1| op |shape2|.
kiln_broadcast_t toBroadcast(const std::vector<int64_t> &shape1,
                             const std::vector<int64_t> &shape2) {
  const std::vector<int64_t> out = *ref::broadcastShapes(shape1, shape2);
  kiln_broadcast_t b;
  std::memset(&b, 0, sizeof(b));
  b.rank = static_cast<int32_t>(out.size());
  auto fill = [&](const std::vector<int64_t> &shape, int32_t *strides) {
    int64_t stride = 1;
    for (size_t i = 0; i < out.size(); ++i) {
      const size_t d = out.size() - 1 - i;
      if (i < shape.size()) {
        const int64_t dim = shape[shape.size() - 1 - i];
        strides[d] = dim == 1 ? 0 : static_cast<int32_t>(stride);
        stride *= dim;
      } else {
        strides[d] = 0;
      }
    }
  };
  for (size_t d = 0; d < out.size(); ++d)
    b.dims[d] = static_cast<int32_t>(out[d]);
  fill(shape1, b.strides1);
  fill(shape2, b.strides2);
  return b;
}

/// Returns a random shape of rank [0, 4] and a second shape broadcastable
/// with it.
std::pair<std::vector<int64_t>, std::vector<int64_t>>
randomBroadcastShapes(std::mt19937 &rng) {
  std::vector<int64_t> a(uniform(rng, 0, 4));
  for (int64_t &d : a)
    d = uniform(rng, 1, 5);
  std::vector<int64_t> b(a.end() - uniform(rng, 0, int(a.size())), a.end());
  for (int64_t &d : b)
    if (uniform(rng, 0, 2) == 0)
      d = 1;
  if (uniform(rng, 0, 1))
    std::swap(a, b);
  return {a, b};
}

/// Returns the element count of |shape|.
size_t count(const std::vector<int64_t> &shape) {
  size_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

TEST(Elementwise, AddMatchesReference) {
  std::mt19937 rng(501);
  for (int i = 0; i < 200; ++i) {
    const ref::ActivationRange act =
        i % 3 ? ref::ActivationRange{} : ref::ActivationRange{-20, 100};
    ref::AddParams p =
        *ref::makeAddParams(randomScale(rng), uniform(rng, -128, 127),
                            randomScale(rng), uniform(rng, -128, 127),
                            randomScale(rng), uniform(rng, -128, 127), act);
    kiln_add_params_t r = {
        p.input1ZeroPoint,   p.input2ZeroPoint,   p.outputZeroPoint,
        p.leftShift,         p.input1.multiplier, p.input1.shift,
        p.input2.multiplier, p.input2.shift,      p.output.multiplier,
        p.output.shift,      p.activation.min,    p.activation.max};
    auto [shape1, shape2] = randomBroadcastShapes(rng);
    auto a = randomInt8(rng, count(shape1)), b = randomInt8(rng, count(shape2));
    const std::vector<int64_t> outShape = *ref::broadcastShapes(shape1, shape2);
    std::vector<int8_t> expected(count(outShape)), output(expected.size());
    ASSERT_TRUE(ref::add(p, shape1, a, shape2, b, expected));
    const kiln_broadcast_t bc = toBroadcast(shape1, shape2);
    ASSERT_EQ(kiln_add_broadcast_s8(&r, &bc, a.data(), b.data(), output.data()),
              KILN_RT_OK);
    ASSERT_EQ(output, expected) << "broadcast case " << i;
    // Same shape, in place.
    auto c = randomInt8(rng, a.size());
    std::vector<int8_t> same(a.size());
    ASSERT_TRUE(ref::add(p, shape1, a, shape1, c, same));
    ASSERT_EQ(kiln_add_s8(&r, a.data(), c.data(), c.data(),
                          static_cast<int32_t>(a.size())),
              KILN_RT_OK);
    ASSERT_EQ(c, same) << "in-place case " << i;
  }
}

TEST(Elementwise, MulMatchesReference) {
  std::mt19937 rng(502);
  for (int i = 0; i < 200; ++i) {
    ref::MulParams p =
        *ref::makeMulParams(randomScale(rng), uniform(rng, -128, 127),
                            randomScale(rng), uniform(rng, -128, 127),
                            randomScale(rng) / 64, uniform(rng, -128, 127));
    kiln_mul_params_t r = {p.input1ZeroPoint, p.input2ZeroPoint,
                           p.outputZeroPoint, p.output.multiplier,
                           p.output.shift,    p.activation.min,
                           p.activation.max};
    auto [shape1, shape2] = randomBroadcastShapes(rng);
    auto a = randomInt8(rng, count(shape1)), b = randomInt8(rng, count(shape2));
    const std::vector<int64_t> outShape = *ref::broadcastShapes(shape1, shape2);
    std::vector<int8_t> expected(count(outShape)), output(expected.size());
    ASSERT_TRUE(ref::mul(p, shape1, a, shape2, b, expected));
    const kiln_broadcast_t bc = toBroadcast(shape1, shape2);
    ASSERT_EQ(kiln_mul_broadcast_s8(&r, &bc, a.data(), b.data(), output.data()),
              KILN_RT_OK);
    ASSERT_EQ(output, expected) << "case " << i;
    auto c = randomInt8(rng, a.size());
    std::vector<int8_t> same(a.size()), out2(a.size());
    ASSERT_TRUE(ref::mul(p, shape1, a, shape1, c, same));
    ASSERT_EQ(kiln_mul_s8(&r, a.data(), c.data(), out2.data(),
                          static_cast<int32_t>(a.size())),
              KILN_RT_OK);
    ASSERT_EQ(out2, same);
  }
}

TEST(Elementwise, RequantizeAndClampMatchReference) {
  std::mt19937 rng(503);
  std::vector<int8_t> all(256);
  for (int i = 0; i < 256; ++i)
    all[i] = static_cast<int8_t>(i - 128);
  for (int i = 0; i < 100; ++i) {
    ref::RequantizeParams p;
    p.inputZeroPoint = uniform(rng, -128, 127);
    p.outputZeroPoint = uniform(rng, -128, 127);
    p.multiplier =
        *ref::makeRequantizeMultiplier(randomScale(rng), randomScale(rng));
    p.activation = {uniform(rng, -128, 0), uniform(rng, 0, 127)};
    std::vector<int8_t> expected(256), output(256);
    ASSERT_TRUE(ref::requantize(p, all, expected));
    kiln_requantize_params_t r = {p.inputZeroPoint,        p.outputZeroPoint,
                                  p.multiplier.multiplier, p.multiplier.shift,
                                  p.activation.min,        p.activation.max};
    ASSERT_EQ(kiln_requantize_s8(&r, all.data(), output.data(), 256),
              KILN_RT_OK);
    ASSERT_EQ(output, expected);
    ASSERT_TRUE(ref::clampToActivation(p.activation, all, expected));
    ASSERT_EQ(kiln_clamp_s8(all.data(), output.data(), 256, p.activation.min,
                            p.activation.max),
              KILN_RT_OK);
    ASSERT_EQ(output, expected);
  }
  std::vector<int8_t> output(256);
  EXPECT_EQ(kiln_clamp_s8(all.data(), output.data(), 256, 5, 4),
            KILN_RT_INVALID_ARGUMENT);
}

TEST(DataMovement, ConcatMatchesReference) {
  std::mt19937 rng(601);
  for (int i = 0; i < 100; ++i) {
    const int rank = uniform(rng, 1, 4);
    const int axis = uniform(rng, 0, rank - 1);
    std::vector<int64_t> base(rank);
    for (int64_t &d : base)
      d = uniform(rng, 1, 4);
    const int numInputs = uniform(rng, 1, 4);
    const int32_t outZp = uniform(rng, -128, 127);
    const double outScale = randomScale(rng);
    std::vector<std::vector<int64_t>> shapes;
    std::vector<std::vector<int8_t>> datas;
    std::vector<ref::ConcatInput> inputs;
    std::vector<kiln_concat_input_t> rtInputs;
    int64_t inner = 1, outer = 1;
    for (int d = 0; d < axis; ++d)
      outer *= base[d];
    for (int d = axis + 1; d < rank; ++d)
      inner *= base[d];
    shapes.reserve(numInputs);
    datas.reserve(numInputs);
    size_t total = 0;
    for (int k = 0; k < numInputs; ++k) {
      shapes.push_back(base);
      // Size 0 along the axis is allowed except for the first input.
      shapes.back()[axis] = uniform(rng, k == 0 ? 1 : 0, 3);
      datas.push_back(randomInt8(rng, count(shapes.back())));
      total += datas.back().size();
      ref::ConcatInput in;
      in.shape = shapes.back();
      in.data = datas.back();
      // Every other input shares the output's quantization (a plain copy).
      if (k % 2 == 0) {
        in.zeroPoint = outZp;
        in.multiplier = {1 << 30, 1};
      } else {
        in.zeroPoint = uniform(rng, -128, 127);
        in.multiplier =
            *ref::makeRequantizeMultiplier(randomScale(rng), outScale);
      }
      inputs.push_back(in);
      rtInputs.push_back({datas.back().data(),
                          static_cast<int32_t>(shapes.back()[axis] * inner),
                          in.zeroPoint, in.multiplier.multiplier,
                          in.multiplier.shift});
    }
    std::vector<int8_t> expected(total), output(total);
    ASSERT_TRUE(ref::concat(inputs, axis, outZp, expected));
    ASSERT_EQ(kiln_concat_s8(rtInputs.data(), numInputs,
                             static_cast<int32_t>(outer), outZp, output.data()),
              KILN_RT_OK);
    ASSERT_EQ(output, expected) << "case " << i;
  }
}

TEST(DataMovement, PadMatchesReference) {
  std::mt19937 rng(602);
  for (int i = 0; i < 200; ++i) {
    const int rank = uniform(rng, 1, KILN_RT_MAX_RANK);
    std::vector<int64_t> shape(rank), before(rank), after(rank);
    kiln_pad_params_t r;
    std::memset(&r, 0, sizeof(r));
    r.rank = rank;
    for (int d = 0; d < rank; ++d) {
      shape[d] = uniform(rng, 1, rank > 4 ? 2 : 4);
      before[d] = uniform(rng, 0, 2);
      after[d] = uniform(rng, 0, 2);
      r.dims[d] = int32_t(shape[d]);
      r.before[d] = int32_t(before[d]);
      r.after[d] = int32_t(after[d]);
    }
    r.value = static_cast<int8_t>(uniform(rng, -128, 127));
    auto input = randomInt8(rng, count(shape));
    std::vector<int64_t> outShape(rank);
    for (int d = 0; d < rank; ++d)
      outShape[d] = before[d] + shape[d] + after[d];
    std::vector<int8_t> expected(count(outShape)), output(expected.size());
    ASSERT_TRUE(ref::pad(shape, input, before, after, r.value, expected));
    ASSERT_EQ(kiln_pad_s8(&r, input.data(), output.data()), KILN_RT_OK);
    ASSERT_EQ(output, expected) << "case " << i;
  }
}

TEST(Softmax, MatchesReference) {
  std::mt19937 rng(701);
  for (int i = 0; i < 60; ++i) {
    const int32_t rowLength =
        i % 10 == 0 ? uniform(rng, 500, 1200) : uniform(rng, 1, 40);
    const int32_t rows = uniform(rng, 1, 4);
    const double scale =
        std::exp2(std::uniform_real_distribution<double>(-7, 0)(rng));
    auto table = *ref::makeSoftmaxTable(scale, 1.0, rowLength);
    auto input = randomInt8(rng, size_t(rows) * rowLength);
    std::vector<int8_t> expected(input.size());
    ASSERT_TRUE(ref::softmax(rows, rowLength, table, input, expected));
    // In place.
    std::vector<int8_t> buffer = input;
    ASSERT_EQ(kiln_softmax_s8(buffer.data(), buffer.data(), rows, rowLength,
                              table.data()),
              KILN_RT_OK);
    ASSERT_EQ(buffer, expected) << "case " << i;
  }
  auto table = *ref::makeSoftmaxTable(0.1, 1.0, 4);
  std::vector<int8_t> row(1000);
  EXPECT_EQ(kiln_softmax_s8(row.data(), row.data(), 1, 1000, table.data()),
            KILN_RT_INVALID_ARGUMENT);
}

TEST(FloatBoundary, QuantizeAndDequantizeMatchReference) {
  std::mt19937 rng(801);
  std::vector<float> values = {0.0f,
                               -0.0f,
                               0.5f,
                               -0.5f,
                               1.5f,
                               -2.5f,
                               0.49999997f,
                               -0.49999997f,
                               1e30f,
                               -1e30f,
                               std::numeric_limits<float>::infinity(),
                               -std::numeric_limits<float>::infinity(),
                               std::numeric_limits<float>::quiet_NaN(),
                               1e-30f};
  std::uniform_real_distribution<float> dist(-20.0f, 20.0f);
  for (int i = 0; i < 5000; ++i)
    values.push_back(dist(rng));
  for (int i = 0; i < 2000; ++i) // Exact ties at scale 0.25.
    values.push_back(0.125f * static_cast<float>(uniform(rng, -1200, 1200)));
  for (float scale : {1.0f, 0.25f, 0.0371f, 0.1f, 3.0f}) {
    for (int32_t zp : {-128, -7, 0, 33, 127}) {
      std::vector<int8_t> expected(values.size()), output(values.size());
      ASSERT_TRUE(ref::quantizeArray(values, scale, zp, expected));
      ASSERT_EQ(kiln_quantize_f32_s8(values.data(), output.data(),
                                     static_cast<int32_t>(values.size()), scale,
                                     zp),
                KILN_RT_OK);
      ASSERT_EQ(output, expected) << scale << " " << zp;
      std::vector<float> back(values.size()), backExpected(values.size());
      ASSERT_TRUE(ref::dequantizeArray(expected, scale, zp, backExpected));
      ASSERT_EQ(kiln_dequantize_s8_f32(expected.data(), back.data(),
                                       static_cast<int32_t>(values.size()),
                                       scale, zp),
                KILN_RT_OK);
      ASSERT_EQ(0, std::memcmp(back.data(), backExpected.data(),
                               back.size() * sizeof(float)));
    }
  }
}

} // namespace
