//===- Packing.h - Weight layouts of the CUDA kernels -----------*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// The compile-time side of every weight layout the kernels read, plus the
// register-level decoders the low-bit kernels run (host and device, so the
// CPU tests can emulate exactly what a thread computes). Plain C++17: the
// compiler calls these packers on constant weights and writes the result
// into the generated program's weight blob.
//
// Layouts:
// - int8 / fp16 GEMM and convolution filters: [N][ldb] row-major (K
//   contiguous; OHWI filters read as [OC][KH*KW*C]) with ldb = K rounded up
//   to 16 bytes, padding zero (padRows).
// - Depthwise filters: [KH][KW][C] (packDepthwise, from OHWI with I = 1).
// - W4A8 (QoQ progressive, GemmW4A8.cuh): "fragment order". For every
//   8-column tile nt and 128-wide K block kb (one QoQ group), 512 bytes:
//   lane l (n = 8 nt + l / 4, t = l % 4) owns 16 consecutive bytes, one
//   32-bit word per 32-wide k step ks; byte j of that word holds in its low
//   nibble the uint4 code of k = 128 kb + 32 ks + 4 t + j and in its high
//   nibble that of k + 16. So `w & 0x0f0f0f0f` is, byte for byte, the first
//   B register of mma.m16n8k32 and `(w >> 4) & 0x0f0f0f0f` the second, and
//   a warp's 16-byte loads of one tile are 512 contiguous bytes. Blocks are
//   stored nt-major: offset = ((nt * K / 128 + kb) * 32 + l) * 16.
//   Group parameters: uint16 [K / 128][N] holding s2 | (z * s2) << 8.
// - W4A4 (SVDQuant residual, GemmW4A4.cuh): int4 codes two per byte in
//   Kiln's nibble order (Packing.h of compiler/quant: element 2i in the low
//   nibble), rows of K / 2 bytes: [N][K / 2], i.e. quant::packRowsNibbles.
//   For mma.m16n8k64.s4 this row-major order is already the fragment order
//   (the same bytes as int8 with K / 2 columns). Group scales (group 64,
//   float32) transposed: [K / 64][ldScale] with ldScale = N rounded up to 4.
// - KV4 cache (Attention.cuh, KvFormat::kInt4Asym; run time, not constant):
//   per (batch, kv head, token) row of head_dim values, asymmetric uint4
//   codes two per byte (element 2i in the low nibble), head_dim / 2 bytes a
//   row, so one 16-byte load is 32 codes; a float32 scale and a uint8 zero
//   point per row (packKv4). The quantizer is kiln::quant::quantizeGroupInt4
//   (Asymmetric, group = head_dim) re-implemented bit for bit here, the
//   runtime not linking kiln::quant.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_RUNTIME_CUDA_INCLUDE_KILN_CUDA_PACKING_H
#define KILN_RUNTIME_CUDA_INCLUDE_KILN_CUDA_PACKING_H

#include "kiln/cuda/Config.h"
#include "kiln/cuda/Numeric.h"

#include <cmath>
#include <cstdint>
#include <vector>

