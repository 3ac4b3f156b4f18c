//===- Norm.cuh - LayerNorm, RMSNorm and softmax over rows ------*- CUDA -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// Row-wise reductions over the last dimension, one CTA per row, the row
// staged once in shared memory as float32 (so global memory is read once and
// written once), statistics in float32 with a fixed reduction order
// (deterministic):
//
// - LayerNorm: y = (x - mean) * rsqrt(var + eps) * gamma + beta, var the
//   biased variance computed from the staged values (two passes, no
//   cancellation).
// - RMSNorm:   y = x * rsqrt(mean(x^2) + eps) * gamma.
//   Both optionally add a residual first (x = x + r) and write that sum
//   (the pre-norm transformer block's "add & norm"), and write fp16 or int8
//   with a dynamic per-row scale (scale = max|y| / 127; the activation
//   side of a W8A8 / W4A8 GEMM, Elementwise.cuh's quantizePerToken fused).
// - Softmax (fp16): y = exp(s x - max) / sum, float32.
// - Softmax (int8): kiln::ref::softmax bit for bit (exp table, integer sum,
//   (e * 256 + S / 2) / S - 128 in uint32).
//
//===----------------------------------------------------------------------===//

#ifndef KILN_RUNTIME_CUDA_INCLUDE_KILN_CUDA_NORM_CUH
#define KILN_RUNTIME_CUDA_INCLUDE_KILN_CUDA_NORM_CUH

#include "kiln/cuda/Elementwise.cuh"
#include "kiln/cuda/Numeric.h"

#include <cuda_runtime.h>

#include <cstdint>

