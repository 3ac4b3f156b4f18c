//===- Reduction.cpp - Kernels of the reduction ops -------------*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// Evaluator kernels of the ops declared in dialects/kiln/ops/ReductionOps.td:
// reduce_* over any set of axes, argmax / argmin, cumsum / cumprod and topk.
//
// Floats accumulate in double and round once to the result type; integers
// accumulate in 64 bits with the wrap-around of their own width (as numpy
// does with dtype=data.dtype), and mean divides with truncation toward zero.
// A reduction over an empty set yields ONNX's identity value: 0 for sums,
// 1 for products, -inf / +inf (or the type's limits) for max / min, -inf for
// the log reductions and NaN for the mean of floats. Max, min, argmax and
// argmin propagate NaN like numpy (the first NaN wins, or the last with
// select_last_index); topk orders NaN above every number.
//
//===----------------------------------------------------------------------===//

#include "compiler/evaluator/Kernel.h"
#include "compiler/evaluator/kernels/ReductionUtils.h"

#include "dialects/kiln/KilnOps.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

using namespace mlir;
using namespace mlir::kiln;

namespace kiln::eval {
namespace {

enum class Reduction {
  Sum,
  Mean,
  Max,
  Min,
  Prod,
  L1,
  L2,
  LogSum,
  LogSumExp,
  SumSquare
};

/// Returns the number of elements each slot of a reduction over |axes|
/// combines.
int64_t reducedCount(llvm::ArrayRef<int64_t> shape,
                     llvm::ArrayRef<int64_t> axes) {
  int64_t count = 1;
  for (int64_t axis : axes)
    count *= shape[axis];
  return count;
}

/// Reduces a floating-point tensor.
void reduceFloat(const Tensor &in, Tensor &out, llvm::ArrayRef<int64_t> axes,
                 Reduction kind) {
  std::vector<double> x = loadDoubles(in);
  int64_t outN = out.numElements();
  const double inf = std::numeric_limits<double>::infinity();
  double init = 0;
  if (kind == Reduction::Max || kind == Reduction::LogSumExp)
    init = -inf;
  else if (kind == Reduction::Min)
    init = inf;
  else if (kind == Reduction::Prod)
    init = 1;
  std::vector<double> acc(outN, init);
  auto walk = [&](auto &&fn) {
    forEachReduced(in.shape, axes,
                   [&](int64_t i, int64_t o) { acc[o] = fn(acc[o], x[i]); });
  };
  switch (kind) {
  case Reduction::Sum:
  case Reduction::Mean:
  case Reduction::LogSum:
    walk([](double a, double v) { return a + v; });
    break;
  case Reduction::Max:
  case Reduction::LogSumExp:
    walk([](double a, double v) {
      return std::isnan(a) || (!std::isnan(v) && v <= a) ? a : v;
    });
    break;
  case Reduction::Min:
    walk([](double a, double v) {
      return std::isnan(a) || (!std::isnan(v) && v >= a) ? a : v;
    });
    break;
  case Reduction::Prod:
    walk([](double a, double v) { return a * v; });
    break;
  case Reduction::L1:
    walk([](double a, double v) { return a + std::fabs(v); });
    break;
  case Reduction::L2:
  case Reduction::SumSquare:
    walk([](double a, double v) { return a + v * v; });
    break;
  }
  int64_t count = reducedCount(in.shape, axes);
  if (kind == Reduction::Mean) {
    for (double &a : acc)
      a /= static_cast<double>(count);
  } else if (kind == Reduction::L2) {
    for (double &a : acc)
      a = std::sqrt(a);
  } else if (kind == Reduction::LogSum) {
    for (double &a : acc)
      a = std::log(a);
  } else if (kind == Reduction::LogSumExp) {
    // log(sum(exp(x - max))) + max, which cannot overflow; slots whose
    // maximum is infinite or NaN keep it (exp would give inf - inf).
    std::vector<double> sums(outN, 0.0);
    forEachReduced(in.shape, axes, [&](int64_t i, int64_t o) {
      sums[o] += std::exp(x[i] - acc[o]);
    });
    for (int64_t o = 0; o < outN; ++o)
      if (std::isfinite(acc[o]))
        acc[o] += std::log(sums[o]);
  }
  storeDoubles(acc, out);
}

/// Reduces an integer or bool tensor (kinds other than the log ones).
void reduceInt(const Tensor &in, Tensor &out, llvm::ArrayRef<int64_t> axes,
               Reduction kind) {
  DType type = in.dtype;
  bool isSigned = isSignedInt(type);
  std::vector<uint64_t> x = loadBits(in);
  int64_t outN = out.numElements();
  uint64_t init = 0;
  if (kind == Reduction::Max)
    init = isSigned ? static_cast<uint64_t>(intMin(type)) : 0;
  else if (kind == Reduction::Min)
    init = isSigned ? static_cast<uint64_t>(intMax(type)) : maxBits(type);
  else if (kind == Reduction::Prod)
    init = 1;
  std::vector<uint64_t> acc(outN, init);
  auto walk = [&](auto &&fn) {
    forEachReduced(in.shape, axes,
                   [&](int64_t i, int64_t o) { acc[o] = fn(acc[o], x[i]); });
  };
  // Unsigned arithmetic wraps like the two's-complement types do.
  auto less = [isSigned](uint64_t a, uint64_t b) {
    return isSigned ? static_cast<int64_t>(a) < static_cast<int64_t>(b) : a < b;
  };
  switch (kind) {
  case Reduction::Sum:
  case Reduction::Mean:
    walk([](uint64_t a, uint64_t v) { return a + v; });
    break;
  case Reduction::Max:
    walk([&](uint64_t a, uint64_t v) { return less(a, v) ? v : a; });
    break;
  case Reduction::Min:
    walk([&](uint64_t a, uint64_t v) { return less(v, a) ? v : a; });
    break;
  case Reduction::Prod:
    walk([](uint64_t a, uint64_t v) { return a * v; });
    break;
  case Reduction::L1:
    walk([&](uint64_t a, uint64_t v) {
      return a + (isSigned && static_cast<int64_t>(v) < 0 ? 0 - v : v);
    });
    break;
  case Reduction::L2:
  case Reduction::SumSquare:
    walk([&](uint64_t a, uint64_t v) { return a + wrapToType(type, v * v); });
    break;
  case Reduction::LogSum:
  case Reduction::LogSumExp:
    break;
  }
  int64_t count = reducedCount(in.shape, axes);
  for (int64_t o = 0; o < outN; ++o) {
    uint64_t value = wrapToType(type, acc[o]);
    if (kind == Reduction::Mean) {
      if (count == 0)
        value = 0;
      else if (isSigned)
        value = static_cast<uint64_t>(static_cast<int64_t>(value) / count);
      else
        value /= static_cast<uint64_t>(count);
    } else if (kind == Reduction::L2) {
      double root =
          std::sqrt(isSigned ? static_cast<double>(static_cast<int64_t>(value))
                             : static_cast<double>(value));
      value = static_cast<uint64_t>(static_cast<int64_t>(root));
    }
    storeInt(out, o, static_cast<int64_t>(value));
  }
}

template <typename OpTy>
LogicalResult reduceKernel(Operation *op, KernelContext &ctx, Reduction kind) {
  auto reduce = cast<OpTy>(op);
  const Tensor &in = ctx.get(reduce.getInput());
  Tensor &out = ctx.result();
  llvm::ArrayRef<int64_t> axes = reduce.getAxes();
  if (isFloat(in.dtype)) {
    reduceFloat(in, out, axes, kind);
    return success();
  }
  if (kind == Reduction::LogSum || kind == Reduction::LogSumExp)
    return ctx.fail(llvm::Twine("element type ") + dtypeName(in.dtype) +
                    " is not supported");
  reduceInt(in, out, axes, kind);
  return success();
}

//===----------------------------------------------------------------------===//
// argmax / argmin
//===----------------------------------------------------------------------===//

/// Returns true when |v| beats the current extremum |best| (NaN beats
/// numbers; among equal values the first wins, or the last with |last|).
template <typename T> bool beats(T v, T best, bool isMax, bool last) {
  if constexpr (std::is_floating_point_v<T>) {
    if (std::isnan(best))
      return last && std::isnan(v);
    if (std::isnan(v))
      return true;
  }
  if (v == best)
    return last;
  return isMax ? v > best : v < best;
}

template <typename T>
void argReduce(const std::vector<T> &x, const AxisSplit &split, Tensor &out,
               bool isMax, bool last) {
  int64_t *result = out.as<int64_t>();
  for (int64_t line = 0, n = split.lines(); line < n; ++line) {
    int64_t base = split.base(line);
    int64_t bestIndex = 0;
    T best = x[base];
    for (int64_t j = 1; j < split.dim; ++j) {
      T v = x[base + j * split.inner];
      if (beats(v, best, isMax, last)) {
        best = v;
        bestIndex = j;
      }
    }
    result[line] = bestIndex;
  }
}

template <typename OpTy>
LogicalResult argReduceKernel(Operation *op, KernelContext &ctx, bool isMax) {
  auto arg = cast<OpTy>(op);
  const Tensor &in = ctx.get(arg.getInput());
  Tensor &out = ctx.result();
  AxisSplit split(in.shape, arg.getAxis());
  if (out.dtype != DType::I64)
    return ctx.fail("expected an int64 result");
  if (split.lines() == 0)
    return success();
  if (split.dim == 0)
    return ctx.fail("cannot take the index of an extremum over an empty "
                    "axis");
  bool last = arg.getSelectLastIndex();
  if (isFloat(in.dtype))
    argReduce(loadDoubles(in), split, out, isMax, last);
  else if (isSignedInt(in.dtype)) {
    std::vector<uint64_t> bits = loadBits(in);
    std::vector<int64_t> x(bits.begin(), bits.end());
    argReduce(x, split, out, isMax, last);
  } else {
    argReduce(loadBits(in), split, out, isMax, last);
  }
  return success();
}

//===----------------------------------------------------------------------===//
// cumsum / cumprod
//===----------------------------------------------------------------------===//

template <typename T, typename Combine>
void scan(std::vector<T> &x, const AxisSplit &split, bool exclusive,
          bool reverse, T identity, Combine combine) {
  for (int64_t line = 0, n = split.lines(); line < n; ++line) {
    int64_t base = split.base(line);
    T acc = identity;
    for (int64_t step = 0; step < split.dim; ++step) {
      int64_t j = reverse ? split.dim - 1 - step : step;
      T &slot = x[base + j * split.inner];
      T value = slot;
      if (exclusive) {
        slot = acc;
        acc = combine(acc, value);
      } else {
        acc = combine(acc, value);
        slot = acc;
      }
    }
  }
}

template <typename OpTy>
LogicalResult scanKernel(Operation *op, KernelContext &ctx, bool product) {
  auto scanOp = cast<OpTy>(op);
  const Tensor &in = ctx.get(scanOp.getInput());
  Tensor &out = ctx.result();
  AxisSplit split(in.shape, scanOp.getAxis());
  bool exclusive = scanOp.getExclusive(), reverse = scanOp.getReverse();
  if (isFloat(in.dtype)) {
    std::vector<double> x = loadDoubles(in);
    if (product)
      scan(x, split, exclusive, reverse, 1.0,
           [](double a, double b) { return a * b; });
    else
      scan(x, split, exclusive, reverse, 0.0,
           [](double a, double b) { return a + b; });
    storeDoubles(x, out);
    return success();
  }
  std::vector<uint64_t> x = loadBits(in);
  if (product)
    scan(x, split, exclusive, reverse, uint64_t(1),
         [](uint64_t a, uint64_t b) { return a * b; });
  else
    scan(x, split, exclusive, reverse, uint64_t(0),
         [](uint64_t a, uint64_t b) { return a + b; });
  for (int64_t i = 0, n = out.numElements(); i < n; ++i)
    storeInt(out, i, static_cast<int64_t>(x[i]));
  return success();
}

//===----------------------------------------------------------------------===//
// topk
//===----------------------------------------------------------------------===//

/// Returns true when |a| is greater than |b|, NaN being above every number.
template <typename T> bool greater(T a, T b) {
  if constexpr (std::is_floating_point_v<T>) {
    if (std::isnan(a))
      return !std::isnan(b);
    if (std::isnan(b))
      return false;
  }
  return a > b;
}

template <typename T>
void topK(const std::vector<T> &x, const AxisSplit &in, int64_t k, bool largest,
          const Tensor &input, Tensor &values, Tensor &indices) {
  size_t elem = dtypeSize(input.dtype);
  int64_t *outIndices = indices.as<int64_t>();
  std::vector<int64_t> order(in.dim);
  std::vector<T> line(in.dim);
  for (int64_t l = 0, n = in.lines(); l < n; ++l) {
    int64_t base = in.base(l);
    for (int64_t j = 0; j < in.dim; ++j)
      line[j] = x[base + j * in.inner];
    std::iota(order.begin(), order.end(), 0);
    // Ties keep the lower index first, in both directions.
    auto before = [&](int64_t a, int64_t b) {
      if (greater(line[a], line[b]))
        return largest;
      if (greater(line[b], line[a]))
        return !largest;
      return a < b;
    };
    std::partial_sort(order.begin(), order.begin() + k, order.end(), before);
    int64_t outBase = (l / in.inner) * k * in.inner + l % in.inner;
    for (int64_t j = 0; j < k; ++j) {
      int64_t dst = outBase + j * in.inner;
      int64_t src = base + order[j] * in.inner;
      outIndices[dst] = order[j];
      copyBytes(values.data.data() + dst * elem, input.data.data() + src * elem,
                elem);
    }
  }
}

LogicalResult topKKernel(Operation *op, KernelContext &ctx) {
  auto top = cast<TopKOp>(op);
  const Tensor &in = ctx.get(top.getInput());
  Tensor &values = ctx.result(0);
  Tensor &indices = ctx.result(1);
  if (indices.dtype != DType::I64)
    return ctx.fail("expected int64 indices");
  AxisSplit split(in.shape, top.getAxis());
  int64_t k = top.getK();
  bool largest = top.getLargest();
  if (isFloat(in.dtype)) {
    topK(loadDoubles(in), split, k, largest, in, values, indices);
  } else if (isSignedInt(in.dtype)) {
    std::vector<uint64_t> bits = loadBits(in);
    std::vector<int64_t> x(bits.begin(), bits.end());
    topK(x, split, k, largest, in, values, indices);
  } else {
    topK(loadBits(in), split, k, largest, in, values, indices);
  }
  return success();
}

} // namespace

void registerReductionKernels(KernelRegistry &r) {
#define KILN_REDUCE(OpTy, kind)                                                \
  r.add<OpTy>([](Operation *op, KernelContext &ctx) {                          \
    return reduceKernel<OpTy>(op, ctx, Reduction::kind);                       \
  })
  KILN_REDUCE(ReduceSumOp, Sum);
  KILN_REDUCE(ReduceMeanOp, Mean);
  KILN_REDUCE(ReduceMaxOp, Max);
  KILN_REDUCE(ReduceMinOp, Min);
  KILN_REDUCE(ReduceProdOp, Prod);
  KILN_REDUCE(ReduceL1Op, L1);
  KILN_REDUCE(ReduceL2Op, L2);
  KILN_REDUCE(ReduceLogSumOp, LogSum);
  KILN_REDUCE(ReduceLogSumExpOp, LogSumExp);
  KILN_REDUCE(ReduceSumSquareOp, SumSquare);
#undef KILN_REDUCE
  r.add<ArgMaxOp>([](Operation *op, KernelContext &ctx) {
    return argReduceKernel<ArgMaxOp>(op, ctx, /*isMax=*/true);
  });
  r.add<ArgMinOp>([](Operation *op, KernelContext &ctx) {
    return argReduceKernel<ArgMinOp>(op, ctx, /*isMax=*/false);
  });
  r.add<CumSumOp>([](Operation *op, KernelContext &ctx) {
    return scanKernel<CumSumOp>(op, ctx, /*product=*/false);
  });
  r.add<CumProdOp>([](Operation *op, KernelContext &ctx) {
    return scanKernel<CumProdOp>(op, ctx, /*product=*/true);
  });
  r.add<TopKOp>(topKKernel);
}

} // namespace kiln::eval
