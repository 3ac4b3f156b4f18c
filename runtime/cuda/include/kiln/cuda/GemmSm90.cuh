//===- GemmSm90.cuh - Hopper GEMM: TMA + wgmma, warp-specialized -*- CUDA -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// The sm_90a (H100 / H200) matrix kernel for the compute-bound GEMMs:
//
//   C[M, N] = epilogue(A[M, K] * B[N, K]^T),  A, B int8 or fp16
//
// with the same operands (GemmArgs) and output stages (Epilogue.h) as
// GemmSm80, so the code generator switches kernels without changing
// anything else. Design (the pattern of CUTLASS's warp-specialized sm90
// kernels, kept to what a GEMM with a fused epilogue needs):
//
// - One producer warpgroup (its first thread only) streams A and B tiles of
//   128 bytes of K with the bulk tensor copy engine (cp.async.bulk.tensor,
//   TMA) into a kStages-deep ring of shared-memory stages, each completing
//   on a "full" mbarrier with a transaction count; TMA writes the 128-byte
//   swizzle that wgmma reads and zero-fills rows and columns outside the
//   matrix (ragged M, N, K need no code).
// - kConsumers = BM / 64 consumer warpgroups each own 64 rows x BN
//   columns and issue wgmma.mma_async m64n128k32.s8 (int8) or m64n128k16.f16
//   (fp16) with both operands read from shared memory through matrix
//   descriptors, keep one wgmma group in flight (wait_group 1) and release
//   the previous stage to the producer through its "empty" mbarrier.
// - setmaxnreg moves registers from the producer (40) to the consumers
//   (232): a consumer holds BN / 2 accumulators per thread (128 for BN 256).
// - The epilogue runs in the consumers' registers, as in GemmSm80.
//
// Tensor maps encode the operand pointers, so they are made once per GEMM
// on the host (makePlan; the arena is preallocated, so once per program)
// through the runtime's driver entry point (no -lcuda), and passed by value
// as __grid_constant__ parameters: a launch is one kernel on the caller's
// stream, capturable in a CUDA graph. No split-K: decode-sized GEMMs
// (M <= 64) stay on GemmSm80's skinny tiles.
//
// Requirements: as GemmSm80 (16-byte aligned A, B; row strides multiples of
// 16 bytes); M, N, K arbitrary.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_RUNTIME_CUDA_INCLUDE_KILN_CUDA_GEMMSM90_CUH
#define KILN_RUNTIME_CUDA_INCLUDE_KILN_CUDA_GEMMSM90_CUH

#include "kiln/cuda/GemmSm80.cuh"

#include <cuda.h>
#include <cudaTypedefs.h>
#include <cuda_runtime.h>

#include <cstdint>

