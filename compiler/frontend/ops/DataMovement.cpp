//===- DataMovement.cpp - Converters of data movement ONNX ops --*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// Transpose, Concat, Slice, Split (as slices), Expand, Gather, Tile, Pad,
// GatherElements, GatherND, ScatterElements / Scatter, ScatterND,
// DepthToSpace, SpaceToDepth, Trilu, OneHot, ReverseSequence, Compress (a
// gather), CenterCropPad (slice + pad), Resize and Upsample. Shape-like
// inputs (starts, pads, repeats, scales, ...) must be constants; they are
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

/// Checks that input |i| holds int32 or int64 indices.
LogicalResult requireIndices(NodeImporter &n, size_t i, StringRef what) {
  DType type = n.inputDType(i);
  if (type != DType::I32 && type != DType::I64) {
    n.emitError() << "input '" << what << "' must be int32 or int64, got "
                  << dtypeName(type);
    return failure();
  }
  return success();
}

LogicalResult convertGatherElements(NodeImporter &n) {
  if (failed(requireIndices(n, 1, "indices")))
    return failure();
  ArrayRef<int64_t> in = n.inputShape(0), indices = n.inputShape(1);
  auto axis = n.normalizeAxis(n.getInt("axis", 0), in.size());
  if (failed(axis))
    return failure();
  if (indices.size() != in.size()) {
    n.emitError() << "indices must have the rank of the data (" << in.size()
                  << "), got rank " << indices.size();
    return failure();
  }
  for (size_t d = 0; d < in.size(); ++d)
    if (static_cast<int64_t>(d) != *axis && indices[d] > in[d]) {
      n.emitError() << "indices " << formatShape(indices) << " exceed the data "
                    << formatShape(in) << " outside axis " << *axis;
      return failure();
    }
  n.setOutput(0, GatherElementsOp::create(
                     n.builder(), n.loc(),
                     n.tensorType(indices, n.inputElementType(0)), n.input(0),
                     n.input(1), n.builder().getI64IntegerAttr(*axis)));
  return success();
}

LogicalResult convertGatherND(NodeImporter &n) {
  if (failed(requireIndices(n, 1, "indices")))
    return failure();
  int64_t batchDims = n.getInt("batch_dims", 0);
  auto shape = inferGatherNDShape(n.inputShape(0), n.inputShape(1), batchDims,
                                  n.errorFn());
  if (failed(shape))
    return failure();
  n.setOutput(0, GatherNDOp::create(n.builder(), n.loc(),
                                    n.tensorType(*shape, n.inputElementType(0)),
                                    n.input(0), n.input(1),
                                    n.builder().getI64IntegerAttr(batchDims)));
  return success();
}

/// Reads the 'reduction' attribute of ScatterElements / ScatterND: "add"
/// and "mul" since version 16, "max" and "min" since 18.
FailureOr<std::string> scatterReduction(NodeImporter &n) {
  std::string reduction = n.getString("reduction", "none");
  bool known =
      reduction == "none" ||
      (n.version() >= 16 && (reduction == "add" || reduction == "mul")) ||
      (n.version() >= 18 && (reduction == "max" || reduction == "min"));
  if (!known) {
    n.emitError() << "attribute 'reduction' has unknown value '" << reduction
                  << "'";
    return failure();
  }
  if (reduction != "none" && n.inputDType(0) == DType::Bool) {
    (void)n.unsupported("reduction '" + reduction + "' on bool tensors");
    return failure();
  }
  return reduction;
}

LogicalResult convertScatterElements(NodeImporter &n) {
  if (failed(requireIndices(n, 1, "indices")))
    return failure();
  auto reduction = scatterReduction(n);
  if (failed(reduction))
    return failure();
  ArrayRef<int64_t> in = n.inputShape(0), indices = n.inputShape(1);
  auto axis = n.normalizeAxis(n.getInt("axis", 0), in.size());
  if (failed(axis))
    return failure();
  if (indices != n.inputShape(2) || indices.size() != in.size()) {
    n.emitError() << "indices " << formatShape(indices) << " and updates "
                  << formatShape(n.inputShape(2))
                  << " must have one shape of the data's rank " << in.size();
    return failure();
  }
  for (size_t d = 0; d < in.size(); ++d)
    if (static_cast<int64_t>(d) != *axis && indices[d] > in[d]) {
      n.emitError() << "indices " << formatShape(indices) << " exceed the data "
                    << formatShape(in) << " outside axis " << *axis;
      return failure();
    }
  if (n.inputElementType(2) != n.inputElementType(0)) {
    n.emitError() << "updates and data have different element types";
    return failure();
  }
  OpBuilder &b = n.builder();
  n.setOutput(0, ScatterElementsOp::create(b, n.loc(), n.inputType(0),
                                           n.input(0), n.input(1), n.input(2),
                                           b.getI64IntegerAttr(*axis),
                                           b.getStringAttr(*reduction)));
  return success();
}

