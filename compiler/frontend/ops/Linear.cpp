//===- Linear.cpp - Converters of Conv, MatMul, Gemm and kin ----*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// Conv (auto_pad resolved into explicit pads), MatMul and Gemm.
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

} // namespace

void registerLinearConverters(ConverterRegistry &r) {
  r.add("", "Conv", {1, 11, 22}, convertConv);
  r.add("", "MatMul", {1, 9, 13}, convertMatMul);
  // Gemm 7+ broadcasts C; 11 made C optional; 13 added bfloat16.
  r.add("", "Gemm", {7, 9, 11, 13}, convertGemm);
}

} // namespace kiln::frontend
