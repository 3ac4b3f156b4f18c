//===- ExecutionOrder.cpp - Memory-aware choice of the op order -*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// The cost model and the layered dynamic programming of ExecutionOrder.h.
// Sets of executed ops are bitsets; the cost of adding op v to set S is
// computed incrementally from the bytes live after S, touching only the view
// classes of v's operands.
//
//===----------------------------------------------------------------------===//

#include "passes/memory/planner/ExecutionOrder.h"

#include <limits>
#include <numeric>
#include <unordered_map>

namespace kiln::memory {

namespace {

/// A set of ops as a bitset.
using OpSet = std::vector<uint64_t>;

bool contains(const OpSet &set, OpId op) {
  return (set[op / 64] >> (op % 64)) & 1;
}

void insert(OpSet &set, OpId op) { set[op / 64] |= uint64_t(1) << (op % 64); }

/// Hash of an OpSet for the per-layer maps.
struct OpSetHash {
  size_t operator()(const OpSet &set) const {
    uint64_t h = 0xcbf29ce484222325ULL;
    for (uint64_t word : set) {
      h ^= word + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
      h *= 0x100000001b3ULL;
    }
    return static_cast<size_t>(h);
  }
};

/// Live bytes of partial executions (see ExecutionOrder.h, "Cost model").
class CostModel {
public:
  CostModel(const MemoryGraph &graph, const ReusePolicy &policy)
      : graph_(graph), policy_(policy), uses_(analyzeUses(graph)) {
    buildViews();
    for (size_t o = 0; o < graph.numOps(); ++o) {
      std::vector<OpId> preds;
      for (TensorId t : graph.op(static_cast<OpId>(o)).inputs)
        if (uses_.producer[t] >= 0)
          preds.push_back(uses_.producer[t]);
      std::sort(preds.begin(), preds.end());
      preds.erase(std::unique(preds.begin(), preds.end()), preds.end());
      preds_.push_back(std::move(preds));
    }
  }

  size_t words() const { return (graph_.numOps() + 63) / 64; }

  /// Returns true when every producer of |op|'s inputs is in |done|.
  bool ready(const OpSet &done, OpId op) const {
    for (OpId pred : preds_[op])
      if (!contains(done, pred))
        return false;
    return true;
  }

  /// Returns the bytes live before any op runs.
  uint64_t initialLive() const {
    OpSet none(words(), 0);
    uint64_t bytes = 0;
    for (size_t c = 0; c < classes_.size(); ++c)
      bytes += footprint(c, none, -1, false);
    return bytes;
  }

  /// Returns {bytes live while |op| runs after |done|, bytes live after it}
  /// given |liveBefore|, the bytes live after |done|.
  std::pair<uint64_t, uint64_t> step(const OpSet &done, OpId op,
                                     uint64_t liveBefore) const {
    const OpDesc &desc = graph_.op(op);
    OpSet after = done;
    insert(after, op);
    std::vector<size_t> outClasses, touched;
    for (TensorId t : desc.outputs)
      if (classOf_[t] >= 0)
        outClasses.push_back(classOf_[t]);
    touched = outClasses;
    for (TensorId t : desc.inputs)
      if (classOf_[t] >= 0)
        touched.push_back(classOf_[t]);
    dedupe(outClasses);
    dedupe(touched);

    int64_t during = static_cast<int64_t>(liveBefore);
    for (size_t c : outClasses)
      during += static_cast<int64_t>(footprint(c, done, op, true)) -
                static_cast<int64_t>(footprint(c, done, -1, false));
    for (uint64_t scratch : desc.scratchBytes)
      during += static_cast<int64_t>(scratch);
    during -= static_cast<int64_t>(inPlaceSaving(after, op));

    int64_t live = static_cast<int64_t>(liveBefore);
    for (size_t c : touched)
      live += static_cast<int64_t>(footprint(c, after, -1, false)) -
              static_cast<int64_t>(footprint(c, done, -1, false));
    return {static_cast<uint64_t>(std::max<int64_t>(during, 0)),
            static_cast<uint64_t>(std::max<int64_t>(live, 0))};
  }

private:
  static void dedupe(std::vector<size_t> &values) {
    std::sort(values.begin(), values.end());
    values.erase(std::unique(values.begin(), values.end()), values.end());
  }

  /// Returns true when tensor |t| holds bytes after the ops in |done| ran.
  bool alive(TensorId t, const OpSet &done) const {
    OpId producer = uses_.producer[t];
    if (producer >= 0 && !contains(done, producer))
      return false;
    if (graph_.tensor(t).graphOutput)
      return true;
    for (OpId consumer : uses_.consumers[t])
      if (!contains(done, consumer))
        return true;
    return false;
  }

