//===- PlanChecker.cpp - Invariants every arena plan must hold --*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// Implementation of checkPlan (see PlanChecker.h). The pairwise overlap test
// sorts buffers by offset and compares each only with the buffers that start
// before it ends, so it stays near-linear on real plans.
//
//===----------------------------------------------------------------------===//

#include "passes/memory/planner/PlanChecker.h"
#include "passes/memory/planner/Reuse.h"

#include <limits>
#include <map>
#include <numeric>

namespace kiln::memory {

namespace {

/// Collects violations (at most a fixed number, so a broken plan does not
/// produce thousands of lines).
class Violations {
public:
  void add(std::string message, std::string location = {}) {
    if (++count_ > kMaxReported)
      return;
    status_.add(Diagnostic{
        Severity::Error, std::move(location), std::move(message), {}});
  }
  bool any() const { return count_ > 0; }
  Status take() {
    if (count_ > kMaxReported)
      status_.add(Diagnostic{Severity::Note,
                             {},
                             std::to_string(count_ - kMaxReported) +
                                 " more violations not shown",
                             {}});
    return std::move(status_);
  }

private:
  static constexpr size_t kMaxReported = 40;
  size_t count_ = 0;
  Status status_;
};

/// Returns "name [offset, end) steps [a, b]" for messages.
std::string describeBuffer(const PlannedBuffer &buffer) {
  return "'" + buffer.name + "' [" + std::to_string(buffer.offset) + ", " +
         std::to_string(buffer.offset + buffer.bytes) + ") steps [" +
         std::to_string(buffer.live.first) + ", " +
         std::to_string(buffer.live.last) + "]";
}

/// Returns the inclusive-step text of |live|.
std::string describeInterval(const Interval &live) {
  return "[" + std::to_string(live.first) + ", " + std::to_string(live.last) +
         "]";
}

/// Returns, per op, whether a taken in-place reuse replaced its scratch
/// buffers (InPlaceCapability::replacesScratch).
std::vector<bool> scratchReplaced(const MemoryGraph &graph,
                                  const ArenaPlan &plan) {
  std::vector<bool> replaced(graph.numOps(), false);
  for (const AppliedReuse &reuse : plan.reuses) {
    if (reuse.kind != ReuseKind::ElementwiseInPlace &&
        reuse.kind != ReuseKind::DepthwiseInPlace)
      continue;
    if (reuse.op < 0 || static_cast<size_t>(reuse.op) >= graph.numOps())
      continue;
    const OpDesc &op = graph.op(reuse.op);
    for (const InPlaceCapability &cap : op.inPlace)
      if (cap.replacesScratch && op.inputs[cap.input] == reuse.from &&
          op.outputs[cap.output] == reuse.to)
        replaced[reuse.op] = true;
  }
  return replaced;
}

/// Checks the buffer list against the graph and lifetimes.
void checkBuffers(const MemoryGraph &graph, const Liveness &liveness,
                  const ArenaPlan &plan, Violations &violations) {
  std::map<std::pair<OpId, unsigned>, int> scratchSeen;
  for (size_t i = 0; i < plan.buffers.size(); ++i) {
    const PlannedBuffer &buffer = plan.buffers[i];
    std::string where = "buffer '" + buffer.name + "'";
    switch (buffer.kind) {
    case BufferKind::Tensor: {
      TensorId t = buffer.tensor;
      if (t < 0 || static_cast<size_t>(t) >= graph.numTensors() ||
          plan.tensorBuffer[t] != static_cast<int32_t>(i)) {
        violations.add("is not the buffer its tensor maps to", where);
        continue;
      }
      const TensorDesc &desc = graph.tensor(t);
      if (!graph.inArena(t))
        violations.add("places " + describeTensor(graph, t) +
                           ", which is not in the arena",
                       where);
      if (buffer.bytes != desc.bytes || buffer.alignment != desc.alignment)
        violations.add("has " + std::to_string(buffer.bytes) + " bytes, " +
                           std::to_string(buffer.alignment) +
                           "-aligned, but the tensor has " +
                           std::to_string(desc.bytes) + " bytes, " +
                           std::to_string(desc.alignment) + "-aligned",
                       where);
      if (!(buffer.live == liveness.tensors[t]))
        violations.add("is live over steps " + describeInterval(buffer.live) +
                           " but the tensor is live over " +
                           describeInterval(liveness.tensors[t]),
                       where);
      break;
    }
    case BufferKind::Scratch:
    case BufferKind::InPlaceTemp: {
      OpId op = buffer.op;
      if (op < 0 || static_cast<size_t>(op) >= graph.numOps()) {
        violations.add("belongs to no op", where);
        continue;
      }
      const OpDesc &desc = graph.op(op);
      int32_t step = liveness.stepOfOp[op];
      if (!(buffer.live == Interval{step, step}))
        violations.add("must be live only at step " + std::to_string(step) +
                           ", is live over " + describeInterval(buffer.live),
                       where);
      if (buffer.alignment != desc.scratchAlignment)
        violations.add("is " + std::to_string(buffer.alignment) +
                           "-aligned, the op asks for " +
                           std::to_string(desc.scratchAlignment),
                       where);
      if (buffer.kind == BufferKind::Scratch) {
        if (buffer.scratchIndex >= desc.scratchBytes.size() ||
            desc.scratchBytes[buffer.scratchIndex] != buffer.bytes) {
          violations.add("does not match a scratch request of " +
                             describeOp(graph, op),
                         where);
          continue;
        }
        if (++scratchSeen[{op, buffer.scratchIndex}] > 1)
          violations.add("is planned twice", where);
      }
      break;
    }
    }
  }
  for (size_t t = 0; t < graph.numTensors(); ++t) {
    TensorId id = static_cast<TensorId>(t);
    bool needs = graph.inArena(id) && !liveness.tensors[t].empty();
    int32_t index = plan.tensorBuffer[t];
    if (needs &&
        (index < 0 || static_cast<size_t>(index) >= plan.buffers.size() ||
         plan.buffers[index].kind != BufferKind::Tensor ||
         plan.buffers[index].tensor != id))
      violations.add("has no buffer", describeTensor(graph, id));
    if (!needs && index >= 0)
      violations.add("is not in the arena but has a buffer",
                     describeTensor(graph, id));
  }
  std::vector<bool> replaced = scratchReplaced(graph, plan);
  for (size_t o = 0; o < graph.numOps(); ++o) {
    const OpDesc &desc = graph.op(static_cast<OpId>(o));
    if (replaced[o])
      continue;
    for (size_t i = 0; i < desc.scratchBytes.size(); ++i)
      if (desc.scratchBytes[i] > 0 &&
          !scratchSeen.count({static_cast<OpId>(o), static_cast<unsigned>(i)}))
        violations.add("scratch buffer " + std::to_string(i) + " has no buffer",
                       describeOp(graph, static_cast<OpId>(o)));
  }
}

/// Checks alignment and arena bounds.
void checkBounds(const ArenaPlan &plan, Violations &violations) {
  uint64_t maxEnd = 0;
  for (const PlannedBuffer &buffer : plan.buffers) {
    if (buffer.alignment == 0 || buffer.offset % buffer.alignment != 0)
      violations.add("offset " + std::to_string(buffer.offset) +
                         " is not a multiple of its alignment " +
                         std::to_string(buffer.alignment),
                     "buffer '" + buffer.name + "'");
    if (buffer.offset + buffer.bytes > plan.arenaBytes)
      violations.add("ends at " + std::to_string(buffer.offset + buffer.bytes) +
                         ", past the arena's " +
                         std::to_string(plan.arenaBytes) + " bytes",
                     "buffer '" + buffer.name + "'");
    maxEnd = std::max(maxEnd, buffer.offset + buffer.bytes);
  }
  if (maxEnd != plan.arenaBytes)
    violations.add("the arena is " + std::to_string(plan.arenaBytes) +
                   " bytes but its buffers end at " + std::to_string(maxEnd));
}

/// Checks every taken reuse and feeds it to |rules|.
void checkReuses(const MemoryGraph &graph, const Liveness &liveness,
                 const ArenaPlan &plan, OverlapRules &rules,
                 Violations &violations) {
  std::map<OpId, uint64_t> expectedTemps;
  std::vector<int> inPlaceOf(graph.numTensors(), 0);
  for (const AppliedReuse &reuse : plan.reuses) {
    std::string what = std::string(reuseKindName(reuse.kind)) + " reuse";
    if (reuse.op < 0 || static_cast<size_t>(reuse.op) >= graph.numOps() ||
        reuse.from < 0 ||
        static_cast<size_t>(reuse.from) >= graph.numTensors() || reuse.to < 0 ||
        static_cast<size_t>(reuse.to) >= graph.numTensors()) {
      violations.add(what + " names an op or tensor out of range");
      continue;
    }
    std::string where = describeOp(graph, reuse.op);
    const OpDesc &op = graph.op(reuse.op);
    std::optional<uint64_t> from = plan.tensorOffset(reuse.from);
    std::optional<uint64_t> to = plan.tensorOffset(reuse.to);
    if (!from || !to) {
      violations.add(what + " of " + describeTensor(graph, reuse.from) +
                         " into " + describeTensor(graph, reuse.to) +
                         " involves a tensor outside the arena",
                     where);
      continue;
    }
    bool offered = false;
    switch (reuse.kind) {
    case ReuseKind::Alias:
      offered = op.alias && op.inputs[op.alias->input] == reuse.from &&
                op.outputs[op.alias->output] == reuse.to &&
                reuse.offsetInTo == 0;
      break;
    case ReuseKind::ElementwiseInPlace:
    case ReuseKind::DepthwiseInPlace: {
      InPlaceKind kind = reuse.kind == ReuseKind::DepthwiseInPlace
                             ? InPlaceKind::Depthwise
                             : InPlaceKind::Elementwise;
      for (const InPlaceCapability &cap : op.inPlace)
        if (cap.kind == kind && op.inputs[cap.input] == reuse.from &&
            op.outputs[cap.output] == reuse.to && reuse.offsetInTo == 0) {
          offered = true;
          if (kind == InPlaceKind::Depthwise && cap.tempBytes > 0)
            expectedTemps[reuse.op] = cap.tempBytes;
          break;
        }
      if (++inPlaceOf[reuse.to] > 1)
        violations.add(describeTensor(graph, reuse.to) +
                           " is written in place more than once",
                       where);
      if (graph.tensor(reuse.from).graphOutput)
        violations.add("overwrites graph output " +
                           describeTensor(graph, reuse.from) + " in place",
                       where);
      if (liveness.tensors[reuse.from].last != liveness.stepOfOp[reuse.op])
        violations.add("overwrites " + describeTensor(graph, reuse.from) +
                           " in place, but it is still used at step " +
                           std::to_string(liveness.tensors[reuse.from].last),
                       where);
      break;
    }
    case ReuseKind::ConcatSlice:
      if (op.concat && op.outputs[op.concat->output] == reuse.to)
        for (size_t i = 0; i < op.inputs.size(); ++i)
          offered = offered || (op.inputs[i] == reuse.from &&
                                op.concat->sliceOffsets[i] == reuse.offsetInTo);
      break;
    }
    if (!offered)
      violations.add(what + " of " + describeTensor(graph, reuse.from) +
                         " into " + describeTensor(graph, reuse.to) +
                         " was not offered by the op",
                     where);
    if (*from != *to + reuse.offsetInTo)
      violations.add(what + " needs " + describeTensor(graph, reuse.from) +
                         " at offset " +
                         std::to_string(*to + reuse.offsetInTo) +
                         ", it is at " + std::to_string(*from),
                     where);
    rules.addReuse(reuse);
  }
  std::map<OpId, int> tempsSeen;
  for (const PlannedBuffer &buffer : plan.buffers) {
    if (buffer.kind != BufferKind::InPlaceTemp)
      continue;
    auto expected = expectedTemps.find(buffer.op);
    if (expected == expectedTemps.end() || expected->second != buffer.bytes)
      violations.add("is a depthwise temporary of an op that does not run "
                     "in place with that temporary size",
                     "buffer '" + buffer.name + "'");
    ++tempsSeen[buffer.op];
  }
  for (const auto &[op, bytes] : expectedTemps)
    if (tempsSeen[op] != 1)
      violations.add("runs depthwise in place but has " +
                         std::to_string(tempsSeen[op]) +
                         " temporary buffers, expected one of " +
                         std::to_string(bytes) + " bytes",
                     describeOp(graph, op));
}

/// Checks that buffers live together do not share bytes unless allowed.
void checkOverlaps(const MemoryGraph &graph, const ArenaPlan &plan,
                   const OverlapRules &rules, Violations &violations) {
  std::vector<int64_t> offsets(graph.numTensors(), 0);
  for (const PlannedBuffer &buffer : plan.buffers)
    if (buffer.kind == BufferKind::Tensor)
      offsets[buffer.tensor] = static_cast<int64_t>(buffer.offset);
  std::vector<size_t> byOffset(plan.buffers.size());
  std::iota(byOffset.begin(), byOffset.end(), 0);
  std::sort(byOffset.begin(), byOffset.end(), [&](size_t a, size_t b) {
    return plan.buffers[a].offset < plan.buffers[b].offset;
  });
  for (size_t i = 0; i < byOffset.size(); ++i) {
    const PlannedBuffer &a = plan.buffers[byOffset[i]];
    if (a.bytes == 0)
      continue;
    for (size_t j = i + 1; j < byOffset.size(); ++j) {
      const PlannedBuffer &b = plan.buffers[byOffset[j]];
      if (b.offset >= a.offset + a.bytes)
        break;
      if (b.bytes == 0 || !a.live.overlaps(b.live))
        continue;
      if (a.kind == BufferKind::Tensor && b.kind == BufferKind::Tensor &&
          rules.mayOverlap(a.tensor, b.tensor, offsets))
        continue;
      violations.add(describeBuffer(a) + " overlaps " + describeBuffer(b) +
                     " while both are live");
    }
  }
}

/// Returns the peak over steps of the bytes covered by live buffers.
uint64_t coveredPeak(const ArenaPlan &plan, int32_t numSteps) {
  uint64_t peak = 0;
  std::vector<std::pair<uint64_t, uint64_t>> ranges;
  for (int32_t step = 0; step < numSteps; ++step) {
    ranges.clear();
    for (const PlannedBuffer &buffer : plan.buffers)
      if (buffer.live.contains(step) && buffer.bytes > 0)
        ranges.emplace_back(buffer.offset, buffer.offset + buffer.bytes);
    std::sort(ranges.begin(), ranges.end());
    uint64_t covered = 0, reached = 0;
    for (const auto &[lo, hi] : ranges) {
      uint64_t start = std::max(lo, reached);
      if (hi > start)
        covered += hi - start;
      reached = std::max(reached, hi);
    }
    peak = std::max(peak, covered);
  }
  return peak;
}

} // namespace

Status checkPlan(const MemoryGraph &graph, const ArenaPlan &plan) {
  Status status = graph.verify();
  if (status.failed())
    return status;
  Result<Liveness> liveness = computeLiveness(graph, plan.order);
  if (!liveness)
    return liveness.status();
  Violations violations;
  if (plan.tensorBuffer.size() != graph.numTensors()) {
    violations.add("the plan maps " + std::to_string(plan.tensorBuffer.size()) +
                   " tensors, the graph has " +
                   std::to_string(graph.numTensors()));
    return violations.take();
  }
  for (int32_t index : plan.tensorBuffer)
    if (index >= static_cast<int32_t>(plan.buffers.size())) {
      violations.add("the plan maps a tensor to buffer " +
                     std::to_string(index) + ", out of range");
      return violations.take();
    }
  checkBuffers(graph, *liveness, plan, violations);
  checkBounds(plan, violations);
  OverlapRules rules(graph, *liveness);
  checkReuses(graph, *liveness, plan, rules, violations);
  checkOverlaps(graph, plan, rules, violations);

  uint64_t covered =
      coveredPeak(plan, std::max<int32_t>(liveness->numSteps, 1));
  if (covered != plan.lowerBound)
    violations.add(
        "the plan's lower bound is " + std::to_string(plan.lowerBound) +
        " bytes but its live buffers cover up to " + std::to_string(covered));
  std::vector<uint64_t> noReuse = liveBytesWithoutReuse(graph, *liveness);
  uint64_t noReusePeak = *std::max_element(noReuse.begin(), noReuse.end());
  if (noReusePeak != plan.lowerBoundWithoutReuse)
    violations.add("the plan's no-reuse lower bound is " +
                   std::to_string(plan.lowerBoundWithoutReuse) +
                   " bytes, recomputed " + std::to_string(noReusePeak));
  return violations.take();
}

} // namespace kiln::memory
