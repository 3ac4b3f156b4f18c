//===- Observers.h - Activation range observers -----------------*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// Chooses the int8 range of an activation from the values it took on the
// calibration data:
//   minmax      the observed extremes (two passes not needed);
//   percentile  the p-th and (100 - p)-th percentiles of a 2048-bin
//               histogram over the observed extremes;
//   mse         the clipping range [a * lo, b * hi] (a, b on a grid of 20
//               values in [0.2, 1]) minimizing the expected squared error
//               of int8 quantization over the histogram.
// Every range is widened to contain 0, as the TFLite scheme requires. Plain
// C++; no MLIR.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_PASSES_QUANT_OBSERVERS_H
#define KILN_PASSES_QUANT_OBSERVERS_H

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

namespace kiln::calib {

enum class ObserverKind { MinMax, Percentile, Mse };

/// Collects the values of one activation over the calibration data.
class RangeObserver {
public:
  static constexpr int kBins = 2048;

  /// Pass 1: widens the observed extremes (NaN and inf are ignored).
  void observeExtremes(const float *data, size_t count);
  /// Pass 2 (percentile, mse): adds the values to a histogram over the
  /// extremes of pass 1.
  void observeHistogram(const float *data, size_t count);

  /// Returns the range |kind| chooses (percentile in (50, 100]).
  std::pair<double, double> range(ObserverKind kind, double percentile) const;

  /// Returns true once pass 1 saw a finite value.
  bool seen() const { return seen_; }

private:
  std::pair<double, double> percentileRange(double percentile) const;
  std::pair<double, double> mseRange() const;
  double binCenter(int bin) const;

  bool seen_ = false;
  double lo_ = 0, hi_ = 0;
  std::vector<uint64_t> histogram_;
};

/// Widens [lo, hi] to contain 0 and to span at least 1e-6 (a degenerate
/// all-zero activation still gets a usable scale).
std::pair<double, double> includeZero(std::pair<double, double> range);

} // namespace kiln::calib

#endif // KILN_PASSES_QUANT_OBSERVERS_H