namespace kiln::cuda {

//===----------------------------------------------------------------------===//
// Register-level decoders (host and device)
//===----------------------------------------------------------------------===//

/// Byte-wise a - b modulo 256 on four lanes at once (SWAR: no borrow
/// crosses a byte), given bLow = b & 0x7f7f7f7f and bInvHigh = ~b &
/// 0x80808080 precomputed (b is a per-group constant):
///   ((a | 0x80) - (b & 0x7f)) ^ ((a ^ ~b) & 0x80) in every byte.
KILN_HD uint32_t sub4Mod256(uint32_t a, uint32_t bLow, uint32_t bInvHigh) {
  return ((a | 0x80808080u) - bLow) ^ ((a & 0x80808080u) ^ bInvHigh);
}

/// The precomputed operands of sub4Mod256 for subtrahend byte |z| (in all
/// four lanes).
struct Sub4Operand {
  uint32_t low;
  uint32_t invHigh;
};
KILN_HD Sub4Operand makeSub4Operand(uint32_t z) {
  const uint32_t b = (z & 0xffu) * 0x01010101u;
  return {b & 0x7f7f7f7fu, ~b & 0x80808080u};
}

/// Decodes one W4A8 weight word into the two int8 B registers of an
/// mma.m16n8k32 (four int8 q8~ each), QoQ's "subtraction after
/// multiplication" on four lanes per instruction: q4 * s2 in 8-bit lanes
/// (q4 <= 15, s2 <= 16: no carry), then minus z * s2 modulo 256.
KILN_HD void decodeQoqWord(uint32_t w, uint32_t s2, Sub4Operand zs,
                           uint32_t &b0, uint32_t &b1) {
  const uint32_t lo = w & 0x0f0f0f0fu;
  const uint32_t hi = (w >> 4) & 0x0f0f0f0fu;
  b0 = sub4Mod256(lo * s2, zs.low, zs.invHigh);
  b1 = sub4Mod256(hi * s2, zs.low, zs.invHigh);
}

/// Sign-extends the eight int4 nibbles of |w| to int8: |lo| gets nibbles 0,
/// 2, 4, 6 (bytes 0..3), |hi| nibbles 1, 3, 5, 7.
KILN_HD void unpackS4ToS8(uint32_t w, uint32_t &lo, uint32_t &hi) {
  const uint32_t l = w & 0x0f0f0f0fu;
  const uint32_t h = (w >> 4) & 0x0f0f0f0fu;
  // A set bit 3 becomes 0xf0 in the high half of its byte (0x08 * 0x1e).
  lo = l | ((l & 0x08080808u) * 0x1eu);
  hi = h | ((h & 0x08080808u) * 0x1eu);
}

/// Turns the fragments of one mma.m16n8k64.s4 (A: 4 registers of 8 int4,
/// B: 2) into the fragments of two mma.m16n8k32.s8 whose summed products
/// are the same: register r of lane t of the s4 A fragment holds nibbles
/// (k) 8t..8t+7 (r = 0, 2: row g; 1, 3: row g + 8; 2, 3: k + 32), and so
/// does the B fragment for column g. Sign-extending even nibbles to bytes
/// 0..3 of one register and odd nibbles to another keeps equal k in equal
/// (lane, byte) positions of A and B, which is all an mma pairs by; the
/// dot product is then over a permutation of the same 64 k.
KILN_HD void s4FragmentsToS8(const uint32_t (&a)[4], const uint32_t (&b)[2],
                             uint32_t (&a0)[4], uint32_t (&b0)[2],
                             uint32_t (&a1)[4], uint32_t (&b1)[2]) {
  uint32_t lo[4], hi[4], blo[2], bhi[2];
  for (int r = 0; r < 4; ++r)
    unpackS4ToS8(a[r], lo[r], hi[r]);
  for (int r = 0; r < 2; ++r)
    unpackS4ToS8(b[r], blo[r], bhi[r]);
  // First s8 product: k 0..31 of the s4 fragment (registers a0, a1, b0).
  a0[0] = lo[0];
  a0[1] = lo[1];
  a0[2] = hi[0];
  a0[3] = hi[1];
  b0[0] = blo[0];
  b0[1] = bhi[0];
  // Second: k 32..63 (registers a2, a3, b1).
  a1[0] = lo[2];
  a1[1] = lo[3];
  a1[2] = hi[2];
  a1[3] = hi[3];
  b1[0] = blo[1];
  b1[1] = bhi[1];
}

//===----------------------------------------------------------------------===//
// Host packers
//===----------------------------------------------------------------------===//

/// Returns |rows| x |cols| elements of |elemBytes| bytes with each row
/// padded to |ld| elements with zero bytes.
inline std::vector<uint8_t> padRows(const void *src, int64_t rows,
                                    int64_t cols, int64_t ld, int elemBytes) {
  std::vector<uint8_t> out(size_t(rows * ld * elemBytes), 0);
  const auto *s = static_cast<const uint8_t *>(src);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t b = 0; b < cols * elemBytes; ++b)
      out[size_t(r * ld * elemBytes + b)] = s[r * cols * elemBytes + b];
  return out;
}

/// Returns the row stride (elements) the GEMM kernels need for |cols|
/// elements of |elemBytes| bytes: a multiple of 16 bytes.
constexpr int64_t paddedStride(int64_t cols, int elemBytes) {
  return roundUp<int64_t>(cols * elemBytes, 16) / elemBytes;
}

