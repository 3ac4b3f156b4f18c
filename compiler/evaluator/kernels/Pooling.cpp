//===- Pooling.cpp - Kernels of the pooling ops -----------------*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// N-d sliding-window max / average / Lp pooling with ONNX's padding and
// ceil_mode rules, and the global pools. Windows are clipped to the padded
// input; average pooling divides by the window size clipped to the padded
// extent (count_include_pad) or to the real input.
//
//===----------------------------------------------------------------------===//

#include "compiler/evaluator/Kernel.h"

#include "dialects/kiln/KilnOps.h"

#include <cmath>
#include <limits>

using namespace mlir;
using namespace mlir::kiln;

namespace kiln::eval {
namespace {

/// Geometry shared by the sliding-window pools.
struct Window {
  llvm::ArrayRef<int64_t> kernel, strides, pads, dilations;
  size_t rank;
};

enum class PoolKind { Max, Average, Lp };

/// Visits every output position of a pooling op, calling
/// fn(nc, outIndex, positions) where |positions| lists the flat input
/// offsets (within the N*C plane) covered by the window and |padded| the
/// number of window taps inside the explicit padding.
template <typename Fn>
void forEachWindow(llvm::ArrayRef<int64_t> inShape,
                   llvm::ArrayRef<int64_t> outShape, const Window &w,
                   Fn &&fn) {
  size_t rank = w.rank;
  llvm::ArrayRef<int64_t> spatialIn = inShape.drop_front(2);
  llvm::ArrayRef<int64_t> spatialOut = outShape.drop_front(2);
  int64_t planes = inShape[0] * inShape[1];
  int64_t outSize = 1, kernelSize = 1;
  for (size_t d = 0; d < rank; ++d) {
    outSize *= spatialOut[d];
    kernelSize *= w.kernel[d];
  }
  llvm::SmallVector<int64_t> oIndex(rank), kIndex(rank);
  llvm::SmallVector<int64_t> positions;
  for (int64_t o = 0; o < outSize; ++o) {
    for (int64_t d = rank - 1, rest = o; d >= 0; --d) {
      oIndex[d] = rest % spatialOut[d];
      rest /= spatialOut[d];
    }
    positions.clear();
    int64_t padded = 0;
    for (int64_t k = 0; k < kernelSize; ++k) {
      for (int64_t d = rank - 1, rest = k; d >= 0; --d) {
        kIndex[d] = rest % w.kernel[d];
        rest /= w.kernel[d];
      }
      int64_t offset = 0;
      bool inside = true, inPadding = true;
      for (size_t d = 0; d < rank; ++d) {
        int64_t pos =
            oIndex[d] * w.strides[d] - w.pads[d] + kIndex[d] * w.dilations[d];
        if (pos < 0 || pos >= spatialIn[d])
          inside = false;
        // Taps beyond the end padding (added by ceil_mode) never count.
        if (pos >= spatialIn[d] + w.pads[rank + d])
          inPadding = false;
        offset = offset * spatialIn[d] + pos;
      }
      if (inside)
        positions.push_back(offset);
      else if (inPadding)
        ++padded;
    }
    for (int64_t nc = 0; nc < planes; ++nc)
      fn(nc, o, positions, padded);
  }
}

template <typename OpTy>
LogicalResult poolKernel(Operation *op, KernelContext &ctx, PoolKind kind) {
  auto pool = cast<OpTy>(op);
  const Tensor &in = ctx.get(pool.getInput());
  Tensor &out = ctx.result();
  Window w{pool.getKernelShape(), pool.getStrides(), pool.getPads(),
           pool.getDilations(), in.shape.size() - 2};
  int64_t inPlane = 1, outPlane = 1;
  for (size_t d = 2; d < in.shape.size(); ++d) {
    inPlane *= in.shape[d];
    outPlane *= out.shape[d];
  }
  bool countPad = false;
  double p = 2;
  if constexpr (std::is_same_v<OpTy, AvgPoolOp>)
    countPad = pool.getCountIncludePad();
  if constexpr (std::is_same_v<OpTy, LpPoolOp>)
    p = static_cast<double>(pool.getP());
  bool isInt = !isFloat(in.dtype);
  forEachWindow(in.shape, out.shape, w,
                [&](int64_t nc, int64_t o,
                    const llvm::SmallVector<int64_t> &positions,
                    int64_t padded) {
                  int64_t base = nc * inPlane;
                  double acc = kind == PoolKind::Max
                                   ? -std::numeric_limits<double>::infinity()
                                   : 0.0;
                  for (int64_t pos : positions) {
                    double x = loadFloat(in, base + pos);
                    if (kind == PoolKind::Max)
                      acc = (std::isnan(x) || x > acc) ? x : acc;
                    else if (kind == PoolKind::Average)
                      acc += x;
                    else
                      acc += std::pow(std::fabs(x), p);
                  }
                  if (kind == PoolKind::Average) {
                    int64_t count =
                        static_cast<int64_t>(positions.size()) +
                        (countPad ? padded : 0);
                    acc = count ? acc / static_cast<double>(count) : 0.0;
                  } else if (kind == PoolKind::Lp) {
                    acc = std::pow(acc, 1.0 / p);
                  }
                  if (isInt)
                    storeInt(out, nc * outPlane + o,
                             static_cast<int64_t>(acc));
                  else
                    storeFloat(out, nc * outPlane + o, acc);
                });
  return success();
}

LogicalResult maxPoolWithIndicesKernel(Operation *op, KernelContext &ctx) {
  auto pool = cast<MaxPoolWithIndicesOp>(op);
  const Tensor &in = ctx.get(pool.getInput());
  Tensor &out = ctx.result(0);
  Tensor &indices = ctx.result(1);
  size_t rank = in.shape.size() - 2;
  Window w{pool.getKernelShape(), pool.getStrides(), pool.getPads(),
           pool.getDilations(), rank};
  int64_t inPlane = 1, outPlane = 1;
  for (size_t d = 2; d < in.shape.size(); ++d) {
    inPlane *= in.shape[d];
    outPlane *= out.shape[d];
  }
  bool columnMajor = pool.getStorageOrder() == 1;
  llvm::ArrayRef<int64_t> spatial = llvm::ArrayRef(in.shape).drop_front(2);
  forEachWindow(in.shape, out.shape, w,
                [&](int64_t nc, int64_t o,
                    const llvm::SmallVector<int64_t> &positions, int64_t) {
                  double best = -std::numeric_limits<double>::infinity();
                  int64_t bestPos = positions.empty() ? 0 : positions[0];
                  for (int64_t pos : positions) {
                    double x = loadFloat(in, nc * inPlane + pos);
                    if (x > best) {
                      best = x;
                      bestPos = pos;
                    }
                  }
                  int64_t flat = bestPos;
                  if (columnMajor) {
                    // Re-linearize the spatial index in column-major order.
                    llvm::SmallVector<int64_t> idx(rank);
                    for (int64_t d = rank - 1, rest = bestPos; d >= 0; --d) {
                      idx[d] = rest % spatial[d];
                      rest /= spatial[d];
                    }
                    flat = 0;
                    for (int64_t d = rank - 1; d >= 0; --d)
                      flat = flat * spatial[d] + idx[d];
                  }
                  storeFloat(out, nc * outPlane + o, best);
                  indices.as<int64_t>()[nc * outPlane + o] =
                      nc * inPlane + flat;
                });
  return success();
}

LogicalResult globalPoolKernel(Operation *op, KernelContext &ctx,
                               PoolKind kind, double p) {
  const Tensor &in = ctx.get(op->getOperand(0));
  Tensor &out = ctx.result();
  int64_t planes = in.shape[0] * in.shape[1];
  int64_t plane = in.numElements() / std::max<int64_t>(planes, 1);
  for (int64_t nc = 0; nc < planes; ++nc) {
    double acc = kind == PoolKind::Max
                     ? -std::numeric_limits<double>::infinity()
                     : 0.0;
    for (int64_t i = 0; i < plane; ++i) {
      double x = loadFloat(in, nc * plane + i);
      if (kind == PoolKind::Max)
        acc = (std::isnan(x) || x > acc) ? x : acc;
      else if (kind == PoolKind::Average)
        acc += x;
      else
        acc += std::pow(std::fabs(x), p);
    }
    if (kind == PoolKind::Average)
      acc /= static_cast<double>(plane);
    else if (kind == PoolKind::Lp)
      acc = std::pow(acc, 1.0 / p);
    storeFloat(out, nc, acc);
  }
  return success();
}

} // namespace

void registerPoolingKernels(KernelRegistry &r) {
  r.add<MaxPoolOp>([](Operation *op, KernelContext &ctx) {
    return poolKernel<MaxPoolOp>(op, ctx, PoolKind::Max);
  });
  r.add<AvgPoolOp>([](Operation *op, KernelContext &ctx) {
    return poolKernel<AvgPoolOp>(op, ctx, PoolKind::Average);
  });
  r.add<LpPoolOp>([](Operation *op, KernelContext &ctx) {
    return poolKernel<LpPoolOp>(op, ctx, PoolKind::Lp);
  });
  r.add<MaxPoolWithIndicesOp>(maxPoolWithIndicesKernel);
  r.add<GlobalAvgPoolOp>([](Operation *op, KernelContext &ctx) {
    return globalPoolKernel(op, ctx, PoolKind::Average, 0);
  });
  r.add<GlobalMaxPoolOp>([](Operation *op, KernelContext &ctx) {
    return globalPoolKernel(op, ctx, PoolKind::Max, 0);
  });
  r.add<GlobalLpPoolOp>([](Operation *op, KernelContext &ctx) {
    return globalPoolKernel(
        op, ctx, PoolKind::Lp,
        static_cast<double>(cast<GlobalLpPoolOp>(op).getP()));
  });
}

} // namespace kiln::eval
