//===- AttentionSm90.cuh - Hopper fused attention: TMA + wgmma --*- CUDA -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// The sm_90a (H100 / H200) version of Attention.cuh's fused attention, same
// operands (AttentionArgs), same semantics (online softmax in one pass over
// K/V, bottom-right causal mask, GQA, Schedule policies), built the way
// FlashAttention-3 is built because the mma.sync kernel cannot reach the
// tensor-core roofline on Hopper:
//
// - One producer warpgroup (one thread) loads the CTA's 128 query rows
//   once and then K_j and V_j tiles of 128 keys with TMA (4-D tensor maps
//   over [batch, heads, seq, head_dim] with arbitrary strides; 128-byte
//   swizzle; rows past the sequence zero-filled) into two-stage rings, each
//   tile completing on its own mbarrier so S can start before V lands.
// - Two consumer warpgroups, 64 query rows each:
//     S = Q K_j^T   wgmma m64n128k16, both operands from shared memory
//                   (K-major), float accumulators in registers
//     masks, online softmax (m, l, O rescale) on the accumulators
//     O += P V_j    wgmma m64n{64,128}k16 with P from registers (the S
//                   accumulators converted to fp16 in the A-fragment
//                   layout) and V read transposed (MN-major) from shared
//                   memory
//   and release each stage to the producer as soon as the wgmma that read
//   it has completed. While one warpgroup runs its softmax the other's
//   wgmmas keep the tensor cores busy (FA3's ping-pong without explicit
//   scheduling barriers).
// - setmaxnreg: 40 registers for the producer, 232 for the consumers.
//
// Not (yet) here: FA3's intra-warpgroup overlap of softmax with the next
// S = Q K^T, and the fp8 path. head_dim 64 and 128; Q, K, V, O rows
// 16-byte aligned, strides multiples of 8 elements.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_RUNTIME_CUDA_INCLUDE_KILN_CUDA_ATTENTIONSM90_CUH
#define KILN_RUNTIME_CUDA_INCLUDE_KILN_CUDA_ATTENTIONSM90_CUH

#include "kiln/cuda/Attention.cuh"
#include "kiln/cuda/GemmSm90.cuh"

