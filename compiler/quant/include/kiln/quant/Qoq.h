//===- Qoq.h - QoQ W4A8KV4: progressive weights, SmoothAttention *- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// QoQ (QServe, Lin et al. 2024) quantizes weights in two levels so that the
// W4A8 GEMM dequantizes INT4 -> INT8 with integer operations only:
//
// Level 1, per output channel n, symmetric int8 in the protective range:
//   s1[n] = max_k |w[n,k]| / 119 (float32; 1 for a zero row)
//   q8 = clamp(round(w / s1), -119, 119)
// Level 2, per group of G (128) consecutive q8 values along K, asymmetric
// uint4 with 8-bit integer scale and zero, computed in exact integer math:
//   lo = min(0, min q8), hi = max(0, max q8)
//   s2 = max(1, ceil((hi - lo) / 15))   in [1, 16]
//   z  = round(-lo / s2)                in [0, 15]
//   q4 = clamp(round(q8 / s2) + z, 0, 15)
// Dequantization ("subtraction after multiplication", z * s2 precomputed):
//   q8~ = q4 * s2 - (z * s2)
// Claim, checked exhaustively in the unit tests: q8~ is in [-127, 127].
// Proof: without the clamp q8~ = round(q8 / s2) * s2, whose magnitude is at
// most |q8| + s2 / 2 <= 119 + 8 = 127; the clamp only moves q4 to 0 or 15,
// i.e. q8~ to -z*s2 <= 0 or (15 - z)*s2 >= 0, each between the unclamped
// value and 0. Also q4 * s2 <= 240 and z * s2 <= 240 fit in uint8, so a
// kernel can compute both products in 8-bit lanes and subtract modulo 256:
// reinterpreting (uint8)(q4*s2 - z*s2) as int8 gives q8~ exactly. The level-2
// error is at most s2 / 2 (ceil makes 15 * s2 cover hi - lo, so nothing
// clips beyond half a step).
//
// W4A8 GEMM: activations per-token symmetric int8 (Int8.h), then
//   acc[m,n] = sum_k qa[m,k] * q8~[n,k]   (exact, int32)
//   y[m,n]   = float(acc) * (sa[m] * s1[n])  (float32)
//
// SmoothAttention divides keys by lambda_j = max_t |K[t,j]|^alpha per key
// channel and multiplies queries by the same lambda, folded into the weights
// and biases of the query and key projections (Q diag(lambda), K
// diag(lambda)^-1): Q K^T is unchanged, while key outlier channels shrink
// before the 4-bit KV cache. With rotary embeddings the two channels that
// RoPE rotates together must share one lambda (their maximum, then the
// power), or rotation and scaling would not commute.
//
// KV4: per head and token, asymmetric uint4 with group = head_dim
// (GroupInt4.h).
//
//===----------------------------------------------------------------------===//

#ifndef KILN_COMPILER_QUANT_INCLUDE_KILN_QUANT_QOQ_H
#define KILN_COMPILER_QUANT_INCLUDE_KILN_QUANT_QOQ_H

#include "kiln/quant/GroupInt4.h"
#include "kiln/quant/Matrix.h"

#include <cstdint>
#include <vector>

namespace kiln::quant {

/// The protective int8 range of level 1: |q8| <= 119.
inline constexpr int32_t kQoqProtectiveRange = 119;

/// Integer parameters of one level-2 group.
struct QoqGroupParams {
  /// Group scale s2, 1..16.
  uint8_t scale = 1;
  /// Group zero z, 0..15.
  uint8_t zero = 0;
  /// z * s2, 0..240 (precomputed for the subtraction after multiplication).
  uint8_t scaledZero = 0;
};

/// Returns the level-2 parameters of a group whose int8 values span
/// [lo, hi] (lo <= hi, both within [-119, 119]; 0 is added to the range).
QoqGroupParams chooseQoqGroupParams(int32_t lo, int32_t hi);

/// Returns the uint4 code of int8 value |q8| in a group with |params|.
uint8_t quantizeQoqValue(int32_t q8, const QoqGroupParams &params);

/// Returns q4 * s2 - z * s2 computed as a kernel does: both products in
/// uint8, subtracted modulo 256, reinterpreted as int8.
int8_t dequantizeQoqValue(uint8_t q4, const QoqGroupParams &params);

/// Progressively quantized weights [N, K].
struct QoqWeights {
  int64_t rows = 0;
  int64_t cols = 0;
  int64_t groupSize = 0;
  /// Level-1 per-output-channel scales s1.
  std::vector<float> channelScales;
  /// rows * cols uint4 codes (0..15), row-major, one per byte.
  std::vector<uint8_t> values;
  /// rows * groupsPerRow() level-2 groups; group g of row r at
  /// r * groupsPerRow() + g.
  std::vector<QoqGroupParams> groups;

  int64_t groupsPerRow() const { return groupSize ? cols / groupSize : 0; }
  /// Returns the dequantized int8 weights q8~ (row-major).
  std::vector<int8_t> int8Values() const;
  /// Returns s1[n] * q8~[n, k] in float32.
  Matrix dequantize() const;
};

/// Quantizes |w| [N, K] progressively with level-2 group size |groupSize|
/// (default 128; must divide K).
Result<QoqWeights> quantizeQoqWeights(MatrixRef w, int64_t groupSize = 128);

/// Returns the W4A8 output for activations |x| [M, K]: per-token int8
/// activations, exact integer accumulation, float32 rescale.
Result<Matrix> qoqForward(MatrixRef x, const QoqWeights &w);

/// How rotary embeddings pair the channels of a head (dimension D).
enum class RopePairing {
  /// No rotary embedding: every channel has its own lambda.
  None,
  /// GPT-NeoX / Llama "rotate half": channel j pairs with j + D/2.
  HalfSplit,
  /// GPT-J: channel 2i pairs with 2i + 1.
  Interleaved,
};

/// Returns lambda (one per key channel) from key activations |keys|
/// [tokens, numKvHeads * headDim]: lambda_j = (max_t |K[t, j]|)^alpha in
/// double, rounded to float32, with paired channels sharing the larger
/// maximum; a channel with maximum 0 gets 1. |alpha| in [0, 1].
Result<std::vector<float>>
smoothAttentionScales(MatrixRef keys, int64_t headDim, double alpha = 0.5,
                      RopePairing rope = RopePairing::None);

/// Folds |lambda| into the query and key projections in place: row
/// h * headDim + j of |wq| (and entry of |bq|, when non-null) is multiplied
/// by lambda[(h / (numQHeads / numKvHeads)) * headDim + j]; row i of |wk|
/// (and |bk|) is divided by lambda[i]. Shapes: wq [numQHeads * headDim,
/// hidden], wk [numKvHeads * headDim, hidden]; numQHeads must be a multiple
/// of numKvHeads (grouped-query attention).
Status foldSmoothAttention(Matrix &wq, std::vector<float> *bq, Matrix &wk,
                           std::vector<float> *bk,
                           const std::vector<float> &lambda, int64_t numQHeads,
                           int64_t numKvHeads, int64_t headDim);

/// Quantizes a K or V cache slice [tokens, numHeads * headDim] to 4 bits:
/// asymmetric uint4 per head per token (group = headDim).
Result<GroupInt4> quantizeKvCache4(MatrixRef kv, int64_t headDim);

} // namespace kiln::quant

#endif // KILN_COMPILER_QUANT_INCLUDE_KILN_QUANT_QOQ_H
