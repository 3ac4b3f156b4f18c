//===- NormalizationOps.cpp - Verifiers of normalization ops ----*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// Parameter-shape checks of batch/instance/group/layer/RMS normalization,
// the stash types of the last three, the axis checks of Lp / mean-variance
// normalization and the softmax family, the window of LRN, and the shapes
// of the negative log-likelihood loss.
//
//===----------------------------------------------------------------------===//

#include "dialects/kiln/KilnOpsUtils.h"

using namespace mlir;
using namespace mlir::kiln;
using namespace mlir::kiln::detail;

/// Checks that each of |params| is a vector of |channels| elements.
static LogicalResult verifyChannelParams(Operation *op, ValueRange params,
                                         int64_t channels) {
  for (Value param : params)
    if (shapeOf(param) != ArrayRef<int64_t>{channels})
      return op->emitOpError("per-channel parameters must have shape ")
             << channels << ", got " << formatShape(shapeOf(param));
  return success();
}

/// Checks an N x C x ... input and same-shaped result.
static LogicalResult verifyChannelsFirst(Operation *op, Value input) {
  if (shapeOf(input).size() < 2)
    return op->emitOpError("expected input of rank >= 2 (N x C x ...), got "
                           "rank ")
           << shapeOf(input).size();
  return verifyResultShape(op, shapeOf(input));
}

LogicalResult BatchNormOp::verify() {
  if (failed(verifyChannelsFirst(*this, getInput())))
    return failure();
  return verifyChannelParams(
      *this, ValueRange{getScale(), getBias(), getMean(), getVariance()},
      shapeOf(getInput())[1]);
}

LogicalResult InstanceNormOp::verify() {
  if (failed(verifyChannelsFirst(*this, getInput())))
    return failure();
  return verifyChannelParams(*this, ValueRange{getScale(), getBias()},
                             shapeOf(getInput())[1]);
}

/// Checks that |stashType| is the ONNX code of a float type the kernels
/// compute in (1 float32, 10 float16, 11 float64, 16 bfloat16).
static LogicalResult verifyStashType(Operation *op, int64_t stashType) {
  if (stashType != 1 && stashType != 10 && stashType != 11 && stashType != 16)
    return op->emitOpError("stash_type ")
           << stashType
           << " is not a floating-point type code (expected 1, 10, 11 or 16)";
  return success();
}

LogicalResult GroupNormOp::verify() {
  if (failed(verifyChannelsFirst(*this, getInput())) ||
      failed(verifyStashType(*this, getStashType())))
    return failure();
  int64_t channels = shapeOf(getInput())[1];
  int64_t groups = static_cast<int64_t>(getNumGroups());
  if (groups <= 0 || channels % groups != 0)
    return emitOpError("num_groups ")
           << groups << " must be positive and divide the " << channels
           << " channels";
  return verifyChannelParams(*this, ValueRange{getScale(), getBias()},
                             channels);
}

/// Checks scale/bias of a normalization over axes [axis, rank): they must
/// broadcast unidirectionally to the normalized trailing shape.
static LogicalResult verifyTrailingNorm(Operation *op, Value input,
                                        int64_t axis, ValueRange params) {
  ArrayRef<int64_t> shape = shapeOf(input);
  if (failed(verifyAxis(op, axis, shape.size())))
    return failure();
  ArrayRef<int64_t> normalized = shape.drop_front(axis);
  for (Value param : params)
    if (!isUnidirectionallyBroadcastable(shapeOf(param), shape))
      return op->emitOpError("parameter of shape ")
             << formatShape(shapeOf(param)) << " does not broadcast to "
             << formatShape(shape) << " (normalized part "
             << formatShape(normalized) << ")";
  return verifyResultShape(op, shape);
}

LogicalResult LayerNormOp::verify() {
  SmallVector<Value> params = {getScale()};
  if (getBias())
    params.push_back(getBias());
  if (failed(verifyTrailingNorm(*this, getInput(), getAxis(), params)) ||
      failed(verifyStashType(*this, getStashType())))
    return failure();
  SmallVector<int64_t> statShape(shapeOf(getInput()));
  for (size_t i = getAxis(); i < statShape.size(); ++i)
    statShape[i] = 1;
  if (failed(verifyShape(*this, getMean(), statShape, "mean")) ||
      failed(verifyShape(*this, getInvStdDev(), statShape, "inv_std_dev")))
    return failure();
  return success();
}

LogicalResult RMSNormOp::verify() {
  if (failed(verifyStashType(*this, getStashType())))
    return failure();
  return verifyTrailingNorm(*this, getInput(), getAxis(),
                            ValueRange{getScale()});
}

LogicalResult LpNormalizationOp::verify() {
  if (getP() != 1 && getP() != 2)
    return emitOpError("p must be 1 or 2, got ") << getP();
  return verifyAxis(*this, getAxis(), shapeOf(getInput()).size());
}

LogicalResult MeanVarianceNormalizationOp::verify() {
  ArrayRef<int64_t> axes = getAxes();
  int64_t rank = shapeOf(getInput()).size();
  if (axes.empty())
    return emitOpError("expected at least one axis");
  for (size_t i = 0; i < axes.size(); ++i) {
    if (failed(verifyAxis(*this, axes[i], rank)))
      return failure();
    if (i > 0 && axes[i] <= axes[i - 1])
      return emitOpError("axes must be sorted and unique");
  }
  return success();
}

LogicalResult LRNOp::verify() {
  if (getSize() < 1)
    return emitOpError("size must be positive, got ") << getSize();
  if (shapeOf(getInput()).size() < 2)
    return emitOpError("expected input of rank >= 2 (N x C x ...), got rank ")
           << shapeOf(getInput()).size();
  return success();
}

LogicalResult SoftmaxOp::verify() {
  return verifyAxis(*this, getAxis(), shapeOf(getInput()).size());
}
LogicalResult LogSoftmaxOp::verify() {
  return verifyAxis(*this, getAxis(), shapeOf(getInput()).size());
}
LogicalResult HardmaxOp::verify() {
  return verifyAxis(*this, getAxis(), shapeOf(getInput()).size());
}

LogicalResult NLLLossOp::verify() {
  ArrayRef<int64_t> input = shapeOf(getInput());
  if (input.size() < 2)
    return emitOpError("expected input of rank >= 2 (N x C x ...), got rank ")
           << input.size();
  SmallVector<int64_t> targetShape = {input[0]};
  targetShape.append(input.begin() + 2, input.end());
  if (shapeOf(getTarget()) != ArrayRef<int64_t>(targetShape))
    return emitOpError("target shape ")
           << formatShape(shapeOf(getTarget())) << " does not match "
           << formatShape(targetShape) << " (input shape without C)";
  if (getWeight() &&
      failed(verifyChannelParams(*this, ValueRange{getWeight()}, input[1])))
    return failure();
  StringRef reduction = getReduction();
  if (reduction == "none")
    return verifyResultShape(*this, targetShape);
  if (reduction != "sum" && reduction != "mean")
    return emitOpError("reduction must be 'none', 'sum' or 'mean', got '")
           << reduction << "'";
  return verifyResultShape(*this, {});
}
