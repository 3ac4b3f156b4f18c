//===- Placement.cpp - Offset assignment for arena buffers ------*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// The placement engines of Placement.h. Feasible offsets of a unit are found
// by turning every (own member, placed member) pair that is live at a common
// step into an interval of forbidden base offsets and sweeping those
// intervals in order; this handles staircase-shaped units and per-unit
// alignment residues with one routine.
//
//===----------------------------------------------------------------------===//

#include "passes/memory/planner/Placement.h"

#include <limits>
#include <numeric>

namespace kiln::memory {

namespace {

/// A closed range of forbidden base offsets.
struct Forbidden {
  int64_t lo;
  int64_t hi;
};

/// A placed member, in absolute offsets.
struct PlacedMember {
  int64_t offset;
  uint64_t bytes;
  Interval live;
};

/// Returns the smallest value >= |value| congruent to |residue| modulo the
/// power of two |alignment|; |value| may be negative.
int64_t alignUpTo(int64_t value, uint64_t alignment, uint64_t residue) {
  int64_t a = static_cast<int64_t>(alignment);
  int64_t r = static_cast<int64_t>(residue);
  int64_t mod = ((value - r) % a + a) % a;
  return mod == 0 ? value : value + (a - mod);
}

/// Returns the base offsets at which |unit| would collide with |placed|,
/// sorted by lower end.
std::vector<Forbidden> forbiddenBases(const PlacementUnit &unit,
                                      const std::vector<PlacedMember> &placed) {
  std::vector<Forbidden> result;
  for (const UnitMember &member : unit.members) {
    if (member.bytes == 0)
      continue;
    for (const PlacedMember &other : placed) {
      if (other.bytes == 0 || !member.live.overlaps(other.live))
        continue;
      // member at base + rel collides when
      // base + rel < other.offset + other.bytes and
      // base + rel + member.bytes > other.offset.
      int64_t lo =
          other.offset - member.rel - static_cast<int64_t>(member.bytes) + 1;
      int64_t hi =
          other.offset + static_cast<int64_t>(other.bytes) - member.rel - 1;
      if (hi >= 0)
        result.push_back({lo, hi});
    }
  }
  std::sort(result.begin(), result.end(),
            [](const Forbidden &a, const Forbidden &b) { return a.lo < b.lo; });
  return result;
}

/// Returns the lowest feasible base of |unit| given sorted |forbidden|.
int64_t firstFit(const PlacementUnit &unit,
                 const std::vector<Forbidden> &forbidden) {
  int64_t candidate = alignUpTo(0, unit.alignment, unit.residue);
  for (const Forbidden &range : forbidden) {
    if (range.hi < candidate)
      continue;
    if (range.lo > candidate)
      break;
    candidate = alignUpTo(range.hi + 1, unit.alignment, unit.residue);
  }
  return candidate;
}

/// Returns the base of |unit| in the free gap that keeps the arena lowest
/// (then the tightest gap, then the lowest offset) given sorted |forbidden|
/// and the arena size |peak| so far.
int64_t bestFit(const PlacementUnit &unit,
                const std::vector<Forbidden> &forbidden, uint64_t peak) {
  const int64_t infinity = std::numeric_limits<int64_t>::max();
  int64_t bestBase = -1;
  uint64_t bestPeak = 0;
  int64_t bestSlack = 0;
  auto consider = [&](int64_t gapLo, int64_t gapHi) {
    int64_t base =
        alignUpTo(std::max<int64_t>(gapLo, 0), unit.alignment, unit.residue);
    if (base > gapHi)
      return;
    uint64_t newPeak =
        std::max(peak, static_cast<uint64_t>(base) + unit.extent);
    int64_t slack = gapHi == infinity ? infinity : gapHi - base;
    if (bestBase < 0 || newPeak < bestPeak ||
        (newPeak == bestPeak && slack < bestSlack) ||
        (newPeak == bestPeak && slack == bestSlack && base < bestBase)) {
      bestBase = base;
      bestPeak = newPeak;
      bestSlack = slack;
    }
  };
  // Walk the union of the forbidden ranges; the gaps between them are the
  // free regions of base offsets.
  int64_t freeFrom = 0;
  for (const Forbidden &range : forbidden) {
    if (range.hi < freeFrom)
      continue;
    if (range.lo > freeFrom)
      consider(freeFrom, range.lo - 1);
    freeFrom = std::max(freeFrom, range.hi + 1);
  }
  consider(freeFrom, infinity);
  return bestBase;
}

/// Small deterministic generator (splitmix64), so results do not depend on
/// the standard library's distributions.
class SplitMix {
public:
  explicit SplitMix(uint64_t seed) : state_(seed) {}
  uint64_t next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  /// Returns a value in [0, bound).
  size_t below(size_t bound) { return static_cast<size_t>(next() % bound); }

private:
  uint64_t state_;
};

} // namespace

bool finalizeUnit(PlacementUnit &unit) {
  if (unit.members.empty())
    return true;
  int64_t minRel = unit.members.front().rel;
  for (const UnitMember &member : unit.members)
    minRel = std::min(minRel, member.rel);
  const UnitMember *widest = &unit.members.front();
  unit.extent = 0;
  unit.span = Interval();
  for (UnitMember &member : unit.members) {
    member.rel -= minRel;
    unit.extent =
        std::max(unit.extent, static_cast<uint64_t>(member.rel) + member.bytes);
    unit.span = unit.span.hull(member.live);
    if (member.alignment > widest->alignment)
      widest = &member;
  }
  // With power-of-two alignments, base + rel_m is aligned for every member m
  // iff base + rel_w is aligned for the most aligned member w and every
  // rel_m - rel_w is a multiple of m's alignment.
  unit.alignment = widest->alignment;
  uint64_t widestRel = static_cast<uint64_t>(widest->rel);
  unit.residue = (unit.alignment - widestRel % unit.alignment) % unit.alignment;
  for (const UnitMember &member : unit.members) {
    int64_t diff = member.rel - widest->rel;
    int64_t a = static_cast<int64_t>(member.alignment);
    if (((diff % a) + a) % a != 0)
      return false;
  }
  return true;
}

const char *unitOrderKeyName(UnitOrderKey key) {
  switch (key) {
  case UnitOrderKey::SizeDesc:
    return "size";
  case UnitOrderKey::AreaDesc:
    return "size-x-lifetime";
  case UnitOrderKey::LifetimeDesc:
    return "lifetime";
  case UnitOrderKey::StartAsc:
    return "start";
  case UnitOrderKey::ConflictDesc:
    return "conflict";
  case UnitOrderKey::PeakFirst:
    return "peak-first";
  }
  return "size";
}

const char *fitPolicyName(FitPolicy policy) {
  return policy == FitPolicy::FirstFit ? "first-fit" : "best-fit";
}

namespace {

/// Returns the bytes covered by the union of |ranges| (sorted in place).
uint64_t unionBytes(std::vector<std::pair<int64_t, int64_t>> &ranges) {
  std::sort(ranges.begin(), ranges.end());
  int64_t coveredTo = std::numeric_limits<int64_t>::min();
  uint64_t bytes = 0;
  for (const auto &[lo, hi] : ranges) {
    int64_t start = std::max(lo, coveredTo);
    if (hi > start)
      bytes += static_cast<uint64_t>(hi - start);
    coveredTo = std::max(coveredTo, hi);
  }
  return bytes;
}

/// Adds, per step, the bytes |unit|'s live members cover to |profile|.
void addUnitProfile(const PlacementUnit &unit, std::vector<uint64_t> &profile) {
  if (unit.span.empty())
    return;
  std::vector<std::pair<int64_t, int64_t>> ranges;
  for (int32_t step = unit.span.first; step <= unit.span.last; ++step) {
    ranges.clear();
    for (const UnitMember &member : unit.members)
      if (member.live.contains(step) && member.bytes > 0)
        ranges.emplace_back(member.rel,
                            member.rel + static_cast<int64_t>(member.bytes));
    profile[step] += unionBytes(ranges);
  }
}

} // namespace

std::vector<uint64_t> liveProfile(const PlacementProblem &problem) {
  std::vector<uint64_t> profile(std::max<int32_t>(problem.numSteps, 1), 0);
  for (const PlacementUnit &unit : problem.units)
    addUnitProfile(unit, profile);
  return profile;
}

std::vector<uint32_t> orderUnits(const PlacementProblem &problem,
                                 UnitOrderKey key) {
  const std::vector<PlacementUnit> &units = problem.units;
  size_t n = units.size();
  std::vector<double> score(n, 0.0);
  std::vector<uint32_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::vector<bool> atPeak(n, false);
  if (key == UnitOrderKey::PeakFirst) {
    std::vector<uint64_t> profile = liveProfile(problem);
    uint64_t top = *std::max_element(profile.begin(), profile.end());
    for (size_t u = 0; u < n; ++u)
      for (int32_t s = units[u].span.first;
           !units[u].span.empty() && s <= units[u].span.last; ++s)
        if (profile[s] == top)
          atPeak[u] = true;
  }
  for (size_t u = 0; u < n; ++u) {
    const PlacementUnit &unit = units[u];
    double extent = static_cast<double>(unit.extent);
    switch (key) {
    case UnitOrderKey::SizeDesc:
      score[u] = extent;
      break;
    case UnitOrderKey::AreaDesc:
      score[u] = extent * unit.span.length();
      break;
    case UnitOrderKey::LifetimeDesc:
      score[u] = unit.span.length() * 1e12 + extent;
      break;
    case UnitOrderKey::StartAsc:
      score[u] = -unit.span.first * 1e12 + extent;
      break;
    case UnitOrderKey::ConflictDesc:
      for (size_t v = 0; v < n; ++v)
        if (units[v].span.overlaps(unit.span))
          score[u] += static_cast<double>(units[v].extent);
      break;
    case UnitOrderKey::PeakFirst:
      score[u] = (atPeak[u] ? 1e15 : 0.0) + extent;
      break;
    }
  }
  std::sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) {
    if (score[a] != score[b])
      return score[a] > score[b];
    if (units[a].span.first != units[b].span.first)
      return units[a].span.first < units[b].span.first;
    return a < b;
  });
  return order;
}

