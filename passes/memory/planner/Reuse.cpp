//===- Reuse.cpp - Which buffers may share bytes ----------------*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// OverlapRules (view classes as a union-find, in-place records with their
// step) and the greedy reuse selection that turns a graph and an order into
// placement units. A reuse is tried by merging the unit of the tensor it
// moves into the unit of its anchor at a fixed relative offset; the merge is
// kept only when every pair of members that then share bytes at a common
// step is allowed by the rules.
//
//===----------------------------------------------------------------------===//

#include "passes/memory/planner/Reuse.h"

namespace kiln::memory {

const char *reuseKindName(ReuseKind kind) {
  switch (kind) {
  case ReuseKind::Alias:
    return "alias";
  case ReuseKind::ElementwiseInPlace:
    return "elementwise-in-place";
  case ReuseKind::DepthwiseInPlace:
    return "depthwise-in-place";
  case ReuseKind::ConcatSlice:
    return "concat-slice";
  }
  return "alias";
}

//===----------------------------------------------------------------------===//
// OverlapRules
//===----------------------------------------------------------------------===//

OverlapRules::OverlapRules(const MemoryGraph &graph, const Liveness &liveness)
    : graph_(&graph), liveness_(&liveness), parent_(graph.numTensors()) {
  for (size_t t = 0; t < parent_.size(); ++t)
    parent_[t] = static_cast<TensorId>(t);
}

TensorId OverlapRules::viewClass(TensorId t) const {
  TensorId root = t;
  while (parent_[root] != root)
    root = parent_[root];
  while (parent_[t] != root) {
    TensorId next = parent_[t];
    parent_[t] = root;
    t = next;
  }
  return root;
}

void OverlapRules::addReuse(const AppliedReuse &reuse) {
  if (reuse.kind == ReuseKind::Alias || reuse.kind == ReuseKind::ConcatSlice) {
    TensorId a = viewClass(reuse.from);
    TensorId b = viewClass(reuse.to);
    if (a != b)
      parent_[std::max(a, b)] = std::min(a, b);
    return;
  }
  inPlace_.push_back({liveness_->stepOfOp[reuse.op], reuse.from, reuse.to});
}

bool OverlapRules::inPlaceAllows(TensorId a, TensorId b,
                                 const std::vector<int64_t> &offsets) const {
  for (const InPlaceRecord &record : inPlace_) {
    if (record.to != b)
      continue;
    // |a| must be the overwritten input itself or an exact alias of it that
    // also dies at the op, and |b| must be born there.
    const TensorDesc &aDesc = graph_->tensor(a);
    if (viewClass(a) != viewClass(record.from) ||
        offsets[a] != offsets[record.from] ||
        aDesc.bytes != graph_->tensor(record.from).bytes)
      continue;
    if (aDesc.graphOutput || liveness_->tensors[a].last != record.step ||
        liveness_->tensors[b].first != record.step)
      continue;
    return true;
  }
  return false;
}

bool OverlapRules::mayOverlap(TensorId a, TensorId b,
                              const std::vector<int64_t> &offsets) const {
  if (a < 0 || b < 0)
    return false;
  if (viewClass(a) == viewClass(b))
    return true;
  return inPlaceAllows(a, b, offsets) || inPlaceAllows(b, a, offsets);
}

//===----------------------------------------------------------------------===//
// Reuse selection
//===----------------------------------------------------------------------===//

namespace {

/// Builds a BufferProblem: one unit per buffer to start with, merged by the
/// reuses taken.
class ProblemBuilder {
public:
  ProblemBuilder(const MemoryGraph &graph, const Liveness &liveness,
                 const ReusePolicy &policy)
      : graph_(graph), liveness_(liveness), policy_(policy),
        rules_(graph, liveness), tensorRel_(graph.numTensors(), 0) {}

  BufferProblem build() {
    addBuffers();
    if (policy_.aliases)
      takeAliases();
    if (policy_.concatPlacement)
      takeConcats();
    if (policy_.elementwiseInPlace || policy_.depthwiseInPlace)
      takeInPlace();
    finish();
    return std::move(problem_);
  }

private:
  /// Appends a buffer in its own unit and returns its index.
  uint32_t addBuffer(PlannedBuffer buffer) {
    uint32_t index = static_cast<uint32_t>(problem_.buffers.size());
    problem_.buffers.push_back(std::move(buffer));
    unitOf_.push_back(static_cast<uint32_t>(members_.size()));
    members_.push_back({index});
    rel_.push_back(0);
    dropped_.push_back(false);
    return index;
  }

