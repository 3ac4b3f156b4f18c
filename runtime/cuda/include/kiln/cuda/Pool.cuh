//===- Pool.cuh - Max, average and global average pooling (NHWC) *- CUDA -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// Pooling over NHWC activations, int8 (bit-exact with kiln::ref's
// maxPool2d / averagePool2d / globalAveragePool, i.e. TFLite) and fp16
// (float32 arithmetic, fp16 result). One thread per (output pixel, vector of
// kVecBytes channels); loads are 16-byte vectors coalesced along C.
//
// Windows follow kiln::ref: the window of output o starts at o * stride -
// padBefore and is clipped to the input; average pooling divides by the
// clipped count, or (countIncludePad) by the count clipped to the padded
// extent [-padBefore, size + padAfter), each padded position adding the zero
// point. The int8 average is (sum +- count / 2) / count with truncating
// division (half away from zero); results are clamped to [clampMin,
// clampMax] (fused ReLU / ReLU6).
//
//===----------------------------------------------------------------------===//

#ifndef KILN_RUNTIME_CUDA_INCLUDE_KILN_CUDA_POOL_CUH
#define KILN_RUNTIME_CUDA_INCLUDE_KILN_CUDA_POOL_CUH

#include "kiln/cuda/Conv.cuh"
#include "kiln/cuda/Numeric.h"

#include <cuda_runtime.h>

