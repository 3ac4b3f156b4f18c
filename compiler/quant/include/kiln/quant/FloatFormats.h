//===- FloatFormats.h - fp16, FP8 E4M3 and FP4 E2M1 conversions -*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// Exact, table-free conversions between float32 and the small floating-point
// formats the quantization schemes store: IEEE binary16 (SVDQuant's low-rank
// factors), FP8 E4M3 "fn" (NVFP4 block scales) and FP4 E2M1 (NVFP4 values).
// All three encoders share one rule: round to nearest, ties to the even
// mantissa (the IEEE default), with gradual underflow into subnormals; they
// differ only in what happens above the largest finite value:
//
// | format | bias | max finite | min subnormal | above max       | NaN in  |
// |--------|------|------------|---------------|-----------------|---------|
// | fp16   | 15   | 65504      | 2^-24         | +-inf (IEEE)    | 0x7e00  |
// | E4M3   | 7    | 448        | 2^-9          | saturate +-448  | 0x7f    |
// | E2M1   | 1    | 6          | 0.5           | saturate +-6    | +0      |
//
// E4M3 has no infinity (exponent 1111 with mantissa 111 is its only NaN);
// +-inf saturates to +-448, as PTX cvt.rn.satfinite.e4m3x2 does. E2M1 has
// neither inf nor NaN. The sign of zero and of values that round to zero is
// kept (-1e-30 gives -0).
//
//===----------------------------------------------------------------------===//

#ifndef KILN_COMPILER_QUANT_INCLUDE_KILN_QUANT_FLOATFORMATS_H
#define KILN_COMPILER_QUANT_INCLUDE_KILN_QUANT_FLOATFORMATS_H

#include <cstdint>

namespace kiln::quant {

/// Largest finite IEEE binary16 value.
inline constexpr float kHalfMax = 65504.0f;
/// Largest finite FP8 E4M3 value.
inline constexpr float kE4M3Max = 448.0f;
/// Largest FP4 E2M1 value.
inline constexpr float kE2M1Max = 6.0f;

/// Returns the IEEE binary16 bits nearest to |x| (ties to even); values whose
/// magnitude rounds above 65504 become +-inf, NaN becomes 0x7e00 (signed).
uint16_t floatToHalf(float x);
/// Returns the float32 value of binary16 |bits| (exact).
float halfToFloat(uint16_t bits);
/// Returns |x| rounded to the nearest binary16 value, as float32.
float roundToHalf(float x);

/// Returns the FP8 E4M3 bits nearest to |x| (ties to even); magnitudes that
/// round above 448, and +-inf, saturate to +-448 (0x7e / 0xfe); NaN becomes
/// 0x7f (signed).
uint8_t floatToE4M3(float x);
/// Returns the float32 value of E4M3 |bits| (exact; 0x7f / 0xff are NaN).
float e4m3ToFloat(uint8_t bits);
/// Returns |x| rounded to the nearest E4M3 value, as float32.
float roundToE4M3(float x);

/// Returns the 4-bit FP4 E2M1 code (bit 3 sign, bits 2-1 exponent, bit 0
/// mantissa; in the low nibble) nearest to |x|, ties to the even mantissa:
/// 0.25 -> 0.0, 0.75 -> 1.0, 1.25 -> 1.0, 1.75 -> 2.0, 2.5 -> 2.0, 3.5 -> 4.0,
/// 5 -> 4.0 (codes 0, 2, 2, 4, 4, 6, 6).
/// Magnitudes above 6 and +-inf saturate to +-6; NaN gives +0.
uint8_t floatToE2M1(float x);
/// Returns the float32 value of E2M1 code |code| (low nibble; the upper
/// four bits are ignored): {0, 0.5, 1, 1.5, 2, 3, 4, 6} with bit 3 as sign.
float e2m1ToFloat(uint8_t code);
/// Returns |x| rounded to the nearest E2M1 value, as float32.
float roundToE2M1(float x);

} // namespace kiln::quant

#endif // KILN_COMPILER_QUANT_INCLUDE_KILN_QUANT_FLOATFORMATS_H
