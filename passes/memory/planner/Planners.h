//===- Planners.h - Whole-graph static arena planners -----------*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// The entry points of the memory planner library:
//
//  - planGreedyBySize: TF Lite Micro's GreedyMemoryPlanner, reproduced as the
//    baseline: one buffer per tensor and scratch request (no in-place, no
//    aliasing: reshapes and concats copy), sizes rounded up to the alignment,
//    buffers sorted by size (largest first, stable), each placed at the first
//    offset-ordered gap among the time-overlapping buffers already placed.
//
//  - planDefault: Kiln's planner. Steps:
//      1. take the reuses the policy allows (Reuse.h): aliases, concat
//         slices, elementwise and depthwise in-place;
//      2. place the resulting units with six orders (size, size x lifetime,
//         lifetime, start, conflict weight, peak-first) x two fits (first-fit,
//         best-fit), for the full reuse set and, unless disabled, also for
//         views only and for no reuse;
//      3. improve the best by a seeded local search over placement orders;
//      4. for small problems (at most exactUnitLimit units) run a branch and
//         bound that either proves the best optimal or finds a smaller one;
//      5. also run planGreedyBySize and keep the smallest arena, so the
//         result is never larger than the baseline.
//    Every step stops early once the arena equals the lower bound (the peak
//    of live bytes), which is then proven optimal.
//    Known limits: reuses are chosen greedily before placement (a taken
//    reuse is never traded for a better packing, except via the whole-set
//    alternatives of step 2), and the branch and bound is exact only for
//    units without concat offsets (ArenaPlan::provedOptimal says which).
//
//  - planMemory: verifies the graph, optionally chooses the execution order
//    (ExecutionOrder.h), then runs the chosen planner; with the default
//    planner it also plans the graph's own order and keeps the smaller
//    arena.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_PASSES_MEMORY_PLANNER_PLANNERS_H
#define KILN_PASSES_MEMORY_PLANNER_PLANNERS_H

#include "passes/memory/planner/ExecutionOrder.h"

namespace kiln::memory {

/// The planners planMemory can run.
enum class PlannerKind {
  /// TF Lite Micro's greedy-by-size, the baseline.
  GreedyBySize,
  /// Reuse-aware multi-heuristic planner.
  Default,
};

/// Returns the flag spelling of |kind|: "greedy-by-size" or "default".
const char *plannerKindName(PlannerKind kind);

/// Parses "greedy-by-size" or "default".
Result<PlannerKind> parsePlannerKind(const std::string &name);

/// Options of planGreedyBySize.
struct GreedyOptions {
  /// Round every size up to its alignment before placing, as TF Lite Micro
  /// does with its 16-byte buffer alignment.
  bool alignSizes = true;
};

/// Options of planDefault.
struct DefaultPlannerOptions {
  /// The reuses the planner may take.
  ReusePolicy reuse;
  /// Also try views-only and no reuse (step 2).
  bool tryReuseSubsets = true;
  /// Local search iterations (step 3); 0 disables it.
  unsigned localSearchIterations = 300;
  /// Member-pair comparisons the local search may spend in all; on large
  /// graphs this, not localSearchIterations, limits the iterations (at
  /// least 16 run).
  uint64_t localSearchWork = 20000000;
  /// Seed of the local search.
  uint64_t seed = 1;
  /// Largest number of units for the branch and bound (step 4); 0 disables.
  size_t exactUnitLimit = 16;
  /// Nodes plus collision tests the branch and bound may spend.
  uint64_t exactBudget = 20000;
};

/// Options of planMemory.
struct PlanOptions {
  PlannerKind planner = PlannerKind::Default;
  /// Search for a better execution order (default planner only: the TF Lite
  /// Micro baseline always runs the graph's own order).
  bool chooseOrder = true;
  GreedyOptions greedy;
  DefaultPlannerOptions defaults;
  /// Limits of the order search (OrderOptions); its reuse policy is taken
  /// from |defaults|.
  size_t maxOrderStatesPerStep = 4096;
  uint64_t maxOrderTransitions = 100000;
};

/// Plans |graph| run in |order| like TF Lite Micro's GreedyMemoryPlanner.
Result<ArenaPlan> planGreedyBySize(const MemoryGraph &graph,
                                   const std::vector<OpId> &order,
                                   const GreedyOptions &options = {});

/// Plans |graph| run in |order| with Kiln's default planner.
Result<ArenaPlan> planDefault(const MemoryGraph &graph,
                              const std::vector<OpId> &order,
                              const DefaultPlannerOptions &options = {});

/// Verifies |graph|, picks the order and runs the selected planner.
Result<ArenaPlan> planMemory(const MemoryGraph &graph,
                             const PlanOptions &options = {});

} // namespace kiln::memory

#endif // KILN_PASSES_MEMORY_PLANNER_PLANNERS_H
