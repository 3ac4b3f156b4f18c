//===- PlanCheckerTest.cpp - The invariant checker catches bugs -*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// checkPlan is what every other test relies on, so it gets negative tests:
// each case breaks one invariant of a valid plan and expects the checker to
// name it.
//
//===----------------------------------------------------------------------===//

#include "MemoryTestUtil.h"

namespace kiln::memory::test {
namespace {

/// A small graph with every reuse kind, and its default plan.
class MemoryBrokenPlan : public ::testing::Test {
protected:
  void SetUp() override {
    in = b.input("in", 64);
    a = b.tensor("a", 256);
    c = b.tensor("c", 256);
    flat = b.tensor("flat", 256);
    d = b.tensor("d", 64);
    out = b.tensor("out", 128);
    b.output(out);
    b.op("conv", {in}, {a}, {32});
    relu = b.elementwise("relu", {a}, c);
    b.reshape("flatten", c, flat);
    b.op("fc", {flat}, {d});
    b.concat("concat", {d, in}, out, {0, 64});
    plan = planOrFail(b.graph, PlannerKind::Default);
  }

  /// Returns the checker's message for |broken| (empty when it passes).
  std::string violations(const ArenaPlan &broken) {
    Status status = checkPlan(b.graph, broken);
    return status.succeeded() ? std::string() : status.str();
  }

  /// Returns the buffer of tensor |t| in |p|.
  PlannedBuffer &bufferOf(ArenaPlan &p, TensorId t) {
    return p.buffers[p.tensorBuffer[t]];
  }

  GraphBuilder b;
  TensorId in, a, c, flat, d, out;
  OpId relu;
  ArenaPlan plan;
};

TEST_F(MemoryBrokenPlan, ValidPlanPasses) {
  EXPECT_EQ(violations(plan), "");
  EXPECT_FALSE(plan.reuses.empty());
}

TEST_F(MemoryBrokenPlan, DetectsOverlap) {
  ArenaPlan broken = plan;
  // in (steps 0..4, graph input read by the concat) and a (steps 0..1) are
  // live together; put them at the same offset.
  bufferOf(broken, in).offset = bufferOf(broken, a).offset;
  EXPECT_NE(violations(broken).find("overlaps"), std::string::npos)
      << violations(broken);
}

TEST_F(MemoryBrokenPlan, DetectsMisalignment) {
  ArenaPlan broken = plan;
  bufferOf(broken, d).offset += 4;
  broken.arenaBytes += 4;
  EXPECT_NE(violations(broken).find("is not a multiple of its alignment 16"),
            std::string::npos)
      << violations(broken);
}

TEST_F(MemoryBrokenPlan, DetectsBufferOutsideTheArena) {
  ArenaPlan broken = plan;
  broken.arenaBytes -= 16;
  EXPECT_NE(violations(broken).find("past the arena"), std::string::npos);
}

TEST_F(MemoryBrokenPlan, DetectsBrokenReuseEquation) {
  ArenaPlan broken = plan;
  PlannedBuffer &flatBuffer = bufferOf(broken, flat);
  flatBuffer.offset = broken.arenaBytes;
  broken.arenaBytes += 256;
  std::string text = violations(broken);
  EXPECT_NE(text.find("alias reuse needs tensor 'c' at offset"),
            std::string::npos)
      << text;
}

TEST_F(MemoryBrokenPlan, DetectsReuseTheGraphDidNotOffer) {
  ArenaPlan broken = plan;
  broken.reuses.push_back({ReuseKind::ElementwiseInPlace, 3, flat, d, 0});
  EXPECT_NE(violations(broken).find("was not offered by the op"),
            std::string::npos);
}

TEST_F(MemoryBrokenPlan, DetectsInPlaceOnALiveInput) {
  // Pretend the concat's input 'in' (a graph input read at the last step)
  // was overwritten in place by relu's output.
  ArenaPlan broken = plan;
  broken.reuses.push_back({ReuseKind::ElementwiseInPlace, relu, in, c, 0});
  std::string text = violations(broken);
  EXPECT_NE(text.find("but it is still used at step 4"), std::string::npos)
      << text;
}

TEST_F(MemoryBrokenPlan, DetectsMissingAndWrongBuffers) {
  ArenaPlan missing = plan;
  missing.tensorBuffer[d] = -1;
  EXPECT_NE(violations(missing).find("tensor 'd': error: has no buffer"),
            std::string::npos);

  ArenaPlan wrongSize = plan;
  bufferOf(wrongSize, a).bytes = 128;
  EXPECT_NE(violations(wrongSize).find("has 128 bytes"), std::string::npos);

  ArenaPlan wrongLife = plan;
  bufferOf(wrongLife, a).live.last = 0;
  EXPECT_NE(violations(wrongLife).find("is live over steps [0, 0]"),
            std::string::npos);

  ArenaPlan noScratch = plan;
  for (size_t i = 0; i < noScratch.buffers.size(); ++i)
    if (noScratch.buffers[i].kind == BufferKind::Scratch)
      noScratch.buffers[i].scratchIndex = 5;
  EXPECT_NE(violations(noScratch).find("scratch buffer 0 has no buffer"),
            std::string::npos);
}

TEST_F(MemoryBrokenPlan, DetectsWrongBounds) {
  ArenaPlan broken = plan;
  broken.lowerBound += 1;
  EXPECT_NE(violations(broken).find("lower bound"), std::string::npos);
  ArenaPlan tooBig = plan;
  tooBig.arenaBytes += 16;
  EXPECT_NE(violations(tooBig).find("but its buffers end at"),
            std::string::npos);
}

TEST_F(MemoryBrokenPlan, DetectsInvalidOrder) {
  ArenaPlan broken = plan;
  std::swap(broken.order[0], broken.order[1]);
  EXPECT_NE(violations(broken).find("execution order runs the op before"),
            std::string::npos);
}

} // namespace
} // namespace kiln::memory::test
