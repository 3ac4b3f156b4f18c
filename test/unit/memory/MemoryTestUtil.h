//===- MemoryTestUtil.h - Helpers for the memory planner tests --*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// A terse graph builder for hand-written test graphs and the invariant
// assertion every planner test runs (checkPlan, printing each violation).
//
//===----------------------------------------------------------------------===//

#ifndef KILN_TEST_UNIT_MEMORY_MEMORYTESTUTIL_H
#define KILN_TEST_UNIT_MEMORY_MEMORYTESTUTIL_H

#include "passes/memory/planner/PlanChecker.h"
#include "passes/memory/planner/Planners.h"

#include <gtest/gtest.h>

namespace kiln::memory::test {

/// Asserts that |plan| satisfies every invariant of checkPlan.
#define EXPECT_PLAN_VALID(graph, plan)                                         \
  do {                                                                         \
    ::kiln::Status checkStatus_ = ::kiln::memory::checkPlan((graph), (plan));  \
    EXPECT_TRUE(checkStatus_.succeeded()) << checkStatus_.str();               \
  } while (0)

/// Builds MemoryGraphs tersely.
class GraphBuilder {
public:
  /// Adds a graph input of |bytes| bytes.
  TensorId input(const std::string &name, uint64_t bytes,
                 uint32_t alignment = 16) {
    TensorId id = graph.addTensor(name, bytes, alignment);
    graph.tensor(id).graphInput = true;
    return id;
  }
  /// Adds an activation tensor.
  TensorId tensor(const std::string &name, uint64_t bytes,
                  uint32_t alignment = 16) {
    return graph.addTensor(name, bytes, alignment);
  }
  /// Adds a constant (not in the arena).
  TensorId constant(const std::string &name, uint64_t bytes) {
    TensorId id = graph.addTensor(name, bytes);
    graph.tensor(id).constant = true;
    return id;
  }
  /// Marks |id| a graph output.
  void output(TensorId id) { graph.tensor(id).graphOutput = true; }
  /// Adds an op and returns its id.
  OpId op(const std::string &name, std::vector<TensorId> inputs,
          std::vector<TensorId> outputs, std::vector<uint64_t> scratch = {}) {
    OpDesc desc;
    desc.name = name;
    desc.inputs = std::move(inputs);
    desc.outputs = std::move(outputs);
    desc.scratchBytes = std::move(scratch);
    return graph.addOp(std::move(desc));
  }
  /// Adds an elementwise op whose output may overwrite any of its inputs.
  OpId elementwise(const std::string &name, std::vector<TensorId> inputs,
                   TensorId out) {
    OpId id = op(name, inputs, {out});
    for (unsigned i = 0; i < inputs.size(); ++i)
      graph.op(id).inPlace.push_back({InPlaceKind::Elementwise, i, 0, 0});
    return id;
  }
  /// Adds a depthwise op that may run in place with |temp| bytes.
  OpId depthwise(const std::string &name, TensorId in, TensorId out,
                 uint64_t temp, std::vector<uint64_t> scratch = {}) {
    OpId id = op(name, {in}, {out}, std::move(scratch));
    graph.op(id).inPlace.push_back({InPlaceKind::Depthwise, 0, 0, temp});
    return id;
  }
  /// Adds a zero-copy reshape.
  OpId reshape(const std::string &name, TensorId in, TensorId out) {
    OpId id = op(name, {in}, {out});
    graph.op(id).alias = AliasCapability{0, 0};
    return id;
  }
  /// Adds a concat whose inputs are placed at |slices| in the output.
  OpId concat(const std::string &name, std::vector<TensorId> inputs,
              TensorId out, std::vector<uint64_t> slices) {
    OpId id = op(name, std::move(inputs), {out});
    graph.op(id).concat = ConcatPlacement{0, std::move(slices)};
    return id;
  }

  MemoryGraph graph;
};

/// Returns the plan of |graph| by |planner| in the graph's own order, failing
/// the test when planning fails.
inline ArenaPlan planOrFail(const MemoryGraph &graph, PlannerKind planner) {
  Result<ArenaPlan> plan = planner == PlannerKind::GreedyBySize
                               ? planGreedyBySize(graph, graph.candidateOrder())
                               : planDefault(graph, graph.candidateOrder());
  EXPECT_TRUE(plan.succeeded()) << plan.status().str();
  return plan ? plan.take() : ArenaPlan();
}

} // namespace kiln::memory::test

#endif // KILN_TEST_UNIT_MEMORY_MEMORYTESTUTIL_H
