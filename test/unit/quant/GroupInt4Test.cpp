//===- GroupInt4Test.cpp - Group-wise RTN int4 ------------------*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// Hand examples of the asymmetric (uint4 + zero) and symmetric (-7..7)
// grids, the half-step error bound on random data for group sizes 64 and
// 128, and input validation.
//
//===----------------------------------------------------------------------===//

#include "kiln/quant/GroupInt4.h"

#include "kiln/quant/FakeQuant.h"
#include "kiln/quant/Metrics.h"

#include "TestUtil.h"

using namespace kiln;
using namespace kiln::quant;
using namespace kiln::quant::test;

namespace {

TEST(QuantGroupInt4, AsymmetricHandExample) {
  // Group 0: [0, 7.5] -> scale 0.5, zero 0. Group 1: [-7.5, 0] -> scale 0.5,
  // zero 15. 1.25 / 0.5 = 2.5 and -1.25 / 0.5 = -2.5 are ties: away from 0.
  Matrix m(1, 8, std::vector<float>{0, 1.25f, 3, 7.5f, -1.25f, -2, -3, -7.5f});
  KILN_ASSERT_OK_AND_ASSIGN(q, quantizeGroupInt4(m, 4, Int4Kind::Asymmetric));
  EXPECT_EQ(q.scales[0], 0.5f);
  EXPECT_EQ(q.zeros[0], 0);
  EXPECT_EQ(q.scales[1], 0.5f);
  EXPECT_EQ(q.zeros[1], 15);
  std::vector<int8_t> expected = {0, 3, 6, 15, 12, 11, 9, 0};
  EXPECT_EQ(q.values, expected);
  Matrix d = q.dequantize();
  EXPECT_EQ(d.at(0, 1), 1.5f);
  EXPECT_EQ(d.at(0, 3), 7.5f);
  EXPECT_EQ(d.at(0, 4), -1.5f);
  EXPECT_EQ(d.at(0, 7), -7.5f);
}

TEST(QuantGroupInt4, SymmetricHandExample) {
  Matrix m(1, 4, std::vector<float>{7, -3.5f, 0.5f, 1.5f});
  KILN_ASSERT_OK_AND_ASSIGN(q, quantizeGroupInt4(m, 4, Int4Kind::Symmetric));
  EXPECT_EQ(q.scales[0], 1.0f);
  EXPECT_TRUE(q.zeros.empty());
  std::vector<int8_t> expected = {7, -4, 1, 2}; // ties away from zero
  EXPECT_EQ(q.values, expected);
}

TEST(QuantGroupInt4, ErrorWithinHalfStepForGroups64And128) {
  Matrix w = randomMatrix(16, 256, 11);
  w.at(2, 5) = 9.0f;
  double mse[2] = {0, 0};
  int index = 0;
  for (int64_t group : {64, 128}) {
    for (Int4Kind kind : {Int4Kind::Asymmetric, Int4Kind::Symmetric}) {
      KILN_ASSERT_OK_AND_ASSIGN(q, quantizeGroupInt4(w, group, kind));
      ASSERT_EQ(q.groupsPerRow(), 256 / group);
      Matrix d = q.dequantize();
      for (int64_t r = 0; r < w.rows; ++r) {
        for (int64_t c = 0; c < w.cols; ++c) {
          int v = q.values[r * w.cols + c];
          if (kind == Int4Kind::Asymmetric) {
            ASSERT_GE(v, 0);
            ASSERT_LE(v, 15);
          } else {
            ASSERT_GE(v, -7);
            ASSERT_LE(v, 7);
          }
          float scale = q.scales[r * q.groupsPerRow() + c / group];
          EXPECT_LE(std::fabs(d.at(r, c) - w.at(r, c)),
                    0.5f * scale * (1.0f + 1e-5f));
        }
      }
      if (kind == Int4Kind::Asymmetric)
        mse[index] = meanSquaredError(w.data.data(), d.data.data(),
                                      static_cast<size_t>(w.size()));
    }
    ++index;
  }
  EXPECT_LT(mse[0], mse[1]) << "smaller groups must be more accurate here";
}

TEST(QuantGroupInt4, AsymmetricRepresentsZeroExactly) {
  Matrix m = randomMatrix(4, 64, 12);
  m.at(0, 0) = 0.0f;
  m.at(3, 63) = 0.0f;
  KILN_ASSERT_OK_AND_ASSIGN(d, fakeQuantGroupInt4(m, 64, Int4Kind::Asymmetric));
  EXPECT_EQ(d.at(0, 0), 0.0f);
  EXPECT_EQ(d.at(3, 63), 0.0f);
}

TEST(QuantGroupInt4, FakeQuantizeDispatches) {
  Matrix m = randomMatrix(4, 128, 13);
  KILN_ASSERT_OK_AND_ASSIGN(a, fakeQuantize(m, QuantSpec::int4GroupSym(64)));
  KILN_ASSERT_OK_AND_ASSIGN(b, fakeQuantGroupInt4(m, 64, Int4Kind::Symmetric));
  EXPECT_EQ(a.data, b.data);
  EXPECT_EQ(str(QuantSpec::int4GroupAsym(128)), "int4-asym-g128");
}

TEST(QuantGroupInt4, RejectsGroupThatDoesNotDivide) {
  Matrix m = randomMatrix(2, 96, 14);
  Result<GroupInt4> q = quantizeGroupInt4(m, 64, Int4Kind::Symmetric);
  ASSERT_FALSE(q.succeeded());
  EXPECT_NE(q.status().str().find("group size 64 does not divide the 96 "
                                  "columns"),
            std::string::npos)
      << q.status().str();
  EXPECT_FALSE(quantizeGroupInt4(m, 0, Int4Kind::Symmetric).succeeded());
}

} // namespace