namespace kiln::cuda {

/// A warp-specialized sm_90a tile: BM = 64 * consumer warpgroups rows, BN
/// (a multiple of 128) columns, 128 bytes of K per stage.
template <int BM, int BN, int STAGES> struct TileConfigSm90 {
  static constexpr int kBM = BM;
  static constexpr int kBN = BN;
  static constexpr int kBKB = 128;
  static constexpr int kStages = STAGES;
  static constexpr int kConsumers = BM / 64;
  static constexpr int kThreads = (kConsumers + 1) * 128;
  static constexpr int kNChunks = BN / 128;
  static constexpr int kStageBytes = (BM + BN) * kBKB;
  /// Stages, 1 KB of alignment slack (128-byte swizzle atoms are 1 KB
  /// aligned), two mbarriers per stage.
  static constexpr int kSmemBytes = STAGES * kStageBytes + 1024 + 16 * STAGES;
  static_assert(BM % 64 == 0 && BM <= 256, "BM is 64 per consumer");
  static_assert(BN % 128 == 0 && BN <= 256, "BN is 128 or 256");
  static_assert(kSmemBytes <= 227 * 1024, "exceeds Hopper shared memory");
};

/// 128 x 256, 4 stages (193 KB): large GEMMs.
using TileSm90Large = TileConfigSm90<128, 256, 4>;
/// 128 x 128, 6 stages (193 KB): when 128 x 256 tiles leave SMs idle.
using TileSm90Medium = TileConfigSm90<128, 128, 6>;

namespace sm90 {

/// Returns a wgmma shared-memory descriptor of a K-major operand tile with
/// 128-byte rows in the 128-byte swizzle (8-row groups 1024 bytes apart).
KILN_DEVICE uint64_t smemDescriptor(uint32_t addr) {
  uint64_t d = 0;
  d |= uint64_t((addr & 0x3ffff) >> 4);      // start address
  d |= uint64_t(16 >> 4) << 16;               // leading byte offset (unused)
  d |= uint64_t(1024 >> 4) << 32;             // stride byte offset
  d |= uint64_t(1) << 62;                     // 128-byte swizzle
  return d;
}

KILN_DEVICE void mbarInit(uint32_t bar, uint32_t count) {
  asm volatile("mbarrier.init.shared::cta.b64 [%0], %1;\n" ::"r"(bar),
               "r"(count));
}

KILN_DEVICE void fenceBarrierInit() {
  asm volatile("fence.mbarrier_init.release.cluster;\n" ::: "memory");
}

KILN_DEVICE void mbarArriveExpectTx(uint32_t bar, uint32_t bytes) {
  asm volatile("mbarrier.arrive.expect_tx.shared::cta.b64 _, [%0], %1;\n" ::"r"(
                   bar),
               "r"(bytes)
               : "memory");
}

KILN_DEVICE void mbarArrive(uint32_t bar) {
  asm volatile("mbarrier.arrive.shared::cta.b64 _, [%0];\n" ::"r"(bar)
               : "memory");
}

/// Waits until the phase with parity |parity| of |bar| has completed.
KILN_DEVICE void mbarWait(uint32_t bar, uint32_t parity) {
  uint32_t done;
  do {
    asm volatile("{\n"
                 ".reg .pred p;\n"
                 "mbarrier.try_wait.parity.shared::cta.b64 p, [%1], %2;\n"
                 "selp.u32 %0, 1, 0, p;\n"
                 "}\n"
                 : "=r"(done)
                 : "r"(bar), "r"(parity)
                 : "memory");
  } while (!done);
}

/// TMA: copies the box at (c0, c1) of |map| to shared |dst|, completing
/// on |bar|.
KILN_DEVICE void tmaLoad2d(uint32_t dst, const CUtensorMap *map, int c0,
                           int c1, uint32_t bar) {
  asm volatile("cp.async.bulk.tensor.2d.shared::cluster.global.tile"
               ".mbarrier::complete_tx::bytes [%0], [%1, {%2, %3}], [%4];\n" ::"r"(
                   dst),
               "l"(reinterpret_cast<uint64_t>(map)), "r"(c0), "r"(c1),
               "r"(bar)
               : "memory");
}

KILN_DEVICE void wgmmaFence() {
  asm volatile("wgmma.fence.sync.aligned;\n" ::: "memory");
}
KILN_DEVICE void wgmmaCommit() {
  asm volatile("wgmma.commit_group.sync.aligned;\n" ::: "memory");
}
template <int N> KILN_DEVICE void wgmmaWait() {
  asm volatile("wgmma.wait_group.sync.aligned %0;\n" ::"n"(N) : "memory");
}

/// Keeps the compiler from moving accesses of |d| across a wgmma wait.
template <typename T> KILN_DEVICE void fenceRegisters(T (&d)[64]) {
#pragma unroll
  for (int i = 0; i < 64; ++i) {
    if constexpr (sizeof(T) == 4 && std::is_same_v<T, float>)
      asm volatile("" : "+f"(d[i])::"memory");
    else
      asm volatile("" : "+r"(d[i])::"memory");
  }
}

template <int kRegs> KILN_DEVICE void setMaxRegistersInc() {
  asm volatile("setmaxnreg.inc.sync.aligned.u32 %0;\n" ::"n"(kRegs));
}
template <int kRegs> KILN_DEVICE void setMaxRegistersDec() {
  asm volatile("setmaxnreg.dec.sync.aligned.u32 %0;\n" ::"n"(kRegs));
}

// The two wgmma shapes (64 accumulator operands each; written out because
// inline asm needs every register named).
/// wgmma.mma_async.sync.aligned.m64n128k32.s32.s8.s8:
/// D[64 x 128] += A * B, both operands in shared memory (K-major, 128-byte swizzle), int32_t accumulators.
KILN_DEVICE void wgmmaS8N128(int32_t (&d)[64], uint64_t descA,
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
               "%64, %65, 1;\n"
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
               : "l"(descA), "l"(descB));
}

/// wgmma.mma_async.sync.aligned.m64n128k16.f32.f16.f16:
/// D[64 x 128] += A * B, both operands in shared memory (K-major, 128-byte swizzle), float accumulators.
KILN_DEVICE void wgmmaF16N128(float (&d)[64], uint64_t descA,
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
               "%64, %65, 1, 1, 1, 0, 0;\n"
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
               : "l"(descA), "l"(descB));
}

