//===- DataMovementOps.cpp - Verifiers of data movement ops -----*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// Shape checks of reshape, transpose, concat, slice, pad, broadcast, tile,
// the gathers and scatters, depth/space rearrangements, trilu, one_hot,
// reverse_sequence and resize, and the reshape folder.
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

/// Checks that |indices| of gather_elements / scatter_elements has the rank
/// of |input| and fits inside it outside |axis|.
static LogicalResult verifyIndicesFit(Operation *op, ArrayRef<int64_t> input,
                                      ArrayRef<int64_t> indices, int64_t axis) {
  if (indices.size() != input.size())
    return op->emitOpError("indices must have the rank of the input (")
           << input.size() << "), got rank " << indices.size();
  for (size_t d = 0; d < input.size(); ++d)
    if (static_cast<int64_t>(d) != axis && indices[d] > input[d])
      return op->emitOpError("indices ")
             << formatShape(indices) << " exceed the input "
             << formatShape(input) << " outside axis " << axis;
  return success();
}

LogicalResult GatherElementsOp::verify() {
  ArrayRef<int64_t> input = shapeOf(getInput());
  ArrayRef<int64_t> indices = shapeOf(getIndices());
  if (failed(verifyAxis(*this, getAxis(), input.size())))
    return failure();
  if (failed(verifyIndicesFit(*this, input, indices, getAxis())))
    return failure();
  if (elementTypeOf(getInput()) != getType().getElementType())
    return emitOpError("result element type must match the input");
  return verifyResultShape(*this, indices);
}

LogicalResult GatherNDOp::verify() {
  auto expected = inferGatherNDShape(shapeOf(getInput()), shapeOf(getIndices()),
                                     getBatchDims(), opErrorFn(*this));
  if (failed(expected))
    return failure();
  if (elementTypeOf(getInput()) != getType().getElementType())
    return emitOpError("result element type must match the input");
  return verifyResultShape(*this, *expected);
}

/// Checks a scatter reduction name.
static LogicalResult verifyReduction(Operation *op, StringRef reduction) {
  if (reduction != "none" && reduction != "add" && reduction != "mul" &&
      reduction != "max" && reduction != "min")
    return op->emitOpError("unknown reduction '")
           << reduction << "' (expected none, add, mul, max or min)";
  return success();
}

LogicalResult ScatterElementsOp::verify() {
  ArrayRef<int64_t> input = shapeOf(getInput());
  if (failed(verifyAxis(*this, getAxis(), input.size())) ||
      failed(verifyReduction(*this, getReduction())))
    return failure();
  if (shapeOf(getIndices()) != shapeOf(getUpdates()))
    return emitOpError("indices ")
           << formatShape(shapeOf(getIndices())) << " and updates "
           << formatShape(shapeOf(getUpdates())) << " differ in shape";
  if (failed(verifyIndicesFit(*this, input, shapeOf(getIndices()), getAxis())))
    return failure();
  if (getInput().getType() != getType() ||
      elementTypeOf(getUpdates()) != getType().getElementType())
    return emitOpError("input, updates and result must share the element "
                       "type and the result must have the input's type");
  return success();
}

LogicalResult ScatterNDOp::verify() {
  if (failed(verifyReduction(*this, getReduction())))
    return failure();
  ArrayRef<int64_t> input = shapeOf(getInput());
  ArrayRef<int64_t> indices = shapeOf(getIndices());
  if (indices.empty() || indices.back() < 1 ||
      indices.back() > static_cast<int64_t>(input.size()))
    return emitOpError("indices ")
           << formatShape(indices) << " must end with a tuple length in [1, "
           << input.size() << "]";
  SmallVector<int64_t> expected(indices.begin(), indices.end() - 1);
  expected.append(input.begin() + indices.back(), input.end());
  if (failed(verifyShape(*this, getUpdates(), expected, "updates")))
    return failure();
  if (getInput().getType() != getType() ||
      elementTypeOf(getUpdates()) != getType().getElementType())
    return emitOpError("input, updates and result must share the element "
                       "type and the result must have the input's type");
  return success();
}