namespace kiln::cuda {

/// Shape of the sm_90a attention kernel: 128 query rows (two consumer
/// warpgroups), 128 keys per K/V block, two stages.
template <int HEAD_DIM, bool CAUSAL, class SCHEDULE = DenseSchedule>
struct AttentionConfigSm90 {
  static constexpr int kHeadDim = HEAD_DIM;
  static constexpr int kBlockM = 128;
  static constexpr int kBlockN = 128;
  static constexpr bool kCausal = CAUSAL;
  using Schedule = SCHEDULE;
  /// fp16 K/V only: TMA cannot dequantize on the way in (KV4 on sm_90 uses
  /// the sm80 kernel, Attention.cuh).
  static constexpr KvFormat kKv = KvFormat::kFp16;
  static constexpr int kStages = 2;
  static constexpr int kThreads = 384;
  /// 64-column (128-byte) sub-tiles per row of head_dim.
  static constexpr int kSub = HEAD_DIM / 64;
  static constexpr int kQBytes = kBlockM * HEAD_DIM * 2;
  static constexpr int kKvBytes = kBlockN * HEAD_DIM * 2;
  static constexpr int kSmemBytes =
      kQBytes + 2 * kStages * kKvBytes + 1024 + 8 * (1 + 4 * kStages);
  static_assert(HEAD_DIM == 64 || HEAD_DIM == 128, "head_dim 64 or 128");
};

namespace sm90 {

/// TMA: copies the 4-D box at (c0, c1, c2, c3) of |map| to shared |dst|.
KILN_DEVICE void tmaLoad4d(uint32_t dst, const CUtensorMap *map, int c0,
                           int c1, int c2, int c3, uint32_t bar) {
  asm volatile("cp.async.bulk.tensor.4d.shared::cluster.global.tile"
               ".mbarrier::complete_tx::bytes [%0], [%1, {%2, %3, %4, %5}], "
               "[%6];\n" ::"r"(dst),
               "l"(reinterpret_cast<uint64_t>(map)), "r"(c0), "r"(c1),
               "r"(c2), "r"(c3), "r"(bar)
               : "memory");
}

/// Descriptor of an MN-major (N contiguous) operand in 128-byte swizzle:
/// 128-byte rows along K (8-row groups 1024 bytes apart), 64-element
/// column blocks |blockStride| bytes apart.
KILN_DEVICE uint64_t smemDescriptorMN(uint32_t addr, uint32_t blockStride) {
  uint64_t d = 0;
  d |= uint64_t((addr & 0x3ffff) >> 4);
  d |= uint64_t((blockStride & 0x3ffff) >> 4) << 16; // leading byte offset
  d |= uint64_t(1024 >> 4) << 32;                      // stride byte offset
  d |= uint64_t(1) << 62;
  return d;
}

template <int N> KILN_DEVICE void fenceRegs(float (&d)[N]) {
#pragma unroll
  for (int i = 0; i < N; ++i)
    asm volatile("" : "+f"(d[i])::"memory");
}

/// wgmma.mma_async m64n64k16.f32.f16.f16, A from registers (an mma
/// m16n8k16 A fragment per warp), B from shared memory through
/// |descB| read transposed (MN-major: N contiguous), float accumulators.
KILN_DEVICE void wgmmaF16RsN64(float (&d)[32], const uint32_t (&a)[4],
                             uint64_t descB) {
  asm volatile("wgmma.mma_async.sync.aligned.m64n64k16.f32.f16.f16 "
               "{%0, %1, %2, %3, %4, %5, %6, %7, "
               "%8, %9, %10, %11, %12, %13, %14, %15, "
               "%16, %17, %18, %19, %20, %21, %22, %23, "
               "%24, %25, %26, %27, %28, %29, %30, %31}, "
               "{%32, %33, %34, %35}, %36, 1, 1, 1, 1;\n"
               : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]),
                 "+f"(d[5]), "+f"(d[6]), "+f"(d[7]), "+f"(d[8]), "+f"(d[9]),
                 "+f"(d[10]), "+f"(d[11]), "+f"(d[12]), "+f"(d[13]),
                 "+f"(d[14]), "+f"(d[15]), "+f"(d[16]), "+f"(d[17]),
                 "+f"(d[18]), "+f"(d[19]), "+f"(d[20]), "+f"(d[21]),
                 "+f"(d[22]), "+f"(d[23]), "+f"(d[24]), "+f"(d[25]),
                 "+f"(d[26]), "+f"(d[27]), "+f"(d[28]), "+f"(d[29]),
                 "+f"(d[30]), "+f"(d[31])
               : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "l"(descB));
}

/// wgmma.mma_async m64n128k16.f32.f16.f16, A from registers (an mma
/// m16n8k16 A fragment per warp), B from shared memory through
/// |descB| read transposed (MN-major: N contiguous), float accumulators.
KILN_DEVICE void wgmmaF16RsN128(float (&d)[64], const uint32_t (&a)[4],
                             uint64_t descB) {
  asm volatile("wgmma.mma_async.sync.aligned.m64n128k16.f32.f16.f16 "
               "{%0, %1, %2, %3, %4, %5, %6, %7, "
               "%8, %9, %10, %11, %12, %13, %14, %15, "
               "%16, %17, %18, %19, %20, %21, %22, %23, "
               "%24, %25, %26, %27, %28, %29, %30, %31, "
               "%32, %33, %34, %35, %36, %37, %38, %39, "
               "%40, %41, %42, %43, %44, %45, %46, %47, "
               "%48, %49, %50, %51, %52, %53, %54, %55, "
               "%56, %57, %58, %59, %60, %61, %62, %63}, "
               "{%64, %65, %66, %67}, %68, 1, 1, 1, 1;\n"
               : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]),
                 "+f"(d[5]), "+f"(d[6]), "+f"(d[7]), "+f"(d[8]), "+f"(d[9]),
                 "+f"(d[10]), "+f"(d[11]), "+f"(d[12]), "+f"(d[13]),
                 "+f"(d[14]), "+f"(d[15]), "+f"(d[16]), "+f"(d[17]),
                 "+f"(d[18]), "+f"(d[19]), "+f"(d[20]), "+f"(d[21]),
                 "+f"(d[22]), "+f"(d[23]), "+f"(d[24]), "+f"(d[25]),
                 "+f"(d[26]), "+f"(d[27]), "+f"(d[28]), "+f"(d[29]),
                 "+f"(d[30]), "+f"(d[31]), "+f"(d[32]), "+f"(d[33]),
                 "+f"(d[34]), "+f"(d[35]), "+f"(d[36]), "+f"(d[37]),
                 "+f"(d[38]), "+f"(d[39]), "+f"(d[40]), "+f"(d[41]),
                 "+f"(d[42]), "+f"(d[43]), "+f"(d[44]), "+f"(d[45]),
                 "+f"(d[46]), "+f"(d[47]), "+f"(d[48]), "+f"(d[49]),
                 "+f"(d[50]), "+f"(d[51]), "+f"(d[52]), "+f"(d[53]),
                 "+f"(d[54]), "+f"(d[55]), "+f"(d[56]), "+f"(d[57]),
                 "+f"(d[58]), "+f"(d[59]), "+f"(d[60]), "+f"(d[61]),
                 "+f"(d[62]), "+f"(d[63])
               : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "l"(descB));
}

