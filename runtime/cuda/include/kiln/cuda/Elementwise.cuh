//===- Elementwise.cuh - Fused elementwise chains and quantizers *- CUDA -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// Memory-bound kernels, each one pass over its tensors with 16-byte vector
// accesses where the sizes allow:
//
// - elementwiseChain: y = Out(op_n(... op_1(In(x)))) for a compile-time
//   chain of float ops (Chain<Ops...>: per-channel scale/shift (folded
//   BatchNorm), bias, scalar ops, activation, add/multiply another fp16
//   tensor, e.g. a residual or a SwiGLU gate), reading fp16/fp32 or
//   dequantized int8 and writing fp16/fp32 or quantized int8. The code
//   generator fuses a run of elementwise ONNX ops into one chain type.
// - int8Add: TFLite's int8 Add (same shapes), bit-exact with kiln::ref::add.
// - quantizePerTensor / dequantizePerTensor (kiln::ref::quantize semantics).
// - quantizePerToken: dynamic symmetric int8 per row (kiln::quant's
//   quantizeInt8PerRow: scale = max|x| / 127, 1 for a zero row), the
//   activation side of W8A8 / W4A8 GEMMs.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_RUNTIME_CUDA_INCLUDE_KILN_CUDA_ELEMENTWISE_CUH
#define KILN_RUNTIME_CUDA_INCLUDE_KILN_CUDA_ELEMENTWISE_CUH

#include "kiln/cuda/Config.h"
#include "kiln/cuda/ElementOps.h"
#include "kiln/cuda/Numeric.h"

#include <cuda_runtime.h>

#include <cstdint>

