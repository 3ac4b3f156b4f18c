//===- GemmSm80.cuh - Tensor-core GEMM and implicit-GEMM conv ---*- CUDA -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// The warp-level (mma.sync) matrix kernel of Kiln, for sm_80 and newer:
//
//   C[M, N] = epilogue(A[M, K] * B[N, K]^T)
//
// with A int8 or fp16 row-major (activations), B the weights [N, K]
// ("K-major": a PyTorch Linear weight / an OHWI convolution filter), int32 or
// float32 accumulation, and one of the fused output stages of Epilogue.h.
//
// Main loop: a CTA tile BM x BN (TileConfig) walks K in steps of BKB bytes.
// Each step's A and B tiles travel global -> shared with cp.async.cg (16
// bytes per thread and copy, zero-filled beyond M, N and K) into a
// kStages-deep ring of XOR-swizzled tiles (Tile.h), so kStages - 1 tiles are
// in flight while the tensor cores work on the current one; one
// __syncthreads per step separates the reads of a slot from its next
// refill. Warps read fragments with ldmatrix.x4 and issue
// mma.sync.m16n8k32.s8 (int8) or m16n8k16.f16 (fp16): both consume 32 bytes
// of K per instruction, so the code is shared. Tiles are rasterized in
// groups of 8 tile rows for L2 reuse of B.
//
// Split-K: with args.splitK > 1, blockIdx.z takes a contiguous range of K
// steps and writes raw accumulators to the workspace; splitKReduce sums them
// in a fixed order (deterministic) and applies the epilogue.
//
// The A operand is read through a loader policy: RowMajorLoader (GEMM) or
// ConvLoader (implicit-GEMM convolution over NHWC activations, K ordered
// (kh, kw, c) like OHWI filters, padding taps filled with the input zero
// point so the result equals kiln::ref::conv2d once the compiler folds
// -zp * sum(w) into biasInt).
//
// Requirements (checked by run(), which returns cudaErrorInvalidValue):
// A, B 16-byte aligned; lda * sizeof(T) and ldb * sizeof(T) multiples of 16
// bytes (the compiler pads row strides; logical M, N, K are arbitrary).
// Everything runs on the caller's stream with no allocation, so launches can
// be captured in a CUDA graph.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_RUNTIME_CUDA_INCLUDE_KILN_CUDA_GEMMSM80_CUH
#define KILN_RUNTIME_CUDA_INCLUDE_KILN_CUDA_GEMMSM80_CUH

#include "kiln/cuda/Epilogue.h"
#include "kiln/cuda/Ptx.cuh"
#include "kiln/cuda/Tile.h"

#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <cstdint>