namespace kiln::cuda {

/// Operands of max / average pooling. T is int8_t or uint16_t (fp16 bits).
struct PoolArgs {
  int batch = 1, H = 1, W = 1, C = 1, OH = 1, OW = 1;
  int KH = 1, KW = 1, strideH = 1, strideW = 1;
  int padTop = 0, padLeft = 0, padBottom = 0, padRight = 0;
  bool countIncludePad = false;
  /// int8: zero point (padded positions of countIncludePad) and clamp.
  int32_t zeroPoint = 0;
  int32_t clampMin = -128;
  int32_t clampMax = 127;
  const void *input = nullptr;
  void *output = nullptr;
};

enum class PoolKind { kMax, kAverage };

namespace detail {

/// Clipped window [begin, end) and the count over the padded extent.
struct PoolWindow {
  int begin, end, paddedCount;
};

KILN_HD PoolWindow poolWindow(int o, int stride, int padBefore, int padAfter,
                              int kernel, int size) {
  const int start = o * stride - padBefore;
  const int stop = start + kernel;
  PoolWindow w;
  w.begin = start > 0 ? start : 0;
  w.end = stop < size ? stop : size;
  const int hiP = stop < size + padAfter ? stop : size + padAfter;
  const int loP = start > -padBefore ? start : -padBefore;
  w.paddedCount = hiP - loP;
  return w;
}

/// Stores kVec values (int32 for int8 / float for fp16) as T.
template <typename T, int kBytes, typename Acc>
KILN_DEVICE void storeVec(void *p, const Acc (&v)[kBytes / sizeof(T)]) {
  uint32_t w[kBytes / 4];
#pragma unroll
  for (int i = 0; i < kBytes / 4; ++i)
    w[i] = 0;
#pragma unroll
  for (int i = 0; i < int(kBytes / sizeof(T)); ++i) {
    if constexpr (std::is_same_v<T, int8_t>)
      w[i / 4] |= uint32_t(uint8_t(int8_t(v[i]))) << (8 * (i % 4));
    else
      w[i / 2] |= uint32_t(floatToHalfBits(v[i])) << (16 * (i % 2));
  }
  storeWords<kBytes>(p, w);
}

} // namespace detail

template <typename T, int kVecBytes, PoolKind K>
__global__ void __launch_bounds__(256) pool2dKernel(PoolArgs a) {
  constexpr bool kInt = std::is_same_v<T, int8_t>;
  using Acc = std::conditional_t<kInt, int32_t, float>;
  constexpr int kVec = kVecBytes / int(sizeof(T));
  const int groups = a.C / kVec;
  const int64_t total = int64_t(a.batch) * a.OH * a.OW * groups;
  const int64_t idx = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (idx >= total)
    return;
  const int c0 = int(idx % groups) * kVec;
  const int64_t m = idx / groups;
  const int ox = int(m % a.OW);
  const int oy = int((m / a.OW) % a.OH);
  const int b = int(m / (int64_t(a.OW) * a.OH));
  const detail::PoolWindow wy =
      detail::poolWindow(oy, a.strideH, a.padTop, a.padBottom, a.KH, a.H);
  const detail::PoolWindow wx =
      detail::poolWindow(ox, a.strideW, a.padLeft, a.padRight, a.KW, a.W);
  const T *x = static_cast<const T *>(a.input);

  Acc acc[kVec];
#pragma unroll
  for (int i = 0; i < kVec; ++i)
    acc[i] = K == PoolKind::kMax ? (kInt ? Acc(-128) : Acc(-INFINITY)) : Acc(0);
  for (int iy = wy.begin; iy < wy.end; ++iy)
    for (int ix = wx.begin; ix < wx.end; ++ix) {
      Acc v[kVec];
      detail::loadVec<T, kVecBytes>(
          x + ((int64_t(b) * a.H + iy) * a.W + ix) * a.C + c0, v);
#pragma unroll
      for (int i = 0; i < kVec; ++i) {
        if constexpr (K == PoolKind::kMax)
          acc[i] = v[i] > acc[i] ? v[i] : acc[i];
        else if constexpr (kInt)
          acc[i] += v[i];
        else
          acc[i] = faddRn(acc[i], v[i]);
      }
    }
  if constexpr (K == PoolKind::kAverage) {
    const int valid = (wy.end - wy.begin) * (wx.end - wx.begin);
    const int count =
        a.countIncludePad ? wy.paddedCount * wx.paddedCount : valid;
#pragma unroll
    for (int i = 0; i < kVec; ++i) {
      if constexpr (kInt) {
        int32_t sum = acc[i] + (count - valid) * a.zeroPoint *
                                   (a.countIncludePad ? 1 : 0);
        acc[i] = sum > 0 ? (sum + count / 2) / count : (sum - count / 2) / count;
      } else {
        acc[i] = fdivRn(acc[i], float(count));
      }
    }
  }
  if constexpr (kInt) {
#pragma unroll
    for (int i = 0; i < kVec; ++i)
      acc[i] = clampInt(acc[i], a.clampMin, a.clampMax);
  }
  detail::storeVec<T, kVecBytes>(
      static_cast<T *>(a.output) + m * a.C + c0, acc);
}

/// Max or average pooling launcher (T int8_t or uint16_t fp16 bits); needs
/// C * sizeof(T) % kVecBytes == 0 and aligned buffers.
template <typename T, PoolKind K, int kVecBytes = 16> struct Pool2d {
  static cudaError_t run(const PoolArgs &a, cudaStream_t stream) {
    const int vec = kVecBytes / int(sizeof(T));
    if (a.C % vec != 0 || !a.input || !a.output ||
        reinterpret_cast<uintptr_t>(a.input) % kVecBytes != 0 ||
        reinterpret_cast<uintptr_t>(a.output) % kVecBytes != 0)
      return cudaErrorInvalidValue;
    const int64_t total = int64_t(a.batch) * a.OH * a.OW * (a.C / vec);
    pool2dKernel<T, kVecBytes, K>
        <<<unsigned(ceilDiv<int64_t>(total, 256)), 256, 0, stream>>>(a);
    return cudaGetLastError();
  }
};

/// Operands of global average pooling [batch, HW, C] -> [batch, C].
struct GlobalPoolArgs {
  int batch = 1, HW = 1, C = 1;
  /// int8 (kiln::ref::globalAveragePool): out = clamp(outputZeroPoint +
  /// MBQM(sum - HW * inputZeroPoint, multiplier, shift), clamp range).
  int32_t inputZeroPoint = 0;
  int32_t outputZeroPoint = 0;
  int32_t multiplier = 0;
  int32_t shift = 0;
  int32_t clampMin = -128;
  int32_t clampMax = 127;
  const void *input = nullptr;
  void *output = nullptr;
};

/// One block per (image, 32 x kVec channels): each warp sums a strided
/// subset of the HW positions, then the block adds the warps' sums in a
/// fixed order.
template <typename T, int kVecBytes>
__global__ void __launch_bounds__(256) globalPoolKernel(GlobalPoolArgs a) {
  constexpr bool kInt = std::is_same_v<T, int8_t>;
  using Acc = std::conditional_t<kInt, int32_t, float>;
  constexpr int kVec = kVecBytes / int(sizeof(T));
  constexpr int kWarps = 8;
  __shared__ Acc partial[kWarps][32][kVec];
  const int lane = threadIdx.x & 31;
  const int warp = threadIdx.x >> 5;
  const int b = blockIdx.y;
  const int c0 = (blockIdx.x * 32 + lane) * kVec;
  const bool active = c0 < a.C;
  const T *x = static_cast<const T *>(a.input) + int64_t(b) * a.HW * a.C;
  Acc acc[kVec];
#pragma unroll
  for (int i = 0; i < kVec; ++i)
    acc[i] = Acc(0);
  if (active)
    for (int p = warp; p < a.HW; p += kWarps) {
      Acc v[kVec];
      detail::loadVec<T, kVecBytes>(x + int64_t(p) * a.C + c0, v);
#pragma unroll
      for (int i = 0; i < kVec; ++i)
        acc[i] += v[i];
    }
#pragma unroll
  for (int i = 0; i < kVec; ++i)
    partial[warp][lane][i] = acc[i];
  __syncthreads();
  if (warp != 0 || !active)
    return;
#pragma unroll
  for (int i = 0; i < kVec; ++i) {
    Acc s = partial[0][lane][i];
    for (int w = 1; w < kWarps; ++w)
      s += partial[w][lane][i];
    if constexpr (kInt) {
      const int32_t v = a.outputZeroPoint +
                        multiplyByQuantizedMultiplier(
                            s - a.HW * a.inputZeroPoint, a.multiplier, a.shift);
      acc[i] = clampInt(v, a.clampMin, a.clampMax);
    } else {
      acc[i] = s / float(a.HW);
    }
  }
  detail::storeVec<T, kVecBytes>(
      static_cast<T *>(a.output) + int64_t(b) * a.C + c0, acc);
}

/// Global average pooling launcher.
template <typename T, int kVecBytes = 16> struct GlobalAvgPool {
  static cudaError_t run(const GlobalPoolArgs &a, cudaStream_t stream) {
    const int vec = kVecBytes / int(sizeof(T));
    if (a.C % vec != 0 || !a.input || !a.output ||
        reinterpret_cast<uintptr_t>(a.input) % kVecBytes != 0 ||
        reinterpret_cast<uintptr_t>(a.output) % kVecBytes != 0)
      return cudaErrorInvalidValue;
    const dim3 grid(unsigned(ceilDiv(a.C / vec, 32)), unsigned(a.batch));
    globalPoolKernel<T, kVecBytes><<<grid, 256, 0, stream>>>(a);
    return cudaGetLastError();
  }
};

} // namespace kiln::cuda

#endif // KILN_RUNTIME_CUDA_INCLUDE_KILN_CUDA_POOL_CUH
