//===- Observers.cpp - Activation range observers ---------------*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// Implements the observers of Observers.h.
//
//===----------------------------------------------------------------------===//

#include "passes/quant/Observers.h"

#include <algorithm>
#include <cmath>

namespace kiln::calib {

std::pair<double, double> includeZero(std::pair<double, double> range) {
  // "+ 0.0" turns a -0.0 extreme into +0.0.
  double lo = std::min(range.first, 0.0) + 0.0;
  double hi = std::max(range.second, 0.0) + 0.0;
  if (hi - lo < 1e-6)
    hi = lo + 1e-6;
  return {lo, hi};
}

void RangeObserver::observeExtremes(const float *data, size_t count) {
  for (size_t i = 0; i < count; ++i) {
    double x = data[i];
    if (!std::isfinite(x))
      continue;
    if (!seen_) {
      lo_ = hi_ = x;
      seen_ = true;
    }
    lo_ = std::min(lo_, x);
    hi_ = std::max(hi_, x);
  }
}

void RangeObserver::observeHistogram(const float *data, size_t count) {
  if (!seen_)
    return;
  if (histogram_.empty())
    histogram_.assign(kBins, 0);
  double width = (hi_ - lo_) / kBins;
  for (size_t i = 0; i < count; ++i) {
    double x = data[i];
    if (!std::isfinite(x))
      continue;
    int bin = width > 0 ? static_cast<int>((x - lo_) / width) : 0;
    ++histogram_[std::clamp(bin, 0, kBins - 1)];
  }
}

double RangeObserver::binCenter(int bin) const {
  return lo_ + (bin + 0.5) * (hi_ - lo_) / kBins;
}

std::pair<double, double>
RangeObserver::percentileRange(double percentile) const {
  uint64_t total = 0;
  for (uint64_t c : histogram_)
    total += c;
  if (total == 0)
    return {lo_, hi_};
  double tail = total * (100.0 - percentile) / 100.0;
  double width = (hi_ - lo_) / kBins;
  // Lower bound: first bin where the cumulative count exceeds the tail.
  double lo = lo_, hi = hi_;
  uint64_t cumulative = 0;
  for (int b = 0; b < kBins; ++b) {
    cumulative += histogram_[b];
    if (cumulative > tail) {
      lo = lo_ + b * width;
      break;
    }
  }
  cumulative = 0;
  for (int b = kBins - 1; b >= 0; --b) {
    cumulative += histogram_[b];
    if (cumulative > tail) {
      hi = lo_ + (b + 1) * width;
      break;
    }
  }
  return {lo, hi};
}

/// Expected squared error of quantizing the histogram to int8 on [lo, hi].
static double quantizationError(const std::vector<uint64_t> &histogram,
                                double histLo, double histHi, double lo,
                                double hi) {
  auto [qlo, qhi] = includeZero({lo, hi});
  double scale = (qhi - qlo) / 255.0;
  double zeroPoint = std::round(-128.0 - qlo / scale);
  int bins = static_cast<int>(histogram.size());
  double width = (histHi - histLo) / bins;
  double error = 0;
  for (int b = 0; b < bins; ++b) {
    if (!histogram[b])
      continue;
    double x = histLo + (b + 0.5) * width;
    double q = std::clamp(std::round(x / scale) + zeroPoint, -128.0, 127.0);
    double d = (q - zeroPoint) * scale - x;
    error += histogram[b] * d * d;
  }
  return error;
}

std::pair<double, double> RangeObserver::mseRange() const {
  if (histogram_.empty())
    return {lo_, hi_};
  std::pair<double, double> best = {lo_, hi_};
  double bestError = quantizationError(histogram_, lo_, hi_, lo_, hi_);
  constexpr int kSteps = 20;
  for (int i = 0; i < kSteps; ++i) {
    double a = 0.2 + 0.8 * i / (kSteps - 1);
    for (int j = 0; j < kSteps; ++j) {
      double b = 0.2 + 0.8 * j / (kSteps - 1);
      double error =
          quantizationError(histogram_, lo_, hi_, a * lo_, b * hi_);
      if (error < bestError) {
        bestError = error;
        best = {a * lo_, b * hi_};
      }
    }
  }
  return best;
}

std::pair<double, double> RangeObserver::range(ObserverKind kind,
                                               double percentile) const {
  if (!seen_)
    return includeZero({0, 0});
  switch (kind) {
  case ObserverKind::MinMax:
    return includeZero({lo_, hi_});
  case ObserverKind::Percentile:
    return includeZero(percentileRange(percentile));
  case ObserverKind::Mse:
    return includeZero(mseRange());
  }
  return includeZero({lo_, hi_});
}

} // namespace kiln::calib
