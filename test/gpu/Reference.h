//===- Reference.h - Host references of the CUDA kernels --------*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// Plain C++ loops that define what each kernel of runtime/cuda computes. The
// GPU test programs compare the kernels with them (bit-exact for integer
// paths, with stated tolerances for float paths), and the CPU test
// HostChecks.cpp compares them with the project's oracles (kiln::ref in
// compiler/reference, kiln::quant in compiler/quant), which closes the chain
// kernel == reference == oracle without a GPU for the second link.
//
// Float references accumulate in double; integer references accumulate in
// int32 with wrap-around (as kiln::ref and the tensor cores do). Output
// stages reuse kiln::cuda::Epilogue::compute (host side), whose arithmetic
// HostChecks.cpp checks against kiln::ref.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_TEST_GPU_REFERENCE_H
#define KILN_TEST_GPU_REFERENCE_H

#include "kiln/cuda/Epilogue.h"
#include "kiln/cuda/Numeric.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <type_traits>
#include <vector>

namespace kiln::gputest {

/// TFLite's QuantizeMultiplier: real = multiplier * 2^(shift - 31).
inline void quantizeMultiplier(double real, int32_t &multiplier,
                               int32_t &shift) {
  if (real == 0.0) {
    multiplier = 0;
    shift = 0;
    return;
  }
  int exponent = 0;
  const double q = std::frexp(real, &exponent);
  int64_t fixed = static_cast<int64_t>(std::round(q * 2147483648.0));
  if (fixed == (int64_t(1) << 31)) {
    fixed /= 2;
    ++exponent;
  }
  if (exponent < -31) {
    multiplier = 0;
    shift = 0;
    return;
  }
  multiplier = static_cast<int32_t>(fixed);
  shift = exponent;
}

/// Returns sum_k a[m, k] * b[n, k] in int32 (wrapping), [M, N] row-major.
inline std::vector<int32_t> gemmInt32(int M, int N, int K, const int8_t *a,
                                      int64_t lda, const int8_t *b,
                                      int64_t ldb) {
  std::vector<int32_t> c(size_t(M) * N);
  for (int m = 0; m < M; ++m)
    for (int n = 0; n < N; ++n) {
      uint32_t acc = 0;
      for (int k = 0; k < K; ++k)
        acc += uint32_t(int32_t(a[m * lda + k]) * int32_t(b[n * ldb + k]));
      c[size_t(m) * N + n] = int32_t(acc);
    }
  return c;
}

/// Returns sum_k a[m, k] * b[n, k] in double for fp16 operands (bits).
inline std::vector<double> gemmHalf(int M, int N, int K, const uint16_t *a,
                                    int64_t lda, const uint16_t *b,
                                    int64_t ldb) {
  std::vector<float> af(size_t(M) * K), bf(size_t(N) * K);
  for (int m = 0; m < M; ++m)
    for (int k = 0; k < K; ++k)
      af[size_t(m) * K + k] = cuda::halfBitsToFloat(a[m * lda + k]);
  for (int n = 0; n < N; ++n)
    for (int k = 0; k < K; ++k)
      bf[size_t(n) * K + k] = cuda::halfBitsToFloat(b[n * ldb + k]);
  std::vector<double> c(size_t(M) * N);
  for (int m = 0; m < M; ++m)
    for (int n = 0; n < N; ++n) {
      double acc = 0;
      const float *ar = &af[size_t(m) * K];
      const float *br = &bf[size_t(n) * K];
      for (int k = 0; k < K; ++k)
        acc += double(ar[k]) * double(br[k]);
      c[size_t(m) * N + n] = acc;
    }
  return c;
}

/// Applies the epilogue |Epi| (host arithmetic) to accumulators [M, N]
/// (int32, float or double; double is rounded to float first, as a float32
/// accumulator would be); |p| holds host pointers. Returns [M, N].
template <class Epi, typename AccT>
std::vector<typename Epi::Out> applyEpilogue(const cuda::EpilogueParams &p,
                                             int M, int N,
                                             const std::vector<AccT> &acc) {
  std::vector<typename Epi::Out> out(size_t(M) * N);
  for (int m = 0; m < M; ++m)
    for (int n = 0; n < N; ++n) {
      const AccT a = acc[size_t(m) * N + n];
      if constexpr (std::is_same_v<AccT, double>)
        out[size_t(m) * N + n] = Epi::compute(p, m, n, float(a));
      else
        out[size_t(m) * N + n] = Epi::compute(p, m, n, a);
    }
  return out;
}

/// Geometry of a reference NHWC convolution (mirrors kiln::cuda::ConvGeometry).
struct ConvShape {
  int batch = 1, H = 1, W = 1, C = 1, OH = 1, OW = 1, KH = 1, KW = 1;
  int strideH = 1, strideW = 1, padTop = 0, padLeft = 0;
  int dilationH = 1, dilationW = 1;
  /// Output size for padding |padBottom|, |padRight|.
  static int outSize(int in, int k, int s, int d, int p0, int p1) {
    return (in + p0 + p1 - d * (k - 1) - 1) / s + 1;
  }
};

/// Returns the convolution accumulators [batch * OH * OW, OC] of int8 NHWC
/// input |x| and OHWI weights |w| [OC][KH][KW][C]: sum over taps inside
/// the input of x * w (padding taps read |padValue|, matching a kernel that
/// multiplies raw values and folds -zp * sum(w) into biasInt).
inline std::vector<int32_t> convInt32(const ConvShape &s, int OC,
                                      const int8_t *x, const int8_t *w,
                                      int32_t padValue) {
  const int M = s.batch * s.OH * s.OW;
  const int K = s.KH * s.KW * s.C;
  std::vector<int32_t> out(size_t(M) * OC);
  for (int b = 0; b < s.batch; ++b)
    for (int oh = 0; oh < s.OH; ++oh)
      for (int ow = 0; ow < s.OW; ++ow) {
        const int m = (b * s.OH + oh) * s.OW + ow;
        for (int o = 0; o < OC; ++o) {
          uint32_t acc = 0;
          for (int kh = 0; kh < s.KH; ++kh)
            for (int kw = 0; kw < s.KW; ++kw) {
              const int ih = oh * s.strideH - s.padTop + kh * s.dilationH;
              const int iw = ow * s.strideW - s.padLeft + kw * s.dilationW;
              const bool inside = ih >= 0 && ih < s.H && iw >= 0 && iw < s.W;
              for (int c = 0; c < s.C; ++c) {
                const int32_t xv =
                    inside ? x[((int64_t(b) * s.H + ih) * s.W + iw) * s.C + c]
                           : padValue;
                acc += uint32_t(xv * int32_t(w[int64_t(o) * K +
                                               (kh * s.KW + kw) * s.C + c]));
              }
            }
          out[size_t(m) * OC + o] = int32_t(acc);
        }
      }
  return out;
}

/// fp16 version of convInt32 (padding reads 0), accumulated in double.
inline std::vector<double> convHalf(const ConvShape &s, int OC,
                                    const uint16_t *x, const uint16_t *w) {
  const int M = s.batch * s.OH * s.OW;
  const int K = s.KH * s.KW * s.C;
  std::vector<double> out(size_t(M) * OC);
  for (int b = 0; b < s.batch; ++b)
    for (int oh = 0; oh < s.OH; ++oh)
      for (int ow = 0; ow < s.OW; ++ow) {
        const int m = (b * s.OH + oh) * s.OW + ow;
        for (int o = 0; o < OC; ++o) {
          double acc = 0;
          for (int kh = 0; kh < s.KH; ++kh)
            for (int kw = 0; kw < s.KW; ++kw) {
              const int ih = oh * s.strideH - s.padTop + kh * s.dilationH;
              const int iw = ow * s.strideW - s.padLeft + kw * s.dilationW;
              if (ih < 0 || ih >= s.H || iw < 0 || iw >= s.W)
                continue;
              for (int c = 0; c < s.C; ++c)
                acc += double(cuda::halfBitsToFloat(
                           x[((int64_t(b) * s.H + ih) * s.W + iw) * s.C +
                             c])) *
                       double(cuda::halfBitsToFloat(
                           w[int64_t(o) * K + (kh * s.KW + kw) * s.C + c]));
            }
          out[size_t(m) * OC + o] = acc;
        }
      }
  return out;
}


/// Depthwise convolution accumulators [batch * OH * OW, C] (multiplier 1)
/// with filter |w| [KH][KW][C]; padding taps read |padValue| (int8) / 0.
template <typename Acc, typename T>
std::vector<Acc> depthwise(const ConvShape &s, const T *x, const T *w,
                           int32_t padValue) {
  const int M = s.batch * s.OH * s.OW;
  std::vector<Acc> out(size_t(M) * s.C);
  for (int b = 0; b < s.batch; ++b)
    for (int oh = 0; oh < s.OH; ++oh)
      for (int ow = 0; ow < s.OW; ++ow)
        for (int c = 0; c < s.C; ++c) {
          Acc acc = 0;
          for (int kh = 0; kh < s.KH; ++kh)
            for (int kw = 0; kw < s.KW; ++kw) {
              const int ih = oh * s.strideH - s.padTop + kh * s.dilationH;
              const int iw = ow * s.strideW - s.padLeft + kw * s.dilationW;
              const bool inside = ih >= 0 && ih < s.H && iw >= 0 && iw < s.W;
              const T wv = w[(kh * s.KW + kw) * s.C + c];
              if constexpr (std::is_same_v<T, int8_t>) {
                const int32_t xv =
                    inside ? x[((int64_t(b) * s.H + ih) * s.W + iw) * s.C + c]
                           : padValue;
                acc = Acc(uint32_t(acc) + uint32_t(xv * int32_t(wv)));
              } else if (inside) {
                acc += double(cuda::halfBitsToFloat(
                           x[((int64_t(b) * s.H + ih) * s.W + iw) * s.C + c])) *
                       double(cuda::halfBitsToFloat(wv));
              }
            }
          out[size_t((b * s.OH + oh) * s.OW + ow) * s.C + c] = acc;
        }
  return out;
}

/// kiln::ref-style pooling window of output |o|.
inline void poolWindow(int o, int stride, int padBefore, int padAfter,
                       int kernel, int size, int &begin, int &end,
                       int &paddedCount) {
  const int start = o * stride - padBefore;
  const int stop = start + kernel;
  begin = std::max(start, 0);
  end = std::min(stop, size);
  paddedCount = std::min(stop, size + padAfter) - std::max(start, -padBefore);
}

/// Pooling parameters of the references (mirrors kiln::cuda::PoolArgs).
struct PoolShape {
  int batch = 1, H = 1, W = 1, C = 1, OH = 1, OW = 1, KH = 1, KW = 1;
  int strideH = 1, strideW = 1, padTop = 0, padLeft = 0, padBottom = 0,
      padRight = 0;
  bool countIncludePad = false;
  int32_t zeroPoint = 0, clampMin = -128, clampMax = 127;
};

/// int8 max (|isMax|) or average pooling, TFLite semantics.
inline std::vector<int8_t> poolInt8(const PoolShape &p, const int8_t *x,
                                    bool isMax) {
  std::vector<int8_t> y(size_t(p.batch) * p.OH * p.OW * p.C);
  for (int b = 0; b < p.batch; ++b)
    for (int oy = 0; oy < p.OH; ++oy)
      for (int ox = 0; ox < p.OW; ++ox) {
        int y0, y1, py, x0, x1, px;
        poolWindow(oy, p.strideH, p.padTop, p.padBottom, p.KH, p.H, y0, y1, py);
        poolWindow(ox, p.strideW, p.padLeft, p.padRight, p.KW, p.W, x0, x1, px);
        for (int c = 0; c < p.C; ++c) {
          int32_t acc = isMax ? -128 : 0;
          for (int iy = y0; iy < y1; ++iy)
            for (int ix = x0; ix < x1; ++ix) {
              const int32_t v = x[((int64_t(b) * p.H + iy) * p.W + ix) * p.C + c];
              acc = isMax ? std::max(acc, v) : acc + v;
            }
          if (!isMax) {
            const int32_t valid = (y1 - y0) * (x1 - x0);
            int32_t count = valid;
            if (p.countIncludePad) {
              count = py * px;
              acc += (count - valid) * p.zeroPoint;
            }
            acc = acc > 0 ? (acc + count / 2) / count : (acc - count / 2) / count;
          }
          y[size_t((b * p.OH + oy) * p.OW + ox) * p.C + c] =
              int8_t(std::clamp(acc, p.clampMin, p.clampMax));
        }
      }
  return y;
}

/// fp16 max or average pooling in double.
inline std::vector<double> poolHalf(const PoolShape &p, const uint16_t *x,
                                    bool isMax) {
  std::vector<double> y(size_t(p.batch) * p.OH * p.OW * p.C);
  for (int b = 0; b < p.batch; ++b)
    for (int oy = 0; oy < p.OH; ++oy)
      for (int ox = 0; ox < p.OW; ++ox) {
        int y0, y1, py, x0, x1, px;
        poolWindow(oy, p.strideH, p.padTop, p.padBottom, p.KH, p.H, y0, y1, py);
        poolWindow(ox, p.strideW, p.padLeft, p.padRight, p.KW, p.W, x0, x1, px);
        for (int c = 0; c < p.C; ++c) {
          double acc = isMax ? -INFINITY : 0.0;
          for (int iy = y0; iy < y1; ++iy)
            for (int ix = x0; ix < x1; ++ix) {
              const double v = cuda::halfBitsToFloat(
                  x[((int64_t(b) * p.H + iy) * p.W + ix) * p.C + c]);
              acc = isMax ? std::max(acc, v) : acc + v;
            }
          if (!isMax)
            acc /= p.countIncludePad ? py * px : (y1 - y0) * (x1 - x0);
          y[size_t((b * p.OH + oy) * p.OW + ox) * p.C + c] = acc;
        }
      }
  return y;
}

/// LayerNorm (|layerNorm|) or RMSNorm of one row in double.
inline void normRow(bool layerNorm, int cols, const double *x,
                    const float *gamma, const float *beta, double eps,
                    double *y) {
  double mean = 0, sq = 0;
  if (layerNorm) {
    for (int c = 0; c < cols; ++c)
      mean += x[c];
    mean /= cols;
  }
  for (int c = 0; c < cols; ++c)
    sq += (x[c] - mean) * (x[c] - mean);
  const double inv = 1.0 / std::sqrt(sq / cols + eps);
  for (int c = 0; c < cols; ++c)
    y[c] = (x[c] - mean) * inv * gamma[c] + (layerNorm && beta ? beta[c] : 0.0);
}

/// Reference attention for one (batch, head): O[seqQ, D] from Q[seqQ, D],
/// K/V[seqK, D] (float), causal aligned bottom-right, optional block mask
/// |allowed|(qBlock, kBlock) at granularity (blockM, blockN). Rows with no
/// visible key are 0.
template <class Allowed>
void attentionHead(int seqQ, int seqK, int D, const float *q, const float *k,
                   const float *v, double scale, bool causal, int blockM,
                   int blockN, Allowed allowed, double *o) {
  std::vector<double> s(seqK);
  for (int i = 0; i < seqQ; ++i) {
    double mx = -INFINITY;
    for (int j = 0; j < seqK; ++j) {
      bool visible = !causal || j <= i + (seqK - seqQ);
      visible = visible && allowed(i / blockM, j / blockN);
      if (!visible) {
        s[j] = -INFINITY;
        continue;
      }
      double dot = 0;
      for (int d = 0; d < D; ++d)
        dot += double(q[i * D + d]) * double(k[j * D + d]);
      s[j] = dot * scale;
      mx = std::max(mx, s[j]);
    }
    double sum = 0;
    for (int j = 0; j < seqK; ++j) {
      s[j] = s[j] == -INFINITY ? 0.0 : std::exp(s[j] - mx);
      sum += s[j];
    }
    for (int d = 0; d < D; ++d) {
      double acc = 0;
      for (int j = 0; j < seqK; ++j)
        acc += s[j] * double(v[j * D + d]);
      o[i * D + d] = sum > 0 ? acc / sum : 0.0;
    }
  }
}

//===----------------------------------------------------------------------===//
// Low-bit GEMMs
//===----------------------------------------------------------------------===//

/// QoQ level-2 group parameters of int8 values spanning [lo, hi] (the
/// rule of docs/quantization.md: s2 = max(1, ceil((hi - lo) / 15)), z =
/// round(-lo / s2)); HostChecks compares it with kiln::quant.
inline void qoqGroup(int32_t lo, int32_t hi, uint8_t &s2, uint8_t &z) {
  lo = std::min(lo, 0);
  hi = std::max(hi, 0);
  const int32_t range = hi - lo;
  const int32_t s = std::max(1, (range + 14) / 15);
  // round(-lo / s) half away from zero; -lo >= 0.
  const int32_t zz = (2 * -lo + s) / (2 * s);
  s2 = uint8_t(s);
  z = uint8_t(std::min(zz, 15));
}

/// QoQ code of int8 |q8| in a group (clamp(round(q8 / s2) + z, 0, 15)).
inline uint8_t qoqCode(int32_t q8, uint8_t s2, uint8_t z) {
  const int32_t a = q8 < 0 ? -q8 : q8;
  int32_t r = (2 * a + s2) / (2 * s2);
  r = q8 < 0 ? -r : r;
  return uint8_t(std::clamp(r + z, 0, 15));
}

/// QoQ dequantized int8 value: (uint8)(q4 * s2 - z * s2) as int8.
inline int8_t qoqValue(uint8_t q4, uint8_t s2, uint8_t zs2) {
  return int8_t(uint8_t(uint32_t(q4) * s2 - zs2));
}

/// Returns y[M][N] of the W4A4 main loop exactly as the kernel computes it:
/// per group of 64 an exact int32 dot product, then y = fma(float(acc),
/// sa * sw, y) in ascending group order. |qa| [M][K], |qw| [N][K] codes;
/// |sa| [M][K / 64], |sw| [N][K / 64].
inline std::vector<float> w4a4Main(int M, int N, int K, const int8_t *qa,
                                   const float *sa, const int8_t *qw,
                                   const float *sw) {
  const int G = K / 64;
  std::vector<float> y(size_t(M) * N, 0.0f);
  for (int m = 0; m < M; ++m)
    for (int n = 0; n < N; ++n) {
      float v = 0.0f;
      for (int g = 0; g < G; ++g) {
        int32_t acc = 0;
        for (int k = g * 64; k < g * 64 + 64; ++k)
          acc += int32_t(qa[int64_t(m) * K + k]) * int32_t(qw[int64_t(n) * K + k]);
        v = cuda::fmaRn(cuda::intToFloat(acc),
                        cuda::fmulRn(sa[int64_t(m) * G + g], sw[int64_t(n) * G + g]),
                        v);
      }
      y[size_t(m) * N + n] = v;
    }
  return y;
}

/// Symmetric int4 group quantization of one group of 64 (kiln::quant,
/// Int4Kind::Symmetric): returns the scale, writes the codes.
inline float quantizeGroupSym4(const float *x, int8_t *q) {
  float amax = 0.0f;
  for (int i = 0; i < 64; ++i)
    amax = std::fmax(amax, std::fabs(x[i]));
  float scale = amax / 7.0f;
  if (scale == 0.0f)
    scale = 1.0f;
  for (int i = 0; i < 64; ++i)
    q[i] = int8_t(cuda::quantizeToInt(x[i], scale, 0, -7, 7));
  return scale;
}

} // namespace kiln::gputest

#endif // KILN_TEST_GPU_REFERENCE_H
