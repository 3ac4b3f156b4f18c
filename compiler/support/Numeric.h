//===- Numeric.h - Narrow float formats and rounding helpers ----*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// Bit-exact conversions between float and the narrow formats host tensors
// store (IEEE half, bfloat16, the four ONNX float8 formats, FP4 E2M1), with
// round-to-nearest-even and ONNX's saturation rules, plus integer rounding
// helpers. Used by the evaluator, the importer and data I/O.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_COMPILER_SUPPORT_NUMERIC_H
#define KILN_COMPILER_SUPPORT_NUMERIC_H

#include "kiln/Tensor.h"

#include <cmath>
#include <cstdint>
#include <cstring>

namespace kiln {

/// Returns the float with the bits of IEEE binary16 |bits|.
float halfToFloat(uint16_t bits);
/// Returns |value| rounded to IEEE binary16 (nearest even; overflow -> inf).
uint16_t floatToHalf(float value);
/// Returns the float with the bits of bfloat16 |bits|.
inline float bfloat16ToFloat(uint16_t bits) {
  uint32_t word = static_cast<uint32_t>(bits) << 16;
  float value;
  std::memcpy(&value, &word, 4);
  return value;
}
/// Returns |value| rounded to bfloat16 (nearest even; NaN stays NaN).
uint16_t floatToBfloat16(float value);

/// Decodes one element of the 8- or 4-bit float type |type|.
float narrowFloatToFloat(DType type, uint8_t bits);
/// Encodes |value| as the 8- or 4-bit float type |type| (nearest even);
/// with |saturate| out-of-range values clamp to the largest finite value,
/// otherwise they become inf (E5M2) or NaN (types without inf).
uint8_t floatToNarrowFloat(DType type, float value, bool saturate);

/// Reads element |i| of a floating-point tensor as double.
double loadFloat(const Tensor &tensor, int64_t i);
/// Writes |value| to element |i| of a floating-point tensor (rounding to
/// the storage format; narrow types saturate).
void storeFloat(Tensor &tensor, int64_t i, double value);
/// Reads element |i| of an integer or bool tensor as int64 (uint64 values
/// above INT64_MAX wrap; use loadUnsigned for those).
int64_t loadInt(const Tensor &tensor, int64_t i);
/// Reads element |i| of an unsigned tensor.
uint64_t loadUnsigned(const Tensor &tensor, int64_t i);
/// Writes |value| (truncated to the width) to element |i| of an integer or
/// bool tensor.
void storeInt(Tensor &tensor, int64_t i, int64_t value);
/// Returns true for signed integer types (I4..I64).
bool isSignedInt(DType type);
/// Returns true for unsigned integer types (U4..U64).
bool isUnsignedInt(DType type);
/// Returns the smallest / largest value of an integer type.
int64_t intMin(DType type);
int64_t intMax(DType type);

/// memcpy that accepts empty ranges (whose pointers may be null, which
/// memcpy itself does not allow).
inline void copyBytes(void *dst, const void *src, size_t bytes) {
  if (bytes)
    std::memcpy(dst, src, bytes);
}

/// Rounds half to even (numpy.round / ONNX Round / QuantizeLinear).
inline double roundHalfEven(double value) { return std::nearbyint(value); }

} // namespace kiln

#endif // KILN_COMPILER_SUPPORT_NUMERIC_H
