//===- PackingTest.cpp - Two 4-bit values per byte --------------*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// The nibble order (element 2i low, 2i+1 high), two's complement int4,
// odd-length padding, row-wise packing and range checks.
//
//===----------------------------------------------------------------------===//

#include "kiln/quant/Packing.h"

#include <gtest/gtest.h>

using namespace kiln;
using namespace kiln::quant;

namespace {

TEST(QuantPacking, LowNibbleFirst) {
  Result<std::vector<uint8_t>> p = packUint4({1, 2, 3});
  ASSERT_TRUE(p.succeeded());
  std::vector<uint8_t> expected = {0x21, 0x03};
  EXPECT_EQ(*p, expected);
  EXPECT_EQ(unpackUint4(p->data(), 3), (std::vector<uint8_t>{1, 2, 3}));
}

TEST(QuantPacking, Int4TwosComplement) {
  Result<std::vector<uint8_t>> p = packInt4({-1, 7, -8, 0});
  ASSERT_TRUE(p.succeeded());
  std::vector<uint8_t> expected = {0x7f, 0x08};
  EXPECT_EQ(*p, expected);
  EXPECT_EQ(unpackInt4(p->data(), 4), (std::vector<int8_t>{-1, 7, -8, 0}));
}

TEST(QuantPacking, RoundTripsEveryPair) {
  // Byte value i must come from the pair (low = i & 15, high = i >> 4).
  std::vector<uint8_t> all;
  for (int i = 0; i < 256; ++i) {
    all.push_back(static_cast<uint8_t>(i & 15));
    all.push_back(static_cast<uint8_t>(i >> 4));
  }
  std::vector<uint8_t> packed = packNibbles(all.data(), all.size());
  ASSERT_EQ(packed.size(), 256u);
  for (size_t i = 0; i < packed.size(); ++i)
    EXPECT_EQ(packed[i], i) << "byte = (hi << 4) | lo";
  EXPECT_EQ(unpackUint4(packed.data(), all.size()), all);
}

TEST(QuantPacking, RowsStartOnByteBoundaries) {
  // 2 x 3 codes: each row takes 2 bytes, the last nibble padded with 0.
  const uint8_t codes[] = {1, 2, 3, 4, 5, 6};
  std::vector<uint8_t> packed = packRowsNibbles(codes, 2, 3);
  std::vector<uint8_t> expected = {0x21, 0x03, 0x54, 0x06};
  EXPECT_EQ(packed, expected);
  EXPECT_EQ(packedNibbleBytes(3), 2u);
}

TEST(QuantPacking, RejectsOutOfRange) {
  Result<std::vector<uint8_t>> u = packUint4({3, 16});
  ASSERT_FALSE(u.succeeded());
  EXPECT_NE(u.status().str().find("uint4 value 16 at index 1"),
            std::string::npos);
  EXPECT_FALSE(packInt4({-9}).succeeded());
  EXPECT_FALSE(packInt4({8}).succeeded());
}

} // namespace