LogicalResult convertScatterND(NodeImporter &n) {
  if (failed(requireIndices(n, 1, "indices")))
    return failure();
  auto reduction = scatterReduction(n);
  if (failed(reduction))
    return failure();
  ArrayRef<int64_t> in = n.inputShape(0), indices = n.inputShape(1);
  if (indices.empty() || indices.back() < 1 ||
      indices.back() > static_cast<int64_t>(in.size())) {
    n.emitError() << "indices " << formatShape(indices)
                  << " must end with a tuple length in [1, " << in.size()
                  << "]";
    return failure();
  }
  SmallVector<int64_t> expected(indices.begin(), indices.end() - 1);
  expected.append(in.begin() + indices.back(), in.end());
  if (n.inputShape(2) != ArrayRef<int64_t>(expected)) {
    n.emitError() << "updates have shape " << formatShape(n.inputShape(2))
                  << ", expected " << formatShape(expected);
    return failure();
  }
  if (n.inputElementType(2) != n.inputElementType(0)) {
    n.emitError() << "updates and data have different element types";
    return failure();
  }
  OpBuilder &b = n.builder();
  n.setOutput(0, ScatterNDOp::create(b, n.loc(), n.inputType(0), n.input(0),
                                     n.input(1), n.input(2),
                                     b.getStringAttr(*reduction)));
  return success();
}

/// Reads the DCR/CRD 'mode' attribute (|hasMode| is false for versions
/// before the attribute existed); returns true for CRD.
FailureOr<bool> depthSpaceMode(NodeImporter &n, bool hasMode) {
  std::string mode = hasMode ? n.getString("mode", "DCR") : "DCR";
  if (mode != "DCR" && mode != "CRD") {
    n.emitError() << "attribute 'mode' has unknown value '" << mode
                  << "' (expected DCR or CRD)";
    return failure();
  }
  return mode == "CRD";
}

/// DepthToSpace (toSpace) and SpaceToDepth: the same attributes, shape
/// rule and op form; |modeSince| is the opset that gave the op `mode`.
template <typename OpT>
LogicalResult convertDepthSpace(NodeImporter &n, bool toSpace,
                                int64_t modeSince) {
  auto crd = depthSpaceMode(n, n.version() >= modeSince);
  if (failed(crd))
    return failure();
  int64_t blocksize = n.getInt("blocksize", 0);
  auto shape = inferDepthSpaceShape(n.inputShape(0), blocksize, toSpace,
                                    n.errorFn());
  if (failed(shape))
    return failure();
  OpBuilder &b = n.builder();
  n.setOutput(0, OpT::create(b, n.loc(),
                             n.tensorType(*shape, n.inputElementType(0)),
                             n.input(0), b.getI64IntegerAttr(blocksize),
                             b.getBoolAttr(*crd)));
  return success();
}

LogicalResult convertDepthToSpace(NodeImporter &n) {
  return convertDepthSpace<DepthToSpaceOp>(n, /*toSpace=*/true, 11);
}

LogicalResult convertSpaceToDepth(NodeImporter &n) {
  return convertDepthSpace<SpaceToDepthOp>(n, /*toSpace=*/false, 28);
}

