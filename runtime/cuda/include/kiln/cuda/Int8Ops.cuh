//===- Int8Ops.cuh - Portable int8 kernels for generated programs -*- CUDA -*-//
// SPDX-License-Identifier: Apache-2.0
//
// The int8 operators of Kiln's integer IR (kiln.qconv2d, qfully_connected,
// pools, qadd/qmul, clamp, requantize, qsoftmax, qconcat, pad, transpose,
// quantize/dequantize) as simple CUDA kernels with no shape or alignment
// requirement: one thread per output element, grid-stride loops, the
// arithmetic of kiln::ref (compiler/reference) through Numeric.h, so every
// result is bit-exact with the reference evaluator.
//
// The code generator uses them where the tensor-core and vectorized kernels
// (Conv.cuh, GemmSm80.cuh, Pool.cuh, Elementwise.cuh) do not apply: channel
// counts that are not a multiple of 4, unaligned slices, tiny layers, and
// ops that have no specialised kernel. Every launcher returns the launch's
// cudaError_t and never synchronizes or allocates, so a whole program can be
// captured in a CUDA graph.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_RUNTIME_CUDA_INCLUDE_KILN_CUDA_INT8OPS_CUH
#define KILN_RUNTIME_CUDA_INCLUDE_KILN_CUDA_INT8OPS_CUH

#include "kiln/cuda/Numeric.h"

#include <cuda_runtime.h>

#include <cstdint>

namespace kiln::cuda::int8 {

/// The largest rank of broadcast, pad and transpose iteration spaces.
inline constexpr int kMaxRank = 6;

/// A launch of |count| threads' worth of work, grid-stride.
inline unsigned gridFor(int64_t count, int threads = 256) {
  const int64_t blocks = (count + threads - 1) / threads;
  return unsigned(blocks < 65535 * 16 ? (blocks > 0 ? blocks : 1)
                                      : 65535 * 16);
}

#define KILN_GRID_STRIDE(i, count)                                             \
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;             \
       i < (count); i += int64_t(gridDim.x) * blockDim.x)

/// Returns clamp(MBQM(acc, multiplier, shift) + zp, lo, hi) as int8 (the
/// output stage of every TFLite kernel).
KILN_HD int8_t requantOut(int32_t acc, int32_t multiplier, int32_t shift,
                          int32_t zp, int32_t lo, int32_t hi) {
  const int64_t v =
      int64_t(multiplyByQuantizedMultiplier(acc, multiplier, shift)) + zp;
  return int8_t(v < lo ? lo : (v > hi ? hi : v));
}

//===----------------------------------------------------------------------===//
// Program boundary: float <-> int8
//===----------------------------------------------------------------------===//

__global__ void quantizeKernel(int64_t count, const float *x, float scale,
                               int32_t zp, int8_t *q) {
  KILN_GRID_STRIDE(i, count)
  q[i] = int8_t(quantizeToInt(x[i], scale, zp, -128, 127));
}

/// q = clamp(round(x / scale) + zp) (kiln::ref::quantize).
inline cudaError_t quantize(int64_t count, const float *x, float scale,
                            int32_t zp, int8_t *q, cudaStream_t stream) {
  quantizeKernel<<<gridFor(count), 256, 0, stream>>>(count, x, scale, zp, q);
  return cudaGetLastError();
}

__global__ void dequantizeKernel(int64_t count, const int8_t *q, float scale,
                                 int32_t zp, float *x) {
  KILN_GRID_STRIDE(i, count)
  x[i] = fmulRn(scale, intToFloat(int32_t(q[i]) - zp));
}

/// x = scale * (q - zp) (kiln::ref::dequantize).
inline cudaError_t dequantize(int64_t count, const int8_t *q, float scale,
                              int32_t zp, float *x, cudaStream_t stream) {
  dequantizeKernel<<<gridFor(count), 256, 0, stream>>>(count, q, scale, zp, x);
  return cudaGetLastError();
}

//===----------------------------------------------------------------------===//
// Convolution and fully connected
//===----------------------------------------------------------------------===//

