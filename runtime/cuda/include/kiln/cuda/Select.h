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

} // namespace kiln::cuda

#endif // KILN_RUNTIME_CUDA_INCLUDE_KILN_CUDA_SELECT_H