/// Repacks depthwise filters from OHWI with I = 1 ([C][KH][KW]) to the
/// kernel's [KH][KW][C].
template <typename T>
std::vector<T> packDepthwise(const T *ohwi, int C, int KH, int KW) {
  std::vector<T> out(size_t(C) * KH * KW);
  for (int c = 0; c < C; ++c)
    for (int t = 0; t < KH * KW; ++t)
      out[size_t(t) * C + c] = ohwi[size_t(c) * KH * KW + t];
  return out;
}

/// W4A8 packed weights (see the file comment).
struct W4A8Packed {
  int64_t N = 0;
  int64_t K = 0;
  /// N / 8 * K / 128 blocks of 512 bytes.
  std::vector<uint8_t> weights;
  /// [K / 128][N]: s2 | (z * s2) << 8.
  std::vector<uint16_t> groups;
};

/// Returns the byte offset in W4A8Packed::weights of the word of tile |nt|,
/// K block |kb|, lane |lane|, k step |ks| for a matrix with |K| columns.
constexpr KILN_HD int64_t w4a8WordOffset(int64_t nt, int64_t kb, int lane,
                                         int ks, int64_t K) {
  return ((nt * (K / 128) + kb) * 32 + lane) * 16 + ks * 4;
}

/// Packs QoQ weights: |q4| [N][K] uint4 codes (one per byte), |s2| and
/// |zs2| ([N][K / 128] group scale s2 and z * s2). N % 8 == 0 and
/// K % 128 == 0 (QoQ's group size).
inline W4A8Packed packW4A8(const uint8_t *q4, const uint8_t *s2,
                           const uint8_t *zs2, int64_t N, int64_t K) {
  W4A8Packed p;
  p.N = N;
  p.K = K;
  p.weights.assign(size_t(N * K / 2), 0);
  p.groups.assign(size_t(N * (K / 128)), 0);
  for (int64_t nt = 0; nt < N / 8; ++nt)
    for (int64_t kb = 0; kb < K / 128; ++kb)
      for (int lane = 0; lane < 32; ++lane)
        for (int ks = 0; ks < 4; ++ks) {
          const int64_t n = nt * 8 + lane / 4;
          const int t = lane % 4;
          const int64_t off = w4a8WordOffset(nt, kb, lane, ks, K);
          for (int j = 0; j < 4; ++j) {
            const int64_t k = kb * 128 + ks * 32 + 4 * t + j;
            p.weights[size_t(off + j)] =
                uint8_t((q4[n * K + k] & 0xf) | (q4[n * K + k + 16] & 0xf) << 4);
          }
        }
  for (int64_t n = 0; n < N; ++n)
    for (int64_t kb = 0; kb < K / 128; ++kb)
      p.groups[size_t(kb * N + n)] = uint16_t(
          s2[n * (K / 128) + kb] | (uint16_t(zs2[n * (K / 128) + kb]) << 8));
  return p;
}

/// Returns the row stride (floats) of W4A4 group scales for |rows| rows.
constexpr int64_t w4a4ScaleStride(int64_t rows) { return roundUp<int64_t>(rows, 4); }

/// W4A4 packed operand (weights or, at run time, activations).
struct W4A4Packed {
  int64_t rows = 0;
  int64_t K = 0;
  /// [rows][K / 2] bytes, element 2i in the low nibble.
  std::vector<uint8_t> codes;
  /// [K / 64][w4a4ScaleStride(rows)] float32.
  std::vector<float> scales;
};

/// Packs int4 codes |q| ([rows][K], -8..7, one per int8) and group scales
/// |scale| ([rows][K / 64]). K % 128 == 0 (the kernels' K step holds two
/// groups).
inline W4A4Packed packW4A4(const int8_t *q, const float *scale, int64_t rows,
                           int64_t K) {
  W4A4Packed p;
  p.rows = rows;
  p.K = K;
  p.codes.assign(size_t(rows * K / 2), 0);
  const int64_t ld = w4a4ScaleStride(rows);
  p.scales.assign(size_t(K / 64 * ld), 0.0f);
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t k = 0; k < K; k += 2)
      p.codes[size_t(r * K / 2 + k / 2)] =
          uint8_t((uint8_t(q[r * K + k]) & 0xf) |
                  ((uint8_t(q[r * K + k + 1]) & 0xf) << 4));
    for (int64_t g = 0; g < K / 64; ++g)
      p.scales[size_t(g * ld + r)] = scale[r * (K / 64) + g];
  }
  return p;
}