/// O += P V for head_dim D (N = D).
template <int D>
KILN_DEVICE void wgmmaPV(float (&o)[D / 2], const uint32_t (&p)[4],
                         uint64_t descV) {
  if constexpr (D == 64)
    wgmmaF16RsN64(o, p, descV);
  else
    wgmmaF16RsN128(o, p, descV);
}

} // namespace sm90

/// Tensor maps of one attention call.
struct AttentionSm90Plan {
  CUtensorMap mapQ, mapK, mapV;
  AttentionArgs args;
};

template <class Cfg>
__global__ void __launch_bounds__(Cfg::kThreads, 1)
    attentionSm90Kernel(const __grid_constant__ CUtensorMap mapQ,
                        const __grid_constant__ CUtensorMap mapK,
                        const __grid_constant__ CUtensorMap mapV,
                        AttentionArgs a) {
#if defined(KILN_SM90A)
  constexpr int kD = Cfg::kHeadDim;
  constexpr int kBN = Cfg::kBlockN;
  constexpr int kS = Cfg::kStages;
  constexpr int kSub = Cfg::kSub;
  constexpr float kLog2e = 1.4426950408889634f;
  extern __shared__ unsigned char smemRaw[];
  const uint32_t base = (ptx::smemAddr(smemRaw) + 1023u) & ~1023u;
  // Tiles: [sub-tile][rows][128 bytes], each sub-tile 1 KB aligned.
  const uint32_t sQ = base;
  const uint32_t sK = sQ + Cfg::kQBytes;
  const uint32_t sV = sK + kS * Cfg::kKvBytes;
  const uint32_t bars = sV + kS * Cfg::kKvBytes;
  const uint32_t qFull = bars;
  const auto kFull = [&](int s) { return bars + 8 + 8 * s; };
  const auto kEmpty = [&](int s) { return bars + 8 + 8 * (kS + s); };
  const auto vFull = [&](int s) { return bars + 8 + 8 * (2 * kS + s); };
  const auto vEmpty = [&](int s) { return bars + 8 + 8 * (3 * kS + s); };

  const int tid = threadIdx.x;
  const int wg = tid / 128;
  const int qBlock =
      Cfg::kCausal ? int(gridDim.x) - 1 - int(blockIdx.x) : int(blockIdx.x);
  const int head = blockIdx.y;
  const int b = blockIdx.z;
  const int kvHead = head / (a.heads / a.kvHeads);
  const int m0 = qBlock * Cfg::kBlockM;
  const int offset = a.seqK - a.seqQ;
  typename Cfg::Schedule schedule(a, Cfg::kBlockM, kBN, qBlock, head,
                                  Cfg::kCausal);
  const int numBlocks = schedule.count();

  if (tid == 0) {
    sm90::mbarInit(qFull, 1);
    for (int s = 0; s < kS; ++s) {
      sm90::mbarInit(kFull(s), 1);
      sm90::mbarInit(kEmpty(s), 2);
      sm90::mbarInit(vFull(s), 1);
      sm90::mbarInit(vEmpty(s), 2);
    }
    sm90::fenceBarrierInit();
  }
  __syncthreads();

  if (wg == 0) {
    sm90::setMaxRegistersDec<40>();
    if (tid == 0) {
      sm90::mbarArriveExpectTx(qFull, Cfg::kQBytes);
      for (int c = 0; c < kSub; ++c)
        sm90::tmaLoad4d(sQ + c * Cfg::kBlockM * 128, &mapQ, c * 64, m0, head,
                        b, qFull);
      for (int it = 0; it < numBlocks; ++it) {
        const int s = it % kS;
        const uint32_t parity = ((it / kS) & 1) ^ 1;
        const int j = schedule.block(it);
        sm90::mbarWait(kEmpty(s), parity);
        sm90::mbarArriveExpectTx(kFull(s), Cfg::kKvBytes);
        for (int c = 0; c < kSub; ++c)
          sm90::tmaLoad4d(sK + s * Cfg::kKvBytes + c * kBN * 128, &mapK, c * 64,
                          j * kBN, kvHead, b, kFull(s));
        sm90::mbarWait(vEmpty(s), parity);
        sm90::mbarArriveExpectTx(vFull(s), Cfg::kKvBytes);
        for (int c = 0; c < kSub; ++c)
          sm90::tmaLoad4d(sV + s * Cfg::kKvBytes + c * kBN * 128, &mapV, c * 64,
                          j * kBN, kvHead, b, vFull(s));
      }
    }
    return;
  }

  sm90::setMaxRegistersInc<232>();
  const int c = wg - 1; // consumer: query rows m0 + 64 c .. + 63
  const int lane = tid & 31;
  const int g = lane >> 2;
  const int t = lane & 3;
  const int row0 = m0 + c * 64 + ((tid % 128) / 32) * 16 + g;
  const float scaleLog2 = a.scale * kLog2e;

  float o[kD / 2];
#pragma unroll
  for (int i = 0; i < kD / 2; ++i)
    o[i] = 0.0f;
  float rowMax[2] = {-INFINITY, -INFINITY};
  float rowSum[2] = {0.0f, 0.0f};

  sm90::mbarWait(qFull, 0);
  for (int it = 0; it < numBlocks; ++it) {
    const int s = it % kS;
    const uint32_t parity = (it / kS) & 1;
    const int j = schedule.block(it);

    // S = Q K_j^T.
    float sc[kBN / 2];
#pragma unroll
    for (int i = 0; i < kBN / 2; ++i)
      sc[i] = 0.0f;
    sm90::mbarWait(kFull(s), parity);
    sm90::fenceRegs(sc);
    sm90::wgmmaFence();
#pragma unroll
    for (int ks = 0; ks < kD / 16; ++ks) {
      const uint64_t descQ = sm90::smemDescriptor(
          sQ + (ks / 4) * Cfg::kBlockM * 128 + c * 64 * 128 + (ks % 4) * 32);
      const uint64_t descK = sm90::smemDescriptor(
          sK + s * Cfg::kKvBytes + (ks / 4) * kBN * 128 + (ks % 4) * 32);
      sm90::wgmmaF16N128(sc, descQ, descK);
    }
    sm90::wgmmaCommit();
    sm90::wgmmaWait<0>();
    sm90::fenceRegs(sc);
    if (tid % 128 == 0)
      sm90::mbarArrive(kEmpty(s));

    // Masks. Register 4 i + r: row row0 + 8 (r >= 2), key j kBN + 8 i +
    // 2 t + (r & 1).
    const int col0 = j * kBN;
    if (col0 + kBN > a.seqK || (Cfg::kCausal && col0 + kBN - 1 > m0 + offset)) {
#pragma unroll
      for (int i = 0; i < kBN / 8; ++i)
#pragma unroll
        for (int r = 0; r < 4; ++r) {
          const int col = col0 + 8 * i + 2 * t + (r & 1);
          const int row = row0 + (r >= 2 ? 8 : 0);
          if (col >= a.seqK || (Cfg::kCausal && col > row + offset))
            sc[4 * i + r] = -INFINITY;
        }
    }

    // Online softmax (log2 domain), O rescale.
#pragma unroll
    for (int h = 0; h < 2; ++h) {
      float mx = rowMax[h];
#pragma unroll
      for (int i = 0; i < kBN / 8; ++i)
        mx = fmaxf(mx, fmaxf(sc[4 * i + 2 * h], sc[4 * i + 2 * h + 1]) * scaleLog2);
      mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 1));
      mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 2));
      const float baseLog = mx == -INFINITY ? 0.0f : mx;
      const float alpha = exp2f(rowMax[h] - baseLog);
      rowMax[h] = mx;
      float sum = 0.0f;
