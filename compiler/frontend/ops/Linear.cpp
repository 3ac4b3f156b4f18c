//===- Linear.cpp - Converters of Conv, MatMul, Gemm and kin ----*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// Conv and ConvTranspose (auto_pad and output_shape resolved into explicit
// pads), MatMul, Gemm and Einsum (equation normalized to explicit form).
//
//===----------------------------------------------------------------------===//

#include "compiler/frontend/ImportContext.h"
#include "compiler/frontend/ops/WindowAttrs.h"

#include "dialects/kiln/KilnOps.h"

using namespace mlir;
using namespace mlir::kiln;

namespace kiln::frontend {
namespace {

LogicalResult requireFloat(NodeImporter &n, size_t i) {
  if (!isFloat(n.inputDType(i)))
    return n.unsupported(llvm::Twine("element type ") +
                         dtypeName(n.inputDType(i)));
  return success();
}

LogicalResult convertConv(NodeImporter &n) {
  if (failed(requireFloat(n, 0)))
    return failure();
  ArrayRef<int64_t> x = n.inputShape(0), w = n.inputShape(1);
  if (x.size() < 3 || x.size() > 5 || w.size() != x.size()) {
    n.emitError() << "Conv needs input and weight of equal rank 3 to 5, got "
                  << x.size() << " and " << w.size();
    return failure();
  }
  std::vector<int64_t> kernelAttr = n.getInts("kernel_shape");
  if (!kernelAttr.empty() &&
      ArrayRef<int64_t>(kernelAttr) != w.drop_front(2)) {
    n.emitError() << "kernel_shape does not match the weight shape "
                  << mlir::kiln::formatShape(w);
    return failure();
  }
  auto window = readWindowAttrs(n, x.drop_front(2), w.drop_front(2));
  if (failed(window))
    return failure();
  int64_t group = n.getInt("group", 1);
  auto shape = inferConvShape(x, w, window->strides, window->pads,
                              window->dilations, group, n.errorFn());
  if (failed(shape))
    return failure();
  OpBuilder &b = n.builder();
  Value bias = n.hasInput(2) ? n.input(2) : Value();
  n.setOutput(0, ConvOp::create(
                     b, n.loc(), n.tensorType(*shape, n.inputElementType(0)),
                     n.input(0), n.input(1), bias,
                     b.getDenseI64ArrayAttr(window->strides),
                     b.getDenseI64ArrayAttr(window->pads),
                     b.getDenseI64ArrayAttr(window->dilations),
                     b.getI64IntegerAttr(group)));
  return success();
}

LogicalResult convertMatMul(NodeImporter &n) {
  DType t = n.inputDType(0);
  if (t == DType::Bool || (!isFloat(t) && !isSignedInt(t) &&
                           !isUnsignedInt(t)))
    return n.unsupported(llvm::Twine("element type ") + dtypeName(t));
  if (n.inputElementType(0) != n.inputElementType(1)) {
    n.emitError() << "operands have different element types";
    return failure();
  }
  auto shape = inferMatMulShape(n.inputShape(0), n.inputShape(1),
                                n.errorFn());
  if (failed(shape))
    return failure();
  n.setOutput(0, MatMulOp::create(n.builder(), n.loc(),
                                  n.tensorType(*shape, n.inputElementType(0)),
                                  n.input(0), n.input(1)));
  return success();
}

LogicalResult convertGemm(NodeImporter &n) {
  DType t = n.inputDType(0);
  if (t == DType::Bool)
    return n.unsupported("element type bool");
  bool transA = n.getInt("transA", 0) != 0;
  bool transB = n.getInt("transB", 0) != 0;
  std::optional<ArrayRef<int64_t>> c;
  if (n.hasInput(2))
    c = n.inputShape(2);
  auto shape = inferGemmShape(n.inputShape(0), n.inputShape(1), c, transA,
                              transB, n.errorFn());
  if (failed(shape))
    return failure();
  OpBuilder &b = n.builder();
  n.setOutput(0, GemmOp::create(
                     b, n.loc(), n.tensorType(*shape, n.inputElementType(0)),
                     n.input(0), n.input(1),
                     n.hasInput(2) ? n.input(2) : Value(),
                     b.getF32FloatAttr(n.getFloat("alpha", 1.0f)),
                     b.getF32FloatAttr(n.getFloat("beta", 1.0f)),
                     b.getBoolAttr(transA), b.getBoolAttr(transB)));
  return success();
}

/// Returns floor(a / 2) (Python's a // 2, also for negative a).
int64_t floorHalf(int64_t a) { return a >= 0 ? a / 2 : -((-a + 1) / 2); }

LogicalResult convertConvTranspose(NodeImporter &n) {
  if (failed(requireFloat(n, 0)))
    return failure();
  if (n.inputElementType(1) != n.inputElementType(0) ||
      (n.hasInput(2) && n.inputElementType(2) != n.inputElementType(0))) {
    n.emitError() << "X, W and B must have one element type";
    return failure();
  }
  ArrayRef<int64_t> x = n.inputShape(0), w = n.inputShape(1);
  if (x.size() < 3 || w.size() != x.size()) {
    n.emitError() << "ConvTranspose needs input and weight of equal rank >= 3, "
                  << "got " << x.size() << " and " << w.size();
    return failure();
  }
  size_t spatial = x.size() - 2;
  ArrayRef<int64_t> kernel = w.drop_front(2);
  std::vector<int64_t> kernelAttr = n.getInts("kernel_shape");
  if (!kernelAttr.empty() && ArrayRef<int64_t>(kernelAttr) != kernel) {
    n.emitError() << "kernel_shape does not match the weight shape "
                  << formatShape(w);
    return failure();
  }
  auto list = [&](StringRef name, int64_t fill,
                  size_t size) -> FailureOr<SmallVector<int64_t>> {
    std::vector<int64_t> values = n.getInts(name);
    if (!n.hasAttr(name))
      return SmallVector<int64_t>(size, fill);
    if (values.size() != size) {
      n.emitError() << "attribute '" << name << "' has " << values.size()
                    << " values, expected " << size;
      return failure();
    }
    return SmallVector<int64_t>(values.begin(), values.end());
  };
  auto strides = list("strides", 1, spatial);
  auto dilations = list("dilations", 1, spatial);
  auto pads = list("pads", 0, 2 * spatial);
  auto outputPadding = list("output_padding", 0, spatial);
  if (failed(strides) || failed(dilations) || failed(pads) ||
      failed(outputPadding))
    return failure();
  for (size_t d = 0; d < spatial; ++d) {
    if ((*strides)[d] <= 0 || (*dilations)[d] <= 0) {
      n.emitError() << "strides and dilations must be positive";
      return failure();
    }
    if ((*outputPadding)[d] < 0) {
      n.emitError() << "output_padding must be non-negative";
      return failure();
    }
  }
  if (llvm::any_of(*pads, [](int64_t p) { return p < 0; })) {
    n.emitError() << "pads must be non-negative";
    return failure();
  }
  std::string autoPad = n.getString("auto_pad", "NOTSET");
  if (autoPad != "NOTSET" && autoPad != "VALID" && autoPad != "SAME_UPPER" &&
      autoPad != "SAME_LOWER") {
    n.emitError() << "attribute 'auto_pad' has unknown value '" << autoPad
                  << "' (expected NOTSET, SAME_UPPER, SAME_LOWER or VALID)";
    return failure();
  }
  if (autoPad == "VALID")
    std::fill(pads->begin(), pads->end(), 0);
  bool same = autoPad == "SAME_UPPER" || autoPad == "SAME_LOWER";
  std::vector<int64_t> outputShape = n.getInts("output_shape");
  if (!outputShape.empty() || same) {
    // output_shape lists the spatial sizes (some exporters write N and C
    // too); SAME padding without it targets input * stride.
    if (outputShape.size() == x.size())
      outputShape.erase(outputShape.begin(), outputShape.begin() + 2);
    if (outputShape.empty())
      for (size_t d = 0; d < spatial; ++d)
        outputShape.push_back(x[2 + d] * (*strides)[d]);
    if (outputShape.size() != spatial) {
      n.emitError() << "attribute 'output_shape' has " << outputShape.size()
                    << " values, expected " << spatial;
      return failure();
    }
    for (size_t d = 0; d < spatial; ++d) {
      int64_t natural = (*strides)[d] * (x[2 + d] - 1) + (*outputPadding)[d] +
                        (kernel[d] - 1) * (*dilations)[d] + 1;
      int64_t total = natural - outputShape[d];
      // Version 11 splits the total padding as (total / 2, total - total /
      // 2) under SAME_UPPER and the other way round otherwise, dividing
      // with floor as the ONNX reference does (the test data pins a total
      // of -1 to one extra output at the end). A negative begin pad puts
      // outputs no input reaches at the start (onnxruntime instead clamps
      // negative totals to 0, giving a smaller output than the
      // specification's). Version 1 specified the opposite split, so only
      // even totals are unambiguous there.
      int64_t begin =
          autoPad == "SAME_UPPER" ? floorHalf(total) : total - floorHalf(total);
      if (n.version() < 11 && total % 2 != 0)
        return n.unsupported(
            "'output_shape' " + std::to_string(outputShape[d]) +
            " on spatial axis " + std::to_string(d) + " (total padding " +
            std::to_string(total) +
            (same ? " with auto_pad '" + autoPad + "'"
                  : std::string(" without auto_pad")) +
            ", which versions 1 and 11 of the ONNX specification place "
            "differently)");
      int64_t end = total - begin;
      // A negative end pad is output_padding (the normal form keeps pads
      // non-negative where it can).
      if (end < 0) {
        (*outputPadding)[d] -= end;
        end = 0;
      }
      (*pads)[d] = begin;
      (*pads)[spatial + d] = end;
    }
  }
  int64_t group = n.getInt("group", 1);
  auto shape = inferConvTransposeShape(x, w, *strides, *pads, *dilations,
                                       *outputPadding, group, n.errorFn());
  if (failed(shape))
    return failure();
  if (n.hasInput(2) && n.inputShape(2) != ArrayRef<int64_t>{(*shape)[1]}) {
    n.emitError() << "B must have shape " << (*shape)[1] << ", got "
                  << formatShape(n.inputShape(2));
    return failure();
  }
  OpBuilder &b = n.builder();
  Value bias = n.hasInput(2) ? n.input(2) : Value();
  n.setOutput(
      0,
      ConvTransposeOp::create(
          b, n.loc(), n.tensorType(*shape, n.inputElementType(0)), n.input(0),
          n.input(1), bias, b.getDenseI64ArrayAttr(*strides),
          b.getDenseI64ArrayAttr(*pads), b.getDenseI64ArrayAttr(*dilations),
          b.getDenseI64ArrayAttr(*outputPadding), b.getI64IntegerAttr(group)));
  return success();
}

LogicalResult convertEinsum(NodeImporter &n) {
  SmallVector<Value> inputs;
  SmallVector<int64_t> ranks;
  SmallVector<ArrayRef<int64_t>> shapes;
  for (size_t i = 0; i < n.numInputs(); ++i) {
    if (!n.hasInput(i)) {
      n.emitError() << "Einsum inputs must not be omitted";
      return failure();
    }
    DType t = n.inputDType(i);
    if (t == DType::Bool ||
        (!isFloat(t) && !isSignedInt(t) && !isUnsignedInt(t)))
      return n.unsupported(llvm::Twine("element type ") + dtypeName(t));
    if (n.inputElementType(i) != n.inputElementType(0)) {
      n.emitError() << "Einsum inputs have different element types";
      return failure();
    }
    inputs.push_back(n.input(i));
    ranks.push_back(n.inputRank(i));
    shapes.push_back(n.inputShape(i));
  }
  if (inputs.empty()) {
    n.emitError() << "Einsum needs at least one input";
    return failure();
  }
  if (!n.hasAttr("equation")) {
    n.emitError() << "attribute 'equation' is required";
    return failure();
  }
  std::string equation = n.getString("equation", "");
  auto normalized = normalizeEinsumEquation(equation, ranks, n.errorFn());
  if (failed(normalized))
    return failure();
  auto shape = inferEinsumShape(*normalized, shapes, n.errorFn());
  if (failed(shape))
    return failure();
  n.setOutput(0,
              EinsumOp::create(n.builder(), n.loc(),
                               n.tensorType(*shape, n.inputElementType(0)),
                               inputs, n.builder().getStringAttr(*normalized)));
  return success();
}

} // namespace

void registerLinearConverters(ConverterRegistry &r) {
  r.add("", "Conv", {1, 11, 22}, convertConv);
  r.add("", "MatMul", {1, 9, 13}, convertMatMul);
  // Gemm 7+ broadcasts C; 11 made C optional; 13 added bfloat16.
  r.add("", "Gemm", {7, 9, 11, 13}, convertGemm);
  r.add("", "ConvTranspose", {1, 11, 22}, convertConvTranspose);
  // Einsum-28 added bfloat16.
  r.add("", "Einsum", {12, 28}, convertEinsum);
}

} // namespace kiln::frontend
