//===- Sm90Test.cu - Hopper wgmma + TMA GEMM vs host reference ------------===//
// SPDX-License-Identifier: Apache-2.0
//
// GemmSm90 (int8 and fp16, both tiles, several epilogues) on seeded random
// data over ragged and aligned shapes, compared with Reference.h exactly as
// GemmTest does for GemmSm80. Built for sm_90a only; on other devices it
// exits 77 (skipped) with the reason.
//
//===----------------------------------------------------------------------===//

#include "AttentionCase.h"
#include "EpilogueData.h"
#include "Harness.h"
#include "Reference.h"
#include "W4A8Case.h"

#include "kiln/cuda/AttentionSm90.cuh"
#include "kiln/cuda/GemmSm90.cuh"
#include "kiln/cuda/GemmW4A8Sm90.cuh"

#include <cstdio>
#include <string>
#include <tuple>
#include <vector>

using namespace kiln::cuda;
using namespace kiln::gputest;

namespace {

struct Shape {
  int M, N, K;
};

template <typename T, class Gemm, class Epi>
void runCase(TestReport &report, Rng &rng, const char *name, Shape s,
             bool padStrides) {
  constexpr int kElem = int(sizeof(T));
  constexpr bool kInt = std::is_same_v<T, int8_t>;
  const int64_t lda =
      roundUp<int64_t>(s.K, 16 / kElem) + (padStrides ? 16 / kElem : 0);
  const int64_t ldb = lda + (padStrides ? 16 / kElem : 0);
  const int64_t ldc = padStrides ? roundUp<int64_t>(s.N, 8) + 8 : s.N;
  using Bits = std::conditional_t<kInt, int8_t, uint16_t>;
  std::vector<Bits> a(size_t(s.M) * lda), b(size_t(s.N) * ldb);
  for (auto &v : a)
    v = kInt ? Bits(rng.uniformInt(-128, 127)) : Bits(floatToHalfBits(rng.normal()));
  for (auto &v : b)
    v = kInt ? Bits(rng.uniformInt(-127, 127))
             : Bits(floatToHalfBits(rng.normal() * 0.5f));
  EpilogueScales scales;
  scales.accScale = kInt ? std::sqrt(double(s.K)) * 64 * 64
                         : std::sqrt(double(s.K)) * 0.5;
  EpilogueData<Epi> epi(rng, s.M, s.N, ldc, scales);
  std::vector<typename Epi::Out> want;
  if constexpr (kInt)
    want = applyEpilogue<Epi>(
        epi.host, s.M, s.N,
        gemmInt32(s.M, s.N, s.K, a.data(), lda, b.data(), ldb));
  else
    want = applyEpilogue<Epi>(
        epi.host, s.M, s.N,
        gemmHalf(s.M, s.N, s.K, a.data(), lda, b.data(), ldb));
  DeviceBuffer<Bits> dA, dB;
  dA.upload(a);
  dB.upload(b);
  GemmArgs args;
  args.M = s.M;
  args.N = s.N;
  args.K = s.K;
  args.A = dA.get();
  args.lda = lda;
  args.B = dB.get();
  args.ldb = ldb;
  args.epi = epi.device;
  KILN_CUDA_CHECK(Gemm::run(args, nullptr));
  KILN_CUDA_CHECK(cudaDeviceSynchronize());
  const std::string failure = epi.check(want, kInt);
  char label[160];
  std::snprintf(label, sizeof label, "%s M=%d N=%d K=%d%s", name, s.M, s.N,
                s.K, padStrides ? " padded" : "");
  report.record(failure.empty(), label, failure);
}

using Int8Fixed = Epilogue<OutKind::kInt8Fixed, Act::kNone, kEpiBiasInt>;
using Int8Half = Epilogue<OutKind::kFloat16, Act::kNone,
                          kEpiRowScale | kEpiColScale | kEpiBiasFloat,
                          ResKind::kFloat16>;
using HalfGelu = Epilogue<OutKind::kFloat16, Act::kGeluErf, kEpiBiasFloat>;
using HalfRaw = Epilogue<OutKind::kFloat32>;

} // namespace

