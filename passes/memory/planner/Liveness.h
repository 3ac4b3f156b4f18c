//===- Liveness.h - Tensor lifetimes over an execution order ----*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// First and last use of every arena tensor over an execution order, in op
// steps (the position of an op in the order). The convention is TF Lite
// Micro's: an op's outputs are live from its step, its inputs until its step
// inclusive (so an op's inputs and outputs overlap at the op), graph inputs
// from step 0 and graph outputs until the last step. Also: the live-bytes
// profile over the steps, whose maximum is the lower bound any placement of
// the same buffers must reach.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_PASSES_MEMORY_PLANNER_LIVENESS_H
#define KILN_PASSES_MEMORY_PLANNER_LIVENESS_H

#include "passes/memory/planner/MemoryGraph.h"

#include <algorithm>

namespace kiln::memory {

/// A closed range of op steps [first, last]; empty when first < 0.
struct Interval {
  int32_t first = -1;
  int32_t last = -1;

  bool empty() const { return first < 0; }
  /// Returns true when both are non-empty and share a step.
  bool overlaps(const Interval &other) const {
    return !empty() && !other.empty() && first <= other.last &&
           other.first <= last;
  }
  bool contains(int32_t step) const {
    return !empty() && first <= step && step <= last;
  }
  /// Number of steps covered.
  int32_t length() const { return empty() ? 0 : last - first + 1; }
  /// Returns the smallest interval covering both.
  Interval hull(const Interval &other) const {
    if (empty())
      return other;
    if (other.empty())
      return *this;
    return {std::min(first, other.first), std::max(last, other.last)};
  }
  bool operator==(const Interval &other) const {
    return first == other.first && last == other.last;
  }
};

/// Lifetimes of the tensors of a graph over one execution order.
struct Liveness {
  /// The order the lifetimes were computed for.
  std::vector<OpId> order;
  /// Step of each op (its position in |order|).
  std::vector<int32_t> stepOfOp;
  /// Lifetime per tensor; empty for tensors not in the arena.
  std::vector<Interval> tensors;
  /// Number of steps (ops).
  int32_t numSteps = 0;
};

/// Checks that |order| lists every op of |graph| exactly once and that every
/// op comes after the producers of its inputs.
Status verifyOrder(const MemoryGraph &graph, const std::vector<OpId> &order);

/// Returns the lifetimes of |graph|'s tensors over |order| (which is checked
/// with verifyOrder). Tensors that no op reads and that are not graph outputs
/// live only at the step of their producer.
Result<Liveness> computeLiveness(const MemoryGraph &graph,
                                 const std::vector<OpId> &order);

/// Returns, per step, the sum of the bytes of the arena tensors and scratch
/// buffers live at that step, taking no reuse into account: the TF Lite Micro
/// view of the problem.
std::vector<uint64_t> liveBytesWithoutReuse(const MemoryGraph &graph,
                                            const Liveness &liveness);

} // namespace kiln::memory

#endif // KILN_PASSES_MEMORY_PLANNER_LIVENESS_H