namespace kiln::cuda {

/// Eight elements per thread; the vector path needs |count| % 8 == 0 and
/// 16-byte aligned buffers (checked by the launcher), else scalar.
template <ElemKind In, ElemKind Out, class ChainT, bool kVector>
__global__ void __launch_bounds__(256)
    elementwiseChainKernel(ElementwiseArgs a, ChainT chain) {
  using OutT = typename ElemStorage<Out>::Type;
  const int64_t t = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if constexpr (kVector) {
    const int64_t i0 = t * 8;
    if (i0 >= a.count)
      return;
    OutT y[8];
#pragma unroll
    for (int j = 0; j < 8; ++j)
      y[j] = chainElement<In, Out>(a, chain, i0 + j);
    // One vector store of 8 outputs (8, 16 or 32 bytes).
    if constexpr (sizeof(OutT) == 1) {
      uint2 v;
      v.x = uint32_t(uint8_t(y[0])) | uint32_t(uint8_t(y[1])) << 8 |
            uint32_t(uint8_t(y[2])) << 16 | uint32_t(uint8_t(y[3])) << 24;
      v.y = uint32_t(uint8_t(y[4])) | uint32_t(uint8_t(y[5])) << 8 |
            uint32_t(uint8_t(y[6])) << 16 | uint32_t(uint8_t(y[7])) << 24;
      *reinterpret_cast<uint2 *>(static_cast<OutT *>(a.output) + i0) = v;
    } else if constexpr (sizeof(OutT) == 2) {
      uint4 v;
      v.x = uint32_t(y[0]) | uint32_t(y[1]) << 16;
      v.y = uint32_t(y[2]) | uint32_t(y[3]) << 16;
      v.z = uint32_t(y[4]) | uint32_t(y[5]) << 16;
      v.w = uint32_t(y[6]) | uint32_t(y[7]) << 16;
      *reinterpret_cast<uint4 *>(static_cast<OutT *>(a.output) + i0) = v;
    } else {
      float4 *dst =
          reinterpret_cast<float4 *>(static_cast<OutT *>(a.output) + i0);
      dst[0] = make_float4(y[0], y[1], y[2], y[3]);
      dst[1] = make_float4(y[4], y[5], y[6], y[7]);
    }
  } else {
    if (t >= a.count)
      return;
    static_cast<OutT *>(a.output)[t] = chainElement<In, Out>(a, chain, t);
  }
}

/// Launches an elementwise chain; loads are left to the compiler (the
/// 8-element unrolled loop becomes vector loads of the contiguous input).
template <ElemKind In, ElemKind Out, class ChainT>
cudaError_t elementwiseChain(const ElementwiseArgs &a, const ChainT &chain,
                             cudaStream_t stream) {
  if (a.count <= 0 || a.channels <= 0 || !a.input || !a.output)
    return cudaErrorInvalidValue;
  const bool vec = a.count % 8 == 0 &&
                   reinterpret_cast<uintptr_t>(a.output) % 16 == 0;
  if (vec)
    elementwiseChainKernel<In, Out, ChainT, true>
        <<<unsigned(ceilDiv<int64_t>(a.count / 8, 256)), 256, 0, stream>>>(
            a, chain);
  else
    elementwiseChainKernel<In, Out, ChainT, false>
        <<<unsigned(ceilDiv<int64_t>(a.count, 256)), 256, 0, stream>>>(a,
                                                                    chain);
  return cudaGetLastError();
}

//===----------------------------------------------------------------------===//
// int8 Add (TFLite)
//===----------------------------------------------------------------------===//

__global__ void __launch_bounds__(256)
    int8AddKernel(int64_t count, Int8AddParams p, const int8_t *x1,
                  const int8_t *x2, int8_t *y) {
  const int64_t i0 = (int64_t(blockIdx.x) * blockDim.x + threadIdx.x) * 16;
  if (i0 >= count)
    return;
  if (i0 + 16 <= count) {
    union V {
      uint4 v;
      int8_t e[16];
    } a, b, c;
    a.v = *reinterpret_cast<const uint4 *>(x1 + i0);
    b.v = *reinterpret_cast<const uint4 *>(x2 + i0);
#pragma unroll
    for (int j = 0; j < 16; ++j)
      c.e[j] = int8AddElement(p, a.e[j], b.e[j]);
    *reinterpret_cast<uint4 *>(y + i0) = c.v;
  } else {
    for (int64_t i = i0; i < count; ++i)
      y[i] = int8AddElement(p, x1[i], x2[i]);
  }
}

/// y = x1 + x2 (int8, same shape, 16-byte aligned buffers).
inline cudaError_t int8Add(int64_t count, const Int8AddParams &p,
                           const int8_t *x1, const int8_t *x2, int8_t *y,
                           cudaStream_t stream) {
  const auto aligned = [](const void *q) {
    return reinterpret_cast<uintptr_t>(q) % 16 == 0;
  };
  if (count <= 0 || !aligned(x1) || !aligned(x2) || !aligned(y))
    return cudaErrorInvalidValue;
  int8AddKernel<<<unsigned(ceilDiv<int64_t>(ceilDiv<int64_t>(count, 16), 256)),
                  256, 0, stream>>>(count, p, x1, x2, y);
  return cudaGetLastError();
}

//===----------------------------------------------------------------------===//
// Per-token dynamic int8 quantization
//===----------------------------------------------------------------------===//

/// One block per row of fp16 x [rows, ld]: q[r, :] = clamp(round(x / s), -127,
/// 127), s = max|x[r, :]| / 127 (1 for a zero row), written to scale[r].
template <int kThreads>
__global__ void __launch_bounds__(kThreads)
    quantizePerTokenKernel(int cols, const uint16_t *x, int64_t ldx,
                           int8_t *q, int64_t ldq, float *scale) {
  __shared__ float warpMax[kThreads / 32];
  const int64_t r = blockIdx.x;
  const uint16_t *row = x + r * ldx;
  float amax = 0.0f;
  for (int c = threadIdx.x; c < cols; c += kThreads)
    amax = fmaxf(amax, fabsf(halfBitsToFloat(row[c])));
#pragma unroll
  for (int o = 16; o > 0; o >>= 1)
    amax = fmaxf(amax, __shfl_xor_sync(0xffffffffu, amax, o));
  if ((threadIdx.x & 31) == 0)
    warpMax[threadIdx.x >> 5] = amax;
  __syncthreads();
  amax = warpMax[0];
#pragma unroll
  for (int w = 1; w < kThreads / 32; ++w)
    amax = fmaxf(amax, warpMax[w]);
  const float s = perTokenScale(amax);
  if (threadIdx.x == 0)
    scale[r] = s;
  for (int c = threadIdx.x; c < cols; c += kThreads)
    q[r * ldq + c] =
        int8_t(quantizeToInt(halfBitsToFloat(row[c]), s, 0, -127, 127));
}

/// Per-token int8 quantization of fp16 activations [rows, cols].
inline cudaError_t quantizePerToken(int rows, int cols, const uint16_t *x,
                                    int64_t ldx, int8_t *q, int64_t ldq,
                                    float *scale, cudaStream_t stream) {
  if (rows <= 0 || cols <= 0 || !x || !q || !scale)
    return cudaErrorInvalidValue;
  quantizePerTokenKernel<256><<<unsigned(rows), 256, 0, stream>>>(
      cols, x, ldx, q, ldq, scale);
  return cudaGetLastError();
}

} // namespace kiln::cuda

#endif // KILN_RUNTIME_CUDA_INCLUDE_KILN_CUDA_ELEMENTWISE_CUH
