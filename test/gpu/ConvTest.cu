//===- ConvTest.cu - Convolutions and pooling vs host reference ----------===//
// SPDX-License-Identifier: Apache-2.0
//
// Implicit-GEMM convolution (int8 with zero-point padding, bit-exact; fp16
// with tolerances), depthwise convolution, and max / average / global
// average pooling (int8 bit-exact, fp16 with tolerances) on seeded random
// NHWC tensors over shapes with strides, padding, dilation, odd sizes and a
// 4-channel first layer.
//
//===----------------------------------------------------------------------===//

#include "EpilogueData.h"
#include "Harness.h"
#include "Reference.h"

#include "kiln/cuda/Conv.cuh"
#include "kiln/cuda/Pool.cuh"
#include "kiln/cuda/Select.h"

#include <cstdio>
#include <string>
#include <vector>

using namespace kiln::cuda;
using namespace kiln::gputest;

namespace {

struct ConvCase {
  int batch, H, W, C, OC, KH, KW, stride, pad, dilation;
};

ConvShape makeShape(const ConvCase &c) {
  ConvShape s;
  s.batch = c.batch;
  s.H = c.H;
  s.W = c.W;
  s.C = c.C;
  s.KH = c.KH;
  s.KW = c.KW;
  s.strideH = s.strideW = c.stride;
  s.padTop = s.padLeft = c.pad;
  s.dilationH = s.dilationW = c.dilation;
  s.OH = ConvShape::outSize(c.H, c.KH, c.stride, c.dilation, c.pad, c.pad);
  s.OW = ConvShape::outSize(c.W, c.KW, c.stride, c.dilation, c.pad, c.pad);
  return s;
}

ConvGeometry toGeometry(const ConvShape &s, int32_t padValue) {
  ConvGeometry g;
  g.batch = s.batch;
  g.H = s.H;
  g.W = s.W;
  g.C = s.C;
  g.OH = s.OH;
  g.OW = s.OW;
  g.KH = s.KH;
  g.KW = s.KW;
  g.strideH = s.strideH;
  g.strideW = s.strideW;
  g.padTop = s.padTop;
  g.padLeft = s.padLeft;
  g.dilationH = s.dilationH;
  g.dilationW = s.dilationW;
  g.padValue = padValue;
  return g;
}

std::string describe(const char *what, const ConvCase &c) {
  char buf[200];
  std::snprintf(buf, sizeof buf,
                "%s N=%d H=%d W=%d C=%d OC=%d k=%dx%d s=%d p=%d d=%d", what,
                c.batch, c.H, c.W, c.C, c.OC, c.KH, c.KW, c.stride, c.pad,
                c.dilation);
  return buf;
}

/// Implicit-GEMM convolution case.
template <typename T, class Conv, class Epi>
void convCase(TestReport &report, Rng &rng, const char *what,
              const ConvCase &c) {
  constexpr bool kInt = std::is_same_v<T, int8_t>;
  using Bits = std::conditional_t<kInt, int8_t, uint16_t>;
  const ConvShape s = makeShape(c);
  const int K = s.KH * s.KW * s.C;
  const int64_t ldw = roundUp<int64_t>(K, 16 / int(sizeof(T)));
  const int32_t zp = kInt ? rng.uniformInt(-30, 30) : 0;
  std::vector<Bits> x(size_t(s.batch) * s.H * s.W * s.C), w(size_t(c.OC) * ldw);
  for (auto &v : x)
    v = kInt ? Bits(rng.uniformInt(-128, 127)) : Bits(floatToHalfBits(rng.normal()));
  for (int o = 0; o < c.OC; ++o)
    for (int64_t k = 0; k < ldw; ++k)
      w[o * ldw + k] =
          k < K ? (kInt ? Bits(rng.uniformInt(-127, 127))
                        : Bits(floatToHalfBits(rng.normal() * 0.3f)))
                : Bits(0); // The compiler pads filters with zeros.
  const int M = s.batch * s.OH * s.OW;
  EpilogueScales sc;
  sc.accScale = kInt ? std::sqrt(double(K)) * 64 * 64 : std::sqrt(double(K)) * 0.3;
  EpilogueData<Epi> epi(rng, M, c.OC, c.OC, sc);
  std::vector<typename Epi::Out> want;
  if constexpr (kInt)
    want = applyEpilogue<Epi>(epi.host, M, c.OC,
                              convInt32(s, c.OC, x.data(), w.data(), zp));
  else
    want = applyEpilogue<Epi>(epi.host, M, c.OC,
                              convHalf(s, c.OC, x.data(), w.data()));
  DeviceBuffer<Bits> dx, dw;
  dx.upload(x);
  dw.upload(w);
  GemmArgs args = makeConvArgs(toGeometry(s, zp), c.OC, dx.get(), dw.get(),
                               ldw, epi.device);
  KILN_CUDA_CHECK(Conv::run(args, toGeometry(s, zp), nullptr));
  KILN_CUDA_CHECK(cudaDeviceSynchronize());
  const std::string failure = epi.check(want, kInt);
  report.record(failure.empty(), describe(what, c), failure);
}

/// Depthwise case (filter [KH][KW][C]).
template <typename T, class Epi>
void depthwiseCase(TestReport &report, Rng &rng, const char *what,
                   const ConvCase &c) {
  constexpr bool kInt = std::is_same_v<T, int8_t>;
  const ConvShape s = makeShape(c);
  const int32_t zp = kInt ? rng.uniformInt(-30, 30) : 0;
  std::vector<T> x(size_t(s.batch) * s.H * s.W * s.C), w(size_t(s.KH) * s.KW * s.C);
  for (auto &v : x)
    v = kInt ? T(rng.uniformInt(-128, 127)) : T(floatToHalfBits(rng.normal()));
  for (auto &v : w)
    v = kInt ? T(rng.uniformInt(-127, 127)) : T(floatToHalfBits(rng.normal() * 0.3f));
  const int M = s.batch * s.OH * s.OW;
  EpilogueScales sc;
  sc.accScale = kInt ? double(s.KH) * 64 * 64 : double(s.KH) * 0.3;
  EpilogueData<Epi> epi(rng, M, s.C, s.C, sc);
  using Acc = std::conditional_t<kInt, int32_t, double>;
  const std::vector<typename Epi::Out> want = applyEpilogue<Epi>(
      epi.host, M, s.C, depthwise<Acc>(s, x.data(), w.data(), zp));
  DeviceBuffer<T> dx, dw;
  dx.upload(x);
  dw.upload(w);
  DepthwiseArgs a;
  a.g = toGeometry(s, zp);
  a.input = dx.get();
  a.filter = dw.get();
  a.epi = epi.device;
  KILN_CUDA_CHECK((DepthwiseConv2d<T, Epi, 16>::run(a, nullptr)));
  KILN_CUDA_CHECK(cudaDeviceSynchronize());
  const std::string failure = epi.check(want, kInt);
  report.record(failure.empty(), describe(what, c), failure);
}

/// Max / average pooling case.
template <typename T, PoolKind K>
void poolCase(TestReport &report, Rng &rng, const char *what, PoolShape p) {
  constexpr bool kInt = std::is_same_v<T, int8_t>;
  std::vector<T> x(size_t(p.batch) * p.H * p.W * p.C);
  for (auto &v : x)
    v = kInt ? T(rng.uniformInt(-128, 127)) : T(floatToHalfBits(rng.normal()));
  DeviceBuffer<T> dx, dy(size_t(p.batch) * p.OH * p.OW * p.C);
  dx.upload(x);
  dy.poison();
  PoolArgs a;
  a.batch = p.batch;
  a.H = p.H;
  a.W = p.W;
  a.C = p.C;
  a.OH = p.OH;
  a.OW = p.OW;
  a.KH = p.KH;
  a.KW = p.KW;
  a.strideH = p.strideH;
  a.strideW = p.strideW;
  a.padTop = p.padTop;
  a.padLeft = p.padLeft;
  a.padBottom = p.padBottom;
  a.padRight = p.padRight;
  a.countIncludePad = p.countIncludePad;
  a.zeroPoint = p.zeroPoint;
  a.clampMin = p.clampMin;
  a.clampMax = p.clampMax;
  a.input = dx.get();
  a.output = dy.get();
  KILN_CUDA_CHECK((Pool2d<T, K>::run(a, nullptr)));
  KILN_CUDA_CHECK(cudaDeviceSynchronize());
  const std::vector<T> got = dy.download();
  std::string failure;
  if constexpr (kInt) {
    const std::vector<int8_t> want = poolInt8(p, x.data(), K == PoolKind::kMax);
    failure = compareExact(got.data(), 0, want.data(), 0, 1, int64_t(want.size()));
  } else {
    const std::vector<double> want = poolHalf(p, x.data(), K == PoolKind::kMax);
    std::vector<double> g(got.size());
    for (size_t i = 0; i < got.size(); ++i)
      g[i] = halfBitsToFloat(got[i]);
    const FloatCheck fc = compareFloat(g, want, 2e-3, 1e-3, 2e-3);
    failure = fc.ok ? "" : fc.describe();
  }
  char buf[200];
  std::snprintf(buf, sizeof buf, "%s N=%d H=%d W=%d C=%d k=%dx%d s=%d pad=%d%s",
                what, p.batch, p.H, p.W, p.C, p.KH, p.KW, p.strideH, p.padTop,
                p.countIncludePad ? " include-pad" : "");
  report.record(failure.empty(), buf, failure);
}

/// Global average pooling case.
template <typename T>
void globalPoolCase(TestReport &report, Rng &rng, int batch, int HW, int C) {
  constexpr bool kInt = std::is_same_v<T, int8_t>;
  std::vector<T> x(size_t(batch) * HW * C);
  for (auto &v : x)
    v = kInt ? T(rng.uniformInt(-128, 127)) : T(floatToHalfBits(rng.normal()));
  GlobalPoolArgs a;
  a.batch = batch;
  a.HW = HW;
  a.C = C;
  a.inputZeroPoint = kInt ? rng.uniformInt(-20, 20) : 0;
  a.outputZeroPoint = kInt ? rng.uniformInt(-20, 20) : 0;
  quantizeMultiplier(0.8 / HW, a.multiplier, a.shift);
  DeviceBuffer<T> dx, dy(size_t(batch) * C);
  dx.upload(x);
  dy.poison();
  a.input = dx.get();
  a.output = dy.get();
  KILN_CUDA_CHECK(GlobalAvgPool<T>::run(a, nullptr));
  KILN_CUDA_CHECK(cudaDeviceSynchronize());
  const std::vector<T> got = dy.download();
  std::string failure;
  if constexpr (kInt) {
    std::vector<int8_t> want(size_t(batch) * C);
    for (int b = 0; b < batch; ++b)
      for (int c = 0; c < C; ++c) {
        int32_t sum = 0;
        for (int p = 0; p < HW; ++p)
          sum += x[(size_t(b) * HW + p) * C + c];
        want[size_t(b) * C + c] = int8_t(clampInt(
            a.outputZeroPoint + multiplyByQuantizedMultiplier(
                                    sum - HW * a.inputZeroPoint, a.multiplier,
                                    a.shift),
            a.clampMin, a.clampMax));
      }
    failure = compareExact(got.data(), 0, want.data(), 0, 1, int64_t(want.size()));
  } else {
    std::vector<double> want(size_t(batch) * C), g(got.size());
    for (int b = 0; b < batch; ++b)
      for (int c = 0; c < C; ++c) {
        double sum = 0;
        for (int p = 0; p < HW; ++p)
          sum += halfBitsToFloat(x[(size_t(b) * HW + p) * C + c]);
        want[size_t(b) * C + c] = sum / HW;
      }
    for (size_t i = 0; i < got.size(); ++i)
      g[i] = halfBitsToFloat(got[i]);
    const FloatCheck fc = compareFloat(g, want, 3e-3, 2e-3, 4e-3);
    failure = fc.ok ? "" : fc.describe();
  }
  char buf[120];
  std::snprintf(buf, sizeof buf, "global avg pool %s N=%d HW=%d C=%d",
                kInt ? "int8" : "fp16", batch, HW, C);
  report.record(failure.empty(), buf, failure);
}

using ConvInt8Epi = Epilogue<OutKind::kInt8Fixed, Act::kNone, kEpiBiasInt>;
using ConvHalfEpi =
    Epilogue<OutKind::kFloat16, Act::kRelu,
             kEpiColScale | kEpiBiasFloat | kEpiResidualBeforeAct,
             ResKind::kFloat16>;
using DwInt8Epi = Epilogue<OutKind::kInt8Fixed, Act::kNone, kEpiBiasInt>;
using DwHalfEpi = Epilogue<OutKind::kFloat16, Act::kRelu6, kEpiBiasFloat>;

} // namespace

