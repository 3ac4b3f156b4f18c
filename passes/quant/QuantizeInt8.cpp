//===- QuantizeInt8.cpp - kiln-quantize-int8 --------------------*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// Lowers the float graph to the int8 kernels of IntegerOps.td (see
// Passes.td for the contract). The pass walks the function once, in order.
// Every float activation that gets an int8 "twin" has its float uses
// replaced by kiln.dequantize(twin); a later consumer that can run in int8
// takes the twin back from that dequantize, so int8 chains stay int8 and the
// dead dequantizes are removed by canonicalization. Twins keep the float
// graph's layout (NCHW); NHWC kernels are wrapped in transposes that
// kiln-cancel-transposes folds away.
//
// Conventions (the TFLite int8 scheme): activation parameters from
// kiln::quant::chooseAffineInt8Params (scale stored as float32, zero point
// nudged so 0.0 is exact); per-output-channel symmetric weights
// (max|w| / 127, round half away from zero, [-127, 127]); int32 biases
// round(b / (s_in * s_w)); requantization multipliers from
// kiln::ref::makeConvMultipliers and friends.
//
//===----------------------------------------------------------------------===//

#include "passes/quant/Passes.h"

#include "compiler/reference/IntegerKernels.h"
#include "compiler/support/Numeric.h"
#include "compiler/support/QuantParams.h"
#include "compiler/support/TensorAttr.h"
#include "dialects/kiln/KilnOps.h"
#include "kiln/quant/Int8.h"

#include "mlir/Dialect/Quant/IR/QuantTypes.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "llvm/ADT/DenseMap.h"

#include <cmath>

namespace mlir::kiln {

#define GEN_PASS_DEF_KILNQUANTIZEINT8PASS
#include "passes/quant/Passes.h.inc"

namespace {

using ::kiln::QuantParams;
using ::kiln::Tensor;

constexpr int64_t kToNhwc[] = {0, 2, 3, 1};
constexpr int64_t kToNchw[] = {0, 3, 1, 2};

/// Returns round-half-away-from-zero of |x| (TFLite's std::round).
int64_t roundAway(double x) { return static_cast<int64_t>(std::round(x)); }

/// Returns the constant tensor behind |value|, if any.
std::optional<Tensor> constantOf(Value value) {
  auto constant = value ? value.getDefiningOp<ConstantOp>() : ConstantOp();
  if (!constant)
    return std::nullopt;
  return ::kiln::fromElementsAttr(constant.getValue());
}

/// The int8 form of a weight: values (row-major, [out][rest]) and one
/// scale per output row, either quantized here or read from an ONNX
/// dequantize_linear of a constant (a QDQ model's own quantization).
struct Int8Weight {
  std::vector<int64_t> shape;
  std::vector<int8_t> values;
  std::vector<double> scales;
};

/// A QDQ model's bias, `dequantize_linear(int32 constant, scales, zero
/// points)`: per channel (or one entry for all).
struct QdqBias {
  std::vector<int64_t> values;
  std::vector<double> scales;
  std::vector<int64_t> zeroPoints;
};

/// Returns the QDQ bias behind |bias|, if it is one.
std::optional<QdqBias> qdqBiasOf(Value bias);

class Quantizer {
public:
  explicit Quantizer(func::FuncOp func)
      : func(func), context(func.getContext()), builder(context) {}

  LogicalResult run();

private:
  //--- Parameters ---------------------------------------------------------//
  std::optional<QuantParams> paramsOf(Value value);
  Type int8TypeFor(Value floatValue, QuantParams params) {
    auto type = cast<RankedTensorType>(floatValue.getType());
    return RankedTensorType::get(
        type.getShape(),
        ::kiln::makeInt8Type(context, params.scale, params.zeroPoint));
  }

  //--- Twins --------------------------------------------------------------//
  Value quantized(Value value);
  void setTwin(Value floatValue, Value twin);
  Value transpose(Location loc, Value value, ArrayRef<int64_t> perm);
  /// Returns the int8 rows of |weight| ([outAxisRows][rest]); with
  /// |transposed|, |weight| is a QDQ [K, M] matrix with M = outAxisRows.
  FailureOr<Int8Weight> weightOf(Value weight, int64_t outAxisRows,
                                 bool transposed = false);
  Value weightConstant(Location loc, const Int8Weight &weight,
                       ArrayRef<int64_t> shape);
  Value biasConstant(Location loc, Value bias, double inputScale,
                     ArrayRef<double> weightScales, int64_t channels,
                     double extraScale = 1.0, const Tensor *override = nullptr);
  std::optional<QuantParams> outputParams(Operation *op);

  //--- Op lowering --------------------------------------------------------//
  LogicalResult lowerConv(ConvOp op);
  LogicalResult lowerFullyConnected(Operation *op, Value input, Value weight,
                                    bool weightIsKxM, Value bias,
                                    double alpha, double beta);
  LogicalResult lowerClamp(Operation *op, std::optional<double> lo,
                           std::optional<double> hi);
  template <typename QOp, typename FloatOp>
  LogicalResult lowerPool(FloatOp op);
  LogicalResult lowerGlobalPool(Operation *op, bool isMax);
  LogicalResult lowerAddMul(Operation *op, bool isAdd);
  LogicalResult lowerConcat(ConcatOp op);
  LogicalResult lowerSoftmax(SoftmaxOp op);
  LogicalResult lowerLayoutOp(Operation *op);
  void keepFloat(Operation *op, StringRef reason);

