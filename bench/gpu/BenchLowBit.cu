//===- BenchLowBit.cu - W4A8 and W4A4 GEMMs vs int8 and fp16 ---------------===//
// SPDX-License-Identifier: Apache-2.0
//
// 1. W4A8 (QoQ) at LLM shapes against Kiln's W8A8 GEMM with the same
//    mma.sync tile family and output stage (the dequantization overhead:
//    (t_W4A8 - t_W8A8) / t_W8A8, target < 20%), Kiln's best int8 GEMM,
//    cuBLASLt int8 and cuBLASLt fp16 (target: W4A8 >= 1.3x faster than
//    cuBLAS fp16 at M >= 128 on H100).
// 2. W4A4 with rank-32 low-rank branch: plain 4-bit (quantize + GEMM),
//    fused low-rank (down-projection in the quantizer, up-projection in the
//    GEMM epilogue; target < 15% over plain), unfused (two extra fp16
//    GEMMs), and cuBLASLt fp16; on sm_90 for both main-loop paths (int8
//    tensor cores after in-register unpacking -- the sm_90 default -- and
//    the s4 mma, which Hopper does not run on tensor cores).
// All times include every kernel of the variant; operands are rotated so
// weights come from device memory, not L2.
//
//===----------------------------------------------------------------------===//

#include "BenchCommon.h"
#include "Cublas.h"

#include "kiln/cuda/GemmSm80.cuh"
#include "kiln/cuda/GemmSm90.cuh"
#include "kiln/cuda/GemmW4A4.cuh"
#include "kiln/cuda/GemmW4A8.cuh"
#include "kiln/cuda/GemmW4A8Sm90.cuh"
#include "kiln/cuda/Select.h"

#include <cuda_fp16.h>

#include <functional>
#include <string>
#include <vector>

using namespace kiln::cuda;
using namespace kiln::bench;

namespace {

__global__ void fillBytes(uint8_t *p, size_t n, uint32_t seed, int mode) {
  const size_t i = size_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= n)
    return;
  uint32_t h = uint32_t(i) * 2654435761u ^ seed;
  h ^= h >> 13;
  h *= 0x5bd1e995u;
  h ^= h >> 15;
  if (mode == 0) // int8
    p[i] = uint8_t(int8_t(int(h % 201) - 100));
  else if (mode == 1) // packed int4 / uint4 codes
    p[i] = uint8_t(h);
  else if (mode == 2) // QoQ group words: s2 in 1..16, z*s2 <= 240
    reinterpret_cast<uint16_t *>(p)[i / 2] =
        uint16_t(1 + h % 16) | uint16_t((h >> 8) % 15) << 8;
  else if (mode == 3 && i % 2 == 0) // fp16 in [-1, 1]
    reinterpret_cast<__half *>(p)[i / 2] =
        __float2half((float(h & 0xffff) / 65535.0f) * 2.0f - 1.0f);
  else if (mode == 4 && i % 4 == 0) // positive float scales
    reinterpret_cast<float *>(p)[i / 4] = 0.001f + float(h % 1000) * 1e-5f;
}

void* alloc(size_t bytes, uint32_t seed, int mode) {
  void *p;
  KILN_BENCH_CHECK(cudaMalloc(&p, bytes));
  fillBytes<<<unsigned((bytes + 255) / 256), 256>>>(static_cast<uint8_t *>(p),
                                                    bytes, seed, mode);
  KILN_BENCH_CHECK(cudaGetLastError());
  return p;
}

using QoqHalf =
    Epilogue<OutKind::kFloat16, Act::kNone, kEpiRowScale | kEpiColScale>;
using HalfOut = Epilogue<OutKind::kFloat16>;
using HalfResidual = Epilogue<OutKind::kFloat16, Act::kNone, kEpiNone,
                              ResKind::kFloat16>;

/// Per-shape buffers (rotated copies).
struct Buffers {
  std::vector<void *> ptrs;
  void *get(size_t bytes, uint32_t seed, int mode) {
    ptrs.push_back(alloc(bytes, seed, mode));
    return ptrs.back();
  }
  ~Buffers() {
    for (void *p : ptrs)
      cudaFree(p);
  }
};

