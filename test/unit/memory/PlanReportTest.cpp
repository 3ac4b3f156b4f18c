//===- PlanReportTest.cpp - Text and SVG plan reports -----------*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// Per-step live bytes, the text report and the SVG timeline of a small plan.
//
//===----------------------------------------------------------------------===//

#include "MemoryTestUtil.h"

#include "passes/memory/planner/PlanReport.h"

#include <cstdio>
#include <fstream>
#include <sstream>

namespace kiln::memory::test {
namespace {

/// Returns the number of non-overlapping occurrences of |needle|.
size_t countOf(const std::string &haystack, const std::string &needle) {
  size_t count = 0;
  for (size_t at = haystack.find(needle); at != std::string::npos;
       at = haystack.find(needle, at + needle.size()))
    ++count;
  return count;
}

/// in -> conv -> a -> relu (in place) -> c -> fc -> out, conv has scratch.
struct Small {
  GraphBuilder b;
  Small() {
    TensorId in = b.input("in<put>", 64);
    TensorId a = b.tensor("a", 256);
    TensorId c = b.tensor("c", 256);
    TensorId out = b.tensor("out", 32);
    b.output(out);
    b.op("conv", {in}, {a}, {48});
    b.elementwise("relu", {a}, c);
    b.op("fc", {c}, {out});
  }
};

TEST(MemoryPlanReport, StepMemoryCountsSharedBytesOnce) {
  Small s;
  ArenaPlan plan = planOrFail(s.b.graph, PlannerKind::Default);
  EXPECT_PLAN_VALID(s.b.graph, plan);
  std::vector<StepMemory> steps = stepMemory(s.b.graph, plan);
  ASSERT_EQ(steps.size(), 3u);
  EXPECT_EQ(steps[0].opName, "conv");
  EXPECT_EQ(steps[0].liveBytes, 64u + 256 + 48);
  EXPECT_EQ(steps[1].liveBytes, 256u); // a and c share their bytes.
  EXPECT_EQ(steps[2].liveBytes, 256u + 32);
  for (const StepMemory &step : steps) {
    EXPECT_LE(step.liveBytes, step.highWater);
    EXPECT_LE(step.highWater, plan.arenaBytes);
  }
}

TEST(MemoryPlanReport, TextReportNamesThePeakAndReuses) {
  Small s;
  ArenaPlan plan = planOrFail(s.b.graph, PlannerKind::Default);
  std::string text = formatPlanReport(s.b.graph, plan);
  std::string firstLine = text.substr(0, text.find('\n'));
  EXPECT_EQ(firstLine.rfind("arena bytes:", 0), 0u) << text;
  EXPECT_NE(firstLine.find(" 368"), std::string::npos) << text;
  EXPECT_NE(text.find("conv  <- peak"), std::string::npos) << text;
  EXPECT_NE(text.find("elementwise-in-place at op 'relu': tensor 'a' -> "
                      "tensor 'c'"),
            std::string::npos)
      << text;
}

TEST(MemoryPlanReport, SvgHasOneLabelledRectanglePerBuffer) {
  Small s;
  ArenaPlan plan = planOrFail(s.b.graph, PlannerKind::Default);
  SvgOptions options;
  options.title = "small & simple";
  std::string svg = renderArenaSvg(s.b.graph, plan, options);
  EXPECT_EQ(svg.rfind("<svg xmlns=\"http://www.w3.org/2000/svg\"", 0), 0u);
  EXPECT_NE(svg.find("</svg>"), std::string::npos);
  // One rectangle per buffer plus the frame.
  EXPECT_EQ(countOf(svg, "<rect "), plan.buffers.size() + 1);
  EXPECT_NE(svg.find("small &amp; simple"), std::string::npos);
  EXPECT_NE(svg.find("<title>in&lt;put&gt;: 64 B at"), std::string::npos);
  EXPECT_EQ(svg.find("in<put>"), std::string::npos) << "names are escaped";
  EXPECT_NE(svg.find("conv.scratch0"), std::string::npos);
  EXPECT_NE(svg.find("lower bound"), std::string::npos);
}

TEST(MemoryPlanReport, WritesFiles) {
  Small s;
  ArenaPlan plan = planOrFail(s.b.graph, PlannerKind::Default);
  std::string path = ::testing::TempDir() + "kiln_memory_report.svg";
  std::string svg = renderArenaSvg(s.b.graph, plan);
  ASSERT_TRUE(writeTextFile(path, svg).succeeded());
  std::ifstream file(path);
  std::stringstream read;
  read << file.rdbuf();
  EXPECT_EQ(read.str(), svg);
  std::remove(path.c_str());
  Status bad = writeTextFile("/nonexistent-dir/x.svg", svg);
  ASSERT_TRUE(bad.failed());
  EXPECT_NE(bad.str().find("cannot open '/nonexistent-dir/x.svg'"),
            std::string::npos);
}

} // namespace
} // namespace kiln::memory::test