/// An NHWC int8 convolution with OHWI filters [OC][KH][KW][C / groups].
struct ConvArgs {
  int batch = 1, H = 1, W = 1, C = 1, OH = 1, OW = 1, OC = 1;
  int KH = 1, KW = 1, strideH = 1, strideW = 1, dilationH = 1, dilationW = 1;
  int padTop = 0, padLeft = 0, groups = 1;
  int32_t inputZeroPoint = 0, outputZeroPoint = 0;
  int32_t clampMin = -128, clampMax = 127;
  /// [OC] each, or [1] when |perChannel| is false.
  const int32_t *multiplier = nullptr;
  const int32_t *shift = nullptr;
  bool perChannel = true;
  /// [OC] or null.
  const int32_t *bias = nullptr;
  const int8_t *input = nullptr;
  const int8_t *filter = nullptr;
  int8_t *output = nullptr;
};

__global__ void __launch_bounds__(256) convKernel(ConvArgs a) {
  const int64_t total = int64_t(a.batch) * a.OH * a.OW * a.OC;
  const int cpg = a.C / a.groups;
  const int opg = a.OC / a.groups;
  KILN_GRID_STRIDE(i, total) {
    const int oc = int(i % a.OC);
    const int64_t m = i / a.OC;
    const int ow = int(m % a.OW);
    const int oh = int((m / a.OW) % a.OH);
    const int b = int(m / (int64_t(a.OW) * a.OH));
    const int c0 = (oc / opg) * cpg;
    int32_t acc = a.bias ? a.bias[oc] : 0;
    for (int kh = 0; kh < a.KH; ++kh) {
      const int ih = oh * a.strideH - a.padTop + kh * a.dilationH;
      if (ih < 0 || ih >= a.H)
        continue;
      for (int kw = 0; kw < a.KW; ++kw) {
        const int iw = ow * a.strideW - a.padLeft + kw * a.dilationW;
        if (iw < 0 || iw >= a.W)
          continue;
        const int8_t *x = a.input + ((int64_t(b) * a.H + ih) * a.W + iw) * a.C +
                          c0;
        const int8_t *w =
            a.filter + ((int64_t(oc) * a.KH + kh) * a.KW + kw) * cpg;
        for (int c = 0; c < cpg; ++c)
          acc += (int32_t(x[c]) - a.inputZeroPoint) * int32_t(w[c]);
      }
    }
    const int q = a.perChannel ? oc : 0;
    a.output[i] = requantOut(acc, a.multiplier[q], a.shift[q],
                             a.outputZeroPoint, a.clampMin, a.clampMax);
  }
}

/// Any grouped / strided / dilated NHWC int8 convolution.
inline cudaError_t conv2d(const ConvArgs &a, cudaStream_t stream) {
  if (a.groups <= 0 || a.C % a.groups != 0 || a.OC % a.groups != 0 ||
      !a.input || !a.filter || !a.output || !a.multiplier || !a.shift)
    return cudaErrorInvalidValue;
  convKernel<<<gridFor(int64_t(a.batch) * a.OH * a.OW * a.OC), 256, 0,
               stream>>>(a);
  return cudaGetLastError();
}

/// y[M, N] = requant(x[M, K] * w[N, K]^T + bias), x zero point subtracted.
struct FullyConnectedArgs {
  int M = 1, N = 1, K = 1;
  int32_t inputZeroPoint = 0, outputZeroPoint = 0;
  int32_t clampMin = -128, clampMax = 127;
  const int32_t *multiplier = nullptr;
  const int32_t *shift = nullptr;
  bool perChannel = false;
  const int32_t *bias = nullptr;
  const int8_t *input = nullptr;
  const int8_t *weight = nullptr;
  int8_t *output = nullptr;
};

/// One warp per output: lanes stride over K, then a fixed-order shuffle sum
/// (integer addition is associative, so any order is exact).
__global__ void __launch_bounds__(256) fullyConnectedKernel(
    FullyConnectedArgs a) {
  const int lane = threadIdx.x & 31;
  const int64_t warps = int64_t(gridDim.x) * (blockDim.x / 32);
  for (int64_t o = (int64_t(blockIdx.x) * blockDim.x + threadIdx.x) / 32;
       o < int64_t(a.M) * a.N; o += warps) {
    const int n = int(o % a.N);
    const int64_t m = o / a.N;
    const int8_t *x = a.input + m * a.K;
    const int8_t *w = a.weight + int64_t(n) * a.K;
    int32_t acc = 0;
    for (int k = lane; k < a.K; k += 32)
      acc += (int32_t(x[k]) - a.inputZeroPoint) * int32_t(w[k]);
#pragma unroll
    for (int off = 16; off > 0; off >>= 1)
      acc += __shfl_xor_sync(0xffffffffu, acc, off);
    if (lane == 0) {
      if (a.bias)
        acc += a.bias[n];
      const int q = a.perChannel ? n : 0;
      a.output[o] = requantOut(acc, a.multiplier[q], a.shift[q],
                               a.outputZeroPoint, a.clampMin, a.clampMax);
    }
  }
}

