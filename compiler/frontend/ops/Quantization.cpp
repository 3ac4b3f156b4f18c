//===- Quantization.cpp - Converters of quantized ONNX ops ------*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// QuantizeLinear and DequantizeLinear (opsets 10 to 28: per-tensor,
// per-axis and blocked scales, output_dtype, precision, saturate),
// DynamicQuantizeLinear, and the integer / QLinear operators MatMulInteger,
// ConvInteger, QLinearMatMul and QLinearConv (declared in LinearOps.td).
//
// Scale layouts are checked here against each version's rules so that the
// kiln ops only ever see the layouts their kernels implement. Element types
// Kiln has no host type for (int2, uint2, the 6-bit floats, float8e8m0)
// are rejected as unsupported; so are the float8 forms of QLinearMatMul.
//
//===----------------------------------------------------------------------===//

#include "compiler/frontend/ImportContext.h"
#include "compiler/frontend/OnnxModel.h"
#include "compiler/frontend/ops/WindowAttrs.h"

#include "dialects/kiln/KilnOps.h"

using namespace mlir;
using namespace mlir::kiln;

namespace kiln::frontend {
namespace {

/// Returns true for the element types quantize_linear produces and
/// dequantize_linear reads (int32 is only read, see isDequantInput).
bool isQuantType(DType t) {
  switch (t) {
  case DType::I8:
  case DType::U8:
  case DType::I16:
  case DType::U16:
  case DType::I4:
  case DType::U4:
  case DType::F8E4M3FN:
  case DType::F8E4M3FNUZ:
  case DType::F8E5M2:
  case DType::F8E5M2FNUZ:
  case DType::F4E2M1:
    return true;
  default:
    return false;
  }
}

/// Returns true for the float types of scales and dequantized values.
bool isScaleType(DType t) {
  return t == DType::F32 || t == DType::F16 || t == DType::BF16;
}

/// Returns the number of elements of |shape|.
int64_t elementCount(ArrayRef<int64_t> shape) {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

/// The scale layout of a quantize / dequantize node, ready for the op.
struct QuantLayout {
  int64_t axis = 0;
  int64_t blockSize = 0;
  /// The scale and zero point (null when absent); per-tensor ones are
  /// reshaped to scalars (ONNX also accepts one-element 1-D tensors).
  Value scale, zeroPoint;
};

/// Checks the scale (input 1) and zero point (input 2) of a Q/DQ node
/// against the input's shape and the layouts version |n.version()| allows:
/// per tensor (10+), per axis (13+), blocked (21+).
FailureOr<QuantLayout> readQuantLayout(NodeImporter &n) {
  ArrayRef<int64_t> x = n.inputShape(0);
  ArrayRef<int64_t> scale = n.inputShape(1);
  int64_t rank = x.size();
  QuantLayout layout;
  layout.scale = n.input(1);
  if (n.hasInput(2))
    layout.zeroPoint = n.input(2);
  bool oneElement = elementCount(scale) == 1 && scale.size() <= 1;
  if (n.hasInput(2) && n.inputShape(2) != scale &&
      !(oneElement && elementCount(n.inputShape(2)) == 1 &&
        n.inputRank(2) <= 1)) {
    n.emitError() << "zero point shape " << formatShape(n.inputShape(2))
                  << " differs from the scale shape " << formatShape(scale);
    return failure();
  }
  int64_t blockSize = n.version() >= 21 ? n.getInt("block_size", 0) : 0;
  if (blockSize < 0) {
    n.emitError() << "attribute 'block_size' must be positive, got "
                  << blockSize;
    return failure();
  }
  // Per tensor: a scalar or one-element 1-D scale; the axis is unused and
  // written as 0 so the op carries no meaningless value.
  if (blockSize == 0 && oneElement) {
    layout.scale = n.reshape(layout.scale, {});
    if (layout.zeroPoint)
      layout.zeroPoint = n.reshape(layout.zeroPoint, {});
    return layout;
  }
  if (n.version() < 13) {
    n.emitError() << "the scale must be a scalar before opset 13, got shape "
                  << formatShape(scale);
    return failure();
  }
  auto axis = n.normalizeAxis(n.getInt("axis", 1), rank);
  if (failed(axis))
    return failure();
  layout.axis = *axis;
  if (blockSize == 0) {
    if (scale.size() != 1 || scale[0] != x[*axis]) {
      n.emitError() << "per-axis scale of shape " << formatShape(scale)
                    << " does not match dimension " << *axis << " of "
                    << formatShape(x)
                    << (n.version() >= 21 ? " (set block_size for blocked "
                                            "quantization)"
                                          : "");
      return failure();
    }
    return layout;
  }
  layout.blockSize = blockSize;
  if (static_cast<int64_t>(scale.size()) != rank) {
    n.emitError() << "blocked scale must have the input's rank " << rank
                  << ", got shape " << formatShape(scale);
    return failure();
  }
  for (int64_t d = 0; d < rank; ++d) {
    int64_t expected = d == *axis ? (x[d] + blockSize - 1) / blockSize : x[d];
    if (scale[d] != expected) {
      n.emitError() << "blocked scale shape " << formatShape(scale)
                    << " does not match input " << formatShape(x)
                    << " with block_size " << blockSize << " on axis " << *axis;
      return failure();
    }
  }
  return layout;
}

/// Reads the ONNX element type attribute |name| (0 or absent: none).
FailureOr<std::optional<DType>> readTypeAttr(NodeImporter &n, StringRef name) {
  int64_t code = n.getInt(name, 0);
  if (code == 0)
    return std::optional<DType>();
  std::optional<DType> t = dtypeFromOnnx(static_cast<int32_t>(code));
  if (!t) {
    (void)n.unsupported("element type " +
                        onnxTypeName(static_cast<int32_t>(code)) + " of '" +
                        name + "'");
    return failure();
  }
  return t;
}

LogicalResult convertQuantizeLinear(NodeImporter &n) {
  DType xType = n.inputDType(0), scaleType = n.inputDType(1);
  if (!isScaleType(xType) && xType != DType::I32)
    return n.unsupported(llvm::Twine("input element type ") + dtypeName(xType));
  if (!isScaleType(scaleType))
    return n.unsupported(llvm::Twine("scale element type ") +
                         dtypeName(scaleType) +
                         " (Kiln divides by float scales only)");
  // The result type: output_dtype (21+), else the zero point's, else uint8.
  std::optional<DType> outType;
  if (n.version() >= 21) {
    auto attr = readTypeAttr(n, "output_dtype");
    if (failed(attr))
      return failure();
    outType = *attr;
  }
  if (n.hasInput(2)) {
    DType zpType = n.inputDType(2);
    if (outType && *outType != zpType) {
      n.emitError() << "attribute 'output_dtype' (" << dtypeName(*outType)
                    << ") differs from the zero point type "
                    << dtypeName(zpType);
      return failure();
    }
    outType = zpType;
  }
  if (!outType)
    outType = DType::U8;
  if (!isQuantType(*outType))
    return n.unsupported(llvm::Twine("quantized element type ") +
                         dtypeName(*outType));
  auto layout = readQuantLayout(n);
  if (failed(layout))
    return failure();
  // The division runs in the scale's type unless 'precision' (23+) names
  // another; the kernel divides in the scale operand's type, so a different
  // precision becomes a cast of the scale.
  Value scale = layout->scale;
  if (n.version() >= 23) {
    auto precision = readTypeAttr(n, "precision");
    if (failed(precision))
      return failure();
    if (*precision) {
      if (!isScaleType(**precision) && **precision != DType::F64)
        return n.unsupported(llvm::Twine("precision ") +
                             dtypeName(**precision));
      scale = n.castTo(scale, n.mlirType(**precision));
    }
  }
  bool saturate = n.version() >= 19 ? n.getInt("saturate", 1) != 0 : true;
  OpBuilder &b = n.builder();
  n.setOutput(
      0, QuantizeLinearOp::create(
             b, n.loc(), n.tensorType(n.inputShape(0), n.mlirType(*outType)),
             n.input(0), scale, layout->zeroPoint,
             b.getI64IntegerAttr(layout->axis),
             b.getI64IntegerAttr(layout->blockSize), b.getBoolAttr(saturate)));
  return success();
}

LogicalResult convertDequantizeLinear(NodeImporter &n) {
  DType xType = n.inputDType(0), scaleType = n.inputDType(1);
  if (!isQuantType(xType) && xType != DType::I32)
    return n.unsupported(llvm::Twine("quantized element type ") +
                         dtypeName(xType));
  if (!isScaleType(scaleType))
    return n.unsupported(llvm::Twine("scale element type ") +
                         dtypeName(scaleType));
  if (n.hasInput(2) && n.inputDType(2) != xType) {
    n.emitError() << "zero point type " << dtypeName(n.inputDType(2))
                  << " differs from the input type " << dtypeName(xType);
    return failure();
  }
  DType outType = scaleType;
  if (n.version() >= 23) {
    auto attr = readTypeAttr(n, "output_dtype");
    if (failed(attr))
      return failure();
    if (*attr) {
      if (!isScaleType(**attr)) {
        n.emitError() << "attribute 'output_dtype' must be float, float16 "
                         "or bfloat16, got "
                      << dtypeName(**attr);
        return failure();
      }
      outType = **attr;
    }
  }
  auto layout = readQuantLayout(n);
  if (failed(layout))
    return failure();
  OpBuilder &b = n.builder();
  n.setOutput(0, DequantizeLinearOp::create(
                     b, n.loc(),
                     n.tensorType(n.inputShape(0), n.mlirType(outType)),
                     n.input(0), layout->scale, layout->zeroPoint,
                     b.getI64IntegerAttr(layout->axis),
                     b.getI64IntegerAttr(layout->blockSize)));
  return success();
}

LogicalResult convertDynamicQuantizeLinear(NodeImporter &n) {
  if (n.inputDType(0) != DType::F32)
    return n.unsupported(llvm::Twine("input element type ") +
                         dtypeName(n.inputDType(0)));
  OpBuilder &b = n.builder();
  Type u8 = n.mlirType(DType::U8);
  auto op = DynamicQuantizeLinearOp::create(
      b, n.loc(), n.tensorType(n.inputShape(0), u8),
      n.tensorType({}, b.getF32Type()), n.tensorType({}, u8), n.input(0));
  for (unsigned i = 0; i < 3; ++i)
    n.setOutput(i, op->getResult(i));
  return success();
}

/// Requires input |i| to be int8 or uint8 (the integer operators' T1/T2).
LogicalResult requireByteInt(NodeImporter &n, size_t i, StringRef what) {
  DType t = n.inputDType(i);
  if (t != DType::I8 && t != DType::U8)
    return n.unsupported(llvm::Twine("element type ") + dtypeName(t) + " of '" +
                         what + "'");
  return success();
}

/// Requires optional zero point |zp| to have the element type of |of|.
LogicalResult requireSameType(NodeImporter &n, size_t zp, size_t of,
                              StringRef what) {
  if (n.hasInput(zp) && n.inputDType(zp) != n.inputDType(of)) {
    n.emitError() << "'" << what << "' has element type "
                  << dtypeName(n.inputDType(zp)) << ", expected "
                  << dtypeName(n.inputDType(of));
    return failure();
  }
  return success();
}

/// Requires input |i| to hold one element (per-tensor quantization).
LogicalResult requirePerTensor(NodeImporter &n, size_t i, StringRef what) {
  if (elementCount(n.inputShape(i)) != 1)
    return n.unsupported("non-scalar '" + what + "' of shape " +
                         formatShape(n.inputShape(i)) +
                         " (only per-tensor values are implemented)");
  return success();
}

/// Returns the zero point of MatMulInteger's A (input |i|) in a layout that
/// broadcasts over A: a 1-D per-row vector of M becomes M x 1. Fails when
/// the zero point varies along K.
FailureOr<Value> rowZeroPoint(NodeImporter &n, size_t i) {
  ArrayRef<int64_t> a = n.inputShape(0), zp = n.inputShape(i);
  if (elementCount(zp) == 1)
    return n.input(i);
  if (a.size() >= 2 && zp.size() == 1 && zp[0] == a[a.size() - 2])
    return n.reshape(n.input(i), {zp[0], 1});
  if (a.size() >= 2 && !zp.empty() && zp.back() == 1 &&
      isUnidirectionallyBroadcastable(zp, a))
    return n.input(i);
  n.emitError() << "'a_zero_point' of shape " << formatShape(zp)
                << " is neither a scalar nor per row of A " << formatShape(a);
  return failure();
}

/// Returns the zero point of B (input |i|): a scalar, a per-column vector of
/// N, or a tensor of shape [..., 1, N] that broadcasts over B.
FailureOr<Value> columnZeroPoint(NodeImporter &n, size_t i) {
  ArrayRef<int64_t> b = n.inputShape(1), zp = n.inputShape(i);
  if (elementCount(zp) == 1)
    return n.input(i);
  bool perColumn = b.size() >= 2 && isUnidirectionallyBroadcastable(zp, b) &&
                   (zp.size() < 2 || zp[zp.size() - 2] == 1);
  if (!perColumn) {
    n.emitError() << "'b_zero_point' of shape " << formatShape(zp)
                  << " is neither a scalar nor per column of B "
                  << formatShape(b);
    return failure();
  }
  return n.input(i);
}

LogicalResult convertMatMulInteger(NodeImporter &n) {
  if (failed(requireByteInt(n, 0, "A")) || failed(requireByteInt(n, 1, "B")) ||
      failed(requireSameType(n, 2, 0, "a_zero_point")) ||
      failed(requireSameType(n, 3, 1, "b_zero_point")))
    return failure();
  auto shape = inferMatMulShape(n.inputShape(0), n.inputShape(1), n.errorFn());
  if (failed(shape))
    return failure();
  Value azp, bzp;
  if (n.hasInput(2)) {
    auto zp = rowZeroPoint(n, 2);
    if (failed(zp))
      return failure();
    azp = *zp;
  }
  if (n.hasInput(3)) {
    auto zp = columnZeroPoint(n, 3);
    if (failed(zp))
      return failure();
    bzp = *zp;
  }
  OpBuilder &b = n.builder();
  n.setOutput(0, MatMulIntegerOp::create(b, n.loc(),
                                         n.tensorType(*shape, b.getI32Type()),
                                         n.input(0), n.input(1), azp, bzp));
  return success();
}

/// Reads the window of a ConvInteger / QLinearConv node whose input is
/// input |x| and weight input |w|.
FailureOr<WindowAttrs> convWindow(NodeImporter &n, size_t x, size_t w) {
  ArrayRef<int64_t> xs = n.inputShape(x), ws = n.inputShape(w);
  if (xs.size() < 3 || ws.size() != xs.size()) {
    n.emitError() << "input and weight must have equal rank >= 3, got "
                  << xs.size() << " and " << ws.size();
    return failure();
  }
  std::vector<int64_t> kernel = n.getInts("kernel_shape");
  if (!kernel.empty() && ArrayRef<int64_t>(kernel) != ws.drop_front(2)) {
    n.emitError() << "kernel_shape does not match the weight shape "
                  << formatShape(ws);
    return failure();
  }
  return readWindowAttrs(n, xs.drop_front(2), ws.drop_front(2));
}

/// Checks that input |i| is a scalar or a 1-D tensor of |channels| (per
/// output channel).
LogicalResult requirePerChannel(NodeImporter &n, size_t i, int64_t channels,
                                StringRef what) {
  ArrayRef<int64_t> s = n.inputShape(i);
  if (elementCount(s) == 1 && s.size() <= 1)
    return success();
  if (s.size() == 1 && s[0] == channels)
    return success();
  n.emitError() << "'" << what << "' must be a scalar or have " << channels
                << " elements (one per output channel), got " << formatShape(s);
  return failure();
}

LogicalResult convertConvInteger(NodeImporter &n) {
  if (failed(requireByteInt(n, 0, "x")) || failed(requireByteInt(n, 1, "w")) ||
      failed(requireSameType(n, 2, 0, "x_zero_point")) ||
      failed(requireSameType(n, 3, 1, "w_zero_point")))
    return failure();
  auto window = convWindow(n, 0, 1);
  if (failed(window))
    return failure();
  int64_t group = n.getInt("group", 1);
  auto shape =
      inferConvShape(n.inputShape(0), n.inputShape(1), window->strides,
                     window->pads, window->dilations, group, n.errorFn());
  if (failed(shape))
    return failure();
  if ((n.hasInput(2) && failed(requirePerTensor(n, 2, "x_zero_point"))) ||
      (n.hasInput(3) &&
       failed(requirePerChannel(n, 3, n.inputShape(1)[0], "w_zero_point"))))
    return failure();
  OpBuilder &b = n.builder();
  n.setOutput(
      0, ConvIntegerOp::create(b, n.loc(), n.tensorType(*shape, b.getI32Type()),
                               n.input(0), n.input(1),
                               n.hasInput(2) ? n.input(2) : Value(),
                               n.hasInput(3) ? n.input(3) : Value(),
                               b.getDenseI64ArrayAttr(window->strides),
                               b.getDenseI64ArrayAttr(window->pads),
                               b.getDenseI64ArrayAttr(window->dilations),
                               b.getI64IntegerAttr(group)));
  return success();
}

/// Checks the scales of a QLinear node: float32 (float16 and bfloat16 from
/// QLinearMatMul-21), all of one type.
LogicalResult checkQLinearScales(NodeImporter &n,
                                 std::initializer_list<size_t> scales) {
  DType t = n.inputDType(*scales.begin());
  for (size_t i : scales) {
    DType s = n.inputDType(i);
    if (!isScaleType(s))
      return n.unsupported(llvm::Twine("scale element type ") + dtypeName(s));
    if (s != t) {
      n.emitError() << "scales have different element types";
      return failure();
    }
  }
  return success();
}

LogicalResult convertQLinearMatMul(NodeImporter &n) {
  // Inputs: a, a_scale, a_zp, b, b_scale, b_zp, y_scale, y_zp.
  if (failed(requireByteInt(n, 0, "a")) || failed(requireByteInt(n, 3, "b")) ||
      failed(requireByteInt(n, 7, "y_zero_point")) ||
      failed(requireSameType(n, 2, 0, "a_zero_point")) ||
      failed(requireSameType(n, 5, 3, "b_zero_point")) ||
      failed(checkQLinearScales(n, {1, 4, 6})))
    return failure();
  ArrayRef<int64_t> bShape = n.inputShape(3);
  auto shape = inferMatMulShape(n.inputShape(0), bShape, n.errorFn());
  if (failed(shape))
    return failure();
  if (failed(requirePerTensor(n, 1, "a_scale")) ||
      failed(requirePerTensor(n, 2, "a_zero_point")) ||
      failed(requirePerTensor(n, 6, "y_scale")) ||
      failed(requirePerTensor(n, 7, "y_zero_point")))
    return failure();
  // B's scale and zero point: per tensor or per column. A per-column pair
  // becomes 1-D of N (columns are the last axis of B and of the result).
  int64_t columns = bShape.size() >= 2 ? bShape.back() : 1;
  SmallVector<Value> bParams;
  for (size_t i : {4, 5}) {
    ArrayRef<int64_t> s = n.inputShape(i);
    if (elementCount(s) == 1) {
      bParams.push_back(n.input(i));
      continue;
    }
    bool perColumn = bShape.size() >= 2 && !s.empty() && s.back() == columns &&
                     elementCount(s) == columns;
    if (!perColumn)
      return n.unsupported("'" +
                           llvm::Twine(i == 4 ? "b_scale" : "b_zero_point") +
                           "' of shape " + formatShape(s) +
                           " (only per-tensor or per-column values are "
                           "implemented)");
    bParams.push_back(n.reshape(n.input(i), {columns}));
  }
  if (n.inputShape(4) != n.inputShape(5) &&
      elementCount(n.inputShape(4)) != elementCount(n.inputShape(5))) {
    n.emitError() << "'b_scale' and 'b_zero_point' have different shapes";
    return failure();
  }
  OpBuilder &b = n.builder();
  n.setOutput(0, QLinearMatMulOp::create(
                     b, n.loc(), n.tensorType(*shape, n.inputElementType(7)),
                     n.input(0), n.input(1), n.input(2), n.input(3), bParams[0],
                     bParams[1], n.input(6), n.input(7)));
  return success();
}

LogicalResult convertQLinearConv(NodeImporter &n) {
  // Inputs: x, x_scale, x_zp, w, w_scale, w_zp, y_scale, y_zp, B.
  if (failed(requireByteInt(n, 0, "x")) || failed(requireByteInt(n, 3, "w")) ||
      failed(requireByteInt(n, 7, "y_zero_point")) ||
      failed(requireSameType(n, 2, 0, "x_zero_point")) ||
      failed(requireSameType(n, 5, 3, "w_zero_point")) ||
      failed(checkQLinearScales(n, {1, 4, 6})))
    return failure();
  if (n.hasInput(8) && n.inputDType(8) != DType::I32) {
    n.emitError() << "bias must be int32, got " << dtypeName(n.inputDType(8));
    return failure();
  }
  auto window = convWindow(n, 0, 3);
  if (failed(window))
    return failure();
  int64_t group = n.getInt("group", 1);
  ArrayRef<int64_t> w = n.inputShape(3);
  auto shape = inferConvShape(n.inputShape(0), w, window->strides, window->pads,
                              window->dilations, group, n.errorFn());
  if (failed(shape))
    return failure();
  if (failed(requirePerTensor(n, 1, "x_scale")) ||
      failed(requirePerTensor(n, 2, "x_zero_point")) ||
      failed(requirePerChannel(n, 4, w[0], "w_scale")) ||
      failed(requirePerChannel(n, 5, w[0], "w_zero_point")) ||
      failed(requirePerTensor(n, 6, "y_scale")) ||
      failed(requirePerTensor(n, 7, "y_zero_point")))
    return failure();
  OpBuilder &b = n.builder();
  n.setOutput(0, QLinearConvOp::create(
                     b, n.loc(), n.tensorType(*shape, n.inputElementType(7)),
                     n.input(0), n.input(1), n.input(2), n.input(3), n.input(4),
                     n.input(5), n.input(6), n.input(7),
                     n.hasInput(8) ? n.input(8) : Value(),
                     b.getDenseI64ArrayAttr(window->strides),
                     b.getDenseI64ArrayAttr(window->pads),
                     b.getDenseI64ArrayAttr(window->dilations),
                     b.getI64IntegerAttr(group)));
  return success();
}

} // namespace

void registerQuantizationConverters(ConverterRegistry &r) {
  // 13 added per-axis scales, 19 float8 and saturate, 21 int16/int4 and
  // blocked scales and output_dtype, 23 float4e2m1 and precision (and
  // output_dtype for DequantizeLinear), 24 float8e8m0 scales, 25 int2, 28
  // the 6-bit floats; types without a Kiln host type are rejected as
  // unsupported by the type checks above or at the graph boundary.
  r.add("", "QuantizeLinear", {10, 13, 19, 21, 23, 24, 25, 28},
        convertQuantizeLinear);
  r.add("", "DequantizeLinear", {10, 13, 19, 21, 23, 24, 25, 28},
        convertDequantizeLinear);
  r.add("", "DynamicQuantizeLinear", {11}, convertDynamicQuantizeLinear);
  r.add("", "MatMulInteger", {10}, convertMatMulInteger);
  r.add("", "ConvInteger", {10}, convertConvInteger);
  // 21 added float16 / bfloat16 scales (and float8 data, rejected above).
  r.add("", "QLinearMatMul", {10, 21}, convertQLinearMatMul);
  r.add("", "QLinearConv", {10}, convertQLinearConv);
}

} // namespace kiln::frontend
