//===- ArenaPlan.h - The result of memory planning --------------*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// An ArenaPlan gives every arena buffer (tensor, per-op scratch buffer,
// depthwise in-place temporary) its byte offset in the one static arena, the
// execution order the offsets are valid for, and the reuses the planner took:
// the code generator reads them to run kernels in place, to skip the copies
// of aliased reshapes and placed concats, and to emit copies where a reuse
// the graph offered was not taken.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_PASSES_MEMORY_PLANNER_ARENAPLAN_H
#define KILN_PASSES_MEMORY_PLANNER_ARENAPLAN_H

#include "passes/memory/planner/Liveness.h"

#include <optional>

namespace kiln::memory {

/// What an arena buffer holds.
enum class BufferKind {
  /// An activation tensor (TensorDesc).
  Tensor,
  /// A per-op scratch buffer (OpDesc::scratchBytes).
  Scratch,
  /// The one-channel temporary of an in-place depthwise op.
  InPlaceTemp,
};

/// One buffer of the arena.
struct PlannedBuffer {
  BufferKind kind = BufferKind::Tensor;
  /// The tensor (Tensor kind), else -1.
  TensorId tensor = -1;
  /// The owning op (Scratch and InPlaceTemp kinds), else -1.
  OpId op = -1;
  /// Index into OpDesc::scratchBytes (Scratch kind).
  unsigned scratchIndex = 0;
  /// Label for reports: the tensor name, or "<op>.scratchN" / "<op>.temp".
  std::string name;
  uint64_t bytes = 0;
  uint32_t alignment = 1;
  /// Steps during which the buffer's bytes must be kept.
  Interval live;
  /// Byte offset in the arena.
  uint64_t offset = 0;
};

/// The kinds of reuse a plan can take.
enum class ReuseKind {
  Alias,
  ElementwiseInPlace,
  DepthwiseInPlace,
  ConcatSlice,
};

/// Returns a lowercase name of |kind| for reports ("alias", ...).
const char *reuseKindName(ReuseKind kind);

/// A reuse the plan took: tensor |from| (an input of |op|) and tensor |to|
/// share bytes with offset(from) == offset(to) + offsetInTo.
///  - Alias, ElementwiseInPlace, DepthwiseInPlace: |to| is the op's output and
///    offsetInTo is 0.
///  - ConcatSlice: |to| is the concat output, |from| one of its inputs, and
///    offsetInTo the input's slice offset.
struct AppliedReuse {
  ReuseKind kind = ReuseKind::Alias;
  OpId op = -1;
  TensorId from = -1;
  TensorId to = -1;
  uint64_t offsetInTo = 0;
};

/// A complete static memory plan for one execution order.
struct ArenaPlan {
  /// Execution order the plan is valid for.
  std::vector<OpId> order;
  std::vector<PlannedBuffer> buffers;
  /// Index into |buffers| per tensor, -1 for tensors not in the arena.
  std::vector<int32_t> tensorBuffer;
  std::vector<AppliedReuse> reuses;
  /// Bytes the arena needs: the maximum of offset + bytes over all buffers.
  uint64_t arenaBytes = 0;
  /// The maximum over steps of the bytes live at that step, with the taken
  /// reuses counted once: no placement of these buffers can be smaller.
  uint64_t lowerBound = 0;
  /// The same maximum with no reuse at all (what TF Lite Micro must fit).
  uint64_t lowerBoundWithoutReuse = 0;
  /// Which planner and heuristic produced the offsets.
  std::string strategy;
  /// True when the placement is proven minimal for these buffers and reuses
  /// (it reaches lowerBound or an exhaustive search finished).
  bool provedOptimal = false;

  /// Returns the arena offset of tensor |id|, or nothing for tensors outside
  /// the arena.
  std::optional<uint64_t> tensorOffset(TensorId id) const {
    if (id < 0 || static_cast<size_t>(id) >= tensorBuffer.size() ||
        tensorBuffer[id] < 0)
      return std::nullopt;
    return buffers[tensorBuffer[id]].offset;
  }
  /// Returns the offset of scratch buffer |index| of op |op|.
  std::optional<uint64_t> scratchOffset(OpId op, unsigned index) const {
    for (const PlannedBuffer &buffer : buffers)
      if (buffer.kind == BufferKind::Scratch && buffer.op == op &&
          buffer.scratchIndex == index)
        return buffer.offset;
    return std::nullopt;
  }
  /// Returns the offset of op |op|'s in-place depthwise temporary, if the op
  /// runs in place.
  std::optional<uint64_t> inPlaceTempOffset(OpId op) const {
    for (const PlannedBuffer &buffer : buffers)
      if (buffer.kind == BufferKind::InPlaceTemp && buffer.op == op)
        return buffer.offset;
    return std::nullopt;
  }
  /// Returns the reuses taken at op |op| (empty: the op runs out of place and
  /// copies what it produces).
  std::vector<AppliedReuse> reusesAt(OpId op) const {
    std::vector<AppliedReuse> found;
    for (const AppliedReuse &reuse : reuses)
      if (reuse.op == op)
        found.push_back(reuse);
    return found;
  }
};

} // namespace kiln::memory

#endif // KILN_PASSES_MEMORY_PLANNER_ARENAPLAN_H