inline cudaError_t fullyConnected(const FullyConnectedArgs &a,
                                  cudaStream_t stream) {
  if (!a.input || !a.weight || !a.output || !a.multiplier || !a.shift)
    return cudaErrorInvalidValue;
  fullyConnectedKernel<<<gridFor(int64_t(a.M) * a.N * 32), 256, 0, stream>>>(
      a);
  return cudaGetLastError();
}

//===----------------------------------------------------------------------===//
// Pooling
//===----------------------------------------------------------------------===//

/// Max or average pooling, NHWC (kiln::ref::maxPool2d / averagePool2d).
struct PoolArgs {
  int batch = 1, H = 1, W = 1, C = 1, OH = 1, OW = 1;
  int KH = 1, KW = 1, strideH = 1, strideW = 1;
  int padTop = 0, padLeft = 0, padBottom = 0, padRight = 0;
  bool isMax = false;
  bool countIncludePad = false;
  int32_t zeroPoint = 0;
  int32_t clampMin = -128, clampMax = 127;
  const int8_t *input = nullptr;
  int8_t *output = nullptr;
};

KILN_HD void poolSpan(int o, int stride, int padBefore, int padAfter,
                      int kernel, int size, int &begin, int &end,
                      int &padded) {
  const int start = o * stride - padBefore;
  const int stop = start + kernel;
  begin = start > 0 ? start : 0;
  end = stop < size ? stop : size;
  padded = (stop < size + padAfter ? stop : size + padAfter) -
           (start > -padBefore ? start : -padBefore);
}

__global__ void __launch_bounds__(256) poolKernel(PoolArgs a) {
  const int64_t total = int64_t(a.batch) * a.OH * a.OW * a.C;
  KILN_GRID_STRIDE(i, total) {
    const int c = int(i % a.C);
    const int64_t m = i / a.C;
    const int ox = int(m % a.OW);
    const int oy = int((m / a.OW) % a.OH);
    const int b = int(m / (int64_t(a.OW) * a.OH));
    int y0, y1, py, x0, x1, px;
    poolSpan(oy, a.strideH, a.padTop, a.padBottom, a.KH, a.H, y0, y1, py);
    poolSpan(ox, a.strideW, a.padLeft, a.padRight, a.KW, a.W, x0, x1, px);
    int32_t acc = a.isMax ? -128 : 0;
    for (int iy = y0; iy < y1; ++iy)
      for (int ix = x0; ix < x1; ++ix) {
        const int32_t v =
            a.input[((int64_t(b) * a.H + iy) * a.W + ix) * a.C + c];
        acc = a.isMax ? (v > acc ? v : acc) : acc + v;
      }
    if (!a.isMax) {
      const int32_t valid = (y1 - y0) * (x1 - x0);
      int32_t count = valid;
      if (a.countIncludePad) {
        count = py * px;
        acc += (count - valid) * a.zeroPoint;
      }
      acc = acc > 0 ? (acc + count / 2) / count : (acc - count / 2) / count;
    }
    a.output[i] = int8_t(clampInt(acc, a.clampMin, a.clampMax));
  }
}

inline cudaError_t pool2d(const PoolArgs &a, cudaStream_t stream) {
  if (!a.input || !a.output)
    return cudaErrorInvalidValue;
  poolKernel<<<gridFor(int64_t(a.batch) * a.OH * a.OW * a.C), 256, 0,
               stream>>>(a);
  return cudaGetLastError();
}

/// Global average pooling [batch, HW, C] -> [batch, C]
/// (kiln::ref::globalAveragePool).
struct GlobalAvgPoolArgs {
  int batch = 1, HW = 1, C = 1;
  int32_t inputZeroPoint = 0, outputZeroPoint = 0;
  int32_t multiplier = 0, shift = 0;
  int32_t clampMin = -128, clampMax = 127;
  const int8_t *input = nullptr;
  int8_t *output = nullptr;
};