  /// Returns the bytes of class |c| held after |done|; with |running|, also
  /// counts the outputs of op |running| (which is not in |done|).
  uint64_t footprint(size_t c, const OpSet &done, OpId running,
                     bool withOutputs) const {
    ranges_.clear();
    for (TensorId t : classes_[c]) {
      bool holds =
          alive(t, done) || (withOutputs && uses_.producer[t] == running);
      if (holds)
        ranges_.emplace_back(
            rel_[t], rel_[t] + static_cast<int64_t>(graph_.tensor(t).bytes));
    }
    if (ranges_.size() == 1)
      return static_cast<uint64_t>(ranges_[0].second - ranges_[0].first);
    std::sort(ranges_.begin(), ranges_.end());
    uint64_t bytes = 0;
    int64_t coveredTo = std::numeric_limits<int64_t>::min();
    for (const auto &[lo, hi] : ranges_) {
      int64_t start = std::max(lo, coveredTo);
      if (hi > start)
        bytes += static_cast<uint64_t>(hi - start);
      coveredTo = std::max(coveredTo, hi);
    }
    return bytes;
  }

  /// Returns the bytes |op|'s in-place offers save while it runs, given
  /// |after| (the executed set including |op|).
  uint64_t inPlaceSaving(const OpSet &after, OpId op) const {
    const OpDesc &desc = graph_.op(op);
    uint64_t saving = 0;
    std::vector<TensorId> usedInputs;
    bool scratchDropped = false;
    for (size_t result = 0; result < desc.outputs.size(); ++result)
      for (const InPlaceCapability &cap : desc.inPlace) {
        if (cap.output != result)
          continue;
        bool depthwise = cap.kind == InPlaceKind::Depthwise;
        if (depthwise ? !policy_.depthwiseInPlace : !policy_.elementwiseInPlace)
          continue;
        TensorId in = desc.inputs[cap.input];
        TensorId out = desc.outputs[cap.output];
        if (classOf_[in] < 0 || classOf_[out] < 0 ||
            std::count(usedInputs.begin(), usedInputs.end(), in))
          continue;
        const TensorDesc &inDesc = graph_.tensor(in);
        if (inDesc.graphOutput ||
            (inDesc.graphInput && !policy_.inPlaceOnGraphInputs))
          continue;
        // The input and every view sharing its storage must be dead.
        bool dies = true;
        for (TensorId t : classes_[classOf_[in]])
          dies = dies && !alive(t, after);
        uint64_t outBytes = graph_.tensor(out).bytes;
        uint64_t temp = depthwise ? cap.tempBytes : 0;
        if (!dies || outBytes <= temp)
          continue;
        saving += outBytes - temp;
        if (cap.replacesScratch && !scratchDropped) {
          for (uint64_t scratch : desc.scratchBytes)
            saving += scratch;
          scratchDropped = true;
        }
        usedInputs.push_back(in);
        break;
      }
    return saving;
  }

  /// Groups the arena tensors into view classes with relative offsets
  /// (aliases and concat slices the policy allows; inconsistent ones are
  /// left out, as the planner would).
  void buildViews() {
    size_t n = graph_.numTensors();
    std::vector<TensorId> parent(n);
    std::vector<int64_t> relToParent(n, 0);
    for (size_t t = 0; t < n; ++t)
      parent[t] = static_cast<TensorId>(t);
    // Returns the root of |t| and its offset relative to the root.
    auto find = [&](TensorId t) {
      int64_t offset = 0;
      while (parent[t] != t) {
        offset += relToParent[t];
        t = parent[t];
      }
      return std::make_pair(t, offset);
    };
    // Puts |child| at offset(anchor) + delta.
    auto join = [&](TensorId anchor, TensorId child, int64_t delta) {
      if (!graph_.inArena(anchor) || !graph_.inArena(child))
        return;
      auto [ra, oa] = find(anchor);
      auto [rb, ob] = find(child);
      if (ra == rb)
        return;
      parent[rb] = ra;
      relToParent[rb] = oa + delta - ob;
    };
    for (size_t o = 0; o < graph_.numOps(); ++o) {
      const OpDesc &desc = graph_.op(static_cast<OpId>(o));
      if (desc.alias && policy_.aliases)
        join(desc.inputs[desc.alias->input], desc.outputs[desc.alias->output],
             0);
    }
    for (size_t o = 0; o < graph_.numOps(); ++o) {
      const OpDesc &desc = graph_.op(static_cast<OpId>(o));
      if (desc.concat && policy_.concatPlacement)
        for (size_t i = 0; i < desc.inputs.size(); ++i)
          join(desc.outputs[desc.concat->output], desc.inputs[i],
               static_cast<int64_t>(desc.concat->sliceOffsets[i]));
    }
    classOf_.assign(n, -1);
    rel_.assign(n, 0);
    std::vector<int64_t> rootClass(n, -1);
    for (size_t t = 0; t < n; ++t) {
      TensorId id = static_cast<TensorId>(t);
      if (!graph_.inArena(id))
        continue;
      auto [root, offset] = find(id);
      if (rootClass[root] < 0) {
        rootClass[root] = static_cast<int64_t>(classes_.size());
        classes_.emplace_back();
      }
      classOf_[t] = rootClass[root];
      rel_[t] = offset;
      classes_[classOf_[t]].push_back(id);
    }
  }