  func::FuncOp func;
  MLIRContext *context;
  OpBuilder builder;
  /// Ops whose output quantization was taken from their activation user.
  llvm::DenseMap<Operation *, QuantParams> fusedParams;
};

std::optional<QuantParams> Quantizer::paramsOf(Value value) {
  if (auto exact = getQParams(value))
    return QuantParams{exact->first, exact->second};
  std::optional<Range> range = getRange(value);
  if (!range) {
    // A constant activation (e.g. a decomposed BatchNorm's offset) gets the
    // range of its own values.
    std::optional<Tensor> constant = constantOf(value);
    if (!constant || !::kiln::isFloat(constant->dtype))
      return std::nullopt;
    double lo = 0, hi = 0;
    for (int64_t i = 0; i < constant->numElements(); ++i) {
      lo = std::min(lo, ::kiln::loadFloat(*constant, i));
      hi = std::max(hi, ::kiln::loadFloat(*constant, i));
    }
    range = Range{lo, hi};
  }
  auto params = ::kiln::quant::chooseAffineInt8Params(
      static_cast<float>(range->first), static_cast<float>(range->second));
  if (!params)
    return std::nullopt;
  return QuantParams{params->scale, params->zeroPoint};
}

Value Quantizer::quantized(Value value) {
  if (auto dq = value.getDefiningOp<DequantizeOp>())
    return dq.getInput();
  auto type = dyn_cast<RankedTensorType>(value.getType());
  if (!type || !type.getElementType().isF32())
    return {};
  std::optional<QuantParams> params = paramsOf(value);
  if (!params)
    return {};
  OpBuilder::InsertionGuard guard(builder);
  if (auto arg = dyn_cast<BlockArgument>(value))
    builder.setInsertionPointToStart(arg.getOwner());
  else
    builder.setInsertionPointAfter(value.getDefiningOp());
  Type qtype = int8TypeFor(value, *params);
  // Constants quantize at compile time.
  if (std::optional<Tensor> constant = constantOf(value)) {
    Tensor q("", ::kiln::DType::I8, constant->shape);
    for (int64_t i = 0; i < q.numElements(); ++i)
      q.as<int8_t>()[i] = ::kiln::ref::quantize(
          static_cast<float>(::kiln::loadFloat(*constant, i)),
          static_cast<float>(params->scale), params->zeroPoint);
    return ConstantOp::create(
        builder, value.getLoc(), cast<RankedTensorType>(qtype),
        ::kiln::toElementsAttr(q, cast<RankedTensorType>(qtype), "q"));
  }
  return QuantizeOp::create(builder, value.getLoc(), qtype, value);
}

void Quantizer::setTwin(Value floatValue, Value twin) {
  OpBuilder::InsertionGuard guard(builder);
  builder.setInsertionPointAfterValue(twin);
  auto dq = DequantizeOp::create(builder, floatValue.getLoc(),
                                 floatValue.getType(), twin);
  floatValue.replaceAllUsesWith(dq.getResult());
}

Value Quantizer::transpose(Location loc, Value value, ArrayRef<int64_t> perm) {
  auto type = cast<RankedTensorType>(value.getType());
  SmallVector<int64_t> shape;
  for (int64_t p : perm)
    shape.push_back(type.getDimSize(p));
  return TransposeOp::create(
      builder, loc, RankedTensorType::get(shape, type.getElementType()),
      value, builder.getDenseI64ArrayAttr(perm));
}

FailureOr<Int8Weight> Quantizer::weightOf(Value weight, int64_t rows,
                                          bool transposed) {
  Int8Weight result;
  // A QDQ model's weight: dequantize_linear(int8 constant, scales, 0).
  if (auto dq = weight.getDefiningOp<DequantizeLinearOp>()) {
    std::optional<Tensor> q = constantOf(dq.getInput());
    std::optional<Tensor> scale = constantOf(dq.getScale());
    std::optional<Tensor> zero = constantOf(dq.getZeroPoint());
    if (!q || !scale || q->dtype != ::kiln::DType::I8 ||
        dq.getBlockSize() != 0 || (transposed && q->shape.size() != 2))
      return failure();
    if (zero)
      for (int64_t i = 0; i < zero->numElements(); ++i)
        if (::kiln::loadInt(*zero, i) != 0)
          return failure();
    // Output channels run along axis 0, or axis 1 of a [K, M] weight.
    int64_t axis = dq.getAxis();
    if (axis < 0)
      axis += static_cast<int64_t>(q->shape.size());
    if (scale->numElements() != 1 &&
        (scale->numElements() != rows || axis != (transposed ? 1 : 0)))
      return failure();
    result.shape = q->shape;
    if (transposed) {
      // [K, M] -> [M, K] rows.
      int64_t k = q->shape[0], m = q->shape[1];
      result.shape = {m, k};
      result.values.resize(q->numElements());
      for (int64_t r = 0; r < k; ++r)
        for (int64_t c = 0; c < m; ++c)
          result.values[c * k + r] = q->as<int8_t>()[r * m + c];
    } else {
      result.values.assign(q->as<int8_t>(),
                           q->as<int8_t>() + q->numElements());
    }
    for (int64_t r = 0; r < rows; ++r)
      result.scales.push_back(
          ::kiln::loadFloat(*scale, scale->numElements() == 1 ? 0 : r));
    // TFLite weights never use -128 (symmetric range).
    for (int8_t &v : result.values)
      v = std::max<int8_t>(v, -127);
    return result;
  }
  std::optional<Tensor> w = constantOf(weight);
  if (transposed || !w || w->dtype != ::kiln::DType::F32 ||
      w->numElements() % rows)
    return failure();
  int64_t cols = w->numElements() / rows;
  auto q = ::kiln::quant::quantizeWeightsInt8PerChannel(
      ::kiln::quant::MatrixRef(w->as<float>(), rows, cols));
  if (!q)
    return failure();
  result.shape = w->shape;
  result.values = q->values;
  result.scales.assign(q->scales.begin(), q->scales.end());
  return result;
}

Value Quantizer::weightConstant(Location loc, const Int8Weight &weight,
                                ArrayRef<int64_t> shape) {
  Tensor tensor("", ::kiln::DType::I8,
                std::vector<int64_t>(shape.begin(), shape.end()));
  std::copy(weight.values.begin(), weight.values.end(), tensor.as<int8_t>());
  auto type = RankedTensorType::get(
      shape, ::kiln::makeInt8PerAxisType(context, weight.scales, 0));
  return ConstantOp::create(builder, loc, type,
                            ::kiln::toElementsAttr(tensor, type, "qw"));
}

std::optional<QdqBias> qdqBiasOf(Value bias) {
  auto dq = bias ? bias.getDefiningOp<DequantizeLinearOp>()
                 : DequantizeLinearOp();
  if (!dq || dq.getBlockSize() != 0)
    return std::nullopt;
  std::optional<Tensor> q = constantOf(dq.getInput());
  std::optional<Tensor> scale = constantOf(dq.getScale());
  std::optional<Tensor> zero = constantOf(dq.getZeroPoint());
  if (!q || !scale || q->dtype != ::kiln::DType::I32 ||
      (scale->numElements() != 1 &&
       scale->numElements() != q->numElements()))
    return std::nullopt;
  QdqBias result;
  for (int64_t c = 0; c < q->numElements(); ++c) {
    result.values.push_back(q->as<int32_t>()[c]);
    result.scales.push_back(
        ::kiln::loadFloat(*scale, scale->numElements() == 1 ? 0 : c));
    result.zeroPoints.push_back(
        zero ? ::kiln::loadInt(*zero, zero->numElements() == 1 ? 0 : c) : 0);
  }
  return result;
}

Value Quantizer::biasConstant(Location loc, Value bias, double inputScale,
                              ArrayRef<double> weightScales, int64_t channels,
                              double extraScale, const Tensor *override) {
  Tensor q("", ::kiln::DType::I32, {channels});
  std::optional<QdqBias> qdq = override ? std::nullopt : qdqBiasOf(bias);
  std::optional<Tensor> b = override ? std::optional<Tensor>(*override)
                                     : constantOf(bias);
  for (int64_t c = 0; c < channels; ++c) {
    double scale = inputScale * weightScales[weightScales.size() == 1 ? 0 : c];
    double value = 0.0;
    if (qdq) {
      // A QDQ model's int32 bias: keep its integers when they are on the
      // accumulator's grid (scale = input scale * weight scale, zero point
      // 0, as quantizers write them); else move its real value onto it.
      size_t i = qdq->values.size() == 1 ? 0 : c;
      double biasScale = qdq->scales[i];
      if (qdq->zeroPoints[i] == 0 && extraScale == 1.0 &&
          std::abs(biasScale - scale) <= 1e-6 * scale)
        value = qdq->values[i];
      else
        value = roundAway(extraScale * (qdq->values[i] - qdq->zeroPoints[i]) *
                          biasScale / scale);
    } else if (b) {
      double real =
          extraScale * ::kiln::loadFloat(*b, b->numElements() == 1 ? 0 : c);
      value = roundAway(real / scale);
    }
    q.as<int32_t>()[c] = static_cast<int32_t>(
        std::clamp<double>(value, INT32_MIN, INT32_MAX));
  }
  auto type = RankedTensorType::get({channels}, builder.getI32Type());
  return ConstantOp::create(builder, loc, type,
                            ::kiln::toElementsAttr(q, type, "qb"));
}

/// Returns the output parameters of |op|: those of its ReLU/Clip user when
/// the activation will fuse into it (TFLite uses the post-activation range),
/// else its own.
std::optional<QuantParams> Quantizer::outputParams(Operation *op) {
  Value result = op->getResult(0);
  if (result.hasOneUse()) {
    Operation *user = *result.getUsers().begin();
    if (isa<ReluOp, ClipOp>(user))
      if (std::optional<QuantParams> params = paramsOf(user->getResult(0))) {
        fusedParams[user] = *params;
        return params;
      }
  }
  return paramsOf(result);
}

/// The largest right shift singleRounding folds into the multiplier: the
/// folded multiplier keeps at least 31 - 12 = 19 significant bits (relative
/// error below 2^-19, no more than 2.5e-4 of a step on a value of 128 steps),
/// while a kept shift of 12 or more makes the double rounding's error window
/// at most 2^-13 of a step.
constexpr int32_t kMaxFoldedShift = 12;

/// Returns |m| (TFLite's normalized multiplier, in [2^30, 2^31)) with its
/// right shift folded into the multiplier when the shift is at most
/// kMaxFoldedShift: the same real multiplier M, as (round(M * 2^31), 0).
///
/// Why: MultiplyByQuantizedMultiplier rounds twice when it shifts right,
/// once in SaturatingRoundingDoublingHighMul (to 2^-shift of a step) and
/// once in RoundingDivideByPOT. A value within 2^-(shift+1) of a step below
/// a rounding boundary is pushed onto the boundary by the first rounding and
/// across it by the second, so about 2^-(shift+1) of all outputs move one
/// step away from zero. For the typical shifts 7..9 that is a bias of
/// +0.001 .. +0.004 steps on every ReLU layer, and it accumulates through a
/// network (measured: 0.5 dB of output SQNR on DS-CNN against onnxruntime,
/// which requantizes with one float rounding; bench/quant_accuracy). With no
/// right shift the kernel rounds once. The kernels' arithmetic is unchanged
/// (TFLite's MultiplyByQuantizedMultiplier accepts any multiplier >= 0); only
/// the compiler's choice of the constants differs.
static ::kiln::ref::QuantizedMultiplier
singleRounding(::kiln::ref::QuantizedMultiplier m) {
  if (m.shift >= 0 || m.shift < -kMaxFoldedShift)
    return m;
  int32_t right = -m.shift;
  int64_t folded = (static_cast<int64_t>(m.multiplier) +
                    (static_cast<int64_t>(1) << (right - 1))) >>
                   right;
  return {static_cast<int32_t>(folded), 0};
}

/// Fills |multipliers| / |shifts| for per-channel requantization.
static LogicalResult convMultipliers(Operation *op, double inputScale,
                                     ArrayRef<double> weightScales,
                                     double outputScale,
                                     SmallVectorImpl<int32_t> &multipliers,
                                     SmallVectorImpl<int32_t> &shifts) {
  auto result = ::kiln::ref::makeConvMultipliers(
      inputScale, {weightScales.data(), weightScales.size()}, outputScale);
  if (!result)
    return op->emitOpError("cannot represent the requantization scale: ")
           << result.status().str();
  for (const auto &normalized : *result) {
    ::kiln::ref::QuantizedMultiplier m = singleRounding(normalized);
    multipliers.push_back(m.multiplier);
    shifts.push_back(m.shift);
  }
  return success();
}

void Quantizer::keepFloat(Operation *op, StringRef reason) {
  // Only report ops that compute on activations.
  if (isa<ConstantOp>(op) || op->getNumResults() == 0)
    return;
  op->emitRemark() << "'" << op->getName().getStringRef()
                   << "' stays float: " << reason;
}

LogicalResult Quantizer::lowerConv(ConvOp op) {
  auto inType = op.getInput().getType();
  if (inType.getRank() != 4)
    return keepFloat(op, "only 2-D convolutions have an int8 kernel"),
           success();
  int64_t channels = op.getType().getDimSize(1);
  auto weight = weightOf(op.getWeight(), channels);
  if (failed(weight))
    return keepFloat(op, "the weight is not a float32 constant"), success();
  Value x = quantized(op.getInput());
  std::optional<QuantParams> out = outputParams(op);
  if (!x || !out)
    return keepFloat(op, "no calibration range"), success();
  builder.setInsertionPoint(op);
  Location loc = op.getLoc();
  double inScale = ::kiln::perTensorParams(x.getType()).scale;
  SmallVector<int32_t> multipliers, shifts;
  if (failed(convMultipliers(op, inScale, weight->scales, out->scale,
                             multipliers, shifts)))
    return failure();
  // OIHW -> OHWI.
  auto w = weight->shape;
  Int8Weight ohwi = *weight;
  for (int64_t o = 0; o < w[0]; ++o)
    for (int64_t i = 0; i < w[1]; ++i)
      for (int64_t h = 0; h < w[2]; ++h)
        for (int64_t k = 0; k < w[3]; ++k)
          ohwi.values[((o * w[2] + h) * w[3] + k) * w[1] + i] =
              weight->values[((o * w[1] + i) * w[2] + h) * w[3] + k];
  Value qw = weightConstant(loc, ohwi, {w[0], w[2], w[3], w[1]});
  Value qb =
      biasConstant(loc, op.getBias(), inScale, weight->scales, channels);
  Value nhwc = transpose(loc, x, kToNhwc);
  auto outType = cast<RankedTensorType>(int8TypeFor(op.getResult(), *out));
  ArrayRef<int64_t> s = outType.getShape();
  auto qtype = RankedTensorType::get({s[0], s[2], s[3], s[1]},
                                     outType.getElementType());
  ArrayRef<int64_t> p = op.getPads(); // [top, left, bottom, right]
  auto conv = QConv2DOp::create(
      builder, loc, qtype, nhwc, qw, qb, op.getStridesAttr(),
      builder.getDenseI64ArrayAttr({p[0], p[1], p[2], p[3]}),
      op.getDilationsAttr(), builder.getI64IntegerAttr(op.getGroup()),
      builder.getDenseI32ArrayAttr(multipliers),
      builder.getDenseI32ArrayAttr(shifts), builder.getI32IntegerAttr(-128),
      builder.getI32IntegerAttr(127));
  setTwin(op.getResult(), transpose(loc, conv.getResult(), kToNchw));
  return success();
}

LogicalResult Quantizer::lowerFullyConnected(Operation *op, Value input,
                                             Value weight, bool weightIsKxM,
                                             Value bias, double alpha,
                                             double beta) {
  auto inType = cast<RankedTensorType>(input.getType());
  auto outType = cast<RankedTensorType>(op->getResult(0).getType());
  int64_t k = inType.getShape().back();
  int64_t m = outType.getShape().back();
  // Weights as [M, K] rows.
  std::optional<Tensor> w = constantOf(weight);
  Int8Weight rowsWeight;
  if (weight.getDefiningOp<DequantizeLinearOp>()) {
    // A QDQ model's weight keeps its integers; a positive alpha scales the
    // real weights, so it folds into their scales.
    auto q = weightOf(weight, m, /*transposed=*/weightIsKxM);
    if (failed(q) || !(alpha > 0.0))
      return keepFloat(op, "the weight is not symmetric int8 per tensor or "
                           "per output channel"),
             success();
    rowsWeight = *q;
    for (double &scale : rowsWeight.scales)
      scale *= alpha;
  } else if (weightIsKxM) {
    if (!w || w->dtype != ::kiln::DType::F32)
      return keepFloat(op, "the weight is not a float32 constant"), success();
    Tensor t("", ::kiln::DType::F32, {m, k});
    for (int64_t r = 0; r < k; ++r)
      for (int64_t c = 0; c < m; ++c)
        t.as<float>()[c * k + r] = w->as<float>()[r * m + c] *
                                   static_cast<float>(alpha);
    auto q = ::kiln::quant::quantizeWeightsInt8PerChannel(
        ::kiln::quant::MatrixRef(t.as<float>(), m, k));
    if (!q)
      return keepFloat(op, "the weight cannot be quantized"), success();
    rowsWeight.values = q->values;
    rowsWeight.scales.assign(q->scales.begin(), q->scales.end());
  } else {
    auto q = weightOf(weight, m);
    if (failed(q) || alpha != 1.0)
      return keepFloat(op, "the weight is not a float32 constant"), success();
    rowsWeight = *q;
  }
  Value x = quantized(input);
  std::optional<QuantParams> out = outputParams(op);
  if (!x || !out)
    return keepFloat(op, "no calibration range"), success();
  builder.setInsertionPoint(op);
  Location loc = op->getLoc();
  double inScale = ::kiln::perTensorParams(x.getType()).scale;
  SmallVector<int32_t> multipliers, shifts;
  if (failed(convMultipliers(op, inScale, rowsWeight.scales, out->scale,
                             multipliers, shifts)))
    return failure();
  Value qw = weightConstant(loc, rowsWeight, {m, k});
  Value qb;
  if (bias) {
    std::optional<Tensor> b = constantOf(bias);
    std::optional<QdqBias> qdq = qdqBiasOf(bias);
    int64_t size = qdq ? static_cast<int64_t>(qdq->values.size())
                       : (b ? b->numElements() : 0);
    if ((!b && !qdq) || (size != m && size != 1))
      return keepFloat(op, "the bias is not a constant row"), success();
    qb = biasConstant(loc, bias, inScale, rowsWeight.scales, m, beta);
  } else {
    qb = biasConstant(loc, Value(), inScale, rowsWeight.scales, m);
  }
  // Flatten leading dimensions into rows.
  int64_t rows = inType.getNumElements() / k;
  Value flat = x;
  auto xType = cast<RankedTensorType>(x.getType());
  if (xType.getRank() != 2)
    flat = ReshapeOp::create(
        builder, loc, RankedTensorType::get({rows, k}, xType.getElementType()),
        x);
  Type element = ::kiln::makeInt8Type(context, out->scale, out->zeroPoint);
  auto fc = QFullyConnectedOp::create(
      builder, loc, RankedTensorType::get({rows, m}, element), flat, qw, qb,
      builder.getDenseI32ArrayAttr(multipliers),
      builder.getDenseI32ArrayAttr(shifts), builder.getI32IntegerAttr(-128),
      builder.getI32IntegerAttr(127));
  Value result = fc.getResult();
  if (outType.getRank() != 2)
    result = ReshapeOp::create(
        builder, loc, RankedTensorType::get(outType.getShape(), element),
        result);
  setTwin(op->getResult(0), result);
  return success();
}

LogicalResult Quantizer::lowerClamp(Operation *op, std::optional<double> lo,
                                    std::optional<double> hi) {
  Value x = quantized(op->getOperand(0));
  if (!x)
    return keepFloat(op, "no calibration range"), success();
  QuantParams p = ::kiln::perTensorParams(x.getType());
  int32_t qlo = -128, qhi = 127;
  if (lo)
    qlo = static_cast<int32_t>(std::clamp<int64_t>(
        p.zeroPoint + roundAway(*lo / p.scale), -128, 127));
  if (hi)
    qhi = static_cast<int32_t>(std::clamp<int64_t>(
        p.zeroPoint + roundAway(*hi / p.scale), -128, 127));
  builder.setInsertionPoint(op);
  auto clamp = QClampOp::create(builder, op->getLoc(), x.getType(), x,
                                builder.getI32IntegerAttr(qlo),
                                builder.getI32IntegerAttr(qhi));
  setTwin(op->getResult(0), clamp.getResult());
  return success();
}

template <typename QOp, typename FloatOp>
LogicalResult Quantizer::lowerPool(FloatOp op) {
  if (op.getInput().getType().getRank() != 4 ||
      llvm::any_of(op.getDilations(), [](int64_t d) { return d != 1; }))
    return keepFloat(op, "only undilated 2-D pooling has an int8 kernel"),
           success();
  Value x = quantized(op.getInput());
  if (!x)
    return keepFloat(op, "no calibration range"), success();
  builder.setInsertionPoint(op);
  Location loc = op.getLoc();
  Value nhwc = transpose(loc, x, kToNhwc);
  ArrayRef<int64_t> s = op.getType().getShape();
  auto qtype = RankedTensorType::get(
      {s[0], s[2], s[3], s[1]},
      cast<RankedTensorType>(x.getType()).getElementType());
  bool countPad = false;
  if constexpr (std::is_same_v<FloatOp, AvgPoolOp>)
    countPad = op.getCountIncludePad();
  auto pool = QOp::create(builder, loc, qtype, nhwc, op.getKernelShapeAttr(),
                          op.getStridesAttr(), op.getPadsAttr(),
                          builder.getBoolAttr(op.getCeilMode()),
                          builder.getBoolAttr(countPad),
                          builder.getI32IntegerAttr(-128),
                          builder.getI32IntegerAttr(127));
  setTwin(op.getResult(), transpose(loc, pool.getResult(), kToNchw));
  return success();
}

LogicalResult Quantizer::lowerGlobalPool(Operation *op, bool isMax) {
  auto inType = cast<RankedTensorType>(op->getOperand(0).getType());
  if (inType.getRank() != 4)
    return keepFloat(op, "only 2-D global pooling has an int8 kernel"),
           success();
  Value x = quantized(op->getOperand(0));
  std::optional<QuantParams> out =
      isMax ? std::optional<QuantParams>(::kiln::QuantParams{})
            : paramsOf(op->getResult(0));
  if (!x || !out)
    return keepFloat(op, "no calibration range"), success();
  builder.setInsertionPoint(op);
  Location loc = op->getLoc();
  Value nhwc = transpose(loc, x, kToNhwc);
  ArrayRef<int64_t> s = inType.getShape();
  Value result;
  if (isMax) {
    auto qtype = RankedTensorType::get(
        {s[0], 1, 1, s[1]},
        cast<RankedTensorType>(x.getType()).getElementType());
    result = QMaxPool2DOp::create(
        builder, loc, qtype, nhwc, builder.getDenseI64ArrayAttr({s[2], s[3]}),
        builder.getDenseI64ArrayAttr({1, 1}),
        builder.getDenseI64ArrayAttr({0, 0, 0, 0}), builder.getBoolAttr(false),
        builder.getBoolAttr(false), builder.getI32IntegerAttr(-128),
        builder.getI32IntegerAttr(127));
  } else {
    double inScale = ::kiln::perTensorParams(x.getType()).scale;
    auto m = ::kiln::ref::makeGlobalAveragePoolMultiplier(inScale, out->scale,
                                                          s[2] * s[3]);
    if (!m)
      return op->emitOpError("cannot represent the pooling scale");
    *m = singleRounding(*m);
    auto qtype = RankedTensorType::get(
        {s[0], 1, 1, s[1]},
        ::kiln::makeInt8Type(context, out->scale, out->zeroPoint));
    result = QGlobalAvgPool2DOp::create(
        builder, loc, qtype, nhwc, builder.getI32IntegerAttr(m->multiplier),
        builder.getI32IntegerAttr(m->shift), builder.getI32IntegerAttr(-128),
        builder.getI32IntegerAttr(127));
  }
  setTwin(op->getResult(0), transpose(loc, result, kToNchw));
  return success();
}

LogicalResult Quantizer::lowerAddMul(Operation *op, bool isAdd) {
  Value a = quantized(op->getOperand(0));
  Value b = quantized(op->getOperand(1));
  std::optional<QuantParams> out = isAdd ? outputParams(op)
                                         : paramsOf(op->getResult(0));
  if (!a || !b || !out)
    return keepFloat(op, "no calibration range"), success();
  builder.setInsertionPoint(op);
  QuantParams pa = ::kiln::perTensorParams(a.getType());
  QuantParams pb = ::kiln::perTensorParams(b.getType());
  Type qtype = int8TypeFor(op->getResult(0), *out);
  Value result;
  if (isAdd) {
    auto params = ::kiln::ref::makeAddParams(pa.scale, pa.zeroPoint, pb.scale,
                                             pb.zeroPoint, out->scale,
                                             out->zeroPoint);
    if (!params)
      return op->emitOpError("cannot represent the add scales");
    result = QAddOp::create(
        builder, op->getLoc(), qtype, a, b,
        builder.getI32IntegerAttr(params->leftShift),
        builder.getI32IntegerAttr(params->input1.multiplier),
        builder.getI32IntegerAttr(params->input1.shift),
        builder.getI32IntegerAttr(params->input2.multiplier),
        builder.getI32IntegerAttr(params->input2.shift),
        builder.getI32IntegerAttr(params->output.multiplier),
        builder.getI32IntegerAttr(params->output.shift),
        builder.getI32IntegerAttr(-128), builder.getI32IntegerAttr(127));
  } else {
    auto params = ::kiln::ref::makeMulParams(pa.scale, pa.zeroPoint, pb.scale,
                                             pb.zeroPoint, out->scale,
                                             out->zeroPoint);
    if (!params)
      return op->emitOpError("cannot represent the mul scales");
    params->output = singleRounding(params->output);
    result = QMulOp::create(builder, op->getLoc(), qtype, a, b,
                            builder.getI32IntegerAttr(params->output.multiplier),
                            builder.getI32IntegerAttr(params->output.shift),
                            builder.getI32IntegerAttr(-128),
                            builder.getI32IntegerAttr(127));
  }
  setTwin(op->getResult(0), result);
  return success();
}

LogicalResult Quantizer::lowerConcat(ConcatOp op) {
  SmallVector<Value> inputs;
  for (Value input : op.getInputs()) {
    Value q = quantized(input);
    if (!q)
      return keepFloat(op, "no calibration range"), success();
    inputs.push_back(q);
  }
  std::optional<QuantParams> out = paramsOf(op.getResult());
  if (!out)
    return keepFloat(op, "no calibration range"), success();
  builder.setInsertionPoint(op);
  SmallVector<int32_t> multipliers, shifts;
  for (Value q : inputs) {
    QuantParams p = ::kiln::perTensorParams(q.getType());
    auto m = ::kiln::ref::makeRequantizeMultiplier(p.scale, out->scale);
    if (!m)
      return op.emitOpError("cannot represent the concat scales");
    *m = singleRounding(*m);
    multipliers.push_back(m->multiplier);
    shifts.push_back(m->shift);
  }
  auto concat = QConcatOp::create(
      builder, op.getLoc(), int8TypeFor(op.getResult(), *out), inputs,
      builder.getI64IntegerAttr(op.getAxis()),
      builder.getDenseI32ArrayAttr(multipliers),
      builder.getDenseI32ArrayAttr(shifts));
  setTwin(op.getResult(), concat.getResult());
  return success();
}

LogicalResult Quantizer::lowerSoftmax(SoftmaxOp op) {
  auto type = op.getType();
  if (static_cast<int64_t>(op.getAxis()) != type.getRank() - 1)
    return keepFloat(op, "int8 softmax runs over the last axis only"),
           success();
  Value x = quantized(op.getInput());
  if (!x)
    return keepFloat(op, "no calibration range"), success();
  double inScale = ::kiln::perTensorParams(x.getType()).scale;
  auto table = ::kiln::ref::makeSoftmaxTable(inScale, 1.0,
                                             type.getShape().back());
  if (!table)
    return keepFloat(op, "the exp table does not fit in int32"), success();
  builder.setInsertionPoint(op);
  Type qtype = RankedTensorType::get(
      type.getShape(),
      ::kiln::makeInt8Type(context, ::kiln::ref::kSoftmaxOutputScale,
                           ::kiln::ref::kSoftmaxOutputZeroPoint));
  auto softmax = QSoftmaxOp::create(
      builder, op.getLoc(), qtype, x,
      builder.getDenseI32ArrayAttr(
          SmallVector<int32_t>(table->begin(), table->end())));
  Value result = softmax.getResult();
  // The kernel's output grid is fixed (scale 1/256, zero point -128); a QDQ
  // model that quantizes the probabilities otherwise (onnxruntime: 1/255)
  // gets them requantized onto its own grid.
  if (auto exact = getQParams(op.getResult());
      exact && (exact->first != ::kiln::ref::kSoftmaxOutputScale ||
                exact->second != ::kiln::ref::kSoftmaxOutputZeroPoint)) {
    auto m = ::kiln::ref::makeRequantizeMultiplier(
        ::kiln::ref::kSoftmaxOutputScale, exact->first);
    if (!m)
      return op.emitOpError("cannot represent the softmax output scale");
    *m = singleRounding(*m);
    result = RequantizeOp::create(
        builder, op.getLoc(),
        int8TypeFor(op.getResult(), {exact->first, exact->second}), result,
        builder.getI32IntegerAttr(m->multiplier),
        builder.getI32IntegerAttr(m->shift));
  }
  setTwin(op.getResult(), result);
  return success();
}

/// Reshape, transpose and zero-padding move int8 values unchanged.
LogicalResult Quantizer::lowerLayoutOp(Operation *op) {
  Value x = quantized(op->getOperand(0));
  if (!x)
    return keepFloat(op, "no calibration range"), success();
  if (auto pad = dyn_cast<PadOp>(op)) {
    bool zeroFill = pad.getMode() == "constant" &&
                    (!pad.getValueAttr() ||
                     cast<FloatAttr>(pad.getValueAttr()).getValueAsDouble() ==
                         0.0);
    if (!zeroFill)
      return keepFloat(op, "only zero padding has an int8 form"), success();
  }
  builder.setInsertionPoint(op);
  auto resultType = cast<RankedTensorType>(op->getResult(0).getType());
  Type qtype = RankedTensorType::get(
      resultType.getShape(),
      cast<RankedTensorType>(x.getType()).getElementType());
  OperationState state(op->getLoc(), op->getName());
  state.addOperands(x);
  state.addTypes(qtype);
  for (NamedAttribute attr : op->getAttrs())
    if (attr.getName() != "kiln.ranges" && attr.getName() != "value")
      state.addAttribute(attr.getName(), attr.getValue());
  Operation *moved = builder.create(state);
  setTwin(op->getResult(0), moved->getResult(0));
  return success();
}

LogicalResult Quantizer::run() {
  SmallVector<Operation *> ops;
  for (Operation &op : func.getBody().front())
    ops.push_back(&op);
  for (Operation *op : ops) {
    LogicalResult result = success();
    if (auto conv = dyn_cast<ConvOp>(op)) {
      result = lowerConv(conv);
    } else if (auto gemm = dyn_cast<GemmOp>(op)) {
      if (gemm.getTransA() || gemm.getA().getType().getRank() != 2)
        keepFloat(op, "a transposed A has no int8 kernel");
      else
        result = lowerFullyConnected(
            op, gemm.getA(), gemm.getB(), /*weightIsKxM=*/!gemm.getTransB(),
            gemm.getC(), gemm.getAlpha().convertToDouble(),
            gemm.getBeta().convertToDouble());
    } else if (auto matmul = dyn_cast<MatMulOp>(op)) {
      auto rhs = matmul.getRhs().getType();
      if (rhs.getRank() != 2 || matmul.getLhs().getType().getRank() < 2 ||
          !constantOf(matmul.getRhs()))
        keepFloat(op, "only matmul by a constant matrix has an int8 kernel");
      else
        result = lowerFullyConnected(op, matmul.getLhs(), matmul.getRhs(),
                                     /*weightIsKxM=*/true, Value(), 1.0, 1.0);
    } else if (isa<ReluOp>(op)) {
      result = lowerClamp(op, 0.0, std::nullopt);
    } else if (auto clip = dyn_cast<ClipOp>(op)) {
      auto bound = [](TypedAttr attr) -> std::optional<double> {
        if (auto f = dyn_cast_if_present<FloatAttr>(attr))
          return f.getValueAsDouble();
        return std::nullopt;
      };
      result = lowerClamp(op, bound(clip.getMinAttr()),
                          bound(clip.getMaxAttr()));
    } else if (auto pool = dyn_cast<MaxPoolOp>(op)) {
      result = lowerPool<QMaxPool2DOp>(pool);
    } else if (auto pool = dyn_cast<AvgPoolOp>(op)) {
      result = lowerPool<QAvgPool2DOp>(pool);
    } else if (isa<GlobalAvgPoolOp>(op)) {
      result = lowerGlobalPool(op, /*isMax=*/false);
    } else if (isa<GlobalMaxPoolOp>(op)) {
      result = lowerGlobalPool(op, /*isMax=*/true);
    } else if (isa<AddOp>(op)) {
      result = lowerAddMul(op, /*isAdd=*/true);
    } else if (isa<MulOp>(op)) {
      result = lowerAddMul(op, /*isAdd=*/false);
    } else if (auto concat = dyn_cast<ConcatOp>(op)) {
      result = lowerConcat(concat);
    } else if (auto softmax = dyn_cast<SoftmaxOp>(op)) {
      result = lowerSoftmax(softmax);
    } else if (isa<ReshapeOp, TransposeOp, PadOp>(op)) {
      result = lowerLayoutOp(op);
    } else if (!isa<ConstantOp, func::ReturnOp, QuantizeLinearOp,
                     DequantizeLinearOp>(op) &&
               op->getDialect() == context->getLoadedDialect<KilnDialect>()) {
      keepFloat(op, "no int8 kernel");
    }
    if (failed(result))
      return failure();
  }
  // The float ops that were lowered now have no users.
  for (Operation *op : llvm::reverse(ops))
    if (op->use_empty() && !isa<func::ReturnOp>(op) &&
        op->getNumResults() > 0 && isMemoryEffectFree(op))
      op->erase();
  return success();
}

struct KilnQuantizeInt8Pass final
    : impl::KilnQuantizeInt8PassBase<KilnQuantizeInt8Pass> {
  using Base::Base;

  void runOnOperation() override {
    Quantizer quantizer(getOperation());
    if (failed(quantizer.run()))
      signalPassFailure();
  }
};

} // namespace
} // namespace mlir::kiln
