//===- NvFp4.h - NVFP4 quantization with 4/6 block scaling ------*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// NVFP4: FP4 E2M1 values (+-{0, 0.5, 1, 1.5, 2, 3, 4, 6}) in blocks of 16
// consecutive values along K, one FP8 E4M3 scale per block, and one float32
// tensor scale. Exact recipe, every step one float32 operation:
//
//   E      = scaleE4M3Max: the E4M3 value the tensor's amax maps to
//            (448 for standard NVFP4, NVIDIA's recipe; 256 for 4/6)
//   g      = amax / (6 * E)            tensor (decode) scale; 1 if that is 0
//   for a block with max |x| = b and target T (6, or 4 for the 4/6 candidate):
//   sb     = E4M3(b / (T * g))         round to nearest even, saturate at 448
//   d      = e4m3ToFloat(sb) * g       the block's decode scale
//   code_i = E2M1(x_i / d)             round to nearest, ties to even
//                                      mantissa, saturate at +-6; 0 if d = 0
//   x~_i   = e2m1ToFloat(code_i) * d
//
// Standard scaling uses T = 6 only. Four Over Six (4/6, Cook et al. 2025)
// computes both the T = 6 and the T = 4 candidates of every block and keeps
// T = 4 only when its block error (sum of squared errors, or sum of absolute
// errors; computed in double) is strictly lower, so a tie keeps the standard
// scale. FP4's largest step (4 -> 6) is where near-maximal values lose most;
// mapping the block max to 4 trades range for a finer top of the grid.
//
// Tensor scale under 4/6: the T = 4 candidate needs a block scale 1.5x that
// of T = 6, which with E = 448 would saturate E4M3 (1.5 * 448 = 672 > 448)
// exactly on the blocks holding the tensor's largest values. Following the
// authors' reference implementation we map amax to E = 256 under 4/6
// (g = amax / (6 * 256)): block scales of T = 6 stay <= 256 and those of
// T = 4 <= 384, so no block scale ever saturates. Standard NVFP4 keeps
// E = 448 (NVIDIA's recipe, amax / (448 * 6)). Either E can be forced with
// NvFp4Options::scaleE4M3Max, e.g. to compare at equal tensor scale.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_COMPILER_QUANT_INCLUDE_KILN_QUANT_NVFP4_H
#define KILN_COMPILER_QUANT_INCLUDE_KILN_QUANT_NVFP4_H

#include "kiln/quant/Matrix.h"

#include <cstdint>
#include <optional>
#include <vector>

namespace kiln::quant {

/// NVFP4's block size along K.
inline constexpr int64_t kNvFp4BlockSize = 16;
/// The E4M3 value amax maps to under standard NVFP4 (NVIDIA's recipe).
inline constexpr float kNvFp4StandardScaleMax = 448.0f;
/// The E4M3 value amax maps to under 4/6 (so that max -> 4 never saturates).
inline constexpr float kNvFp4FourOverSixScaleMax = 256.0f;

/// How block scales are chosen.
enum class NvFp4Scaling {
  /// Every block's max maps to 6.
  Standard,
  /// Per block, max -> 6 or max -> 4, whichever has the lower block error.
  FourOverSix,
};

/// The block error 4/6 minimises.
enum class BlockErrorMetric {
  /// Sum of squared errors.
  Mse,
  /// Sum of absolute errors.
  Mae,
};

/// Options of quantizeNvFp4.
struct NvFp4Options {
  NvFp4Scaling scaling = NvFp4Scaling::Standard;
  BlockErrorMetric metric = BlockErrorMetric::Mse;
  /// The E4M3 value amax maps to (E above); 0 picks 448 for Standard and 256
  /// for FourOverSix. Must be in (0, 448] otherwise.
  float scaleE4M3Max = 0.0f;
  /// The tensor amax (e.g. calibrated for static activations); when absent,
  /// max |x| of the input. Values beyond it saturate.
  std::optional<float> tensorAmax;
};

/// A matrix in NVFP4.
struct NvFp4Tensor {
  int64_t rows = 0;
  int64_t cols = 0;
  /// rows * cols E2M1 codes (low nibble, one per byte), row-major.
  std::vector<uint8_t> codes;
  /// rows * cols / 16 E4M3 block scales; block b of row r at r * cols / 16 + b.
  std::vector<uint8_t> blockScales;
  /// Per block: 1 when 4/6 chose max -> 4, else 0 (all 0 for Standard).
  std::vector<uint8_t> blockUsesFour;
  /// The float32 tensor (decode) scale g.
  float tensorScale = 1.0f;

  int64_t blocksPerRow() const { return cols / kNvFp4BlockSize; }
  /// Returns the decode scale of block |b| of row |r|: e4m3(sb) * g.
  float blockDecodeScale(int64_t r, int64_t b) const;
  /// Returns the dequantized matrix.
  Matrix dequantize() const;
};

/// Quantizes |m| to NVFP4. Fails on an empty or non-finite matrix, a column
/// count not divisible by 16, a non-positive or non-finite tensorAmax, or a
/// scaleE4M3Max outside (0, 448].
Result<NvFp4Tensor> quantizeNvFp4(MatrixRef m, const NvFp4Options &options);

/// Returns quantizeNvFp4(m, options)->dequantize().
Result<Matrix> fakeQuantNvFp4(MatrixRef m, const NvFp4Options &options);

} // namespace kiln::quant

#endif // KILN_COMPILER_QUANT_INCLUDE_KILN_QUANT_NVFP4_H