namespace kiln::cuda {

//===----------------------------------------------------------------------===//
// Element traits
//===----------------------------------------------------------------------===//

/// The tensor-core instruction of an element type. Both consume 32 bytes of
/// K per instruction with identical register layouts (Fragments.h).
template <typename T> struct MmaTraits;

template <> struct MmaTraits<int8_t> {
  using Acc = int32_t;
  static constexpr int kElemBytes = 1;
  KILN_DEVICE static void mma(Acc (&d)[4], const uint32_t (&a)[4],
                              const uint32_t (&b)[2]) {
    ptx::mmaS8(d, a, b);
  }
};

template <> struct MmaTraits<__half> {
  using Acc = float;
  static constexpr int kElemBytes = 2;
  KILN_DEVICE static void mma(Acc (&d)[4], const uint32_t (&a)[4],
                              const uint32_t (&b)[2]) {
    ptx::mmaF16(d, a, b);
  }
};

//===----------------------------------------------------------------------===//
// Arguments
//===----------------------------------------------------------------------===//

/// Operands of one GEMM. Sizes are element counts.
struct GemmArgs {
  int M = 0;
  int N = 0;
  int K = 0;
  /// A [M, lda] row-major.
  const void *A = nullptr;
  int64_t lda = 0;
  /// B [N, ldb] row-major (K contiguous).
  const void *B = nullptr;
  int64_t ldb = 0;
  /// Output stage operands (out, ldOut, scales, bias, residual).
  EpilogueParams epi;
  /// Number of K partitions; > 1 needs |workspace|.
  int splitK = 1;
  /// splitK * M * N accumulators (int32 or float), 16-byte aligned.
  void *workspace = nullptr;
};

/// Geometry of an NHWC convolution run as implicit GEMM: M = batch * OH * OW
/// output pixels, N = output channels, K = KH * KW * C.
struct ConvGeometry {
  int batch = 1;
  int H = 1;
  int W = 1;
  int C = 1;
  int OH = 1;
  int OW = 1;
  int KH = 1;
  int KW = 1;
  int strideH = 1;
  int strideW = 1;
  int padTop = 0;
  int padLeft = 0;
  int dilationH = 1;
  int dilationW = 1;
  /// The value of padding taps: the input zero point (int8), 0 (fp16).
  int32_t padValue = 0;
};

//===----------------------------------------------------------------------===//
// Loaders (global -> shared)
//===----------------------------------------------------------------------===//

namespace detail {

/// Copies a kRows x BKB tile of a row-major matrix with 16-byte cp.async.
template <class Cfg, int kRows> struct RowMajorTileLoader {
  static constexpr int kChunksPerRow = Cfg::kBKB / 16;
  static constexpr int kPerThread = kRows * kChunksPerRow / Cfg::kThreads;

  const char *base;
  const char *ptr[kPerThread];
  int colByte[kPerThread];
  uint32_t smemOff[kPerThread];
  bool rowValid[kPerThread];
  int kBytes;

  KILN_DEVICE RowMajorTileLoader(const void *matrix, int64_t ldBytes,
                                 int rows, int row0, int kBytesTotal,
                                 int tid) {
    base = static_cast<const char *>(matrix);
    kBytes = kBytesTotal;
#pragma unroll
    for (int i = 0; i < kPerThread; ++i) {
      const int c = tid + i * Cfg::kThreads;
      const int r = c / kChunksPerRow;
      const int ch = c % kChunksPerRow;
      rowValid[i] = row0 + r < rows;
      ptr[i] = base + (rowValid[i] ? (row0 + r) * ldBytes : 0) + ch * 16;
      colByte[i] = ch * 16;
      smemOff[i] = swizzleOffset<Cfg::kBKB>(r, ch);
    }
  }

  /// Issues the copies of K step |kt| into the tile at shared address
  /// |tile|.
  KILN_DEVICE void load(uint32_t tile, int kt) const {
#pragma unroll
    for (int i = 0; i < kPerThread; ++i) {
      const int k0 = kt * Cfg::kBKB + colByte[i];
      int bytes = kBytes - k0;
      bytes = bytes < 0 ? 0 : (bytes > 16 ? 16 : bytes);
      if (!rowValid[i])
        bytes = 0;
      const char *src = bytes > 0 ? ptr[i] + kt * Cfg::kBKB : base;
      ptx::cpAsync16(tile + smemOff[i], src, bytes);
    }
  }
};

} // namespace detail

/// A-operand policy of a plain GEMM: A is a row-major matrix.
struct RowMajorLoader {
  struct Params {};
  /// Returns true when A meets the loader's layout requirements.
  template <typename T>
  static bool checkA(const GemmArgs &args, const Params &) {
    return (args.lda * int64_t(sizeof(T))) % 16 == 0 && args.lda >= args.K &&
           (reinterpret_cast<uintptr_t>(args.A) & 15u) == 0;
  }
  template <class Cfg, typename T> struct Loader {
    detail::RowMajorTileLoader<Cfg, Cfg::kBM> tile;
    KILN_DEVICE Loader(const GemmArgs &args, const Params &, int m0, int tid)
        : tile(args.A, args.lda * int64_t(sizeof(T)), args.M, m0,
               args.K * int(sizeof(T)), tid) {}
    KILN_DEVICE void load(uint32_t smemTile, int kt) const {
      tile.load(smemTile, kt);
    }
  };
};

/// A-operand policy of an implicit-GEMM convolution over NHWC activations
/// (args.A, channel stride C). Each copy moves kVecBytes (4, 8 or 16) bytes
/// of channels of one tap; C * sizeof(T) must be a multiple of kVecBytes
/// (the compiler pads the channels of a first layer, e.g. 3 -> 4).
template <int kVecBytes = 16> struct ConvLoader {
  static_assert(kVecBytes == 4 || kVecBytes == 8 || kVecBytes == 16,
                "conv copies are 4, 8 or 16 bytes");
  using Params = ConvGeometry;

  /// Returns true when the geometry is consistent with the GEMM sizes.
  template <typename T>
  static bool checkA(const GemmArgs &args, const Params &g) {
    return (g.C * int(sizeof(T))) % kVecBytes == 0 &&
           args.K == g.KH * g.KW * g.C &&
           int64_t(args.M) == int64_t(g.batch) * g.OH * g.OW &&
           (reinterpret_cast<uintptr_t>(args.A) % kVecBytes) == 0;
  }

  template <class Cfg, typename T> struct Loader {
    static constexpr int kVecsPerRow = Cfg::kBKB / kVecBytes;
    static constexpr int kPerThread = Cfg::kBM * kVecsPerRow / Cfg::kThreads;
    static constexpr int kVecElems = kVecBytes / int(sizeof(T));
    static_assert(Cfg::kBM * kVecsPerRow % Cfg::kThreads == 0,
                  "every thread copies the same number of vectors");

    const T *x;
    ConvGeometry g;
    int K;
    int img[kPerThread];
    int ih0[kPerThread];
    int iw0[kPerThread];
    int kOff[kPerThread];
    uint32_t smemOff[kPerThread];
    bool rowValid[kPerThread];

    KILN_DEVICE Loader(const GemmArgs &args, const Params &geom, int m0,
                       int tid)
        : x(static_cast<const T *>(args.A)), g(geom), K(args.K) {
#pragma unroll
      for (int i = 0; i < kPerThread; ++i) {
        const int v = tid + i * Cfg::kThreads;
        const int r = v / kVecsPerRow;
        const int col = v % kVecsPerRow;
        const int m = m0 + r;
        rowValid[i] = m < args.M;
        const int mm = rowValid[i] ? m : 0;
        const int ow = mm % g.OW;
        const int t = mm / g.OW;
        const int oh = t % g.OH;
        img[i] = t / g.OH;
        ih0[i] = oh * g.strideH - g.padTop;
        iw0[i] = ow * g.strideW - g.padLeft;
        kOff[i] = col * kVecElems;
        smemOff[i] = swizzleOffset<Cfg::kBKB>(r, col * kVecBytes / 16) +
                     (col * kVecBytes) % 16;
      }
    }

    KILN_DEVICE void load(uint32_t smemTile, int kt) const {
      constexpr int kBK = Cfg::kBKB / int(sizeof(T));
#pragma unroll
      for (int i = 0; i < kPerThread; ++i) {
        const int k = kt * kBK + kOff[i];
        const int c = k % g.C;
        const int tap = k / g.C;
        const int kw = tap % g.KW;
        const int kh = tap / g.KW;
        const int ih = ih0[i] + kh * g.dilationH;
        const int iw = iw0[i] + kw * g.dilationW;
        const bool inside = rowValid[i] && k < K && ih >= 0 && ih < g.H &&
                            iw >= 0 && iw < g.W;
        const uint32_t dst = smemTile + smemOff[i];
        if (inside || k >= K || !rowValid[i]) {
          // Taps past K meet zero weights and rows past M are never
          // stored, so zero fill is right for both.
          const T *src =
              inside ? x + ((int64_t(img[i]) * g.H + ih) * g.W + iw) * g.C + c
                     : x;
          ptx::cpAsync<kVecBytes>(dst, src, inside ? kVecBytes : 0);
        } else {
          // A padding tap reads the input zero point (kiln::ref::conv2d
          // skips it, i.e. contributes (zp - zp) * w = 0 after the folded
          // correction).
          storePad(dst);
        }
      }
    }

    /// Stores kVecBytes of the padding value at shared address |dst|.
    KILN_DEVICE void storePad(uint32_t dst) const {
      uint32_t word;
      if constexpr (sizeof(T) == 1)
        word = (uint32_t(g.padValue) & 0xffu) * 0x01010101u;
      else
        word = (uint32_t(g.padValue) & 0xffffu) * 0x00010001u;
      if constexpr (kVecBytes == 16)
        asm volatile("st.shared.v4.u32 [%0], {%1, %1, %1, %1};\n" ::"r"(dst),
                     "r"(word));
      else if constexpr (kVecBytes == 8)
        asm volatile("st.shared.v2.u32 [%0], {%1, %1};\n" ::"r"(dst),
                     "r"(word));
      else
        asm volatile("st.shared.u32 [%0], %1;\n" ::"r"(dst), "r"(word));
    }
  };
};

//===----------------------------------------------------------------------===//
// Kernel
//===----------------------------------------------------------------------===//

namespace detail {

/// Maps a linear CTA index to (tile row, tile column), walking groups of 8
/// tile rows column by column so that CTAs running together share B tiles
/// in L2.
KILN_DEVICE void rasterize(int pid, int tilesM, int tilesN, int &tm,
                           int &tn) {
  constexpr int kGroup = 8;
  const int perGroup = kGroup * tilesN;
  const int group = pid / perGroup;
  const int firstM = group * kGroup;
  const int groupM = min(tilesM - firstM, kGroup);
  const int inGroup = pid % perGroup;
  tm = firstM + inGroup % groupM;
  tn = inGroup / groupM;
}

} // namespace detail

/// The GEMM / implicit-GEMM kernel; see the file comment.
template <typename T, class Cfg, class Epi, class ALoad>
__global__ void __launch_bounds__(Cfg::kThreads)
    gemmSm80Kernel(GemmArgs args, typename ALoad::Params aParams) {
#if defined(KILN_SM80)
  using Traits = MmaTraits<T>;
  using Acc = typename Traits::Acc;
  constexpr int kBKB = Cfg::kBKB;
  constexpr int kMI = Cfg::kMI;
  constexpr int kNI = Cfg::kNI;
  constexpr int kStages = Cfg::kStages;

  extern __shared__ __align__(128) unsigned char smem[];
  const uint32_t smemBase = ptx::smemAddr(smem);
  const uint32_t smemB = smemBase + kStages * Cfg::kBM * kBKB;

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

  const int kBytes = args.K * int(sizeof(T));
  const int kTiles = ceilDiv(kBytes, kBKB);
  const int perSplit = ceilDiv(kTiles, args.splitK);
  const int kBegin = blockIdx.z * perSplit;
  const int kEnd = min(kTiles, kBegin + perSplit);

  typename ALoad::template Loader<Cfg, T> aLoader(args, aParams, m0, tid);
  detail::RowMajorTileLoader<Cfg, Cfg::kBN> bLoader(
      args.B, args.ldb * int64_t(sizeof(T)), args.N, n0, kBytes, tid);

  // Prologue: kStages - 1 steps in flight. Every iteration commits one
  // group (possibly empty) so that wait_group counts stay uniform.
#pragma unroll
  for (int s = 0; s < kStages - 1; ++s) {
    if (kBegin + s < kEnd) {
      aLoader.load(smemBase + s * Cfg::kBM * kBKB, kBegin + s);
      bLoader.load(smemB + s * Cfg::kBN * kBKB, kBegin + s);
    }
    ptx::cpAsyncCommit();
  }

  Acc acc[kMI][kNI][4];
#pragma unroll
  for (int i = 0; i < kMI; ++i)
#pragma unroll
    for (int j = 0; j < kNI; ++j)
#pragma unroll
      for (int r = 0; r < 4; ++r)
        acc[i][j][r] = Acc(0);

  // Row/chunk of this lane's ldmatrix addresses (Fragments.h).
  const int aRow = warpM * Cfg::kWarpM + (lane & 15);
  const int aChunk = lane >> 4;
  const int bRow = warpN * Cfg::kWarpN + (lane & 7) + ((lane >> 4) << 3);
  const int bChunk = (lane >> 3) & 1;

  for (int kt = kBegin; kt < kEnd; ++kt) {
    ptx::cpAsyncWait<kStages - 2>();
    __syncthreads();
    const int next = kt + kStages - 1;
    if (next < kEnd) {
      const int slot = (next - kBegin) % kStages;
      aLoader.load(smemBase + slot * Cfg::kBM * kBKB, next);
      bLoader.load(smemB + slot * Cfg::kBN * kBKB, next);
    }
    ptx::cpAsyncCommit();

    const int slot = (kt - kBegin) % kStages;
    const uint32_t aTile = smemBase + slot * Cfg::kBM * kBKB;
    const uint32_t bTile = smemB + slot * Cfg::kBN * kBKB;
#pragma unroll
    for (int ks = 0; ks < kBKB / 32; ++ks) {
      uint32_t af[kMI][4];
      uint32_t bf[kNI][2];
#pragma unroll
      for (int i = 0; i < kMI; ++i)
        ptx::ldmatrixX4(
            aTile + swizzleOffset<kBKB>(aRow + i * 16, ks * 2 + aChunk),
            af[i][0], af[i][1], af[i][2], af[i][3]);
#pragma unroll
      for (int j = 0; j < kNI / 2; ++j)
        ptx::ldmatrixX4(
            bTile + swizzleOffset<kBKB>(bRow + j * 16, ks * 2 + bChunk),
            bf[2 * j][0], bf[2 * j][1], bf[2 * j + 1][0], bf[2 * j + 1][1]);
#pragma unroll
      for (int i = 0; i < kMI; ++i)
#pragma unroll
        for (int j = 0; j < kNI; ++j)
          Traits::mma(acc[i][j], af[i], bf[j]);
    }
  }
  ptx::cpAsyncWait<0>();

  // Epilogue: lane (g, t) owns rows g and g + 8 and columns 2t, 2t + 1 of
  // every 16 x 8 accumulator tile.
  const int g = lane >> 2;
  const int t = lane & 3;
#pragma unroll
  for (int i = 0; i < kMI; ++i) {
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
          Acc *ws = static_cast<Acc *>(args.workspace) +
                    (int64_t(blockIdx.z) * args.M + m) * args.N + n;
          ws[0] = acc[i][j][2 * h];
          if (n + 1 < args.N)
            ws[1] = acc[i][j][2 * h + 1];
        }
      }
    }
  }
