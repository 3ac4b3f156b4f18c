//===- LowBitTest.cu - W4A8 (QoQ) and W4A4 (SVDQuant) kernels vs host ----===//
// SPDX-License-Identifier: Apache-2.0
//
// - GemmW4A8: QoQ progressive weights made by the QoQ rule from random int8
//   groups, packed in fragment order (Packing.h), against the exact integer
//   reference (bit-exact output, both tiles, split-K).
// - w4a4Quantize: codes and scales bit-exact with the group-int4 rule; the
//   fused down-projection T = X L2^T within fp16 tolerance.
// - GemmW4A4 without low-rank (int4 mma and the sm_90 int8 path): bit-exact
//   with the reference's group-by-group fma sequence; with the fused
//   low-rank branch: tolerance from the fp16 branch only.
//
//===----------------------------------------------------------------------===//

#include "EpilogueData.h"
#include "Harness.h"
#include "Reference.h"
#include "W4A8Case.h"

#include "kiln/cuda/GemmW4A4.cuh"
#include "kiln/cuda/GemmW4A8.cuh"

#include <cstdio>
#include <cstring>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

using namespace kiln::cuda;
using namespace kiln::gputest;

namespace {

/// Runs w4a4Quantize<kRank> on random X; checks codes, scales and T. Returns
/// the device buffers for the GEMM cases through the out parameters.
template <int kRank>
bool w4a4QuantCase(TestReport &report, Rng &rng, int M, int K,
                   const std::vector<uint16_t> &x, const std::vector<uint16_t> &l2,
                   std::vector<int8_t> &codes, std::vector<float> &scales,
                   std::vector<uint16_t> &tOut) {
  const int G = K / 64;
  const int64_t ldq = roundUp<int64_t>(K / 2, 16);
  const int64_t ldS = w4a4ScaleStride(M);
  DeviceBuffer<uint16_t> dx, dl2, dt(size_t(M) * (kRank > 0 ? kRank : 1));
  DeviceBuffer<uint8_t> dq(size_t(M) * ldq);
  DeviceBuffer<float> ds(size_t(G) * ldS);
  dx.upload(x);
  dl2.upload(l2);
  dq.poison();
  ds.poison();
  dt.poison();
  W4A4QuantArgs a;
  a.M = M;
  a.K = K;
  a.x = dx.get();
  a.ldx = K;
  a.codes = dq.get();
  a.ldq = ldq;
  a.scales = ds.get();
  a.ldScale = ldS;
  a.l2 = dl2.get();
  a.ldl2 = K;
  a.t = dt.get();
  a.ldt = kRank;
  KILN_CUDA_CHECK(W4A4Quantize<kRank>::run(a, nullptr));
  KILN_CUDA_CHECK(cudaDeviceSynchronize());
  const std::vector<uint8_t> gotQ = dq.download();
  const std::vector<float> gotS = ds.download();
  // Reference codes and scales.
  codes.assign(size_t(M) * K, 0);
  scales.assign(size_t(M) * G, 0.0f);
  std::vector<float> xf(64);
  int64_t bad = 0;
  for (int m = 0; m < M; ++m)
    for (int g = 0; g < G; ++g) {
      for (int i = 0; i < 64; ++i)
        xf[i] = halfBitsToFloat(x[size_t(m) * K + g * 64 + i]);
      const float s = quantizeGroupSym4(xf.data(), &codes[size_t(m) * K + g * 64]);
      scales[size_t(m) * G + g] = s;
      if (std::memcmp(&s, &gotS[size_t(g) * ldS + m], 4) != 0)
        ++bad;
      for (int i = 0; i < 64; i += 2) {
        const uint8_t byte = gotQ[size_t(m) * ldq + (g * 64 + i) / 2];
        const int8_t lo = int8_t(int8_t(byte << 4) >> 4);
        const int8_t hi = int8_t(int8_t(byte) >> 4);
        if (lo != codes[size_t(m) * K + g * 64 + i] ||
            hi != codes[size_t(m) * K + g * 64 + i + 1])
          ++bad;
      }
    }
  std::string failure = bad ? std::to_string(bad) + " code/scale mismatches" : "";
  if constexpr (kRank > 0) {
    tOut = dt.download();
    std::vector<double> want(size_t(M) * kRank), got(want.size());
    for (int m = 0; m < M; ++m)
      for (int r = 0; r < kRank; ++r) {
        double acc = 0;
        for (int k = 0; k < K; ++k)
          acc += double(halfBitsToFloat(x[size_t(m) * K + k])) *
                 double(halfBitsToFloat(l2[size_t(r) * K + k]));
        want[size_t(m) * kRank + r] = acc;
        got[size_t(m) * kRank + r] = halfBitsToFloat(tOut[size_t(m) * kRank + r]);
      }
    const FloatCheck fc = compareFloat(got, want, 2e-3, 2e-3, 4e-3);
    if (!fc.ok)
      failure += " T: " + fc.describe();
  }
  char label[120];
  std::snprintf(label, sizeof label, "w4a4 quantize%s M=%d K=%d",
                kRank > 0 ? " + down-projection" : "", M, K);
  report.record(failure.empty(), label, failure);
  return failure.empty();
}

template <int kRank, bool kInt4Mma, class Epi>
void w4a4GemmCase(TestReport &report, Rng &rng, const char *name, int M, int N,
                  int K) {
  const int G = K / 64;
  // Activations through the quantizer (so its layout feeds the GEMM).
  std::vector<uint16_t> x(size_t(M) * K), l2(size_t(std::max(kRank, 1)) * K),
      l1(size_t(N) * std::max(kRank, 1));
  for (auto &v : x)
    v = floatToHalfBits(rng.normal() * 2.0f);
  for (auto &v : l2)
    v = floatToHalfBits(rng.normal() / std::sqrt(float(K)));
  for (auto &v : l1)
    v = floatToHalfBits(rng.normal());
  std::vector<int8_t> qa;
  std::vector<float> sa;
  std::vector<uint16_t> t;
  if (!w4a4QuantCase<kRank>(report, rng, M, K, x, l2, qa, sa, t))
    return;
  // Weights: random codes and scales.
  std::vector<int8_t> qw(size_t(N) * K);
  std::vector<float> sw(size_t(N) * G);
  for (auto &v : qw)
    v = int8_t(rng.uniformInt(-7, 7));
  for (auto &v : sw)
    v = rng.uniform(0.001f, 0.01f);
  const W4A4Packed pw = packW4A4(qw.data(), sw.data(), N, K);
  const W4A4Packed pa = packW4A4(qa.data(), sa.data(), M, K);
  EpilogueScales sc;
  sc.accScale = 1.0;
  EpilogueData<Epi> epi(rng, M, N, N, sc);
  epi.host.scale = epi.device.scale = 1.0f;
  // Reference: exact main loop, then the low-rank branch in double.
  const std::vector<float> main =
      w4a4Main(M, N, K, qa.data(), sa.data(), qw.data(), sw.data());
  std::vector<double> y(size_t(M) * N);
  for (int m = 0; m < M; ++m)
    for (int n = 0; n < N; ++n) {
      double lr = 0;
      for (int r = 0; r < kRank; ++r)
        lr += double(halfBitsToFloat(t[size_t(m) * kRank + r])) *
              double(halfBitsToFloat(l1[size_t(n) * kRank + r]));
      y[size_t(m) * N + n] = kRank > 0 ? double(main[size_t(m) * N + n]) + lr
                                       : double(main[size_t(m) * N + n]);
    }
  std::vector<typename Epi::Out> want;
  if constexpr (kRank == 0) {
    want = applyEpilogue<Epi>(epi.host, M, N, main);
  } else {
    want = applyEpilogue<Epi>(epi.host, M, N, y);
  }
  DeviceBuffer<uint8_t> dA, dB;
  DeviceBuffer<float> dSa, dSw;
  DeviceBuffer<uint16_t> dT, dL1;
  dA.upload(pa.codes);
  dB.upload(pw.codes);
  dSa.upload(pa.scales);
  dSw.upload(pw.scales);
  dT.upload(t);
  dL1.upload(l1);
  W4A4Args args;
  args.M = M;
  args.N = N;
  args.K = K;
  args.A = dA.get();
  args.lda = K / 2;
  args.aScale = dSa.get();
  args.ldaScale = w4a4ScaleStride(M);
  args.B = dB.get();
  args.ldb = K / 2;
  args.bScale = dSw.get();
  args.ldbScale = w4a4ScaleStride(N);
  args.lowRankAct = dT.get();
  args.ldt = kRank;
  args.lowRankUp = dL1.get();
  args.ldl1 = kRank;
  args.epi = epi.device;
  KILN_CUDA_CHECK((GemmW4A4<TileW4A4, kRank, kInt4Mma, Epi>::run(args, nullptr)));
  KILN_CUDA_CHECK(cudaDeviceSynchronize());
  // kRank == 0 is exact (integer groups, pinned float ops); the low-rank
  // branch is an fp16 product with its own rounding.
  const std::string failure = epi.check(want, kRank == 0);
  char label[160];
  std::snprintf(label, sizeof label, "%s%s r=%d M=%d N=%d K=%d", name,
                kInt4Mma ? " int4-mma" : " int8-unpacked", kRank, M, N, K);
  report.record(failure.empty(), label, failure);
}

using QoqHalf = Epilogue<OutKind::kFloat16, Act::kNone,
                         kEpiRowScale | kEpiColScale>;
using QoqBiasF32 = Epilogue<OutKind::kFloat32, Act::kNone,
                            kEpiRowScale | kEpiColScale | kEpiBiasFloat>;
using W4A4F32 = Epilogue<OutKind::kFloat32>;
using W4A4Half = Epilogue<OutKind::kFloat16, Act::kNone, kEpiBiasFloat>;

} // namespace