int main() {
  if (int skip = requireDevice(8))
    return skip;
  TestReport report("kiln-gpu-conv");
  Rng rng(77001);

  const std::vector<ConvCase> convCases = {
      {1, 8, 8, 16, 16, 1, 1, 1, 0, 1},    {2, 9, 7, 32, 40, 3, 3, 1, 1, 1},
      {1, 14, 14, 64, 64, 3, 3, 2, 1, 1},  {1, 11, 13, 48, 24, 5, 5, 1, 2, 2},
      {3, 7, 7, 128, 96, 1, 1, 1, 0, 1},   {1, 28, 28, 64, 128, 3, 3, 1, 1, 1},
      {1, 17, 17, 96, 72, 3, 3, 2, 0, 1},  {2, 6, 10, 16, 8, 2, 4, 1, 1, 1},
  };
  for (const ConvCase &c : convCases) {
    convCase<int8_t, Conv2dSm80<int8_t, TileInt8Medium, ConvInt8Epi>,
             ConvInt8Epi>(report, rng, "conv int8 requant", c);
    convCase<__half, Conv2dSm80<__half, TileFp16Medium, ConvHalfEpi>,
             ConvHalfEpi>(report, rng, "conv fp16 bn+res+relu", c);
  }
  // A first layer with 4 channels (RGB padded to 4) uses 4-byte copies.
  const std::vector<ConvCase> stemCases = {{1, 32, 32, 4, 64, 7, 7, 2, 3, 1},
                                           {2, 15, 17, 4, 32, 3, 3, 2, 1, 1}};
  for (const ConvCase &c : stemCases)
    convCase<int8_t, Conv2dSm80<int8_t, TileInt8Medium, ConvInt8Epi, 4>,
             ConvInt8Epi>(report, rng, "conv int8 stem C=4", c);

  const std::vector<ConvCase> dwCases = {
      {1, 8, 8, 16, 16, 3, 3, 1, 1, 1},   {2, 15, 15, 32, 32, 3, 3, 2, 1, 1},
      {1, 14, 14, 96, 96, 5, 5, 1, 2, 1}, {1, 7, 9, 48, 48, 3, 3, 1, 2, 2},
  };
  for (const ConvCase &c : dwCases) {
    depthwiseCase<int8_t, DwInt8Epi>(report, rng, "depthwise int8", c);
    depthwiseCase<uint16_t, DwHalfEpi>(report, rng, "depthwise fp16", c);
  }

  const auto pool = [](int batch, int H, int W, int C, int k, int s, int pad,
                       bool includePad) {
    PoolShape p;
    p.batch = batch;
    p.H = H;
    p.W = W;
    p.C = C;
    p.KH = p.KW = k;
    p.strideH = p.strideW = s;
    p.padTop = p.padLeft = p.padBottom = p.padRight = pad;
    p.OH = (H + 2 * pad - k) / s + 1;
    p.OW = (W + 2 * pad - k) / s + 1;
    p.countIncludePad = includePad;
    p.zeroPoint = 7;
    return p;
  };
  const std::vector<PoolShape> pools = {
      pool(1, 8, 8, 16, 2, 2, 0, false), pool(2, 15, 15, 32, 3, 2, 1, false),
      pool(1, 112, 112, 64, 3, 2, 1, false), pool(1, 9, 11, 48, 3, 1, 1, true)};
  for (const PoolShape &p : pools) {
    poolCase<int8_t, PoolKind::kMax>(report, rng, "max pool int8", p);
    poolCase<int8_t, PoolKind::kAverage>(report, rng, "avg pool int8", p);
    poolCase<uint16_t, PoolKind::kMax>(report, rng, "max pool fp16", p);
    poolCase<uint16_t, PoolKind::kAverage>(report, rng, "avg pool fp16", p);
  }
  globalPoolCase<int8_t>(report, rng, 2, 49, 2048);
  globalPoolCase<int8_t>(report, rng, 1, 3136, 64);
  globalPoolCase<uint16_t>(report, rng, 2, 49, 2048);
  globalPoolCase<uint16_t>(report, rng, 3, 10, 24);
  return report.finish();
}