namespace kiln::cuda {

/// Which normalization.
enum class NormKind { kLayerNorm, kRmsNorm };
/// Output of a normalization: fp16, or int8 with a per-row scale.
enum class NormOut { kFloat16, kInt8PerToken };

/// Operands of a row normalization over x [rows, cols] (fp16).
struct NormArgs {
  int rows = 0;
  int cols = 0;
  const uint16_t *x = nullptr;
  int64_t ldx = 0;
  /// Optional residual [rows, ldr] added before the norm, and optional
  /// output of that sum [rows, ldSum].
  const uint16_t *residual = nullptr;
  int64_t ldr = 0;
  uint16_t *sum = nullptr;
  int64_t ldSum = 0;
  /// float32 [cols]; beta only for LayerNorm (may be null: 0).
  const float *gamma = nullptr;
  const float *beta = nullptr;
  float eps = 1e-5f;
  /// Output [rows, ldy]: fp16 bits or int8; |rowScale| [rows] for int8.
  void *y = nullptr;
  int64_t ldy = 0;
  float *rowScale = nullptr;
};

namespace detail {

/// Returns the sum of |v| over the CTA (fixed order: a shuffle tree per
/// warp, then warp 0 adds the warp sums in order). All threads get it.
template <int kThreads> KILN_DEVICE float blockSum(float v, float *scratch) {
#pragma unroll
  for (int o = 16; o > 0; o >>= 1)
    v += __shfl_xor_sync(0xffffffffu, v, o);
  if ((threadIdx.x & 31) == 0)
    scratch[threadIdx.x >> 5] = v;
  __syncthreads();
  float total = 0.0f;
#pragma unroll
  for (int w = 0; w < kThreads / 32; ++w)
    total += scratch[w];
  __syncthreads();
  return total;
}

/// Returns the maximum of |v| over the CTA.
template <int kThreads> KILN_DEVICE float blockMax(float v, float *scratch) {
#pragma unroll
  for (int o = 16; o > 0; o >>= 1)
    v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
  if ((threadIdx.x & 31) == 0)
    scratch[threadIdx.x >> 5] = v;
  __syncthreads();
  float m = scratch[0];
#pragma unroll
  for (int w = 1; w < kThreads / 32; ++w)
    m = fmaxf(m, scratch[w]);
  __syncthreads();
  return m;
}

} // namespace detail

template <NormKind K, NormOut O, int kThreads>
__global__ void __launch_bounds__(kThreads) normKernel(NormArgs a) {
  extern __shared__ float row[];
  __shared__ float scratch[kThreads / 32];
  const int64_t r = blockIdx.x;
  const uint16_t *x = a.x + r * a.ldx;
  float local = 0.0f;
  for (int c = threadIdx.x; c < a.cols; c += kThreads) {
    float v = halfBitsToFloat(x[c]);
    if (a.residual) {
      v = v + halfBitsToFloat(a.residual[r * a.ldr + c]);
      // The sum is stored (and normalized) as fp16, like an unfused add.
      const uint16_t h = floatToHalfBits(v);
      v = halfBitsToFloat(h);
      if (a.sum)
        a.sum[r * a.ldSum + c] = h;
    }
    row[c] = v;
    local += K == NormKind::kLayerNorm ? v : v * v;
  }
  const float total = detail::blockSum<kThreads>(local, scratch);
  float mean = 0.0f, inv;
  if constexpr (K == NormKind::kLayerNorm) {
    mean = total / float(a.cols);
    float sq = 0.0f;
    for (int c = threadIdx.x; c < a.cols; c += kThreads) {
      const float d = row[c] - mean;
      sq += d * d;
    }
    const float var = detail::blockSum<kThreads>(sq, scratch) / float(a.cols);
    inv = rsqrtf(var + a.eps);
  } else {
    inv = rsqrtf(total / float(a.cols) + a.eps);
  }
  float amax = 0.0f;
  for (int c = threadIdx.x; c < a.cols; c += kThreads) {
    float v = (row[c] - mean) * inv * a.gamma[c];
    if (K == NormKind::kLayerNorm && a.beta)
      v += a.beta[c];
    if constexpr (O == NormOut::kFloat16) {
      static_cast<uint16_t *>(a.y)[r * a.ldy + c] = floatToHalfBits(v);
    } else {
      // Quantize what an unfused pipeline would: the fp16 output.
      v = halfBitsToFloat(floatToHalfBits(v));
      row[c] = v;
      amax = fmaxf(amax, fabsf(v));
    }
  }
  if constexpr (O == NormOut::kInt8PerToken) {
    const float s = perTokenScale(detail::blockMax<kThreads>(amax, scratch));
    if (threadIdx.x == 0)
      a.rowScale[r] = s;
    for (int c = threadIdx.x; c < a.cols; c += kThreads)
      static_cast<int8_t *>(a.y)[r * a.ldy + c] =
          int8_t(quantizeToInt(row[c], s, 0, -127, 127));
  }
}

/// LayerNorm / RMSNorm launcher (256 threads per row).
template <NormKind K, NormOut O = NormOut::kFloat16> struct RowNorm {
  static constexpr int kThreads = 256;
  static cudaError_t run(const NormArgs &a, cudaStream_t stream) {
    if (a.rows <= 0 || a.cols <= 0 || !a.x || !a.y || !a.gamma ||
        (O == NormOut::kInt8PerToken && !a.rowScale))
      return cudaErrorInvalidValue;
    const size_t smem = size_t(a.cols) * sizeof(float);
    if (smem > 48 * 1024)
      if (cudaError_t e = cudaFuncSetAttribute(
              normKernel<K, O, kThreads>,
              cudaFuncAttributeMaxDynamicSharedMemorySize, int(smem));
          e != cudaSuccess)
        return e;
    normKernel<K, O, kThreads><<<unsigned(a.rows), kThreads, smem, stream>>>(a);
    return cudaGetLastError();
  }
};

//===----------------------------------------------------------------------===//
// Softmax
//===----------------------------------------------------------------------===//

/// Operands of a softmax over the last dimension of [rows, cols].
struct SoftmaxArgs {
  int rows = 0;
  int cols = 0;
  const void *x = nullptr;
  int64_t ldx = 0;
  void *y = nullptr;
  int64_t ldy = 0;
  /// fp16: inputs are multiplied by |scale| first.
  float scale = 1.0f;
  /// int8: the 256-entry exp table of kiln::ref::makeSoftmaxTable (device).
  const int32_t *table = nullptr;
};

template <int kThreads>
__global__ void __launch_bounds__(kThreads) softmaxHalfKernel(SoftmaxArgs a) {
  extern __shared__ float row[];
  __shared__ float scratch[kThreads / 32];
  const int64_t r = blockIdx.x;
  const uint16_t *x = static_cast<const uint16_t *>(a.x) + r * a.ldx;
  float m = -INFINITY;
  for (int c = threadIdx.x; c < a.cols; c += kThreads) {
    const float v = halfBitsToFloat(x[c]) * a.scale;
    row[c] = v;
    m = fmaxf(m, v);
  }
  m = detail::blockMax<kThreads>(m, scratch);
  float s = 0.0f;
  for (int c = threadIdx.x; c < a.cols; c += kThreads) {
    const float e = expf(row[c] - m);
    row[c] = e;
    s += e;
  }
  const float inv = 1.0f / detail::blockSum<kThreads>(s, scratch);
  uint16_t *y = static_cast<uint16_t *>(a.y) + r * a.ldy;
  for (int c = threadIdx.x; c < a.cols; c += kThreads)
    y[c] = floatToHalfBits(row[c] * inv);
}

template <int kThreads>
__global__ void __launch_bounds__(kThreads) softmaxInt8Kernel(SoftmaxArgs a) {
  __shared__ int32_t table[256];
  __shared__ int32_t scratch[kThreads / 32];
  for (int i = threadIdx.x; i < 256; i += kThreads)
    table[i] = a.table[i];
  const int64_t r = blockIdx.x;
  const int8_t *x = static_cast<const int8_t *>(a.x) + r * a.ldx;
  int32_t m = -128;
  for (int c = threadIdx.x; c < a.cols; c += kThreads)
    m = max(m, int32_t(x[c]));
#pragma unroll
  for (int o = 16; o > 0; o >>= 1)
    m = max(m, __shfl_xor_sync(0xffffffffu, m, o));
  if ((threadIdx.x & 31) == 0)
    scratch[threadIdx.x >> 5] = m;
  __syncthreads();
  m = scratch[0];
#pragma unroll
  for (int w = 1; w < kThreads / 32; ++w)
    m = max(m, scratch[w]);
  __syncthreads();
  // Integer sum: exact, so the order does not matter.
  int32_t s = 0;
  for (int c = threadIdx.x; c < a.cols; c += kThreads)
    s += table[m - x[c]];
#pragma unroll
  for (int o = 16; o > 0; o >>= 1)
    s += __shfl_xor_sync(0xffffffffu, s, o);
  if ((threadIdx.x & 31) == 0)
    scratch[threadIdx.x >> 5] = s;
  __syncthreads();
  s = 0;
#pragma unroll
  for (int w = 0; w < kThreads / 32; ++w)
    s += scratch[w];
  int8_t *y = static_cast<int8_t *>(a.y) + r * a.ldy;
  for (int c = threadIdx.x; c < a.cols; c += kThreads)
    y[c] = int8SoftmaxValue(uint32_t(table[m - x[c]]), uint32_t(s));
}

/// Softmax launchers: T = uint16_t (fp16 bits) or int8_t.
template <typename T> struct Softmax {
  static constexpr int kThreads = 256;
  static cudaError_t run(const SoftmaxArgs &a, cudaStream_t stream) {
    if (a.rows <= 0 || a.cols <= 0 || !a.x || !a.y)
      return cudaErrorInvalidValue;
    if constexpr (std::is_same_v<T, int8_t>) {
      if (!a.table)
        return cudaErrorInvalidValue;
      softmaxInt8Kernel<kThreads><<<unsigned(a.rows), kThreads, 0, stream>>>(a);
    } else {
      const size_t smem = size_t(a.cols) * sizeof(float);
      if (smem > 48 * 1024)
        if (cudaError_t e = cudaFuncSetAttribute(
                softmaxHalfKernel<kThreads>,
                cudaFuncAttributeMaxDynamicSharedMemorySize, int(smem));
            e != cudaSuccess)
          return e;
      softmaxHalfKernel<kThreads>
          <<<unsigned(a.rows), kThreads, smem, stream>>>(a);
    }
    return cudaGetLastError();
  }
};

} // namespace kiln::cuda

#endif // KILN_RUNTIME_CUDA_INCLUDE_KILN_CUDA_NORM_CUH