/// KV4 decode of one little-endian 32-bit word of a packed row (8 codes,
/// nibble e = element e): out[e] = float(code_e - zero) * scale. The KV4
/// attention loader runs this on each word of its 16-byte loads (word i of
/// load p holds elements 32 p + 8 i .. + 7) before rounding to fp16.
KILN_HD void kv4DecodeWord(uint32_t w, int zero, float scale, float (&out)[8]) {
  for (int e = 0; e < 8; ++e)
    out[e] = static_cast<float>(int((w >> (4 * e)) & 15u) - zero) * scale;
}

/// KV4-packed rows: [rows][headDim / 2] codes, one scale and zero per row.
struct Kv4Packed {
  int64_t rows = 0;
  int headDim = 0;
  std::vector<uint8_t> codes;
  std::vector<float> scales;
  std::vector<uint8_t> zeros;
};

namespace detail {
/// kiln::quant::quantizeToInt: clamp(round(x / scale) + zero, lo, hi) with a
/// float32 division and round half away from zero (in double).
inline int32_t kv4Code(float x, float scale, int32_t zero, int32_t lo,
                       int32_t hi) {
  const float ratio = x / scale;
  double q = std::round(static_cast<double>(ratio)) + zero;
  if (std::isnan(q))
    q = zero;
  return q < lo ? lo : q > hi ? hi : static_cast<int32_t>(q);
}
} // namespace detail

/// Quantizes and packs |rows| rows of |headDim| values (row r at
/// x + r * rowStride, |Get| reading one element as float) to KV4:
/// lo = min(0, min x), hi = max(0, max x), scale = float((hi - lo) / 15 in
/// double) or 1 when 0, zero = clamp(round(-lo / scale), 0, 15), code =
/// clamp(round(x / scale) + zero, 0, 15). headDim % 32 == 0; inputs finite.
template <class T, class Get>
Kv4Packed packKv4(const T *x, int64_t rows, int headDim, int64_t rowStride,
                  Get get) {
  Kv4Packed p;
  p.rows = rows;
  p.headDim = headDim;
  p.codes.assign(size_t(rows * headDim / 2), 0);
  p.scales.assign(size_t(rows), 1.0f);
  p.zeros.assign(size_t(rows), 0);
  for (int64_t r = 0; r < rows; ++r) {
    const T *row = x + r * rowStride;
    float lo = 0.0f, hi = 0.0f;
    for (int d = 0; d < headDim; ++d) {
      lo = std::fmin(lo, get(row[d]));
      hi = std::fmax(hi, get(row[d]));
    }
    float scale = static_cast<float>(
        (static_cast<double>(hi) - static_cast<double>(lo)) / 15.0);
    if (scale == 0.0f)
      scale = 1.0f;
    const int32_t zero = detail::kv4Code(-lo, scale, 0, 0, 15);
    p.scales[size_t(r)] = scale;
    p.zeros[size_t(r)] = uint8_t(zero);
    for (int d = 0; d < headDim; d += 2) {
      const int32_t c0 = detail::kv4Code(get(row[d]), scale, zero, 0, 15);
      const int32_t c1 = detail::kv4Code(get(row[d + 1]), scale, zero, 0, 15);
      p.codes[size_t(r * headDim / 2 + d / 2)] = uint8_t(c0 | (c1 << 4));
    }
  }
  return p;
}

/// packKv4 of float32 rows.
inline Kv4Packed packKv4(const float *x, int64_t rows, int headDim,
                         int64_t rowStride) {
  return packKv4(x, rows, headDim, rowStride, [](float v) { return v; });
}

/// packKv4 of fp16 rows (IEEE half bit patterns).
inline Kv4Packed packKv4(const uint16_t *x, int64_t rows, int headDim,
                         int64_t rowStride) {
  return packKv4(x, rows, headDim, rowStride,
                 [](uint16_t v) { return halfBitsToFloat(v); });
}

/// Returns code |d| of row |r| dequantized as the kernel does before its fp16
/// rounding: float(code - zero) * scale.
inline float kv4Dequant(const Kv4Packed &p, int64_t r, int d) {
  const uint8_t byte = p.codes[size_t(r * p.headDim / 2 + d / 2)];
  const int code = (d & 1) ? byte >> 4 : byte & 15;
  return static_cast<float>(code - int(p.zeros[size_t(r)])) *
         p.scales[size_t(r)];
}

} // namespace kiln::cuda

#endif // KILN_RUNTIME_CUDA_INCLUDE_KILN_CUDA_PACKING_H
