//===- Pooling.cpp - Converters of the ONNX pooling ops ---------*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// MaxPool (with the optional Indices output), AveragePool, LpPool and the
// global pools.
//
//===----------------------------------------------------------------------===//

#include "compiler/frontend/ImportContext.h"
#include "compiler/frontend/ops/WindowAttrs.h"

#include "dialects/kiln/KilnOps.h"

using namespace mlir;
using namespace mlir::kiln;

namespace kiln::frontend {
namespace {

/// Reads the window of a pooling node; fails on bad input rank or types.
FailureOr<WindowAttrs> poolWindow(NodeImporter &n, bool allowInt) {
  DType t = n.inputDType(0);
  if (!isFloat(t) && !(allowInt && (t == DType::I8 || t == DType::U8))) {
    (void)n.unsupported(llvm::Twine("element type ") + dtypeName(t));
    return failure();
  }
  ArrayRef<int64_t> x = n.inputShape(0);
  if (x.size() < 3) {
    n.emitError() << "pooling needs an input of rank >= 3, got " << x.size();
    return failure();
  }
  std::vector<int64_t> kernel = n.getInts("kernel_shape");
  if (kernel.size() != x.size() - 2) {
    n.emitError() << "attribute 'kernel_shape' must have " << x.size() - 2
                  << " values";
    return failure();
  }
  return readWindowAttrs(n, x.drop_front(2), kernel);
}

/// The window, ceil_mode and output shape of a windowed pooling node.
struct PoolGeometry {
  WindowAttrs w;
  bool ceil = false;
  SmallVector<int64_t> shape;
};

FailureOr<PoolGeometry> poolGeometry(NodeImporter &n, bool allowInt) {
  auto w = poolWindow(n, allowInt);
  if (failed(w))
    return failure();
  PoolGeometry g{*w, n.getInt("ceil_mode", 0) != 0, {}};
  auto shape = inferPoolShape(n.inputShape(0), g.w.kernel, g.w.strides,
                              g.w.pads, g.w.dilations, g.ceil, n.errorFn());
  if (failed(shape))
    return failure();
  g.shape = std::move(*shape);
  return g;
}

LogicalResult convertMaxPool(NodeImporter &n) {
  auto g = poolGeometry(n, /*allowInt=*/n.version() >= 12);
  if (failed(g))
    return failure();
  const WindowAttrs *w = &g->w;
  bool ceil = g->ceil;
  auto *shape = &g->shape;
  OpBuilder &b = n.builder();
  auto type = n.tensorType(*shape, n.inputElementType(0));
  if (n.hasOutput(1)) {
    int64_t order = n.getInt("storage_order", 0);
    if (order != 0 && order != 1) {
      n.emitError() << "storage_order must be 0 or 1";
      return failure();
    }
    auto op = MaxPoolWithIndicesOp::create(
        b, n.loc(), type, n.tensorType(*shape, b.getI64Type()), n.input(0),
        b.getDenseI64ArrayAttr(w->kernel), b.getDenseI64ArrayAttr(w->strides),
        b.getDenseI64ArrayAttr(w->pads), b.getDenseI64ArrayAttr(w->dilations),
        b.getBoolAttr(ceil), b.getI64IntegerAttr(order));
    n.setOutput(0, op.getOutput());
    n.setOutput(1, op.getIndices());
    return success();
  }
  n.setOutput(0, MaxPoolOp::create(b, n.loc(), type, n.input(0),
                                   b.getDenseI64ArrayAttr(w->kernel),
                                   b.getDenseI64ArrayAttr(w->strides),
                                   b.getDenseI64ArrayAttr(w->pads),
                                   b.getDenseI64ArrayAttr(w->dilations),
                                   b.getBoolAttr(ceil)));
  return success();
}

LogicalResult convertAveragePool(NodeImporter &n) {
  auto g = poolGeometry(n, /*allowInt=*/false);
  if (failed(g))
    return failure();
  const WindowAttrs *w = &g->w;
  bool ceil = g->ceil;
  auto *shape = &g->shape;
  OpBuilder &b = n.builder();
  n.setOutput(0, AvgPoolOp::create(
                     b, n.loc(), n.tensorType(*shape, n.inputElementType(0)),
                     n.input(0), b.getDenseI64ArrayAttr(w->kernel),
                     b.getDenseI64ArrayAttr(w->strides),
                     b.getDenseI64ArrayAttr(w->pads),
                     b.getDenseI64ArrayAttr(w->dilations), b.getBoolAttr(ceil),
                     b.getBoolAttr(n.getInt("count_include_pad", 0) != 0)));
  return success();
}

LogicalResult convertLpPool(NodeImporter &n) {
  auto g = poolGeometry(n, /*allowInt=*/false);
  if (failed(g))
    return failure();
  const WindowAttrs *w = &g->w;
  bool ceil = g->ceil;
  auto *shape = &g->shape;
  OpBuilder &b = n.builder();
  n.setOutput(0, LpPoolOp::create(
                     b, n.loc(), n.tensorType(*shape, n.inputElementType(0)),
                     n.input(0), b.getDenseI64ArrayAttr(w->kernel),
                     b.getDenseI64ArrayAttr(w->strides),
                     b.getDenseI64ArrayAttr(w->pads),
                     b.getDenseI64ArrayAttr(w->dilations), b.getBoolAttr(ceil),
                     b.getI64IntegerAttr(n.getInt("p", 2))));
  return success();
}

template <typename OpTy> LogicalResult convertGlobalPool(NodeImporter &n) {
  if (!isFloat(n.inputDType(0)))
    return n.unsupported(llvm::Twine("element type ") +
                         dtypeName(n.inputDType(0)));
  ArrayRef<int64_t> x = n.inputShape(0);
  if (x.size() < 3) {
    n.emitError() << "global pooling needs an input of rank >= 3";
    return failure();
  }
  SmallVector<int64_t> shape(x.begin(), x.begin() + 2);
  shape.append(x.size() - 2, 1);
  auto type = n.tensorType(shape, n.inputElementType(0));
  if constexpr (std::is_same_v<OpTy, GlobalLpPoolOp>)
    n.setOutput(0, OpTy::create(n.builder(), n.loc(), type, n.input(0),
                                n.builder().getI64IntegerAttr(
                                    n.getInt("p", 2))));
  else
    n.setOutput(0, OpTy::create(n.builder(), n.loc(), type, n.input(0)));
  return success();
}

} // namespace

void registerPoolingConverters(ConverterRegistry &r) {
  r.add("", "MaxPool", {1, 8, 10, 11, 12, 22}, convertMaxPool);
  r.add("", "AveragePool", {1, 7, 10, 11, 19, 22}, convertAveragePool);
  r.add("", "LpPool", {2, 11, 18, 22}, convertLpPool);
  r.add("", "GlobalAveragePool", {1, 22},
        convertGlobalPool<GlobalAvgPoolOp>);
  r.add("", "GlobalMaxPool", {1, 22}, convertGlobalPool<GlobalMaxPoolOp>);
  r.add("", "GlobalLpPool", {2, 22}, convertGlobalPool<GlobalLpPoolOp>);
}

} // namespace kiln::frontend
