//===- PlanChecker.h - Invariants every arena plan must hold ----*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// checkPlan re-derives everything it can from the graph instead of trusting
// the plan: the order is re-verified and the lifetimes recomputed, and then
//  - every arena tensor and every per-op scratch buffer has exactly one
//    buffer of the right size and lifetime, and nothing else is planned;
//  - every offset is aligned and every buffer lies inside the arena, whose
//    size is the largest end offset;
//  - every taken reuse was offered by the graph, its equation
//    offset(from) == offset(to) + offsetInTo holds exactly, in-place inputs
//    die at their op and are not graph outputs, and an in-place depthwise op
//    has its temporary (and only such an op has one);
//  - no two buffers live at a common step share a byte, unless OverlapRules
//    allows it for the taken reuses (views of one storage; an in-place pair
//    at its op);
//  - the plan's lower bounds equal the recomputed peaks of live bytes.
// Like TF Lite Micro's DoAnyBuffersOverlap, every planner test runs it.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_PASSES_MEMORY_PLANNER_PLANCHECKER_H
#define KILN_PASSES_MEMORY_PLANNER_PLANCHECKER_H

#include "passes/memory/planner/ArenaPlan.h"

namespace kiln::memory {

/// Returns success, or a failure with one error per violated invariant.
Status checkPlan(const MemoryGraph &graph, const ArenaPlan &plan);

} // namespace kiln::memory

#endif // KILN_PASSES_MEMORY_PLANNER_PLANCHECKER_H
