//===- FakeQuant.h - Quantize-dequantize by scheme name ---------*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// A QuantSpec names one of the library's row-wise quantizers (each row is a
// weight output channel or an activation token; groups and blocks run along
// the columns), so that searches (SmoothQuant's alpha, SVDQuant's rank) and
// error measurements can take "the weight quantizer" and "the activation
// quantizer" as parameters. fakeQuantize returns the quantize-dequantize
// image of a matrix: the exact values the quantized kernel would see.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_COMPILER_QUANT_INCLUDE_KILN_QUANT_FAKEQUANT_H
#define KILN_COMPILER_QUANT_INCLUDE_KILN_QUANT_FAKEQUANT_H

#include "kiln/quant/Matrix.h"

#include <cstdint>
#include <string>

namespace kiln::quant {

/// The quantizers a QuantSpec can name.
enum class QuantScheme {
  /// Identity (float reference).
  None,
  /// Symmetric int8 per row, [-127, 127] (per-channel weights, per-token
  /// activations).
  Int8PerRow,
  /// Asymmetric uint4 per group of groupSize columns.
  Int4GroupAsym,
  /// Symmetric int4 (-7..7) per group of groupSize columns.
  Int4GroupSym,
  /// Standard NVFP4 (block max -> 6, amax -> 448 * 6).
  NvFp4,
  /// NVFP4 with Four Over Six (MSE block selection, amax -> 256 * 6).
  NvFp4FourOverSix,
};

/// A quantizer and its group size (int4 schemes only).
struct QuantSpec {
  QuantScheme scheme = QuantScheme::None;
  int64_t groupSize = 0;

  static QuantSpec none() { return {QuantScheme::None, 0}; }
  static QuantSpec int8PerRow() { return {QuantScheme::Int8PerRow, 0}; }
  static QuantSpec int4GroupAsym(int64_t groupSize) {
    return {QuantScheme::Int4GroupAsym, groupSize};
  }
  static QuantSpec int4GroupSym(int64_t groupSize) {
    return {QuantScheme::Int4GroupSym, groupSize};
  }
  static QuantSpec nvfp4() { return {QuantScheme::NvFp4, 0}; }
  static QuantSpec nvfp4FourOverSix() {
    return {QuantScheme::NvFp4FourOverSix, 0};
  }
};

/// Returns a short name such as "int4-sym-g64" or "nvfp4-4/6".
std::string str(const QuantSpec &spec);

/// Checks that |spec| can quantize a matrix with |cols| columns (group size
/// divides it, NVFP4 needs a multiple of 16).
Status checkSpec(const QuantSpec &spec, int64_t cols);

/// Returns the quantize-dequantize image of |m| under |spec|.
Result<Matrix> fakeQuantize(MatrixRef m, const QuantSpec &spec);

} // namespace kiln::quant

#endif // KILN_COMPILER_QUANT_INCLUDE_KILN_QUANT_FAKEQUANT_H
