//===- Integer.cpp - Kernels of the int8 ops --------------------*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// The evaluator runs the int8 ops through compiler/reference (kiln::ref),
// the same oracle the runtime/c kernels are tested against, so an emitted
// program and the evaluator agree bit for bit by construction of the tests.
// Quantization parameters come from the `!quant.uniform` element types;
// requantization multipliers from the ops' attributes.
//
//===----------------------------------------------------------------------===//

#include "compiler/evaluator/Kernel.h"
#include "compiler/reference/IntegerKernels.h"
#include "compiler/support/QuantParams.h"

#include "dialects/kiln/KilnOps.h"

using namespace mlir;
using namespace mlir::kiln;

namespace kiln::eval {
namespace {

template <typename T> ref::Span<const T> view(const Tensor &t) {
  return {t.as<T>(), static_cast<size_t>(t.numElements())};
}
template <typename T> ref::Span<T> view(Tensor &t) {
  return {t.as<T>(), static_cast<size_t>(t.numElements())};
}

/// Turns a reference-library status into the kernel's result.
LogicalResult check(KernelContext &ctx, const Status &status) {
  if (status.failed())
    return ctx.fail(status.str());
  return success();
}

ref::ActivationRange actRange(int32_t lo, int32_t hi) { return {lo, hi}; }

LogicalResult qconv2d(Operation *op, KernelContext &ctx) {
  auto conv = cast<QConv2DOp>(op);
  const Tensor &x = ctx.get(conv.getInput());
  const Tensor &w = ctx.get(conv.getWeight());
  const Tensor *bias = ctx.getOptional(conv.getBias());
  Tensor &y = ctx.result();
  ref::Conv2DParams p;
  p.batch = x.shape[0];
  p.inputHeight = x.shape[1];
  p.inputWidth = x.shape[2];
  p.inputChannels = x.shape[3];
  p.outputChannels = w.shape[0];
  p.kernelHeight = w.shape[1];
  p.kernelWidth = w.shape[2];
  p.strideHeight = conv.getStrides()[0];
  p.strideWidth = conv.getStrides()[1];
  p.dilationHeight = conv.getDilations()[0];
  p.dilationWidth = conv.getDilations()[1];
  p.padTop = conv.getPads()[0];
  p.padLeft = conv.getPads()[1];
  p.padBottom = conv.getPads()[2];
  p.padRight = conv.getPads()[3];
  p.groups = static_cast<int64_t>(conv.getGroup());
  p.inputZeroPoint = perTensorParams(conv.getInput().getType()).zeroPoint;
  p.outputZeroPoint = perTensorParams(conv.getType()).zeroPoint;
  p.activation = actRange(conv.getActMin(), conv.getActMax());
  std::vector<int32_t> zeroBias(p.outputChannels, 0);
  ref::Span<const int32_t> b =
      bias ? view<int32_t>(*bias)
           : ref::Span<const int32_t>(zeroBias.data(), zeroBias.size());
  ref::Requantization rq{
      {conv.getMultipliers().data(), conv.getMultipliers().size()},
      {conv.getShifts().data(), conv.getShifts().size()}};
  return check(ctx, ref::conv2d(p, view<int8_t>(x), view<int8_t>(w), b, rq,
                                view<int8_t>(y)));
}

LogicalResult qfullyConnected(Operation *op, KernelContext &ctx) {
  auto fc = cast<QFullyConnectedOp>(op);
  const Tensor &x = ctx.get(fc.getInput());
  const Tensor &w = ctx.get(fc.getWeight());
  const Tensor *bias = ctx.getOptional(fc.getBias());
  Tensor &y = ctx.result();
  ref::FullyConnectedParams p;
  p.batch = x.shape[0];
  p.inputFeatures = x.shape[1];
  p.outputFeatures = w.shape[0];
  p.inputZeroPoint = perTensorParams(fc.getInput().getType()).zeroPoint;
  p.outputZeroPoint = perTensorParams(fc.getType()).zeroPoint;
  p.activation = actRange(fc.getActMin(), fc.getActMax());
  std::vector<int32_t> zeroBias(p.outputFeatures, 0);
  ref::Span<const int32_t> b =
      bias ? view<int32_t>(*bias)
           : ref::Span<const int32_t>(zeroBias.data(), zeroBias.size());
  ref::Requantization rq{
      {fc.getMultipliers().data(), fc.getMultipliers().size()},
      {fc.getShifts().data(), fc.getShifts().size()}};
  return check(ctx, ref::fullyConnected(p, view<int8_t>(x), view<int8_t>(w),
                                        b, rq, view<int8_t>(y)));
}

template <typename OpTy>
LogicalResult qpool(Operation *op, KernelContext &ctx, bool isMax) {
  auto pool = cast<OpTy>(op);
  const Tensor &x = ctx.get(pool.getInput());
  Tensor &y = ctx.result();
  ref::Pool2DParams p;
  p.batch = x.shape[0];
  p.inputHeight = x.shape[1];
  p.inputWidth = x.shape[2];
  p.channels = x.shape[3];
  p.kernelHeight = pool.getKernelShape()[0];
  p.kernelWidth = pool.getKernelShape()[1];
  p.strideHeight = pool.getStrides()[0];
  p.strideWidth = pool.getStrides()[1];
  p.padTop = pool.getPads()[0];
  p.padLeft = pool.getPads()[1];
  p.padBottom = pool.getPads()[2];
  p.padRight = pool.getPads()[3];
  p.ceilMode = pool.getCeilMode();
  p.countIncludePad = pool.getCountIncludePad();
  p.zeroPoint = perTensorParams(pool.getInput().getType()).zeroPoint;
  p.activation = actRange(pool.getActMin(), pool.getActMax());
  if (isMax)
    return check(ctx, ref::maxPool2d(p, view<int8_t>(x), view<int8_t>(y)));
  return check(ctx, ref::averagePool2d(p, view<int8_t>(x), view<int8_t>(y)));
}

LogicalResult qglobalAvgPool(Operation *op, KernelContext &ctx) {
  auto pool = cast<QGlobalAvgPool2DOp>(op);
  const Tensor &x = ctx.get(pool.getInput());
  Tensor &y = ctx.result();
  ref::GlobalAveragePoolParams p;
  p.batch = x.shape[0];
  p.height = x.shape[1];
  p.width = x.shape[2];
  p.channels = x.shape[3];
  p.inputZeroPoint = perTensorParams(pool.getInput().getType()).zeroPoint;
  p.outputZeroPoint = perTensorParams(pool.getType()).zeroPoint;
  p.multiplier = {pool.getMultiplier(), pool.getShift()};
  p.activation = actRange(pool.getActMin(), pool.getActMax());
  return check(ctx,
                ref::globalAveragePool(p, view<int8_t>(x), view<int8_t>(y)));
}

LogicalResult qadd(Operation *op, KernelContext &ctx) {
  auto add = cast<QAddOp>(op);
  const Tensor &a = ctx.get(add.getLhs());
  const Tensor &b = ctx.get(add.getRhs());
  Tensor &y = ctx.result();
  ref::AddParams p;
  p.input1ZeroPoint = perTensorParams(add.getLhs().getType()).zeroPoint;
  p.input2ZeroPoint = perTensorParams(add.getRhs().getType()).zeroPoint;
  p.outputZeroPoint = perTensorParams(add.getType()).zeroPoint;
  p.leftShift = add.getLeftShift();
  p.input1 = {add.getInput1Multiplier(), add.getInput1Shift()};
  p.input2 = {add.getInput2Multiplier(), add.getInput2Shift()};
  p.output = {add.getOutputMultiplier(), add.getOutputShift()};
  p.activation = actRange(add.getActMin(), add.getActMax());
  return check(ctx, ref::add(p, {a.shape.data(), a.shape.size()},
                             view<int8_t>(a),
                             {b.shape.data(), b.shape.size()},
                             view<int8_t>(b), view<int8_t>(y)));
}

LogicalResult qmul(Operation *op, KernelContext &ctx) {
  auto mul = cast<QMulOp>(op);
  const Tensor &a = ctx.get(mul.getLhs());
  const Tensor &b = ctx.get(mul.getRhs());
  Tensor &y = ctx.result();
  ref::MulParams p;
  p.input1ZeroPoint = perTensorParams(mul.getLhs().getType()).zeroPoint;
  p.input2ZeroPoint = perTensorParams(mul.getRhs().getType()).zeroPoint;
  p.outputZeroPoint = perTensorParams(mul.getType()).zeroPoint;
  p.output = {mul.getMultiplier(), mul.getShift()};
  p.activation = actRange(mul.getActMin(), mul.getActMax());
  return check(ctx, ref::mul(p, {a.shape.data(), a.shape.size()},
                             view<int8_t>(a),
                             {b.shape.data(), b.shape.size()},
                             view<int8_t>(b), view<int8_t>(y)));
}

LogicalResult qconcat(Operation *op, KernelContext &ctx) {
  auto concat = cast<QConcatOp>(op);
  std::vector<ref::ConcatInput> inputs;
  for (auto [i, value] : llvm::enumerate(concat.getInputs())) {
    const Tensor &t = ctx.get(value);
    ref::ConcatInput in;
    in.shape = {t.shape.data(), t.shape.size()};
    in.data = view<int8_t>(t);
    in.zeroPoint = perTensorParams(value.getType()).zeroPoint;
    in.multiplier = {concat.getMultipliers()[i], concat.getShifts()[i]};
    inputs.push_back(in);
  }
  return check(ctx, ref::concat({inputs.data(), inputs.size()},
                                static_cast<int64_t>(concat.getAxis()),
                                perTensorParams(concat.getType()).zeroPoint,
                                view<int8_t>(ctx.result())));
}

LogicalResult qsoftmax(Operation *op, KernelContext &ctx) {
  auto softmax = cast<QSoftmaxOp>(op);
  const Tensor &x = ctx.get(softmax.getInput());
  ref::SoftmaxTable table;
  std::copy(softmax.getTable().begin(), softmax.getTable().end(),
            table.begin());
  int64_t row = x.shape.empty() ? 1 : x.shape.back();
  int64_t rows = row ? x.numElements() / row : 0;
  return check(ctx, ref::softmax(rows, row, table, view<int8_t>(x),
                                 view<int8_t>(ctx.result())));
}

LogicalResult qclamp(Operation *op, KernelContext &ctx) {
  auto clamp = cast<QClampOp>(op);
  return check(ctx, ref::clampToActivation(
                        actRange(clamp.getMin(), clamp.getMax()),
                        view<int8_t>(ctx.get(clamp.getInput())),
                        view<int8_t>(ctx.result())));
}

LogicalResult quantizeKernel(Operation *op, KernelContext &ctx) {
  auto q = cast<QuantizeOp>(op);
  QuantParams p = perTensorParams(q.getType());
  return check(ctx, ref::quantizeArray(view<float>(ctx.get(q.getInput())),
                                       static_cast<float>(p.scale),
                                       p.zeroPoint,
                                       view<int8_t>(ctx.result())));
}

LogicalResult dequantizeKernel(Operation *op, KernelContext &ctx) {
  auto dq = cast<DequantizeOp>(op);
  QuantParams p = perTensorParams(dq.getInput().getType());
  return check(ctx, ref::dequantizeArray(view<int8_t>(ctx.get(dq.getInput())),
                                         static_cast<float>(p.scale),
                                         p.zeroPoint,
                                         view<float>(ctx.result())));
}

LogicalResult requantizeKernel(Operation *op, KernelContext &ctx) {
  auto rq = cast<RequantizeOp>(op);
  ref::RequantizeParams p;
  p.inputZeroPoint = perTensorParams(rq.getInput().getType()).zeroPoint;
  p.outputZeroPoint = perTensorParams(rq.getType()).zeroPoint;
  p.multiplier = {rq.getMultiplier(), rq.getShift()};
  return check(ctx, ref::requantize(p, view<int8_t>(ctx.get(rq.getInput())),
                                    view<int8_t>(ctx.result())));
}

} // namespace

void registerIntegerKernels(KernelRegistry &r) {
  r.add<QConv2DOp>(qconv2d);
  r.add<QFullyConnectedOp>(qfullyConnected);
  r.add<QAvgPool2DOp>([](Operation *op, KernelContext &ctx) {
    return qpool<QAvgPool2DOp>(op, ctx, false);
  });
  r.add<QMaxPool2DOp>([](Operation *op, KernelContext &ctx) {
    return qpool<QMaxPool2DOp>(op, ctx, true);
  });
  r.add<QGlobalAvgPool2DOp>(qglobalAvgPool);
  r.add<QAddOp>(qadd);
  r.add<QMulOp>(qmul);
  r.add<QConcatOp>(qconcat);
  r.add<QSoftmaxOp>(qsoftmax);
  r.add<QClampOp>(qclamp);
  r.add<QuantizeOp>(quantizeKernel);
  r.add<DequantizeOp>(dequantizeKernel);
  r.add<RequantizeOp>(requantizeKernel);
}

} // namespace kiln::eval