LogicalResult DepthToSpaceOp::verify() {
  auto expected = inferDepthSpaceShape(shapeOf(getInput()), getBlocksize(),
                                       /*toSpace=*/true, opErrorFn(*this));
  if (failed(expected))
    return failure();
  return verifyResultShape(*this, *expected);
}

LogicalResult SpaceToDepthOp::verify() {
  auto expected = inferDepthSpaceShape(shapeOf(getInput()), getBlocksize(),
                                       /*toSpace=*/false, opErrorFn(*this));
  if (failed(expected))
    return failure();
  return verifyResultShape(*this, *expected);
}

LogicalResult TriluOp::verify() {
  if (shapeOf(getInput()).size() < 2)
    return emitOpError("expected an input of rank >= 2, got rank ")
           << shapeOf(getInput()).size();
  return success();
}

LogicalResult OneHotOp::verify() {
  if (shapeOf(getValues()) != ArrayRef<int64_t>{2})
    return emitOpError("values must hold two elements [off, on], got shape ")
           << formatShape(shapeOf(getValues()));
  if (elementTypeOf(getValues()) != getType().getElementType())
    return emitOpError("result element type must match the values");
  auto expected = inferOneHotShape(shapeOf(getIndices()), getDepth(), getAxis(),
                                   opErrorFn(*this));
  if (failed(expected))
    return failure();
  return verifyResultShape(*this, *expected);
}

LogicalResult ReverseSequenceOp::verify() {
  ArrayRef<int64_t> input = shapeOf(getInput());
  if (input.size() < 2)
    return emitOpError("expected an input of rank >= 2, got rank ")
           << input.size();
  if (failed(verifyAxis(*this, getBatchAxis(), input.size(), "batch_axis")) ||
      failed(verifyAxis(*this, getTimeAxis(), input.size(), "time_axis")))
    return failure();
  if (getBatchAxis() == getTimeAxis())
    return emitOpError("batch_axis and time_axis must differ");
  if (shapeOf(getSequenceLens()) != ArrayRef<int64_t>{input[getBatchAxis()]})
    return emitOpError("sequence_lens must have shape ")
           << input[getBatchAxis()] << " (the batch dimension), got "
           << formatShape(shapeOf(getSequenceLens()));
  if (getInput().getType() != getType())
    return emitOpError("result type must match the input");
  return success();
}

LogicalResult ResizeOp::verify() {
  ArrayRef<int64_t> input = shapeOf(getInput());
  ArrayRef<int64_t> output = shapeOf(getOutput());
  size_t rank = input.size();
  if (output.size() != rank)
    return emitOpError("result rank ")
           << output.size() << " differs from input rank " << rank;
  if (getScales().size() != rank)
    return emitOpError("expected ") << rank << " scales, got "
                                    << getScales().size();
  for (double scale : getScales())
    if (!(scale > 0))
      return emitOpError("scales must be positive, got ") << scale;
  if (!getRoi().empty() && getRoi().size() != 2 * rank)
    return emitOpError("expected roi of ") << 2 * rank << " values, got "
                                           << getRoi().size();
  StringRef mode = getMode();
  if (mode != "nearest" && mode != "linear" && mode != "cubic")
    return emitOpError("unknown mode '")
           << mode << "' (expected nearest, linear or cubic)";
  StringRef transform = getCoordinateTransformationMode();
  if (!llvm::is_contained({"half_pixel", "half_pixel_symmetric",
                           "pytorch_half_pixel", "align_corners", "asymmetric",
                           "tf_half_pixel_for_nn", "tf_crop_and_resize"},
                          transform))
    return emitOpError("unknown coordinate_transformation_mode '")
           << transform << "'";
  if (transform == "tf_crop_and_resize" && getRoi().empty())
    return emitOpError("tf_crop_and_resize needs a roi");
  if (!llvm::is_contained(
          {"round_prefer_floor", "round_prefer_ceil", "floor", "ceil"},
          getNearestMode()))
    return emitOpError("unknown nearest_mode '") << getNearestMode() << "'";
  if (getAntialias() && mode == "nearest")
    return emitOpError("antialias applies to linear and cubic modes only");
  return success();
}
