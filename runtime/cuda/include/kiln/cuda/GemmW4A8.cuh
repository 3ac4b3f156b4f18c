//===- GemmW4A8.cuh - QoQ W4A8 GEMM (int8 tensor cores) ---------*- CUDA -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// C[M, N] = epilogue(A[M, K] * W~[N, K]^T) for per-token int8 activations A
// and QoQ progressive 4-bit weights (QServe's W4A8): uint4 codes per group
// of 128 with 8-bit integer scale s2 and zero z on top of per-channel int8.
// The main loop dequantizes uint4 -> int8 in registers and runs the int8
// tensor cores (mma.sync.m16n8k32.s8, sm_80 and sm_90):
//
//   q8~ = q4 * s2 - z * s2   (four 8-bit lanes per 32-bit instruction; the
//                             product first, then the precomputed z * s2
//                             subtracted modulo 256: Packing.h's
//                             decodeQoqWord, which is exactly
//                             kiln::quant::dequantizeQoqValue)
//   acc = sum_k a * q8~      (exact int32)
//   y   = float(acc) * (sa[m] * s1[n])    (Epilogue with kEpiRowScale |
//                                          kEpiColScale; bias, activation,
//                                          residual as for every GEMM)
//
// Weights arrive in "fragment order" (Packing.h: packW4A8): the compiler
// reorders the codes so that one 16-byte shared-memory load gives a thread
// its B fragments for four k steps of one 8-column tile, and a plain
// cp.async copy of contiguous 512-byte blocks fills shared memory. A CTA
// stage covers 128 of K, i.e. exactly one QoQ group: the group parameters of
// the stage's BN columns (BN uint16) travel with it. A is streamed and read
// with ldmatrix as in GemmSm80. Split-K as in GemmSm80 (exact).
//
// Requirements: N % 8 == 0, K % 128 == 0 (QoQ's group), A 16-byte aligned
// with lda a multiple of 16; M arbitrary.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_RUNTIME_CUDA_INCLUDE_KILN_CUDA_GEMMW4A8_CUH
#define KILN_RUNTIME_CUDA_INCLUDE_KILN_CUDA_GEMMW4A8_CUH

#include "kiln/cuda/GemmSm80.cuh"
#include "kiln/cuda/Packing.h"