LogicalResult convertTrilu(NodeImporter &n) {
  if (n.inputRank(0) < 2) {
    n.emitError() << "Trilu needs an input of rank >= 2, got rank "
                  << n.inputRank(0);
    return failure();
  }
  int64_t k = 0;
  if (n.hasInput(1)) {
    auto values = n.constantInts(1, "k");
    if (failed(values))
      return failure();
    if (values->size() != 1) {
      n.emitError() << "input 'k' must hold one value, got " << values->size();
      return failure();
    }
    k = (*values)[0];
  }
  OpBuilder &b = n.builder();
  n.setOutput(0, TriluOp::create(b, n.loc(), n.inputType(0), n.input(0),
                                 b.getBoolAttr(n.getInt("upper", 1) != 0),
                                 b.getI64IntegerAttr(k)));
  return success();
}

LogicalResult convertOneHot(NodeImporter &n) {
  DType indexType = n.inputDType(0);
  if (indexType == DType::Bool)
    return n.unsupported("indices of type bool");
  auto depthValues = n.constantFloats(1, "depth");
  if (failed(depthValues))
    return failure();
  if (depthValues->size() != 1) {
    n.emitError() << "input 'depth' must hold one value, got "
                  << depthValues->size();
    return failure();
  }
  // Non-integer depths are cast to int64 (truncated), as ONNX specifies.
  double depthValue = (*depthValues)[0];
  if (!(depthValue >= 1 && depthValue < 9.0e18)) {
    n.emitError() << "depth must be positive, got " << depthValue;
    return failure();
  }
  int64_t depth = static_cast<int64_t>(depthValue);
  if (n.inputShape(2) != ArrayRef<int64_t>{2}) {
    n.emitError() << "input 'values' must hold two elements [off, on], got "
                  << "shape " << formatShape(n.inputShape(2));
    return failure();
  }
  int64_t rank = n.inputRank(0);
  auto axis = n.normalizeAxis(n.getInt("axis", -1), rank + 1);
  if (failed(axis))
    return failure();
  auto shape = inferOneHotShape(n.inputShape(0), depth, *axis, n.errorFn());
  if (failed(shape))
    return failure();
  OpBuilder &b = n.builder();
  Value indices = n.input(0);
  if (n.version() < 11) {
    // OneHot-9 gives negative indices an all-off row (version 11 counts
    // them from the end): map them to 'depth', which is out of range.
    Value zero = n.scalar(indexType, 0);
    Value outside = n.scalar(indexType, static_cast<double>(depth));
    auto boolType = n.tensorType(n.inputShape(0), b.getI1Type());
    Value negative = LessOp::create(b, n.loc(), boolType, indices, zero);
    indices =
        WhereOp::create(b, n.loc(), n.inputType(0), negative, outside, indices);
  }
  n.setOutput(0, OneHotOp::create(
                     b, n.loc(), n.tensorType(*shape, n.inputElementType(2)),
                     indices, n.input(2), b.getI64IntegerAttr(depth),
                     b.getI64IntegerAttr(*axis)));
  return success();
}

LogicalResult convertReverseSequence(NodeImporter &n) {
  if (failed(requireIndices(n, 1, "sequence_lens")))
    return failure();
  ArrayRef<int64_t> in = n.inputShape(0);
  if (in.size() < 2) {
    n.emitError() << "ReverseSequence needs an input of rank >= 2, got rank "
                  << in.size();
    return failure();
  }
  // Both axes are 0 or 1 in ONNX.
  int64_t batchAxis = n.getInt("batch_axis", 1);
  int64_t timeAxis = n.getInt("time_axis", 0);
  if ((batchAxis != 0 && batchAxis != 1) || (timeAxis != 0 && timeAxis != 1) ||
      batchAxis == timeAxis) {
    n.emitError() << "batch_axis and time_axis must be 0 and 1 (or 1 and 0), "
                  << "got " << batchAxis << " and " << timeAxis;
    return failure();
  }
  if (n.inputShape(1) != ArrayRef<int64_t>{in[batchAxis]}) {
    n.emitError() << "sequence_lens must have shape " << in[batchAxis]
                  << ", got " << formatShape(n.inputShape(1));
    return failure();
  }
  OpBuilder &b = n.builder();
  n.setOutput(0, ReverseSequenceOp::create(b, n.loc(), n.inputType(0),
                                           n.input(0), n.input(1),
                                           b.getI64IntegerAttr(batchAxis),
                                           b.getI64IntegerAttr(timeAxis)));
  return success();
}

