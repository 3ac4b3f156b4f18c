//===- GemmW4A4.cuh - SVDQuant W4A4 GEMM with a fused low-rank branch -*- CUDA -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// SVDQuant's layer (Nunchaku's engine design): Y = Q(X) Q(R)^T + (X L2^T) L1^T
// with 4-bit symmetric activations and residual weights (int4 -7..7, one
// float32 scale per group of 64 along K: kiln::quant::quantizeGroupInt4
// with Int4Kind::Symmetric) and a 16-bit low-rank branch of rank r.
//
// Two kernels, the low-rank branch fused into both:
//
// 1. w4a4Quantize: reads X (fp16, already smoothed) once and writes the
//    packed int4 codes [M][K / 2], the group scales [K / 64][ldScale] and,
//    when kRank > 0, the down-projection T = X L2^T [M, r] (fp16; mma.sync
//    f16 on the same shared-memory tile of X), so X is never re-read.
//    Scale per group: max|x| / 7 (1 for a zero group), codes
//    clamp(round(x / scale), -7, 7): bit-exact with kiln::quant.
// 2. GemmW4A4: the 4-bit main loop, then the up-projection T L1^T of the
//    CTA's output tile (mma.sync f16 over K = r, from the same shared
//    memory) added in registers before the epilogue, so the low-rank output
//    never travels through memory either.
//
// Main loop semantics (exact; Reference.h emulates it bit for bit): for
// each output, y = 0, then for every group g of 64 in ascending order
//   acc_g = sum_{k in g} qa[m, k] * qw[n, k]      (int32, exact)
//   y     = fma(float(acc_g), sa[m, g] * sw[n, g], y)
// then y += lowrank[m, n] (float32) and the Epilogue's float stages.
//
// Tensor-core paths (template kInt4Mma):
// - sm_80 (A100) has int4 tensor cores: mma.sync.m16n8k64.s4, one
//   instruction per group of 64. The packed row-major nibble layout is
//   already its fragment layout (same bytes as an int8 m16n8k32).
// - sm_90 (H100/H200) has no int4 tensor cores (the s4 mma still compiles
//   for sm_90 but is not a tensor-core instruction there). There the kernel
//   sign-extends the nibbles to int8 in registers (three ALU ops per 8
//   values) and issues two mma.sync.m16n8k32.s8 per group: the products
//   are a permutation of the same k, which a dot product does not notice
//   (even nibbles pair with even nibbles of the same lane on both sides).
//   4-bit storage still halves the weight and activation traffic of W8A8;
//   the arithmetic runs at the int8 rate. (A wgmma version of this path,
//   s8 or e4m3 -- every int4 value is exact in E4M3 -- is the next step.)
//
// Unfused comparison (the benchmark's baseline): w4a4Quantize<0>, then
// GemmFp16Sm80 for T = X L2^T, GemmW4A4<0> writing Y, and GemmFp16Sm80 for
// T L1^T with Y as fp16 residual: two more kernels, X read twice and Y
// written and read once more.
//
// Requirements: K % 64 == 0; packed rows (lda, ldb bytes) multiples of 16;
// scale strides multiples of 4 floats (Packing.h: w4a4ScaleStride); rank r
// in {16, 32, 64, 128}.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_RUNTIME_CUDA_INCLUDE_KILN_CUDA_GEMMW4A4_CUH
#define KILN_RUNTIME_CUDA_INCLUDE_KILN_CUDA_GEMMW4A4_CUH

#include "kiln/cuda/GemmSm80.cuh"
#include "kiln/cuda/Packing.h"

