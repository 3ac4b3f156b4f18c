//===- Tile.h - Tile configurations and shared-memory swizzles --*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// Compile-time tile shapes of the tensor-core kernels and the XOR swizzle of
// their shared-memory tiles. Plain C++ (no CUDA): the code generator reads
// the same constants when it sizes launches.
//
// A shared-memory tile is `rows x kRowBytes` bytes, stored row after row,
// in 16-byte chunks. Logical chunk c of row r lives at physical chunk
// swizzleChunk<kRowBytes>(r, c). ldmatrix reads one 16-byte chunk from each
// of 8 consecutive rows at the same logical chunk; the swizzle puts those 8
// chunks in 8 different groups of 4 banks, so the read is conflict-free, and
// cp.async writes of whole rows stay conflict-free too:
//   kRowBytes >= 128: c ^ (r % 8)          (the "128-byte swizzle")
//   kRowBytes == 64:  c ^ ((r / 2) % 4)    (two rows share a 128-byte line)
//   kRowBytes == 32:  c ^ ((r / 4) % 2)
//
//===----------------------------------------------------------------------===//

#ifndef KILN_RUNTIME_CUDA_INCLUDE_KILN_CUDA_TILE_H
#define KILN_RUNTIME_CUDA_INCLUDE_KILN_CUDA_TILE_H

#include "kiln/cuda/Config.h"

namespace kiln::cuda {

/// Returns the physical 16-byte chunk of logical chunk |c| in row |r| of a
/// tile whose rows are |kRowBytes| long (see the file comment).
template <int kRowBytes> constexpr KILN_HD int swizzleChunk(int r, int c) {
  static_assert(kRowBytes == 32 || kRowBytes == 64 || kRowBytes % 128 == 0,
                "tile rows must be 32, 64 or a multiple of 128 bytes");
  if constexpr (kRowBytes >= 128)
    return c ^ (r & 7);
  else if constexpr (kRowBytes == 64)
    return c ^ ((r >> 1) & 3);
  else
    return c ^ ((r >> 2) & 1);
}

/// Returns the byte offset of logical chunk |c| of row |r|.
template <int kRowBytes> constexpr KILN_HD int swizzleOffset(int r, int c) {
  return r * kRowBytes + swizzleChunk<kRowBytes>(r, c) * 16;
}

/// A CTA tile of a warp-level (mma.sync) matrix kernel: BM x BN outputs,
/// BKB bytes of K per pipeline stage (64 int8 or 32 fp16 values for 64),
/// WARPS_M x WARPS_N warps, STAGES shared-memory stages.
template <int BM, int BN, int BKB, int WARPS_M, int WARPS_N, int STAGES>
struct TileConfig {
  static constexpr int kBM = BM;
  static constexpr int kBN = BN;
  static constexpr int kBKB = BKB;
  static constexpr int kWarpsM = WARPS_M;
  static constexpr int kWarpsN = WARPS_N;
  static constexpr int kStages = STAGES;
  static constexpr int kWarps = WARPS_M * WARPS_N;
  static constexpr int kThreads = kWarps * 32;
  /// Outputs per warp.
  static constexpr int kWarpM = BM / WARPS_M;
  static constexpr int kWarpN = BN / WARPS_N;
  /// mma tiles per warp (16 x 8 each).
  static constexpr int kMI = kWarpM / 16;
  static constexpr int kNI = kWarpN / 8;
  /// Bytes of shared memory of one stage and of all stages.
  static constexpr int kStageBytes = (BM + BN) * BKB;
  static constexpr int kSmemBytes = STAGES * kStageBytes;

  static_assert(BM % (16 * WARPS_M) == 0, "warp tile M must be 16k");
  static_assert(BN % (16 * WARPS_N) == 0, "warp tile N must be 16k");
  static_assert(BKB % 32 == 0, "BKB must be a multiple of 32 bytes");
  static_assert(STAGES >= 2, "at least two stages");
  static_assert((BM * BKB / 16) % kThreads == 0 &&
                    (BN * BKB / 16) % kThreads == 0,
                "every thread copies the same number of 16-byte chunks");
};

} // namespace kiln::cuda

#endif // KILN_RUNTIME_CUDA_INCLUDE_KILN_CUDA_TILE_H
