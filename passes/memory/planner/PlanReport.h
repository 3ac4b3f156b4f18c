//===- PlanReport.h - Human-readable memory plan reports --------*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// Reports of an ArenaPlan: the peak and its lower bounds, the bytes live at
// every op, the taken reuses, and an SVG timeline of the arena (x = op step,
// y = offset, one labelled rectangle per buffer) that shows at a glance
// where the peak is and what fills it. `kiln report` and the benchmarks use
// these; they never print by themselves.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_PASSES_MEMORY_PLANNER_PLANREPORT_H
#define KILN_PASSES_MEMORY_PLANNER_PLANREPORT_H

#include "passes/memory/planner/ArenaPlan.h"

namespace kiln::memory {

/// Memory use while one op runs.
struct StepMemory {
  int32_t step = 0;
  OpId op = -1;
  std::string opName;
  /// Bytes covered by buffers live at this step (shared bytes once).
  uint64_t liveBytes = 0;
  /// Largest end offset of a buffer live at this step.
  uint64_t highWater = 0;
};

/// Returns the memory use at every step of |plan|.
std::vector<StepMemory> stepMemory(const MemoryGraph &graph,
                                   const ArenaPlan &plan);

/// Returns a plain-text report: arena size, lower bounds, strategy, one line
/// per op with its live bytes and high-water mark (the peak marked), and the
/// taken reuses.
std::string formatPlanReport(const MemoryGraph &graph, const ArenaPlan &plan);

/// Options of renderArenaSvg.
struct SvgOptions {
  /// Drawing area in pixels, without margins.
  unsigned width = 960;
  unsigned height = 480;
  /// Title line; the arena size and bounds are appended.
  std::string title = "arena plan";
};

/// Returns a standalone SVG document of |plan|'s arena over time.
std::string renderArenaSvg(const MemoryGraph &graph, const ArenaPlan &plan,
                           const SvgOptions &options = {});

/// Writes |contents| to the file |path|.
Status writeTextFile(const std::string &path, const std::string &contents);

} // namespace kiln::memory

#endif // KILN_PASSES_MEMORY_PLANNER_PLANREPORT_H
