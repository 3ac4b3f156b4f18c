//===- ElementwiseTest.cu - Elementwise chains, norms, softmax vs host ---===//
// SPDX-License-Identifier: Apache-2.0
//
// Fused elementwise chains (exact when the chain has no transcendental
// function, since both sides evaluate the same single-rounding float ops),
// TFLite int8 Add, per-token int8 quantization (bit-exact), LayerNorm /
// RMSNorm (with fused residual and int8 output), fp16 softmax (tolerances)
// and int8 softmax (bit-exact), on seeded random data.
//
//===----------------------------------------------------------------------===//

#include "Harness.h"
#include "Reference.h"

#include "kiln/cuda/Elementwise.cuh"
#include "kiln/cuda/Norm.cuh"

#include <cstdio>
#include <string>
#include <vector>

using namespace kiln::cuda;
using namespace kiln::gputest;

namespace {

std::vector<uint16_t> randomHalf(Rng &rng, size_t n, float scale = 1.0f) {
  std::vector<uint16_t> v(n);
  for (auto &x : v)
    x = floatToHalfBits(rng.normal() * scale);
  return v;
}

/// Chain: BN scale/shift -> + residual -> SiLU... (two variants).
void chainCases(TestReport &report, Rng &rng) {
  for (int64_t count : {int64_t(8), int64_t(1000), int64_t(4096 * 64),
                        int64_t(777)}) {
    const int64_t C = count % 64 == 0 ? 64 : (count == 8 ? 8 : 1);
    const std::vector<uint16_t> x = randomHalf(rng, count),
                                res = randomHalf(rng, count);
    std::vector<float> scale(C), shift(C);
    for (int64_t c = 0; c < C; ++c) {
      scale[c] = rng.uniform(0.5f, 1.5f);
      shift[c] = rng.normal() * 0.2f;
    }
    DeviceBuffer<uint16_t> dx, dres;
    DeviceBuffer<float> dscale, dshift;
    dx.upload(x);
    dres.upload(res);
    dscale.upload(scale);
    dshift.upload(shift);

    // Exact chain: scale/shift -> +residual -> ReLU -> int8.
    {
      using ChainT = Chain<OpScaleShift, OpAddHalf, OpAct<Act::kRelu>>;
      ElementwiseArgs a;
      a.count = count;
      a.channels = C;
      a.input = dx.get();
      a.outScale = 0.02f;
      a.outZeroPoint = -3;
      DeviceBuffer<int8_t> dy(count);
      dy.poison();
      a.output = dy.get();
      const ChainT dev{{dscale.get(), dshift.get()}, {{dres.get()}, {}}};
      KILN_CUDA_CHECK((elementwiseChain<ElemKind::kFloat16, ElemKind::kInt8>(
          a, dev, nullptr)));
      KILN_CUDA_CHECK(cudaDeviceSynchronize());
      ElementwiseArgs h = a;
      h.input = x.data();
      const ChainT host{{scale.data(), shift.data()}, {{res.data()}, {}}};
      std::vector<int8_t> want(count);
      for (int64_t i = 0; i < count; ++i)
        want[i] = chainElement<ElemKind::kFloat16, ElemKind::kInt8>(h, host, i);
      const std::vector<int8_t> got = dy.download();
      const std::string f = compareExact(got.data(), 0, want.data(), 0, 1, count);
      report.record(f.empty(), "chain bn+res+relu->int8 n=" + std::to_string(count), f);
    }
    // Transcendental chain: +bias -> GELU(erf) -> *gate, fp16 out.
    {
      using ChainT = Chain<OpBias, OpAct<Act::kGeluErf>, OpMulHalf>;
      ElementwiseArgs a;
      a.count = count;
      a.channels = C;
      a.input = dx.get();
      DeviceBuffer<uint16_t> dy(count);
      dy.poison();
      a.output = dy.get();
      const ChainT dev{{dshift.get()}, {{}, {{dres.get()}, {}}}};
      KILN_CUDA_CHECK((elementwiseChain<ElemKind::kFloat16, ElemKind::kFloat16>(
          a, dev, nullptr)));
      KILN_CUDA_CHECK(cudaDeviceSynchronize());
      ElementwiseArgs h = a;
      h.input = x.data();
      const ChainT host{{shift.data()}, {{}, {{res.data()}, {}}}};
      std::vector<double> want(count), g(count);
      const std::vector<uint16_t> got = dy.download();
      for (int64_t i = 0; i < count; ++i) {
        want[i] = halfBitsToFloat(
            chainElement<ElemKind::kFloat16, ElemKind::kFloat16>(h, host, i));
        g[i] = halfBitsToFloat(got[i]);
      }
      const FloatCheck fc = compareFloat(g, want, 1e-3, 1e-3, 2e-3);
      report.record(fc.ok, "chain bias+gelu*gate fp16 n=" + std::to_string(count),
                    fc.ok ? "" : fc.describe());
    }
  }
}

void int8AddCases(TestReport &report, Rng &rng) {
  for (int64_t count : {int64_t(16), int64_t(1001), int64_t(1 << 20)}) {
    std::vector<int8_t> x1(count), x2(count);
    for (auto &v : x1)
      v = int8_t(rng.uniformInt(-128, 127));
    for (auto &v : x2)
      v = int8_t(rng.uniformInt(-128, 127));
    // Parameters as kiln::ref::makeAddParams derives them.
    const double s1 = 0.05, s2 = 0.03, so = 0.07;
    Int8AddParams p;
    p.input1ZeroPoint = 3;
    p.input2ZeroPoint = -7;
    p.outputZeroPoint = 1;
    const double twiceMax = 2 * std::max(s1, s2);
    quantizeMultiplier(s1 / twiceMax, p.input1Multiplier, p.input1Shift);
    quantizeMultiplier(s2 / twiceMax, p.input2Multiplier, p.input2Shift);
    quantizeMultiplier(twiceMax / ((1 << 20) * so), p.outputMultiplier,
                       p.outputShift);
    DeviceBuffer<int8_t> d1, d2, dy(count);
    d1.upload(x1);
    d2.upload(x2);
    dy.poison();
    KILN_CUDA_CHECK(int8Add(count, p, d1.get(), d2.get(), dy.get(), nullptr));
    KILN_CUDA_CHECK(cudaDeviceSynchronize());
    std::vector<int8_t> want(count);
    for (int64_t i = 0; i < count; ++i)
      want[i] = int8AddElement(p, x1[i], x2[i]);
    const std::vector<int8_t> got = dy.download();
    const std::string f = compareExact(got.data(), 0, want.data(), 0, 1, count);
    report.record(f.empty(), "int8 add n=" + std::to_string(count), f);
  }
}

void perTokenCases(TestReport &report, Rng &rng) {
  for (auto [rows, cols] : {std::pair{1, 64}, std::pair{7, 1000},
                            std::pair{256, 4096}}) {
    std::vector<uint16_t> x = randomHalf(rng, size_t(rows) * cols, 3.0f);
    // One all-zero row: scale 1.
    for (int c = 0; c < cols; ++c)
      x[c] = 0;
    DeviceBuffer<uint16_t> dx;
    dx.upload(x);
    DeviceBuffer<int8_t> dq(size_t(rows) * cols);
    DeviceBuffer<float> ds(rows);
    dq.poison();
    KILN_CUDA_CHECK(quantizePerToken(rows, cols, dx.get(), cols, dq.get(), cols,
                                     ds.get(), nullptr));
    KILN_CUDA_CHECK(cudaDeviceSynchronize());
    std::vector<int8_t> want(size_t(rows) * cols);
    std::vector<float> wantScale(rows);
    for (int r = 0; r < rows; ++r) {
      float amax = 0;
      for (int c = 0; c < cols; ++c)
        amax = std::fmax(amax, std::fabs(halfBitsToFloat(x[size_t(r) * cols + c])));
      wantScale[r] = perTokenScale(amax);
      for (int c = 0; c < cols; ++c)
        want[size_t(r) * cols + c] = int8_t(quantizeToInt(
            halfBitsToFloat(x[size_t(r) * cols + c]), wantScale[r], 0, -127, 127));
    }
    std::string f = compareExact(dq.download().data(), cols, want.data(), cols,
                                 rows, cols);
    f += compareExact(ds.download().data(), 0, wantScale.data(), 0, 1, rows);
    report.record(f.empty(),
                  "per-token int8 " + std::to_string(rows) + "x" + std::to_string(cols),
                  f);
  }
}

template <NormKind K, NormOut O>
void normCase(TestReport &report, Rng &rng, int rows, int cols, bool residual) {
  const std::vector<uint16_t> x = randomHalf(rng, size_t(rows) * cols, 2.0f),
                              r = randomHalf(rng, size_t(rows) * cols);
  std::vector<float> gamma(cols), beta(cols);
  for (int c = 0; c < cols; ++c) {
    gamma[c] = rng.uniform(0.5f, 1.5f);
    beta[c] = rng.normal() * 0.1f;
  }
  DeviceBuffer<uint16_t> dx, dr, dsum(size_t(rows) * cols);
  DeviceBuffer<float> dg, db, ds(rows);
  dx.upload(x);
  dr.upload(r);
  dg.upload(gamma);
  db.upload(beta);
  using OutT = std::conditional_t<O == NormOut::kFloat16, uint16_t, int8_t>;
  DeviceBuffer<OutT> dy(size_t(rows) * cols);
  dy.poison();
  NormArgs a;
  a.rows = rows;
  a.cols = cols;
  a.x = dx.get();
  a.ldx = cols;
  if (residual) {
    a.residual = dr.get();
    a.ldr = cols;
    a.sum = dsum.get();
    a.ldSum = cols;
  }
  a.gamma = dg.get();
  a.beta = db.get();
  a.eps = 1e-5f;
  a.y = dy.get();
  a.ldy = cols;
  a.rowScale = ds.get();
  KILN_CUDA_CHECK((RowNorm<K, O>::run(a, nullptr)));
  KILN_CUDA_CHECK(cudaDeviceSynchronize());
  const std::vector<OutT> got = dy.download();
  const std::vector<float> gotScale = ds.download();
  std::vector<double> want(size_t(rows) * cols), g(want.size()), in(cols);
  int64_t badInt = 0;
  for (int i = 0; i < rows; ++i) {
    for (int c = 0; c < cols; ++c) {
      float v = halfBitsToFloat(x[size_t(i) * cols + c]);
      if (residual)
        v = halfBitsToFloat(
            floatToHalfBits(v + halfBitsToFloat(r[size_t(i) * cols + c])));
      in[c] = v;
    }
    normRow(K == NormKind::kLayerNorm, cols, in.data(), gamma.data(),
            beta.data(), 1e-5, &want[size_t(i) * cols]);
    for (int c = 0; c < cols; ++c) {
      const size_t idx = size_t(i) * cols + c;
      if constexpr (O == NormOut::kFloat16) {
        g[idx] = halfBitsToFloat(got[idx]);
      } else {
        // int8 output: dequantize with the kernel's scale; the scale itself
        // must be max|y| / 127 within float rounding.
        g[idx] = double(got[idx]) * gotScale[i];
        const double q = want[idx] / gotScale[i];
        if (std::fabs(q - double(got[idx])) > 1.01)
          ++badInt;
      }
    }
  }
  const FloatCheck fc = O == NormOut::kFloat16
                            ? compareFloat(g, want, 2e-3, 2e-3, 4e-3)
                            : compareFloat(g, want, 1e-2, 8e-3, 0.0);
  const bool ok = fc.ok && badInt == 0;
  char name[120];
  std::snprintf(name, sizeof name, "%s%s%s %dx%d",
                K == NormKind::kLayerNorm ? "layernorm" : "rmsnorm",
                residual ? "+residual" : "",
                O == NormOut::kFloat16 ? " fp16" : " int8/token", rows, cols);
  report.record(ok, name,
                ok ? "" : fc.describe() + ", int8 off by >1: " + std::to_string(badInt));
}

void softmaxCases(TestReport &report, Rng &rng) {
  for (auto [rows, cols] : {std::pair{1, 10}, std::pair{33, 1000},
                            std::pair{128, 4096}, std::pair{4, 20000}}) {
    // fp16
    const std::vector<uint16_t> x = randomHalf(rng, size_t(rows) * cols, 3.0f);
    DeviceBuffer<uint16_t> dx, dy(size_t(rows) * cols);
    dx.upload(x);
    dy.poison();
    SoftmaxArgs a;
    a.rows = rows;
    a.cols = cols;
    a.x = dx.get();
    a.ldx = cols;
    a.y = dy.get();
    a.ldy = cols;
    a.scale = 0.7f;
    KILN_CUDA_CHECK(Softmax<uint16_t>::run(a, nullptr));
    KILN_CUDA_CHECK(cudaDeviceSynchronize());
    std::vector<double> want(size_t(rows) * cols), g(want.size());
    const std::vector<uint16_t> got = dy.download();
    for (int i = 0; i < rows; ++i) {
      double mx = -INFINITY, sum = 0;
      for (int c = 0; c < cols; ++c)
        mx = std::max(mx, 0.7 * halfBitsToFloat(x[size_t(i) * cols + c]));
      for (int c = 0; c < cols; ++c)
        sum += std::exp(0.7 * halfBitsToFloat(x[size_t(i) * cols + c]) - mx);
      for (int c = 0; c < cols; ++c) {
        want[size_t(i) * cols + c] =
            std::exp(0.7 * halfBitsToFloat(x[size_t(i) * cols + c]) - mx) / sum;
        g[size_t(i) * cols + c] = halfBitsToFloat(got[size_t(i) * cols + c]);
      }
    }
    const FloatCheck fc = compareFloat(g, want, 2e-3, 1e-3, 4e-3);
    report.record(fc.ok,
                  "softmax fp16 " + std::to_string(rows) + "x" + std::to_string(cols),
                  fc.ok ? "" : fc.describe());

    // int8 with a table as kiln::ref::makeSoftmaxTable builds it.
    std::vector<int8_t> xq(size_t(rows) * cols);
    for (auto &v : xq)
      v = int8_t(rng.uniformInt(-128, 127));
    int bits = 23;
    while (int64_t(cols) << bits > INT32_MAX)
      --bits;
    std::vector<int32_t> table(256);
    for (int d = 0; d < 256; ++d)
      table[d] = int32_t(std::round(std::ldexp(std::exp(-0.05 * d), bits)));
    DeviceBuffer<int8_t> dxq, dyq(size_t(rows) * cols);
    DeviceBuffer<int32_t> dt;
    dxq.upload(xq);
    dt.upload(table);
    dyq.poison();
    SoftmaxArgs b = a;
    b.x = dxq.get();
    b.y = dyq.get();
    b.table = dt.get();
    KILN_CUDA_CHECK(Softmax<int8_t>::run(b, nullptr));
    KILN_CUDA_CHECK(cudaDeviceSynchronize());
    std::vector<int8_t> wantq(size_t(rows) * cols);
    for (int i = 0; i < rows; ++i) {
      const int8_t *row = &xq[size_t(i) * cols];
      int32_t mx = -128, S = 0;
      for (int c = 0; c < cols; ++c)
        mx = std::max<int32_t>(mx, row[c]);
      for (int c = 0; c < cols; ++c)
        S += table[mx - row[c]];
      for (int c = 0; c < cols; ++c)
        wantq[size_t(i) * cols + c] =
            int8SoftmaxValue(uint32_t(table[mx - row[c]]), uint32_t(S));
    }
    const std::string f = compareExact(dyq.download().data(), 0, wantq.data(),
                                       0, 1, int64_t(wantq.size()));
    report.record(f.empty(),
                  "softmax int8 " + std::to_string(rows) + "x" + std::to_string(cols),
                  f);
  }
}

} // namespace

int main() {
  if (int skip = requireDevice(8))
    return skip;
  TestReport report("kiln-gpu-elementwise");
  Rng rng(4242);
  chainCases(report, rng);
  int8AddCases(report, rng);
  perTokenCases(report, rng);
  for (auto [rows, cols] : {std::pair{1, 64}, std::pair{17, 1000},
                            std::pair{64, 4096}, std::pair{2, 16384}}) {
    normCase<NormKind::kLayerNorm, NormOut::kFloat16>(report, rng, rows, cols, false);
    normCase<NormKind::kRmsNorm, NormOut::kFloat16>(report, rng, rows, cols, true);
    normCase<NormKind::kRmsNorm, NormOut::kInt8PerToken>(report, rng, rows, cols, true);
    normCase<NormKind::kLayerNorm, NormOut::kInt8PerToken>(report, rng, rows, cols, false);
  }
  softmaxCases(report, rng);
  return report.finish();
}