void w4a8Table(int argc, char **argv, const DeviceInfo &dev) {
  const bool hopper = dev.capability >= 90;
  std::vector<int> ms = {1, 16, 128, 1024, 4096};
  if (quickMode())
    ms = {16, 1024};
  Table t("W4A8 (QoQ, group 128) vs W8A8 and fp16, microseconds per GEMM "
          "(fp16 output with per-token x per-channel scales; Kiln best = "
          "fastest of its mma.sync and, on sm_90, wgmma kernels)",
          {"M", "N x K", "W4A8 Kiln best", "W8A8 Kiln best", "W4A8 vs W8A8",
           "W4A8 mma.sync", "W8A8 mma.sync", "dequant overhead (mma.sync)",
           "int8 cuBLASLt", "fp16 cuBLASLt", "W4A8 speed-up vs fp16"});
  for (auto nk : {std::pair{4096, 4096}, std::pair{11008, 4096},
                  std::pair{4096, 11008}})
    for (int M : ms) {
      const int N = nk.first, K = nk.second;
      Buffers b;
      const size_t setBytes = size_t(M) * K + size_t(N) * K / 2;
      const int copies = rotationCopies(setBytes, dev);
      std::vector<void *> a8(copies), w4(copies), w8(copies), grp(copies),
          a16(copies), w16(copies);
      for (int c = 0; c < copies; ++c) {
        a8[c] = b.get(size_t(M) * K, 1 + c, 0);
        w4[c] = b.get(size_t(N) * K / 2, 100 + c, 1);
        grp[c] = b.get(size_t(K / 128) * N * 2, 200 + c, 2);
        w8[c] = b.get(size_t(N) * K, 300 + c, 0);
        a16[c] = b.get(size_t(M) * K * 2, 400 + c, 3);
        w16[c] = b.get(size_t(N) * K * 2, 500 + c, 3);
      }
      void *rowScale = b.get(size_t(M) * 4, 7, 4), *colScale = b.get(size_t(N) * 4, 8, 4);
      void *out = b.get(size_t(M) * N * 4, 9, 0);
      void *ws = b.get(size_t(256) << 20, 10, 0);
      EpilogueParams epi;
      epi.out = out;
      epi.ldOut = N;
      epi.rowScale = static_cast<const float *>(rowScale);
      epi.colScale = static_cast<const float *>(colScale);
      const int split = selectGemm(M, N, K, 1, dev.sms).splitK;
      const int splitOk =
          size_t(split) * M * N * 4 <= (size_t(256) << 20) ? split : 1;
      // W4A8.
      auto w4a8 = [&](auto tile, int splitK) {
        using Cfg = decltype(tile);
        return timeLaunches(
            [&](int i) {
              W4A8Args a;
              a.M = M;
              a.N = N;
              a.K = K;
              a.A = static_cast<const int8_t *>(a8[size_t(i)]);
              a.lda = K;
              a.weights = static_cast<const uint8_t *>(w4[size_t(i)]);
              a.groups = static_cast<const uint16_t *>(grp[size_t(i)]);
              a.epi = epi;
              a.splitK = splitK;
              a.workspace = ws;
              return GemmW4A8<Cfg, QoqHalf>::run(a, nullptr);
            },
            copies);
      };
      auto w8a8 = [&](auto tile, int splitK) {
        using Cfg = decltype(tile);
        return timeLaunches(
            [&](int i) {
              GemmArgs a;
              a.M = M;
              a.N = N;
              a.K = K;
              a.A = a8[size_t(i)];
              a.lda = K;
              a.B = w8[size_t(i)];
              a.ldb = K;
              a.epi = epi;
              a.splitK = splitK;
              a.workspace = ws;
              return GemmInt8Sm80<Cfg, QoqHalf>::run(a, nullptr);
            },
            copies);
      };
      double tW4, tW8;
      if (M <= 64) {
        tW4 = w4a8(TileW4A8Skinny{}, splitOk);
        tW8 = w8a8(TileInt8Skinny{}, splitOk);
      } else {
        tW4 = w4a8(TileW4A8Medium{}, 1);
        tW8 = w8a8(TileInt8Medium{}, 1);
      }
      double tBest = tW8, tW4Best = tW4;
      if (hopper && M >= 64) {
        std::vector<W4A8Sm90Plan> w4plans{size_t(copies)};
        bool ok4 = true;
        for (int c = 0; c < copies; ++c) {
          W4A8Args a;
          a.M = M;
          a.N = N;
          a.K = K;
          a.A = static_cast<const int8_t *>(a8[size_t(c)]);
          a.lda = K;
          a.weights = static_cast<const uint8_t *>(w4[size_t(c)]);
          a.groups = static_cast<const uint16_t *>(grp[size_t(c)]);
          a.epi = epi;
          ok4 = ok4 && (M >= 128 ? GemmW4A8Sm90<TileW4A8Sm90, QoqHalf>::makePlan(
                                       a, w4plans[size_t(c)])
                                 : GemmW4A8Sm90<TileW4A8Sm90Narrow, QoqHalf>::makePlan(
                                       a, w4plans[size_t(c)])) == cudaSuccess;
        }
        if (ok4) {
          const double t4 = timeLaunches(
              [&](int i) {
                return M >= 128
                           ? GemmW4A8Sm90<TileW4A8Sm90, QoqHalf>::run(w4plans[size_t(i)], nullptr)
                           : GemmW4A8Sm90<TileW4A8Sm90Narrow, QoqHalf>::run(
                                 w4plans[size_t(i)], nullptr);
              },
              copies);
          if (t4 > 0 && (tW4Best < 0 || t4 < tW4Best))
            tW4Best = t4;
        }
        std::vector<GemmSm90Plan> plans{size_t(copies)};
        bool ok = true;
        for (int c = 0; c < copies; ++c) {
          GemmArgs a;
          a.M = M;
          a.N = N;
          a.K = K;
          a.A = a8[size_t(c)];
          a.lda = K;
          a.B = w8[size_t(c)];
          a.ldb = K;
          a.epi = epi;
          ok = ok && GemmInt8Sm90<TileSm90Large, QoqHalf>::makePlan(a, plans[size_t(c)]) ==
                         cudaSuccess;
        }
        if (ok) {
          const double t90 = timeLaunches(
              [&](int i) {
                return GemmInt8Sm90<TileSm90Large, QoqHalf>::run(plans[size_t(i)], nullptr);
              },
              copies);
          if (t90 > 0 && t90 < tBest)
            tBest = t90;
        }
      }
      LtGemm lt8(LtGemm::Kind::kInt8, M, N, K), lt16(LtGemm::Kind::kFp16, M, N, K);
      const double tLt8 =
          lt8.ok() ? lt8.timeBest([&](int i) { return a8[size_t(i)]; },
                                  [&](int i) { return w8[size_t(i)]; }, out, copies)
                   : -1;
      const double tLt16 =
          lt16.ok() ? lt16.timeBest([&](int i) { return a16[size_t(i)]; },
                                    [&](int i) { return w16[size_t(i)]; }, out, copies)
                    : -1;
      t.add({fmt("%d", M), fmt("%d x %d", N, K), us(tW4Best), us(tBest),
             tW4Best > 0 && tBest > 0 ? fmt("%+.0f%%", 100.0 * (tW4Best - tBest) / tBest)
                                      : "n/a",
             us(tW4), us(tW8),
             tW4 > 0 && tW8 > 0 ? fmt("%+.0f%%", 100.0 * (tW4 - tW8) / tW8) : "n/a",
             us(tLt8), us(tLt16), ratio(tLt16, tW4Best)});
    }
  emit(argc, argv, t.markdown());
}

