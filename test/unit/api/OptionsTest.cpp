//===- OptionsTest.cpp - Tests of option parsing and validation -*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// Checks kiln::parseInputShape and kiln::validate: good values pass, every
// out-of-range value fails with a message naming the option.
//
//===----------------------------------------------------------------------===//

#include "kiln/Options.h"

#include <gtest/gtest.h>

namespace {

TEST(InputShape, ParsesNameAndDims) {
  kiln::InputShape shape;
  ASSERT_TRUE(kiln::parseInputShape("input=1x3x224x224", shape).succeeded());
  EXPECT_EQ(shape.name, "input");
  EXPECT_EQ(shape.dims, (std::vector<int64_t>{1, 3, 224, 224}));
}

TEST(InputShape, NameMayContainEquals) {
  kiln::InputShape shape;
  ASSERT_TRUE(kiln::parseInputShape("a=b=4", shape).succeeded());
  EXPECT_EQ(shape.name, "a=b");
  EXPECT_EQ(shape.dims, (std::vector<int64_t>{4}));
}

TEST(InputShape, RejectsMalformed) {
  kiln::InputShape shape;
  for (const char *bad : {"input", "=1x2", "x=", "x=1xx2", "x=0x3",
                          "x=-1", "x=1x3x", "x=abc", "x=99999999999"}) {
    kiln::Status status = kiln::parseInputShape(bad, shape);
    EXPECT_TRUE(status.failed()) << bad;
    ASSERT_FALSE(status.diagnostics().empty());
    EXPECT_EQ(status.diagnostics()[0].location, "--input-shape") << bad;
  }
}

TEST(Validate, DefaultsAreValid) {
  EXPECT_TRUE(kiln::validate(kiln::CompileOptions()).succeeded());
}

TEST(Validate, ReportsEveryBadOption) {
  kiln::CompileOptions options;
  options.target = "cortex-a53";
  options.quantize = "int3";
  options.observer = "median";
  options.percentile = 101;
  kiln::Status status = kiln::validate(options);
  ASSERT_TRUE(status.failed());
  ASSERT_EQ(status.diagnostics().size(), 4u);
  EXPECT_NE(status.diagnostics()[0].message.find("'cortex-a53'"),
            std::string::npos);
  EXPECT_NE(status.diagnostics()[0].message.find("cortex-m4"),
            std::string::npos);
  EXPECT_EQ(status.diagnostics()[1].location, "--quantize");
  EXPECT_EQ(status.diagnostics()[2].location, "--observer");
  EXPECT_EQ(status.diagnostics()[3].location, "--percentile");
}

} // namespace
