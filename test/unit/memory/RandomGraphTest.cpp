//===- RandomGraphTest.cpp - Planner invariants on random graphs -*- C++
//-*-===//
// SPDX-License-Identifier: Apache-2.0
//
// Seeded random DAGs with every reuse kind, mixed alignments, constants,
// multi-output ops, duplicate and misaligned concat inputs: every plan of
// every planner passes checkPlan, the default planner never needs more than
// the TF Lite Micro baseline and never less than its lower bound, and the
// chosen execution orders are valid. Also: the branch and bound is at least
// as good as first-fit over every placement order on small problems.
//
//===----------------------------------------------------------------------===//

#include "MemoryTestUtil.h"

#include <cstdio>
#include <numeric>

namespace kiln::memory::test {
namespace {

/// Deterministic generator (splitmix64).
class Random {
public:
  explicit Random(uint64_t seed) : state_(seed * 0x2545f4914f6cdd1dULL + 1) {}
  uint64_t next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  /// Returns a value in [lo, hi].
  uint64_t range(uint64_t lo, uint64_t hi) {
    return lo + next() % (hi - lo + 1);
  }
  bool chance(unsigned percent) { return range(1, 100) <= percent; }

private:
  uint64_t state_;
};

/// Returns a random graph for |seed| (see the file comment).
MemoryGraph randomGraph(uint64_t seed) {
  Random r(seed);
  GraphBuilder b;
  const uint32_t alignments[] = {1, 4, 8, 16, 16, 32};
  auto alignment = [&] { return alignments[r.range(0, 5)]; };
  auto size = [&] {
    const uint64_t scales[] = {1, 4, 16, 16, 64};
    return r.range(1, 64) * scales[r.range(0, 4)];
  };
  int counter = 0;
  auto name = [&](const char *prefix) {
    return std::string(prefix) + std::to_string(counter++);
  };
  std::vector<TensorId> avail;
  for (uint64_t i = 0, n = r.range(1, 2); i < n; ++i)
    avail.push_back(b.input(name("in"), size(), alignment()));
  // Picks a recent tensor more often than an old one.
  auto pick = [&] {
    size_t a = r.range(0, avail.size() - 1), c = r.range(0, avail.size() - 1);
    return avail[avail.size() - 1 - std::min(a, c)];
  };
  auto bytesOf = [&](TensorId t) { return b.graph.tensor(t).bytes; };
  std::vector<TensorId> lastOutputs;
  uint64_t numOps = r.range(3, 22);
  for (uint64_t i = 0; i < numOps; ++i) {
    std::vector<TensorId> outs;
    switch (r.range(0, 5)) {
    case 0: { // Generic op, maybe with a constant and scratch.
      std::vector<TensorId> ins;
      for (uint64_t k = 0, n = r.range(1, 3); k < n; ++k)
        ins.push_back(pick());
      if (r.chance(30))
        ins.push_back(b.constant(name("w"), size()));
      for (uint64_t k = 0, n = r.range(1, 2); k < n; ++k)
        outs.push_back(b.tensor(name("t"), size(), alignment()));
      std::vector<uint64_t> scratch;
      for (uint64_t k = 0, n = r.range(0, 2); k < n; ++k)
        scratch.push_back(r.chance(20) ? 0 : size());
      b.op(name("op"), ins, outs, scratch);
      break;
    }
    case 1: { // Elementwise, one or two same-size inputs.
      TensorId x = pick();
      std::vector<TensorId> ins{x};
      TensorId y = pick();
      if (y != x && bytesOf(y) == bytesOf(x))
        ins.push_back(y);
      else if (r.chance(30))
        ins.push_back(y);
      outs.push_back(b.tensor(name("e"), bytesOf(x), alignment()));
      OpId op = b.op(name("ew"), ins, outs);
      for (unsigned k = 0; k < ins.size(); ++k)
        if (bytesOf(ins[k]) == bytesOf(x))
          b.graph.op(op).inPlace.push_back({InPlaceKind::Elementwise, k, 0, 0});
      break;
    }
    case 2: { // Depthwise, output up to 4x smaller.
      TensorId x = pick();
      uint64_t out = std::max<uint64_t>(1, bytesOf(x) / r.range(1, 4));
      outs.push_back(b.tensor(name("d"), out, alignment()));
      std::vector<uint64_t> scratch;
      if (r.chance(50))
        scratch.push_back(size());
      b.depthwise(name("dw"), x, outs[0], r.range(0, 64), scratch);
      break;
    }
    case 3: { // Reshape.
      TensorId x = pick();
      outs.push_back(b.tensor(name("r"), bytesOf(x), alignment()));
      b.reshape(name("reshape"), x, outs[0]);
      break;
    }
    case 4: { // Concat, slices usually aligned, sometimes with a gap.
      std::vector<TensorId> ins;
      for (uint64_t k = 0, n = r.range(2, 3); k < n; ++k)
        ins.push_back(r.chance(15) ? b.constant(name("w"), size()) : pick());
      std::vector<uint64_t> slices;
      uint64_t cursor = 0;
      for (TensorId t : ins) {
        if (r.chance(85))
          cursor = alignUp(cursor, b.graph.tensor(t).alignment);
        slices.push_back(cursor);
        cursor += bytesOf(t) + (r.chance(20) ? r.range(1, 16) : 0);
      }
      outs.push_back(b.tensor(name("c"), cursor, alignment()));
      b.concat(name("concat"), ins, outs[0], slices);
      break;
    }
    default: { // Two outputs, the first may overwrite the input.
      TensorId x = pick();
      outs.push_back(b.tensor(name("m"), bytesOf(x), alignment()));
      outs.push_back(b.tensor(name("m"), size(), alignment()));
      OpId op = b.op(name("multi"), {x}, outs);
      b.graph.op(op).inPlace.push_back({InPlaceKind::Elementwise, 0, 0, 0});
      break;
    }
    }
    for (TensorId t : outs)
      avail.push_back(t);
    lastOutputs = outs;
  }
  for (TensorId t : lastOutputs)
    b.output(t);
  for (TensorId t : avail)
    if (r.chance(8))
      b.output(t);
  return b.graph;
}

/// Returns a random topological order of |graph|.
std::vector<OpId> randomOrder(const MemoryGraph &graph, uint64_t seed) {
  Random r(seed);
  GraphUses uses = analyzeUses(graph);
  std::vector<int> pending(graph.numOps(), 0);
  for (size_t o = 0; o < graph.numOps(); ++o)
    for (TensorId t : graph.op(static_cast<OpId>(o)).inputs)
      if (uses.producer[t] >= 0)
        ++pending[o];
  std::vector<OpId> ready, order;
  for (size_t o = 0; o < graph.numOps(); ++o)
    if (pending[o] == 0)
      ready.push_back(static_cast<OpId>(o));
  while (!ready.empty()) {
    size_t at = r.range(0, ready.size() - 1);
    OpId op = ready[at];
    ready.erase(ready.begin() + at);
    order.push_back(op);
    for (TensorId t : graph.op(op).outputs)
      for (OpId user : uses.consumers[t])
        for (TensorId in : graph.op(user).inputs)
          if (in == t && --pending[user] == 0)
            ready.push_back(user);
  }
  return order;
}

TEST(MemoryRandomGraphs, EveryPlanHoldsTheInvariants) {
  const uint64_t seeds = 150;
  uint64_t greedyTotal = 0, defaultTotal = 0, boundTotal = 0;
  unsigned better = 0, optimal = 0;
  for (uint64_t seed = 0; seed < seeds; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    MemoryGraph graph = randomGraph(seed);
    ASSERT_TRUE(graph.verify().succeeded()) << graph.verify().str();
    std::vector<OpId> order = graph.candidateOrder();

    Result<ArenaPlan> greedy = planGreedyBySize(graph, order);
    Result<ArenaPlan> best = planDefault(graph, order);
    ASSERT_TRUE(greedy.succeeded()) << greedy.status().str();
    ASSERT_TRUE(best.succeeded()) << best.status().str();
    EXPECT_PLAN_VALID(graph, *greedy);
    EXPECT_PLAN_VALID(graph, *best);
    EXPECT_LE(best->arenaBytes, greedy->arenaBytes);
    EXPECT_GE(best->arenaBytes, best->lowerBound);
    EXPECT_GE(greedy->arenaBytes, greedy->lowerBound);
    EXPECT_LE(best->lowerBound, best->lowerBoundWithoutReuse);
    greedyTotal += greedy->arenaBytes;
    defaultTotal += best->arenaBytes;
    boundTotal += best->lowerBound;
    better += best->arenaBytes < greedy->arenaBytes;
    optimal += best->provedOptimal;

    // Any valid order plans correctly.
    std::vector<OpId> shuffled = randomOrder(graph, seed + 1000);
    ASSERT_TRUE(verifyOrder(graph, shuffled).succeeded());
    Result<ArenaPlan> reordered = planDefault(graph, shuffled);
    ASSERT_TRUE(reordered.succeeded());
    EXPECT_PLAN_VALID(graph, *reordered);

    Result<OrderResult> chosen = chooseExecutionOrder(graph);
    ASSERT_TRUE(chosen.succeeded());
    EXPECT_TRUE(verifyOrder(graph, chosen->order).succeeded());
    EXPECT_LE(chosen->peakBytes, chosen->candidatePeakBytes);
    Result<ArenaPlan> whole = planMemory(graph);
    ASSERT_TRUE(whole.succeeded());
    EXPECT_PLAN_VALID(graph, *whole);
    EXPECT_LE(whole->arenaBytes, best->arenaBytes);
  }
  std::printf("[ random   ] %llu graphs: greedy-by-size %llu B, default %llu "
              "B (%.3fx), lower bound %llu B; default smaller on %u, proved "
              "optimal on %u\n",
              static_cast<unsigned long long>(seeds),
              static_cast<unsigned long long>(greedyTotal),
              static_cast<unsigned long long>(defaultTotal),
              static_cast<double>(greedyTotal) / defaultTotal,
              static_cast<unsigned long long>(boundTotal), better, optimal);
  EXPECT_GT(better, seeds / 2) << "reuse should pay off on most graphs";
}

TEST(MemoryRandomGraphs, BranchAndBoundBeatsEveryFirstFitOrder) {
  for (uint64_t seed = 0; seed < 40; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    Random r(seed + 77);
    PlacementProblem problem;
    problem.numSteps = 8;
    size_t n = r.range(3, 7);
    for (size_t i = 0; i < n; ++i) {
      PlacementUnit unit;
      int32_t first = static_cast<int32_t>(r.range(0, 7));
      int32_t last = static_cast<int32_t>(r.range(first, 7));
      uint32_t align = r.chance(50) ? 1 : 8;
      unit.members.push_back(
          {static_cast<uint32_t>(i), 0, r.range(1, 40), align, {first, last}});
      ASSERT_TRUE(finalizeUnit(unit));
      problem.units.push_back(unit);
    }
    std::vector<uint64_t> profile = liveProfile(problem);
    uint64_t bound = *std::max_element(profile.begin(), profile.end());
    std::vector<uint32_t> perm(n);
    std::iota(perm.begin(), perm.end(), 0);
    uint64_t bestFirstFit = UINT64_MAX;
    do {
      bestFirstFit = std::min(
          bestFirstFit, placeUnits(problem, perm, FitPolicy::FirstFit).peak);
    } while (std::next_permutation(perm.begin(), perm.end()));

    ExactPlacement exact =
        branchAndBound(problem, UINT64_MAX, bound, 10'000'000);
    ASSERT_TRUE(exact.completed);
    ASSERT_TRUE(exact.exhaustive);
    ASSERT_TRUE(exact.placement.has_value());
    EXPECT_LE(exact.placement->peak, bestFirstFit);
    EXPECT_GE(exact.placement->peak, bound);
    // The placement itself is collision free and aligned.
    for (size_t a = 0; a < n; ++a) {
      const UnitMember &ma = problem.units[a].members[0];
      uint64_t oa = exact.placement->base[a];
      EXPECT_EQ(oa % ma.alignment, 0u);
      for (size_t c = a + 1; c < n; ++c) {
        const UnitMember &mc = problem.units[c].members[0];
        uint64_t oc = exact.placement->base[c];
        bool apart = oa + ma.bytes <= oc || oc + mc.bytes <= oa;
        EXPECT_TRUE(apart || !ma.live.overlaps(mc.live));
      }
    }
  }
}

} // namespace
} // namespace kiln::memory::test