template <bool kInt4Mma>
void w4a4Rows(Table &t, const DeviceInfo &dev, int M, int N, int K) {
  constexpr int kRank = 32;
  Buffers b;
  const int copies = rotationCopies(size_t(N) * K / 2 + size_t(M) * K * 2, dev);
  std::vector<void *> x(copies), wq(copies), ws(copies), l1(copies), l2(copies),
      w16(copies);
  for (int c = 0; c < copies; ++c) {
    x[c] = b.get(size_t(M) * K * 2, 1 + c, 3);
    wq[c] = b.get(size_t(N) * K / 2, 10 + c, 1);
    ws[c] = b.get(size_t(K / 64) * w4a4ScaleStride(N) * 4, 20 + c, 4);
    l1[c] = b.get(size_t(N) * kRank * 2, 30 + c, 3);
    l2[c] = b.get(size_t(kRank) * K * 2, 40 + c, 3);
    w16[c] = b.get(size_t(N) * K * 2, 50 + c, 3);
  }
  void *xq = b.get(size_t(M) * K / 2, 60, 1);
  void *xs = b.get(size_t(K / 64) * w4a4ScaleStride(M) * 4, 61, 4);
  void *tAct = b.get(size_t(M) * kRank * 2, 62, 3);
  void *y = b.get(size_t(M) * N * 2, 63, 3);
  void *y2 = b.get(size_t(M) * N * 2, 64, 3);

  auto quant = [&](auto rankTag, int i) {
    constexpr int R = decltype(rankTag)::value;
    W4A4QuantArgs q;
    q.M = M;
    q.K = K;
    q.x = static_cast<const uint16_t *>(x[size_t(i)]);
    q.ldx = K;
    q.codes = static_cast<uint8_t *>(xq);
    q.ldq = K / 2;
    q.scales = static_cast<float *>(xs);
    q.ldScale = w4a4ScaleStride(M);
    q.l2 = static_cast<const uint16_t *>(l2[size_t(i)]);
    q.ldl2 = K;
    q.t = static_cast<uint16_t *>(tAct);
    q.ldt = kRank;
    return W4A4Quantize<R>::run(q, nullptr);
  };
  auto gemm = [&](auto rankTag, int i, void *out) {
    constexpr int R = decltype(rankTag)::value;
    W4A4Args a;
    a.M = M;
    a.N = N;
    a.K = K;
    a.A = static_cast<const uint8_t *>(xq);
    a.lda = K / 2;
    a.aScale = static_cast<const float *>(xs);
    a.ldaScale = w4a4ScaleStride(M);
    a.B = static_cast<const uint8_t *>(wq[size_t(i)]);
    a.ldb = K / 2;
    a.bScale = static_cast<const float *>(ws[size_t(i)]);
    a.ldbScale = w4a4ScaleStride(N);
    a.lowRankAct = static_cast<const uint16_t *>(tAct);
    a.ldt = kRank;
    a.lowRankUp = static_cast<const uint16_t *>(l1[size_t(i)]);
    a.ldl1 = kRank;
    a.epi.out = out;
    a.epi.ldOut = N;
    return GemmW4A4<TileW4A4, R, kInt4Mma, HalfOut>::run(a, nullptr);
  };
  using R0 = std::integral_constant<int, 0>;
  using R32 = std::integral_constant<int, kRank>;
  const double tPlain = timeLaunches(
      [&](int i) {
        if (cudaError_t e = quant(R0{}, i); e != cudaSuccess)
          return e;
        return gemm(R0{}, i, y);
      },
      copies);
  const double tFused = timeLaunches(
      [&](int i) {
        if (cudaError_t e = quant(R32{}, i); e != cudaSuccess)
          return e;
        return gemm(R32{}, i, y);
      },
      copies);
  const double tUnfused = timeLaunches(
      [&](int i) {
        if (cudaError_t e = quant(R0{}, i); e != cudaSuccess)
          return e;
        GemmArgs down;
        down.M = M;
        down.N = kRank;
        down.K = K;
        down.A = x[size_t(i)];
        down.lda = K;
        down.B = l2[size_t(i)];
        down.ldb = K;
        down.epi.out = tAct;
        down.epi.ldOut = kRank;
        if (cudaError_t e = GemmFp16Sm80<TileFp16Small, HalfOut>::run(down, nullptr);
            e != cudaSuccess)
          return e;
        if (cudaError_t e = gemm(R0{}, i, y); e != cudaSuccess)
          return e;
        GemmArgs up;
        up.M = M;
        up.N = N;
        up.K = kRank;
        up.A = tAct;
        up.lda = kRank;
        up.B = l1[size_t(i)];
        up.ldb = kRank;
        up.epi.out = y2;
        up.epi.ldOut = N;
        up.epi.residual = y;
        up.epi.ldResidual = N;
        return GemmFp16Sm80<TileFp16Medium, HalfResidual>::run(up, nullptr);
      },
      copies);
  LtGemm lt16(LtGemm::Kind::kFp16, M, N, K);
  const double tLt16 =
      lt16.ok() ? lt16.timeBest([&](int i) { return x[size_t(i)]; },
                                [&](int i) { return w16[size_t(i)]; }, y, copies)
                : -1;
  t.add({fmt("%d", M), fmt("%d x %d", N, K),
         kInt4Mma ? "s4 mma (sm_80 path)" : "int8 unpacked (sm_90 path)",
         us(tPlain), us(tFused),
         tPlain > 0 && tFused > 0 ? fmt("%+.0f%%", 100.0 * (tFused - tPlain) / tPlain)
                                  : "n/a",
         us(tUnfused), us(tLt16), ratio(tLt16, tFused)});
}