namespace kiln::cuda {

/// Operands of a W4A8 GEMM.
struct W4A8Args {
  int M = 0;
  int N = 0;
  int K = 0;
  /// Per-token int8 activations [M, lda].
  const int8_t *A = nullptr;
  int64_t lda = 0;
  /// W4A8Packed::weights and ::groups (device copies).
  const uint8_t *weights = nullptr;
  const uint16_t *groups = nullptr;
  /// Output stage: rowScale = sa [M], colScale = s1 [N] for QoQ.
  EpilogueParams epi;
  int splitK = 1;
  void *workspace = nullptr;
};

/// Shared-memory layout of a W4A8 stage for tile Cfg (BKB must be 128).
template <class Cfg> struct W4A8Smem {
  static_assert(Cfg::kBKB == 128, "a W4A8 stage is one 128-wide QoQ group");
  static constexpr int kABytes = Cfg::kBM * 128;
  static constexpr int kBBytes = Cfg::kBN * 64;
  static constexpr int kGBytes = Cfg::kBN * 2;
  static constexpr int kStageBytes = kABytes + kBBytes + kGBytes;
  static constexpr int kBytes = Cfg::kStages * kStageBytes;
  static_assert(kGBytes % 16 == 0, "BN must be a multiple of 8");
};

template <class Cfg, class Epi>
__global__ void __launch_bounds__(Cfg::kThreads)
    gemmW4A8Kernel(W4A8Args args) {
#if defined(KILN_SM80)
  using Smem = W4A8Smem<Cfg>;
  constexpr int kMI = Cfg::kMI;
  constexpr int kNI = Cfg::kNI;
  constexpr int kStages = Cfg::kStages;
  extern __shared__ __align__(128) unsigned char smem[];
  const uint32_t smemBase = ptx::smemAddr(smem);

  const int tid = threadIdx.x;
  const int lane = tid & 31;
  const int warp = tid >> 5;
  const int warpM = warp / Cfg::kWarpsN;
  const int warpN = warp % Cfg::kWarpsN;
  const int tilesM = ceilDiv(args.M, Cfg::kBM);
  const int tilesN = ceilDiv(args.N, Cfg::kBN);
  int tm, tn;
  detail::rasterize(blockIdx.x, tilesM, tilesN, tm, tn);
  const int m0 = tm * Cfg::kBM;
  const int n0 = tn * Cfg::kBN;
  const int kTiles = args.K / 128;
  const int perSplit = ceilDiv(kTiles, args.splitK);
  const int kBegin = blockIdx.z * perSplit;
  const int kEnd = min(kTiles, kBegin + perSplit);

  detail::RowMajorTileLoader<Cfg, Cfg::kBM> aLoader(args.A, args.lda, args.M,
                                                   m0, args.K, tid);
  // B: BN / 8 blocks of 512 bytes per stage, plus BN group words.
  const int nTiles = args.N / 8;
  const int64_t blockStride = int64_t(kTiles) * 512;
  auto loadB = [&](uint32_t stage, int kt) {
    constexpr int kChunks = Cfg::kBN * 64 / 16;
    for (int c = tid; c < kChunks; c += Cfg::kThreads) {
      const int nt = n0 / 8 + c / 32;
      const bool ok = nt < nTiles;
      const uint8_t *src =
          ok ? args.weights + nt * blockStride + int64_t(kt) * 512 +
                   (c % 32) * 16
             : args.weights;
      ptx::cpAsync16(stage + Smem::kABytes + c * 16, src, ok ? 16 : 0);
    }
    constexpr int kGChunks = Smem::kGBytes / 16;
    for (int c = tid; c < kGChunks; c += Cfg::kThreads) {
      const int n = n0 + c * 8;
      const bool ok = n < args.N;
      const uint16_t *src =
          ok ? args.groups + int64_t(kt) * args.N + n : args.groups;
      ptx::cpAsync16(stage + Smem::kABytes + Smem::kBBytes + c * 16, src,
                     ok ? 16 : 0);
    }
  };

#pragma unroll
  for (int s = 0; s < kStages - 1; ++s) {
    if (kBegin + s < kEnd) {
      const uint32_t stage = smemBase + s * Smem::kStageBytes;
      aLoader.load(stage, kBegin + s);
      loadB(stage, kBegin + s);
    }
    ptx::cpAsyncCommit();
  }

  int32_t acc[kMI][kNI][4];
#pragma unroll
  for (int i = 0; i < kMI; ++i)
#pragma unroll
    for (int j = 0; j < kNI; ++j)
#pragma unroll
      for (int r = 0; r < 4; ++r)
        acc[i][j][r] = 0;

  const int aRow = warpM * Cfg::kWarpM + (lane & 15);
  const int aChunk = lane >> 4;
  const int g = lane >> 2;

  for (int kt = kBegin; kt < kEnd; ++kt) {
    ptx::cpAsyncWait<kStages - 2>();
    __syncthreads();
    const int next = kt + kStages - 1;
    if (next < kEnd) {
      const uint32_t stage =
          smemBase + ((next - kBegin) % kStages) * Smem::kStageBytes;
      aLoader.load(stage, next);
      loadB(stage, next);
    }
    ptx::cpAsyncCommit();

    const uint32_t stage =
        smemBase + ((kt - kBegin) % kStages) * Smem::kStageBytes;
    const unsigned char *stagePtr =
        smem + ((kt - kBegin) % kStages) * Smem::kStageBytes;
    // This lane's weight words (4 k steps) and group parameters per tile.
    uint4 words[kNI];
    uint32_t s2[kNI];
    Sub4Operand zs[kNI];
#pragma unroll
    for (int j = 0; j < kNI; ++j) {
      const int tile = warpN * (Cfg::kWarpN / 8) + j;
      words[j] = *reinterpret_cast<const uint4 *>(
          stagePtr + Smem::kABytes + (tile * 32 + lane) * 16);
      const uint16_t gp = *reinterpret_cast<const uint16_t *>(
          stagePtr + Smem::kABytes + Smem::kBBytes + (tile * 8 + g) * 2);
      s2[j] = gp & 0xffu;
      zs[j] = makeSub4Operand(gp >> 8);
    }
#pragma unroll
    for (int ks = 0; ks < 4; ++ks) {
      uint32_t af[kMI][4];
#pragma unroll
      for (int i = 0; i < kMI; ++i)
        ptx::ldmatrixX4(
            stage + swizzleOffset<128>(aRow + i * 16, ks * 2 + aChunk),
            af[i][0], af[i][1], af[i][2], af[i][3]);
#pragma unroll
      for (int j = 0; j < kNI; ++j) {
        const uint32_t w = ks == 0   ? words[j].x
                           : ks == 1 ? words[j].y
                           : ks == 2 ? words[j].z
                                     : words[j].w;
        uint32_t bf[2];
        decodeQoqWord(w, s2[j], zs[j], bf[0], bf[1]);
#pragma unroll
        for (int i = 0; i < kMI; ++i)
          ptx::mmaS8(acc[i][j], af[i], bf);
      }
    }
  }
  ptx::cpAsyncWait<0>();

  const int t = lane & 3;
#pragma unroll
  for (int i = 0; i < kMI; ++i)
#pragma unroll
    for (int h = 0; h < 2; ++h) {
      const int m = m0 + warpM * Cfg::kWarpM + i * 16 + g + 8 * h;
      if (m >= args.M)
        continue;
#pragma unroll
      for (int j = 0; j < kNI; ++j) {
        const int n = n0 + warpN * Cfg::kWarpN + j * 8 + 2 * t;
        if (n >= args.N)
          continue;
        if (args.splitK == 1) {
          Epi::apply2(args.epi, m, n, args.N, acc[i][j][2 * h],
                      acc[i][j][2 * h + 1]);
        } else {
          int32_t *ws = static_cast<int32_t *>(args.workspace) +
                        (int64_t(blockIdx.z) * args.M + m) * args.N + n;
          ws[0] = acc[i][j][2 * h];
          ws[1] = acc[i][j][2 * h + 1];
        }
      }
    }
#endif
}

/// W4A8 GEMM launcher for tile Cfg (TileConfig with BKB = 128).
template <class Cfg, class Epi> struct GemmW4A8 {
  using Smem = W4A8Smem<Cfg>;
  static size_t workspaceBytes(int M, int N, int splitK) {
    return splitK > 1 ? size_t(splitK) * M * N * sizeof(int32_t) : 0;
  }
  static cudaError_t prepare() {
    static const cudaError_t status = cudaFuncSetAttribute(
        gemmW4A8Kernel<Cfg, Epi>, cudaFuncAttributeMaxDynamicSharedMemorySize,
        Smem::kBytes);
    return status;
  }
  static cudaError_t run(const W4A8Args &a, cudaStream_t stream) {
    const auto aligned = [](const void *p) {
      return (reinterpret_cast<uintptr_t>(p) & 15u) == 0;
    };
    if (a.M <= 0 || a.N <= 0 || a.K <= 0 || a.N % 8 != 0 || a.K % 128 != 0 ||
        a.lda % 16 != 0 || a.lda < a.K || !aligned(a.A) ||
        !aligned(a.weights) || !aligned(a.groups) || !a.epi.out ||
        a.splitK < 1 || (a.splitK > 1 && !aligned(a.workspace)))
      return cudaErrorInvalidValue;
    if (cudaError_t e = prepare(); e != cudaSuccess)
      return e;
    const int tiles = ceilDiv(a.M, Cfg::kBM) * ceilDiv(a.N, Cfg::kBN);
    gemmW4A8Kernel<Cfg, Epi>
        <<<dim3(tiles, 1, a.splitK), Cfg::kThreads, Smem::kBytes, stream>>>(a);
    if (a.splitK > 1) {
      const int64_t pairs = int64_t(a.M) * (a.N / 2);
      splitKReduceKernel<int32_t, Epi>
          <<<unsigned(ceilDiv<int64_t>(pairs, 256)), 256, 0, stream>>>(
              a.M, a.N, a.splitK, static_cast<const int32_t *>(a.workspace),
              a.epi);
    }
    return cudaGetLastError();
  }
};

/// W4A8 tiles: 128 x 128 (8 warps of 64 x 32, 4 stages, 98 KB) and a
/// decode tile 16 x 128 (4 warps, 4 stages, 42 KB) for M <= 16 with split-K.
using TileW4A8Medium = TileConfig<128, 128, 128, 2, 4, 4>;
using TileW4A8Skinny = TileConfig<16, 128, 128, 1, 4, 4>;

} // namespace kiln::cuda

#endif // KILN_RUNTIME_CUDA_INCLUDE_KILN_CUDA_GEMMW4A8_CUH