Placement placeUnits(const PlacementProblem &problem,
                     const std::vector<uint32_t> &order, FitPolicy policy) {
  Placement result;
  result.base.assign(problem.units.size(), 0);
  std::vector<PlacedMember> placed;
  for (uint32_t u : order) {
    const PlacementUnit &unit = problem.units[u];
    std::vector<Forbidden> forbidden = forbiddenBases(unit, placed);
    int64_t base = policy == FitPolicy::FirstFit
                       ? firstFit(unit, forbidden)
                       : bestFit(unit, forbidden, result.peak);
    result.base[u] = static_cast<uint64_t>(base);
    result.peak = std::max(result.peak, result.base[u] + unit.extent);
    for (const UnitMember &member : unit.members)
      placed.push_back({base + member.rel, member.bytes, member.live});
  }
  return result;
}

Placement localSearch(const PlacementProblem &problem,
                      std::vector<uint32_t> &order, FitPolicy policy,
                      unsigned iterations, uint64_t seed, uint64_t lowerBound) {
  Placement best = placeUnits(problem, order, policy);
  size_t n = order.size();
  if (n < 2)
    return best;
  SplitMix random(seed);
  std::vector<uint32_t> candidate;
  std::vector<size_t> atTop;
  for (unsigned it = 0; it < iterations && best.peak > lowerBound; ++it) {
    candidate = order;
    atTop.clear();
    for (size_t i = 0; i < n; ++i) {
      uint32_t u = candidate[i];
      if (best.base[u] + problem.units[u].extent == best.peak)
        atTop.push_back(i);
    }
    if (!atTop.empty() && random.below(2) == 0) {
      // Move a unit that defines the arena's top to an earlier slot, so it
      // is placed before the units that pushed it up.
      size_t from = atTop[random.below(atTop.size())];
      if (from == 0)
        continue;
      size_t to = random.below(from);
      uint32_t unit = candidate[from];
      candidate.erase(candidate.begin() + from);
      candidate.insert(candidate.begin() + to, unit);
    } else {
      size_t a = random.below(n);
      size_t b = random.below(n);
      if (a == b)
        continue;
      std::swap(candidate[a], candidate[b]);
    }
    Placement trial = placeUnits(problem, candidate, policy);
    // Accepting equal arenas lets the search walk across plateaus.
    if (trial.peak <= best.peak) {
      best = std::move(trial);
      order = candidate;
    }
  }
  return best;
}