__global__ void __launch_bounds__(256) globalAvgPoolKernel(
    GlobalAvgPoolArgs a) {
  KILN_GRID_STRIDE(i, int64_t(a.batch) * a.C) {
    const int c = int(i % a.C);
    const int64_t b = i / a.C;
    const int8_t *x = a.input + b * a.HW * a.C + c;
    int32_t sum = 0;
    for (int p = 0; p < a.HW; ++p)
      sum += x[int64_t(p) * a.C];
    const int32_t v =
        a.outputZeroPoint +
        multiplyByQuantizedMultiplier(sum - a.HW * a.inputZeroPoint,
                                      a.multiplier, a.shift);
    a.output[i] = int8_t(clampInt(v, a.clampMin, a.clampMax));
  }
}

inline cudaError_t globalAvgPool(const GlobalAvgPoolArgs &a,
                                 cudaStream_t stream) {
  if (!a.input || !a.output)
    return cudaErrorInvalidValue;
  globalAvgPoolKernel<<<gridFor(int64_t(a.batch) * a.C), 256, 0, stream>>>(a);
  return cudaGetLastError();
}

//===----------------------------------------------------------------------===//
// Elementwise
//===----------------------------------------------------------------------===//

/// An iteration space over the output with per-input element strides (0
/// along broadcast dimensions).
struct Broadcast {
  int rank = 1;
  int64_t dims[kMaxRank] = {1, 1, 1, 1, 1, 1};
  int64_t strides1[kMaxRank] = {};
  int64_t strides2[kMaxRank] = {};
};

/// TFLite int8 Add and Mul parameters (kiln.qadd / kiln.qmul).
struct BinaryArgs {
  bool isMul = false;
  int32_t zeroPoint1 = 0, zeroPoint2 = 0, outputZeroPoint = 0;
  int32_t leftShift = 0;
  int32_t multiplier1 = 0, shift1 = 0, multiplier2 = 0, shift2 = 0;
  int32_t outputMultiplier = 0, outputShift = 0;
  int32_t clampMin = -128, clampMax = 127;
};

KILN_HD int8_t binaryOne(const BinaryArgs &p, int32_t a, int32_t b) {
  if (p.isMul)
    return requantOut((a - p.zeroPoint1) * (b - p.zeroPoint2),
                      p.outputMultiplier, p.outputShift, p.outputZeroPoint,
                      p.clampMin, p.clampMax);
  const int32_t s1 = (a - p.zeroPoint1) * (1 << p.leftShift);
  const int32_t s2 = (b - p.zeroPoint2) * (1 << p.leftShift);
  const int32_t sum = multiplyByQuantizedMultiplier(s1, p.multiplier1,
                                                    p.shift1) +
                      multiplyByQuantizedMultiplier(s2, p.multiplier2,
                                                    p.shift2);
  return requantOut(sum, p.outputMultiplier, p.outputShift, p.outputZeroPoint,
                    p.clampMin, p.clampMax);
}

__global__ void __launch_bounds__(256)
    binaryKernel(BinaryArgs p, Broadcast s, const int8_t *x1,
                 const int8_t *x2, int8_t *y, int64_t count) {
  KILN_GRID_STRIDE(i, count) {
    int64_t rest = i, o1 = 0, o2 = 0;
    for (int d = s.rank - 1; d >= 0; --d) {
      const int64_t idx = rest % s.dims[d];
      rest /= s.dims[d];
      o1 += idx * s.strides1[d];
      o2 += idx * s.strides2[d];
    }
    y[i] = binaryOne(p, x1[o1], x2[o2]);
  }
}

/// y = x1 (+|*) x2 over |s| (same shape: rank 1, strides 1).
inline cudaError_t binary(const BinaryArgs &p, const Broadcast &s,
                          const int8_t *x1, const int8_t *x2, int8_t *y,
                          cudaStream_t stream) {
  if (s.rank < 1 || s.rank > kMaxRank || !x1 || !x2 || !y)
    return cudaErrorInvalidValue;
  int64_t count = 1;
  for (int d = 0; d < s.rank; ++d)
    count *= s.dims[d];
  binaryKernel<<<gridFor(count), 256, 0, stream>>>(p, s, x1, x2, y, count);
  return cudaGetLastError();
}

/// Requantization to another scale / zero point (kiln.requantize), or a
/// clamp (multiplier 0 marks "no rescale").
struct RescaleArgs {
  int64_t count = 0;
  int32_t inputZeroPoint = 0, outputZeroPoint = 0;
  int32_t multiplier = 0, shift = 0;
  bool clampOnly = false;
  int32_t clampMin = -128, clampMax = 127;
  const int8_t *input = nullptr;
  int8_t *output = nullptr;
};