/// The wgmma of element type T.
template <typename T> struct Wgmma;
template <> struct Wgmma<int8_t> {
  using Acc = int32_t;
  KILN_DEVICE static void mma(Acc (&d)[64], uint64_t a, uint64_t b) {
    wgmmaS8N128(d, a, b);
  }
};
template <> struct Wgmma<__half> {
  using Acc = float;
  KILN_DEVICE static void mma(Acc (&d)[64], uint64_t a, uint64_t b) {
    wgmmaF16N128(d, a, b);
  }
};

} // namespace sm90

/// The warp-specialized kernel; see the file comment.
template <typename T, class Cfg, class Epi>
__global__ void __launch_bounds__(Cfg::kThreads, 1)
    gemmSm90Kernel(const __grid_constant__ CUtensorMap mapA,
                   const __grid_constant__ CUtensorMap mapB, GemmArgs args) {
#if defined(KILN_SM90A)
  using Acc = typename sm90::Wgmma<T>::Acc;
  constexpr int kS = Cfg::kStages;
  constexpr int kBKB = Cfg::kBKB;
  constexpr int kBK = kBKB / int(sizeof(T));
  extern __shared__ unsigned char smemRaw[];
  const uint32_t base = (ptx::smemAddr(smemRaw) + 1023u) & ~1023u;
  const uint32_t sA = base;
  const uint32_t sB = base + kS * Cfg::kBM * kBKB;
  const uint32_t full = base + kS * Cfg::kStageBytes;
  const uint32_t empty = full + 8 * kS;

  const int tid = threadIdx.x;
  const int wg = tid / 128;
  const int tilesM = ceilDiv(args.M, Cfg::kBM);
  const int tilesN = ceilDiv(args.N, Cfg::kBN);
  int tm, tn;
  detail::rasterize(blockIdx.x, tilesM, tilesN, tm, tn);
  const int m0 = tm * Cfg::kBM;
  const int n0 = tn * Cfg::kBN;
  const int kTiles = ceilDiv(args.K * int(sizeof(T)), kBKB);

  if (tid == 0) {
    for (int s = 0; s < kS; ++s) {
      sm90::mbarInit(full + 8 * s, 1);
      sm90::mbarInit(empty + 8 * s, Cfg::kConsumers);
    }
    sm90::fenceBarrierInit();
  }
  __syncthreads();

  if (wg == 0) {
    // Producer.
    sm90::setMaxRegistersDec<40>();
    if (tid == 0) {
      for (int kt = 0; kt < kTiles; ++kt) {
        const int s = kt % kS;
        // A fresh barrier counts as having completed the phase before phase
        // 0, so the first round does not wait.
        sm90::mbarWait(empty + 8 * s, ((kt / kS) & 1) ^ 1);
        sm90::mbarArriveExpectTx(full + 8 * s, Cfg::kStageBytes);
        sm90::tmaLoad2d(sA + s * Cfg::kBM * kBKB, &mapA, kt * kBK, m0,
                        full + 8 * s);
        sm90::tmaLoad2d(sB + s * Cfg::kBN * kBKB, &mapB, kt * kBK, n0,
                        full + 8 * s);
      }
    }
    return;
  }

  // Consumers.
  sm90::setMaxRegistersInc<232>();
  const int c = wg - 1;
  Acc acc[Cfg::kNChunks][64];
#pragma unroll
  for (int j = 0; j < Cfg::kNChunks; ++j)
#pragma unroll
    for (int i = 0; i < 64; ++i)
      acc[j][i] = Acc(0);

  for (int kt = 0; kt < kTiles; ++kt) {
    const int s = kt % kS;
    sm90::mbarWait(full + 8 * s, (kt / kS) & 1);
#pragma unroll
    for (int j = 0; j < Cfg::kNChunks; ++j)
      sm90::fenceRegisters(acc[j]);
    sm90::wgmmaFence();
#pragma unroll
    for (int ks = 0; ks < kBKB / 32; ++ks) {
      const uint64_t descA = sm90::smemDescriptor(
          sA + s * Cfg::kBM * kBKB + c * 64 * kBKB + ks * 32);
#pragma unroll
      for (int j = 0; j < Cfg::kNChunks; ++j)
        sm90::Wgmma<T>::mma(acc[j], descA,
                            sm90::smemDescriptor(sB + s * Cfg::kBN * kBKB +
                                                 j * 128 * kBKB + ks * 32));
    }
    sm90::wgmmaCommit();
    // Keep this step's group in flight; the previous one is done, so its
    // stage goes back to the producer.
    sm90::wgmmaWait<1>();
#pragma unroll
    for (int j = 0; j < Cfg::kNChunks; ++j)
      sm90::fenceRegisters(acc[j]);
    if (kt > 0 && tid % 128 == 0)
      sm90::mbarArrive(empty + 8 * ((kt - 1) % kS));
  }
  sm90::wgmmaWait<0>();
#pragma unroll
  for (int j = 0; j < Cfg::kNChunks; ++j)
    sm90::fenceRegisters(acc[j]);

  // Epilogue: warp w of the warpgroup owns rows 16 w + g and 16 w + g + 8;
  // register 4 i + r of chunk j holds column 128 j + 8 i + 2 t + (r & 1).
  const int lane = tid & 31;
  const int g = lane >> 2;
  const int t = lane & 3;
  const int rowBase = m0 + c * 64 + ((tid % 128) / 32) * 16 + g;
#pragma unroll
  for (int h = 0; h < 2; ++h) {
    const int m = rowBase + 8 * h;
    if (m >= args.M)
      continue;
#pragma unroll
    for (int j = 0; j < Cfg::kNChunks; ++j)
#pragma unroll
      for (int i = 0; i < 16; ++i) {
        const int n = n0 + j * 128 + i * 8 + 2 * t;
        if (n < args.N)
          Epi::apply2(args.epi, m, n, args.N, acc[j][4 * i + 2 * h],
                      acc[j][4 * i + 2 * h + 1]);
      }
  }
#endif
}

