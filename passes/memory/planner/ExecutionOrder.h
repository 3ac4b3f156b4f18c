//===- ExecutionOrder.h - Memory-aware choice of the op order ---*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// For graphs with branches (residual blocks, inception-like parallel
// branches) the topological order decides which activations are live
// together. chooseExecutionOrder searches the orders for the one whose peak
// live bytes is smallest.
//
// Algorithm. A partial execution is identified by the set S of ops already
// run (a downward-closed set); the bytes live after S depend only on S. The
// search walks the sets layer by layer (|S| = 0, 1, ...), keeping for each
// set the smallest peak over all orders that reach it (dynamic programming
// over the lattice of downward-closed sets, as in Liberis & Lane 2019 and
// Serenity). For a chain the lattice has one set per layer; for k parallel
// branches of length L it has about L^k. When a layer holds more than
// OrderOptions::maxStatesPerStep sets, or expanding it would spend more than
// its share of OrderOptions::maxTransitions, the worst sets (by peak, then
// live bytes) are dropped, which turns the exact search into a beam search
// (greedy at width one); the result says whether that happened. The work is
// bounded by maxTransitions whatever the graph's width.
//
// Cost model. The bytes live after S are the arena tensors produced and still
// needed (graph outputs always needed), with the views (aliases, concat
// slices) of one storage counted once. While op v runs, its outputs and
// scratch buffers are live too, less the bytes an in-place offer saves when
// its input dies at v (plus the depthwise temporary). This is the lower
// bound the placement planners then try to reach; it ignores fragmentation.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_PASSES_MEMORY_PLANNER_EXECUTIONORDER_H
#define KILN_PASSES_MEMORY_PLANNER_EXECUTIONORDER_H

#include "passes/memory/planner/Reuse.h"

namespace kiln::memory {

/// Options of chooseExecutionOrder.
struct OrderOptions {
  /// The reuses the cost model credits (should match the planner's).
  ReusePolicy reuse;
  /// Beam width: sets kept per layer before the search stops being exact.
  size_t maxStatesPerStep = 4096;
  /// Total (set, op) transitions the search may evaluate, spread evenly over
  /// the layers.
  uint64_t maxTransitions = 100000;
};

/// The order chosen and what the cost model says about it.
struct OrderResult {
  std::vector<OpId> order;
  /// Cost-model peak of |order|.
  uint64_t peakBytes = 0;
  /// Cost-model peak of the graph's own order (OpId order).
  uint64_t candidatePeakBytes = 0;
  /// True when no layer was truncated: |order| is optimal for the model.
  bool exact = true;
  /// Number of partial executions examined.
  uint64_t statesVisited = 0;
};

/// Returns the topological order of |graph| with the smallest cost-model peak
/// (the graph's own order when nothing is better, so the result is never
/// worse than it under the model).
Result<OrderResult> chooseExecutionOrder(const MemoryGraph &graph,
                                         const OrderOptions &options = {});

/// Returns the cost-model peak of running |graph| in |order|.
Result<uint64_t> estimateOrderPeak(const MemoryGraph &graph,
                                   const std::vector<OpId> &order,
                                   const ReusePolicy &reuse = {});

} // namespace kiln::memory

#endif // KILN_PASSES_MEMORY_PLANNER_EXECUTIONORDER_H
