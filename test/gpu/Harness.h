//===- Harness.h - Shared helpers of the GPU test programs ------*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// Every GPU test program (test/gpu/*.cu) is a plain executable: it runs its
// kernels on seeded random data, compares them with the host references
// (Reference.h) and exits 0 (all cases pass), 1 (a case failed or a CUDA
// call failed) or 77 (no usable CUDA device: ctest reports the test as
// SKIPPED and prints the reason "no CUDA device: ..."). Output is one line
// per case, then a summary line.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_TEST_GPU_HARNESS_H
#define KILN_TEST_GPU_HARNESS_H

#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace kiln::gputest {

/// Exit status that ctest maps to SKIPPED (SKIP_RETURN_CODE).
constexpr int kSkipExitCode = 77;

/// Aborts the program with a message when a CUDA call fails.
#define KILN_CUDA_CHECK(expr)                                                  \
  do {                                                                         \
    cudaError_t kilnErr_ = (expr);                                             \
    if (kilnErr_ != cudaSuccess) {                                             \
      std::fprintf(stderr, "%s:%d: CUDA error %s: %s (in %s)\n", __FILE__,     \
                   __LINE__, cudaGetErrorName(kilnErr_),                       \
                   cudaGetErrorString(kilnErr_), #expr);                       \
      std::exit(1);                                                            \
    }                                                                          \
  } while (0)

/// Returns 0 when a CUDA device can run this program's code (and prints
/// it), or kSkipExitCode after printing "no CUDA device: <reason>".
/// |minMajor| is the least compute capability major version needed.
inline int requireDevice(int minMajor = 8) {
  int count = 0;
  cudaError_t err = cudaGetDeviceCount(&count);
  if (err != cudaSuccess || count == 0) {
    if (err != cudaSuccess)
      std::printf("no CUDA device: cudaGetDeviceCount failed with %s (%s)\n",
                  cudaGetErrorName(err), cudaGetErrorString(err));
    else
      std::printf("no CUDA device: cudaGetDeviceCount found 0 devices\n");
    return kSkipExitCode;
  }
  cudaDeviceProp prop{};
  KILN_CUDA_CHECK(cudaGetDeviceProperties(&prop, 0));
  if (prop.major < minMajor) {
    std::printf("no CUDA device: %s is sm_%d%d, these kernels need sm_%d0 "
                "or newer\n",
                prop.name, prop.major, prop.minor, minMajor);
    return kSkipExitCode;
  }
  std::printf("device: %s (sm_%d%d, %d SMs)\n", prop.name, prop.major,
              prop.minor, prop.multiProcessorCount);
  return 0;
}

/// Returns the compute capability (major * 10 + minor) of device 0.
inline int deviceCapability() {
  cudaDeviceProp prop{};
  KILN_CUDA_CHECK(cudaGetDeviceProperties(&prop, 0));
  return prop.major * 10 + prop.minor;
}

/// A small deterministic random generator (SplitMix64).
class Rng {
public:
  explicit Rng(uint64_t seed) : state_(seed) {}
  uint64_t next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  /// Uniform integer in [lo, hi].
  int32_t uniformInt(int32_t lo, int32_t hi) {
    return lo + int32_t(next() % uint64_t(int64_t(hi) - lo + 1));
  }
  /// Uniform float in [lo, hi).
  float uniform(float lo, float hi) {
    return lo + (hi - lo) * float(next() >> 40) * (1.0f / 16777216.0f);
  }
  /// Approximately standard normal (sum of 4 uniforms).
  float normal() {
    float s = 0;
    for (int i = 0; i < 4; ++i)
      s += uniform(-1.0f, 1.0f);
    return s * 0.8660254f;
  }

private:
  uint64_t state_;
};

/// A device allocation with upload/download helpers.
template <typename T> class DeviceBuffer {
public:
  DeviceBuffer() = default;
  explicit DeviceBuffer(size_t count) { resize(count); }
  DeviceBuffer(const DeviceBuffer &) = delete;
  DeviceBuffer &operator=(const DeviceBuffer &) = delete;
  ~DeviceBuffer() {
    if (ptr_)
      cudaFree(ptr_);
  }
  void resize(size_t count) {
    if (ptr_)
      KILN_CUDA_CHECK(cudaFree(ptr_));
    ptr_ = nullptr;
    count_ = count;
    if (count)
      KILN_CUDA_CHECK(cudaMalloc(&ptr_, count * sizeof(T)));
  }
  void upload(const std::vector<T> &host) {
    resize(host.size());
    if (count_)
      KILN_CUDA_CHECK(cudaMemcpy(ptr_, host.data(), count_ * sizeof(T),
                                 cudaMemcpyHostToDevice));
  }
  std::vector<T> download() const {
    std::vector<T> host(count_);
    if (count_)
      KILN_CUDA_CHECK(cudaMemcpy(host.data(), ptr_, count_ * sizeof(T),
                                 cudaMemcpyDeviceToHost));
    return host;
  }
  /// Fills every byte with 0xA5 so that unwritten outputs are visible.
  void poison() {
    if (count_)
      KILN_CUDA_CHECK(cudaMemset(ptr_, 0xA5, count_ * sizeof(T)));
  }
  T *get() const { return ptr_; }
  size_t size() const { return count_; }

private:
  T *ptr_ = nullptr;
  size_t count_ = 0;
};

/// Counts cases and prints the summary.
class TestReport {
public:
  explicit TestReport(const char *program) : program_(program) {}
  /// Records a case result.
  void record(bool ok, const std::string &name, const std::string &detail) {
    ++cases_;
    if (!ok)
      ++failures_;
    std::printf("%s %s%s%s\n", ok ? "PASS" : "FAIL", name.c_str(),
                detail.empty() ? "" : ": ", detail.c_str());
    std::fflush(stdout);
  }
  /// Prints the summary; returns the exit status.
  int finish() const {
    std::printf("%s: %d cases, %d failed\n", program_, cases_, failures_);
    return failures_ == 0 && cases_ > 0 ? 0 : 1;
  }

private:
  const char *program_;
  int cases_ = 0;
  int failures_ = 0;
};

/// Compares two integer (or bit-pattern) arrays exactly over an M x N view
/// with row strides; returns "" or a description of the first mismatches.
template <typename T>
std::string compareExact(const T *got, int64_t ldGot, const T *want,
                         int64_t ldWant, int64_t M, int64_t N,
                         int64_t *mismatches = nullptr) {
  int64_t bad = 0;
  std::string detail;
  for (int64_t m = 0; m < M; ++m)
    for (int64_t n = 0; n < N; ++n) {
      const T g = got[m * ldGot + n];
      const T w = want[m * ldWant + n];
      if (std::memcmp(&g, &w, sizeof(T)) != 0) {
        if (bad < 4)
          detail += "[" + std::to_string(m) + "," + std::to_string(n) +
                    "] got " + std::to_string(double(g)) + " want " +
                    std::to_string(double(w)) + "; ";
        ++bad;
      }
    }
  if (mismatches)
    *mismatches = bad;
  if (bad)
    detail = std::to_string(bad) + " mismatches: " + detail;
  return detail;
}

/// Tolerance check of float results against a float64 reference:
/// relative Frobenius error ||got - ref|| / ||ref|| <= relTol and every
/// element within absTol * max|ref| + elemRelTol * |ref|. NaN never passes.
struct FloatCheck {
  double relError = 0;
  double maxAbsError = 0;
  int64_t badElements = 0;
  bool ok = false;
  std::string describe() const {
    char buf[160];
    std::snprintf(buf, sizeof buf, "rel err %.3g, max abs err %.3g, %lld bad",
                  relError, maxAbsError, (long long)badElements);
    return buf;
  }
};

inline FloatCheck compareFloat(const std::vector<double> &got,
                               const std::vector<double> &ref, double relTol,
                               double absTol, double elemRelTol) {
  FloatCheck c;
  double num = 0, den = 0, maxRef = 0;
  for (double r : ref)
    maxRef = std::max(maxRef, std::fabs(r));
  bool finite = true;
  for (size_t i = 0; i < ref.size(); ++i) {
    const double d = got[i] - ref[i];
    if (!std::isfinite(got[i]))
      finite = false;
    num += d * d;
    den += ref[i] * ref[i];
    c.maxAbsError = std::max(c.maxAbsError, std::fabs(d));
    if (!(std::fabs(d) <= absTol * maxRef + elemRelTol * std::fabs(ref[i])))
      ++c.badElements;
  }
  c.relError = den > 0 ? std::sqrt(num / den) : std::sqrt(num);
  c.ok = finite && c.relError <= relTol && c.badElements == 0;
  return c;
}

} // namespace kiln::gputest

#endif // KILN_TEST_GPU_HARNESS_H
