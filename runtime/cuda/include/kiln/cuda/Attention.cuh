//===- Attention.cuh - Fused attention, one pass over K/V -------*- CUDA -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// O = softmax(scale * Q K^T + mask) V for fp16 Q, K, V, O, float32
// statistics, head_dim 64 or 128, causal or not, grouped-query attention
// (kvHeads divides heads), arbitrary strides (BHSD or BSHD layouts).
//
// Algorithm (FlashAttention-2 style, mma.sync, sm_80 and newer): a CTA
// takes kBlockM query rows of one (batch, head); each warp owns 16 rows
// and keeps their Q fragments, running maximum m, partial sum l and output
// accumulator O in registers. The CTA then walks the K/V blocks that the
// Schedule policy lists (the explicit block loop):
//
//   for each listed K/V block j:
//     S = Q K_j^T                       (mma m16n8k16, K_j via ldmatrix)
//     mask S where needed (sequence end, causal diagonal)
//     m' = max(m, rowmax(S));  P = exp2(S log2e scale - m')
//     l = l exp2(m - m') + rowsum(P);  O = O exp2(m - m')
//     O += P V_j                        (P reused from the S accumulators as
//                                        fp16 A fragments; V_j via
//                                        ldmatrix.trans)
//   O /= l
//
// K_j and V_j travel by cp.async in separate groups into a two-deep ring, so
// block j + 1 loads while block j is computed. Rows of a query with no
// visible key (possible with causal masks when seqQ > seqK) produce zeros.
//
// Extension points:
// - Schedule (DenseSchedule, BlockSparseSchedule) decides which K/V blocks a
//   query block visits and which need element masks: block-sparse
//   attention (static block masks from the sparsity passes, CSR per head
//   and query block) is one policy; others (sliding window, LServe
//   streaming heads) are new policies.
// - The K/V tile load is one function (loadKv), chosen by the KvFormat of
//   the configuration. KvFormat::kFp16 copies fp16 rows by cp.async;
//   KvFormat::kInt4Asym (KV4) reads 4-bit codes with per-token scales and
//   zero points and dequantizes into the same swizzled fp16 tiles, so the
//   block loop, the MMAs and the softmax are shared.
//
// KV4 format (KvFormat::kInt4Asym) -- exactly the compiler's
// `kiln-quantize-lowbit --kv-bits 4` (passes/quant/LowBit.cpp inserts
// kiln.fake_quant "int4-asym" on K^T along D and on V along D with
// group_size = head_dim; the evaluator runs kiln::quant::fakeQuantGroupInt4,
// compiler/quant/GroupInt4.h):
// - granularity: one group per (batch, kv head, token), the head_dim values
//   of that token's key (or value) row; K and V quantized separately.
// - asymmetric uint4 codes 0..15 with a float32 scale and an integer zero
//   point 0..15 per group: lo = min(0, min x), hi = max(0, max x);
//   scale = float((double(hi) - double(lo)) / 15), 1 if that is 0;
//   zero = clamp(round(-lo / scale), 0, 15);
//   q = clamp(round(x / scale) + zero, 0, 15), round() half away from zero,
//   x / scale one float32 division; dequantized x' = float(q - zero) * scale
//   (one float32 product). The zero point is already an integer, so the
//   compiler's format is consumed as is.
// - memory (packKv4 of Packing.h): codes two per byte, element 2i in the
//   low nibble (Kiln's nibble order), a row of head_dim / 2 bytes; a 16-byte
//   load gives 32 codes = four 16-byte fp16 chunks of the tile. The row
//   addressing reuses kBatchStride / kHeadStride / kRowStride (and the v
//   ones), in BYTES, on k4 / v4. Scales (float32) and zeros (uint8) are
//   dense [batch][kvHeads][seqK].
// - the one difference from the evaluator: the kernel rounds x' to fp16
//   (round to nearest even) when it writes the shared tile, since the
//   tensor cores take fp16 (relative error <= 2^-11 on x'; the GPU test's
//   reference applies the same rounding).
// - the KV4 loader is synchronous (16-byte global loads, dequantize in
//   registers, st.shared): the next block's load is no longer overlapped by
//   cp.async. The K/V bytes read are ~3.6x fewer than fp16 (head_dim 128).
//
// Causal masks are aligned to the bottom right: query i sees key j iff
// j <= i + (seqK - seqQ) (the convention of FlashAttention >= 2.1 and of
// decoding with a KV cache).
//
//===----------------------------------------------------------------------===//

