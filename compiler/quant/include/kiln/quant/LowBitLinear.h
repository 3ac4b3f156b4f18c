//===- LowBitLinear.h - Exact semantics of a low-bit linear layer -*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// The quantized weights of one linear layer in their stored integer form
// (int8 per channel, int4 per group, QoQ progressive, NVFP4) and the exact
// forward pass y = x W^T (+ bias) with dynamically quantized activations.
// This is the arithmetic of the `kiln.lowbit_linear` op: the reference
// evaluator runs it, the quantization passes use it to search smoothing
// alphas and to measure layer error, and the GPU kernels must reproduce its
// integer parts bit for bit (docs/quantization.md, "Low-bit linear layers").
//
//===----------------------------------------------------------------------===//

#ifndef KILN_COMPILER_QUANT_INCLUDE_KILN_QUANT_LOWBITLINEAR_H
#define KILN_COMPILER_QUANT_INCLUDE_KILN_QUANT_LOWBITLINEAR_H

#include "kiln/quant/Matrix.h"
#include "kiln/quant/NvFp4.h"

#include <cstdint>
#include <string>
#include <vector>

namespace kiln::quant {

/// How the weight of a low-bit linear layer is stored.
enum class WeightFormat {
  /// int8 per output channel, symmetric, [-127, 127], one float32 scale per
  /// row.
  Int8,
  /// int4 per group, symmetric, [-7, 7], one float32 scale per group.
  Int4Sym,
  /// uint4 per group, asymmetric, [0, 15], a float32 scale and a uint4 zero
  /// per group.
  Int4Asym,
  /// QoQ progressive: uint4 codes, per-group uint8 scale s2 (1..16) and
  /// scaled zero z*s2 (0..240) on top of int8 values, and one float32 scale
  /// s1 per row.
  Qoq,
  /// NVFP4: E2M1 codes, one E4M3 scale per block of 16, one float32 tensor
  /// scale (standard block scaling: block max -> 6).
  NvFp4,
  /// NVFP4 whose block scales were chosen by Four Over Six. The stored form
  /// and its dequantization are those of NvFp4.
  NvFp4FourOverSix,
};

/// How the activations of a low-bit linear layer are quantized at run time.
enum class ActFormat {
  /// Float activations (weight-only quantization).
  None,
  /// int8 per token (row), symmetric, [-127, 127].
  Int8,
  /// int4 per group of the row, symmetric, [-7, 7].
  Int4Sym,
  /// NVFP4 with standard block scaling; the tensor scale comes from the
  /// amax of the whole input of the call.
  NvFp4,
  /// NVFP4 with Four Over Six block scaling (tensor scale as NvFp4).
  NvFp4FourOverSix,
};

/// Returns the name of |format| as the `kiln.lowbit_linear` attribute
/// spells it: int8, int4-sym, int4-asym, qoq, nvfp4, nvfp4-4over6.
const char *weightFormatName(WeightFormat format);
/// Returns the name of |format|: none, int8, int4-sym, nvfp4, nvfp4-4over6.
const char *actFormatName(ActFormat format);
/// Parses a weight format name; fails with the list of valid names.
Result<WeightFormat> parseWeightFormat(const std::string &name);
/// Parses an activation format name; fails with the list of valid names.
Result<ActFormat> parseActFormat(const std::string &name);

/// Returns true for the weight formats with groups along K (int4, QoQ;
/// NVFP4's blocks of 16 count as groups).
bool weightFormatIsGrouped(WeightFormat format);
/// Returns true for the activation formats with groups along K.
bool actFormatIsGrouped(ActFormat format);

/// Checks that |weight| and |act| may be combined, with their group sizes,
/// for K input features: the pairs with an integer kernel (int8 x int8,
/// qoq x int8, int4-sym x int4-sym with equal groups), every weight format
/// with float activations, and NVFP4 weights with NVFP4 activations.
Status checkLowBitFormats(WeightFormat weight, int64_t weightGroup,
                          ActFormat act, int64_t actGroup, int64_t k);

/// The stored form of a weight [N, K] (rows = output channels).
struct LowBitWeights {
  WeightFormat format = WeightFormat::Int8;
  int64_t rows = 0;
  int64_t cols = 0;
  /// Group size along K (16 for NVFP4, 0 for Int8).
  int64_t groupSize = 0;
  /// rows * cols codes, row-major, one per element: int8 values (Int8),
  /// -7..7 (Int4Sym), 0..15 (Int4Asym, Qoq) or E2M1 codes 0..15 with the
  /// sign in bit 3 (NvFp4*).
  std::vector<int8_t> codes;
  /// Float32 scales: one per row (Int8, Qoq's s1) or one per group
  /// (Int4Sym, Int4Asym; group g of row r at r * groups + g). Empty for
  /// NVFP4.
  std::vector<float> scales;
  /// Per group: the uint4 zero point (Int4Asym) or the scaled zero z*s2
  /// (Qoq). Empty otherwise.
  std::vector<uint8_t> zeros;
  /// Per group: QoQ's level-2 scale s2 (1..16). Empty otherwise.
  std::vector<uint8_t> groupScales;
  /// Per block of 16: E4M3 scale bits (NvFp4*). Empty otherwise.
  std::vector<uint8_t> blockScales;
  /// NVFP4's float32 tensor (decode) scale.
  float tensorScale = 1.0f;

