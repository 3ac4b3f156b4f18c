//===- DataMovement.cpp - Converters of data movement ONNX ops --*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// Transpose, Concat, Slice, Split (as slices), Expand, Gather, Tile, Pad.
// Shape-like inputs (starts, pads, repeats, ...) must be constants; they are
// normalized (negative values, clamping, defaults) into explicit attributes.
//
//===----------------------------------------------------------------------===//

#include "compiler/frontend/ImportContext.h"
#include "compiler/support/TensorAttr.h"

#include "dialects/kiln/KilnOps.h"

#include "mlir/IR/BuiltinAttributes.h"

using namespace mlir;
using namespace mlir::kiln;

namespace kiln::frontend {
namespace {

LogicalResult convertTranspose(NodeImporter &n) {
  ArrayRef<int64_t> in = n.inputShape(0);
  int64_t rank = in.size();
  std::vector<int64_t> perm = n.getInts("perm");
  if (!n.hasAttr("perm"))
    for (int64_t d = rank - 1; d >= 0; --d)
      perm.push_back(d);
  if (static_cast<int64_t>(perm.size()) != rank) {
    n.emitError() << "perm has " << perm.size() << " entries for rank "
                  << rank;
    return failure();
  }
  SmallVector<int64_t> shape;
  SmallVector<bool> seen(rank, false);
  for (int64_t &p : perm) {
    auto axis = n.normalizeAxis(p, rank, "perm entry");
    if (failed(axis))
      return failure();
    if (seen[*axis]) {
      n.emitError() << "perm is not a permutation";
      return failure();
    }
    seen[*axis] = true;
    p = *axis;
    shape.push_back(in[p]);
  }
  n.setOutput(0, TransposeOp::create(
                     n.builder(), n.loc(),
                     n.tensorType(shape, n.inputElementType(0)), n.input(0),
                     n.builder().getDenseI64ArrayAttr(perm)));
  return success();
}

LogicalResult convertConcat(NodeImporter &n) {
  if (!n.hasAttr("axis")) {
    n.emitError() << "attribute 'axis' is required";
    return failure();
  }
  SmallVector<Value> inputs;
  SmallVector<ArrayRef<int64_t>> shapes;
  for (size_t i = 0; i < n.numInputs(); ++i) {
    if (!n.hasInput(i))
      continue;
    if (n.inputElementType(i) != n.inputElementType(0)) {
      n.emitError() << "inputs have different element types";
      return failure();
    }
    inputs.push_back(n.input(i));
    shapes.push_back(n.inputShape(i));
  }
  auto axis = n.normalizeAxis(n.getInt("axis", 0), shapes[0].size());
  if (failed(axis))
    return failure();
  auto shape = inferConcatShape(shapes, *axis, n.errorFn());
  if (failed(shape))
    return failure();
  if (inputs.size() == 1) {
    n.setOutput(0, inputs[0]);
    return success();
  }
  n.setOutput(0, ConcatOp::create(n.builder(), n.loc(),
                                  n.tensorType(*shape, n.inputElementType(0)),
                                  inputs, n.builder().getI64IntegerAttr(*axis)));
  return success();
}

/// Builds a kiln.slice from per-dimension (start, count, step).
Value buildSlice(NodeImporter &n, Value input, ArrayRef<int64_t> starts,
                 ArrayRef<int64_t> counts, ArrayRef<int64_t> steps) {
  auto type = cast<RankedTensorType>(input.getType());
  if (type.getShape() == counts &&
      llvm::all_of(starts, [](int64_t s) { return s == 0; }) &&
      llvm::all_of(steps, [](int64_t s) { return s == 1; }))
    return input;
  OpBuilder &b = n.builder();
  return SliceOp::create(b, n.loc(),
                         RankedTensorType::get(counts, type.getElementType()),
                         input, b.getDenseI64ArrayAttr(starts),
                         b.getDenseI64ArrayAttr(steps));
}

LogicalResult convertSlice(NodeImporter &n) {
  ArrayRef<int64_t> in = n.inputShape(0);
  int64_t rank = in.size();
  std::vector<int64_t> starts, ends, axes, steps;
  if (n.version() < 10) {
    starts = n.getInts("starts");
    ends = n.getInts("ends");
    axes = n.getInts("axes");
  } else {
    auto s = n.constantInts(1, "starts");
    auto e = n.constantInts(2, "ends");
    if (failed(s) || failed(e))
      return failure();
    starts = *s;
    ends = *e;
    if (n.hasInput(3)) {
      auto a = n.constantInts(3, "axes");
      if (failed(a))
        return failure();
      axes = *a;
    }
    if (n.hasInput(4)) {
      auto st = n.constantInts(4, "steps");
      if (failed(st))
        return failure();
      steps = *st;
    }
  }
  if (axes.empty())
    for (size_t i = 0; i < starts.size(); ++i)
      axes.push_back(i);
  if (steps.empty())
    steps.assign(starts.size(), 1);
  if (ends.size() != starts.size() || axes.size() != starts.size() ||
      steps.size() != starts.size()) {
    n.emitError() << "starts, ends, axes and steps must have equal lengths";
    return failure();
  }
  SmallVector<int64_t> outStarts(rank, 0), counts(in), outSteps(rank, 1);
  SmallVector<bool> seen(rank, false);
  for (size_t i = 0; i < starts.size(); ++i) {
    auto axis = n.normalizeAxis(axes[i], rank);
    if (failed(axis))
      return failure();
    if (seen[*axis]) {
      n.emitError() << "axis " << *axis << " is repeated";
      return failure();
    }
    seen[*axis] = true;
    int64_t dim = in[*axis], step = steps[i];
    if (step == 0) {
      n.emitError() << "slice step must not be zero";
      return failure();
    }
    // ONNX clamping: starts and ends are clamped into [0, dim] for positive
    // steps and [-1, dim - 1] for negative ones, after adding dim to
    // negative values.
    int64_t start = starts[i], end = ends[i];
    if (start < 0)
      start += dim;
    if (end < 0)
      end += dim;
    int64_t count;
    if (step > 0) {
      start = std::clamp<int64_t>(start, 0, dim);
      end = std::clamp<int64_t>(end, 0, dim);
      count = end > start ? (end - start + step - 1) / step : 0;
    } else {
      start = std::clamp<int64_t>(start, -1, dim - 1);
      end = std::clamp<int64_t>(end, -1, dim - 1);
      count = start > end ? (start - end + (-step) - 1) / (-step) : 0;
    }
    outStarts[*axis] = count > 0 ? start : 0;
    counts[*axis] = count;
    outSteps[*axis] = step;
  }
  n.setOutput(0, buildSlice(n, n.input(0), outStarts, counts, outSteps));
  return success();
}

LogicalResult convertSplit(NodeImporter &n) {
  ArrayRef<int64_t> in = n.inputShape(0);
  auto axis = n.normalizeAxis(n.getInt("axis", 0), in.size());
  if (failed(axis))
    return failure();
  int64_t dim = in[*axis];
  std::vector<int64_t> sizes;
  if (n.version() < 13 && n.hasAttr("split")) {
    sizes = n.getInts("split");
  } else if (n.version() >= 13 && n.hasInput(1)) {
    auto split = n.constantInts(1, "split");
    if (failed(split))
      return failure();
    sizes = *split;
  } else {
    int64_t parts = static_cast<int64_t>(n.numOutputs());
    if (n.version() >= 18) {
      if (!n.hasAttr("num_outputs")) {
        n.emitError() << "Split needs the 'split' input or 'num_outputs'";
        return failure();
      }
      parts = n.getInt("num_outputs", 1);
    }
    if (parts <= 0) {
      n.emitError() << "num_outputs must be positive";
      return failure();
    }
    // Checked before sizes are built from it: a hostile num_outputs of 2^31
    // would allocate gigabytes (found by kiln-fuzz-importer).
    if (parts != static_cast<int64_t>(n.numOutputs())) {
      n.emitError() << "num_outputs is " << parts << " but the node has "
                    << n.numOutputs() << " outputs";
      return failure();
    }
    // Opset 18: uneven splits give the last chunk the remainder.
    int64_t chunk = (dim + parts - 1) / parts;
    if (n.version() < 18 && dim % parts != 0) {
      n.emitError() << "dimension " << dim << " does not split evenly into "
                    << parts << " outputs";
      return failure();
    }
    for (int64_t p = 0; p < parts; ++p)
      sizes.push_back(std::max<int64_t>(
          std::min<int64_t>(chunk, dim - p * chunk), 0));
  }
  int64_t total = 0;
  for (int64_t s : sizes) {
    if (s < 0) {
      n.emitError() << "negative split size " << s;
      return failure();
    }
    total += s;
  }
  if (total != dim || sizes.size() != n.numOutputs()) {
    n.emitError() << "split sizes sum to " << total << " over "
                  << sizes.size() << " outputs; expected " << dim << " over "
                  << n.numOutputs();
    return failure();
  }
  int64_t offset = 0;
  for (size_t i = 0; i < sizes.size(); ++i) {
    SmallVector<int64_t> starts(in.size(), 0), counts(in),
        steps(in.size(), 1);
    starts[*axis] = sizes[i] > 0 ? offset : 0;
    counts[*axis] = sizes[i];
    if (n.hasOutput(i))
      n.setOutput(i, buildSlice(n, n.input(0), starts, counts, steps));
    offset += sizes[i];
  }
  return success();
}

LogicalResult convertExpand(NodeImporter &n) {
  auto target = n.constantInts(1, "shape");
  if (failed(target))
    return failure();
  auto shape = inferBroadcastShape(n.inputShape(0), *target, n.errorFn());
  if (failed(shape))
    return failure();
  if (ArrayRef<int64_t>(*shape) == n.inputShape(0)) {
    n.setOutput(0, n.input(0));
    return success();
  }
  n.setOutput(0, BroadcastOp::create(n.builder(), n.loc(),
                                     n.tensorType(*shape,
                                                  n.inputElementType(0)),
                                     n.input(0)));
  return success();
}

LogicalResult convertGather(NodeImporter &n) {
  DType indexType = n.inputDType(1);
  if (indexType != DType::I32 && indexType != DType::I64) {
    n.emitError() << "indices must be int32 or int64";
    return failure();
  }
  auto axis = n.normalizeAxis(n.getInt("axis", 0), n.inputRank(0));
  if (failed(axis))
    return failure();
  auto shape = inferGatherShape(n.inputShape(0), n.inputShape(1), *axis,
                                n.errorFn());
  if (failed(shape))
    return failure();
  n.setOutput(0, GatherOp::create(n.builder(), n.loc(),
                                  n.tensorType(*shape, n.inputElementType(0)),
                                  n.input(0), n.input(1),
                                  n.builder().getI64IntegerAttr(*axis)));
  return success();
}

LogicalResult convertTile(NodeImporter &n) {
  auto repeats = n.constantInts(1, "repeats");
  if (failed(repeats))
    return failure();
  ArrayRef<int64_t> in = n.inputShape(0);
  if (repeats->size() != in.size()) {
    n.emitError() << "repeats has " << repeats->size()
                  << " values for rank " << in.size();
    return failure();
  }
  SmallVector<int64_t> shape;
  for (size_t d = 0; d < in.size(); ++d) {
    if ((*repeats)[d] < 0) {
      n.emitError() << "repeats must be non-negative";
      return failure();
    }
    shape.push_back(in[d] * (*repeats)[d]);
  }
  n.setOutput(0, TileOp::create(n.builder(), n.loc(),
                                n.tensorType(shape, n.inputElementType(0)),
                                n.input(0),
                                n.builder().getDenseI64ArrayAttr(*repeats)));
  return success();
}

LogicalResult convertPad(NodeImporter &n) {
  ArrayRef<int64_t> in = n.inputShape(0);
  int64_t rank = in.size();
  std::string mode = n.getString("mode", "constant");
  if (mode != "constant" && mode != "reflect" && mode != "edge" &&
      !(mode == "wrap" && n.version() >= 19))
    return n.unsupported("mode '" + mode + "'");
  std::vector<int64_t> pads;
  std::optional<double> value;
  std::optional<Tensor> valueTensor;
  if (n.version() < 11) {
    pads = n.getInts("pads");
    value = n.getFloat("value", 0.0f);
  } else {
    auto p = n.constantInts(1, "pads");
    if (failed(p))
      return failure();
    pads = *p;
    if (n.hasInput(2)) {
      auto value = n.requireConstant(2, "constant_value");
      if (failed(value))
        return failure();
      valueTensor = std::move(*value);
    }
  }
  // Opset 18: pads may cover only the listed axes.
  std::vector<int64_t> axes;
  if (n.version() >= 18 && n.hasInput(3)) {
    auto a = n.constantInts(3, "axes");
    if (failed(a))
      return failure();
    for (int64_t axis : *a) {
      auto norm = n.normalizeAxis(axis, rank);
      if (failed(norm))
        return failure();
      axes.push_back(*norm);
    }
  } else {
    for (int64_t d = 0; d < rank; ++d)
      axes.push_back(d);
  }
  if (pads.size() != 2 * axes.size()) {
    n.emitError() << "pads has " << pads.size() << " values, expected "
                  << 2 * axes.size();
    return failure();
  }
  SmallVector<int64_t> full(2 * rank, 0);
  for (size_t i = 0; i < axes.size(); ++i) {
    full[axes[i]] = pads[i];
    full[rank + axes[i]] = pads[axes.size() + i];
  }
  SmallVector<int64_t> shape;
  for (int64_t d = 0; d < rank; ++d) {
    shape.push_back(in[d] + full[d] + full[rank + d]);
    if (shape.back() < 0) {
      n.emitError() << "negative pads remove more than dimension " << d
                    << " holds";
      return failure();
    }
  }
  Type element = n.inputElementType(0);
  TypedAttr fill;
  if (valueTensor && valueTensor->numElements() > 0) {
    if (auto integer = dyn_cast<IntegerType>(element))
      fill = IntegerAttr::get(integer, isUnsignedInt(valueTensor->dtype)
                                           ? static_cast<int64_t>(
                                                 loadUnsigned(*valueTensor, 0))
                                           : loadInt(*valueTensor, 0));
    else
      fill = FloatAttr::get(element, loadFloat(*valueTensor, 0));
  } else if (value) {
    if (auto integer = dyn_cast<IntegerType>(element))
      fill = IntegerAttr::get(integer, static_cast<int64_t>(*value));
    else
      fill = FloatAttr::get(element, *value);
  }
  OpBuilder &b = n.builder();
  n.setOutput(0, PadOp::create(b, n.loc(), n.tensorType(shape, element),
                               n.input(0), b.getDenseI64ArrayAttr(full),
                               b.getStringAttr(mode), fill));
  return success();
}

} // namespace

void registerDataMovementConverters(ConverterRegistry &r) {
  r.add("", "Transpose", {1, 13, 21, 23, 24, 25}, convertTranspose);
  r.add("", "Concat", {4, 11, 13}, convertConcat);
  r.add("", "Slice", {1, 10, 11, 13}, convertSlice);
  r.add("", "Split", {2, 11, 13, 18}, convertSplit);
  r.add("", "Expand", {8, 13}, convertExpand);
  r.add("", "Gather", {1, 11, 13}, convertGather);
  r.add("", "Tile", {6, 13}, convertTile);
  r.add("", "Pad", {2, 11, 13, 18, 19, 21, 23, 24, 25}, convertPad);
}

} // namespace kiln::frontend
