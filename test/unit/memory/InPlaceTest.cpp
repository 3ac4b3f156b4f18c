//===- InPlaceTest.cpp - Each reuse kind of the default planner -*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// One case per reuse kind (elementwise in-place, depthwise in-place with its
// temporary, zero-copy alias, concat-by-placement, per-op scratch), each
// checking the offset relation exactly and the bytes it saves against the
// baseline, plus the cases where a reuse must be refused.
//
//===----------------------------------------------------------------------===//

#include "MemoryTestUtil.h"

namespace kiln::memory::test {
namespace {

/// Returns how many reuses of |kind| |plan| took.
size_t countReuses(const ArenaPlan &plan, ReuseKind kind) {
  return std::count_if(plan.reuses.begin(), plan.reuses.end(),
                       [&](const AppliedReuse &r) { return r.kind == kind; });
}

/// A residual add: a and b = conv(a) both die at add(a, b) -> c.
struct Residual {
  GraphBuilder b;
  TensorId in, a, bb, c, out;
  Residual() {
    in = b.input("in", 64);
    a = b.tensor("a", 1024);
    bb = b.tensor("b", 1024);
    c = b.tensor("c", 1024);
    out = b.tensor("out", 64);
    b.output(out);
    b.op("stem", {in}, {a});
    b.op("conv", {a}, {bb});
    b.elementwise("add", {a, bb}, c);
    b.op("head", {c}, {out});
  }
};

TEST(MemoryInPlace, ElementwiseReusesADyingInput) {
  Residual r;
  ArenaPlan greedy = planOrFail(r.b.graph, PlannerKind::GreedyBySize);
  ArenaPlan plan = planOrFail(r.b.graph, PlannerKind::Default);
  EXPECT_PLAN_VALID(r.b.graph, greedy);
  EXPECT_PLAN_VALID(r.b.graph, plan);
  ASSERT_EQ(countReuses(plan, ReuseKind::ElementwiseInPlace), 1u);
  const AppliedReuse &reuse = plan.reuses.front();
  EXPECT_EQ(reuse.op, 2);
  EXPECT_EQ(reuse.to, r.c);
  EXPECT_EQ(plan.tensorOffset(reuse.from), plan.tensorOffset(r.c));
  // At the add, a, b and c are live: 3072 bytes without reuse, 2048 with.
  EXPECT_EQ(greedy.arenaBytes, 3072u);
  EXPECT_EQ(plan.lowerBound, 2048u);
  EXPECT_EQ(plan.arenaBytes, 2048u);
  EXPECT_TRUE(plan.provedOptimal);
}

TEST(MemoryInPlace, ElementwiseRefusedWhenInputLivesOn) {
  GraphBuilder b;
  TensorId in = b.input("in", 64);
  TensorId a = b.tensor("a", 1000);
  TensorId c = b.tensor("c", 1000);
  TensorId out = b.tensor("out", 64);
  b.output(out);
  b.op("stem", {in}, {a});
  b.elementwise("relu", {a}, c);
  b.op("head", {a, c}, {out}); // a is read after relu.
  ArenaPlan plan = planOrFail(b.graph, PlannerKind::Default);
  EXPECT_PLAN_VALID(b.graph, plan);
  EXPECT_EQ(countReuses(plan, ReuseKind::ElementwiseInPlace), 0u);
  EXPECT_NE(plan.tensorOffset(a), plan.tensorOffset(c));
}

TEST(MemoryInPlace, ElementwiseNeverOverwritesGraphOutputs) {
  GraphBuilder b;
  TensorId in = b.input("in", 64);
  TensorId a = b.tensor("a", 1000);
  TensorId c = b.tensor("c", 1000);
  b.output(a);
  b.output(c);
  b.op("stem", {in}, {a});
  b.elementwise("relu", {a}, c);
  ArenaPlan plan = planOrFail(b.graph, PlannerKind::Default);
  EXPECT_PLAN_VALID(b.graph, plan);
  EXPECT_TRUE(plan.reuses.empty());
}

TEST(MemoryInPlace, GraphInputsOnlyWhenAllowed) {
  GraphBuilder b;
  TensorId in = b.input("in", 512);
  TensorId c = b.tensor("c", 512);
  b.output(c);
  b.elementwise("scale", {in}, c);
  ArenaPlan allowed = planOrFail(b.graph, PlannerKind::Default);
  EXPECT_PLAN_VALID(b.graph, allowed);
  EXPECT_EQ(allowed.arenaBytes, 512u);

  DefaultPlannerOptions options;
  options.reuse.inPlaceOnGraphInputs = false;
  Result<ArenaPlan> kept =
      planDefault(b.graph, b.graph.candidateOrder(), options);
  ASSERT_TRUE(kept.succeeded());
  EXPECT_PLAN_VALID(b.graph, *kept);
  EXPECT_TRUE(kept->reuses.empty());
  EXPECT_EQ(kept->arenaBytes, 1024u);
}

TEST(MemoryInPlace, DepthwiseOverwritesItsInputWithATemporary) {
  // An expanded 48x48x48 activation and a stride-2 depthwise to 24x24x48,
  // one 24x24 channel of temporary: the MobileNetV2 memory peak.
  GraphBuilder b;
  TensorId in = b.input("in", 18432);
  TensorId expanded = b.tensor("expanded", 110592);
  TensorId dw = b.tensor("dw", 27648);
  TensorId out = b.tensor("out", 4608);
  b.output(out);
  b.op("expand", {in}, {expanded});
  OpId dwOp = b.depthwise("dwconv", expanded, dw, 576, {864});
  b.op("project", {dw}, {out});
  ArenaPlan greedy = planOrFail(b.graph, PlannerKind::GreedyBySize);
  ArenaPlan plan = planOrFail(b.graph, PlannerKind::Default);
  EXPECT_PLAN_VALID(b.graph, greedy);
  EXPECT_PLAN_VALID(b.graph, plan);
  ASSERT_EQ(countReuses(plan, ReuseKind::DepthwiseInPlace), 1u);
  EXPECT_EQ(plan.tensorOffset(dw), plan.tensorOffset(expanded));
  ASSERT_TRUE(plan.inPlaceTempOffset(dwOp).has_value());
  ASSERT_TRUE(plan.scratchOffset(dwOp, 0).has_value());
  // Baseline at the depthwise: 110592 + 27648 + 864 = 139104.
  EXPECT_EQ(greedy.lowerBound, 139104u);
  EXPECT_GE(greedy.arenaBytes, 139104u);
  // In place, the expand step dominates: 18432 + 110592 = 129024, and the
  // depthwise needs only 110592 + 576 + 864.
  EXPECT_EQ(plan.lowerBound, 129024u);
  EXPECT_EQ(plan.arenaBytes, 129024u);
  // The temporary is live only at the depthwise step.
  for (const PlannedBuffer &buffer : plan.buffers)
    if (buffer.kind == BufferKind::InPlaceTemp) {
      EXPECT_EQ(buffer.bytes, 576u);
      EXPECT_EQ(buffer.live, (Interval{1, 1}));
    }

  DefaultPlannerOptions noDepthwise;
  noDepthwise.reuse.depthwiseInPlace = false;
  Result<ArenaPlan> off =
      planDefault(b.graph, b.graph.candidateOrder(), noDepthwise);
  ASSERT_TRUE(off.succeeded());
  EXPECT_PLAN_VALID(b.graph, *off);
  EXPECT_FALSE(off->inPlaceTempOffset(dwOp).has_value());
  EXPECT_EQ(off->lowerBound, 139104u);
}

TEST(MemoryInPlace, DepthwiseTemporaryCanReplaceTheScratch) {
  // Kiln's kiln_dwconv2d_inplace_s8 needs one padded input plane instead of
  // the out-of-place kernel's scratch.
  GraphBuilder b;
  TensorId in = b.input("in", 4096);
  TensorId x = b.tensor("x", 8192);
  TensorId y = b.tensor("y", 8192);
  TensorId out = b.tensor("out", 64);
  b.output(out);
  b.op("expand", {in}, {x});
  OpId dw = b.depthwise("dw", x, y, 400, {400});
  b.graph.op(dw).inPlace.back().replacesScratch = true;
  b.op("head", {y}, {out});
  ArenaPlan plan = planOrFail(b.graph, PlannerKind::Default);
  EXPECT_PLAN_VALID(b.graph, plan);
  EXPECT_TRUE(plan.inPlaceTempOffset(dw).has_value());
  EXPECT_FALSE(plan.scratchOffset(dw, 0).has_value());
  // expand: 4096 + 8192; dw: 8192 + 400 (not + 400 more).
  EXPECT_EQ(plan.lowerBound, 12288u);
  for (const PlannedBuffer &buffer : plan.buffers)
    EXPECT_NE(buffer.kind, BufferKind::Scratch);
  Result<uint64_t> cost = estimateOrderPeak(b.graph, b.graph.candidateOrder());
  ASSERT_TRUE(cost.succeeded());
  EXPECT_EQ(*cost, 12288u);

  // Out of place the scratch is back and the checker requires it.
  ArenaPlan greedy = planOrFail(b.graph, PlannerKind::GreedyBySize);
  EXPECT_PLAN_VALID(b.graph, greedy);
  EXPECT_TRUE(greedy.scratchOffset(dw, 0).has_value());
  EXPECT_EQ(greedy.lowerBound, 8192u + 8192u + 400u);
}

TEST(MemoryInPlace, AliasSharesBytesAndMayOutliveNothing) {
  GraphBuilder b;
  TensorId in = b.input("in", 64);
  TensorId a = b.tensor("a", 800);
  TensorId flat = b.tensor("flat", 800);
  TensorId out = b.tensor("out", 64);
  TensorId side = b.tensor("side", 64);
  b.output(out);
  b.output(side);
  b.op("conv", {in}, {a});
  b.reshape("flatten", a, flat);
  b.op("fc", {flat}, {out});
  b.op("stat", {a}, {side}); // a is read after its alias: still fine.
  ArenaPlan greedy = planOrFail(b.graph, PlannerKind::GreedyBySize);
  ArenaPlan plan = planOrFail(b.graph, PlannerKind::Default);
  EXPECT_PLAN_VALID(b.graph, greedy);
  EXPECT_PLAN_VALID(b.graph, plan);
  ASSERT_EQ(countReuses(plan, ReuseKind::Alias), 1u);
  EXPECT_EQ(plan.tensorOffset(flat), plan.tensorOffset(a));
  EXPECT_EQ(greedy.lowerBound, 800u + 800u + 64u);
  EXPECT_EQ(plan.lowerBound, 800u + 64u + 64u);
  EXPECT_EQ(plan.arenaBytes, plan.lowerBound);
}

TEST(MemoryInPlace, AliasedInputBlocksInPlaceUntilTheViewDies) {
  // relu(flat) may not run in place: a, an exact alias of flat, is read
  // later. The plan must keep them apart.
  GraphBuilder b;
  TensorId in = b.input("in", 64);
  TensorId a = b.tensor("a", 800);
  TensorId flat = b.tensor("flat", 800);
  TensorId act = b.tensor("act", 800);
  TensorId out = b.tensor("out", 64);
  b.output(out);
  b.op("conv", {in}, {a});
  b.reshape("flatten", a, flat);
  b.elementwise("relu", {flat}, act);
  b.op("fc", {act, a}, {out});
  ArenaPlan plan = planOrFail(b.graph, PlannerKind::Default);
  EXPECT_PLAN_VALID(b.graph, plan);
  EXPECT_EQ(countReuses(plan, ReuseKind::ElementwiseInPlace), 0u);
  EXPECT_EQ(countReuses(plan, ReuseKind::Alias), 1u);
}

TEST(MemoryInPlace, ConcatInputsAreWrittenIntoTheirSlices) {
  GraphBuilder b;
  TensorId in = b.input("in", 32);
  TensorId x1 = b.tensor("x1", 96);
  TensorId x2 = b.tensor("x2", 160);
  TensorId w = b.constant("w", 32);
  TensorId cat = b.tensor("cat", 288);
  TensorId out = b.tensor("out", 16);
  b.output(out);
  b.op("branch1", {in}, {x1});
  b.op("branch2", {in}, {x2});
  b.concat("concat", {x1, w, x2}, cat, {0, 96, 128});
  b.op("head", {cat}, {out});
  ArenaPlan greedy = planOrFail(b.graph, PlannerKind::GreedyBySize);
  ArenaPlan plan = planOrFail(b.graph, PlannerKind::Default);
  EXPECT_PLAN_VALID(b.graph, greedy);
  EXPECT_PLAN_VALID(b.graph, plan);
  // The constant slice is copied by the concat; the two activations are
  // placed.
  ASSERT_EQ(countReuses(plan, ReuseKind::ConcatSlice), 2u);
  EXPECT_EQ(*plan.tensorOffset(x1), *plan.tensorOffset(cat) + 0);
  EXPECT_EQ(*plan.tensorOffset(x2), *plan.tensorOffset(cat) + 128);
  // At the concat: x1 + x2 + cat = 544 without placement, cat alone with;
  // the peak is then cat + out at the head. The input fits in the bytes of
  // the constant's slice, which the concat fills only after it died.
  EXPECT_EQ(greedy.lowerBound, 544u);
  EXPECT_EQ(plan.lowerBound, 288u + 16u);
  EXPECT_EQ(plan.arenaBytes, plan.lowerBound);
  EXPECT_EQ(plan.tensorOffset(in), *plan.tensorOffset(cat) + 96);
}

TEST(MemoryInPlace, ConcatOfTheSameTensorTwicePlacesItOnce) {
  GraphBuilder b;
  TensorId in = b.input("in", 64);
  TensorId x = b.tensor("x", 64);
  TensorId cat = b.tensor("cat", 128);
  b.output(cat);
  b.op("conv", {in}, {x});
  b.concat("concat", {x, x}, cat, {0, 64});
  ArenaPlan plan = planOrFail(b.graph, PlannerKind::Default);
  EXPECT_PLAN_VALID(b.graph, plan);
  EXPECT_EQ(countReuses(plan, ReuseKind::ConcatSlice), 1u);
}

TEST(MemoryInPlace, DepthwiseRefusedWhenItWouldSpillIntoALiveSlice) {
  // dw writes y1 over x1 (384 bytes); y1 is slice 0 of cat, so x1 would
  // cover cat's slice 1 while y2, already computed, lives there.
  GraphBuilder b;
  TensorId in = b.input("in", 64);
  TensorId x1 = b.tensor("x1", 384);
  TensorId y2 = b.tensor("y2", 96);
  TensorId y1 = b.tensor("y1", 96);
  TensorId cat = b.tensor("cat", 192);
  TensorId out = b.tensor("out", 16);
  b.output(out);
  b.op("conv1", {in}, {x1});
  b.op("conv2", {in}, {y2});
  b.depthwise("dw", x1, y1, 16);
  b.concat("concat", {y1, y2}, cat, {0, 96});
  b.op("head", {cat}, {out});
  ArenaPlan plan = planOrFail(b.graph, PlannerKind::Default);
  EXPECT_PLAN_VALID(b.graph, plan);
  EXPECT_EQ(countReuses(plan, ReuseKind::ConcatSlice), 2u);
  EXPECT_EQ(countReuses(plan, ReuseKind::DepthwiseInPlace), 0u);
}

TEST(MemoryInPlace, ScratchLivesOnlyDuringItsOp) {
  GraphBuilder b;
  TensorId in = b.input("in", 96);
  TensorId a = b.tensor("a", 96);
  TensorId out = b.tensor("out", 96);
  b.output(out);
  OpId conv = b.op("conv", {in}, {a}, {304, 16});
  OpId fc = b.op("fc", {a}, {out}, {48});
  ArenaPlan plan = planOrFail(b.graph, PlannerKind::Default);
  EXPECT_PLAN_VALID(b.graph, plan);
  ASSERT_TRUE(plan.scratchOffset(conv, 0).has_value());
  ASSERT_TRUE(plan.scratchOffset(conv, 1).has_value());
  ASSERT_TRUE(plan.scratchOffset(fc, 0).has_value());
  EXPECT_FALSE(plan.scratchOffset(fc, 1).has_value());
  // Step 0: in + a + 304 + 16 = 512; step 1: a + out + 48 = 240.
  EXPECT_EQ(plan.lowerBound, 512u);
  EXPECT_EQ(plan.arenaBytes, 512u);
}

} // namespace
} // namespace kiln::memory::test