#endif
}

/// Sums the split-K partial accumulators in split order and applies the
/// epilogue; one thread per pair of adjacent outputs.
template <typename Acc, class Epi>
__global__ void splitKReduceKernel(int M, int N, int splits,
                                   const Acc *__restrict__ ws,
                                   EpilogueParams epi) {
  const int pairsPerRow = (N + 1) / 2;
  const int64_t idx = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (idx >= int64_t(M) * pairsPerRow)
    return;
  const int m = int(idx / pairsPerRow);
  const int n = int(idx % pairsPerRow) * 2;
  Acc a0 = Acc(0), a1 = Acc(0);
  for (int s = 0; s < splits; ++s) {
    const Acc *p = ws + (int64_t(s) * M + m) * N + n;
    a0 += p[0];
    if (n + 1 < N)
      a1 += p[1];
  }
  Epi::apply2(epi, m, n, N, a0, a1);
}

//===----------------------------------------------------------------------===//
// Launchers
//===----------------------------------------------------------------------===//

/// One GEMM (or implicit-GEMM convolution with ConvLoader) configuration:
/// element type T (int8_t, __half), tile Cfg, output stage Epi, A loader.
template <typename T, class Cfg, class Epi, class ALoad = RowMajorLoader>
struct GemmSm80 {
  using Acc = typename MmaTraits<T>::Acc;
  using Config = Cfg;