#ifndef KILN_RUNTIME_CUDA_INCLUDE_KILN_CUDA_ATTENTION_CUH
#define KILN_RUNTIME_CUDA_INCLUDE_KILN_CUDA_ATTENTION_CUH

#include "kiln/cuda/Numeric.h"
#include "kiln/cuda/Packing.h"
#include "kiln/cuda/Ptx.cuh"
#include "kiln/cuda/Tile.h"

#include <cuda_runtime.h>

#include <cstdint>

namespace kiln::cuda {

/// Operands of a fused attention. Strides are in elements.
struct AttentionArgs {
  int batch = 1;
  int heads = 1;
  /// Number of K/V heads; heads / kvHeads query heads share one.
  int kvHeads = 1;
  int seqQ = 0;
  int seqK = 0;
  const uint16_t *q = nullptr;
  int64_t qBatchStride = 0, qHeadStride = 0, qRowStride = 0;
  const uint16_t *k = nullptr;
  int64_t kBatchStride = 0, kHeadStride = 0, kRowStride = 0;
  const uint16_t *v = nullptr;
  int64_t vBatchStride = 0, vHeadStride = 0, vRowStride = 0;
  uint16_t *o = nullptr;
  int64_t oBatchStride = 0, oHeadStride = 0, oRowStride = 0;
  /// Softmax scale (usually 1 / sqrt(head_dim)).
  float scale = 1.0f;
  /// BlockSparseSchedule: for head h and query block qb, the K/V blocks
  /// blockCols[blockRowPtr[h * numQBlocks + qb] .. blockRowPtr[... + 1]),
  /// ascending, in units of the kernel's kBlockN.
  const int32_t *blockRowPtr = nullptr;
  const int32_t *blockCols = nullptr;
  /// KvFormat::kInt4Asym only: packed codes (k / v unused; rows addressed by
  /// the k / v strides in bytes), float32 scales and uint8 zero points,
  /// dense [batch][kvHeads][seqK].
  const uint8_t *k4 = nullptr;
  const uint8_t *v4 = nullptr;
  const float *kScale = nullptr;
  const float *vScale = nullptr;
  const uint8_t *kZero = nullptr;
  const uint8_t *vZero = nullptr;
};

/// Visits every K/V block (up to the causal diagonal when causal).
struct DenseSchedule {
  int first = 0;
  int last = 0; // exclusive
  KILN_DEVICE DenseSchedule(const AttentionArgs &a, int blockM, int blockN,
                            int qBlock, int, bool causal) {
    const int numKv = ceilDiv(a.seqK, blockN);
    last = numKv;
    if (causal) {
      const int lastRow = min((qBlock + 1) * blockM, a.seqQ) - 1;
      const int maxCol = lastRow + (a.seqK - a.seqQ);
      last = maxCol < 0 ? 0 : min(numKv, maxCol / blockN + 1);
    }
  }
  KILN_DEVICE int count() const { return last - first; }
  KILN_DEVICE int block(int i) const { return first + i; }
};

/// Visits the K/V blocks listed in the CSR block mask of AttentionArgs.
struct BlockSparseSchedule {
  const int32_t *cols = nullptr;
  int n = 0;
  KILN_DEVICE BlockSparseSchedule(const AttentionArgs &a, int blockM, int,
                                  int qBlock, int head, bool) {
    const int numQBlocks = ceilDiv(a.seqQ, blockM);
    const int begin = a.blockRowPtr[head * numQBlocks + qBlock];
    cols = a.blockCols + begin;
    n = a.blockRowPtr[head * numQBlocks + qBlock + 1] - begin;
  }
  KILN_DEVICE int count() const { return n; }
  KILN_DEVICE int block(int i) const { return cols[i]; }
};

/// Storage of K and V in global memory (see the file comment).
enum class KvFormat {
  kFp16,
  /// KV4: asymmetric uint4 per token, float32 scale, uint8 zero point.
  kInt4Asym,
};

/// Compile-time shape of an attention kernel.
template <int HEAD_DIM, int BLOCK_M, int BLOCK_N, bool CAUSAL,
          class SCHEDULE = DenseSchedule, KvFormat KV = KvFormat::kFp16>
struct AttentionConfig {
  static constexpr KvFormat kKv = KV;
  static constexpr int kHeadDim = HEAD_DIM;
  static constexpr int kBlockM = BLOCK_M;
  static constexpr int kBlockN = BLOCK_N;
  static constexpr bool kCausal = CAUSAL;
  using Schedule = SCHEDULE;
  static constexpr int kWarps = BLOCK_M / 16;
  static constexpr int kThreads = kWarps * 32;
  static constexpr int kRowBytes = HEAD_DIM * 2;
  static constexpr int kQBytes = BLOCK_M * kRowBytes;
  static constexpr int kKvBytes = BLOCK_N * kRowBytes;
  /// Q tile, then K[2], then V[2].
  static constexpr int kSmemBytes = kQBytes + 4 * kKvBytes;
  static_assert(HEAD_DIM == 64 || HEAD_DIM == 128, "head_dim 64 or 128");
  static_assert(BLOCK_M % 16 == 0 && BLOCK_N % 16 == 0, "16-row blocks");
};

namespace detail {

/// Copies |rows| x kHeadDim fp16 (rows past |valid| zero-filled) into a
/// swizzled tile.
template <class Cfg, int kRows>
KILN_DEVICE void loadRows(uint32_t tile, const uint16_t *src, int64_t rowStride,
                          int valid) {
  constexpr int kChunksPerRow = Cfg::kRowBytes / 16;
  constexpr int kChunks = kRows * kChunksPerRow;
  for (int c = threadIdx.x; c < kChunks; c += Cfg::kThreads) {
    const int r = c / kChunksPerRow;
    const int ch = c % kChunksPerRow;
    const bool ok = r < valid;
    const uint16_t *p = ok ? src + int64_t(r) * rowStride + ch * 8 : src;
    ptx::cpAsync16(tile + swizzleOffset<Cfg::kRowBytes>(r, ch), p, ok ? 16 : 0);
  }
}

/// KV4: dequantizes |rows| x kHeadDim uint4 codes (rows of kHeadDim / 2
/// bytes, |rowStride| bytes apart; per-row float32 |scale| and uint8 |zero|)
/// into a swizzled fp16 tile, rows past |valid| zero. One 16-byte load
/// (32 codes) per work item, written as four 16-byte fp16 chunks.
template <class Cfg, int kRows>
KILN_DEVICE void loadRowsInt4(uint32_t tile, const uint8_t *src,
                              int64_t rowStride, const float *scale,
                              const uint8_t *zero, int valid) {
  constexpr int kLoadsPerRow = Cfg::kHeadDim / 32;
  constexpr int kItems = kRows * kLoadsPerRow;
  for (int c = threadIdx.x; c < kItems; c += Cfg::kThreads) {
    const int r = c / kLoadsPerRow;
    const int piece = c % kLoadsPerRow;
    uint4 w = make_uint4(0u, 0u, 0u, 0u);
    float s = 0.0f;
    int z = 0;
    const bool ok = r < valid;
    if (ok) {
      w = *reinterpret_cast<const uint4 *>(src + int64_t(r) * rowStride +
                                           piece * 16);
      s = scale[r];
      z = zero[r];
    }
    const uint32_t words[4] = {w.x, w.y, w.z, w.w};
#pragma unroll
    for (int i = 0; i < 4; ++i) {
      float x[8];
      kv4DecodeWord(words[i], z, s, x);
      uint32_t h[4];
#pragma unroll
      for (int e = 0; e < 4; ++e)
        h[e] = ok ? ptx::packHalf2(x[2 * e], x[2 * e + 1]) : 0u;
      ptx::stShared128(tile + swizzleOffset<Cfg::kRowBytes>(r, piece * 4 + i),
                       h[0], h[1], h[2], h[3]);
    }
  }
}

} // namespace detail

/// The attention kernel; grid (ceil(seqQ / kBlockM), heads, batch).
template <class Cfg>
__global__ void __launch_bounds__(Cfg::kThreads)
    attentionSm80Kernel(AttentionArgs a) {
#if defined(KILN_SM80)
  constexpr int kD = Cfg::kHeadDim;
  constexpr int kBN = Cfg::kBlockN;
  constexpr int kRowBytes = Cfg::kRowBytes;
  constexpr int kKSteps = kD / 16;  // k steps of S = Q K^T
  constexpr int kNTiles = kBN / 8;  // n8 tiles of S
  constexpr int kDTiles = kD / 8;   // n8 tiles of O
  constexpr int kPSteps = kBN / 16; // k steps of O += P V
  constexpr float kLog2e = 1.4426950408889634f;

  extern __shared__ __align__(128) unsigned char smem[];
  const uint32_t sQ = ptx::smemAddr(smem);
  const uint32_t sK = sQ + Cfg::kQBytes;
  const uint32_t sV = sK + 2 * Cfg::kKvBytes;

  const int lane = threadIdx.x & 31;
  const int warp = threadIdx.x >> 5;
  const int g = lane >> 2;
  const int t = lane & 3;
  // Causal: the heaviest query blocks first.
  const int qBlock =
      Cfg::kCausal ? int(gridDim.x) - 1 - int(blockIdx.x) : int(blockIdx.x);
  const int head = blockIdx.y;
  const int b = blockIdx.z;
  const int kvHead = head / (a.heads / a.kvHeads);
  const int m0 = qBlock * Cfg::kBlockM;
  const int offset = a.seqK - a.seqQ;

  const uint16_t *q = a.q + b * a.qBatchStride + head * a.qHeadStride +
                      int64_t(m0) * a.qRowStride;

  typename Cfg::Schedule schedule(a, Cfg::kBlockM, kBN, qBlock, head,
                                  Cfg::kCausal);
  const int numBlocks = schedule.count();

  // The K/V tile load: the one place a quantized-KV variant changes
  // (fp16: cp.async copies; KV4: dequantize into the same tiles).
  const int64_t kvParam = (int64_t(b) * a.kvHeads + kvHead) * a.seqK;
  auto loadKv = [&](uint32_t tile, bool isV, int j) {
    const int64_t stride = isV ? a.vRowStride : a.kRowStride;
    if constexpr (Cfg::kKv == KvFormat::kInt4Asym) {
      const uint8_t *codes =
          (isV ? a.v4 + b * a.vBatchStride + kvHead * a.vHeadStride
               : a.k4 + b * a.kBatchStride + kvHead * a.kHeadStride) +
          int64_t(j) * kBN * stride;
      const int64_t p = kvParam + int64_t(j) * kBN;
      detail::loadRowsInt4<Cfg, kBN>(
          tile, codes, stride, (isV ? a.vScale : a.kScale) + p,
          (isV ? a.vZero : a.kZero) + p, a.seqK - j * kBN);
    } else {
      const uint16_t *base =
          isV ? a.v + b * a.vBatchStride + kvHead * a.vHeadStride
              : a.k + b * a.kBatchStride + kvHead * a.kHeadStride;
      detail::loadRows<Cfg, kBN>(tile, base + int64_t(j) * kBN * stride,
                                 stride, a.seqK - j * kBN);
    }
  };

  detail::loadRows<Cfg, Cfg::kBlockM>(sQ, q, a.qRowStride, a.seqQ - m0);
  ptx::cpAsyncCommit();
  if (numBlocks > 0)
    loadKv(sK, false, schedule.block(0));
  ptx::cpAsyncCommit();
  if (numBlocks > 0)
    loadKv(sV, true, schedule.block(0));
  ptx::cpAsyncCommit();

  uint32_t qf[kKSteps][4];
  float o[kDTiles][4];
#pragma unroll
  for (int d = 0; d < kDTiles; ++d)
#pragma unroll
    for (int r = 0; r < 4; ++r)
      o[d][r] = 0.0f;
  float rowMax[2] = {-INFINITY, -INFINITY};
  float rowSum[2] = {0.0f, 0.0f};
  const float scaleLog2 = a.scale * kLog2e;
  // Rows of this lane's accumulator elements (r = 0, 1: g; r = 2, 3: g + 8).
  const int row0 = m0 + warp * 16 + g;

  if (numBlocks == 0) {
    ptx::cpAsyncWait<0>();
    __syncthreads();
  }
  for (int it = 0; it < numBlocks; ++it) {
    const int j = schedule.block(it);
    const int buf = it & 1;
    ptx::cpAsyncWait<1>(); // Q and K_j have landed (V_j may be in flight).
    __syncthreads();
    if (it == 0) {
#pragma unroll
      for (int ks = 0; ks < kKSteps; ++ks)
        ptx::ldmatrixX4(sQ + swizzleOffset<kRowBytes>(warp * 16 + (lane & 15),
                                                      ks * 2 + (lane >> 4)),
                        qf[ks][0], qf[ks][1], qf[ks][2], qf[ks][3]);
    }

    // S = Q K_j^T.
    float s[kNTiles][4];
#pragma unroll
    for (int n = 0; n < kNTiles; ++n)
#pragma unroll
      for (int r = 0; r < 4; ++r)
        s[n][r] = 0.0f;
    const uint32_t kTile = sK + buf * Cfg::kKvBytes;
#pragma unroll
    for (int ks = 0; ks < kKSteps; ++ks) {
#pragma unroll
      for (int n = 0; n < kNTiles / 2; ++n) {
        uint32_t b0[2], b1[2];
        ptx::ldmatrixX4(
            kTile + swizzleOffset<kRowBytes>(
                        n * 16 + (lane & 7) + ((lane >> 4) << 3),
                        ks * 2 + ((lane >> 3) & 1)),
            b0[0], b0[1], b1[0], b1[1]);
        ptx::mmaF16(s[2 * n], qf[ks], b0);
        ptx::mmaF16(s[2 * n + 1], qf[ks], b1);
      }
    }

    // Prefetch K_{j+1} into the other buffer (its last readers finished
    // block it - 1 before this iteration's barrier).
    if (it + 1 < numBlocks)
      loadKv(sK + (buf ^ 1) * Cfg::kKvBytes, false, schedule.block(it + 1));
    ptx::cpAsyncCommit();

    // Masks: past the end of the keys, and the causal diagonal.
    const int col0 = j * kBN;
    const bool ragged = col0 + kBN > a.seqK;
    const bool diagonal = Cfg::kCausal && col0 + kBN - 1 > m0 + offset;
    if (ragged || diagonal) {
#pragma unroll
      for (int n = 0; n < kNTiles; ++n)
#pragma unroll
        for (int r = 0; r < 4; ++r) {
          const int col = col0 + n * 8 + 2 * t + (r & 1);
          const int row = row0 + (r >= 2 ? 8 : 0);
          if (col >= a.seqK || (Cfg::kCausal && col > row + offset))
            s[n][r] = -INFINITY;
        }
    }

    // Online softmax, in the log2 domain.
#pragma unroll
    for (int h = 0; h < 2; ++h) {
      float mx = rowMax[h];
#pragma unroll
      for (int n = 0; n < kNTiles; ++n)
        mx = fmaxf(mx, fmaxf(s[n][2 * h], s[n][2 * h + 1]) * scaleLog2);
      mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 1));
      mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 2));
      // A row with no visible key yet keeps m = -inf; subtract 0 then so
      // that exp2 gives 0 rather than NaN.
      const float base = mx == -INFINITY ? 0.0f : mx;
      const float alpha = exp2f(rowMax[h] - base);
      rowMax[h] = mx;
      float sum = 0.0f;