  int64_t groupsPerRow() const { return groupSize ? cols / groupSize : 1; }
  /// Returns the storage of the weight in bits: codes, scales, zeros (as
  /// the IR stores them: 8 or 4 bits per code, float32 scales, uint4 /
  /// uint8 zeros and QoQ scales, E4M3 block scales, one float32 tensor
  /// scale).
  int64_t storageBits() const;
  /// Returns the int8 values a kernel multiplies (Int8: the codes; Qoq: the
  /// integer dequantization q4*s2 - z*s2); empty for other formats.
  std::vector<int8_t> int8Values() const;
  /// Returns the dequantized float32 weight, element by element as
  /// kiln::quant's quantizers define it (float(q - z) * scale,
  /// s1 * q8~, e2m1(code) * (e4m3(sb) * g)).
  Matrix dequantize() const;
};

/// Quantizes |w| [N, K] into |format| with the quantizers of kiln::quant:
/// quantizeInt8PerRow, quantizeGroupInt4, quantizeQoqWeights,
/// quantizeNvFp4 (|metric| picks 4/6's block error). |groupSize| is ignored
/// for Int8 and must be 16 (or 0) for NVFP4.
Result<LowBitWeights> quantizeLowBitWeights(MatrixRef w, WeightFormat format,
                                            int64_t groupSize,
                                            BlockErrorMetric metric =
                                                BlockErrorMetric::Mse);

/// Checks the stored form: sizes, code ranges, QoQ parameters (s2 in
/// 1..16, z*s2 <= 240 and a multiple of s2), positive finite float scales.
Status checkLowBitWeights(const LowBitWeights &w);

/// The activation quantizer of a low-bit linear layer.
struct ActQuant {
  ActFormat format = ActFormat::None;
  /// Group size along K for Int4Sym (16 for NVFP4).
  int64_t groupSize = 0;
  /// Block error of NvFp4FourOverSix.
  BlockErrorMetric metric = BlockErrorMetric::Mse;
};

/// Returns y = x W^T (+ bias) [M, N] with the activations |x| [M, K]
/// quantized by |act|, in the exact order of docs/quantization.md:
///
/// * int8 x (Int8 | Qoq): per token (sa, qa) = quantizeInt8PerRow(x, 127);
///   acc = sum_k qa[m,k] * w8[n,k] in int32 (k ascending; exact for
///   K < 133,000); y = float(acc) * (sa[m] * sw[n]), with sw the Int8 row
///   scale or QoQ's s1 and w8 the Int8 codes or QoQ's q4*s2 - z*s2.
/// * Int4Sym x Int4Sym (group g): per token and group, symmetric int4
///   (quantizeGroupInt4); acc_g = sum over the group of qa * qw in int32;
///   y = sum over g ascending of float(acc_g) * (sa[m,g] * sw[n,g]),
///   accumulated in float32 from +0.0.
/// * everything else (float or NVFP4 activations): x~ = the dequantized
///   activations (x itself for None), w~ = dequantize(); y = the double sum
///   over k ascending of x~ * w~, rounded to float32 once.
///
/// Then y += bias[n] (one float32 addition) when |bias| is given (N values).
Result<Matrix> lowBitLinearForward(MatrixRef x, const LowBitWeights &w,
                                   const ActQuant &act,
                                   const float *bias = nullptr);

} // namespace kiln::quant

#endif // KILN_COMPILER_QUANT_INCLUDE_KILN_QUANT_LOWBITLINEAR_H
