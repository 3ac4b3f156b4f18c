//===- LivenessTest.cpp - Graph validation and tensor lifetimes -*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// MemoryGraph::verify rejects malformed graphs with a message naming the
// culprit; computeLiveness follows TF Lite Micro's lifetime convention and
// rejects orders that break dependencies.
//
//===----------------------------------------------------------------------===//

#include "MemoryTestUtil.h"

namespace kiln::memory::test {
namespace {

/// Returns true when some diagnostic of |status| contains |text|.
bool mentions(const Status &status, const std::string &text) {
  return status.str().find(text) != std::string::npos;
}

TEST(MemoryLiveness, ChainFollowsTfliteMicroConvention) {
  GraphBuilder b;
  TensorId in = b.input("in", 100);
  TensorId w = b.constant("w", 50);
  TensorId a = b.tensor("a", 200);
  TensorId unused = b.tensor("unused", 30);
  TensorId c = b.tensor("c", 300);
  TensorId out = b.tensor("out", 10);
  b.output(out);
  b.op("conv", {in, w}, {a, unused});
  b.op("relu", {a}, {c});
  b.op("fc", {c, a}, {out});
  ASSERT_TRUE(b.graph.verify().succeeded());
  Result<Liveness> live = computeLiveness(b.graph, b.graph.candidateOrder());
  ASSERT_TRUE(live.succeeded()) << live.status().str();
  EXPECT_EQ(live->numSteps, 3);
  EXPECT_EQ(live->tensors[in], (Interval{0, 0}));
  EXPECT_TRUE(live->tensors[w].empty()) << "constants are not in the arena";
  EXPECT_EQ(live->tensors[a], (Interval{0, 2}));
  EXPECT_EQ(live->tensors[unused], (Interval{0, 0}));
  EXPECT_EQ(live->tensors[c], (Interval{1, 2}));
  EXPECT_EQ(live->tensors[out], (Interval{2, 2}));

  // Sum of live bytes per step, no reuse: step 0 = in + a + unused,
  // step 1 = a + c, step 2 = a + c + out.
  std::vector<uint64_t> bytes = liveBytesWithoutReuse(b.graph, *live);
  EXPECT_EQ(bytes, (std::vector<uint64_t>{330, 500, 510}));
}

TEST(MemoryLiveness, GraphOutputsLiveToTheEnd) {
  GraphBuilder b;
  TensorId in = b.input("in", 8);
  TensorId early = b.tensor("early", 8);
  TensorId late = b.tensor("late", 8);
  b.output(early);
  b.op("first", {in}, {early});
  b.op("second", {in}, {late});
  b.output(late);
  Result<Liveness> live = computeLiveness(b.graph, b.graph.candidateOrder());
  ASSERT_TRUE(live.succeeded());
  EXPECT_EQ(live->tensors[early], (Interval{0, 1}));
  EXPECT_EQ(live->tensors[in], (Interval{0, 1}));
}

TEST(MemoryLiveness, RejectsBadOrders) {
  GraphBuilder b;
  TensorId in = b.input("in", 8);
  TensorId a = b.tensor("a", 8);
  TensorId c = b.tensor("c", 8);
  b.op("produce", {in}, {a});
  b.op("consume", {a}, {c});
  Status before = verifyOrder(b.graph, {1, 0});
  EXPECT_TRUE(before.failed());
  EXPECT_TRUE(mentions(before, "op 'consume': error: execution order runs "
                               "the op before op 'produce'"))
      << before.str();
  EXPECT_TRUE(mentions(verifyOrder(b.graph, {0}), "lists 1 ops, expected 2"));
  EXPECT_TRUE(mentions(verifyOrder(b.graph, {0, 0}), "lists the op twice"));
  EXPECT_TRUE(mentions(verifyOrder(b.graph, {0, 7}), "op id 7, out of range"));
  EXPECT_FALSE(computeLiveness(b.graph, {1, 0}).succeeded());
}

TEST(MemoryGraph, VerifyReportsEveryProblem) {
  GraphBuilder b;
  TensorId in = b.input("in", 8);
  TensorId twice = b.tensor("twice", 8);
  TensorId orphan = b.tensor("orphan", 8);
  TensorId odd = b.tensor("odd", 8, 3);
  b.op("p1", {in}, {twice});
  b.op("p2", {in, orphan}, {twice, odd});
  Status status = b.graph.verify();
  ASSERT_TRUE(status.failed());
  EXPECT_TRUE(mentions(status, "alignment must be a power of two, got 3"));
  EXPECT_TRUE(mentions(status, "tensor 'twice': error: has 2 producers"));
  EXPECT_TRUE(mentions(status, "tensor 'orphan': error: has no producer"));
  EXPECT_GE(status.diagnostics().size(), 3u);
}

TEST(MemoryGraph, VerifyRejectsCyclesAndBadIds) {
  GraphBuilder cyclic;
  TensorId x = cyclic.tensor("x", 8);
  TensorId y = cyclic.tensor("y", 8);
  cyclic.op("f", {y}, {x});
  cyclic.op("g", {x}, {y});
  EXPECT_TRUE(mentions(cyclic.graph.verify(), "lies on a cycle"));

  GraphBuilder bad;
  TensorId in = bad.input("in", 8);
  bad.op("f", {in, 42}, {});
  EXPECT_TRUE(mentions(bad.graph.verify(), "input tensor id 42 out of range"));
}

TEST(MemoryGraph, VerifyChecksCapabilities) {
  GraphBuilder b;
  TensorId in = b.input("in", 100);
  TensorId small = b.tensor("small", 50);
  TensorId big = b.tensor("big", 200);
  TensorId cat = b.tensor("cat", 90);
  b.reshape("reshape", in, small);
  OpId add = b.elementwise("add", {in}, big);
  b.depthwise("dw", small, b.tensor("dwout", 60), 4);
  b.concat("concat", {in, small}, cat, {0, 60});
  b.graph.op(add).inPlace.push_back({InPlaceKind::Elementwise, 3, 0, 0});
  Status status = b.graph.verify();
  EXPECT_TRUE(mentions(status, "op 'reshape': error: alias needs equal sizes, "
                               "got input 100 bytes and output 50 bytes"))
      << status.str();
  EXPECT_TRUE(mentions(status, "elementwise in-place needs equal sizes"));
  EXPECT_TRUE(mentions(status, "refers to operand 3 / result 0"));
  EXPECT_TRUE(mentions(status, "depthwise in-place needs an output no larger"));
  EXPECT_TRUE(mentions(status, "concat slice of input 0 ends at byte 100"));
  EXPECT_TRUE(mentions(status, "concat slices overlap at byte 60"));
}

TEST(MemoryLiveness, DegenerateGraphsPlan) {
  GraphBuilder empty;
  for (PlannerKind kind : {PlannerKind::GreedyBySize, PlannerKind::Default}) {
    ArenaPlan plan = planOrFail(empty.graph, kind);
    EXPECT_PLAN_VALID(empty.graph, plan);
    EXPECT_EQ(plan.arenaBytes, 0u);
  }
  // A graph input that is its own output, no ops: it still needs its bytes.
  GraphBuilder passThrough;
  TensorId x = passThrough.input("x", 48);
  passThrough.output(x);
  for (PlannerKind kind : {PlannerKind::GreedyBySize, PlannerKind::Default}) {
    ArenaPlan plan = planOrFail(passThrough.graph, kind);
    EXPECT_PLAN_VALID(passThrough.graph, plan);
    EXPECT_EQ(plan.arenaBytes, 48u);
    EXPECT_EQ(plan.lowerBound, 48u);
  }
}

} // namespace
} // namespace kiln::memory::test