#pragma unroll
      for (int n = 0; n < kNTiles; ++n) {
        s[n][2 * h] = exp2f(s[n][2 * h] * scaleLog2 - base);
        s[n][2 * h + 1] = exp2f(s[n][2 * h + 1] * scaleLog2 - base);
        sum += s[n][2 * h] + s[n][2 * h + 1];
      }
      rowSum[h] = rowSum[h] * alpha + sum;
#pragma unroll
      for (int d = 0; d < kDTiles; ++d) {
        o[d][2 * h] *= alpha;
        o[d][2 * h + 1] *= alpha;
      }
    }

    ptx::cpAsyncWait<1>(); // V_j has landed (K_{j+1} may be in flight).
    __syncthreads();

    // O += P V_j.
    const uint32_t vTile = sV + buf * Cfg::kKvBytes;
#pragma unroll
    for (int kk = 0; kk < kPSteps; ++kk) {
      uint32_t pf[4];
      pf[0] = ptx::packHalf2(s[2 * kk][0], s[2 * kk][1]);
      pf[1] = ptx::packHalf2(s[2 * kk][2], s[2 * kk][3]);
      pf[2] = ptx::packHalf2(s[2 * kk + 1][0], s[2 * kk + 1][1]);
      pf[3] = ptx::packHalf2(s[2 * kk + 1][2], s[2 * kk + 1][3]);
#pragma unroll
      for (int d = 0; d < kDTiles / 2; ++d) {
        uint32_t b0[2], b1[2];
        ptx::ldmatrixX4Trans(
            vTile + swizzleOffset<kRowBytes>(kk * 16 + (lane & 7) +
                                                 ((lane >> 3) & 1) * 8,
                                             2 * d + (lane >> 4)),
            b0[0], b0[1], b1[0], b1[1]);
        ptx::mmaF16(o[2 * d], pf, b0);
        ptx::mmaF16(o[2 * d + 1], pf, b1);
      }
    }

    // Prefetch V_{j+1}.
    if (it + 1 < numBlocks)
      loadKv(sV + (buf ^ 1) * Cfg::kKvBytes, true, schedule.block(it + 1));
    ptx::cpAsyncCommit();
  }
  ptx::cpAsyncWait<0>();

  // O /= l and store (fp16 pairs).
