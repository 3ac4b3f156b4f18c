//===- MemoryPlanner.h - The memory planner in one include ----*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// Umbrella header of KilnMemoryPlanner, the whole-graph static arena planner
// (plain C++17, no MLIR). A caller builds a MemoryGraph, calls planMemory and
// reads the ArenaPlan:
//
//   using namespace kiln::memory;
//   MemoryGraph graph;
//   TensorId in = graph.addTensor("in", 27648); // + graphInput = true, ops..
//   kiln::Result<ArenaPlan> plan = planMemory(graph);
//   if (!plan)
//     report(plan.status());
//   uint64_t offset = *plan->tensorOffset(in);
//
// Every function is pure (no globals, no printing) and thread-safe on
// distinct inputs. See docs/memory-planning.md.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_PASSES_MEMORY_PLANNER_MEMORYPLANNER_H
#define KILN_PASSES_MEMORY_PLANNER_MEMORYPLANNER_H

#include "passes/memory/planner/ArenaPlan.h"
#include "passes/memory/planner/ExecutionOrder.h"
#include "passes/memory/planner/Liveness.h"
#include "passes/memory/planner/MemoryGraph.h"
#include "passes/memory/planner/PatchPlanner.h"
#include "passes/memory/planner/PlanChecker.h"
#include "passes/memory/planner/PlanReport.h"
#include "passes/memory/planner/Planners.h"

#endif // KILN_PASSES_MEMORY_PLANNER_MEMORYPLANNER_H
