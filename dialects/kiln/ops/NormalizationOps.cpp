//===- NormalizationOps.cpp - Verifiers of normalization ops ----*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// Parameter-shape checks of batch/instance/group/layer/RMS normalization and
// the axis checks of the softmax family.
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

LogicalResult GroupNormOp::verify() {
  if (failed(verifyChannelsFirst(*this, getInput())))
    return failure();
  int64_t channels = shapeOf(getInput())[1];
  int64_t groups = static_cast<int64_t>(getNumGroups());
  if (groups <= 0 || channels % groups != 0)
    return emitOpError("num_groups ")
           << groups << " must be positive and divide the "
           << channels << " channels";
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
  if (failed(verifyTrailingNorm(*this, getInput(), getAxis(), params)))
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
  return verifyTrailingNorm(*this, getInput(), getAxis(),
                            ValueRange{getScale()});
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