namespace {

/// Depth-first search state of branchAndBound.
class BranchAndBound {
public:
  BranchAndBound(const PlacementProblem &problem, uint64_t incumbent,
                 uint64_t lowerBound, uint64_t budget)
      : problem_(problem), bestPeak_(incumbent), lowerBound_(lowerBound),
        budget_(budget), base_(problem.units.size(), 0),
        placedFlag_(problem.units.size(), false) {
    order_ = orderUnits(problem, UnitOrderKey::SizeDesc);
    size_t steps = std::max<int32_t>(problem.numSteps, 1);
    remaining_.assign(steps, 0);
    for (const PlacementUnit &unit : problem.units) {
      unitProfile_.emplace_back(steps, 0);
      addUnitProfile(unit, unitProfile_.back());
      for (size_t t = 0; t < steps; ++t)
        remaining_[t] += unitProfile_.back()[t];
    }
  }

  ExactPlacement run() {
    search(0, 0, -1, 0);
    ExactPlacement result;
    result.placement = std::move(best_);
    result.completed = !aborted_;
    result.nodes = nodes_;
    bool allAtZero = true;
    for (const PlacementUnit &unit : problem_.units)
      for (const UnitMember &member : unit.members)
        allAtZero = allAtZero && member.rel == 0;
    result.exhaustive = result.completed && allAtZero;
    return result;
  }

private:
  /// Returns true when |unit| at |base| collides with no placed member.
  bool fits(const PlacementUnit &unit, int64_t base) const {
    for (const UnitMember &member : unit.members)
      for (const PlacedMember &other : placed_) {
        if (!member.live.overlaps(other.live))
          continue;
        int64_t lo = base + member.rel;
        int64_t hi = lo + static_cast<int64_t>(member.bytes);
        if (lo < other.offset + static_cast<int64_t>(other.bytes) &&
            hi > other.offset)
          return false;
      }
    return true;
  }