/// What a launch of GemmSm90 needs besides the stream: the tensor maps of A
/// and B (made once on the host) and the arguments.
struct GemmSm90Plan {
  CUtensorMap mapA;
  CUtensorMap mapB;
  GemmArgs args;
};

namespace sm90 {

/// Returns cuTensorMapEncodeTiled from the driver (through the runtime, so
/// programs need no -lcuda), or null.
inline PFN_cuTensorMapEncodeTiled_v12000 tensorMapEncoder() {
  static PFN_cuTensorMapEncodeTiled_v12000 fn = [] {
    void *p = nullptr;
    cudaDriverEntryPointQueryResult q;
    if (cudaGetDriverEntryPointByVersion("cuTensorMapEncodeTiled", &p, 12000,
                                         cudaEnableDefault,
                                         &q) != cudaSuccess ||
        q != cudaDriverEntryPointSuccess)
      p = nullptr;
    return reinterpret_cast<PFN_cuTensorMapEncodeTiled_v12000>(p);
  }();
  return fn;
}

/// Encodes a 2-D tensor map: |rows| x |cols| elements of |dtype|
/// (|elemBytes| each) with a row stride of |strideBytes|, a box of |boxRows|
/// x |boxCols| elements and |swizzle|.
inline cudaError_t encode2d(CUtensorMap *map, const void *ptr,
                            CUtensorMapDataType dtype, int64_t rows,
                            int64_t cols, int64_t strideBytes, int boxRows,
                            int boxCols, CUtensorMapSwizzle swizzle) {
  PFN_cuTensorMapEncodeTiled_v12000 encode = tensorMapEncoder();
  if (!encode)
    return cudaErrorNotSupported;
  const cuuint64_t dims[2] = {cuuint64_t(cols), cuuint64_t(rows)};
  const cuuint64_t strides[1] = {cuuint64_t(strideBytes)};
  const cuuint32_t box[2] = {cuuint32_t(boxCols), cuuint32_t(boxRows)};
  const cuuint32_t elemStrides[2] = {1, 1};
  const CUresult r = encode(map, dtype, 2, const_cast<void *>(ptr), dims,
                            strides, box, elemStrides,
                            CU_TENSOR_MAP_INTERLEAVE_NONE, swizzle,
                            CU_TENSOR_MAP_L2_PROMOTION_L2_256B,
                            CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE);
  return r == CUDA_SUCCESS ? cudaSuccess : cudaErrorInvalidValue;
}

/// Encodes a 2-D K-major operand [rows, ld] (elements of |elemBytes|) with
/// a box of |boxRows| x 128 bytes and the 128-byte swizzle.
inline cudaError_t encodeOperand(CUtensorMap *map, const void *ptr,
                                 int64_t rows, int64_t cols, int64_t ld,
                                 int elemBytes, int boxRows) {
  return encode2d(map, ptr,
                  elemBytes == 1 ? CU_TENSOR_MAP_DATA_TYPE_UINT8
                                 : CU_TENSOR_MAP_DATA_TYPE_FLOAT16,
                  rows, cols, ld * elemBytes, boxRows, 128 / elemBytes,
                  CU_TENSOR_MAP_SWIZZLE_128B);
}

} // namespace sm90

