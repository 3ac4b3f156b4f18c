//===- IntegerKernels.h - Exact integer semantics of int8 ops ---*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// The integer reference semantics of Kiln's quantized operators: the oracle
// that the reference evaluator calls for quantized ops and that every runtime
// kernel (runtime/c) must match bit for bit. The quantization scheme is the
// TFLite int8 specification:
//
//   real = scale * (q - zero_point)
//
// with per-output-channel symmetric int8 weights (zero point 0, values in
// [-127, 127]), per-tensor asymmetric int8 activations, int32 bias with scale
// input_scale * weight_scale and zero point 0, and requantization of int32
// accumulators by a fixed-point multiplier (int32 mantissa + power-of-two
// shift) with TFLite Micro's default double rounding (gemmlowp's
// SaturatingRoundingDoublingHighMul followed by RoundingDivideByPOT).
//
// Every function here is a plain loop over the obviously-correct definition;
// speed is not a goal. Layouts: activations NHWC, convolution weights OHWI
// (O = output channels, I = input channels per group), fully connected
// weights [out_features][in_features]. Integer accumulation is in int32 and
// wraps modulo 2^32 if it overflows (as SMLAD does on Cortex-M); the
// quantizer keeps K * 255 * 127 < 2^31 so that never happens in practice.
//
// Kernels validate their parameters and buffer sizes and return a failed
// kiln::Status with a message instead of asserting; helpers that only derive
// parameters from scales return kiln::Result.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_COMPILER_REFERENCE_INTEGERKERNELS_H
#define KILN_COMPILER_REFERENCE_INTEGERKERNELS_H

#include "kiln/Diagnostics.h"

#include <array>
#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <vector>

namespace kiln::ref {

//===----------------------------------------------------------------------===//
// Array views
//===----------------------------------------------------------------------===//

/// A non-owning view of a contiguous array (C++17 has no std::span). Built
/// from a pointer and a size or from a std::vector; kernels check its size
/// against the shapes they are given.
template <typename T> class Span {
public:
  using ValueType = std::remove_const_t<T>;

  constexpr Span() = default;
  constexpr Span(T *data, size_t size) : data_(data), size_(size) {}
  /// Views all elements of |vec|.
  Span(std::vector<ValueType> &vec) : data_(vec.data()), size_(vec.size()) {}
  /// Views all elements of |vec| (read-only views only).
  template <typename U = T, typename = std::enable_if_t<std::is_const_v<U>>>
  Span(const std::vector<ValueType> &vec)
      : data_(vec.data()), size_(vec.size()) {}
  /// Views a mutable span read-only.
  template <typename U, typename = std::enable_if_t<
                            std::is_const_v<T> && std::is_same_v<U, ValueType>>>
  Span(Span<U> other) : data_(other.data()), size_(other.size()) {}

  constexpr T *data() const { return data_; }
  constexpr size_t size() const { return size_; }
  constexpr bool empty() const { return size_ == 0; }
  constexpr T &operator[](size_t index) const { return data_[index]; }
  constexpr T *begin() const { return data_; }
  constexpr T *end() const { return data_ + size_; }

private:
  T *data_ = nullptr;
  size_t size_ = 0;
};

//===----------------------------------------------------------------------===//
// Fixed-point arithmetic (TFLite / gemmlowp, bit-exact)
//===----------------------------------------------------------------------===//

/// A positive real multiplier M in fixed point:
///
///   M ~= multiplier * 2^(shift - 31)
///
/// with |multiplier| in [2^30, 2^31) (or multiplier == 0 for M == 0).
/// Shift sign convention (TFLite's): shift > 0 is a left shift of the input
/// before the high multiply (M >= 1), shift <= 0 a rounding right shift
/// after it (M < 1). Valid shifts are [-31, 30].
struct QuantizedMultiplier {
  int32_t multiplier = 0;
  int32_t shift = 0;