  /// Returns a lower bound on the arena of every completion of the current
  /// partial placement: units still to place go at or above |minBase|
  /// (canonical order), so at each step they need their footprint there,
  /// next to what placed members already cover above |minBase|.
  uint64_t completionBound(int64_t minBase) {
    uint64_t bound = 0;
    for (size_t t = 0; t < remaining_.size(); ++t) {
      if (remaining_[t] == 0)
        continue;
      ranges_.clear();
      for (const PlacedMember &member : placed_) {
        int64_t end = member.offset + static_cast<int64_t>(member.bytes);
        if (member.live.contains(static_cast<int32_t>(t)) && end > minBase)
          ranges_.emplace_back(std::max(member.offset, minBase), end);
      }
      bound = std::max(bound, static_cast<uint64_t>(minBase) + remaining_[t] +
                                  unionBytes(ranges_));
    }
    return bound;
  }

  void search(size_t count, int64_t minBase, int64_t lastUnit, uint64_t peak) {
    if (aborted_ || bestPeak_ <= lowerBound_)
      return;
    // The budget counts nodes and collision tests, the search's work.
    if (++nodes_ > budget_) {
      aborted_ = true;
      return;
    }
    if (count < problem_.units.size() &&
        std::max(peak, completionBound(minBase)) >= bestPeak_)
      return;
    if (count == problem_.units.size()) {
      if (peak < bestPeak_) {
        bestPeak_ = peak;
        best_ = Placement{base_, peak};
      }
      return;
    }
    std::vector<int64_t> candidates;
    for (uint32_t u : order_) {
      if (placedFlag_[u])
        continue;
      const PlacementUnit &unit = problem_.units[u];
      candidates.clear();
      candidates.push_back(alignUpTo(0, unit.alignment, unit.residue));
      for (const UnitMember &member : unit.members)
        for (const PlacedMember &other : placed_)
          if (member.live.overlaps(other.live))
            candidates.push_back(alignUpTo(
                other.offset + static_cast<int64_t>(other.bytes) - member.rel,
                unit.alignment, unit.residue));
      std::sort(candidates.begin(), candidates.end());
      candidates.erase(std::unique(candidates.begin(), candidates.end()),
                       candidates.end());
      for (int64_t base : candidates) {
        // Canonical order: bases never decrease, ties by unit index.
        if (base < minBase ||
            (base == minBase && static_cast<int64_t>(u) < lastUnit))
          continue;
        uint64_t newPeak =
            std::max(peak, static_cast<uint64_t>(base) + unit.extent);
        if (std::max(newPeak, lowerBound_) >= bestPeak_)
          break;
        if (++nodes_ > budget_) {
          aborted_ = true;
          return;
        }
        if (!fits(unit, base))
          continue;
        placedFlag_[u] = true;
        base_[u] = static_cast<uint64_t>(base);
        size_t mark = placed_.size();
        for (const UnitMember &member : unit.members)
          placed_.push_back({base + member.rel, member.bytes, member.live});
        for (size_t t = 0; t < remaining_.size(); ++t)
          remaining_[t] -= unitProfile_[u][t];
        search(count + 1, base, u, newPeak);
        for (size_t t = 0; t < remaining_.size(); ++t)
          remaining_[t] += unitProfile_[u][t];
        placed_.resize(mark);
        placedFlag_[u] = false;
        if (aborted_ || bestPeak_ <= lowerBound_)
          return;
      }
    }
  }