  void addBuffers() {
    problem_.tensorBuffer.assign(graph_.numTensors(), -1);
    for (size_t t = 0; t < graph_.numTensors(); ++t) {
      TensorId id = static_cast<TensorId>(t);
      if (!graph_.inArena(id) || liveness_.tensors[t].empty())
        continue;
      const TensorDesc &desc = graph_.tensor(id);
      PlannedBuffer buffer;
      buffer.kind = BufferKind::Tensor;
      buffer.tensor = id;
      buffer.name = desc.name.empty() ? "t" + std::to_string(t) : desc.name;
      buffer.bytes = desc.bytes;
      buffer.alignment = desc.alignment;
      buffer.live = liveness_.tensors[t];
      problem_.tensorBuffer[t] = static_cast<int32_t>(addBuffer(buffer));
    }
    for (int32_t step = 0; step < liveness_.numSteps; ++step) {
      OpId op = liveness_.order[step];
      const OpDesc &desc = graph_.op(op);
      for (size_t i = 0; i < desc.scratchBytes.size(); ++i) {
        if (desc.scratchBytes[i] == 0)
          continue;
        PlannedBuffer buffer;
        buffer.kind = BufferKind::Scratch;
        buffer.op = op;
        buffer.scratchIndex = static_cast<unsigned>(i);
        buffer.name = opLabel(op) + ".scratch" + std::to_string(i);
        buffer.bytes = desc.scratchBytes[i];
        buffer.alignment = desc.scratchAlignment;
        buffer.live = {step, step};
        addBuffer(buffer);
      }
    }
  }

  /// Returns the op's name, or "op<id>" when it has none.
  std::string opLabel(OpId op) const {
    const std::string &name = graph_.op(op).name;
    return name.empty() ? "op" + std::to_string(op) : name;
  }

  /// Returns true when the buffers of |a| and |b| (tensor buffers, in the
  /// frame of |tensorRel_|) share a byte.
  bool bytesOverlap(uint32_t a, int64_t relA, uint32_t b, int64_t relB) const {
    const PlannedBuffer &x = problem_.buffers[a];
    const PlannedBuffer &y = problem_.buffers[b];
    return relA < relB + static_cast<int64_t>(y.bytes) &&
           relB < relA + static_cast<int64_t>(x.bytes);
  }

  /// Tries to take |reuse|: places |child|'s unit so that
  /// rel(child) == rel(anchor) + |delta|. Returns true when taken.
  bool tryMerge(TensorId anchor, TensorId child, int64_t delta,
                const AppliedReuse &reuse) {
    int32_t anchorBuffer = problem_.tensorBuffer[anchor];
    int32_t childBuffer = problem_.tensorBuffer[child];
    if (anchorBuffer < 0 || childBuffer < 0)
      return false;
    uint32_t ua = unitOf_[anchorBuffer];
    uint32_t ub = unitOf_[childBuffer];
    int64_t shift = rel_[anchorBuffer] + delta - rel_[childBuffer];
    if (ua == ub) {
      if (shift != 0)
        return false;
      rules_.addReuse(reuse);
      problem_.reuses.push_back(reuse);
      return true;
    }
    // Every member must be alignable with one base (see finalizeUnit).
    uint32_t widest = members_[ua].front();
    auto relOf = [&](uint32_t buffer) {
      return rel_[buffer] + (unitOf_[buffer] == ub ? shift : 0);
    };
    for (uint32_t unit : {ua, ub})
      for (uint32_t m : members_[unit])
        if (problem_.buffers[m].alignment > problem_.buffers[widest].alignment)
          widest = m;
    for (uint32_t unit : {ua, ub})
      for (uint32_t m : members_[unit]) {
        int64_t a = problem_.buffers[m].alignment;
        int64_t diff = relOf(m) - relOf(widest);
        if (((diff % a) + a) % a != 0)
          return false;
      }

    OverlapRules trial = rules_;
    trial.addReuse(reuse);
    for (uint32_t m : members_[ub])
      tensorRel_[problem_.buffers[m].tensor] = rel_[m] + shift;
    bool legal = true;
    for (uint32_t x : members_[ua]) {
      for (uint32_t y : members_[ub]) {
        const PlannedBuffer &bx = problem_.buffers[x];
        const PlannedBuffer &by = problem_.buffers[y];
        if (!bx.live.overlaps(by.live) ||
            !bytesOverlap(x, rel_[x], y, rel_[y] + shift))
          continue;
        if (!trial.mayOverlap(bx.tensor, by.tensor, tensorRel_)) {
          legal = false;
          break;
        }
      }
      if (!legal)
        break;
    }
    if (!legal) {
      for (uint32_t m : members_[ub])
        tensorRel_[problem_.buffers[m].tensor] = rel_[m];
      return false;
    }
    for (uint32_t m : members_[ub]) {
      rel_[m] += shift;
      unitOf_[m] = ua;
      members_[ua].push_back(m);
    }
    members_[ub].clear();
    rules_ = std::move(trial);
    problem_.reuses.push_back(reuse);
    return true;
  }