int main() {
  if (int skip = requireDevice(8))
    return skip;
  TestReport report("kiln-gpu-lowbit");
  Rng rng(4848);
  for (auto [M, N, K] : {std::tuple{1, 128, 128}, std::tuple{7, 64, 256},
                         std::tuple{100, 200, 384}, std::tuple{128, 128, 1024},
                         std::tuple{257, 520, 512}, std::tuple{512, 1024, 2048}}) {
    w4a8Case<GemmW4A8<TileW4A8Medium, QoqHalf>, QoqHalf>(
        report, rng, "w4a8 medium", M, N, K, 1);
    w4a8Case<GemmW4A8<TileW4A8Skinny, QoqBiasF32>, QoqBiasF32>(
        report, rng, "w4a8 skinny", M, N, K, K >= 512 ? 4 : 1);
  }
  const bool hopper = deviceCapability() >= 90;
  for (auto [M, N, K] : {std::tuple{1, 64, 64}, std::tuple{33, 100, 192},
                         std::tuple{128, 128, 256}, std::tuple{300, 260, 1024},
                         std::tuple{512, 512, 2048}}) {
    w4a4GemmCase<0, false, W4A4F32>(report, rng, "w4a4", M, N, K);
    w4a4GemmCase<32, false, W4A4Half>(report, rng, "w4a4 fused", M, N, K);
    w4a4GemmCase<16, false, W4A4Half>(report, rng, "w4a4 fused", M, N, K);
    // int4 tensor cores exist on sm_80..sm_89; on Hopper the s4 mma is not
    // a tensor-core instruction, but it must still compute the same result.
    w4a4GemmCase<0, true, W4A4F32>(report, rng, "w4a4", M, N, K);
    if (!hopper)
      w4a4GemmCase<64, true, W4A4Half>(report, rng, "w4a4 fused", M, N, K);
  }
  return report.finish();
}