int main() {
  if (int skip = requireDevice(9))
    return skip;
  TestReport report("kiln-gpu-sm90");
  Rng rng(909090);
  const std::vector<Shape> shapes = {
      {1, 8, 16},      {64, 128, 128},   {100, 200, 300},  {128, 256, 128},
      {129, 257, 129}, {256, 512, 1024}, {300, 136, 4000}, {512, 768, 512},
      {1024, 1024, 2048},
  };
  for (const Shape &s : shapes) {
    const bool pad = (s.M + s.K) % 2 == 1;
    runCase<int8_t, GemmInt8Sm90<TileSm90Large, Int8Fixed>, Int8Fixed>(
        report, rng, "sm90 int8 large requant", s, pad);
    runCase<int8_t, GemmInt8Sm90<TileSm90Medium, Int8Half>, Int8Half>(
        report, rng, "sm90 int8 medium dequant+res->fp16", s, !pad);
    runCase<__half, GemmFp16Sm90<TileSm90Large, HalfGelu>, HalfGelu>(
        report, rng, "sm90 fp16 large bias+gelu", s, pad);
    runCase<__half, GemmFp16Sm90<TileSm90Medium, HalfRaw>, HalfRaw>(
        report, rng, "sm90 fp16 medium raw f32", s, !pad);
  }
  // W4A8 with the weights as register A operand of RS wgmma.
  using Qoq = Epilogue<OutKind::kFloat16, Act::kNone, kEpiRowScale | kEpiColScale>;
  using QoqBias = Epilogue<OutKind::kFloat32, Act::kNone,
                           kEpiRowScale | kEpiColScale | kEpiBiasFloat>;
  for (auto [M, N, K] : {std::tuple{1, 128, 128}, std::tuple{65, 200, 384},
                         std::tuple{128, 128, 1024}, std::tuple{257, 520, 512},
                         std::tuple{512, 1024, 2048}}) {
    w4a8Case<GemmW4A8Sm90<TileW4A8Sm90, Qoq>, Qoq>(report, rng, "sm90 w4a8",
                                                    M, N, K, 1);
    w4a8Case<GemmW4A8Sm90<TileW4A8Sm90Narrow, QoqBias>, QoqBias>(
        report, rng, "sm90 w4a8 narrow", M, N, K, 1);
  }

  // Fused attention (TMA + wgmma).
  using A64 = AttentionConfigSm90<64, false>;
  using A64Causal = AttentionConfigSm90<64, true>;
  using A128 = AttentionConfigSm90<128, false>;
  using A128Causal = AttentionConfigSm90<128, true>;
  using A128Sparse = AttentionConfigSm90<128, false, BlockSparseSchedule>;
  const std::vector<AttentionCase> cases = {
      {1, 1, 1, 1, 1, false},      {1, 2, 2, 128, 128, false},
      {2, 4, 2, 100, 100, true},   {1, 2, 1, 37, 300, false},
      {1, 3, 3, 300, 129, true},   {2, 2, 2, 256, 256, false},
      {1, 8, 2, 1, 515, true},     {1, 1, 1, 1000, 1000, false},
  };
  for (const AttentionCase &c : cases) {
    runAttentionCase<A64, AttentionSm90<A64>>(report, rng, "sm90 attn d64", c,
                                              false);
    runAttentionCase<A64Causal, AttentionSm90<A64Causal>>(
        report, rng, "sm90 attn d64 causal", c, false);
    runAttentionCase<A128, AttentionSm90<A128>>(report, rng, "sm90 attn d128",
                                                c, false);
    runAttentionCase<A128Causal, AttentionSm90<A128Causal>>(
        report, rng, "sm90 attn d128 causal", c, false);
    runAttentionCase<A128Sparse, AttentionSm90<A128Sparse>>(
        report, rng, "sm90 attn d128", c, true);
  }
  return report.finish();
}
