//===- Normalization.cpp - Converters of normalization ONNX ops -*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// BatchNormalization (inference only), InstanceNormalization,
// GroupNormalization (opset-18 per-group scale and bias are gathered to
// channels), LayerNormalization, RMSNormalization, LpNormalization,
// MeanVarianceNormalization, LRN, Softmax / LogSoftmax / Hardmax (the
// opset 1 and 11 forms, which flatten the input to 2-D at `axis`, become a
// reshape around the single-axis kiln op), NegativeLogLikelihoodLoss, and
// SoftmaxCrossEntropyLoss (log-softmax, then the negative log-likelihood).
//
//===----------------------------------------------------------------------===//

#include "compiler/frontend/ImportContext.h"

#include "dialects/kiln/KilnOps.h"

using namespace mlir;
using namespace mlir::kiln;

namespace kiln::frontend {
namespace {

/// ONNX TensorProto code of float32, the only stash type Kiln accepts from
/// a model (the one ONNX's reference implements).
constexpr int64_t kOnnxFloat = 1;

/// Returns the ONNX TensorProto code of float type |type|.
int64_t onnxFloatCode(DType type) {
  switch (type) {
  case DType::F16:
    return 10;
  case DType::F64:
    return 11;
  case DType::BF16:
    return 16;
  default:
    return kOnnxFloat;
  }
}

/// Returns true for the float types ONNX's normalization ops accept.
bool isIeeeOrBrainFloat(DType t) {
  return t == DType::F32 || t == DType::F64 || t == DType::F16 ||
         t == DType::BF16;
}

/// Checks that the given inputs have float element types.
LogicalResult checkFloatInputs(NodeImporter &n,
                               std::initializer_list<size_t> inputs) {
  for (size_t i : inputs)
    if (n.hasInput(i) && !isIeeeOrBrainFloat(n.inputDType(i)))
      return n.unsupported(llvm::Twine("element type ") +
                           dtypeName(n.inputDType(i)));
  return success();
}

/// Requires input |i| to have the shape |expected|.
LogicalResult checkShape(NodeImporter &n, size_t i, ArrayRef<int64_t> expected,
                         StringRef what) {
  if (n.inputShape(i) != expected) {
    n.emitError() << what << " must have shape " << formatShape(expected)
                  << ", got " << formatShape(n.inputShape(i));
    return failure();
  }
  return success();
}

/// Requires an N x C x ... input; returns C.
FailureOr<int64_t> channelsOf(NodeImporter &n) {
  if (n.inputRank(0) < 2) {
    n.emitError() << "expected an input of rank >= 2 (N x C x ...), got rank "
                  << n.inputRank(0);
    return failure();
  }
  return n.inputShape(0)[1];
}

LogicalResult convertBatchNorm(NodeImporter &n) {
  if (failed(checkFloatInputs(n, {0, 1, 2, 3, 4})))
    return failure();
  if (n.version() == 7 && n.getInt("spatial", 1) != 1)
    return n.unsupported("spatial = 0 (per-activation statistics)");
  if (n.version() >= 14 && n.getInt("training_mode", 0) != 0)
    return n.unsupported("training_mode = 1");
  for (size_t i = 1; i < n.numOutputs(); ++i)
    if (n.hasOutput(i))
      return n.unsupported("training-mode outputs (batch statistics)");
  auto channels = channelsOf(n);
  if (failed(channels))
    return failure();
  static const char *names[] = {"scale", "B", "mean", "var"};
  for (size_t i = 1; i <= 4; ++i)
    if (failed(checkShape(n, i, {*channels}, names[i - 1])))
      return failure();
  OpBuilder &b = n.builder();
  n.setOutput(
      0, BatchNormOp::create(b, n.loc(), n.inputType(0), n.input(0), n.input(1),
                             n.input(2), n.input(3), n.input(4),
                             b.getF32FloatAttr(n.getFloat("epsilon", 1e-5f))));
  return success();
}

LogicalResult convertInstanceNorm(NodeImporter &n) {
  if (failed(checkFloatInputs(n, {0, 1, 2})))
    return failure();
  auto channels = channelsOf(n);
  if (failed(channels) || failed(checkShape(n, 1, {*channels}, "scale")) ||
      failed(checkShape(n, 2, {*channels}, "B")))
    return failure();
  OpBuilder &b = n.builder();
  n.setOutput(0,
              InstanceNormOp::create(
                  b, n.loc(), n.inputType(0), n.input(0), n.input(1),
                  n.input(2), b.getF32FloatAttr(n.getFloat("epsilon", 1e-5f))));
  return success();
}

LogicalResult convertGroupNorm(NodeImporter &n) {
  if (failed(checkFloatInputs(n, {0, 1, 2})))
    return failure();
  auto channels = channelsOf(n);
  if (failed(channels))
    return failure();
  if (!n.hasAttr("num_groups")) {
    n.emitError() << "attribute 'num_groups' is required";
    return failure();
  }
  int64_t groups = n.getInt("num_groups", 1);
  if (groups <= 0 || *channels % groups != 0) {
    n.emitError() << "num_groups " << groups
                  << " must be positive and divide the " << *channels
                  << " channels";
    return failure();
  }
  OpBuilder &b = n.builder();
  Value scale = n.input(1), bias = n.input(2);
  int64_t stashType;
  if (n.version() < 21) {
    // Opset 18: one scale and bias per group, and the whole computation in
    // the input type. Gather them to channels (folded when constant).
    if (failed(checkShape(n, 1, {groups}, "scale")) ||
        failed(checkShape(n, 2, {groups}, "bias")))
      return failure();
    Tensor indices("", DType::I64, {*channels});
    int64_t perGroup = *channels / groups;
    for (int64_t c = 0; c < *channels; ++c)
      indices.as<int64_t>()[c] = c / perGroup;
    Value index = n.constant(indices);
    auto gather = [&](Value v) -> Value {
      auto type = cast<RankedTensorType>(v.getType());
      return GatherOp::create(b, n.loc(),
                              n.tensorType({*channels}, type.getElementType()),
                              v, index, b.getI64IntegerAttr(0));
    };
    scale = gather(scale);
    bias = gather(bias);
    stashType = onnxFloatCode(n.inputDType(0));
  } else {
    if (failed(checkShape(n, 1, {*channels}, "scale")) ||
        failed(checkShape(n, 2, {*channels}, "bias")))
      return failure();
    stashType = n.getInt("stash_type", kOnnxFloat);
    if (stashType != kOnnxFloat)
      return n.unsupported("stash_type = " + llvm::Twine(stashType));
  }
  n.setOutput(
      0, GroupNormOp::create(b, n.loc(), n.inputType(0), n.input(0), scale,
                             bias, b.getI64IntegerAttr(groups),
                             b.getF32FloatAttr(n.getFloat("epsilon", 1e-5f)),
                             b.getI64IntegerAttr(stashType)));
  return success();
}

/// Requires input |i| (when given) to broadcast unidirectionally to input
/// 0.
LogicalResult checkBroadcastsToInput(NodeImporter &n, size_t i,
                                     StringRef what) {
  if (!n.hasInput(i) ||
      isUnidirectionallyBroadcastable(n.inputShape(i), n.inputShape(0)))
    return success();
  n.emitError() << what << " of shape " << formatShape(n.inputShape(i))
                << " does not broadcast to the input shape "
                << formatShape(n.inputShape(0));
  return failure();
}

/// Reads the stash_type attribute of LayerNormalization / RMSNormalization.
FailureOr<int64_t> stashTypeOf(NodeImporter &n) {
  int64_t stashType = n.getInt("stash_type", kOnnxFloat);
  if (stashType != kOnnxFloat) {
    (void)n.unsupported("stash_type = " + llvm::Twine(stashType));
    return failure();
  }
  return stashType;
}

LogicalResult convertLayerNorm(NodeImporter &n) {
  if (failed(checkFloatInputs(n, {0, 1, 2})))
    return failure();
  auto axis = n.normalizeAxis(n.getInt("axis", -1), n.inputRank(0));
  auto stashType = stashTypeOf(n);
  if (failed(axis) || failed(stashType) ||
      failed(checkBroadcastsToInput(n, 1, "Scale")) ||
      failed(checkBroadcastsToInput(n, 2, "B")))
    return failure();
  SmallVector<int64_t> statShape(n.inputShape(0));
  for (size_t d = *axis; d < statShape.size(); ++d)
    statShape[d] = 1;
  OpBuilder &b = n.builder();
  // Mean and InvStdDev have the stash type (float32).
  auto statType = n.tensorType(statShape, b.getF32Type());
  auto op = LayerNormOp::create(
      b, n.loc(), n.inputType(0), statType, statType, n.input(0), n.input(1),
      n.hasInput(2) ? n.input(2) : Value(), b.getI64IntegerAttr(*axis),
      b.getF32FloatAttr(n.getFloat("epsilon", 1e-5f)),
      b.getI64IntegerAttr(*stashType));
  n.setOutput(0, op.getOutput());
  if (n.numOutputs() > 1 && n.hasOutput(1))
    n.setOutput(1, op.getMean());
  if (n.numOutputs() > 2 && n.hasOutput(2))
    n.setOutput(2, op.getInvStdDev());
  return success();
}

LogicalResult convertRMSNorm(NodeImporter &n) {
  if (failed(checkFloatInputs(n, {0, 1})))
    return failure();
  auto axis = n.normalizeAxis(n.getInt("axis", -1), n.inputRank(0));
  auto stashType = stashTypeOf(n);
  if (failed(axis) || failed(stashType) ||
      failed(checkBroadcastsToInput(n, 1, "scale")))
    return failure();
  OpBuilder &b = n.builder();
  // Y has the type of the scale (ONNX's V).
  n.setOutput(
      0, RMSNormOp::create(b, n.loc(),
                           n.tensorType(n.inputShape(0), n.inputElementType(1)),
                           n.input(0), n.input(1), b.getI64IntegerAttr(*axis),
                           b.getF32FloatAttr(n.getFloat("epsilon", 1e-5f)),
                           b.getI64IntegerAttr(*stashType)));
  return success();
}

LogicalResult convertLpNormalization(NodeImporter &n) {
  if (failed(checkFloatInputs(n, {0})))
    return failure();
  auto axis = n.normalizeAxis(n.getInt("axis", -1), n.inputRank(0));
  if (failed(axis))
    return failure();
  int64_t p = n.getInt("p", 2);
  if (p != 1 && p != 2)
    return n.unsupported("p = " + llvm::Twine(p) + " (ONNX allows 1 or 2)");
  OpBuilder &b = n.builder();
  n.setOutput(0, LpNormalizationOp::create(
                     b, n.loc(), n.inputType(0), n.input(0),
                     b.getI64IntegerAttr(*axis), b.getI64IntegerAttr(p)));
  return success();
}

LogicalResult convertMeanVarianceNormalization(NodeImporter &n) {
  if (failed(checkFloatInputs(n, {0})))
    return failure();
  std::vector<int64_t> axes =
      n.hasAttr("axes") ? n.getInts("axes") : std::vector<int64_t>{0, 2, 3};
  SmallVector<int64_t> normalized;
  for (int64_t axis : axes) {
    auto a = n.normalizeAxis(axis, n.inputRank(0), "axes entry");
    if (failed(a))
      return failure();
    if (llvm::is_contained(normalized, *a)) {
      n.emitError() << "axis " << *a << " is repeated";
      return failure();
    }
    normalized.push_back(*a);
  }
  if (normalized.empty())
    return n.unsupported("empty 'axes'");
  llvm::sort(normalized);
  OpBuilder &b = n.builder();
  n.setOutput(0, MeanVarianceNormalizationOp::create(
                     b, n.loc(), n.inputType(0), n.input(0),
                     b.getDenseI64ArrayAttr(normalized)));
  return success();
}

LogicalResult convertLRN(NodeImporter &n) {
  if (failed(checkFloatInputs(n, {0})) || failed(channelsOf(n)))
    return failure();
  if (!n.hasAttr("size")) {
    n.emitError() << "attribute 'size' is required";
    return failure();
  }
  int64_t size = n.getInt("size", 1);
  if (size < 1) {
    n.emitError() << "attribute 'size' must be positive, got " << size;
    return failure();
  }
  OpBuilder &b = n.builder();
  n.setOutput(0, LRNOp::create(b, n.loc(), n.inputType(0), n.input(0),
                               b.getF32FloatAttr(n.getFloat("alpha", 1e-4f)),
                               b.getF32FloatAttr(n.getFloat("beta", 0.75f)),
                               b.getF32FloatAttr(n.getFloat("bias", 1.0f)),
                               b.getI64IntegerAttr(size)));
  return success();
}

/// Softmax, LogSoftmax and Hardmax. Opset 13 works along `axis` (default
/// -1); opsets 1 and 11 flatten the input to [prod(d[:axis]),
/// prod(d[axis:])] (default axis 1) and work along the second dimension.
template <typename OpTy> LogicalResult convertSoftmaxLike(NodeImporter &n) {
  if (failed(checkFloatInputs(n, {0})))
    return failure();
  ArrayRef<int64_t> shape = n.inputShape(0);
  int64_t rank = shape.size();
  OpBuilder &b = n.builder();
  if (n.version() >= 13) {
    auto axis = n.normalizeAxis(n.getInt("axis", -1), rank);
    if (failed(axis))
      return failure();
    n.setOutput(0, OpTy::create(b, n.loc(), n.inputType(0), n.input(0),
                                b.getI64IntegerAttr(*axis)));
    return success();
  }
  int64_t axis = n.getInt("axis", 1);
  // The coercion accepts axis == rank (an empty trailing block).
  if (axis < -rank || axis > rank) {
    n.emitError() << "axis " << axis << " is out of range for rank " << rank;
    return failure();
  }
  if (axis < 0)
    axis += rank;
  if (axis == rank - 1) {
    n.setOutput(0, OpTy::create(b, n.loc(), n.inputType(0), n.input(0),
                                b.getI64IntegerAttr(axis)));
    return success();
  }
  int64_t rows = 1, cols = 1;
  for (int64_t d = 0; d < rank; ++d)
    (d < axis ? rows : cols) *= shape[d];
  Value flat = n.reshape(n.input(0), {rows, cols});
  Value result =
      OpTy::create(b, n.loc(), flat.getType(), flat, b.getI64IntegerAttr(1));
  n.setOutput(0, n.reshape(result, shape));
  return success();
}

/// Builds the kiln.nll_loss of ONNX NegativeLogLikelihoodLoss (or of the
/// loss part of SoftmaxCrossEntropyLoss) on log-probabilities |logProb|.
FailureOr<Value> buildNLLLoss(NodeImporter &n, Value logProb) {
  ArrayRef<int64_t> input =
      cast<RankedTensorType>(logProb.getType()).getShape();
  if (input.size() < 2) {
    n.emitError() << "expected an input of rank >= 2 (N x C x ...), got rank "
                  << input.size();
    return failure();
  }
  DType targetType = n.inputDType(1);
  if (targetType != DType::I32 && targetType != DType::I64) {
    (void)n.unsupported(llvm::Twine("target element type ") +
                        dtypeName(targetType));
    return failure();
  }
  SmallVector<int64_t> targetShape = {input[0]};
  targetShape.append(input.begin() + 2, input.end());
  if (failed(checkShape(n, 1, targetShape, "target")) ||
      (n.hasInput(2) && failed(checkShape(n, 2, {input[1]}, "weight"))))
    return failure();
  std::string reduction = n.getString("reduction", "mean");
  if (reduction != "none" && reduction != "sum" && reduction != "mean") {
    n.emitError() << "attribute 'reduction' must be 'none', 'sum' or "
                     "'mean', got '"
                  << reduction << "'";
    return failure();
  }
  OpBuilder &b = n.builder();
  IntegerAttr ignoreIndex;
  if (n.hasAttr("ignore_index"))
    ignoreIndex = b.getI64IntegerAttr(n.getInt("ignore_index", 0));
  SmallVector<int64_t> shape;
  if (reduction == "none")
    shape = targetShape;
  Type element = cast<RankedTensorType>(logProb.getType()).getElementType();
  return Value(NLLLossOp::create(b, n.loc(), n.tensorType(shape, element),
                                 logProb, n.input(1),
                                 n.hasInput(2) ? n.input(2) : Value(),
                                 b.getStringAttr(reduction), ignoreIndex));
}

LogicalResult convertNLLLoss(NodeImporter &n) {
  if (failed(checkFloatInputs(n, {0, 2})))
    return failure();
  auto loss = buildNLLLoss(n, n.input(0));
  if (failed(loss))
    return failure();
  n.setOutput(0, *loss);
  return success();
}

/// SoftmaxCrossEntropyLoss is, by its ONNX definition, the negative
/// log-likelihood loss of the log-softmax of the scores along axis 1.
LogicalResult convertSoftmaxCrossEntropyLoss(NodeImporter &n) {
  if (failed(checkFloatInputs(n, {0, 2})))
    return failure();
  if (n.inputRank(0) < 2) {
    n.emitError() << "expected scores of rank >= 2 (N x C x ...), got rank "
                  << n.inputRank(0);
    return failure();
  }
  Value logProb =
      LogSoftmaxOp::create(n.builder(), n.loc(), n.inputType(0), n.input(0),
                           n.builder().getI64IntegerAttr(1));
  auto loss = buildNLLLoss(n, logProb);
  if (failed(loss))
    return failure();
  n.setOutput(0, *loss);
  if (n.numOutputs() > 1 && n.hasOutput(1))
    n.setOutput(1, logProb);
  return success();
}

} // namespace

void registerNormalizationConverters(ConverterRegistry &r) {
  // BatchNormalization 7 is the first in effect from Kiln's lowest native
  // opset; 9 dropped 'spatial', 14 added training_mode, 15 let the
  // parameters have their own types.
  r.add("", "BatchNormalization", {7, 9, 14, 15}, convertBatchNorm);
  // 22 added bfloat16.
  r.add("", "InstanceNormalization", {6, 22}, convertInstanceNorm);
  // 21 made scale and bias per channel and added stash_type.
  r.add("", "GroupNormalization", {18, 21}, convertGroupNorm);
  r.add("", "LayerNormalization", {17}, convertLayerNorm);
  r.add("", "RMSNormalization", {23}, convertRMSNorm);
  r.add("", "LpNormalization", {1, 22}, convertLpNormalization);
  // 13 added bfloat16.
  r.add("", "MeanVarianceNormalization", {9, 13},
        convertMeanVarianceNormalization);
  r.add("", "LRN", {1, 13}, convertLRN);
  // 11 allowed negative axes; 13 made the op work along one axis.
  r.add("", "Softmax", {1, 11, 13}, convertSoftmaxLike<SoftmaxOp>);
  r.add("", "LogSoftmax", {1, 11, 13}, convertSoftmaxLike<LogSoftmaxOp>);
  r.add("", "Hardmax", {1, 11, 13}, convertSoftmaxLike<HardmaxOp>);
  // The losses: later versions only added element types.
  r.add("", "NegativeLogLikelihoodLoss", {12, 13, 22}, convertNLLLoss);
  r.add("", "SoftmaxCrossEntropyLoss", {12, 13},
        convertSoftmaxCrossEntropyLoss);
}

} // namespace kiln::frontend
