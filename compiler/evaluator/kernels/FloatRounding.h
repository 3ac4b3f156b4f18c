//===- FloatRounding.h - Rounding to a kernel's compute type ----*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// Kernels that reproduce ONNX's reference step by step (quantization,
// attention, rotary embeddings) keep intermediate values in double and
// round them to the type numpy would hold them in after each operation.
// roundTo() does that rounding correctly (once) from any double.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_COMPILER_EVALUATOR_KERNELS_FLOATROUNDING_H
#define KILN_COMPILER_EVALUATOR_KERNELS_FLOATROUNDING_H

#include "compiler/support/Numeric.h"

#include <cmath>
#include <cstring>

namespace kiln::eval {

/// Returns |value| rounded to float32 with round-to-odd: truncated, with the
/// last significand bit set when inexact. Rounding that result to a format
/// with at most 22 significand bits (half, bfloat16) gives the correctly
/// rounded (nearest-even) value of |value|, which rounding through a
/// nearest-even float32 does not always.
inline float roundToOddFloat(double value) {
  float f = static_cast<float>(value);
  if (static_cast<double>(f) == value || std::isnan(value) || std::isinf(f))
    return f;
  if (std::fabs(static_cast<double>(f)) > std::fabs(value))
    f = std::nextafter(f, 0.0f);
  uint32_t bits;
  std::memcpy(&bits, &f, 4);
  bits |= 1;
  std::memcpy(&f, &bits, 4);
  return f;
}

/// Returns |value| rounded (nearest even) to the float type |type|: float32,
/// float16 or bfloat16; float64 and other types return |value| unchanged.
inline double roundTo(DType type, double value) {
  switch (type) {
  case DType::F32:
    return static_cast<float>(value);
  case DType::F16:
    return halfToFloat(floatToHalf(roundToOddFloat(value)));
  case DType::BF16:
    return bfloat16ToFloat(floatToBfloat16(roundToOddFloat(value)));
  default:
    return value;
  }
}

} // namespace kiln::eval

#endif // KILN_COMPILER_EVALUATOR_KERNELS_FLOATROUNDING_H