LogicalResult convertCompress(NodeImporter &n) {
  // The result shape depends on the condition's values: like other
  // shape-like inputs it must be a constant (or be bound to one).
  auto condition = n.requireConstant(1, "condition");
  if (failed(condition))
    return failure();
  if (condition->shape.size() != 1) {
    n.emitError() << "condition must be a 1-D tensor, got rank "
                  << condition->shape.size();
    return failure();
  }
  Value input = n.input(0);
  int64_t axis = 0;
  if (n.hasAttr("axis")) {
    auto a = n.normalizeAxis(n.getInt("axis", 0), n.inputRank(0));
    if (failed(a))
      return failure();
    axis = *a;
  } else {
    input = n.reshape(input, {n.inputType(0).getNumElements()});
  }
  auto inputShape = cast<RankedTensorType>(input.getType()).getShape();
  int64_t dim = inputShape[axis];
  std::vector<int64_t> selected;
  for (int64_t i = 0, e = condition->numElements(); i < e; ++i) {
    if (!loadInt(*condition, i))
      continue;
    if (i >= dim) {
      n.emitError() << "condition selects index " << i
                    << " beyond the dimension of size " << dim;
      return failure();
    }
    selected.push_back(i);
  }
  Tensor indices("", DType::I64, {static_cast<int64_t>(selected.size())});
  std::copy(selected.begin(), selected.end(), indices.as<int64_t>());
  auto shape = inferGatherShape(inputShape, indices.shape, axis, n.errorFn());
  if (failed(shape))
    return failure();
  n.setOutput(0, GatherOp::create(n.builder(), n.loc(),
                                  n.tensorType(*shape, n.inputElementType(0)),
                                  input, n.constant(indices),
                                  n.builder().getI64IntegerAttr(axis)));
  return success();
}

LogicalResult convertCenterCropPad(NodeImporter &n) {
  ArrayRef<int64_t> in = n.inputShape(0);
  int64_t rank = in.size();
  auto target = n.constantInts(1, "shape");
  if (failed(target))
    return failure();
  std::vector<int64_t> axes = n.getInts("axes");
  if (!n.hasAttr("axes"))
    for (int64_t d = 0; d < rank; ++d)
      axes.push_back(d);
  if (axes.size() != target->size()) {
    n.emitError() << "input 'shape' has " << target->size() << " values for "
                  << axes.size() << " axes";
    return failure();
  }
  SmallVector<int64_t> starts(rank, 0), counts(in), steps(rank, 1);
  SmallVector<int64_t> pads(2 * rank, 0);
  SmallVector<bool> seen(rank, false);
  for (size_t i = 0; i < axes.size(); ++i) {
    auto axis = n.normalizeAxis(axes[i], rank);
    if (failed(axis))
      return failure();
    if (seen[*axis]) {
      n.emitError() << "axis " << *axis << " is repeated";
      return failure();
    }
    seen[*axis] = true;
    int64_t want = (*target)[i], have = in[*axis];
    if (want < 0) {
      n.emitError() << "negative target size " << want;
      return failure();
    }
    // Cropping starts at the rounded-down centre offset; odd padding puts
    // the extra element at the end.
    if (want < have) {
      starts[*axis] = (have - want) / 2;
      counts[*axis] = want;
    } else if (want > have) {
      pads[*axis] = (want - have) / 2;
      pads[rank + *axis] = want - have - pads[*axis];
    }
  }
  Value result = buildSlice(n, n.input(0), starts, counts, steps);
  if (llvm::any_of(pads, [](int64_t p) { return p != 0; })) {
    SmallVector<int64_t> shape(counts);
    for (int64_t d = 0; d < rank; ++d)
      shape[d] += pads[d] + pads[rank + d];
    Type element = n.inputElementType(0);
    TypedAttr zero;
    if (auto integer = dyn_cast<IntegerType>(element))
      zero = IntegerAttr::get(integer, 0);
    else if (isa<FloatType>(element))
      zero = FloatAttr::get(element, 0.0);
    else
      return n.unsupported("element type of the padded input");
    OpBuilder &b = n.builder();
    result = PadOp::create(b, n.loc(), n.tensorType(shape, element), result,
                           b.getDenseI64ArrayAttr(pads),
                           b.getStringAttr("constant"), zero);
  }
  n.setOutput(0, result);
  return success();
}