  /// Returns the workspace bytes run() needs for |splitK| partitions.
  static size_t workspaceBytes(int M, int N, int splitK) {
    return splitK > 1 ? size_t(splitK) * size_t(M) * size_t(N) * sizeof(Acc)
                      : 0;
  }

  /// Raises the kernel's dynamic shared-memory limit; run() calls it once,
  /// a program may call it at start-up (outside stream capture).
  static cudaError_t prepare() {
    static const cudaError_t status = cudaFuncSetAttribute(
        gemmSm80Kernel<T, Cfg, Epi, ALoad>,
        cudaFuncAttributeMaxDynamicSharedMemorySize, Cfg::kSmemBytes);
    return status;
  }

  /// Checks |args| against the kernel's requirements.
  static cudaError_t check(const GemmArgs &args,
                           const typename ALoad::Params &aParams) {
    const auto aligned = [](const void *p) {
      return (reinterpret_cast<uintptr_t>(p) & 15u) == 0;
    };
    if (args.M <= 0 || args.N <= 0 || args.K <= 0 || args.splitK < 1 ||
        !aligned(args.B) || !args.epi.out ||
        !ALoad::template checkA<T>(args, aParams) ||
        (args.ldb * int64_t(sizeof(T))) % 16 != 0 || args.ldb < args.K)
      return cudaErrorInvalidValue;
    if (args.splitK > 1 && !aligned(args.workspace))
      return cudaErrorInvalidValue;
    return cudaSuccess;
  }