__global__ void __launch_bounds__(256) rescaleKernel(RescaleArgs a) {
  KILN_GRID_STRIDE(i, a.count) {
    const int32_t v = a.input[i];
    a.output[i] =
        a.clampOnly
            ? int8_t(clampInt(v, a.clampMin, a.clampMax))
            : requantOut(v - a.inputZeroPoint, a.multiplier, a.shift,
                         a.outputZeroPoint, a.clampMin, a.clampMax);
  }
}

inline cudaError_t rescale(const RescaleArgs &a, cudaStream_t stream) {
  if (!a.input || !a.output)
    return cudaErrorInvalidValue;
  rescaleKernel<<<gridFor(a.count), 256, 0, stream>>>(a);
  return cudaGetLastError();
}

/// Kiln's integer softmax (kiln::ref::softmax): one block per row; the
/// table is device memory of 256 int32.
__global__ void __launch_bounds__(256)
    softmaxKernel(int64_t rows, int rowLength, const int32_t *table,
                  const int8_t *x, int8_t *y) {
  __shared__ int32_t reduce[256];
  for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
    const int8_t *xr = x + r * rowLength;
    int32_t best = -128;
    for (int j = threadIdx.x; j < rowLength; j += blockDim.x)
      best = xr[j] > best ? xr[j] : best;
    reduce[threadIdx.x] = best;
    __syncthreads();
    for (int w = blockDim.x / 2; w > 0; w >>= 1) {
      if (int(threadIdx.x) < w && reduce[threadIdx.x + w] > reduce[threadIdx.x])
        reduce[threadIdx.x] = reduce[threadIdx.x + w];
      __syncthreads();
    }
    const int32_t maxValue = reduce[0];
    __syncthreads();
    uint32_t sum = 0;
    for (int j = threadIdx.x; j < rowLength; j += blockDim.x)
      sum += uint32_t(table[maxValue - xr[j]]);
    reduce[threadIdx.x] = int32_t(sum);
    __syncthreads();
    for (int w = blockDim.x / 2; w > 0; w >>= 1) {
      if (int(threadIdx.x) < w)
        reduce[threadIdx.x] = int32_t(uint32_t(reduce[threadIdx.x]) +
                                      uint32_t(reduce[threadIdx.x + w]));
      __syncthreads();
    }
    const uint32_t total = uint32_t(reduce[0]);
    const uint32_t half = total / 2u;
    // Every thread has read its inputs (the two reductions above), so the
    // row may be overwritten in place.
    for (int j = threadIdx.x; j < rowLength; j += blockDim.x) {
      const uint32_t e = uint32_t(table[maxValue - xr[j]]);
      const int32_t q = int32_t((e * 256u + half) / total) - 128;
      y[r * rowLength + j] = int8_t(q > 127 ? 127 : q);
    }
    __syncthreads();
  }
}

inline cudaError_t softmax(int64_t rows, int rowLength, const int32_t *table,
                           const int8_t *x, int8_t *y, cudaStream_t stream) {
  if (rows <= 0 || rowLength <= 0 || !table || !x || !y)
    return cudaErrorInvalidValue;
  softmaxKernel<<<unsigned(rows < 65535 ? rows : 65535), 256, 0, stream>>>(
      rows, rowLength, table, x, y);
  return cudaGetLastError();
}

//===----------------------------------------------------------------------===//
// Data movement
//===----------------------------------------------------------------------===//

/// One input of a concatenation: |block| = its extent along the axis times
/// the inner size; requantized to the output with (multiplier, shift).
struct ConcatInput {
  const int8_t *data = nullptr;
  int64_t block = 0;
  int32_t zeroPoint = 0;
  int32_t multiplier = 1 << 30;
  int32_t shift = 1;
};

/// Copies (requantizing) one input into its slices of the output:
/// output[o * outBlock + offset + j] = in[o * block + j].
__global__ void __launch_bounds__(256)
    concatKernel(ConcatInput in, int64_t outer, int64_t outBlock,
                 int64_t offset, int32_t outputZeroPoint, int8_t *y) {
  KILN_GRID_STRIDE(i, outer * in.block) {
    const int64_t o = i / in.block;
    const int64_t j = i % in.block;
    y[o * outBlock + offset + j] =
        requantOut(int32_t(in.data[i]) - in.zeroPoint, in.multiplier, in.shift,
                   outputZeroPoint, -128, 127);
  }
}