  bool operator==(const QuantizedMultiplier &other) const {
    return multiplier == other.multiplier && shift == other.shift;
  }
};

/// Smallest and largest shift accepted by multiplyByQuantizedMultiplier.
constexpr int32_t kMinShift = -31;
constexpr int32_t kMaxShift = 30;

/// Returns round(a * b / 2^31) with ties rounded up (towards +infinity), as
/// gemmlowp computes it: (a*b + nudge) / 2^31 in int64 with a sign-dependent
/// nudge and truncating division. The only overflowing case,
/// a == b == INT32_MIN, saturates to INT32_MAX.
int32_t saturatingRoundingDoublingHighMul(int32_t a, int32_t b);

/// Returns x / 2^exponent rounded to nearest, ties away from zero
/// (gemmlowp's RoundingDivideByPOT). Requires 0 <= exponent <= 31.
int32_t roundingDivideByPOT(int32_t x, int32_t exponent);

/// Returns x * M rounded, for M = multiplier * 2^(shift - 31): TFLite's
/// MultiplyByQuantizedMultiplier with double rounding:
///
///   RoundingDivideByPOT(SaturatingRoundingDoublingHighMul(
///       x * 2^max(shift, 0), multiplier), max(-shift, 0))
///
/// TFLite leaves an overflowing x * 2^left_shift undefined; Kiln saturates it
/// to the int32 range. Requires kMinShift <= shift <= kMaxShift.
int32_t multiplyByQuantizedMultiplier(int32_t x, int32_t multiplier,
                                      int32_t shift);

/// Returns the fixed-point form of |realMultiplier| exactly as TFLite's
/// QuantizeMultiplier does: frexp, round half away from zero of
/// q * 2^31, q == 2^31 renormalized to 2^30 with shift + 1, and values whose
/// shift would be below -31 (about M < 2^-32) flushed to {0, 0}. Fails for
/// negative, NaN or infinite values and for M >= 2^30 (shift > 30).
Result<QuantizedMultiplier> quantizeMultiplier(double realMultiplier);

/// Returns the real value multiplier * 2^(shift - 31) of |qm|.
double dequantizeMultiplier(QuantizedMultiplier qm);

//===----------------------------------------------------------------------===//
// Float boundary and parameter helpers
//===----------------------------------------------------------------------===//

/// Returns round_half_away_from_zero(x / scale) + zeroPoint clamped to
/// [-128, 127], with the division done in float32 (TFLite's AffineQuantize).
/// NaN quantizes to zeroPoint. Note: ONNX QuantizeLinear rounds half to even;
/// the two differ only when x / scale is exactly halfway between integers.
int8_t quantize(float x, float scale, int32_t zeroPoint);

/// Returns scale * (q - zeroPoint) computed in float32.
float dequantize(int8_t q, float scale, int32_t zeroPoint);

/// Returns the int32 bias for a float |bias| whose scale is
/// inputScale * weightScale (computed in double), rounded half away from zero
/// and saturated to the int32 range; 0 when that scale is 0.
int32_t quantizeBias(float bias, double inputScale, double weightScale);

/// The int8 range an operator's output is clamped to after requantization
/// (TFLite's quantized_activation_min/max).
struct ActivationRange {
  int32_t min = -128;
  int32_t max = 127;
};

/// Fused activations expressible as a clamp of the quantized output.
enum class Activation { None, Relu, Relu6 };

/// Returns TFLite's CalculateActivationRangeQuantized for an int8 output with
/// |scale| and |zeroPoint|: None -> [-128, 127]; Relu -> [max(-128, zp), 127];
/// Relu6 -> [max(-128, zp), min(127, zp + round(6 / scale))], where round is
/// half away from zero of a float32 division.
ActivationRange activationRange(Activation activation, float scale,
                                int32_t zeroPoint);

/// Returns the per-output-channel requantization multipliers of a
/// convolution or fully connected layer: quantizeMultiplier(inputScale *
/// weightScales[c] / outputScale) in double, as TFLite's
/// PopulateConvolutionQuantizationParams. One weight scale gives per-tensor.
Result<std::vector<QuantizedMultiplier>>
makeConvMultipliers(double inputScale, Span<const double> weightScales,
                    double outputScale);

//===----------------------------------------------------------------------===//
// Convolution and fully connected
//===----------------------------------------------------------------------===//

/// Requantization multipliers of a layer: one entry (per-tensor) or one per
/// output channel (per-channel). multipliers[c] must be >= 0 and shifts[c] in
/// [kMinShift, kMaxShift].
struct Requantization {
  Span<const int32_t> multipliers;
  Span<const int32_t> shifts;
};

/// Parameters of a 2-D convolution on NHWC int8 activations with OHWI int8
/// weights. Output channel o belongs to group g = o / (outputChannels /
/// groups) and reads input channels [g * Ig, (g + 1) * Ig) with
/// Ig = inputChannels / groups; weights are [outputChannels][kernelHeight]
/// [kernelWidth][Ig]. Depthwise convolution with channel multiplier m is
/// groups == inputChannels, outputChannels == m * inputChannels (output
/// channel o = c * m + j reads input channel c).
struct Conv2DParams {
  int64_t batch = 1;
  int64_t inputHeight = 1;
  int64_t inputWidth = 1;
  int64_t inputChannels = 1;
  int64_t outputChannels = 1;
  int64_t kernelHeight = 1;
  int64_t kernelWidth = 1;
  int64_t strideHeight = 1;
  int64_t strideWidth = 1;
  int64_t dilationHeight = 1;
  int64_t dilationWidth = 1;
  int64_t padTop = 0;
  int64_t padBottom = 0;
  int64_t padLeft = 0;
  int64_t padRight = 0;
  int64_t groups = 1;
  int32_t inputZeroPoint = 0;
  int32_t outputZeroPoint = 0;
  ActivationRange activation;

