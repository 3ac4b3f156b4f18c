//===- Select.h - Named tile configurations and their choice ----*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// The tile configurations the runtime ships (each one a type the code
// generator names in its template instantiations), and the heuristic that
// picks one for a static problem shape. Plain C++: the compiler calls
// selectGemm() at compile time and prints the returned type name and split
// factor into the generated .cu file; nothing here runs on the GPU.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_RUNTIME_CUDA_INCLUDE_KILN_CUDA_SELECT_H
#define KILN_RUNTIME_CUDA_INCLUDE_KILN_CUDA_SELECT_H

#include "kiln/cuda/Tile.h"

#include <cstdint>

namespace kiln::cuda {

// mma.sync tiles (sm_80, and sm_90 where no wgmma kernel applies). BKB is
// bytes of K per stage: 64 int8 or 32 fp16 values for 64.

/// 128 x 256, 8 warps of 64 x 64, 3 stages (72 KB): large compute-bound
/// GEMMs (one CTA per SM, ~200 registers per thread).
using TileInt8Large = TileConfig<128, 256, 64, 2, 4, 3>;
/// 128 x 128, 8 warps of 64 x 32, 4 stages (64 KB): the default.
using TileInt8Medium = TileConfig<128, 128, 64, 2, 4, 4>;
/// 64 x 128, 4 warps of 32 x 64, 4 stages (48 KB): M <= 64 or few tiles.
using TileInt8Small = TileConfig<64, 128, 64, 2, 2, 4>;
/// 16 x 128, 4 warps of 16 x 32, 128 bytes of K per stage, 4 stages
/// (72 KB): decode-style GEMMs (M <= 16), memory bound, with split-K.
using TileInt8Skinny = TileConfig<16, 128, 128, 1, 4, 4>;

using TileFp16Large = TileConfig<128, 256, 64, 2, 4, 3>;
using TileFp16Medium = TileConfig<128, 128, 64, 2, 4, 4>;
using TileFp16Small = TileConfig<64, 128, 64, 2, 2, 4>;
using TileFp16Skinny = TileConfig<16, 128, 128, 1, 4, 4>;

/// The named tiles, in the order of their type names above.
enum class TileKind : int { kLarge, kMedium, kSmall, kSkinny };

/// Returns the tile's CTA shape (rows, columns).
constexpr int tileRows(TileKind t) {
  return t == TileKind::kLarge || t == TileKind::kMedium
             ? 128
             : (t == TileKind::kSmall ? 64 : 16);
}
constexpr int tileCols(TileKind t) { return t == TileKind::kLarge ? 256 : 128; }
/// Returns bytes of K per stage.
constexpr int tileKBytes(TileKind t) { return t == TileKind::kSkinny ? 128 : 64; }

/// Returns the C++ type name the generator emits for |t| ("Int8" or
/// "Fp16" family by |int8|).
constexpr const char *tileTypeName(TileKind t, bool int8) {
  switch (t) {
  case TileKind::kLarge:
    return int8 ? "kiln::cuda::TileInt8Large" : "kiln::cuda::TileFp16Large";
  case TileKind::kMedium:
    return int8 ? "kiln::cuda::TileInt8Medium" : "kiln::cuda::TileFp16Medium";
  case TileKind::kSmall:
    return int8 ? "kiln::cuda::TileInt8Small" : "kiln::cuda::TileFp16Small";
  case TileKind::kSkinny:
    return int8 ? "kiln::cuda::TileInt8Skinny" : "kiln::cuda::TileFp16Skinny";
  }
  return "";
}

/// A tile and split factor for one GEMM.
struct GemmChoice {
  TileKind tile = TileKind::kMedium;
  int splitK = 1;
};

/// Picks a tile for C[M, N] = A[M, K] B[N, K]^T with |elemBytes| (1 or 2)
/// operands on a GPU with |numSMs| multiprocessors: skinny tiles with
/// split-K for decode shapes, the large tile when it still gives every SM
/// a CTA, and split-K whenever the tiles alone would leave most SMs idle
/// and K is long enough to split.
inline GemmChoice selectGemm(int64_t M, int64_t N, int64_t K, int elemBytes,
                             int numSMs = 132) {
  GemmChoice c;
  if (M <= 16)
    c.tile = TileKind::kSkinny;
  else if (M <= 64)
    c.tile = TileKind::kSmall;
  else if (ceilDiv<int64_t>(M, 128) * ceilDiv<int64_t>(N, 256) >= numSMs)
    c.tile = TileKind::kLarge;
  else
    c.tile = TileKind::kMedium;
  const int64_t tiles =
      ceilDiv<int64_t>(M, tileRows(c.tile)) * ceilDiv<int64_t>(N, tileCols(c.tile));
  const int64_t kSteps = ceilDiv<int64_t>(K * elemBytes, tileKBytes(c.tile));
  if (tiles < numSMs) {
    // Aim at two waves of CTAs, keep at least 4 K steps per split.
    int64_t split = (2 * numSMs + tiles - 1) / tiles;
    const int64_t maxSplit = kSteps / 4 > 0 ? kSteps / 4 : 1;
    split = split < maxSplit ? split : maxSplit;
    c.splitK = int(split < 16 ? split : 16);
  }
  return c;
}

/// What the code generator instantiates for one matrix operation: the
/// launcher template, its tile type, the split factor, and whether the
/// launcher needs a plan (tensor maps) made once at start-up.
struct KernelChoice {
  const char *launcher = "";
  const char *tile = "";
  int splitK = 1;
  bool needsPlan = false;
  /// The header that defines the launcher.
  const char *header = "";
};

/// Chooses the GEMM kernel for |arch|: on sm_90 the TMA + wgmma kernel
/// (GemmSm90) for M >= 128 (its 128-row tiles would be mostly empty below
/// that), 128 x 256 tiles when they still fill the GPU, else 128 x 128;
/// otherwise the mma.sync tiles of selectGemm (with split-K for small M).
inline KernelChoice chooseGemmKernel(Arch arch, int64_t M, int64_t N,
                                     int64_t K, int elemBytes,
                                     int numSMs = 132) {
  const bool int8 = elemBytes == 1;
  KernelChoice c;
  if (arch == Arch::kSm90 && M >= 128) {
    c.launcher = int8 ? "kiln::cuda::GemmInt8Sm90" : "kiln::cuda::GemmFp16Sm90";
    c.tile = ceilDiv<int64_t>(M, 128) * ceilDiv<int64_t>(N, 256) >= numSMs
                 ? "kiln::cuda::TileSm90Large"
                 : "kiln::cuda::TileSm90Medium";
    c.needsPlan = true;
    c.header = "kiln/cuda/GemmSm90.cuh";
    return c;
  }
  const GemmChoice g = selectGemm(M, N, K, elemBytes, numSMs);
  c.launcher = int8 ? "kiln::cuda::GemmInt8Sm80" : "kiln::cuda::GemmFp16Sm80";
  c.tile = tileTypeName(g.tile, int8);
  c.splitK = g.splitK;
  c.header = "kiln/cuda/GemmSm80.cuh";
  return c;
}

/// Chooses the W4A8 kernel: GemmW4A8Sm90 (RS wgmma) on sm_90 for M >= 64,
/// else GemmW4A8 (mma.sync) with the skinny tile and split-K for M <= 16.
inline KernelChoice chooseW4A8Kernel(Arch arch, int64_t M, int64_t N,
                                     int64_t K, int numSMs = 132) {
  KernelChoice c;
  if (arch == Arch::kSm90 && M >= 64) {
    c.launcher = "kiln::cuda::GemmW4A8Sm90";
    c.tile = M >= 128 ? "kiln::cuda::TileW4A8Sm90"
                      : "kiln::cuda::TileW4A8Sm90Narrow";
    c.needsPlan = true;
    c.header = "kiln/cuda/GemmW4A8Sm90.cuh";
    return c;
  }
  c.launcher = "kiln::cuda::GemmW4A8";
  c.header = "kiln/cuda/GemmW4A8.cuh";
  if (M <= 16) {
    c.tile = "kiln::cuda::TileW4A8Skinny";
    const int64_t tiles = ceilDiv<int64_t>(N, 128);
    const int64_t steps = K / 128;
    int64_t split = tiles < numSMs ? (2 * numSMs + tiles - 1) / tiles : 1;
    const int64_t maxSplit = steps / 4 > 0 ? steps / 4 : 1;
    split = split < maxSplit ? split : maxSplit;
    c.splitK = int(split < 16 ? split : 16);
  } else {
    c.tile = "kiln::cuda::TileW4A8Medium";
  }
  return c;
}

/// Returns whether W4A4 uses the int4 tensor cores (sm_80: mma.m16n8k64.s4)
/// or the int8 path after in-register unpacking (sm_90, no int4 tensor
/// cores): GemmW4A4's kInt4Mma template argument.
constexpr bool w4a4UsesInt4Mma(Arch arch) { return arch == Arch::kSm80; }

/// Chooses the fused attention kernel for |arch| and |headDim| (64, 128):
/// the launcher and its configuration template.
inline KernelChoice chooseAttentionKernel(Arch arch, int headDim) {
  KernelChoice c;
  if (arch == Arch::kSm90) {
    c.launcher = "kiln::cuda::AttentionSm90";
    c.tile = "kiln::cuda::AttentionConfigSm90"; // <headDim, causal[, schedule]>
    c.needsPlan = true;
    c.header = "kiln/cuda/AttentionSm90.cuh";
  } else {
    c.launcher = "kiln::cuda::AttentionSm80";
    // <headDim, 128 query rows (8 warps) for 128, 64 for 64, 64 keys, causal>
    c.tile = headDim == 128 ? "kiln::cuda::AttentionConfig<128, 128, 64, ...>"
                            : "kiln::cuda::AttentionConfig<64, 64, 64, ...>";
    c.header = "kiln/cuda/Attention.cuh";
  }
  return c;
}

} // namespace kiln::cuda

#endif // KILN_RUNTIME_CUDA_INCLUDE_KILN_CUDA_SELECT_H