#pragma unroll
      for (int i = 0; i < kBN / 8; ++i) {
        sc[4 * i + 2 * h] = exp2f(sc[4 * i + 2 * h] * scaleLog2 - baseLog);
        sc[4 * i + 2 * h + 1] = exp2f(sc[4 * i + 2 * h + 1] * scaleLog2 - baseLog);
        sum += sc[4 * i + 2 * h] + sc[4 * i + 2 * h + 1];
      }
      rowSum[h] = rowSum[h] * alpha + sum;
#pragma unroll
      for (int i = 0; i < kD / 8; ++i) {
        o[4 * i + 2 * h] *= alpha;
        o[4 * i + 2 * h + 1] *= alpha;
      }
    }

    // O += P V_j: P's k16 step kk is S columns 16 kk .. 16 kk + 15, i.e.
    // accumulator chunks 2 kk and 2 kk + 1 (the mma A-fragment layout).
    uint32_t p[kBN / 16][4];
#pragma unroll
    for (int kk = 0; kk < kBN / 16; ++kk) {
      p[kk][0] = ptx::packHalf2(sc[8 * kk + 0], sc[8 * kk + 1]);
      p[kk][1] = ptx::packHalf2(sc[8 * kk + 2], sc[8 * kk + 3]);
      p[kk][2] = ptx::packHalf2(sc[8 * kk + 4], sc[8 * kk + 5]);
      p[kk][3] = ptx::packHalf2(sc[8 * kk + 6], sc[8 * kk + 7]);
    }
    sm90::mbarWait(vFull(s), parity);
    sm90::fenceRegs(o);
    sm90::wgmmaFence();
