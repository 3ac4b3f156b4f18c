//===- Conv.cuh - NHWC convolutions: implicit GEMM, depthwise ---*- CUDA -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// Convolutions over NHWC activations, int8 or fp16, with the fused output
// stages of Epilogue.h (bias, folded BatchNorm scale/shift as colScale and
// bias, activation, residual, requantization).
//
// Conv2dSm80: implicit GEMM on the tensor cores (GemmSm80 with ConvLoader).
//   GEMM view: M = batch * OH * OW output pixels (the NHWC output is the
//   row-major [M, OC] result), N = OC, K = KH * KW * C in (kh, kw, c) order,
//   i.e. the weights are the OHWI filter [OC][KH][KW][C] read as [OC, K]
//   with a row stride padded to 16 bytes (zeros). Grouped convolutions other
//   than depthwise run as one call per group on channel slices.
//
// DepthwiseConv2d: one thread per (output pixel, kVecBytes of channels),
//   weights repacked by the compiler to [KH][KW][C] so that a vector of
//   channels of one tap is contiguous; channel multiplier 1. Memory bound:
//   16-byte loads coalesced along C, window re-reads served by L1.
//
// For int8 the main loops multiply raw values; padding taps read the input
// zero point (ConvGeometry::padValue) and the compiler folds
// -zp * sum(w) into biasInt, which reproduces kiln::ref::conv2d exactly.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_RUNTIME_CUDA_INCLUDE_KILN_CUDA_CONV_CUH
#define KILN_RUNTIME_CUDA_INCLUDE_KILN_CUDA_CONV_CUH

#include "kiln/cuda/GemmSm80.cuh"