  const MemoryGraph &graph_;
  ReusePolicy policy_;
  GraphUses uses_;
  std::vector<std::vector<OpId>> preds_;
  std::vector<std::vector<TensorId>> classes_;
  std::vector<int64_t> classOf_;
  std::vector<int64_t> rel_;
  mutable std::vector<std::pair<int64_t, int64_t>> ranges_;
};

/// One partial execution in the search.
struct State {
  OpSet done;
  uint64_t peak;
  uint64_t live;
  /// Index of the predecessor state in the previous layer, and the op added.
  int64_t parent;
  OpId op;
};

/// Returns the cost-model peak of |order| (known valid).
uint64_t peakOf(const CostModel &model, const std::vector<OpId> &order) {
  OpSet done(model.words(), 0);
  uint64_t live = model.initialLive();
  uint64_t peak = live;
  for (OpId op : order) {
    auto [during, after] = model.step(done, op, live);
    peak = std::max({peak, during, after});
    insert(done, op);
    live = after;
  }
  return peak;
}

} // namespace

Result<uint64_t> estimateOrderPeak(const MemoryGraph &graph,
                                   const std::vector<OpId> &order,
                                   const ReusePolicy &reuse) {
  Status status = graph.verify();
  if (status.succeeded())
    status = verifyOrder(graph, order);
  if (status.failed())
    return status;
  return peakOf(CostModel(graph, reuse), order);
}

Result<OrderResult> chooseExecutionOrder(const MemoryGraph &graph,
                                         const OrderOptions &options) {
  Status status = graph.verify();
  if (status.failed())
    return status;
  if (options.maxStatesPerStep == 0)
    return Status::error("the beam width (maxStatesPerStep) must be at least "
                         "1");
  CostModel model(graph, options.reuse);
  OrderResult result;
  std::vector<OpId> candidate = graph.candidateOrder();
  result.candidatePeakBytes = peakOf(model, candidate);

  std::vector<std::vector<State>> layers(1);
  uint64_t live0 = model.initialLive();
  layers[0].push_back({OpSet(model.words(), 0), live0, live0, -1, -1});
  // Each layer may spend an equal share of the transition budget; its sets
  // are expanded best first, so a cut drops the least promising ones.
  uint64_t layerBudget = std::max<uint64_t>(
      1, options.maxTransitions / std::max<size_t>(graph.numOps(), 1));
  for (size_t depth = 0; depth < graph.numOps(); ++depth) {
    const std::vector<State> &current = layers.back();
    std::vector<State> next;
    std::unordered_map<OpSet, size_t, OpSetHash> index;
    uint64_t spent = 0;
    for (size_t s = 0; s < current.size(); ++s) {
      if (s > 0 && spent >= layerBudget) {
        result.exact = false;
        break;
      }
      const State &state = current[s];
      for (OpId op : candidate) {
        if (contains(state.done, op) || !model.ready(state.done, op))
          continue;
        ++spent;
        ++result.statesVisited;
        auto [during, after] = model.step(state.done, op, state.live);
        uint64_t peak = std::max({state.peak, during, after});
        OpSet done = state.done;
        insert(done, op);
        auto found = index.find(done);
        if (found == index.end()) {
          index.emplace(done, next.size());
          next.push_back(
              {std::move(done), peak, after, static_cast<int64_t>(s), op});
        } else if (peak < next[found->second].peak) {
          State &better = next[found->second];
          better.peak = peak;
          better.parent = static_cast<int64_t>(s);
          better.op = op;
        }
      }
    }
    // Rank the sets best first (ties in discovery order, so the result is
    // deterministic) and keep at most the beam width.
    std::vector<size_t> rank(next.size());
    std::iota(rank.begin(), rank.end(), 0);
    std::sort(rank.begin(), rank.end(), [&](size_t a, size_t b) {
      if (next[a].peak != next[b].peak)
        return next[a].peak < next[b].peak;
      if (next[a].live != next[b].live)
        return next[a].live < next[b].live;
      return a < b;
    });
    if (rank.size() > options.maxStatesPerStep) {
      result.exact = false;
      rank.resize(options.maxStatesPerStep);
    }
    std::vector<State> kept;
    kept.reserve(rank.size());
    for (size_t i : rank)
      kept.push_back(std::move(next[i]));
    layers.push_back(std::move(kept));
  }

  const State *best = nullptr;
  for (const State &state : layers.back())
    if (!best || state.peak < best->peak)
      best = &state;
  std::vector<OpId> order(graph.numOps());
  if (best) {
    size_t depth = layers.size() - 1;
    const State *state = best;
    while (state->parent >= 0) {
      order[depth - 1] = state->op;
      state = &layers[depth - 1][state->parent];
      --depth;
    }
  }
  if (!best || best->peak >= result.candidatePeakBytes) {
    result.order = candidate;
    result.peakBytes = result.candidatePeakBytes;
  } else {
    result.order = std::move(order);
    result.peakBytes = best->peak;
  }
  return result;
}

} // namespace kiln::memory