inline cudaError_t concatInput(const ConcatInput &in, int64_t outer,
                               int64_t outBlock, int64_t offset,
                               int32_t outputZeroPoint, int8_t *y,
                               cudaStream_t stream) {
  if (in.block == 0 || outer == 0)
    return cudaSuccess;
  if (!in.data || !y)
    return cudaErrorInvalidValue;
  concatKernel<<<gridFor(outer * in.block), 256, 0, stream>>>(
      in, outer, outBlock, offset, outputZeroPoint, y);
  return cudaGetLastError();
}

/// Constant padding (value = the zero point) of a rank <= 6 tensor.
struct PadArgs {
  int rank = 1;
  int64_t dims[kMaxRank] = {1, 1, 1, 1, 1, 1};
  int64_t before[kMaxRank] = {};
  int64_t after[kMaxRank] = {};
  int8_t value = 0;
  const int8_t *input = nullptr;
  int8_t *output = nullptr;
};

__global__ void __launch_bounds__(256) padKernel(PadArgs a, int64_t count) {
  KILN_GRID_STRIDE(i, count) {
    int64_t rest = i, source = 0, stride = 1;
    bool inside = true;
    for (int d = a.rank - 1; d >= 0; --d) {
      const int64_t outDim = a.before[d] + a.dims[d] + a.after[d];
      const int64_t idx = rest % outDim - a.before[d];
      rest /= outDim;
      inside = inside && idx >= 0 && idx < a.dims[d];
      source += idx * stride;
      stride *= a.dims[d];
    }
    a.output[i] = inside ? a.input[source] : a.value;
  }
}

inline cudaError_t pad(const PadArgs &a, cudaStream_t stream) {
  if (a.rank < 1 || a.rank > kMaxRank || !a.input || !a.output)
    return cudaErrorInvalidValue;
  int64_t count = 1;
  for (int d = 0; d < a.rank; ++d)
    count *= a.before[d] + a.dims[d] + a.after[d];
  padKernel<<<gridFor(count), 256, 0, stream>>>(a, count);
  return cudaGetLastError();
}

/// Transpose of a rank <= 6 tensor of |elemBytes| 1, 2 or 4:
/// output dims[d] = input dims[perm[d]].
struct TransposeArgs {
  int rank = 1;
  int elemBytes = 1;
  int64_t dims[kMaxRank] = {1, 1, 1, 1, 1, 1};
  int perm[kMaxRank] = {0, 1, 2, 3, 4, 5};
  const void *input = nullptr;
  void *output = nullptr;
};

template <typename T>
__global__ void __launch_bounds__(256) transposeKernel(TransposeArgs a,
                                                       int64_t count) {
  int64_t inStride[kMaxRank];
  int64_t s = 1;
  for (int d = a.rank - 1; d >= 0; --d) {
    inStride[d] = s;
    s *= a.dims[d];
  }
  const T *x = static_cast<const T *>(a.input);
  T *y = static_cast<T *>(a.output);
  KILN_GRID_STRIDE(i, count) {
    int64_t rest = i, source = 0;
    for (int d = a.rank - 1; d >= 0; --d) {
      const int64_t outDim = a.dims[a.perm[d]];
      source += (rest % outDim) * inStride[a.perm[d]];
      rest /= outDim;
    }
    y[i] = x[source];
  }
}

inline cudaError_t transpose(const TransposeArgs &a, cudaStream_t stream) {
  if (a.rank < 1 || a.rank > kMaxRank || !a.input || !a.output)
    return cudaErrorInvalidValue;
  int64_t count = 1;
  for (int d = 0; d < a.rank; ++d)
    count *= a.dims[d];
  const unsigned grid = gridFor(count);
  if (a.elemBytes == 1)
    transposeKernel<int8_t><<<grid, 256, 0, stream>>>(a, count);
  else if (a.elemBytes == 2)
    transposeKernel<uint16_t><<<grid, 256, 0, stream>>>(a, count);
  else if (a.elemBytes == 4)
    transposeKernel<uint32_t><<<grid, 256, 0, stream>>>(a, count);
  else
    return cudaErrorInvalidValue;
  return cudaGetLastError();
}

#undef KILN_GRID_STRIDE

} // namespace kiln::cuda::int8

#endif // KILN_RUNTIME_CUDA_INCLUDE_KILN_CUDA_INT8OPS_CUH