namespace kiln::cuda {

/// Implicit-GEMM convolution: run(args, geometry, stream) with args.M =
/// batch * OH * OW, args.N = OC, args.K = KH * KW * C, args.A = input NHWC,
/// args.B = filter [OC][ldb], epi.out = output NHWC [M, ldOut].
template <typename T, class Cfg, class Epi, int kVecBytes = 16>
using Conv2dSm80 = GemmSm80<T, Cfg, Epi, ConvLoader<kVecBytes>>;

/// Returns the GemmArgs of a convolution with geometry |g| and |outChannels|
/// filters of row stride |ldw| elements.
inline GemmArgs makeConvArgs(const ConvGeometry &g, int outChannels,
                             const void *input, const void *filter,
                             int64_t ldw, const EpilogueParams &epi) {
  GemmArgs a;
  a.M = g.batch * g.OH * g.OW;
  a.N = outChannels;
  a.K = g.KH * g.KW * g.C;
  a.A = input;
  a.lda = a.K;
  a.B = filter;
  a.ldb = ldw;
  a.epi = epi;
  return a;
}

//===----------------------------------------------------------------------===//
// Depthwise
//===----------------------------------------------------------------------===//

/// Operands of a depthwise convolution (multiplier 1): input NHWC
/// [batch, H, W, C], filter [KH][KW][C], output [batch * OH * OW, ldOut]
/// through the epilogue with m = output pixel, n = channel.
struct DepthwiseArgs {
  ConvGeometry g;
  const void *input = nullptr;
  const void *filter = nullptr;
  EpilogueParams epi;
};

namespace detail {

/// Loads kBytes (4, 8 or 16; aligned) at |p| as 32-bit words.
template <int kBytes>
KILN_DEVICE void loadWords(const void *p, uint32_t (&w)[kBytes / 4]) {
  if constexpr (kBytes == 16) {
    const uint4 v = *static_cast<const uint4 *>(p);
    w[0] = v.x;
    w[1] = v.y;
    w[2] = v.z;
    w[3] = v.w;
  } else if constexpr (kBytes == 8) {
    const uint2 v = *static_cast<const uint2 *>(p);
    w[0] = v.x;
    w[1] = v.y;
  } else {
    w[0] = *static_cast<const uint32_t *>(p);
  }
}

/// Stores kBytes of 32-bit words at |p| (aligned).
template <int kBytes>
KILN_DEVICE void storeWords(void *p, const uint32_t (&w)[kBytes / 4]) {
  if constexpr (kBytes == 16)
    *static_cast<uint4 *>(p) = make_uint4(w[0], w[1], w[2], w[3]);
  else if constexpr (kBytes == 8)
    *static_cast<uint2 *>(p) = make_uint2(w[0], w[1]);
  else
    *static_cast<uint32_t *>(p) = w[0];
}

/// Loads kBytes at |p| (aligned) and unpacks them into kBytes / sizeof(T)
/// values of T converted to Acc (int32 for int8, float for fp16 bits).
template <typename T, int kBytes, typename Acc>
KILN_DEVICE void loadVec(const void *p, Acc (&out)[kBytes / sizeof(T)]) {
  uint32_t w[kBytes / 4];
  loadWords<kBytes>(p, w);
#pragma unroll
  for (int i = 0; i < int(kBytes / sizeof(T)); ++i) {
    if constexpr (std::is_same_v<T, int8_t>)
      out[i] = Acc(int8_t(w[i / 4] >> (8 * (i % 4))));
    else
      out[i] = Acc(halfBitsToFloat(uint16_t(w[i / 2] >> (16 * (i % 2)))));
  }
}

/// Returns kBytes of |value| repeated (a padding vector).
template <typename T, int kBytes, typename Acc>
KILN_DEVICE void fillVec(T value, Acc (&out)[kBytes / sizeof(T)]) {
#pragma unroll
  for (int i = 0; i < int(kBytes / sizeof(T)); ++i) {
    if constexpr (std::is_same_v<T, int8_t>)
      out[i] = Acc(value);
    else
      out[i] = Acc(halfBitsToFloat(value));
  }
}

} // namespace detail

/// The depthwise kernel: T is int8_t or uint16_t (fp16 bits).
template <typename T, int kVecBytes, class Epi>
__global__ void __launch_bounds__(256) depthwiseKernel(DepthwiseArgs a) {
  using Acc = std::conditional_t<std::is_same_v<T, int8_t>, int32_t, float>;
  constexpr int kVec = kVecBytes / int(sizeof(T));
  const ConvGeometry &g = a.g;
  const int groups = g.C / kVec;
  const int64_t total = int64_t(g.batch) * g.OH * g.OW * groups;
  const int64_t idx = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (idx >= total)
    return;
  const int c0 = int(idx % groups) * kVec;
  const int64_t m = idx / groups;
  const int ow = int(m % g.OW);
  const int oh = int((m / g.OW) % g.OH);
  const int b = int(m / (int64_t(g.OW) * g.OH));
  const T *x = static_cast<const T *>(a.input);
  const T *w = static_cast<const T *>(a.filter);

  Acc acc[kVec];
#pragma unroll
  for (int i = 0; i < kVec; ++i)
    acc[i] = Acc(0);
  for (int kh = 0; kh < g.KH; ++kh) {
    const int ih = oh * g.strideH - g.padTop + kh * g.dilationH;
    for (int kw = 0; kw < g.KW; ++kw) {
      const int iw = ow * g.strideW - g.padLeft + kw * g.dilationW;
      Acc xv[kVec], wv[kVec];
      if (ih >= 0 && ih < g.H && iw >= 0 && iw < g.W)
        detail::loadVec<T, kVecBytes>(
            x + ((int64_t(b) * g.H + ih) * g.W + iw) * g.C + c0, xv);
      else
        detail::fillVec<T, kVecBytes>(T(g.padValue), xv);
      detail::loadVec<T, kVecBytes>(w + (int64_t(kh) * g.KW + kw) * g.C + c0,
                                    wv);
#pragma unroll
      for (int i = 0; i < kVec; ++i) {
        if constexpr (std::is_same_v<Acc, int32_t>)
          acc[i] += xv[i] * wv[i];
        else
          acc[i] = fmaRn(xv[i], wv[i], acc[i]);
      }
    }
  }
#pragma unroll
  for (int i = 0; i < kVec; i += 2)
    Epi::apply2(a.epi, m, c0 + i, g.C, acc[i], acc[i + 1]);
}

/// Depthwise convolution launcher; T is int8_t or uint16_t (fp16 bits).
/// Needs C * sizeof(T) % kVecBytes == 0 and aligned pointers.
template <typename T, class Epi, int kVecBytes = 16> struct DepthwiseConv2d {
  static cudaError_t run(const DepthwiseArgs &a, cudaStream_t stream) {
    const int vec = kVecBytes / int(sizeof(T));
    if (a.g.C % vec != 0 ||
        reinterpret_cast<uintptr_t>(a.input) % kVecBytes != 0 ||
        reinterpret_cast<uintptr_t>(a.filter) % kVecBytes != 0 || !a.epi.out)
      return cudaErrorInvalidValue;
    const int64_t total =
        int64_t(a.g.batch) * a.g.OH * a.g.OW * (a.g.C / vec);
    depthwiseKernel<T, kVecBytes, Epi>
        <<<unsigned(ceilDiv<int64_t>(total, 256)), 256, 0, stream>>>(a);
    return cudaGetLastError();
  }
};

} // namespace kiln::cuda

#endif // KILN_RUNTIME_CUDA_INCLUDE_KILN_CUDA_CONV_CUH
