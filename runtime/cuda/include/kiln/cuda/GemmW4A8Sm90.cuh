//===- GemmW4A8Sm90.cuh - QoQ W4A8 GEMM on Hopper (RS wgmma) ----*- CUDA -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// The sm_90a version of GemmW4A8 (same operands, W4A8Args, and the same
// packed weights, Packing.h's fragment order). On Hopper the fp16 baseline
// (cuBLAS) runs on wgmma, so a W4A8 main loop on mma.sync would lose the
// 2x int8/fp16 rate that makes W4A8 pay off at large M. This kernel keeps
// the int8 wgmma rate with a mixed-input design (as in CUTLASS's
// mixed-input "Machete" kernels):
//
// - It computes the transposed product C^T = W~ X^T, so that the weights
//   are wgmma's A operand, which may come from registers: each thread
//   decodes its packed words (decodeQoqWord: uint4 -> int8, subtraction
//   after multiplication) straight into the A fragment, which for a
//   16-row slice of m64nNk32 has the mma.m16n8k32 layout: rows g and g + 8
//   are two consecutive 8-row tiles of the fragment-order packing, so the
//   packing needs no Hopper-specific variant.
// - The activations X [M, K] (int8) are the B operand (K-major, 128-byte
//   swizzle), loaded by TMA, as are the packed weights (no swizzle; 16
//   tiles of 512 bytes per stage) and the stage's group parameters.
// - One producer warpgroup (TMA), two consumer warpgroups (64 weight rows
//   each) issuing wgmma.m64n{kTokens}k32.s32.s8.s8 with A in registers;
//   each consumer finishes its wgmmas of a stage before decoding the next
//   stage (the A registers must not change under an in-flight wgmma), and
//   the two consumers interleave, so one decodes while the other's
//   wgmmas run.
// - The epilogue maps accumulator (weight row n, token m) back to C[m, n]
//   and applies the usual Epilogue (y = float(acc) * (sa[m] * s1[n]) ...).
//
// Requirements: N % 8 == 0, K % 128 == 0, A rows 16-byte aligned (lda % 16
// == 0); no split-K (decode-sized M stays on GemmW4A8's skinny tile).
//
//===----------------------------------------------------------------------===//

#ifndef KILN_RUNTIME_CUDA_INCLUDE_KILN_CUDA_GEMMW4A8SM90_CUH
#define KILN_RUNTIME_CUDA_INCLUDE_KILN_CUDA_GEMMW4A8SM90_CUH

#include "kiln/cuda/GemmSm90.cuh"
#include "kiln/cuda/GemmW4A8.cuh"

