//===- Reuse.h - Which buffers may share bytes ------------------*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// The rules that make two buffers sharing arena bytes at the same step legal,
// and the selection of the reuses (alias, concat slice, in-place) a plan takes
// for one execution order. Both the planners (when they merge buffers into
// placement units) and the plan checker use the same OverlapRules, so a plan
// the planner builds is exactly what the checker accepts.
//
// Semantics. Aliases and concat slices are *views*: the tensors denote the
// same bytes (offset(from) == offset(to) + offsetInTo) and nobody writes them
// while both are live, so views of one storage may overlap at any step. An
// in-place op at step k writes its output |to| over its input |from|: the two
// may overlap only at step k, |from| (and every exact alias of it) must die
// at k, and |from| must not be a graph output.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_PASSES_MEMORY_PLANNER_REUSE_H
#define KILN_PASSES_MEMORY_PLANNER_REUSE_H

#include "passes/memory/planner/ArenaPlan.h"
#include "passes/memory/planner/Placement.h"

namespace kiln::memory {

/// Which of the graph's reuse offers a planner may take.
struct ReusePolicy {
  bool aliases = true;
  bool concatPlacement = true;
  bool elementwiseInPlace = true;
  bool depthwiseInPlace = true;
  /// Let in-place ops overwrite graph inputs that die at them (the caller's
  /// input bytes are then clobbered, as in TinyEngine).
  bool inPlaceOnGraphInputs = true;

  /// Returns a policy that takes no reuse at all (TF Lite Micro).
  static ReusePolicy none() {
    ReusePolicy policy;
    policy.aliases = policy.concatPlacement = false;
    policy.elementwiseInPlace = policy.depthwiseInPlace = false;
    return policy;
  }
  /// Returns a policy that takes views (alias, concat) but no in-place.
  static ReusePolicy viewsOnly() {
    ReusePolicy policy;
    policy.elementwiseInPlace = policy.depthwiseInPlace = false;
    return policy;
  }
};

/// Decides whether two tensors may share bytes at a common step, given the
/// reuses taken so far (see the file comment for the semantics).
class OverlapRules {
public:
  OverlapRules(const MemoryGraph &graph, const Liveness &liveness);

  /// Records a taken reuse: views join their view classes, in-place reuses
  /// are remembered with the step of their op.
  void addReuse(const AppliedReuse &reuse);

  /// Returns true when tensors |a| and |b|, live at a common step and sharing
  /// bytes, may do so. |offsets| gives each tensor's offset in one frame of
  /// reference (the arena, or a unit's relative offsets; only tensors of the
  /// same view class are compared).
  bool mayOverlap(TensorId a, TensorId b,
                  const std::vector<int64_t> &offsets) const;

  /// Returns the representative of |t|'s view class.
  TensorId viewClass(TensorId t) const;

private:
  /// Returns true when |a| was overwritten in place by |b| and the overlap
  /// is legal.
  bool inPlaceAllows(TensorId a, TensorId b,
                     const std::vector<int64_t> &offsets) const;

  struct InPlaceRecord {
    int32_t step;
    TensorId from;
    TensorId to;
  };

  const MemoryGraph *graph_;
  const Liveness *liveness_;
  mutable std::vector<TensorId> parent_;
  std::vector<InPlaceRecord> inPlace_;
};

/// The buffers of one execution order with the reuses taken, grouped into
/// placement units.
struct BufferProblem {
  /// Every arena buffer, offsets not yet assigned.
  std::vector<PlannedBuffer> buffers;
  /// Buffer index per tensor (-1 outside the arena).
  std::vector<int32_t> tensorBuffer;
  std::vector<AppliedReuse> reuses;
  /// Units over |buffers| (UnitMember::buffer indexes |buffers|).
  PlacementProblem placement;
};

/// Builds the buffers of |graph| over |liveness|'s order and takes the
/// reuses |policy| allows, greedily: aliases first, then concat slices, then
/// in-place offers in execution order (for each output, the first offer that
/// is legal). A reuse is taken only when the merged unit still satisfies
/// OverlapRules and every member can be aligned; otherwise the op keeps its
/// copy. Graph must have passed verify().
BufferProblem buildBufferProblem(const MemoryGraph &graph,
                                 const Liveness &liveness,
                                 const ReusePolicy &policy);

/// Returns |problem|'s buffers with offsets from |placement|, as a plan.
ArenaPlan makePlan(const BufferProblem &problem, const Placement &placement,
                   const MemoryGraph &graph, const Liveness &liveness);

} // namespace kiln::memory

#endif // KILN_PASSES_MEMORY_PLANNER_REUSE_H
