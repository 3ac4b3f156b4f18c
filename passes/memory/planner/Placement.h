//===- Placement.h - Offset assignment for arena buffers --------*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// The placement engines under the planners. They work on "units": groups of
// buffers whose relative offsets are fixed by the reuses taken (an in-place
// chain, a concat output with its placed inputs, aliased reshapes), each
// member with its own lifetime, so a unit is a staircase in the
// (step, offset) plane rather than one rectangle. A unit is placed as a
// whole; two members of different units may not share a byte at a step at
// which both are live.
//
// Engines: TF Lite Micro's greedy-by-size on single buffers (the baseline),
// a decoder that places units first-fit or best-fit in a given order, a
// seeded local search over orders, and a branch-and-bound for small
// problems.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_PASSES_MEMORY_PLANNER_PLACEMENT_H
#define KILN_PASSES_MEMORY_PLANNER_PLACEMENT_H

#include "passes/memory/planner/Liveness.h"

namespace kiln::memory {

/// One buffer of a unit: it sits at unit base + rel.
struct UnitMember {
  /// Index of the buffer in the caller's buffer list.
  uint32_t buffer = 0;
  int64_t rel = 0;
  uint64_t bytes = 0;
  uint32_t alignment = 1;
  Interval live;
};

/// Buffers placed together. finalizeUnit() fills the derived fields.
struct PlacementUnit {
  std::vector<UnitMember> members;
  /// The base must be congruent to |residue| modulo |alignment| so that
  /// every member is aligned.
  uint64_t alignment = 1;
  uint64_t residue = 0;
  /// max(rel + bytes) over members, after rels are shifted to start at 0.
  uint64_t extent = 0;
  /// Hull of the members' lifetimes.
  Interval span;
};

/// Shifts |unit|'s rels so the smallest is 0 and computes its alignment,
/// residue, extent and span. Returns false when no base offset aligns every
/// member (the members' rels are incompatible with their alignments).
bool finalizeUnit(PlacementUnit &unit);

/// A set of units over |numSteps| steps.
struct PlacementProblem {
  std::vector<PlacementUnit> units;
  int32_t numSteps = 0;
};

/// Base offset per unit and the resulting arena size.
struct Placement {
  std::vector<uint64_t> base;
  uint64_t peak = 0;
};

/// How a unit picks its offset among the feasible ones.
enum class FitPolicy {
  /// The lowest feasible offset.
  FirstFit,
  /// The free gap that keeps the arena smallest, then the tightest gap, then
  /// the lowest offset.
  BestFit,
};

/// The orders in which the heuristics place units.
enum class UnitOrderKey {
  /// Largest extent first (TF Lite Micro's order).
  SizeDesc,
  /// Largest extent x lifetime first.
  AreaDesc,
  /// Longest lifetime first.
  LifetimeDesc,
  /// Earliest start first, larger first on ties (linear scan).
  StartAsc,
  /// Most bytes of time-overlapping units first (interference weight).
  ConflictDesc,
  /// Units live at a step of peak live bytes first, by size.
  PeakFirst,
};

/// Returns a lowercase name of |key| for strategy strings.
const char *unitOrderKeyName(UnitOrderKey key);
/// Returns a lowercase name of |policy| for strategy strings.
const char *fitPolicyName(FitPolicy policy);

/// Returns, per step, the bytes occupied by the live members of all units
/// (overlapping members of one unit counted once). Its maximum is a lower
/// bound on every placement of |problem|.
std::vector<uint64_t> liveProfile(const PlacementProblem &problem);

/// Returns the unit indices of |problem| sorted by |key| (ties by lifetime
/// start, then index, so the order is deterministic).
std::vector<uint32_t> orderUnits(const PlacementProblem &problem,
                                 UnitOrderKey key);

/// Places the units one by one in |order| with |policy|, each at a base
/// where none of its members collides with a member of an already placed
/// unit that is live at the same step.
Placement placeUnits(const PlacementProblem &problem,
                     const std::vector<uint32_t> &order, FitPolicy policy);

/// Hill climbing over placement orders: starts from |order|, repeatedly
/// moves a unit that touches the arena's top earlier or swaps two units,
/// and keeps a change when the arena does not grow. Deterministic for a
/// given |seed|; stops after |iterations| or when |lowerBound| is reached.
/// Returns the best placement and leaves the best order in |order|.
Placement localSearch(const PlacementProblem &problem,
                      std::vector<uint32_t> &order, FitPolicy policy,
                      unsigned iterations, uint64_t seed, uint64_t lowerBound);

/// Result of branchAndBound.
struct ExactPlacement {
  /// Set when a placement smaller than the incumbent was found.
  std::optional<Placement> placement;
  /// True when the search space was exhausted within the node budget.
  bool completed = false;
  /// True when, in addition, the search is complete for this problem's
  /// shape (every member at rel 0), so the best found is optimal.
  bool exhaustive = false;
  uint64_t nodes = 0;
};

/// Searches placements smaller than |incumbentPeak| by branch and bound:
/// units are placed in non-decreasing base order, each at offset 0 or just
/// above a time-overlapping placed member (every packing can be pushed down
/// into that form without growing), pruning when the arena reaches the
/// incumbent. Stops at |lowerBound| or after |nodeBudget| nodes.
ExactPlacement branchAndBound(const PlacementProblem &problem,
                              uint64_t incumbentPeak, uint64_t lowerBound,
                              uint64_t nodeBudget);

/// One buffer for placeGreedyBySize.
struct BufferRequest {
  uint64_t bytes = 0;
  Interval live;
  uint32_t alignment = 1;
};

/// TF Lite Micro's GreedyMemoryPlanner: buffers sorted by size, largest
/// first (a stable sort, so ties keep request order), each placed at the
/// first gap, in offset order, between already placed buffers whose
/// lifetimes overlap its own that is large enough. Offsets are rounded up to
/// each request's alignment (TF Lite Micro aligns sizes to 16 bytes instead,
/// which gives the same offsets when all alignments are 16 and sizes are
/// rounded up, see planGreedyBySize). Returns one offset per request.
std::vector<uint64_t>
placeGreedyBySize(const std::vector<BufferRequest> &requests);

} // namespace kiln::memory

#endif // KILN_PASSES_MEMORY_PLANNER_PLACEMENT_H
