//===- GreedyPlannerTest.cpp - The TF Lite Micro baseline -------*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// placeGreedyBySize must give exactly the offsets of TF Lite Micro's
// GreedyMemoryPlanner (expected values below are worked by hand from its
// algorithm: stable size-descending order, first offset-ordered gap among
// time-overlapping buffers), and planGreedyBySize must feed it the buffers
// the way TF Lite Micro does (tensors by id, then scratch requests, sizes
// rounded up to the alignment) and take no reuse.
//
//===----------------------------------------------------------------------===//

#include "MemoryTestUtil.h"

namespace kiln::memory::test {
namespace {

TEST(MemoryGreedyPlanner, MatchesTfliteMicroOffsets) {
  // size, [first, last]
  std::vector<BufferRequest> requests = {
      {10, {0, 1}, 1}, {20, {1, 2}, 1}, {10, {2, 3}, 1},
      {30, {0, 0}, 1}, {20, {3, 4}, 1}, {5, {1, 1}, 1},
  };
  // Placement order: #3 (30), #1 (20), #4 (20, after #1: stable), #0, #2, #5.
  //  #3 -> 0.  #1 -> 0 (#3 ends before step 1).  #4 -> 0.
  //  #0 [0,1] meets #3 at 0 and #1 at 0: first gap is above both, 30.
  //  #2 [2,3] meets #1 (ends 20) and #4 (at 0): 20.
  //  #5 [1,1] meets #1 (ends 20) then #0 at 30: the 10-byte gap fits: 20.
  std::vector<uint64_t> offsets = placeGreedyBySize(requests);
  EXPECT_EQ(offsets, (std::vector<uint64_t>{30, 0, 20, 0, 0, 20}));
}

TEST(MemoryGreedyPlanner, ReusesDisjointLifetimes) {
  std::vector<BufferRequest> requests = {
      {100, {0, 1}, 1}, {100, {2, 3}, 1}, {100, {4, 5}, 1}};
  EXPECT_EQ(placeGreedyBySize(requests), (std::vector<uint64_t>{0, 0, 0}));
}

TEST(MemoryGreedyPlanner, RoundsOffsetsUpToAlignment) {
  std::vector<BufferRequest> requests = {{10, {0, 0}, 16}, {6, {0, 0}, 16}};
  EXPECT_EQ(placeGreedyBySize(requests), (std::vector<uint64_t>{0, 16}));
}

TEST(MemoryGreedyPlanner, PlansGraphLikeTfliteMicro) {
  GraphBuilder b;
  TensorId in = b.input("in", 30);
  TensorId a = b.tensor("a", 100);
  TensorId c = b.tensor("c", 100);
  TensorId d = b.tensor("d", 100);
  TensorId out = b.tensor("out", 10);
  b.output(out);
  b.op("conv0", {in}, {a}, {40});
  b.elementwise("relu", {a}, c);
  b.reshape("flatten", c, d);
  b.op("fc", {d}, {out});
  ArenaPlan plan = planOrFail(b.graph, PlannerKind::GreedyBySize);
  EXPECT_PLAN_VALID(b.graph, plan);
  EXPECT_TRUE(plan.reuses.empty()) << "the baseline takes no reuse";
  // Requests (aligned to 16): in 32 [0,0], a 112 [0,1], c 112 [1,2],
  // d 112 [2,3], out 16 [3,3], conv0.scratch0 48 [0,0].
  // Order: a, c, d, scratch, in, out.
  //   a -> 0; c meets a -> 112; d meets c -> 0; scratch meets a -> 112;
  //   in meets a, scratch -> 160; out meets d -> 112.
  EXPECT_EQ(plan.tensorOffset(a), 0u);
  EXPECT_EQ(plan.tensorOffset(c), 112u);
  EXPECT_EQ(plan.tensorOffset(d), 0u);
  EXPECT_EQ(plan.scratchOffset(0, 0), 112u);
  EXPECT_EQ(plan.tensorOffset(in), 160u);
  EXPECT_EQ(plan.tensorOffset(out), 112u);
  // c ends highest: 112 + 100.
  EXPECT_EQ(plan.arenaBytes, 212u);
  EXPECT_EQ(plan.strategy, "greedy-by-size");
  // Without reuse the peak of live bytes is a + c (or c + d): 200.
  EXPECT_EQ(plan.lowerBoundWithoutReuse, 200u);
  EXPECT_EQ(plan.lowerBound, 200u);
}

TEST(MemoryGreedyPlanner, DefaultNeverLargerOnTheSameGraph) {
  GraphBuilder b;
  TensorId in = b.input("in", 30);
  TensorId a = b.tensor("a", 100);
  TensorId c = b.tensor("c", 100);
  TensorId out = b.tensor("out", 10);
  b.output(out);
  b.op("conv0", {in}, {a});
  b.elementwise("relu", {a}, c);
  b.op("fc", {c}, {out});
  ArenaPlan greedy = planOrFail(b.graph, PlannerKind::GreedyBySize);
  ArenaPlan best = planOrFail(b.graph, PlannerKind::Default);
  EXPECT_PLAN_VALID(b.graph, greedy);
  EXPECT_PLAN_VALID(b.graph, best);
  EXPECT_LE(best.arenaBytes, greedy.arenaBytes);
  EXPECT_GE(best.arenaBytes, best.lowerBound);
}

TEST(MemoryPlanners, ParsesPlannerNames) {
  EXPECT_EQ(*parsePlannerKind("greedy-by-size"), PlannerKind::GreedyBySize);
  EXPECT_EQ(*parsePlannerKind("default"), PlannerKind::Default);
  Result<PlannerKind> bad = parsePlannerKind("linear-scan");
  ASSERT_FALSE(bad.succeeded());
  EXPECT_NE(bad.status().str().find("unknown memory planner 'linear-scan'"),
            std::string::npos);
  EXPECT_STREQ(plannerKindName(PlannerKind::Default), "default");
}

TEST(MemoryPlanners, RejectInvalidGraphs) {
  GraphBuilder b;
  TensorId orphan = b.tensor("orphan", 8);
  b.op("use", {orphan}, {b.tensor("x", 8)});
  Result<ArenaPlan> plan = planMemory(b.graph);
  ASSERT_FALSE(plan.succeeded());
  EXPECT_NE(plan.status().str().find("has no producer"), std::string::npos);
}

} // namespace
} // namespace kiln::memory::test