#pragma unroll
    for (int kk = 0; kk < kBN / 16; ++kk)
      sm90::wgmmaPV<kD>(o, p[kk],
                        sm90::smemDescriptorMN(sV + s * Cfg::kKvBytes +
                                                   kk * 16 * 128,
                                               kBN * 128));
    sm90::wgmmaCommit();
    sm90::wgmmaWait<0>();
    sm90::fenceRegs(o);
    if (tid % 128 == 0)
      sm90::mbarArrive(vEmpty(s));
  }

  // O /= l, fp16 stores.
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
    for (int i = 0; i < kD / 8; ++i)
      *reinterpret_cast<uint32_t *>(out + 8 * i + 2 * t) =
          ptx::packHalf2(o[4 * i + 2 * h] * inv, o[4 * i + 2 * h + 1] * inv);
  }
#endif
}

namespace sm90 {

/// Encodes a 4-D fp16 tensor [batch][heads][seq][D] with element strides
/// (rowStride, headStride, batchStride) and a box of |boxRows| x 64.
inline cudaError_t encodeAttentionOperand(CUtensorMap *map, const void *ptr,
                                          int batch, int heads, int seq, int D,
                                          int64_t rowStride, int64_t headStride,
                                          int64_t batchStride, int boxRows) {
  PFN_cuTensorMapEncodeTiled_v12000 encode = tensorMapEncoder();
  if (!encode)
    return cudaErrorNotSupported;
  const cuuint64_t dims[4] = {cuuint64_t(D), cuuint64_t(seq),
                              cuuint64_t(heads), cuuint64_t(batch)};
  const cuuint64_t strides[3] = {cuuint64_t(rowStride) * 2,
                                 cuuint64_t(headStride) * 2,
                                 cuuint64_t(batchStride) * 2};
  const cuuint32_t box[4] = {64, cuuint32_t(boxRows), 1, 1};
  const cuuint32_t elemStrides[4] = {1, 1, 1, 1};
  const CUresult r = encode(map, CU_TENSOR_MAP_DATA_TYPE_FLOAT16, 4,
                            const_cast<void *>(ptr), dims, strides, box,
                            elemStrides, CU_TENSOR_MAP_INTERLEAVE_NONE,
                            CU_TENSOR_MAP_SWIZZLE_128B,
                            CU_TENSOR_MAP_L2_PROMOTION_L2_256B,
                            CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE);
  return r == CUDA_SUCCESS ? cudaSuccess : cudaErrorInvalidValue;
}

} // namespace sm90