void w4a4Table(int argc, char **argv, const DeviceInfo &dev) {
  Table t("W4A4 + rank-32 low-rank branch (SVDQuant), microseconds including "
          "the activation quantizer",
          {"M", "N x K", "main loop", "plain 4-bit", "fused low-rank",
           "fused overhead", "unfused (4 kernels)", "fp16 cuBLASLt",
           "fused speed-up vs fp16"});
  std::vector<int> ms = {128, 1024, 4096};
  if (quickMode())
    ms = {1024};
  for (auto nk : {std::pair{4096, 4096}, std::pair{11008, 4096}})
    for (int M : ms) {
      w4a4Rows<false>(t, dev, M, nk.first, nk.second);
      w4a4Rows<true>(t, dev, M, nk.first, nk.second);
    }
  emit(argc, argv, t.markdown());
}

} // namespace

int main(int argc, char **argv) {
  int count = 0;
  if (cudaGetDeviceCount(&count) != cudaSuccess || count == 0) {
    std::printf("no CUDA device: benchmarks need a GPU\n");
    return 77;
  }
  const DeviceInfo dev = deviceInfo();
  emit(argc, argv, fmt("## Low-bit GEMMs (%s)\n\n", dev.name.c_str()));
  w4a8Table(argc, argv, dev);
  w4a4Table(argc, argv, dev);
  return 0;
}