  void takeAliases() {
    for (OpId op : liveness_.order) {
      const OpDesc &desc = graph_.op(op);
      if (!desc.alias)
        continue;
      TensorId in = desc.inputs[desc.alias->input];
      TensorId out = desc.outputs[desc.alias->output];
      tryMerge(in, out, 0, {ReuseKind::Alias, op, in, out, 0});
    }
  }

  void takeConcats() {
    for (OpId op : liveness_.order) {
      const OpDesc &desc = graph_.op(op);
      if (!desc.concat)
        continue;
      TensorId out = desc.outputs[desc.concat->output];
      for (size_t i = 0; i < desc.inputs.size(); ++i) {
        TensorId in = desc.inputs[i];
        uint64_t slice = desc.concat->sliceOffsets[i];
        tryMerge(out, in, static_cast<int64_t>(slice),
                 {ReuseKind::ConcatSlice, op, in, out, slice});
      }
    }
  }

  void takeInPlace() {
    for (int32_t step = 0; step < liveness_.numSteps; ++step) {
      OpId op = liveness_.order[step];
      const OpDesc &desc = graph_.op(op);
      for (size_t result = 0; result < desc.outputs.size(); ++result) {
        for (const InPlaceCapability &cap : desc.inPlace) {
          if (cap.output != result)
            continue;
          bool depthwise = cap.kind == InPlaceKind::Depthwise;
          if (depthwise ? !policy_.depthwiseInPlace
                        : !policy_.elementwiseInPlace)
            continue;
          TensorId in = desc.inputs[cap.input];
          TensorId out = desc.outputs[cap.output];
          if (!graph_.inArena(in) || !graph_.inArena(out))
            continue;
          const TensorDesc &inDesc = graph_.tensor(in);
          if (inDesc.graphOutput ||
              (inDesc.graphInput && !policy_.inPlaceOnGraphInputs) ||
              liveness_.tensors[in].last != step)
            continue;
          AppliedReuse reuse{depthwise ? ReuseKind::DepthwiseInPlace
                                       : ReuseKind::ElementwiseInPlace,
                             op, in, out, 0};
          // The output's unit moves into the input's, at the input's offset.
          if (!tryMerge(in, out, 0, reuse))
            continue;
          if (depthwise && cap.tempBytes > 0)
            temps_.push_back({op, step, cap.tempBytes});
          if (cap.replacesScratch)
            dropScratchOf(op);
          break;
        }
      }
    }
  }

  /// Marks the scratch buffers of |op| as not needed.
  void dropScratchOf(OpId op) {
    for (size_t i = 0; i < problem_.buffers.size(); ++i)
      if (problem_.buffers[i].kind == BufferKind::Scratch &&
          problem_.buffers[i].op == op)
        dropped_[i] = true;
  }