  const PlacementProblem &problem_;
  uint64_t bestPeak_;
  uint64_t lowerBound_;
  uint64_t budget_;
  uint64_t nodes_ = 0;
  bool aborted_ = false;
  std::vector<uint32_t> order_;
  std::vector<uint64_t> base_;
  std::vector<bool> placedFlag_;
  std::vector<PlacedMember> placed_;
  std::optional<Placement> best_;
  /// Bytes per step of each unit, and of the units not yet placed.
  std::vector<std::vector<uint64_t>> unitProfile_;
  std::vector<uint64_t> remaining_;
  std::vector<std::pair<int64_t, int64_t>> ranges_;
};

} // namespace

ExactPlacement branchAndBound(const PlacementProblem &problem,
                              uint64_t incumbentPeak, uint64_t lowerBound,
                              uint64_t nodeBudget) {
  return BranchAndBound(problem, incumbentPeak, lowerBound, nodeBudget).run();
}

std::vector<uint64_t>
placeGreedyBySize(const std::vector<BufferRequest> &requests) {
  size_t n = requests.size();
  std::vector<uint64_t> offsets(n, 0);
  std::vector<size_t> sorted(n);
  std::iota(sorted.begin(), sorted.end(), 0);
  // TF Lite Micro's ReverseSortInPlace is a stable bubble sort on size: ties
  // keep request order.
  std::sort(sorted.begin(), sorted.end(), [&](size_t a, size_t b) {
    if (requests[a].bytes != requests[b].bytes)
      return requests[a].bytes > requests[b].bytes;
    return a < b;
  });
  // The placed buffers in ascending offset order; a new buffer goes after
  // every entry with an offset not larger than its own (as in TF Lite Micro).
  std::vector<size_t> byOffset;
  byOffset.reserve(n);
  for (size_t id : sorted) {
    const BufferRequest &wanted = requests[id];
    uint64_t candidate = 0;
    for (size_t placedId : byOffset) {
      const BufferRequest &other = requests[placedId];
      if (!wanted.live.overlaps(other.live))
        continue;
      // |other| is the next simultaneously active buffer in offset order:
      // take the gap below it if it is large enough, else move past it.
      uint64_t aligned = alignUp(candidate, wanted.alignment);
      if (offsets[placedId] >= aligned &&
          offsets[placedId] - aligned >= wanted.bytes)
        break;
      candidate = std::max(candidate, offsets[placedId] + other.bytes);
    }
    candidate = alignUp(candidate, wanted.alignment);
    offsets[id] = candidate;
    auto it = byOffset.begin();
    while (it != byOffset.end() && offsets[*it] <= candidate)
      ++it;
    byOffset.insert(it, id);
  }
  return offsets;
}

} // namespace kiln::memory
