//===- Packing.cpp - Two 4-bit values per byte ------------------*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// Packing and unpacking of 4-bit codes, low nibble first (see Packing.h).
//
//===----------------------------------------------------------------------===//

#include "kiln/quant/Packing.h"

#include <string>

namespace kiln::quant {

std::vector<uint8_t> packNibbles(const uint8_t *values, size_t count) {
  std::vector<uint8_t> bytes(packedNibbleBytes(count), 0);
  for (size_t i = 0; i < count; ++i) {
    uint8_t nibble = values[i] & 0x0fu;
    bytes[i / 2] |= static_cast<uint8_t>((i % 2) ? nibble << 4 : nibble);
  }
  return bytes;
}

Result<std::vector<uint8_t>> packUint4(const std::vector<uint8_t> &values) {
  for (size_t i = 0; i < values.size(); ++i)
    if (values[i] > 15)
      return Status::error("uint4 value " + std::to_string(values[i]) +
                           " at index " + std::to_string(i) +
                           " is outside [0, 15]");
  return packNibbles(values.data(), values.size());
}

Result<std::vector<uint8_t>> packInt4(const std::vector<int8_t> &values) {
  std::vector<uint8_t> nibbles(values.size());
  for (size_t i = 0; i < values.size(); ++i) {
    if (values[i] < -8 || values[i] > 7)
      return Status::error("int4 value " + std::to_string(values[i]) +
                           " at index " + std::to_string(i) +
                           " is outside [-8, 7]");
    nibbles[i] = static_cast<uint8_t>(values[i]) & 0x0fu;
  }
  return packNibbles(nibbles.data(), nibbles.size());
}

std::vector<uint8_t> unpackUint4(const uint8_t *bytes, size_t count) {
  std::vector<uint8_t> values(count);
  for (size_t i = 0; i < count; ++i)
    values[i] = (i % 2) ? (bytes[i / 2] >> 4) : (bytes[i / 2] & 0x0fu);
  return values;
}

std::vector<int8_t> unpackInt4(const uint8_t *bytes, size_t count) {
  std::vector<int8_t> values(count);
  for (size_t i = 0; i < count; ++i) {
    int nibble = (i % 2) ? (bytes[i / 2] >> 4) : (bytes[i / 2] & 0x0f);
    values[i] = static_cast<int8_t>(nibble >= 8 ? nibble - 16 : nibble);
  }
  return values;
}

std::vector<uint8_t> packRowsNibbles(const uint8_t *values, size_t rows,
                                     size_t cols) {
  const size_t rowBytes = packedNibbleBytes(cols);
  std::vector<uint8_t> bytes;
  bytes.reserve(rows * rowBytes);
  for (size_t r = 0; r < rows; ++r) {
    std::vector<uint8_t> row = packNibbles(values + r * cols, cols);
    bytes.insert(bytes.end(), row.begin(), row.end());
  }
  return bytes;
}

} // namespace kiln::quant
