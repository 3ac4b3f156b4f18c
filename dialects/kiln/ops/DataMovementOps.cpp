//===- DataMovementOps.cpp - Verifiers of data movement ops -----*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// Shape checks of reshape, transpose, concat, slice, pad, broadcast, tile,
// gather and resize, and the reshape folder.
//
//===----------------------------------------------------------------------===//

#include "dialects/kiln/KilnOpsUtils.h"

#include "mlir/IR/BuiltinAttributes.h"

using namespace mlir;
using namespace mlir::kiln;
using namespace mlir::kiln::detail;

LogicalResult ReshapeOp::verify() {
  auto inputType = cast<RankedTensorType>(getInput().getType());
  auto resultType = getType();
  if (inputType.hasStaticShape() && resultType.hasStaticShape() &&
      inputType.getNumElements() != resultType.getNumElements())
    return emitOpError("cannot reshape ")
           << formatShape(inputType.getShape()) << " ("
           << inputType.getNumElements() << " elements) to "
           << formatShape(resultType.getShape()) << " ("
           << resultType.getNumElements() << " elements)";
  return success();
}

OpFoldResult ReshapeOp::fold(FoldAdaptor adaptor) {
  if (getInput().getType() == getType())
    return getInput();
  // reshape(reshape(x)) == reshape(x): fold in place onto the inner input.
  if (auto inner = getInput().getDefiningOp<ReshapeOp>()) {
    getInputMutable().assign(inner.getInput());
    return getResult();
  }
  if (auto dense = dyn_cast_if_present<DenseElementsAttr>(adaptor.getInput()))
    return dense.reshape(getType());
  return {};
}

LogicalResult TransposeOp::verify() {
  ArrayRef<int64_t> input = shapeOf(getInput());
  ArrayRef<int64_t> perm = getPerm();
  if (perm.size() != input.size())
    return emitOpError("perm has ")
           << perm.size() << " entries for rank " << input.size();
  SmallVector<bool> seen(input.size(), false);
  SmallVector<int64_t> expected;
  for (int64_t p : perm) {
    if (p < 0 || p >= static_cast<int64_t>(input.size()) || seen[p])
      return emitOpError("perm is not a permutation of 0..")
             << input.size() - 1;
    seen[p] = true;
    expected.push_back(input[p]);
  }
  return verifyResultShape(*this, expected);
}

LogicalResult ConcatOp::verify() {
  SmallVector<ArrayRef<int64_t>> shapes;
  for (Value input : getInputs())
    shapes.push_back(shapeOf(input));
  auto expected = inferConcatShape(shapes, getAxis(), opErrorFn(*this));
  if (failed(expected))
    return failure();
  return verifyResultShape(*this, *expected);
}

LogicalResult SliceOp::verify() {
  ArrayRef<int64_t> input = shapeOf(getInput());
  ArrayRef<int64_t> output = shapeOf(getOutput());
  ArrayRef<int64_t> starts = getStarts(), steps = getSteps();
  if (starts.size() != input.size() || steps.size() != input.size() ||
      output.size() != input.size())
    return emitOpError("expected one start and step per dimension of rank ")
           << input.size();
  for (size_t d = 0; d < input.size(); ++d) {
    if (steps[d] == 0)
      return emitOpError("step of dimension ") << d << " is zero";
    if (output[d] == 0)
      continue;
    int64_t last = starts[d] + (output[d] - 1) * steps[d];
    if (starts[d] < 0 || starts[d] >= input[d] || last < 0 ||
        last >= input[d])
      return emitOpError("dimension ")
             << d << " reads indices " << starts[d] << " to " << last
             << ", outside [0, " << input[d] << ")";
  }
  return success();
}

LogicalResult PadOp::verify() {
  ArrayRef<int64_t> input = shapeOf(getInput());
  ArrayRef<int64_t> pads = getPads();
  if (pads.size() != 2 * input.size())
    return emitOpError("expected ") << 2 * input.size() << " pads, got "
                                    << pads.size();
  StringRef mode = getMode();
  if (mode != "constant" && mode != "reflect" && mode != "edge" &&
      mode != "wrap")
    return emitOpError("unknown mode '")
           << mode << "' (expected constant, reflect, edge or wrap)";
  SmallVector<int64_t> expected;
  for (size_t d = 0; d < input.size(); ++d) {
    int64_t size = input[d] + pads[d] + pads[input.size() + d];
    if (size < 0)
      return emitOpError("negative pads remove more than dimension ")
             << d << " holds";
    expected.push_back(size);
  }
  if (getValueAttr() && getValueAttr().getType() != getType().getElementType())
    return emitOpError("value has type ")
           << getValueAttr().getType() << ", expected the element type "
           << getType().getElementType();
  return verifyResultShape(*this, expected);
}

LogicalResult BroadcastOp::verify() {
  auto expected = inferBroadcastShape(shapeOf(getInput()),
                                      shapeOf(getOutput()), opErrorFn(*this));
  if (failed(expected))
    return failure();
  return verifyResultShape(*this, *expected);
}

LogicalResult TileOp::verify() {
  ArrayRef<int64_t> input = shapeOf(getInput());
  ArrayRef<int64_t> repeats = getRepeats();
  if (repeats.size() != input.size())
    return emitOpError("expected ") << input.size() << " repeats, got "
                                    << repeats.size();
  SmallVector<int64_t> expected;
  for (size_t d = 0; d < input.size(); ++d) {
    if (repeats[d] < 0)
      return emitOpError("repeats must be non-negative");
    expected.push_back(input[d] * repeats[d]);
  }
  return verifyResultShape(*this, expected);
}

LogicalResult GatherOp::verify() {
  auto expected = inferGatherShape(shapeOf(getInput()), shapeOf(getIndices()),
                                   getAxis(), opErrorFn(*this));
  if (failed(expected))
    return failure();
  return verifyResultShape(*this, *expected);
}

LogicalResult ResizeOp::verify() {
  size_t rank = shapeOf(getInput()).size();
  if (getScales().size() != rank)
    return emitOpError("expected ") << rank << " scales, got "
                                    << getScales().size();
  if (!getRoi().empty() && getRoi().size() != 2 * rank)
    return emitOpError("expected roi of ") << 2 * rank << " values, got "
                                           << getRoi().size();
  StringRef mode = getMode();
  if (mode != "nearest" && mode != "linear" && mode != "cubic")
    return emitOpError("unknown mode '") << mode << "'";
  return success();
}