  /// Launches the GEMM (and the split-K reduction) on |stream|.
  static cudaError_t run(const GemmArgs &args,
                         const typename ALoad::Params &aParams,
                         cudaStream_t stream) {
    if (cudaError_t e = check(args, aParams); e != cudaSuccess)
      return e;
    if (cudaError_t e = prepare(); e != cudaSuccess)
      return e;
    const int tiles = ceilDiv(args.M, Cfg::kBM) * ceilDiv(args.N, Cfg::kBN);
    const dim3 grid(tiles, 1, args.splitK);
    gemmSm80Kernel<T, Cfg, Epi, ALoad>
        <<<grid, Cfg::kThreads, Cfg::kSmemBytes, stream>>>(args, aParams);
    if (args.splitK > 1) {
      const int64_t pairs = int64_t(args.M) * ((args.N + 1) / 2);
      splitKReduceKernel<Acc, Epi><<<unsigned(ceilDiv<int64_t>(pairs, 256)),
                                     256, 0, stream>>>(
          args.M, args.N, args.splitK, static_cast<const Acc *>(args.workspace),
          args.epi);
    }
    return cudaGetLastError();
  }

  /// Plain GEMM entry point (RowMajorLoader).
  static cudaError_t run(const GemmArgs &args, cudaStream_t stream) {
    return run(args, typename ALoad::Params{}, stream);
  }
};

/// int8 x int8 -> int32 GEMM (and its epilogues).
template <class Cfg, class Epi>
using GemmInt8Sm80 = GemmSm80<int8_t, Cfg, Epi, RowMajorLoader>;
/// fp16 x fp16 -> float32-accumulated GEMM.
template <class Cfg, class Epi>
using GemmFp16Sm80 = GemmSm80<__half, Cfg, Epi, RowMajorLoader>;

} // namespace kiln::cuda

#endif // KILN_RUNTIME_CUDA_INCLUDE_KILN_CUDA_GEMMSM80_CUH
