//===- GemmTest.cu - int8 / fp16 tensor-core GEMMs vs host reference -----===//
// SPDX-License-Identifier: Apache-2.0
//
// Runs GemmSm80 (int8 and fp16, several tiles and epilogues, split-K) and,
// on sm_90 devices, GemmSm90 on seeded random data over many shapes,
// including ragged M, N and K and padded row strides whose padding holds
// garbage, and compares with Reference.h: bit-exact for int8 GEMMs whose
// epilogue is exact, tolerances (EpilogueData.h) otherwise.
//
//===----------------------------------------------------------------------===//

#include "EpilogueData.h"
#include "Harness.h"
#include "Reference.h"

#include "kiln/cuda/GemmSm80.cuh"
#include "kiln/cuda/Select.h"

#include <cstdio>
#include <string>
#include <vector>

using namespace kiln::cuda;
using namespace kiln::gputest;

namespace {

struct Shape {
  int M, N, K;
};

/// Runs one GEMM case and records it in |report|.
template <typename T, class Gemm, class Epi>
void runCase(TestReport &report, Rng &rng, const char *name, Shape s,
             int splitK, bool padStrides) {
  constexpr int kElem = int(sizeof(T));
  const int64_t lda = roundUp<int64_t>(s.K, 16 / kElem) + (padStrides ? 16 / kElem : 0);
  const int64_t ldb = lda;
  const int64_t ldc = padStrides ? roundUp<int64_t>(s.N, 8) + 8 : s.N;
  using Bits = std::conditional_t<std::is_same_v<T, int8_t>, int8_t, uint16_t>;
  std::vector<Bits> a(size_t(s.M) * lda), b(size_t(s.N) * ldb);
  // Padding columns hold garbage: the kernel must never read them into the
  // product.
  for (auto &v : a)
    v = std::is_same_v<T, int8_t> ? Bits(rng.uniformInt(-128, 127))
                                  : Bits(floatToHalfBits(rng.normal()));
  for (auto &v : b)
    v = std::is_same_v<T, int8_t> ? Bits(rng.uniformInt(-127, 127))
                                  : Bits(floatToHalfBits(rng.normal() * 0.5f));

  EpilogueScales scales;
  scales.accScale = std::is_same_v<T, int8_t> ? std::sqrt(double(s.K)) * 64 * 64
                                              : std::sqrt(double(s.K)) * 0.5;
  EpilogueData<Epi> epi(rng, s.M, s.N, ldc, scales);

  std::vector<typename Epi::Out> want;
  if constexpr (std::is_same_v<T, int8_t>)
    want = applyEpilogue<Epi>(
        epi.host, s.M, s.N,
        gemmInt32(s.M, s.N, s.K, a.data(), lda, b.data(), ldb));
  else
    want = applyEpilogue<Epi>(epi.host, s.M, s.N,
                              gemmHalf(s.M, s.N, s.K, a.data(), lda, b.data(),
                                       ldb));

  DeviceBuffer<Bits> dA, dB;
  dA.upload(a);
  dB.upload(b);
  DeviceBuffer<unsigned char> ws(Gemm::workspaceBytes(s.M, s.N, splitK) + 16);
  GemmArgs args;
  args.M = s.M;
  args.N = s.N;
  args.K = s.K;
  args.A = dA.get();
  args.lda = lda;
  args.B = dB.get();
  args.ldb = ldb;
  args.epi = epi.device;
  args.splitK = splitK;
  args.workspace = ws.get();
  KILN_CUDA_CHECK(Gemm::run(args, nullptr));
  KILN_CUDA_CHECK(cudaDeviceSynchronize());

  char label[160];
  std::snprintf(label, sizeof label, "%s M=%d N=%d K=%d splitK=%d%s", name,
                s.M, s.N, s.K, splitK, padStrides ? " padded" : "");
  const std::string failure = epi.check(want, std::is_same_v<T, int8_t>);
  report.record(failure.empty(), label, failure);
}

const std::vector<Shape> kShapes = {
    {1, 64, 64},     {1, 200, 4096},  {7, 33, 40},     {16, 128, 256},
    {64, 64, 32},    {100, 136, 72},  {128, 128, 128}, {129, 255, 1000},
    {257, 96, 520},  {300, 300, 300}, {512, 384, 768}, {1024, 1024, 1024},
};

using Int8Fixed = Epilogue<OutKind::kInt8Fixed, Act::kNone, kEpiBiasInt>;
using Int8Raw = Epilogue<OutKind::kInt32>;
using Int8ToHalfGelu =
    Epilogue<OutKind::kFloat16, Act::kGeluTanh,
             kEpiRowScale | kEpiColScale | kEpiBiasFloat, ResKind::kFloat16>;
using Int8ResRelu =
    Epilogue<OutKind::kInt8Float, Act::kRelu,
             kEpiBiasInt | kEpiColScale | kEpiResidualBeforeAct,
             ResKind::kInt8>;
using HalfBiasSilu = Epilogue<OutKind::kFloat16, Act::kSilu, kEpiBiasFloat>;
using HalfRaw = Epilogue<OutKind::kFloat32>;
using HalfResidual =
    Epilogue<OutKind::kFloat16, Act::kNone, kEpiColScale, ResKind::kFloat16>;

} // namespace

int main() {
  if (int skip = requireDevice(8))
    return skip;
  TestReport report("kiln-gpu-gemm");
  Rng rng(20240601);

  for (const Shape &s : kShapes) {
    const bool pad = (s.M + s.N) % 2 == 1;
    runCase<int8_t, GemmInt8Sm80<TileInt8Medium, Int8Fixed>, Int8Fixed>(
        report, rng, "int8 medium requant", s, 1, pad);
    runCase<int8_t, GemmInt8Sm80<TileInt8Large, Int8ResRelu>, Int8ResRelu>(
        report, rng, "int8 large res+relu->int8", s, 1, !pad);
    runCase<int8_t, GemmInt8Sm80<TileInt8Medium, Int8ToHalfGelu>,
            Int8ToHalfGelu>(report, rng, "int8 medium dequant+gelu->fp16", s,
                            1, pad);
    runCase<int8_t, GemmInt8Sm80<TileInt8Skinny, Int8Raw>, Int8Raw>(
        report, rng, "int8 skinny raw", s, s.K >= 512 ? 4 : 1, pad);
    runCase<__half, GemmFp16Sm80<TileFp16Medium, HalfBiasSilu>,
            HalfBiasSilu>(report, rng, "fp16 medium bias+silu", s, 1, pad);
    runCase<__half, GemmFp16Sm80<TileFp16Skinny, HalfRaw>, HalfRaw>(
        report, rng, "fp16 skinny raw f32", s, s.K >= 512 ? 3 : 1, !pad);
    runCase<__half, GemmFp16Sm80<TileFp16Large, HalfResidual>, HalfResidual>(
        report, rng, "fp16 large residual", s, 1, pad);
  }
  return report.finish();
}