//===----------------------------------------------------------------------===//
// Resize and Upsample
//===----------------------------------------------------------------------===//

/// The explicit parameters of one kiln.resize.
struct ResizeParams {
  SmallVector<double> scales, roi;
  SmallVector<int64_t> outShape;
  std::string mode = "nearest", transform = "half_pixel";
  std::string nearestMode = "round_prefer_floor";
  float cubicCoeffA = -0.75f, extrapolationValue = 0.0f;
  bool excludeOutside = false, antialias = false;
};

/// Builds the kiln.resize of |input| described by |p|.
Value buildResize(NodeImporter &n, Value input, const ResizeParams &p) {
  OpBuilder &b = n.builder();
  auto type = cast<RankedTensorType>(input.getType());
  return ResizeOp::create(
      b, n.loc(), RankedTensorType::get(p.outShape, type.getElementType()),
      input, b.getDenseF64ArrayAttr(p.scales), b.getDenseF64ArrayAttr(p.roi),
      b.getStringAttr(p.mode), b.getStringAttr(p.transform),
      b.getStringAttr(p.nearestMode), b.getF32FloatAttr(p.cubicCoeffA),
      b.getBoolAttr(p.excludeOutside), b.getF32FloatAttr(p.extrapolationValue),
      b.getBoolAttr(p.antialias));
}

/// Checks the element type of a Resize / Upsample input.
LogicalResult checkResizeType(NodeImporter &n) {
  DType t = n.inputDType(0);
  bool ok = t == DType::F32 || t == DType::F64 || t == DType::F16 ||
            t == DType::BF16 || (isSignedInt(t) && t != DType::I4) ||
            (isUnsignedInt(t) && t != DType::U4);
  if (!ok)
    return n.unsupported(llvm::Twine("element type ") + dtypeName(t));
  return success();
}

/// Resize-10 and Upsample: one scale per dimension, output sizes floored.
/// Their specifications define no coordinate mapping; Kiln follows
/// onnxruntime, the runtime these opsets were written against: asymmetric
/// coordinates, and nearest rounds down on enlarged dimensions and up on
/// shrunk ones (a nearest resize is separable, so mixed dimensions become
/// two resizes).
LogicalResult convertLegacyResize(NodeImporter &n,
                                  const std::vector<double> &scales,
                                  bool allowDownscale) {
  if (failed(checkResizeType(n)))
    return failure();
  ArrayRef<int64_t> in = n.inputShape(0);
  size_t rank = in.size();
  std::string mode = n.getString("mode", "nearest");
  if (mode != "nearest" && mode != "linear") {
    n.emitError() << "attribute 'mode' has unknown value '" << mode
                  << "' (expected nearest or linear)";
    return failure();
  }
  if (scales.size() != rank) {
    n.emitError() << "scales has " << scales.size() << " values for rank "
                  << rank;
    return failure();
  }
  ResizeParams p;
  p.mode = mode;
  p.transform = "asymmetric";
  p.nearestMode = "floor";
  bool shrinks = false, grows = false;
  for (size_t d = 0; d < rank; ++d) {
    double scale = scales[d];
    if (!(scale > 0) || (!allowDownscale && scale < 1)) {
      n.emitError() << "scales must be "
                    << (allowDownscale ? "positive" : ">= 1") << ", got "
                    << scale;
      return failure();
    }
    shrinks |= scale < 1;
    grows |= scale > 1;
    p.scales.push_back(scale);
    p.outShape.push_back(static_cast<int64_t>(std::floor(scale * in[d])));
  }
  if (mode == "linear" || !shrinks) {
    n.setOutput(0, buildResize(n, n.input(0), p));
    return success();
  }
  // Nearest with shrunk dimensions: those round up.
  ResizeParams down = p;
  down.nearestMode = "ceil";
  for (size_t d = 0; d < rank; ++d)
    if (p.scales[d] >= 1) {
      down.scales[d] = 1.0;
      down.outShape[d] = in[d];
    }
  Value result = buildResize(n, n.input(0), down);
  if (grows) {
    ResizeParams up = p;
    for (size_t d = 0; d < rank; ++d)
      if (p.scales[d] < 1)
        up.scales[d] = 1.0;
    result = buildResize(n, result, up);
  }
  n.setOutput(0, result);
  return success();
}