namespace kiln::cuda {

//===----------------------------------------------------------------------===//
// Activation quantization (+ fused down-projection)
//===----------------------------------------------------------------------===//

/// Operands of w4a4Quantize.
struct W4A4QuantArgs {
  int M = 0;
  int K = 0;
  /// X [M, ldx] fp16 (smoothed activations), 16-byte aligned rows.
  const uint16_t *x = nullptr;
  int64_t ldx = 0;
  /// Packed codes [M, ldq bytes] and scales [K / 64, ldScale].
  uint8_t *codes = nullptr;
  int64_t ldq = 0;
  float *scales = nullptr;
  int64_t ldScale = 0;
  /// Down-projection L2 [r, ldl2] fp16 and its output T [M, ldt] fp16
  /// (kRank > 0 only).
  const uint16_t *l2 = nullptr;
  int64_t ldl2 = 0;
  uint16_t *t = nullptr;
  int64_t ldt = 0;
};

/// 128 threads per 16 rows; K in chunks of 64 (one group), double
/// buffered.
template <int kRank>
__global__ void __launch_bounds__(128) w4a4QuantizeKernel(W4A4QuantArgs a) {
#if defined(KILN_SM80)
  constexpr int kXBytes = 16 * 128;
  constexpr int kLBytes = kRank * 128;
  constexpr int kStage = kXBytes + kLBytes;
  constexpr int kTiles = kRank / 8;
  constexpr int kTilesPerWarp = kTiles > 0 ? (kTiles + 3) / 4 : 1;
  extern __shared__ __align__(128) unsigned char smem[];
  const uint32_t base = ptx::smemAddr(smem);
  const int tid = threadIdx.x;
  const int lane = tid & 31;
  const int warp = tid >> 5;
  const int m0 = blockIdx.x * 16;
  const int chunks = a.K / 64;

  auto load = [&](int stage, int kc) {
    const uint32_t s = base + stage * kStage;
    {
      const int r = tid >> 3, c = tid & 7;
      const bool ok = m0 + r < a.M;
      const uint16_t *src =
          ok ? a.x + int64_t(m0 + r) * a.ldx + kc * 64 + c * 8 : a.x;
      ptx::cpAsync16(s + swizzleOffset<128>(r, c), src, ok ? 16 : 0);
    }
    if constexpr (kRank > 0) {
      for (int i = tid; i < kRank * 8; i += 128) {
        const int r = i >> 3, c = i & 7;
        ptx::cpAsync16(s + kXBytes + swizzleOffset<128>(r, c),
                       a.l2 + int64_t(r) * a.ldl2 + kc * 64 + c * 8, 16);
      }
    }
  };

  float acc[kTilesPerWarp][4];
#pragma unroll
  for (int i = 0; i < kTilesPerWarp; ++i)
#pragma unroll
    for (int r = 0; r < 4; ++r)
      acc[i][r] = 0.0f;

  load(0, 0);
  ptx::cpAsyncCommit();
  for (int kc = 0; kc < chunks; ++kc) {
    ptx::cpAsyncWait<0>();
    __syncthreads();
    if (kc + 1 < chunks)
      load((kc + 1) & 1, kc + 1);
    ptx::cpAsyncCommit();
    const int stage = kc & 1;
    const unsigned char *sx = smem + stage * kStage;

    // Quantize: thread = (row tid / 8, values 8 (tid % 8) .. + 7).
    {
      const int r = tid >> 3, c = tid & 7;
      const uint4 v = *reinterpret_cast<const uint4 *>(
          sx + swizzleOffset<128>(r, c));
      const uint32_t words[4] = {v.x, v.y, v.z, v.w};
      float x[8];
      float amax = 0.0f;
#pragma unroll
      for (int i = 0; i < 8; ++i) {
        x[i] = halfBitsToFloat(uint16_t(words[i / 2] >> (16 * (i % 2))));
        amax = fmaxf(amax, fabsf(x[i]));
      }
      amax = fmaxf(amax, __shfl_xor_sync(0xffffffffu, amax, 1));
      amax = fmaxf(amax, __shfl_xor_sync(0xffffffffu, amax, 2));
      amax = fmaxf(amax, __shfl_xor_sync(0xffffffffu, amax, 4));
      float scale = fdivRn(amax, 7.0f);
      if (scale == 0.0f)
        scale = 1.0f;
      uint32_t packed = 0;
#pragma unroll
      for (int i = 0; i < 8; ++i)
        packed |= (uint32_t(quantizeToInt(x[i], scale, 0, -7, 7)) & 0xfu)
                  << (4 * i);
      if (m0 + r < a.M) {
        *reinterpret_cast<uint32_t *>(a.codes + int64_t(m0 + r) * a.ldq +
                                      kc * 32 + c * 4) = packed;
        if (c == 0)
          a.scales[int64_t(kc) * a.ldScale + m0 + r] = scale;
      }
    }

    // Down-projection T += X_chunk L2_chunk^T (mma.sync f16).
    if constexpr (kRank > 0) {
      const uint32_t s = base + stage * kStage;
#pragma unroll
      for (int ks = 0; ks < 4; ++ks) {
        uint32_t af[4];
        ptx::ldmatrixX4(s + swizzleOffset<128>(lane & 15, ks * 2 + (lane >> 4)),
                        af[0], af[1], af[2], af[3]);
#pragma unroll
        for (int i = 0; i < kTilesPerWarp; ++i) {
          const int tile = warp + 4 * i;
          if (tile < kTiles) {
            uint32_t bf[2];
            ptx::ldmatrixX2(s + kXBytes +
                                swizzleOffset<128>(tile * 8 + (lane & 7),
                                                   ks * 2 + ((lane >> 3) & 1)),
                            bf[0], bf[1]);
            ptx::mmaF16(acc[i], af, bf);
          }
        }
      }
    }
  }
  ptx::cpAsyncWait<0>();

  if constexpr (kRank > 0) {
    const int g = lane >> 2, t = lane & 3;
#pragma unroll
    for (int i = 0; i < kTilesPerWarp; ++i) {
      const int tile = warp + 4 * i;
      if (tile >= kTiles)
        continue;
#pragma unroll
      for (int h = 0; h < 2; ++h) {
        const int m = m0 + g + 8 * h;
        if (m < a.M)
          *reinterpret_cast<uint32_t *>(a.t + int64_t(m) * a.ldt + tile * 8 +
                                        2 * t) =
              ptx::packHalf2(acc[i][2 * h], acc[i][2 * h + 1]);
      }
    }
  }
#endif
}

/// Launches the quantizer (kRank = 0: no down-projection).
template <int kRank> struct W4A4Quantize {
  static_assert(kRank == 0 || kRank == 16 || kRank == 32 || kRank == 64 ||
                    kRank == 128,
                "rank 16, 32, 64 or 128");
  static constexpr int kSmemBytes = 2 * (16 * 128 + kRank * 128);
  static cudaError_t run(const W4A4QuantArgs &a, cudaStream_t stream) {
    const auto aligned = [](const void *p) {
      return (reinterpret_cast<uintptr_t>(p) & 15u) == 0;
    };
    if (a.M <= 0 || a.K <= 0 || a.K % 64 != 0 || !aligned(a.x) ||
        a.ldx % 8 != 0 || !a.codes || a.ldq % 16 != 0 || !a.scales ||
        (kRank > 0 && (!aligned(a.l2) || a.ldl2 % 8 != 0 || !a.t ||
                       a.ldt % 2 != 0)))
      return cudaErrorInvalidValue;
    if constexpr (kSmemBytes > 48 * 1024) {
      static const cudaError_t status = cudaFuncSetAttribute(
          w4a4QuantizeKernel<kRank>,
          cudaFuncAttributeMaxDynamicSharedMemorySize, kSmemBytes);
      if (status != cudaSuccess)
        return status;
    }
    w4a4QuantizeKernel<kRank>
        <<<unsigned(ceilDiv(a.M, 16)), 128, kSmemBytes, stream>>>(a);
    return cudaGetLastError();
  }
};

//===----------------------------------------------------------------------===//
// GEMM
//===----------------------------------------------------------------------===//

/// Operands of a W4A4 GEMM. Byte strides for packed codes, float strides
/// for scales, element strides for fp16.
struct W4A4Args {
  int M = 0;
  int N = 0;
  int K = 0;
  const uint8_t *A = nullptr;
  int64_t lda = 0;
  const float *aScale = nullptr;
  int64_t ldaScale = 0;
  const uint8_t *B = nullptr;
  int64_t ldb = 0;
  const float *bScale = nullptr;
  int64_t ldbScale = 0;
  /// Low-rank branch (kRank > 0): T [M, ldt] and L1 [N, ldl1], fp16.
  const uint16_t *lowRankAct = nullptr;
  int64_t ldt = 0;
  const uint16_t *lowRankUp = nullptr;
  int64_t ldl1 = 0;
  /// Float output stages (use a float OutKind; |scale| 1).
  EpilogueParams epi;
};

/// Shared memory of a W4A4 tile (BKB = 64 bytes: two groups per stage).
template <class Cfg, int kRank> struct W4A4Smem {
  static_assert(Cfg::kBKB == 64, "a W4A4 stage holds two groups of 64");
  static constexpr int kABytes = Cfg::kBM * 64;
  static constexpr int kBBytes = Cfg::kBN * 64;
  static constexpr int kSaBytes = 2 * Cfg::kBM * 4;
  static constexpr int kSwBytes = 2 * Cfg::kBN * 4;
  static constexpr int kStageBytes = kABytes + kBBytes + kSaBytes + kSwBytes;
  static constexpr int kPipeBytes = Cfg::kStages * kStageBytes;
  static constexpr int kLowRankBytes = (Cfg::kBM + Cfg::kBN) * kRank * 2;
  static constexpr int kBytes =
      kPipeBytes > kLowRankBytes ? kPipeBytes : kLowRankBytes;
};

namespace detail {

/// Copies |rows| (valid: |valid|) rows of kRowBytes from |src| (stride
/// |ld| bytes) into a swizzled tile at |dst|, zero-filling the rest.
template <int kRowBytes, int kThreads>
KILN_DEVICE void loadTileRows(uint32_t dst, const unsigned char *src,
                              int64_t ld, int rows, int valid) {
  constexpr int kChunks = kRowBytes / 16;
  for (int c = threadIdx.x; c < rows * kChunks; c += kThreads) {
    const int r = c / kChunks, ch = c % kChunks;
    const bool ok = r < valid;
    ptx::cpAsync16(dst + swizzleOffset<kRowBytes>(r, ch),
                   ok ? src + r * ld + ch * 16 : src, ok ? 16 : 0);
  }
}

/// One group's int32 product of an A fragment (16 x 64 int4) and a B
/// fragment (64 x 8 int4).
template <bool kInt4Mma>
KILN_DEVICE void groupProduct(int32_t (&d)[4], const uint32_t (&a)[4],
                              const uint32_t (&b)[2]) {
  if constexpr (kInt4Mma) {
    ptx::mmaS4(d, a, b);
  } else {
    uint32_t a0[4], b0[2], a1[4], b1[2];
    s4FragmentsToS8(a, b, a0, b0, a1, b1);
    ptx::mmaS8(d, a0, b0);
    ptx::mmaS8(d, a1, b1);
  }
}

} // namespace detail

template <class Cfg, int kRank, bool kInt4Mma, class Epi>
__global__ void __launch_bounds__(Cfg::kThreads)
    gemmW4A4Kernel(W4A4Args args) {
#if defined(KILN_SM80)
  using Smem = W4A4Smem<Cfg, kRank>;
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
  const int g = lane >> 2;
  const int t = lane & 3;
  const int tilesM = ceilDiv(args.M, Cfg::kBM);
  const int tilesN = ceilDiv(args.N, Cfg::kBN);
  int tm, tn;
  detail::rasterize(blockIdx.x, tilesM, tilesN, tm, tn);
  const int m0 = tm * Cfg::kBM;
  const int n0 = tn * Cfg::kBN;
  const int kBytes = args.K / 2;
  const int kTiles = ceilDiv(kBytes, 64);
  const int groups = args.K / 64;

  detail::RowMajorTileLoader<Cfg, Cfg::kBM> aLoader(args.A, args.lda, args.M,
                                                   m0, kBytes, tid);
  detail::RowMajorTileLoader<Cfg, Cfg::kBN> bLoader(args.B, args.ldb, args.N,
                                                   n0, kBytes, tid);
  // The stage's two rows of group scales for A (BM) and B (BN) columns.
  auto loadScales = [&](uint32_t stage, int kt) {
    constexpr int kAChunks = 2 * Cfg::kBM / 4;
    constexpr int kBChunks = 2 * Cfg::kBN / 4;
    for (int c = tid; c < kAChunks + kBChunks; c += Cfg::kThreads) {
      const bool isA = c < kAChunks;
      const int cc = isA ? c : c - kAChunks;
      const int rowsPerGroup = isA ? Cfg::kBM : Cfg::kBN;
      const int gs = cc / (rowsPerGroup / 4);
      const int col = (cc % (rowsPerGroup / 4)) * 4;
      const int grp = kt * 2 + gs;
      const int first = (isA ? m0 : n0) + col;
      const int limit = isA ? args.M : args.N;
      int bytes = (limit - first) * 4;
      bytes = grp < groups ? (bytes < 0 ? 0 : (bytes > 16 ? 16 : bytes)) : 0;
      const float *src = isA ? args.aScale + int64_t(grp) * args.ldaScale + first
                             : args.bScale + int64_t(grp) * args.ldbScale + first;
      const uint32_t dst = stage + Smem::kABytes + Smem::kBBytes +
                           (isA ? 0 : Smem::kSaBytes) +
                           (gs * rowsPerGroup + col) * 4;
      ptx::cpAsync16(dst, bytes > 0 ? src : (isA ? args.aScale : args.bScale),
                     bytes);
    }
  };

#pragma unroll
  for (int s = 0; s < kStages - 1; ++s) {
    if (s < kTiles) {
      const uint32_t stage = smemBase + s * Smem::kStageBytes;
      aLoader.load(stage, s);
      bLoader.load(stage + Smem::kABytes, s);
      loadScales(stage, s);
    }
    ptx::cpAsyncCommit();
  }

  float y[kMI][kNI][4];
#pragma unroll
  for (int i = 0; i < kMI; ++i)
#pragma unroll
    for (int j = 0; j < kNI; ++j)
#pragma unroll
      for (int r = 0; r < 4; ++r)
        y[i][j][r] = 0.0f;

  const int aRow = warpM * Cfg::kWarpM + (lane & 15);
  const int aChunk = lane >> 4;
  const int bRow = warpN * Cfg::kWarpN + (lane & 7) + ((lane >> 4) << 3);
  const int bChunk = (lane >> 3) & 1;

  for (int kt = 0; kt < kTiles; ++kt) {
    ptx::cpAsyncWait<kStages - 2>();
    __syncthreads();
    const int next = kt + kStages - 1;
    if (next < kTiles) {
      const uint32_t stage = smemBase + (next % kStages) * Smem::kStageBytes;
      aLoader.load(stage, next);
      bLoader.load(stage + Smem::kABytes, next);
      loadScales(stage, next);
    }
    ptx::cpAsyncCommit();

    const int slot = kt % kStages;
    const uint32_t aTile = smemBase + slot * Smem::kStageBytes;
    const uint32_t bTile = aTile + Smem::kABytes;
    const float *sa = reinterpret_cast<const float *>(
        smem + slot * Smem::kStageBytes + Smem::kABytes + Smem::kBBytes);
    const float *sw = sa + 2 * Cfg::kBM;
#pragma unroll
    for (int gs = 0; gs < 2; ++gs) {
      if (kt * 2 + gs >= groups)
        break;
      uint32_t af[kMI][4];
      uint32_t bf[kNI][2];
#pragma unroll
      for (int i = 0; i < kMI; ++i)
        ptx::ldmatrixX4(aTile + swizzleOffset<64>(aRow + i * 16, gs * 2 + aChunk),
                        af[i][0], af[i][1], af[i][2], af[i][3]);
#pragma unroll
      for (int j = 0; j < kNI / 2; ++j)
        ptx::ldmatrixX4(bTile + swizzleOffset<64>(bRow + j * 16, gs * 2 + bChunk),
                        bf[2 * j][0], bf[2 * j][1], bf[2 * j + 1][0],
                        bf[2 * j + 1][1]);
      float rowScale[kMI][2], colScale[kNI][2];
#pragma unroll
      for (int i = 0; i < kMI; ++i)
#pragma unroll
        for (int h = 0; h < 2; ++h)
          rowScale[i][h] =
              sa[gs * Cfg::kBM + warpM * Cfg::kWarpM + i * 16 + g + 8 * h];
#pragma unroll
      for (int j = 0; j < kNI; ++j)
#pragma unroll
        for (int c = 0; c < 2; ++c)
          colScale[j][c] =
              sw[gs * Cfg::kBN + warpN * Cfg::kWarpN + j * 8 + 2 * t + c];
#pragma unroll
      for (int i = 0; i < kMI; ++i)
#pragma unroll
        for (int j = 0; j < kNI; ++j) {
          int32_t d[4] = {0, 0, 0, 0};
          detail::groupProduct<kInt4Mma>(d, af[i], bf[j]);
#pragma unroll
          for (int r = 0; r < 4; ++r)
            // |d| <= 64 * 8 * 8: the exact two-instruction conversion.
            y[i][j][r] = fmaRn(smallIntToFloat(d[r]),
                               fmulRn(rowScale[i][r >> 1], colScale[j][r & 1]),
                               y[i][j][r]);
        }
    }
  }
  ptx::cpAsyncWait<0>();

  if constexpr (kRank > 0) {
    // Up-projection of this tile: lowrank = T[m0:, :r] L1[n0:, :r]^T, from
    // shared memory that the main loop no longer needs.
    constexpr int kRowBytes = kRank * 2;
    __syncthreads();
    const uint32_t tTile = smemBase;
    const uint32_t lTile = smemBase + Cfg::kBM * kRowBytes;
    detail::loadTileRows<kRowBytes, Cfg::kThreads>(
        tTile,
        reinterpret_cast<const unsigned char *>(args.lowRankAct + int64_t(m0) * args.ldt),
        args.ldt * 2, Cfg::kBM, args.M - m0);
    detail::loadTileRows<kRowBytes, Cfg::kThreads>(
        lTile,
        reinterpret_cast<const unsigned char *>(args.lowRankUp + int64_t(n0) * args.ldl1),
        args.ldl1 * 2, Cfg::kBN, args.N - n0);
    ptx::cpAsyncCommit();
    ptx::cpAsyncWait<0>();
    __syncthreads();
    float lr[kMI][kNI][4];
#pragma unroll
    for (int i = 0; i < kMI; ++i)
#pragma unroll
      for (int j = 0; j < kNI; ++j)
#pragma unroll
        for (int r = 0; r < 4; ++r)
          lr[i][j][r] = 0.0f;
#pragma unroll
    for (int ks = 0; ks < kRank / 16; ++ks) {
      uint32_t af[kMI][4];
      uint32_t bf[kNI][2];
#pragma unroll
      for (int i = 0; i < kMI; ++i)
        ptx::ldmatrixX4(
            tTile + swizzleOffset<kRowBytes>(aRow + i * 16, ks * 2 + aChunk),
            af[i][0], af[i][1], af[i][2], af[i][3]);
#pragma unroll
      for (int j = 0; j < kNI / 2; ++j)
        ptx::ldmatrixX4(
            lTile + swizzleOffset<kRowBytes>(bRow + j * 16, ks * 2 + bChunk),
            bf[2 * j][0], bf[2 * j][1], bf[2 * j + 1][0], bf[2 * j + 1][1]);
#pragma unroll
      for (int i = 0; i < kMI; ++i)
#pragma unroll
        for (int j = 0; j < kNI; ++j)
          ptx::mmaF16(lr[i][j], af[i], bf[j]);
    }
#pragma unroll
    for (int i = 0; i < kMI; ++i)
#pragma unroll
      for (int j = 0; j < kNI; ++j)
#pragma unroll
        for (int r = 0; r < 4; ++r)
          y[i][j][r] = faddRn(y[i][j][r], lr[i][j][r]);
  }

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
        if (n < args.N)
          Epi::apply2(args.epi, m, n, args.N, y[i][j][2 * h],
                      y[i][j][2 * h + 1]);
      }
    }