  void finish() {
    // Remove dropped scratch buffers (each in a unit of its own) and
    // renumber the rest.
    std::vector<int32_t> renumber(problem_.buffers.size(), -1);
    std::vector<PlannedBuffer> kept;
    for (size_t i = 0; i < problem_.buffers.size(); ++i)
      if (!dropped_[i]) {
        renumber[i] = static_cast<int32_t>(kept.size());
        kept.push_back(std::move(problem_.buffers[i]));
      }
    problem_.buffers = std::move(kept);
    for (int32_t &index : problem_.tensorBuffer)
      if (index >= 0)
        index = renumber[index];
    std::vector<std::vector<uint32_t>> members;
    std::vector<int64_t> rel(problem_.buffers.size(), 0);
    for (const std::vector<uint32_t> &unit : members_) {
      std::vector<uint32_t> renumbered;
      for (uint32_t m : unit)
        if (renumber[m] >= 0) {
          renumbered.push_back(static_cast<uint32_t>(renumber[m]));
          rel[renumber[m]] = rel_[m];
        }
      if (!renumbered.empty())
        members.push_back(std::move(renumbered));
    }
    members_ = std::move(members);
    rel_ = std::move(rel);
    unitOf_.assign(problem_.buffers.size(), 0);
    for (size_t u = 0; u < members_.size(); ++u)
      for (uint32_t m : members_[u])
        unitOf_[m] = static_cast<uint32_t>(u);

    for (const TempRequest &temp : temps_) {
      PlannedBuffer buffer;
      buffer.kind = BufferKind::InPlaceTemp;
      buffer.op = temp.op;
      buffer.name = opLabel(temp.op) + ".temp";
      buffer.bytes = temp.bytes;
      buffer.alignment = graph_.op(temp.op).scratchAlignment;
      buffer.live = {temp.step, temp.step};
      addBuffer(buffer);
    }
    PlacementProblem &placement = problem_.placement;
    placement.numSteps = liveness_.numSteps;
    for (const std::vector<uint32_t> &members : members_) {
      if (members.empty())
        continue;
      PlacementUnit unit;
      for (uint32_t m : members) {
        const PlannedBuffer &buffer = problem_.buffers[m];
        unit.members.push_back(
            {m, rel_[m], buffer.bytes, buffer.alignment, buffer.live});
      }
      // tryMerge checked alignability, so this cannot fail.
      finalizeUnit(unit);
      placement.units.push_back(std::move(unit));
    }
  }

  struct TempRequest {
    OpId op;
    int32_t step;
    uint64_t bytes;
  };

  const MemoryGraph &graph_;
  const Liveness &liveness_;
  const ReusePolicy &policy_;
  OverlapRules rules_;
  BufferProblem problem_;
  /// Unit (index into members_) per buffer.
  std::vector<uint32_t> unitOf_;
  /// Buffers per unit; emptied when merged away.
  std::vector<std::vector<uint32_t>> members_;
  /// Offset of each buffer relative to its unit's frame.
  std::vector<int64_t> rel_;
  /// rel_ per tensor, the frame OverlapRules compares offsets in.
  std::vector<int64_t> tensorRel_;
  std::vector<TempRequest> temps_;
  /// Scratch buffers an in-place kernel made unnecessary.
  std::vector<bool> dropped_;
};

} // namespace

BufferProblem buildBufferProblem(const MemoryGraph &graph,
                                 const Liveness &liveness,
                                 const ReusePolicy &policy) {
  return ProblemBuilder(graph, liveness, policy).build();
}

ArenaPlan makePlan(const BufferProblem &problem, const Placement &placement,
                   const MemoryGraph &graph, const Liveness &liveness) {
  ArenaPlan plan;
  plan.order = liveness.order;
  plan.buffers = problem.buffers;
  plan.tensorBuffer = problem.tensorBuffer;
  plan.reuses = problem.reuses;
  const std::vector<PlacementUnit> &units = problem.placement.units;
  for (size_t u = 0; u < units.size(); ++u)
    for (const UnitMember &member : units[u].members)
      plan.buffers[member.buffer].offset =
          placement.base[u] + static_cast<uint64_t>(member.rel);
  for (const PlannedBuffer &buffer : plan.buffers)
    plan.arenaBytes = std::max(plan.arenaBytes, buffer.offset + buffer.bytes);
  std::vector<uint64_t> profile = liveProfile(problem.placement);
  plan.lowerBound = *std::max_element(profile.begin(), profile.end());
  std::vector<uint64_t> noReuse = liveBytesWithoutReuse(graph, liveness);
  plan.lowerBoundWithoutReuse =
      *std::max_element(noReuse.begin(), noReuse.end());
  return plan;
}

} // namespace kiln::memory
