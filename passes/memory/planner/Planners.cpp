//===- Planners.cpp - Whole-graph static arena planners ---------*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// planGreedyBySize (the TF Lite Micro baseline), planDefault (reuse-aware,
// several heuristics, local search, branch and bound) and planMemory (order
// choice + planner). See Planners.h for the steps.
//
//===----------------------------------------------------------------------===//

#include "passes/memory/planner/Planners.h"

namespace kiln::memory {

const char *plannerKindName(PlannerKind kind) {
  return kind == PlannerKind::GreedyBySize ? "greedy-by-size" : "default";
}

Result<PlannerKind> parsePlannerKind(const std::string &name) {
  if (name == "greedy-by-size")
    return PlannerKind::GreedyBySize;
  if (name == "default")
    return PlannerKind::Default;
  return Status::error("unknown memory planner '" + name +
                       "', expected 'greedy-by-size' or 'default'");
}

namespace {

/// Returns a short description of |policy| for strategy strings.
std::string describePolicy(const ReusePolicy &policy) {
  std::string text;
  auto add = [&](bool on, const char *name) {
    if (!on)
      return;
    if (!text.empty())
      text += "+";
    text += name;
  };
  add(policy.aliases, "alias");
  add(policy.concatPlacement, "concat");
  add(policy.elementwiseInPlace, "elementwise");
  add(policy.depthwiseInPlace, "depthwise");
  return text.empty() ? "no-reuse" : text;
}

/// Returns true when two policies take the same reuses.
bool samePolicy(const ReusePolicy &a, const ReusePolicy &b) {
  return a.aliases == b.aliases && a.concatPlacement == b.concatPlacement &&
         a.elementwiseInPlace == b.elementwiseInPlace &&
         a.depthwiseInPlace == b.depthwiseInPlace &&
         a.inPlaceOnGraphInputs == b.inPlaceOnGraphInputs;
}

/// Returns the maximum of |profile| (0 when empty).
uint64_t maxOf(const std::vector<uint64_t> &profile) {
  uint64_t top = 0;
  for (uint64_t value : profile)
    top = std::max(top, value);
  return top;
}

/// Verifies |graph| and computes its liveness over |order|.
Result<Liveness> prepare(const MemoryGraph &graph,
                         const std::vector<OpId> &order) {
  Status status = graph.verify();
  if (status.failed())
    return status;
  return computeLiveness(graph, order);
}

} // namespace

Result<ArenaPlan> planGreedyBySize(const MemoryGraph &graph,
                                   const std::vector<OpId> &order,
                                   const GreedyOptions &options) {
  Result<Liveness> liveness = prepare(graph, order);
  if (!liveness)
    return liveness.status();
  BufferProblem problem =
      buildBufferProblem(graph, *liveness, ReusePolicy::none());
  // The buffers come tensors first (by id), then scratch buffers (by step):
  // the order in which TF Lite Micro adds them to its planner.
  std::vector<BufferRequest> requests;
  for (const PlannedBuffer &buffer : problem.buffers)
    requests.push_back({options.alignSizes
                            ? alignUp(buffer.bytes, buffer.alignment)
                            : buffer.bytes,
                        buffer.live, buffer.alignment});
  std::vector<uint64_t> offsets = placeGreedyBySize(requests);
  Placement placement;
  for (const PlacementUnit &unit : problem.placement.units) {
    uint64_t base = offsets[unit.members.front().buffer];
    placement.base.push_back(base);
    placement.peak = std::max(placement.peak, base + unit.extent);
  }
  ArenaPlan plan = makePlan(problem, placement, graph, *liveness);
  plan.strategy = "greedy-by-size";
  plan.provedOptimal = plan.arenaBytes == plan.lowerBound;
  return plan;
}

Result<ArenaPlan> planDefault(const MemoryGraph &graph,
                              const std::vector<OpId> &order,
                              const DefaultPlannerOptions &options) {
  Result<Liveness> liveness = prepare(graph, order);
  if (!liveness)
    return liveness.status();

  std::vector<ReusePolicy> policies{options.reuse};
  if (options.tryReuseSubsets) {
    ReusePolicy views = options.reuse;
    views.elementwiseInPlace = views.depthwiseInPlace = false;
    for (const ReusePolicy &policy : {views, ReusePolicy::none()})
      if (std::none_of(
              policies.begin(), policies.end(),
              [&](const ReusePolicy &p) { return samePolicy(p, policy); }))
        policies.push_back(policy);
  }
  std::vector<BufferProblem> problems;
  std::vector<uint64_t> bounds;
  for (const ReusePolicy &policy : policies) {
    problems.push_back(buildBufferProblem(graph, *liveness, policy));
    bounds.push_back(maxOf(liveProfile(problems.back().placement)));
  }
  uint64_t bestBound = *std::min_element(bounds.begin(), bounds.end());

  // Step 2: every order x fit on every reuse set.
  struct Best {
    size_t problem = 0;
    Placement placement;
    std::vector<uint32_t> order;
    FitPolicy fit = FitPolicy::FirstFit;
    std::string strategy;
    bool found = false;
  } best;
  const UnitOrderKey keys[] = {
      UnitOrderKey::SizeDesc,     UnitOrderKey::AreaDesc,
      UnitOrderKey::LifetimeDesc, UnitOrderKey::StartAsc,
      UnitOrderKey::ConflictDesc, UnitOrderKey::PeakFirst};
  for (size_t p = 0; p < problems.size(); ++p) {
    const PlacementProblem &problem = problems[p].placement;
    for (UnitOrderKey key : keys) {
      if (best.found && (best.placement.peak <= bestBound ||
                         bounds[p] >= best.placement.peak))
        break;
      std::vector<uint32_t> unitOrder = orderUnits(problem, key);
      for (FitPolicy fit : {FitPolicy::FirstFit, FitPolicy::BestFit}) {
        Placement placement = placeUnits(problem, unitOrder, fit);
        if (!best.found || placement.peak < best.placement.peak) {
          best = {p,
                  std::move(placement),
                  unitOrder,
                  fit,
                  describePolicy(policies[p]) + ", " + unitOrderKeyName(key) +
                      "/" + fitPolicyName(fit),
                  true};
        }
      }
    }
  }

  // Step 3: local search on the winner.
  const PlacementProblem &winner = problems[best.problem].placement;
  uint64_t winnerBound = bounds[best.problem];
  if (options.localSearchIterations > 0 && best.placement.peak > winnerBound) {
    // One decode compares every pair of members once; cap the iterations so
    // that large graphs stay within the work budget.
    uint64_t members = 0;
    for (const PlacementUnit &unit : winner.units)
      members += unit.members.size();
    uint64_t perDecode = std::max<uint64_t>(1, members * members / 2);
    unsigned iterations = static_cast<unsigned>(std::min<uint64_t>(
        options.localSearchIterations,
        std::max<uint64_t>(16, options.localSearchWork / perDecode)));
    std::vector<uint32_t> unitOrder = best.order;
    Placement improved = localSearch(winner, unitOrder, best.fit, iterations,
                                     options.seed, winnerBound);
    if (improved.peak < best.placement.peak) {
      best.placement = std::move(improved);
      best.order = std::move(unitOrder);
      best.strategy += " + local search";
    }
  }

  // Step 4: branch and bound for small problems.
  bool exhaustive = false;
  if (options.exactUnitLimit > 0 &&
      winner.units.size() <= options.exactUnitLimit &&
      best.placement.peak > winnerBound) {
    ExactPlacement exact = branchAndBound(winner, best.placement.peak,
                                          winnerBound, options.exactBudget);
    if (exact.placement) {
      best.placement = std::move(*exact.placement);
      best.strategy += " + branch and bound";
    }
    exhaustive = exact.exhaustive;
  }

  ArenaPlan plan =
      makePlan(problems[best.problem], best.placement, graph, *liveness);
  plan.strategy = "default: " + best.strategy;
  plan.provedOptimal = plan.arenaBytes == plan.lowerBound || exhaustive;

  // Step 5: never worse than the baseline.
  Result<ArenaPlan> greedy = planGreedyBySize(graph, order);
  if (greedy && greedy->arenaBytes < plan.arenaBytes) {
    plan = greedy.take();
    plan.strategy = "default: greedy-by-size was smallest";
  }
  return plan;
}

Result<ArenaPlan> planMemory(const MemoryGraph &graph,
                             const PlanOptions &options) {
  Status status = graph.verify();
  if (status.failed())
    return status;
  std::vector<OpId> candidate = graph.candidateOrder();
  if (options.planner == PlannerKind::GreedyBySize)
    return planGreedyBySize(graph, candidate, options.greedy);

  Result<ArenaPlan> plan = planDefault(graph, candidate, options.defaults);
  if (!plan || !options.chooseOrder)
    return plan;
  OrderOptions orderOptions;
  orderOptions.reuse = options.defaults.reuse;
  orderOptions.maxStatesPerStep = options.maxOrderStatesPerStep;
  orderOptions.maxTransitions = options.maxOrderTransitions;
  Result<OrderResult> order = chooseExecutionOrder(graph, orderOptions);
  if (!order)
    return order.status();
  if (order->order == candidate)
    return plan;
  Result<ArenaPlan> reordered =
      planDefault(graph, order->order, options.defaults);
  if (!reordered)
    return reordered;
  if (reordered->arenaBytes < plan->arenaBytes) {
    reordered->strategy += " (memory-aware order)";
    return reordered;
  }
  return plan;
}

} // namespace kiln::memory
