//===- Normalization.cpp - Kernels of the normalization ops -----*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// Evaluator kernels of the ops declared in
// dialects/kiln/ops/NormalizationOps.td: batch / instance / group / layer /
// RMS normalization, Lp and mean-variance normalization, LRN, the softmax
// family and the negative log-likelihood loss.
//
// Everything computes in double and rounds once to the result type, with
// two exceptions: softmax on half / bfloat16 rounds every step as ONNX's
// reference does on those types, and, following ONNX's
// function bodies, group, layer and RMS
// normalization round their statistics and the normalized value to the
// stash type, then the normalized value to the input type, before the
// scale (and bias) apply in the input type. Statistics use the two-pass
// mean and population variance.
//
//===----------------------------------------------------------------------===//

#include "compiler/evaluator/Kernel.h"
#include "compiler/evaluator/kernels/ReductionUtils.h"

#include "dialects/kiln/KilnOps.h"

#include <cmath>
#include <limits>

using namespace mlir;
using namespace mlir::kiln;

namespace kiln::eval {
namespace {

/// Returns the mean and population variance of |count| values of |x|
/// starting at |first|.
std::pair<double, double> meanAndVariance(const double *first, int64_t count) {
  if (count == 0)
    return {std::nan(""), std::nan("")};
  double sum = 0;
  for (int64_t i = 0; i < count; ++i)
    sum += first[i];
  double mean = sum / static_cast<double>(count);
  double squares = 0;
  for (int64_t i = 0; i < count; ++i) {
    double d = first[i] - mean;
    squares += d * d;
  }
  return {mean, squares / static_cast<double>(count)};
}

/// Returns the epsilon attribute of |op| as double.
template <typename OpTy> double epsilonOf(OpTy op) {
  return op.getEpsilon().convertToDouble();
}

LogicalResult batchNormKernel(Operation *op, KernelContext &ctx) {
  auto bn = cast<BatchNormOp>(op);
  const Tensor &in = ctx.get(bn.getInput());
  std::vector<double> x = loadDoubles(in);
  std::vector<double> scale = loadDoubles(ctx.get(bn.getScale()));
  std::vector<double> bias = loadDoubles(ctx.get(bn.getBias()));
  std::vector<double> mean = loadDoubles(ctx.get(bn.getMean()));
  std::vector<double> var = loadDoubles(ctx.get(bn.getVariance()));
  double eps = epsilonOf(bn);
  AxisSplit split(in.shape, 1);
  std::vector<double> factor(split.dim);
  for (int64_t c = 0; c < split.dim; ++c)
    factor[c] = scale[c] / std::sqrt(var[c] + eps);
  for (int64_t o = 0; o < split.outer; ++o)
    for (int64_t c = 0; c < split.dim; ++c) {
      double *line = x.data() + (o * split.dim + c) * split.inner;
      for (int64_t i = 0; i < split.inner; ++i)
        line[i] = (line[i] - mean[c]) * factor[c] + bias[c];
    }
  storeDoubles(x, ctx.result());
  return success();
}

LogicalResult instanceNormKernel(Operation *op, KernelContext &ctx) {
  auto norm = cast<InstanceNormOp>(op);
  const Tensor &in = ctx.get(norm.getInput());
  std::vector<double> x = loadDoubles(in);
  std::vector<double> scale = loadDoubles(ctx.get(norm.getScale()));
  std::vector<double> bias = loadDoubles(ctx.get(norm.getBias()));
  double eps = epsilonOf(norm);
  AxisSplit split(in.shape, 1);
  for (int64_t o = 0; o < split.outer; ++o)
    for (int64_t c = 0; c < split.dim; ++c) {
      double *plane = x.data() + (o * split.dim + c) * split.inner;
      auto [mean, var] = meanAndVariance(plane, split.inner);
      double factor = scale[c] / std::sqrt(var + eps);
      for (int64_t i = 0; i < split.inner; ++i)
        plane[i] = (plane[i] - mean) * factor + bias[c];
    }
  storeDoubles(x, ctx.result());
  return success();
}

LogicalResult groupNormKernel(Operation *op, KernelContext &ctx) {
  auto norm = cast<GroupNormOp>(op);
  const Tensor &in = ctx.get(norm.getInput());
  std::vector<double> x = loadDoubles(in);
  std::vector<double> scale = loadDoubles(ctx.get(norm.getScale()));
  std::vector<double> bias = loadDoubles(ctx.get(norm.getBias()));
  double eps = epsilonOf(norm);
  int64_t stash = norm.getStashType();
  AxisSplit split(in.shape, 1);
  int64_t groups = norm.getNumGroups();
  int64_t perGroup = split.dim / groups;
  int64_t block = perGroup * split.inner;
  for (int64_t o = 0; o < split.outer; ++o)
    for (int64_t g = 0; g < groups; ++g) {
      double *first = x.data() + (o * groups + g) * block;
      auto [mean, var] = meanAndVariance(first, block);
      mean = roundToOnnxType(stash, mean);
      double stdDev = roundToOnnxType(stash, std::sqrt(var + eps));
      for (int64_t k = 0; k < block; ++k) {
        int64_t c = g * perGroup + k / split.inner;
        double normalized = roundToType(
            in.dtype, roundToOnnxType(stash, (first[k] - mean) / stdDev));
        first[k] = roundToType(in.dtype, normalized * scale[c]) + bias[c];
      }
    }
  storeDoubles(x, ctx.result());
  return success();
}

LogicalResult layerNormKernel(Operation *op, KernelContext &ctx) {
  auto norm = cast<LayerNormOp>(op);
  const Tensor &in = ctx.get(norm.getInput());
  const Tensor &scaleTensor = ctx.get(norm.getScale());
  const Tensor *biasTensor = ctx.getOptional(norm.getBias());
  std::vector<double> x = loadDoubles(in);
  std::vector<double> scale = loadDoubles(scaleTensor);
  std::vector<double> bias;
  if (biasTensor)
    bias = loadDoubles(*biasTensor);
  double eps = epsilonOf(norm);
  int64_t stash = norm.getStashType();
  auto [rows, cols] = splitAt(in.shape, norm.getAxis());
  Tensor &meanOut = ctx.result(1);
  Tensor &invStdOut = ctx.result(2);
  std::vector<double> means(rows), invStds(rows);
  for (int64_t r = 0; r < rows; ++r) {
    auto [mean, var] = meanAndVariance(x.data() + r * cols, cols);
    means[r] = roundToOnnxType(stash, mean);
    invStds[r] = roundToOnnxType(stash, 1.0 / std::sqrt(var + eps));
  }
  llvm::ArrayRef<int64_t> operandShapes[] = {
      scaleTensor.shape, biasTensor ? biasTensor->shape : scaleTensor.shape};
  BroadcastIterator it(in.shape, operandShapes);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t k = 0; k < cols; ++k, it.next()) {
      double &v = x[r * cols + k];
      double normalized = roundToType(
          in.dtype, roundToOnnxType(stash, (v - means[r]) * invStds[r]));
      v = normalized * scale[it.offset(0)];
      if (biasTensor)
        v = roundToType(in.dtype, v) + bias[it.offset(1)];
    }
  storeDoubles(x, ctx.result(0));
  storeDoubles(means, meanOut);
  storeDoubles(invStds, invStdOut);
  return success();
}

LogicalResult rmsNormKernel(Operation *op, KernelContext &ctx) {
  auto norm = cast<RMSNormOp>(op);
  const Tensor &in = ctx.get(norm.getInput());
  const Tensor &scaleTensor = ctx.get(norm.getScale());
  std::vector<double> x = loadDoubles(in);
  std::vector<double> scale = loadDoubles(scaleTensor);
  double eps = epsilonOf(norm);
  int64_t stash = norm.getStashType();
  auto [rows, cols] = splitAt(in.shape, norm.getAxis());
  llvm::ArrayRef<int64_t> operandShapes[] = {scaleTensor.shape};
  BroadcastIterator it(in.shape, operandShapes);
  for (int64_t r = 0; r < rows; ++r) {
    double *row = x.data() + r * cols;
    double squares = 0;
    for (int64_t k = 0; k < cols; ++k)
      squares += row[k] * row[k];
    double rms = roundToOnnxType(
        stash, std::sqrt(squares / static_cast<double>(cols) + eps));
    for (int64_t k = 0; k < cols; ++k, it.next()) {
      double normalized =
          roundToType(in.dtype, roundToOnnxType(stash, row[k] / rms));
      row[k] = normalized * scale[it.offset(0)];
    }
  }
  storeDoubles(x, ctx.result());
  return success();
}

LogicalResult lpNormKernel(Operation *op, KernelContext &ctx) {
  auto norm = cast<LpNormalizationOp>(op);
  const Tensor &in = ctx.get(norm.getInput());
  std::vector<double> x = loadDoubles(in);
  AxisSplit split(in.shape, norm.getAxis());
  bool l1 = norm.getP() == 1;
  for (int64_t line = 0, n = split.lines(); line < n; ++line) {
    int64_t base = split.base(line);
    double acc = 0;
    for (int64_t j = 0; j < split.dim; ++j) {
      double v = x[base + j * split.inner];
      acc += l1 ? std::fabs(v) : v * v;
    }
    double normValue = l1 ? acc : std::sqrt(acc);
    // ONNX: where the norm is 0 the result is 0 (not 0 / 0).
    for (int64_t j = 0; j < split.dim; ++j) {
      double &v = x[base + j * split.inner];
      v = normValue == 0 ? 0.0 : v / normValue;
    }
  }
  storeDoubles(x, ctx.result());
  return success();
}

LogicalResult mvnKernel(Operation *op, KernelContext &ctx) {
  auto norm = cast<MeanVarianceNormalizationOp>(op);
  const Tensor &in = ctx.get(norm.getInput());
  std::vector<double> x = loadDoubles(in);
  llvm::ArrayRef<int64_t> axes = norm.getAxes();
  int64_t count = 1, slots = 1;
  for (size_t d = 0; d < in.shape.size(); ++d)
    (llvm::is_contained(axes, static_cast<int64_t>(d)) ? count : slots) *=
        in.shape[d];
  std::vector<double> mean(slots, 0.0), var(slots, 0.0);
  forEachReduced(in.shape, axes,
                 [&](int64_t i, int64_t o) { mean[o] += x[i]; });
  for (double &m : mean)
    m /= static_cast<double>(count);
  forEachReduced(in.shape, axes, [&](int64_t i, int64_t o) {
    double d = x[i] - mean[o];
    var[o] += d * d;
  });
  // ONNX's function body: (X - E[X]) / (sqrt(E[X^2] - E[X]^2) + 1e-9); the
  // variance is computed in its two-pass form, which is never negative.
  for (double &v : var)
    v = std::sqrt(v / static_cast<double>(count)) + 1e-9;
  forEachReduced(in.shape, axes, [&](int64_t i, int64_t o) {
    x[i] = (x[i] - mean[o]) / var[o];
  });
  storeDoubles(x, ctx.result());
  return success();
}

LogicalResult lrnKernel(Operation *op, KernelContext &ctx) {
  auto lrn = cast<LRNOp>(op);
  const Tensor &in = ctx.get(lrn.getInput());
  std::vector<double> x = loadDoubles(in);
  std::vector<double> y(x.size());
  double alpha = lrn.getAlpha().convertToDouble();
  double beta = lrn.getBeta().convertToDouble();
  double bias = lrn.getBias().convertToDouble();
  int64_t size = lrn.getSize();
  int64_t before = (size - 1) / 2, after = size - 1 - before;
  AxisSplit split(in.shape, 1);
  for (int64_t o = 0; o < split.outer; ++o)
    for (int64_t c = 0; c < split.dim; ++c) {
      int64_t first = std::max<int64_t>(0, c - before);
      int64_t last = std::min<int64_t>(split.dim - 1, c + after);
      for (int64_t i = 0; i < split.inner; ++i) {
        double squares = 0;
        for (int64_t k = first; k <= last; ++k) {
          double v = x[(o * split.dim + k) * split.inner + i];
          squares += v * v;
        }
        int64_t at = (o * split.dim + c) * split.inner + i;
        y[at] =
            x[at] /
            std::pow(bias + alpha / static_cast<double>(size) * squares, beta);
      }
    }
  storeDoubles(y, ctx.result());
  return success();
}

enum class SoftmaxKind { Softmax, LogSoftmax, Hardmax };

/// Softmax of |dim| values read through |at|, for half, bfloat16 and the
/// narrow float types, with every step rounded to |type| the way ONNX's
/// reference computes it on those types (numpy): the shifted value, its
/// exponential, the sum (accumulated in float32 and rounded once for half,
/// rounded at each addition otherwise) and the quotient. ONNX's expected
/// outputs (the attention tests in half and bfloat16) differ from a double
/// computation rounded once by more than the test tolerance. Log-softmax
/// keeps the exact form x - max - log(sum) rounded once, as onnxruntime
/// computes it.
template <typename At>
void softmaxRounded(DType type, At &&at, int64_t dim, double max) {
  double sum = 0;
  for (int64_t j = 0; j < dim; ++j) {
    at(j) = roundToType(type, std::exp(roundToType(type, at(j) - max)));
    sum = type == DType::F16 ? static_cast<float>(sum + at(j))
                             : roundToType(type, sum + at(j));
  }
  sum = roundToType(type, sum);
  for (int64_t j = 0; j < dim; ++j) {
    at(j) = roundToType(type, at(j) / sum);
  }
}

template <typename OpTy>
LogicalResult softmaxKernel(Operation *op, KernelContext &ctx,
                            SoftmaxKind kind) {
  auto softmax = cast<OpTy>(op);
  const Tensor &in = ctx.get(softmax.getInput());
  std::vector<double> x = loadDoubles(in);
  AxisSplit split(in.shape, softmax.getAxis());
  bool emulated = isEmulatedFloat(in.dtype);
  for (int64_t line = 0, n = split.lines(); line < n; ++line) {
    int64_t base = split.base(line);
    auto at = [&](int64_t j) -> double & { return x[base + j * split.inner]; };
    if (kind == SoftmaxKind::Hardmax) {
      // One-hot at the first maximum (a NaN counts as the maximum).
      int64_t best = 0;
      for (int64_t j = 1; j < split.dim && !std::isnan(at(best)); ++j)
        if (std::isnan(at(j)) || at(j) > at(best))
          best = j;
      for (int64_t j = 0; j < split.dim; ++j)
        at(j) = j == best ? 1.0 : 0.0;
      continue;
    }
    double max = -std::numeric_limits<double>::infinity();
    for (int64_t j = 0; j < split.dim; ++j)
      max = std::isnan(at(j)) || at(j) > max ? at(j) : max;
    if (emulated && kind == SoftmaxKind::Softmax) {
      softmaxRounded(in.dtype, at, split.dim, max);
      continue;
    }
    double sum = 0;
    for (int64_t j = 0; j < split.dim; ++j)
      sum += std::exp(at(j) - max);
    if (kind == SoftmaxKind::Softmax) {
      for (int64_t j = 0; j < split.dim; ++j)
        at(j) = std::exp(at(j) - max) / sum;
    } else {
      double logSum = std::log(sum);
      for (int64_t j = 0; j < split.dim; ++j)
        at(j) = at(j) - max - logSum;
    }
  }
  storeDoubles(x, ctx.result());
  return success();
}

LogicalResult nllLossKernel(Operation *op, KernelContext &ctx) {
  auto loss = cast<NLLLossOp>(op);
  const Tensor &in = ctx.get(loss.getInput());
  const Tensor &target = ctx.get(loss.getTarget());
  const Tensor *weightTensor = ctx.getOptional(loss.getWeight());
  std::vector<double> x = loadDoubles(in);
  std::vector<double> weight;
  if (weightTensor)
    weight = loadDoubles(*weightTensor);
  std::optional<int64_t> ignore = loss.getIgnoreIndex();
  AxisSplit split(in.shape, 1);
  int64_t classes = split.dim;
  std::vector<double> losses(target.numElements());
  double sum = 0, weightSum = 0;
  for (int64_t n = 0; n < split.outer; ++n)
    for (int64_t i = 0; i < split.inner; ++i) {
      int64_t at = n * split.inner + i;
      int64_t t = loadInt(target, at);
      if (ignore && t == *ignore)
        continue;
      if (t < 0 || t >= classes)
        return ctx.fail("target " + llvm::Twine(t) + " is out of range for " +
                        llvm::Twine(classes) + " classes");
      double w = weightTensor ? weight[t] : 1.0;
      losses[at] = -x[(n * classes + t) * split.inner + i] * w;
      sum += losses[at];
      weightSum += w;
    }
  StringRef reduction = loss.getReduction();
  if (reduction == "none") {
    storeDoubles(losses, ctx.result());
    return success();
  }
  double result = reduction == "sum" ? sum : sum / weightSum;
  storeDoubles({result}, ctx.result());
  return success();
}

} // namespace

void registerNormalizationKernels(KernelRegistry &r) {
  r.add<BatchNormOp>(batchNormKernel);
  r.add<InstanceNormOp>(instanceNormKernel);
  r.add<GroupNormOp>(groupNormKernel);
  r.add<LayerNormOp>(layerNormKernel);
  r.add<RMSNormOp>(rmsNormKernel);
  r.add<LpNormalizationOp>(lpNormKernel);
  r.add<MeanVarianceNormalizationOp>(mvnKernel);
  r.add<LRNOp>(lrnKernel);
  r.add<SoftmaxOp>([](Operation *op, KernelContext &ctx) {
    return softmaxKernel<SoftmaxOp>(op, ctx, SoftmaxKind::Softmax);
  });
  r.add<LogSoftmaxOp>([](Operation *op, KernelContext &ctx) {
    return softmaxKernel<LogSoftmaxOp>(op, ctx, SoftmaxKind::LogSoftmax);
  });
  r.add<HardmaxOp>([](Operation *op, KernelContext &ctx) {
    return softmaxKernel<HardmaxOp>(op, ctx, SoftmaxKind::Hardmax);
  });
  r.add<NLLLossOp>(nllLossKernel);
}

} // namespace kiln::eval
