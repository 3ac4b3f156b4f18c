//===- Structural.cpp - Converters of constants and shape ops ---*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// Constant, ConstantOfShape, Shape, Size, Range, EyeLike (all become
// constants: Kiln graphs are static), Identity and Dropout (pass-through in
// inference), Reshape, Flatten, Squeeze, Unsqueeze (kiln.reshape), Cast and
// CastLike.
//
//===----------------------------------------------------------------------===//

#include "compiler/frontend/ImportContext.h"
#include "compiler/frontend/OnnxModel.h"
#include "compiler/support/Numeric.h"
#include "compiler/support/TensorAttr.h"

#include "dialects/kiln/KilnOps.h"

#include "onnx/onnx_pb.h"

#include <cmath>

using namespace mlir;

namespace kiln::frontend {
namespace {

/// Largest tensor a shape-building op may create (elements).
constexpr int64_t kMaxConstantElements = int64_t(1) << 28;

LogicalResult convertConstant(NodeImporter &n) {
  Tensor tensor;
  if (n.hasAttr("value")) {
    auto value = n.getTensor("value");
    if (failed(value))
      return failure();
    tensor = std::move(*value);
  } else if (n.hasAttr("value_float")) {
    tensor = Tensor("", DType::F32, {});
    tensor.as<float>()[0] = n.getFloat("value_float", 0);
  } else if (n.hasAttr("value_floats")) {
    std::vector<float> values = n.getFloats("value_floats");
    tensor = Tensor("", DType::F32, {static_cast<int64_t>(values.size())});
    std::copy(values.begin(), values.end(), tensor.as<float>());
  } else if (n.hasAttr("value_int")) {
    tensor = Tensor("", DType::I64, {});
    tensor.as<int64_t>()[0] = n.getInt("value_int", 0);
  } else if (n.hasAttr("value_ints")) {
    std::vector<int64_t> values = n.getInts("value_ints");
    tensor = Tensor("", DType::I64, {static_cast<int64_t>(values.size())});
    std::copy(values.begin(), values.end(), tensor.as<int64_t>());
  } else if (n.hasAttr("sparse_value")) {
    return n.unsupported("attribute 'sparse_value' (sparse constants)");
  } else if (n.hasAttr("value_string") || n.hasAttr("value_strings")) {
    return n.unsupported("string constant");
  } else {
    n.emitError() << "Constant has no value attribute";
    return failure();
  }
  n.setOutput(0, n.constant(tensor));
  return success();
}

LogicalResult convertConstantOfShape(NodeImporter &n) {
  auto shape = n.constantInts(0, "input");
  if (failed(shape))
    return failure();
  Tensor fill("", DType::F32, {1});
  if (n.hasAttr("value")) {
    auto value = n.getTensor("value");
    if (failed(value))
      return failure();
    if (value->numElements() != 1) {
      n.emitError() << "attribute 'value' must hold one element";
      return failure();
    }
    fill = std::move(*value);
  }
  int64_t count = 1;
  for (int64_t d : *shape) {
    if (d < 0) {
      n.emitError() << "negative dimension " << d << " in the shape input";
      return failure();
    }
    if (d != 0 && count > kMaxConstantElements / d) {
      n.emitError() << "absurd shape (over 2^28 elements)";
      return failure();
    }
    count *= d;
  }
  Tensor result("", fill.dtype, *shape);
  size_t size = dtypeSize(fill.dtype);
  for (int64_t i = 0; i < count; ++i)
    std::memcpy(result.data.data() + i * size, fill.data.data(), size);
  n.setOutput(0, n.constant(result));
  return success();
}

LogicalResult convertShape(NodeImporter &n) {
  ArrayRef<int64_t> shape = n.inputShape(0);
  int64_t rank = shape.size();
  // Opset 15 added start/end, clamped into [0, rank].
  int64_t start = n.getInt("start", 0), end = n.getInt("end", rank);
  if (start < 0)
    start += rank;
  if (end < 0)
    end += rank;
  start = std::clamp<int64_t>(start, 0, rank);
  end = std::clamp<int64_t>(end, 0, rank);
  int64_t count = std::max<int64_t>(end - start, 0);
  Tensor result("", DType::I64, {count});
  for (int64_t i = 0; i < count; ++i)
    result.as<int64_t>()[i] = shape[start + i];
  n.setOutput(0, n.constant(result));
  return success();
}

LogicalResult convertSize(NodeImporter &n) {
  Tensor result("", DType::I64, {});
  result.as<int64_t>()[0] = n.inputType(0).getNumElements();
  n.setOutput(0, n.constant(result));
  return success();
}

LogicalResult convertRange(NodeImporter &n) {
  DType type = n.inputDType(0);
  auto start = n.constantFloats(0, "start");
  auto limit = n.constantFloats(1, "limit");
  auto delta = n.constantFloats(2, "delta");
  if (failed(start) || failed(limit) || failed(delta))
    return failure();
  if (start->size() != 1 || limit->size() != 1 || delta->size() != 1) {
    n.emitError() << "start, limit and delta must be scalars";
    return failure();
  }
  double d = (*delta)[0];
  if (d == 0) {
    n.emitError() << "delta must not be zero";
    return failure();
  }
  double steps = std::ceil(((*limit)[0] - (*start)[0]) / d);
  if (std::isnan(steps) || steps >= static_cast<double>(kMaxConstantElements)) {
    n.emitError() << "absurd range (over 2^28 elements)";
    return failure();
  }
  // Clamp before converting: a double below INT64_MIN does not convert.
  int64_t count = steps > 0 ? static_cast<int64_t>(steps) : 0;
  Tensor result("", type, {count});
  if (isFloat(type)) {
    // Accumulate in the element type as the ONNX function body does.
    Tensor acc("", type, {});
    storeFloat(acc, 0, (*start)[0]);
    Tensor step("", type, {});
    storeFloat(step, 0, d);
    for (int64_t i = 0; i < count; ++i) {
      storeFloat(result, i, loadFloat(acc, 0));
      storeFloat(acc, 0, loadFloat(acc, 0) + loadFloat(step, 0));
    }
  } else {
    // Integers exactly (doubles lose digits above 2^53). Every element lies
    // between start and limit, but i * delta alone may not fit: compute
    // modulo 2^64, which gives the exact in-range value.
    auto starts = n.constantInts(0, "start");
    auto deltas = n.constantInts(2, "delta");
    if (failed(starts) || failed(deltas))
      return failure();
    uint64_t s = static_cast<uint64_t>((*starts)[0]);
    uint64_t dd = static_cast<uint64_t>((*deltas)[0]);
    for (int64_t i = 0; i < count; ++i)
      storeInt(result, i,
               static_cast<int64_t>(s + static_cast<uint64_t>(i) * dd));
  }
  n.setOutput(0, n.constant(result));
  return success();
}

LogicalResult convertEyeLike(NodeImporter &n) {
  ArrayRef<int64_t> shape = n.inputShape(0);
  if (shape.size() != 2) {
    n.emitError() << "EyeLike needs a 2-D input, got rank " << shape.size();
    return failure();
  }
  DType type = n.inputDType(0);
  if (n.hasAttr("dtype")) {
    std::optional<DType> requested =
        dtypeFromOnnx(static_cast<int32_t>(n.getInt("dtype", 1)));
    if (!requested)
      return n.unsupported("dtype " +
                           onnxTypeName(static_cast<int32_t>(
                               n.getInt("dtype", 1))));
    type = *requested;
  }
  int64_t k = n.getInt("k", 0);
  if (shape[1] != 0 && shape[0] > kMaxConstantElements / shape[1]) {
    n.emitError() << "absurd shape (over 2^28 elements)";
    return failure();
  }
  Tensor result("", type, {shape[0], shape[1]});
  for (int64_t i = 0; i < shape[0]; ++i) {
    int64_t j = i + k;
    if (j >= 0 && j < shape[1])
      storeFloat(result, i * shape[1] + j, 1.0);
  }
  n.setOutput(0, n.constant(result));
  return success();
}

LogicalResult convertIdentity(NodeImporter &n) {
  n.setOutput(0, n.input(0));
  return success();
}

LogicalResult convertDropout(NodeImporter &n) {
  // Inference: the output is the input. Training mode is not supported.
  if (n.version() >= 12 && n.hasInput(2)) {
    std::optional<Tensor> training = n.constantInput(2);
    if (!training)
      return n.unsupported("non-constant training_mode (Kiln compiles "
                           "inference)");
    if (training->numElements() > 0 && training->data[0])
      return n.unsupported("training_mode = true (Kiln compiles inference)");
  }
  n.setOutput(0, n.input(0));
  if (n.hasOutput(1)) {
    if (n.inputType(0).getNumElements() > kMaxConstantElements) {
      n.emitError() << "the mask output would be a constant of over 2^28 "
                       "elements";
      return failure();
    }
    Tensor mask("", n.version() >= 10 ? DType::Bool : n.inputDType(0),
                std::vector<int64_t>(n.inputShape(0).begin(), n.inputShape(0).end()));
    for (int64_t i = 0, e = mask.numElements(); i < e; ++i)
      storeFloat(mask, i, 1.0);
    n.setOutput(1, n.constant(mask));
  }
  return success();
}

LogicalResult convertReshape(NodeImporter &n) {
  auto target = n.constantInts(1, "shape");
  if (failed(target))
    return failure();
  ArrayRef<int64_t> in = n.inputShape(0);
  bool allowZero = n.getInt("allowzero", 0) != 0;
  SmallVector<int64_t> shape;
  int64_t inferred = -1, known = 1;
  for (auto [i, d] : llvm::enumerate(*target)) {
    if (d == 0 && !allowZero) {
      if (i >= in.size()) {
        n.emitError() << "shape entry " << i
                      << " is 0 (copy) but the input has rank " << in.size();
        return failure();
      }
      d = in[i];
    }
    if (d == -1) {
      if (inferred >= 0) {
        n.emitError() << "shape has more than one -1";
        return failure();
      }
      inferred = i;
      shape.push_back(1);
      continue;
    }
    if (d < 0) {
      n.emitError() << "invalid shape entry " << d;
      return failure();
    }
    // 2^34 elements bounds every value the importer accepts.
    if (d != 0 && known > (int64_t(1) << 34) / d) {
      n.emitError() << "absurd shape entry " << d;
      return failure();
    }
    shape.push_back(d);
    known *= d;
  }
  int64_t total = n.inputType(0).getNumElements();
  if (inferred >= 0) {
    if (known == 0 || total % known != 0) {
      n.emitError() << "cannot infer the -1 dimension: " << total
                    << " elements do not divide by " << known;
      return failure();
    }
    shape[inferred] = total / known;
  } else if (known != total) {
    n.emitError() << "cannot reshape " << mlir::kiln::formatShape(in) << " ("
                  << total << " elements) to "
                  << mlir::kiln::formatShape(shape);
    return failure();
  }
  n.setOutput(0, n.reshape(n.input(0), shape));
  return success();
}

LogicalResult convertFlatten(NodeImporter &n) {
  ArrayRef<int64_t> in = n.inputShape(0);
  int64_t rank = in.size();
  // Flatten's axis lies in [-rank, rank]; negative values count from rank.
  int64_t axis = n.getInt("axis", 1);
  if (axis < 0)
    axis += rank;
  if (axis < 0 || axis > rank) {
    n.emitError() << "axis " << n.getInt("axis", 1)
                  << " is out of range for rank " << rank;
    return failure();
  }
  int64_t outer = 1, inner = 1;
  for (int64_t d = 0; d < rank; ++d)
    (d < axis ? outer : inner) *= in[d];
  n.setOutput(0, n.reshape(n.input(0), {outer, inner}));
  return success();
}

/// Returns the axes of Squeeze/Unsqueeze: an attribute before opset 13, an
/// input afterwards.
FailureOr<std::vector<int64_t>> axesOf(NodeImporter &n, bool required) {
  if (n.version() < 13) {
    if (!n.hasAttr("axes") && required) {
      n.emitError() << "attribute 'axes' is required";
      return failure();
    }
    return n.getInts("axes");
  }
  if (!n.hasInput(1)) {
    if (required) {
      n.emitError() << "input 'axes' is required";
      return failure();
    }
    return std::vector<int64_t>();
  }
  return n.constantInts(1, "axes");
}

LogicalResult convertSqueeze(NodeImporter &n) {
  auto axes = axesOf(n, false);
  if (failed(axes))
    return failure();
  ArrayRef<int64_t> in = n.inputShape(0);
  SmallVector<bool> drop(in.size(), false);
  if (axes->empty()) {
    for (size_t d = 0; d < in.size(); ++d)
      drop[d] = in[d] == 1;
  }
  for (int64_t axis : *axes) {
    auto a = n.normalizeAxis(axis, in.size());
    if (failed(a))
      return failure();
    if (in[*a] != 1) {
      n.emitError() << "cannot squeeze axis " << *a << " of size " << in[*a];
      return failure();
    }
    drop[*a] = true;
  }
  SmallVector<int64_t> shape;
  for (size_t d = 0; d < in.size(); ++d)
    if (!drop[d])
      shape.push_back(in[d]);
  n.setOutput(0, n.reshape(n.input(0), shape));
  return success();
}

LogicalResult convertUnsqueeze(NodeImporter &n) {
  auto axes = axesOf(n, true);
  if (failed(axes))
    return failure();
  ArrayRef<int64_t> in = n.inputShape(0);
  int64_t rank = in.size() + axes->size();
  SmallVector<bool> inserted(rank, false);
  for (int64_t axis : *axes) {
    auto a = n.normalizeAxis(axis, rank);
    if (failed(a))
      return failure();
    if (inserted[*a]) {
      n.emitError() << "axis " << *a << " is repeated";
      return failure();
    }
    inserted[*a] = true;
  }
  SmallVector<int64_t> shape;
  size_t next = 0;
  for (int64_t d = 0; d < rank; ++d)
    shape.push_back(inserted[d] ? 1 : in[next++]);
  n.setOutput(0, n.reshape(n.input(0), shape));
  return success();
}

LogicalResult emitCast(NodeImporter &n, DType to) {
  if (n.version() >= 25 && n.getString("round_mode", "up") != "up")
    return n.unsupported("round_mode '" + n.getString("round_mode", "up") +
                         "'");
  bool saturate = n.getInt("saturate", 1) != 0;
  auto inType = n.inputType(0);
  Type target = n.mlirType(to);
  if (inType.getElementType() == target) {
    n.setOutput(0, n.input(0));
    return success();
  }
  Value result = mlir::kiln::CastOp::create(
      n.builder(), n.loc(), RankedTensorType::get(inType.getShape(), target),
      n.input(0), n.builder().getBoolAttr(saturate));
  n.setOutput(0, result);
  return success();
}

LogicalResult convertCast(NodeImporter &n) {
  int32_t code = static_cast<int32_t>(n.getInt("to", 0));
  std::optional<DType> to = dtypeFromOnnx(code);
  if (!to)
    return n.unsupported("target element type " + onnxTypeName(code));
  return emitCast(n, *to);
}

LogicalResult convertCastLike(NodeImporter &n) {
  return emitCast(n, n.inputDType(1));
}

} // namespace

void registerStructuralConverters(ConverterRegistry &r) {
  r.add("", "Constant", {1, 9, 11, 12, 13, 19, 21, 23, 24, 25},
        convertConstant);
  r.add("", "ConstantOfShape", {9, 20, 21, 23, 24, 25},
        convertConstantOfShape);
  r.add("", "Shape", {1, 13, 15, 19, 21, 23, 24, 25}, convertShape);
  r.add("", "Size", {1, 13, 19, 21, 23, 24, 25}, convertSize);
  r.add("", "Range", {11}, convertRange);
  r.add("", "EyeLike", {9, 22}, convertEyeLike);
  r.add("", "Identity", {1, 13, 14, 16, 19, 21, 23, 24, 25},
        convertIdentity);
  r.add("", "Dropout", {7, 10, 12, 13, 22}, convertDropout);
  r.add("", "Reshape", {5, 13, 14, 19, 21, 23, 24, 25}, convertReshape);
  r.add("", "Flatten", {1, 9, 11, 13, 21, 23, 24, 25}, convertFlatten);
  r.add("", "Squeeze", {1, 11, 13, 21, 23, 24, 25}, convertSqueeze);
  r.add("", "Unsqueeze", {1, 11, 13, 21, 23, 24, 25}, convertUnsqueeze);
  // Cast-28 only adds the 6-bit float types, which have no host type and
  // are rejected as unsupported by dtypeFromOnnx (like int2 / float8e8m0).
  r.add("", "Cast", {6, 9, 13, 19, 21, 23, 24, 25, 28}, convertCast);
  r.add("", "CastLike", {15, 19, 21, 23, 24, 25}, convertCastLike);
}

} // namespace kiln::frontend