/// The sm_90a GEMM: T int8_t or __half, tile Cfg (TileSm90Large/Medium),
/// output stage Epi.
template <typename T, class Cfg, class Epi> struct GemmSm90 {
  using Config = Cfg;

  /// Checks |args| and encodes the tensor maps into |plan| (host only; call
  /// once per GEMM, outside stream capture).
  static cudaError_t makePlan(const GemmArgs &args, GemmSm90Plan &plan) {
    const auto aligned = [](const void *p) {
      return (reinterpret_cast<uintptr_t>(p) & 15u) == 0;
    };
    constexpr int64_t kElem = int64_t(sizeof(T));
    if (args.M <= 0 || args.N <= 0 || args.K <= 0 || args.splitK != 1 ||
        !aligned(args.A) || !aligned(args.B) || !args.epi.out ||
        (args.lda * kElem) % 16 != 0 || (args.ldb * kElem) % 16 != 0 ||
        args.lda < args.K || args.ldb < args.K)
      return cudaErrorInvalidValue;
    plan.args = args;
    if (cudaError_t e = sm90::encodeOperand(&plan.mapA, args.A, args.M, args.K,
                                            args.lda, int(kElem), Cfg::kBM);
        e != cudaSuccess)
      return e;
    return sm90::encodeOperand(&plan.mapB, args.B, args.N, args.K, args.ldb,
                               int(kElem), Cfg::kBN);
  }

  /// Raises the dynamic shared-memory limit (once).
  static cudaError_t prepare() {
    static const cudaError_t status = cudaFuncSetAttribute(
        gemmSm90Kernel<T, Cfg, Epi>,
        cudaFuncAttributeMaxDynamicSharedMemorySize, Cfg::kSmemBytes);
    return status;
  }

  /// Launches the GEMM of |plan| on |stream|.
  static cudaError_t run(const GemmSm90Plan &plan, cudaStream_t stream) {
    if (cudaError_t e = prepare(); e != cudaSuccess)
      return e;
    const int tiles = ceilDiv(plan.args.M, Cfg::kBM) *
                      ceilDiv(plan.args.N, Cfg::kBN);
    gemmSm90Kernel<T, Cfg, Epi>
        <<<tiles, Cfg::kThreads, Cfg::kSmemBytes, stream>>>(
            plan.mapA, plan.mapB, plan.args);
    return cudaGetLastError();
  }

  /// Plans and launches (convenience for tests; a program plans once).
  static cudaError_t run(const GemmArgs &args, cudaStream_t stream) {
    GemmSm90Plan plan;
    if (cudaError_t e = makePlan(args, plan); e != cudaSuccess)
      return e;
    return run(plan, stream);
  }
};

template <class Cfg, class Epi>
using GemmInt8Sm90 = GemmSm90<int8_t, Cfg, Epi>;
template <class Cfg, class Epi>
using GemmFp16Sm90 = GemmSm90<__half, Cfg, Epi>;

} // namespace kiln::cuda

#endif // KILN_RUNTIME_CUDA_INCLUDE_KILN_CUDA_GEMMSM90_CUH