  /// Returns (H + padTop + padBottom - dilationH * (kH - 1) - 1) / strideH + 1
  /// (floor division); not positive when the window does not fit.
  int64_t outputHeight() const;
  /// Returns the output width, as outputHeight.
  int64_t outputWidth() const;
};

/// Computes, for every output element (n, y, x, o):
///
///   acc = bias[o] + sum over (ky, kx, i) of
///         w[o][ky][kx][i] * (in[n][iy][ix][g*Ig + i] - inputZeroPoint)
///   iy = y * strideH - padTop + ky * dilationH (same for x); taps outside
///        the input are skipped (they read the zero point)
///   out = clamp(multiplyByQuantizedMultiplier(acc, M[o]) + outputZeroPoint,
///               activation.min, activation.max)
///
/// |bias| may be empty (no bias). |rq| is per-tensor or per-channel.
Status conv2d(const Conv2DParams &params, Span<const int8_t> input,
              Span<const int8_t> weights, Span<const int32_t> bias,
              const Requantization &rq, Span<int8_t> output);

/// Parameters of a fully connected layer: input [batch][inputFeatures],
/// weights [outputFeatures][inputFeatures], output [batch][outputFeatures].
struct FullyConnectedParams {
  int64_t batch = 1;
  int64_t inputFeatures = 1;
  int64_t outputFeatures = 1;
  int32_t inputZeroPoint = 0;
  int32_t outputZeroPoint = 0;
  ActivationRange activation;
};

/// Computes out[b][o] = clamp(MBQM(bias[o] + sum_i w[o][i] * (in[b][i] -
/// inputZeroPoint), M[o]) + outputZeroPoint, activation), with per-tensor or
/// per-channel |rq| and optional |bias| (TFLite's FullyConnected int8).
Status fullyConnected(const FullyConnectedParams &params,
                      Span<const int8_t> input, Span<const int8_t> weights,
                      Span<const int32_t> bias, const Requantization &rq,
                      Span<int8_t> output);

//===----------------------------------------------------------------------===//
// Pooling
//===----------------------------------------------------------------------===//

/// Parameters of average and max pooling over NHWC int8 tensors. Input and
/// output share scale and zero point (the compiler inserts a requantize op
/// otherwise). The output size uses floor division, or ceil division when
/// |ceilMode|; every window must overlap at least one input element.
struct Pool2DParams {
  int64_t batch = 1;
  int64_t inputHeight = 1;
  int64_t inputWidth = 1;
  int64_t channels = 1;
  int64_t kernelHeight = 1;
  int64_t kernelWidth = 1;
  int64_t strideHeight = 1;
  int64_t strideWidth = 1;
  int64_t padTop = 0;
  int64_t padBottom = 0;
  int64_t padLeft = 0;
  int64_t padRight = 0;
  bool ceilMode = false;
  /// Average pooling only: count padded positions (those inside
  /// [-pad, size + pad)) in the divisor, each contributing zeroPoint to the
  /// sum (ONNX count_include_pad = 1). Default excludes them (TFLite).
  bool countIncludePad = false;
  /// The activations' zero point (used only by countIncludePad).
  int32_t zeroPoint = 0;
  ActivationRange activation;