/// The sm_90a attention launcher.
template <class Cfg> struct AttentionSm90 {
  /// Checks |a| and encodes the tensor maps (host; once per call site).
  static cudaError_t makePlan(const AttentionArgs &a, AttentionSm90Plan &plan) {
    const auto aligned = [](const void *p) {
      return (reinterpret_cast<uintptr_t>(p) & 15u) == 0;
    };
    if (a.seqQ <= 0 || a.seqK <= 0 || a.kvHeads <= 0 ||
        a.heads % a.kvHeads != 0 || !aligned(a.q) || !aligned(a.k) ||
        !aligned(a.v) || !aligned(a.o) || a.qRowStride % 8 != 0 ||
        a.kRowStride % 8 != 0 || a.vRowStride % 8 != 0 ||
        a.oRowStride % 8 != 0 || a.qHeadStride % 8 != 0 ||
        a.kHeadStride % 8 != 0 || a.vHeadStride % 8 != 0 ||
        a.qBatchStride % 8 != 0 || a.kBatchStride % 8 != 0 ||
        a.vBatchStride % 8 != 0)
      return cudaErrorInvalidValue;
    plan.args = a;
    constexpr int D = Cfg::kHeadDim;
    if (cudaError_t e = sm90::encodeAttentionOperand(
            &plan.mapQ, a.q, a.batch, a.heads, a.seqQ, D, a.qRowStride,
            a.qHeadStride, a.qBatchStride, Cfg::kBlockM);
        e != cudaSuccess)
      return e;
    if (cudaError_t e = sm90::encodeAttentionOperand(
            &plan.mapK, a.k, a.batch, a.kvHeads, a.seqK, D, a.kRowStride,
            a.kHeadStride, a.kBatchStride, Cfg::kBlockN);
        e != cudaSuccess)
      return e;
    return sm90::encodeAttentionOperand(&plan.mapV, a.v, a.batch, a.kvHeads,
                                        a.seqK, D, a.vRowStride, a.vHeadStride,
                                        a.vBatchStride, Cfg::kBlockN);
  }
  static cudaError_t prepare() {
    static const cudaError_t status = cudaFuncSetAttribute(
        attentionSm90Kernel<Cfg>, cudaFuncAttributeMaxDynamicSharedMemorySize,
        Cfg::kSmemBytes);
    return status;
  }
  static cudaError_t run(const AttentionSm90Plan &plan, cudaStream_t stream) {
    if (cudaError_t e = prepare(); e != cudaSuccess)
      return e;
    const AttentionArgs &a = plan.args;
    const dim3 grid(unsigned(ceilDiv(a.seqQ, Cfg::kBlockM)), unsigned(a.heads),
                    unsigned(a.batch));
    attentionSm90Kernel<Cfg><<<grid, Cfg::kThreads, Cfg::kSmemBytes, stream>>>(
        plan.mapQ, plan.mapK, plan.mapV, a);
    return cudaGetLastError();
  }
  static cudaError_t run(const AttentionArgs &a, cudaStream_t stream) {
    AttentionSm90Plan plan;
    if (cudaError_t e = makePlan(a, plan); e != cudaSuccess)
      return e;
    return run(plan, stream);
  }
};

} // namespace kiln::cuda

#endif // KILN_RUNTIME_CUDA_INCLUDE_KILN_CUDA_ATTENTIONSM90_CUH
