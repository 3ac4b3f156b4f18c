//===- Config.h - Kiln CUDA runtime: macros and launch helpers -*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// Macros shared by every header of the CUDA runtime. The headers are written
// so that the numeric and packing parts (Numeric.h, Packing.h, Select.h,
// Fragments.h) compile as plain C++17 without CUDA: the compiler includes
// them to pre-pack weights and choose tile sizes, and the CPU tests compare
// them with the reference library. Everything that needs CUDA lives in the
// .cuh headers.
//
//   KILN_HD       __host__ __device__ under nvcc, nothing otherwise
//   KILN_DEVICE   __device__ __forceinline__ (only in .cuh headers)
//   KILN_SM80     defined in device code compiled for sm_80 or newer
//   KILN_SM90A    defined in device code compiled for sm_90a (wgmma, setmaxnreg)
//
//===----------------------------------------------------------------------===//

#ifndef KILN_RUNTIME_CUDA_INCLUDE_KILN_CUDA_CONFIG_H
#define KILN_RUNTIME_CUDA_INCLUDE_KILN_CUDA_CONFIG_H

#include <cstddef>
#include <cstdint>

#if defined(__CUDACC__)
#define KILN_HD __host__ __device__ __forceinline__
#define KILN_DEVICE __device__ __forceinline__
#else
#define KILN_HD inline
#endif

#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
#define KILN_SM80 1
#endif
#if defined(__CUDA_ARCH__) && defined(__CUDA_ARCH_FEAT_SM90_ALL)
#define KILN_SM90A 1
#endif

namespace kiln::cuda {

/// The runtime's version: major * 10000 + minor * 100 + patch.
inline constexpr int kRuntimeVersion = 100;

/// Returns ceil(a / b) for positive b.
template <typename T> constexpr KILN_HD T ceilDiv(T a, T b) {
  return (a + b - 1) / b;
}

/// Returns a rounded up to a multiple of b.
template <typename T> constexpr KILN_HD T roundUp(T a, T b) {
  return ceilDiv(a, b) * b;
}

/// The GPU generations the runtime has kernels for. The code generator picks
/// one per target (`cuda-sm80`, `cuda-sm90`).
enum class Arch { kSm80, kSm90 };

} // namespace kiln::cuda

#endif // KILN_RUNTIME_CUDA_INCLUDE_KILN_CUDA_CONFIG_H
