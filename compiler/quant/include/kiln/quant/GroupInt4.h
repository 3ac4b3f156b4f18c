//===- GroupInt4.h - Group-wise round-to-nearest int4 -----------*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// Round-to-nearest (RTN) 4-bit quantization with one scale (and zero) per
// group of |groupSize| consecutive values along K, inside a row. Used for
// weights (groups along in_features) and activations (groups along the
// hidden dimension of each token) alike, and for the KV cache (group =
// head_dim). Two flavours:
// - Asymmetric: uint4 codes 0..15. The group range is widened to include 0:
//   lo = min(0, min x), hi = max(0, max x); scale = (hi - lo) / 15 (computed
//   in double, rounded to float32);
//   zero = clamp(round(-lo / scale), 0, 15); q = clamp(round(x / scale) +
//   zero, 0, 15); x ~ (q - zero) * scale. Zero is exactly representable and
//   nothing clips beyond half a step.
// - Symmetric: int4 codes -7..7 (the -8 code is never produced, so the grid
//   is sign-balanced): scale = max |x| / 7; q = clamp(round(x / scale), -7,
//   7); x ~ q * scale.
// An all-zero group gets scale 1 (and zero 0). round() is half away from
// zero; x / scale is one float32 division; the dequantized value is one
// float32 product of the (exact) integer difference and the scale.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_COMPILER_QUANT_INCLUDE_KILN_QUANT_GROUPINT4_H
#define KILN_COMPILER_QUANT_INCLUDE_KILN_QUANT_GROUPINT4_H

#include "kiln/quant/Matrix.h"

#include <cstdint>
#include <vector>

namespace kiln::quant {

/// The two 4-bit integer grids.
enum class Int4Kind {
  /// uint4 0..15 with a float32 scale and an integer zero point per group.
  Asymmetric,
  /// int4 -7..7 with a float32 scale per group.
  Symmetric,
};

/// A matrix quantized to 4-bit integers per group along its columns.
struct GroupInt4 {
  int64_t rows = 0;
  int64_t cols = 0;
  int64_t groupSize = 0;
  Int4Kind kind = Int4Kind::Asymmetric;
  /// rows * cols codes, row-major, one per byte: 0..15 (asymmetric) or
  /// -7..7 (symmetric). Packing.h packs them two per byte.
  std::vector<int8_t> values;
  /// rows * groupsPerRow() scales; group g of row r at r * groupsPerRow() + g.
  std::vector<float> scales;
  /// Zero points (0..15), same indexing as scales; empty when symmetric.
  std::vector<uint8_t> zeros;

  int64_t groupsPerRow() const { return groupSize ? cols / groupSize : 0; }
  /// Returns the dequantized matrix.
  Matrix dequantize() const;
};

/// Checks that |groupSize| is positive and divides |cols|.
Status checkGroupSize(int64_t cols, int64_t groupSize);

/// Quantizes |m| group-wise along its columns. Fails on a non-finite or
/// empty matrix, or when |groupSize| does not divide the column count.
Result<GroupInt4> quantizeGroupInt4(MatrixRef m, int64_t groupSize,
                                    Int4Kind kind);

/// Returns quantizeGroupInt4(m, groupSize, kind)->dequantize().
Result<Matrix> fakeQuantGroupInt4(MatrixRef m, int64_t groupSize,
                                  Int4Kind kind);

} // namespace kiln::quant

#endif // KILN_COMPILER_QUANT_INCLUDE_KILN_QUANT_GROUPINT4_H
