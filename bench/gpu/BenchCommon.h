//===- BenchCommon.h - Timing and reporting for the GPU benchmarks *- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// What every GPU benchmark of bench/gpu shares: device queries, a timer
// that follows docs/runtime-cuda.md's method (warm-up, CUDA events around a
// batch of back-to-back launches, the median of several batches, inputs
// rotated among enough copies that a batch never reads from L2 what the
// previous launch left there), and a markdown table printer.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_BENCH_GPU_BENCHCOMMON_H
#define KILN_BENCH_GPU_BENCHCOMMON_H

#include <cuda_runtime.h>

#include <algorithm>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

namespace kiln::bench {

/// Aborts with a message when a CUDA call fails.
#define KILN_BENCH_CHECK(expr)                                                 \
  do {                                                                         \
    cudaError_t e_ = (expr);                                                   \
    if (e_ != cudaSuccess) {                                                   \
      std::fprintf(stderr, "%s:%d: %s: %s\n", __FILE__, __LINE__, #expr,       \
                   cudaGetErrorString(e_));                                    \
      std::exit(1);                                                            \
    }                                                                          \
  } while (0)

/// Device facts the benchmarks report and size against.
struct DeviceInfo {
  std::string name;
  int capability = 0;
  int sms = 0;
  size_t l2Bytes = 0;
};

inline DeviceInfo deviceInfo() {
  cudaDeviceProp p{};
  KILN_BENCH_CHECK(cudaGetDeviceProperties(&p, 0));
  DeviceInfo d;
  d.name = p.name;
  d.capability = p.major * 10 + p.minor;
  d.sms = p.multiProcessorCount;
  d.l2Bytes = size_t(p.l2CacheSize);
  return d;
}

/// Returns how many copies of a working set of |bytes| to rotate through
/// so that consecutive launches do not find their inputs in L2 (at least
/// 3 x L2 in total, at most 16 copies, 1 when one copy already exceeds it).
inline int rotationCopies(size_t bytes, const DeviceInfo &d) {
  if (bytes >= 3 * d.l2Bytes)
    return 1;
  const size_t copies = (3 * d.l2Bytes + bytes - 1) / std::max<size_t>(bytes, 1);
  return int(std::min<size_t>(16, std::max<size_t>(2, copies)));
}

/// Times |launch(i)| (i = rotation index): 3 warm-up batches, then the
/// median over |batches| batches of |perBatch| back-to-back launches,
/// measured with events. Returns seconds per launch; a failed launch
/// returns -1.
inline double timeLaunches(const std::function<cudaError_t(int)> &launch,
                           int rotation, int perBatch = 20, int batches = 7) {
  cudaEvent_t start, stop;
  KILN_BENCH_CHECK(cudaEventCreate(&start));
  KILN_BENCH_CHECK(cudaEventCreate(&stop));
  int idx = 0;
  std::vector<float> times;
  for (int b = 0; b < batches + 3; ++b) {
    KILN_BENCH_CHECK(cudaEventRecord(start));
    for (int i = 0; i < perBatch; ++i) {
      if (launch(idx) != cudaSuccess) {
        cudaGetLastError();
        cudaEventDestroy(start);
        cudaEventDestroy(stop);
        return -1.0;
      }
      idx = (idx + 1) % std::max(rotation, 1);
    }
    KILN_BENCH_CHECK(cudaEventRecord(stop));
    KILN_BENCH_CHECK(cudaEventSynchronize(stop));
    float ms = 0;
    KILN_BENCH_CHECK(cudaEventElapsedTime(&ms, start, stop));
    if (b >= 3)
      times.push_back(ms);
  }
  KILN_BENCH_CHECK(cudaGetLastError());
  cudaEventDestroy(start);
  cudaEventDestroy(stop);
  std::sort(times.begin(), times.end());
  return double(times[times.size() / 2]) * 1e-3 / perBatch;
}

/// A markdown table accumulated row by row and printed at the end.
class Table {
public:
  Table(std::string title, std::vector<std::string> header)
      : title_(std::move(title)), header_(std::move(header)) {}
  void add(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
  std::string markdown() const {
    std::string s = "### " + title_ + "\n\n|";
    for (const auto &h : header_)
      s += " " + h + " |";
    s += "\n|";
    for (size_t i = 0; i < header_.size(); ++i)
      s += " --- |";
    s += "\n";
    for (const auto &r : rows_) {
      s += "|";
      for (const auto &c : r)
        s += " " + c + " |";
      s += "\n";
    }
    return s + "\n";
  }

private:
  std::string title_;
  std::vector<std::string> header_;
  std::vector<std::vector<std::string>> rows_;
};

/// printf into a std::string.
inline std::string fmt(const char *f, ...) {
  char buf[256];
  va_list ap;
  va_start(ap, f);
  std::vsnprintf(buf, sizeof buf, f, ap);
  va_end(ap);
  return buf;
}

/// Formats a time in microseconds, or "n/a" for a failed measurement.
inline std::string us(double seconds) {
  return seconds > 0 ? fmt("%.1f", seconds * 1e6) : "n/a";
}

/// Formats a rate (operations per second) in T/s.
inline std::string tera(double ops, double seconds) {
  return seconds > 0 ? fmt("%.0f", ops / seconds * 1e-12) : "n/a";
}

/// Formats a ratio a / b, or "n/a".
inline std::string ratio(double a, double b) {
  return a > 0 && b > 0 ? fmt("%.2f", a / b) : "n/a";
}

/// Writes |text| to the file named by argv[1] when given (appending) and to
/// stdout.
inline void emit(int argc, char **argv, const std::string &text) {
  std::fputs(text.c_str(), stdout);
  std::fflush(stdout);
  if (argc > 1) {
    if (FILE *f = std::fopen(argv[1], "a")) {
      std::fputs(text.c_str(), f);
      std::fclose(f);
    }
  }
}

/// Returns true when the environment asks for the short benchmark set
/// (KILN_BENCH_QUICK=1).
inline bool quickMode() {
  const char *q = std::getenv("KILN_BENCH_QUICK");
  return q && q[0] == '1';
}

} // namespace kiln::bench

#endif // KILN_BENCH_GPU_BENCHCOMMON_H