LogicalResult convertUpsample(NodeImporter &n) {
  std::vector<double> scales;
  if (n.version() < 9) {
    for (float s : n.getFloats("scales"))
      scales.push_back(s);
  } else {
    auto values = n.constantFloats(1, "scales");
    if (failed(values))
      return failure();
    scales = *values;
  }
  return convertLegacyResize(n, scales, /*allowDownscale=*/false);
}

LogicalResult convertResize(NodeImporter &n) {
  int64_t version = n.version();
  if (version < 11) {
    auto scales = n.constantFloats(1, "scales");
    if (failed(scales))
      return failure();
    return convertLegacyResize(n, *scales, /*allowDownscale=*/true);
  }
  if (failed(checkResizeType(n)))
    return failure();
  ArrayRef<int64_t> in = n.inputShape(0);
  int64_t rank = in.size();
  ResizeParams p;
  p.mode = n.getString("mode", "nearest");
  if (p.mode != "nearest" && p.mode != "linear" && p.mode != "cubic") {
    n.emitError() << "attribute 'mode' has unknown value '" << p.mode
                  << "' (expected nearest, linear or cubic)";
    return failure();
  }
  p.transform = n.getString("coordinate_transformation_mode", "half_pixel");
  bool knownTransform =
      llvm::is_contained({"half_pixel", "pytorch_half_pixel", "align_corners",
                          "asymmetric", "tf_crop_and_resize"},
                         p.transform) ||
      (version == 11 && p.transform == "tf_half_pixel_for_nn") ||
      (version >= 19 && p.transform == "half_pixel_symmetric");
  if (!knownTransform) {
    n.emitError() << "attribute 'coordinate_transformation_mode' has unknown "
                  << "value '" << p.transform << "'";
    return failure();
  }
  p.nearestMode = n.getString("nearest_mode", "round_prefer_floor");
  if (!llvm::is_contained(
          {"round_prefer_floor", "round_prefer_ceil", "floor", "ceil"},
          p.nearestMode)) {
    n.emitError() << "attribute 'nearest_mode' has unknown value '"
                  << p.nearestMode << "'";
    return failure();
  }
  p.cubicCoeffA = n.getFloat("cubic_coeff_a", -0.75f);
  p.excludeOutside = n.getInt("exclude_outside", 0) != 0;
  p.extrapolationValue = n.getFloat("extrapolation_value", 0.0f);
  // Antialiasing applies to linear and cubic only; nearest ignores it.
  p.antialias =
      version >= 18 && n.getInt("antialias", 0) != 0 && p.mode != "nearest";
  std::string policy = version >= 18
                           ? n.getString("keep_aspect_ratio_policy", "stretch")
                           : "stretch";
  if (policy != "stretch" && policy != "not_larger" &&
      policy != "not_smaller") {
    n.emitError() << "attribute 'keep_aspect_ratio_policy' has unknown value '"
                  << policy << "'";
    return failure();
  }

  // The axes that roi, scales and sizes refer to.
  SmallVector<int64_t> axes;
  if (version >= 18 && n.hasAttr("axes")) {
    SmallVector<bool> seen(rank, false);
    for (int64_t axis : n.getInts("axes")) {
      auto a = n.normalizeAxis(axis, rank);
      if (failed(a))
        return failure();
      if (seen[*a]) {
        n.emitError() << "axis " << *a << " is repeated";
        return failure();
      }
      seen[*a] = true;
      axes.push_back(*a);
    }
  } else {
    for (int64_t d = 0; d < rank; ++d)
      axes.push_back(d);
  }
  size_t count = axes.size();

  std::vector<double> scales;
  std::vector<int64_t> sizes;
  if (n.hasInput(2)) {
    auto values = n.constantFloats(2, "scales");
    if (failed(values))
      return failure();
    scales = *values;
  }
  if (n.hasInput(3)) {
    auto values = n.constantInts(3, "sizes");
    if (failed(values))
      return failure();
    sizes = *values;
  }
  if (scales.empty() == sizes.empty()) {
    n.emitError() << "exactly one of 'scales' and 'sizes' must be given";
    return failure();
  }
  if ((!scales.empty() && scales.size() != count) ||
      (!sizes.empty() && sizes.size() != count)) {
    n.emitError() << "'" << (scales.empty() ? "sizes" : "scales") << "' has "
                  << (scales.empty() ? sizes.size() : scales.size())
                  << " values, expected " << count;
    return failure();
  }

  p.scales.assign(rank, 1.0);
  p.outShape.assign(in.begin(), in.end());
  if (!scales.empty()) {
    // The output size is floor(input * scale), computed in double as the
    // ONNX reference and shape inference do; roi does not change it.
    for (size_t i = 0; i < count; ++i) {
      if (!(scales[i] > 0)) {
        n.emitError() << "scales must be positive, got " << scales[i];
        return failure();
      }
      p.scales[axes[i]] = scales[i];
      p.outShape[axes[i]] =
          static_cast<int64_t>(std::floor(scales[i] * in[axes[i]]));
    }
  } else {
    for (size_t i = 0; i < count; ++i) {
      if (sizes[i] <= 0 || in[axes[i]] == 0) {
        n.emitError() << "sizes must be positive (and the resized dimensions "
                      << "non-empty), got " << sizes[i];
        return failure();
      }
      p.scales[axes[i]] =
          static_cast<double>(sizes[i]) / static_cast<double>(in[axes[i]]);
      p.outShape[axes[i]] = sizes[i];
    }
    if (policy != "stretch") {
      double scale = p.scales[axes[0]];
      for (int64_t axis : axes)
        scale = policy == "not_larger" ? std::min(scale, p.scales[axis])
                                       : std::max(scale, p.scales[axis]);
      // round_int rounds halfway cases up.
      for (int64_t axis : axes) {
        p.scales[axis] = scale;
        p.outShape[axis] =
            static_cast<int64_t>(std::floor(scale * in[axis] + 0.5));
      }
    }
  }

  if (p.transform == "tf_crop_and_resize") {
    auto roi = n.hasInput(1)
                   ? n.constantFloats(1, "roi")
                   : FailureOr<std::vector<double>>(std::vector<double>());
    if (failed(roi))
      return failure();
    if (roi->size() != 2 * count) {
      n.emitError() << "tf_crop_and_resize needs a roi of " << 2 * count
                    << " values, got " << roi->size();
      return failure();
    }
    p.roi.assign(rank, 0.0);
    p.roi.append(rank, 1.0);
    for (size_t i = 0; i < count; ++i) {
      p.roi[axes[i]] = (*roi)[i];
      p.roi[rank + axes[i]] = (*roi)[count + i];
    }
  }
  n.setOutput(0, buildResize(n, n.input(0), p));
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
  r.add("", "GatherElements", {11, 13}, convertGatherElements);
  // GatherND-12 added batch_dims.
  r.add("", "GatherND", {11, 12, 13}, convertGatherND);
  // Reductions: add and mul since 16, max and min since 18. Scatter is the
  // deprecated name of ScatterElements without reductions.
  r.add("", "ScatterElements", {11, 13, 16, 18}, convertScatterElements);
  r.add("", "Scatter", {9, 11}, convertScatterElements);
  r.add("", "ScatterND", {11, 13, 16, 18}, convertScatterND);
  // DepthToSpace-11 added the CRD mode, SpaceToDepth-28 too; 28 added
  // bfloat16 elsewhere (element types only).
  r.add("", "DepthToSpace", {1, 11, 13, 28}, convertDepthToSpace);
  r.add("", "SpaceToDepth", {1, 13, 28}, convertSpaceToDepth);
  r.add("", "Trilu", {14}, convertTrilu);
  // OneHot-11 counts negative indices from the end.
  r.add("", "OneHot", {9, 11, 28}, convertOneHot);
  r.add("", "ReverseSequence", {10, 28}, convertReverseSequence);
  r.add("", "Compress", {9, 11, 28}, convertCompress);
  r.add("", "CenterCropPad", {18}, convertCenterCropPad);
  // Resize: 11 added roi, sizes and the coordinate modes, 13 dropped
  // tf_half_pixel_for_nn, 18 added antialias, axes and
  // keep_aspect_ratio_policy, 19 half_pixel_symmetric.
  r.add("", "Resize", {10, 11, 13, 18, 19}, convertResize);
  r.add("", "Upsample", {7, 9}, convertUpsample);
}

} // namespace kiln::frontend