#endif
}

/// W4A4 GEMM launcher: tile Cfg (BKB = 64), low-rank rank kRank (0: none),
/// int4 tensor cores (sm_80) or in-register int8 (sm_90), float Epi.
template <class Cfg, int kRank, bool kInt4Mma, class Epi> struct GemmW4A4 {
  using Smem = W4A4Smem<Cfg, kRank>;
  static_assert(kRank == 0 || kRank == 16 || kRank == 32 || kRank == 64 ||
                    kRank == 128,
                "rank 16, 32, 64 or 128");
  static cudaError_t prepare() {
    static const cudaError_t status = cudaFuncSetAttribute(
        gemmW4A4Kernel<Cfg, kRank, kInt4Mma, Epi>,
        cudaFuncAttributeMaxDynamicSharedMemorySize, Smem::kBytes);
    return status;
  }
  static cudaError_t run(const W4A4Args &a, cudaStream_t stream) {
    const auto aligned = [](const void *p) {
      return (reinterpret_cast<uintptr_t>(p) & 15u) == 0;
    };
    if (a.M <= 0 || a.N <= 0 || a.K <= 0 || a.K % 64 != 0 ||
        !aligned(a.A) || !aligned(a.B) || a.lda % 16 != 0 ||
        a.ldb % 16 != 0 || a.lda * 2 < a.K || a.ldb * 2 < a.K ||
        !aligned(a.aScale) || !aligned(a.bScale) || a.ldaScale % 4 != 0 ||
        a.ldbScale % 4 != 0 || !a.epi.out ||
        (kRank > 0 && (!aligned(a.lowRankAct) || !aligned(a.lowRankUp) ||
                       a.ldt % 8 != 0 || a.ldl1 % 8 != 0)))
      return cudaErrorInvalidValue;
    if (cudaError_t e = prepare(); e != cudaSuccess)
      return e;
    const int tiles = ceilDiv(a.M, Cfg::kBM) * ceilDiv(a.N, Cfg::kBN);
    gemmW4A4Kernel<Cfg, kRank, kInt4Mma, Epi>
        <<<tiles, Cfg::kThreads, Smem::kBytes, stream>>>(a);
    return cudaGetLastError();
  }
};

/// 128 x 128, 8 warps of 64 x 32, 128 int4 of K per stage, 4 stages.
using TileW4A4 = TileConfig<128, 128, 64, 2, 4, 4>;

} // namespace kiln::cuda

#endif // KILN_RUNTIME_CUDA_INCLUDE_KILN_CUDA_GEMMW4A4_CUH
