//===- Packing.h - Two 4-bit values per byte --------------------*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// Bit packing of 4-bit codes (uint4, int4, FP4 E2M1) for kernels and weight
// blobs. Nibble order, fixed for every packed buffer in Kiln: element 2i goes
// to the LOW nibble (bits 0-3) of byte i and element 2i+1 to the HIGH nibble
// (bits 4-7), i.e. byte = (v[2i+1] << 4) | v[2i]. This is little-endian
// within the byte, so a 32-bit load of bytes 0-3 holds elements 0..7 in
// nibbles 0..7 from the least significant end. An odd count pads the last
// high nibble with 0. int4 values are stored in two's complement (-8..7 ->
// 0x8..0x7) and sign-extended when unpacked.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_COMPILER_QUANT_INCLUDE_KILN_QUANT_PACKING_H
#define KILN_COMPILER_QUANT_INCLUDE_KILN_QUANT_PACKING_H

#include "kiln/Diagnostics.h"

#include <cstddef>
#include <cstdint>
#include <vector>

namespace kiln::quant {

/// Returns the number of bytes that |count| packed 4-bit values occupy.
inline size_t packedNibbleBytes(size_t count) { return (count + 1) / 2; }

/// Packs the low nibbles of |count| values (upper bits ignored), two per
/// byte in the order above. Used for E2M1 codes and already-checked codes.
std::vector<uint8_t> packNibbles(const uint8_t *values, size_t count);

/// Packs uint4 values; fails if any value exceeds 15.
Result<std::vector<uint8_t>> packUint4(const std::vector<uint8_t> &values);

/// Packs int4 values in two's complement; fails if any value is outside
/// [-8, 7].
Result<std::vector<uint8_t>> packInt4(const std::vector<int8_t> &values);

/// Returns the |count| nibbles of |bytes| as values 0..15.
std::vector<uint8_t> unpackUint4(const uint8_t *bytes, size_t count);

/// Returns the |count| nibbles of |bytes| sign-extended to -8..7.
std::vector<int8_t> unpackInt4(const uint8_t *bytes, size_t count);

/// Packs a rows x cols matrix of 4-bit codes (low nibbles of |values|,
/// row-major) row by row: each row starts on a byte boundary and takes
/// packedNibbleBytes(cols) bytes (an odd column count pads each row).
std::vector<uint8_t> packRowsNibbles(const uint8_t *values, size_t rows,
                                     size_t cols);

} // namespace kiln::quant

#endif // KILN_COMPILER_QUANT_INCLUDE_KILN_QUANT_PACKING_H