  /// Returns the output height (floor or ceil division by the stride).
  int64_t outputHeight() const;
  /// Returns the output width.
  int64_t outputWidth() const;
};

/// TFLite's int8 AveragePool: sum the window's input values (and zeroPoint
/// for each counted padded position) into an int32, divide by the count
/// rounding half away from zero, (sum > 0 ? sum + count/2 : sum - count/2) /
/// count with truncating division, then clamp to |activation|.
Status averagePool2d(const Pool2DParams &params, Span<const int8_t> input,
                     Span<int8_t> output);

/// Max over the window's input elements (padding never wins), clamped to
/// |activation|.
Status maxPool2d(const Pool2DParams &params, Span<const int8_t> input,
                 Span<int8_t> output);

/// Parameters of global average pooling [N][H][W][C] -> [N][C] with
/// requantization (input and output scales may differ).
struct GlobalAveragePoolParams {
  int64_t batch = 1;
  int64_t height = 1;
  int64_t width = 1;
  int64_t channels = 1;
  int32_t inputZeroPoint = 0;
  int32_t outputZeroPoint = 0;
  /// quantizeMultiplier(inputScale / (outputScale * height * width)).
  QuantizedMultiplier multiplier;
  ActivationRange activation;
};

/// Returns the multiplier of GlobalAveragePoolParams.
Result<QuantizedMultiplier> makeGlobalAveragePoolMultiplier(double inputScale,
                                                            double outputScale,
                                                            int64_t count);

/// Computes out[n][c] = clamp(outputZeroPoint + MBQM(sum_{y,x} in[n][y][x][c]
/// - H*W*inputZeroPoint, multiplier), activation).
Status globalAveragePool(const GlobalAveragePoolParams &params,
                         Span<const int8_t> input, Span<int8_t> output);

//===----------------------------------------------------------------------===//
// Elementwise
//===----------------------------------------------------------------------===//

/// Integer parameters of TFLite's int8 Add (see makeAddParams).
struct AddParams {
  int32_t input1ZeroPoint = 0;
  int32_t input2ZeroPoint = 0;
  int32_t outputZeroPoint = 0;
  /// 20 for int8 in TFLite: inputs are scaled up by 2^20 before the input
  /// multipliers so that their rounding loses nothing.
  int32_t leftShift = 20;
  QuantizedMultiplier input1;
  QuantizedMultiplier input2;
  QuantizedMultiplier output;
  ActivationRange activation;
};

/// Returns TFLite's Add parameters: with twiceMax = 2 * max(s1, s2),
/// input1 = Q(s1 / twiceMax), input2 = Q(s2 / twiceMax), output =
/// Q(twiceMax / (2^20 * sOut)), all in double.
Result<AddParams> makeAddParams(double scale1, int32_t zeroPoint1,
                                double scale2, int32_t zeroPoint2,
                                double outputScale, int32_t outputZeroPoint,
                                ActivationRange activation = {});

/// Integer parameters of TFLite's int8 Mul (see makeMulParams).
struct MulParams {
  int32_t input1ZeroPoint = 0;
  int32_t input2ZeroPoint = 0;
  int32_t outputZeroPoint = 0;
  /// Q(s1 * s2 / sOut).
  QuantizedMultiplier output;
  ActivationRange activation;
};

/// Returns TFLite's Mul parameters.
Result<MulParams> makeMulParams(double scale1, int32_t zeroPoint1,
                                double scale2, int32_t zeroPoint2,
                                double outputScale, int32_t outputZeroPoint,
                                ActivationRange activation = {});

/// Returns the NumPy broadcast of |shape1| and |shape2| (right-aligned; each
/// pair of dims equal or one of them 1), or an error naming both shapes.
Result<std::vector<int64_t>> broadcastShapes(Span<const int64_t> shape1,
                                             Span<const int64_t> shape2);

/// TFLite's int8 Add, elementwise with NumPy broadcasting:
///
///   a = (x1 - zp1) * 2^leftShift, b = (x2 - zp2) * 2^leftShift
///   sum = MBQM(a, input1) + MBQM(b, input2)
///   out = clamp(MBQM(sum, output) + outputZeroPoint, activation)
///
/// |output| has the broadcast shape.
Status add(const AddParams &params, Span<const int64_t> shape1,
           Span<const int8_t> input1, Span<const int64_t> shape2,
           Span<const int8_t> input2, Span<int8_t> output);

/// TFLite's int8 Mul with NumPy broadcasting:
///   out = clamp(MBQM((x1 - zp1) * (x2 - zp2), output) + outputZeroPoint,
///               activation)
Status mul(const MulParams &params, Span<const int64_t> shape1,
           Span<const int8_t> input1, Span<const int64_t> shape2,
           Span<const int8_t> input2, Span<int8_t> output);

/// Parameters of an int8 -> int8 requantization (TFLite's Requantize).
struct RequantizeParams {
  int32_t inputZeroPoint = 0;
  int32_t outputZeroPoint = 0;
  /// quantizeMultiplier(inputScale / outputScale).
  QuantizedMultiplier multiplier;
  ActivationRange activation;
};

/// Returns quantizeMultiplier(inputScale / outputScale) (double).
Result<QuantizedMultiplier> makeRequantizeMultiplier(double inputScale,
                                                     double outputScale);

/// out = clamp(MBQM(x - inputZeroPoint, multiplier) + outputZeroPoint,
/// activation). A multiplier {2^30, 1} (real 1.0) is the identity on x - zp.
Status requantize(const RequantizeParams &params, Span<const int8_t> input,
                  Span<int8_t> output);

/// out = clamp(x, activation.min, activation.max): ReLU / ReLU6 on int8 data
/// whose input and output share quantization (see activationRange).
Status clampToActivation(ActivationRange activation, Span<const int8_t> input,
                         Span<int8_t> output);

/// One input of concat: its shape, data and the requantization into the
/// output's quantization.
struct ConcatInput {
  Span<const int64_t> shape;
  Span<const int8_t> data;
  int32_t zeroPoint = 0;
  /// makeRequantizeMultiplier(inputScale, outputScale); {2^30, 1} with equal
  /// zero points copies values unchanged.
  QuantizedMultiplier multiplier{1 << 30, 1};
};

/// Concatenates |inputs| along |axis| (negative counts from the end): each
/// value becomes clamp(MBQM(x - zp_i, M_i) + outputZeroPoint, -128, 127).
/// All shapes must agree except along |axis|.
Status concat(Span<const ConcatInput> inputs, int64_t axis,
              int32_t outputZeroPoint, Span<int8_t> output);

/// Constant padding: output dim d has size padsBefore[d] + shape[d] +
/// padsAfter[d]; padded elements hold |value| (the zero point for a zero
/// pad). Pads must be non-negative.
Status pad(Span<const int64_t> shape, Span<const int8_t> input,
           Span<const int64_t> padsBefore, Span<const int64_t> padsAfter,
           int8_t value, Span<int8_t> output);

//===----------------------------------------------------------------------===//
// Softmax
//===----------------------------------------------------------------------===//

/// The softmax exp table: entry d = round(2^K * exp(-beta * inputScale * d))
/// for d in [0, 255], where K is the largest value <= 23 with
/// rowLength * 2^K <= INT32_MAX. Computed by the compiler from the input
/// scale; kernels only do integer work with it.
using SoftmaxTable = std::array<int32_t, 256>;

/// Output quantization of int8 softmax (TFLite's): scale 1/256, zero point
/// -128.
constexpr double kSoftmaxOutputScale = 1.0 / 256.0;
constexpr int32_t kSoftmaxOutputZeroPoint = -128;

/// Returns the exp table for an input scale, a beta and a row length.
Result<SoftmaxTable> makeSoftmaxTable(double inputScale, double beta,
                                      int64_t rowLength);

/// Kiln's integer softmax over the last axis of [rows][rowLength]:
///
///   m = max_j x_j;  e_j = table[m - x_j]  (m - x_j in [0, 255])
///   S = sum_j e_j   (fits in int32 by the table's construction)
///   out_j = clamp((e_j * 256 + S / 2) / S - 128, -128, 127)
///
/// computed in uint32 with truncating division, i.e. e_j * 256 / S rounded
/// half up. The table must satisfy 0 <= table[d] <= table[0] <= 2^23 and
/// table[0] * rowLength <= INT32_MAX.
Status softmax(int64_t rows, int64_t rowLength, const SoftmaxTable &table,
               Span<const int8_t> input, Span<int8_t> output);

//===----------------------------------------------------------------------===//
// Float boundary over arrays
//===----------------------------------------------------------------------===//

/// Quantizes every element with quantize(x, scale, zeroPoint).
Status quantizeArray(Span<const float> input, float scale, int32_t zeroPoint,
                     Span<int8_t> output);

/// Dequantizes every element with dequantize(q, scale, zeroPoint).
Status dequantizeArray(Span<const int8_t> input, float scale, int32_t zeroPoint,
                       Span<float> output);

} // namespace kiln::ref

#endif // KILN_COMPILER_REFERENCE_INTEGERKERNELS_H
