//===- ExecutionOrderTest.cpp - Memory-aware topological orders -*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// chooseExecutionOrder on chains (nothing to choose), inception-like
// parallel branches (run each branch to its small output before starting
// the next) and with a beam width of one (greedy, still a valid order).
//
//===----------------------------------------------------------------------===//

#include "MemoryTestUtil.h"

namespace kiln::memory::test {
namespace {

/// Three parallel branches, each expanding a 16-byte input to 1024 bytes
/// and reducing it to 16, listed breadth-first (all expands first), then an
/// add of the three results.
MemoryGraph inceptionLike() {
  GraphBuilder b;
  TensorId x = b.input("x", 16);
  std::vector<TensorId> wide, narrow;
  for (int i = 0; i < 3; ++i) {
    wide.push_back(b.tensor("wide" + std::to_string(i), 1024));
    narrow.push_back(b.tensor("narrow" + std::to_string(i), 16));
  }
  for (int i = 0; i < 3; ++i)
    b.op("expand" + std::to_string(i), {x}, {wide[i]});
  for (int i = 0; i < 3; ++i)
    b.op("reduce" + std::to_string(i), {wide[i]}, {narrow[i]});
  TensorId y = b.tensor("y", 16);
  b.output(y);
  b.op("add", narrow, {y});
  return b.graph;
}

TEST(MemoryExecutionOrder, KeepsChains) {
  GraphBuilder b;
  TensorId prev = b.input("in", 100);
  for (int i = 0; i < 5; ++i) {
    TensorId next = b.tensor("t" + std::to_string(i), 100 * (i + 2));
    b.op("op" + std::to_string(i), {prev}, {next});
    prev = next;
  }
  b.output(prev);
  Result<OrderResult> result = chooseExecutionOrder(b.graph);
  ASSERT_TRUE(result.succeeded()) << result.status().str();
  EXPECT_EQ(result->order, b.graph.candidateOrder());
  EXPECT_TRUE(result->exact);
  // Largest step: t3 (500) + t4 (600).
  EXPECT_EQ(result->peakBytes, 1100u);
  EXPECT_EQ(result->candidatePeakBytes, 1100u);
}

TEST(MemoryExecutionOrder, RunsBranchesDepthFirst) {
  MemoryGraph graph = inceptionLike();
  Result<OrderResult> result = chooseExecutionOrder(graph);
  ASSERT_TRUE(result.succeeded()) << result.status().str();
  EXPECT_TRUE(verifyOrder(graph, result->order).succeeded());
  EXPECT_TRUE(result->exact);
  // Breadth-first: x + three wide tensors = 16 + 3 * 1024.
  EXPECT_EQ(result->candidatePeakBytes, 3088u);
  // Best: finish two branches, then x + narrow0 + narrow1 + wide2 (+ its
  // narrow while reducing) = 1024 + 3 * 16.
  EXPECT_EQ(result->peakBytes, 1072u);
  Result<uint64_t> estimate = estimateOrderPeak(graph, result->order);
  ASSERT_TRUE(estimate.succeeded());
  EXPECT_EQ(*estimate, 1072u);

  // The planners turn the better order into a smaller arena.
  Result<ArenaPlan> before = planDefault(graph, graph.candidateOrder());
  Result<ArenaPlan> after = planDefault(graph, result->order);
  ASSERT_TRUE(before.succeeded() && after.succeeded());
  EXPECT_PLAN_VALID(graph, *before);
  EXPECT_PLAN_VALID(graph, *after);
  EXPECT_EQ(before->arenaBytes, 3088u);
  EXPECT_EQ(after->arenaBytes, 1072u);

  Result<ArenaPlan> chosen = planMemory(graph);
  ASSERT_TRUE(chosen.succeeded());
  EXPECT_PLAN_VALID(graph, *chosen);
  EXPECT_EQ(chosen->arenaBytes, 1072u);
  EXPECT_NE(chosen->order, graph.candidateOrder());

  PlanOptions keepOrder;
  keepOrder.chooseOrder = false;
  Result<ArenaPlan> kept = planMemory(graph, keepOrder);
  ASSERT_TRUE(kept.succeeded());
  EXPECT_EQ(kept->order, graph.candidateOrder());
}

TEST(MemoryExecutionOrder, BeamOfOneIsGreedyButValid) {
  MemoryGraph graph = inceptionLike();
  OrderOptions options;
  options.maxStatesPerStep = 1;
  Result<OrderResult> result = chooseExecutionOrder(graph, options);
  ASSERT_TRUE(result.succeeded());
  EXPECT_FALSE(result->exact);
  EXPECT_TRUE(verifyOrder(graph, result->order).succeeded());
  EXPECT_LE(result->peakBytes, result->candidatePeakBytes);

  options.maxStatesPerStep = 0;
  EXPECT_FALSE(chooseExecutionOrder(graph, options).succeeded());
}

TEST(MemoryExecutionOrder, WideGraphsStayWithinTheWorkBudget) {
  // 24 independent two-op branches: about 3^24 partial executions, far too
  // many to enumerate; the search must cut itself off and stay valid.
  GraphBuilder b;
  TensorId x = b.input("x", 16);
  std::vector<TensorId> ends;
  for (int i = 0; i < 24; ++i) {
    TensorId wide = b.tensor("wide" + std::to_string(i), 64 * (i + 1));
    TensorId narrow = b.tensor("narrow" + std::to_string(i), 16);
    b.op("expand" + std::to_string(i), {x}, {wide});
    b.op("reduce" + std::to_string(i), {wide}, {narrow});
    ends.push_back(narrow);
  }
  TensorId y = b.tensor("y", 16);
  b.output(y);
  b.op("sum", ends, {y});
  OrderOptions options;
  options.maxTransitions = 5000;
  Result<OrderResult> result = chooseExecutionOrder(b.graph, options);
  ASSERT_TRUE(result.succeeded());
  EXPECT_FALSE(result->exact);
  EXPECT_TRUE(verifyOrder(b.graph, result->order).succeeded());
  // Each layer may overrun its share by one set's expansion at most.
  size_t ops = b.graph.numOps();
  EXPECT_LE(result->statesVisited, options.maxTransitions + ops * ops);
  // Depth first, the peak is x + the 23 finished branches' narrow outputs +
  // the widest branch in flight: far below all wide tensors at once.
  EXPECT_LT(result->peakBytes, result->candidatePeakBytes);
  EXPECT_LE(result->peakBytes, 16u + 23 * 16 + 2 * 16 + 64 * 24);
}

TEST(MemoryExecutionOrder, CreditsInPlaceInTheCostModel) {
  // a and b both die at add(a, b): in place the add costs a + b, not
  // a + b + c.
  GraphBuilder b;
  TensorId in = b.input("in", 16);
  TensorId a = b.tensor("a", 512);
  TensorId bb = b.tensor("b", 512);
  TensorId c = b.tensor("c", 512);
  b.output(c);
  b.op("left", {in}, {a});
  b.op("right", {in}, {bb});
  b.elementwise("add", {a, bb}, c);
  Result<uint64_t> withReuse =
      estimateOrderPeak(b.graph, b.graph.candidateOrder());
  Result<uint64_t> without =
      estimateOrderPeak(b.graph, b.graph.candidateOrder(), ReusePolicy::none());
  ASSERT_TRUE(withReuse.succeeded() && without.succeeded());
  EXPECT_EQ(*without, 1536u);
  EXPECT_EQ(*withReuse, 1040u); // right: in + a + b.
}

} // namespace
} // namespace kiln::memory::test