#pragma unroll
  for (int h = 0; h < 2; ++h) {
    float l = rowSum[h];
    l += __shfl_xor_sync(0xffffffffu, l, 1);
    l += __shfl_xor_sync(0xffffffffu, l, 2);
    const float inv = l > 0.0f ? 1.0f / l : 0.0f;
    const int row = row0 + 8 * h;
    if (row >= a.seqQ)
      continue;
    uint16_t *out = a.o + b * a.oBatchStride + head * a.oHeadStride +
                    int64_t(row) * a.oRowStride;
#pragma unroll
    for (int d = 0; d < kDTiles; ++d)
      *reinterpret_cast<uint32_t *>(out + d * 8 + 2 * t) =
          ptx::packHalf2(o[d][2 * h] * inv, o[d][2 * h + 1] * inv);
  }
#endif
}

/// Attention launcher for configuration |Cfg|. Needs 16-byte aligned
/// Q/K/V/O rows (row strides multiples of 8 elements); KV4: 16-byte aligned
/// code rows (k / v strides multiples of 16 bytes), scales and zeros set.
template <class Cfg> struct AttentionSm80 {
  static cudaError_t prepare() {
    static const cudaError_t status = cudaFuncSetAttribute(
        attentionSm80Kernel<Cfg>, cudaFuncAttributeMaxDynamicSharedMemorySize,
        Cfg::kSmemBytes);
    return status;
  }
  static cudaError_t run(const AttentionArgs &a, cudaStream_t stream) {
    const auto aligned = [](const void *p) {
      return (reinterpret_cast<uintptr_t>(p) & 15u) == 0;
    };
    if (a.seqQ <= 0 || a.seqK <= 0 || a.kvHeads <= 0 ||
        a.heads % a.kvHeads != 0 || !aligned(a.q) || !aligned(a.o) ||
        a.qRowStride % 8 != 0 || a.oRowStride % 8 != 0)
      return cudaErrorInvalidValue;
    if constexpr (Cfg::kKv == KvFormat::kInt4Asym) {
      if (!aligned(a.k4) || !aligned(a.v4) || !a.kScale || !a.vScale ||
          !a.kZero || !a.vZero || a.kRowStride % 16 != 0 ||
          a.vRowStride % 16 != 0 || a.kBatchStride % 16 != 0 ||
          a.kHeadStride % 16 != 0 || a.vBatchStride % 16 != 0 ||
          a.vHeadStride % 16 != 0)
        return cudaErrorInvalidValue;
    } else {
      if (!aligned(a.k) || !aligned(a.v) || a.kRowStride % 8 != 0 ||
          a.vRowStride % 8 != 0)
        return cudaErrorInvalidValue;
    }
    if (cudaError_t e = prepare(); e != cudaSuccess)
      return e;
    const dim3 grid(unsigned(ceilDiv(a.seqQ, Cfg::kBlockM)), unsigned(a.heads),
                    unsigned(a.batch));
    attentionSm80Kernel<Cfg>
        <<<grid, Cfg::kThreads, Cfg::kSmemBytes, stream>>>(a);
    return cudaGetLastError();
  }
};

} // namespace kiln::cuda

#endif // KILN_RUNTIME_CUDA_INCLUDE_KILN_CUDA_ATTENTION_CUH