namespace kiln::cuda {

/// A Hopper W4A8 tile: 128 weight rows (two consumer warpgroups) x
/// kTokens activation rows, one QoQ group (128 of K) per stage.
template <int TOKENS, int STAGES> struct TileConfigW4A8Sm90 {
  static constexpr int kWeightRows = 128;
  static constexpr int kTokens = TOKENS;
  static constexpr int kStages = STAGES;
  static constexpr int kThreads = 384;
  static constexpr int kXBytes = TOKENS * 128;
  static constexpr int kWBytes = 128 * 64; // 16 tiles x 512 bytes
  static constexpr int kGBytes = 128 * 2;
  /// X first (1 KB aligned for the swizzle), then weights, then groups.
  static constexpr int kStageBytes = kXBytes + kWBytes + kGBytes + 768;
  static constexpr int kSmemBytes = STAGES * kStageBytes + 1024 + 16 * STAGES;
  static_assert(TOKENS == 64 || TOKENS == 128, "64 or 128 tokens per tile");
  static_assert(kStageBytes % 1024 == 0, "stages stay 1 KB aligned");
};

using TileW4A8Sm90 = TileConfigW4A8Sm90<128, 6>;
using TileW4A8Sm90Narrow = TileConfigW4A8Sm90<64, 8>;

namespace sm90 {

/// wgmma.mma_async m64n64k32.s32.s8.s8 with A from registers (an
/// mma.m16n8k32 A fragment per warp) and B from shared memory (K-major).
KILN_DEVICE void wgmmaS8RsN64(int32_t (&d)[32], const uint32_t (&a)[4],
                             uint64_t descB) {
  asm volatile("wgmma.mma_async.sync.aligned.m64n64k32.s32.s8.s8 "
               "{%0, %1, %2, %3, %4, %5, %6, %7, "
               "%8, %9, %10, %11, %12, %13, %14, %15, "
               "%16, %17, %18, %19, %20, %21, %22, %23, "
               "%24, %25, %26, %27, %28, %29, %30, %31}, "
               "{%32, %33, %34, %35}, %36, 1;\n"
               : "+r"(d[0]), "+r"(d[1]), "+r"(d[2]), "+r"(d[3]), "+r"(d[4]),
                 "+r"(d[5]), "+r"(d[6]), "+r"(d[7]), "+r"(d[8]), "+r"(d[9]),
                 "+r"(d[10]), "+r"(d[11]), "+r"(d[12]), "+r"(d[13]),
                 "+r"(d[14]), "+r"(d[15]), "+r"(d[16]), "+r"(d[17]),
                 "+r"(d[18]), "+r"(d[19]), "+r"(d[20]), "+r"(d[21]),
                 "+r"(d[22]), "+r"(d[23]), "+r"(d[24]), "+r"(d[25]),
                 "+r"(d[26]), "+r"(d[27]), "+r"(d[28]), "+r"(d[29]),
                 "+r"(d[30]), "+r"(d[31])
               : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "l"(descB));
}

/// wgmma.mma_async m64n128k32.s32.s8.s8 with A from registers (an
/// mma.m16n8k32 A fragment per warp) and B from shared memory (K-major).
KILN_DEVICE void wgmmaS8RsN128(int32_t (&d)[64], const uint32_t (&a)[4],
                             uint64_t descB) {
  asm volatile("wgmma.mma_async.sync.aligned.m64n128k32.s32.s8.s8 "
               "{%0, %1, %2, %3, %4, %5, %6, %7, "
               "%8, %9, %10, %11, %12, %13, %14, %15, "
               "%16, %17, %18, %19, %20, %21, %22, %23, "
               "%24, %25, %26, %27, %28, %29, %30, %31, "
               "%32, %33, %34, %35, %36, %37, %38, %39, "
               "%40, %41, %42, %43, %44, %45, %46, %47, "
               "%48, %49, %50, %51, %52, %53, %54, %55, "
               "%56, %57, %58, %59, %60, %61, %62, %63}, "
               "{%64, %65, %66, %67}, %68, 1;\n"
               : "+r"(d[0]), "+r"(d[1]), "+r"(d[2]), "+r"(d[3]), "+r"(d[4]),
                 "+r"(d[5]), "+r"(d[6]), "+r"(d[7]), "+r"(d[8]), "+r"(d[9]),
                 "+r"(d[10]), "+r"(d[11]), "+r"(d[12]), "+r"(d[13]),
                 "+r"(d[14]), "+r"(d[15]), "+r"(d[16]), "+r"(d[17]),
                 "+r"(d[18]), "+r"(d[19]), "+r"(d[20]), "+r"(d[21]),
                 "+r"(d[22]), "+r"(d[23]), "+r"(d[24]), "+r"(d[25]),
                 "+r"(d[26]), "+r"(d[27]), "+r"(d[28]), "+r"(d[29]),
                 "+r"(d[30]), "+r"(d[31]), "+r"(d[32]), "+r"(d[33]),
                 "+r"(d[34]), "+r"(d[35]), "+r"(d[36]), "+r"(d[37]),
                 "+r"(d[38]), "+r"(d[39]), "+r"(d[40]), "+r"(d[41]),
                 "+r"(d[42]), "+r"(d[43]), "+r"(d[44]), "+r"(d[45]),
                 "+r"(d[46]), "+r"(d[47]), "+r"(d[48]), "+r"(d[49]),
                 "+r"(d[50]), "+r"(d[51]), "+r"(d[52]), "+r"(d[53]),
                 "+r"(d[54]), "+r"(d[55]), "+r"(d[56]), "+r"(d[57]),
                 "+r"(d[58]), "+r"(d[59]), "+r"(d[60]), "+r"(d[61]),
                 "+r"(d[62]), "+r"(d[63])
               : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "l"(descB));
}

template <int kTokens>
KILN_DEVICE void wgmmaS8Rs(int32_t (&d)[kTokens / 2], const uint32_t (&a)[4],
                           uint64_t descB) {
  if constexpr (kTokens == 64)
    wgmmaS8RsN64(d, a, descB);
  else
    wgmmaS8RsN128(d, a, descB);
}

template <int N> KILN_DEVICE void fenceIntRegs(int32_t (&d)[N]) {
#pragma unroll
  for (int i = 0; i < N; ++i)
    asm volatile("" : "+r"(d[i])::"memory");
}

} // namespace sm90

/// Tensor maps of one W4A8 GEMM on Hopper.
struct W4A8Sm90Plan {
  CUtensorMap mapX, mapW, mapG;
  W4A8Args args;
};

template <class Cfg, class Epi>
__global__ void __launch_bounds__(Cfg::kThreads, 1)
    gemmW4A8Sm90Kernel(const __grid_constant__ CUtensorMap mapX,
                       const __grid_constant__ CUtensorMap mapW,
                       const __grid_constant__ CUtensorMap mapG,
                       W4A8Args args) {
#if defined(KILN_SM90A)
  constexpr int kS = Cfg::kStages;
  constexpr int kT = Cfg::kTokens;
  extern __shared__ unsigned char smemRaw[];
  const uint32_t base = (ptx::smemAddr(smemRaw) + 1023u) & ~1023u;
  unsigned char *basePtr = smemRaw + (base - ptx::smemAddr(smemRaw));
  const uint32_t full = base + kS * Cfg::kStageBytes;
  const uint32_t empty = full + 8 * kS;
  const auto stageX = [&](int s) { return base + s * Cfg::kStageBytes; };
  const auto stageW = [&](int s) { return stageX(s) + Cfg::kXBytes; };
  const auto stageG = [&](int s) { return stageW(s) + Cfg::kWBytes; };

  const int tid = threadIdx.x;
  const int wg = tid / 128;
  const int tilesT = ceilDiv(args.M, kT);
  const int tilesW = ceilDiv(args.N, Cfg::kWeightRows);
  int tt, tw;
  detail::rasterize(blockIdx.x, tilesT, tilesW, tt, tw);
  const int m0 = tt * kT;
  const int n0 = tw * Cfg::kWeightRows;
  const int kTiles = args.K / 128;

  if (tid == 0) {
    for (int s = 0; s < kS; ++s) {
      sm90::mbarInit(full + 8 * s, 1);
      sm90::mbarInit(empty + 8 * s, 2);
    }
    sm90::fenceBarrierInit();
  }
  __syncthreads();

  if (wg == 0) {
    sm90::setMaxRegistersDec<40>();
    if (tid == 0) {
      for (int kt = 0; kt < kTiles; ++kt) {
        const int s = kt % kS;
        sm90::mbarWait(empty + 8 * s, ((kt / kS) & 1) ^ 1);
        sm90::mbarArriveExpectTx(full + 8 * s,
                                 Cfg::kXBytes + Cfg::kWBytes + Cfg::kGBytes);
        sm90::tmaLoad2d(stageX(s), &mapX, kt * 128, m0, full + 8 * s);
        sm90::tmaLoad2d(stageW(s), &mapW, kt * 128, n0 / 8, full + 8 * s);
        sm90::tmaLoad2d(stageG(s), &mapG, n0, kt, full + 8 * s);
      }
    }
    return;
  }

  sm90::setMaxRegistersInc<232>();
  const int c = wg - 1;
  const int warp = (tid % 128) / 32;
  const int lane = tid & 31;
  const int g = lane >> 2;
  const int t = lane & 3;
  // This warp's two 8-row tiles (rows g and g + 8 of its 16 weight rows).
  const int tile0 = c * 8 + 2 * warp;
  int32_t acc[kT / 2];
#pragma unroll
  for (int i = 0; i < kT / 2; ++i)
    acc[i] = 0;

  for (int kt = 0; kt < kTiles; ++kt) {
    const int s = kt % kS;
    sm90::mbarWait(full + 8 * s, (kt / kS) & 1);
    const unsigned char *w = basePtr + (stageW(s) - base);
    const uint4 w0 = *reinterpret_cast<const uint4 *>(w + (tile0 * 32 + lane) * 16);
    const uint4 w1 =
        *reinterpret_cast<const uint4 *>(w + ((tile0 + 1) * 32 + lane) * 16);
    const uint16_t *gp = reinterpret_cast<const uint16_t *>(basePtr + (stageG(s) - base));
    const uint16_t g0 = gp[tile0 * 8 + g], g1 = gp[(tile0 + 1) * 8 + g];
    const Sub4Operand z0 = makeSub4Operand(g0 >> 8), z1 = makeSub4Operand(g1 >> 8);
    uint32_t a[4][4];
    const uint32_t words0[4] = {w0.x, w0.y, w0.z, w0.w};
    const uint32_t words1[4] = {w1.x, w1.y, w1.z, w1.w};
#pragma unroll
    for (int ks = 0; ks < 4; ++ks) {
      // a0 / a2: row g, k 4t.. / 16 + 4t..; a1 / a3: row g + 8.
      decodeQoqWord(words0[ks], g0 & 0xffu, z0, a[ks][0], a[ks][2]);
      decodeQoqWord(words1[ks], g1 & 0xffu, z1, a[ks][1], a[ks][3]);
    }
    sm90::fenceIntRegs(acc);
    sm90::wgmmaFence();
#pragma unroll
    for (int ks = 0; ks < 4; ++ks)
      sm90::wgmmaS8Rs<kT>(acc, a[ks],
                          sm90::smemDescriptor(stageX(s) + ks * 32));
    sm90::wgmmaCommit();
    sm90::wgmmaWait<0>();
    sm90::fenceIntRegs(acc);
    if (tid % 128 == 0)
      sm90::mbarArrive(empty + 8 * s);
  }

  // acc[4 i + r]: weight row n0 + 64 c + 16 warp + g + 8 (r >= 2), token
  // m0 + 8 i + 2 t + (r & 1); C is [M, N].
#pragma unroll
  for (int i = 0; i < kT / 8; ++i)
#pragma unroll
    for (int r = 0; r < 4; ++r) {
      const int n = n0 + 64 * c + 16 * warp + g + (r >= 2 ? 8 : 0);
      const int m = m0 + 8 * i + 2 * t + (r & 1);
      if (m < args.M && n < args.N)
        Epi::store(args.epi, m, n, Epi::compute(args.epi, m, n, acc[4 * i + r]));
    }
#endif
}

/// The Hopper W4A8 launcher: makePlan once (tensor maps), then run.
template <class Cfg, class Epi> struct GemmW4A8Sm90 {
  static cudaError_t makePlan(const W4A8Args &a, W4A8Sm90Plan &plan) {
    const auto aligned = [](const void *p) {
      return (reinterpret_cast<uintptr_t>(p) & 15u) == 0;
    };
    if (a.M <= 0 || a.N <= 0 || a.K <= 0 || a.N % 8 != 0 || a.K % 128 != 0 ||
        a.lda % 16 != 0 || a.lda < a.K || !aligned(a.A) ||
        !aligned(a.weights) || !aligned(a.groups) || !a.epi.out ||
        a.splitK != 1)
      return cudaErrorInvalidValue;
    plan.args = a;
    if (cudaError_t e = sm90::encode2d(&plan.mapX, a.A,
                                       CU_TENSOR_MAP_DATA_TYPE_UINT8, a.M, a.K,
                                       a.lda, Cfg::kTokens, 128,
                                       CU_TENSOR_MAP_SWIZZLE_128B);
        e != cudaSuccess)
      return e;
    // Packed weights as [N / 8][K] 32-bit words (512 bytes per 8-row tile
    // and K block of 128).
    if (cudaError_t e = sm90::encode2d(&plan.mapW, a.weights,
                                       CU_TENSOR_MAP_DATA_TYPE_UINT32, a.N / 8,
                                       a.K, int64_t(a.K) * 4, 16, 128,
                                       CU_TENSOR_MAP_SWIZZLE_NONE);
        e != cudaSuccess)
      return e;
    return sm90::encode2d(&plan.mapG, a.groups, CU_TENSOR_MAP_DATA_TYPE_UINT16,
                          a.K / 128, a.N, int64_t(a.N) * 2, 1, 128,
                          CU_TENSOR_MAP_SWIZZLE_NONE);
  }
  static cudaError_t prepare() {
    static const cudaError_t status = cudaFuncSetAttribute(
        gemmW4A8Sm90Kernel<Cfg, Epi>,
        cudaFuncAttributeMaxDynamicSharedMemorySize, Cfg::kSmemBytes);
    return status;
  }
  static cudaError_t run(const W4A8Sm90Plan &plan, cudaStream_t stream) {
    if (cudaError_t e = prepare(); e != cudaSuccess)
      return e;
    const int tiles = ceilDiv(plan.args.M, Cfg::kTokens) *
                      ceilDiv(plan.args.N, Cfg::kWeightRows);
    gemmW4A8Sm90Kernel<Cfg, Epi>
        <<<tiles, Cfg::kThreads, Cfg::kSmemBytes, stream>>>(
            plan.mapX, plan.mapW, plan.mapG, plan.args);
    return cudaGetLastError();
  }
  static cudaError_t run(const W4A8Args &a, cudaStream_t stream) {
    W4A8Sm90Plan plan;
    if (cudaError_t e = makePlan(a, plan); e != cudaSuccess)
      return e;
    return run(plan, stream);
  }
};

} // namespace kiln::cuda

#endif // KILN_RUNTIME_CUDA_INCLUDE_KILN_CUDA_GEMMW4A8SM90_CUH
