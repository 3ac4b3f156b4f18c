//===- IntegerOps.cpp - Verifiers of the int8 kernels -----------*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// Checks of the int8 ops: NHWC shapes, quantized element types (per-tensor
// int8 activations, per-channel symmetric int8 weights, int32 bias), one
// requantization multiplier and shift per output channel, and activation
// ranges inside int8.
//
//===----------------------------------------------------------------------===//

#include "dialects/kiln/KilnOpsUtils.h"

#include "mlir/Dialect/Quant/IR/QuantTypes.h"

using namespace mlir;
using namespace mlir::kiln;
using namespace mlir::kiln::detail;

/// Returns the per-tensor int8 quantized element type of |value|, or null.
static quant::UniformQuantizedType perTensorInt8(Value value) {
  auto type = dyn_cast<quant::UniformQuantizedType>(elementTypeOf(value));
  if (type && type.getStorageTypeIntegralWidth() == 8 && type.isSigned())
    return type;
  return {};
}

/// Checks that |value| is a per-tensor int8 activation.
static LogicalResult requireActivation(Operation *op, Value value,
                                       StringRef what) {
  if (!perTensorInt8(value))
    return op->emitOpError()
           << what << " must have a per-tensor int8 quantized element type "
           << "(!quant.uniform<i8:f32, scale:zero_point>), got "
           << elementTypeOf(value);
  return success();
}

/// Checks an int8 weight: per-tensor or per-axis (axis 0), symmetric.
static LogicalResult requireWeight(Operation *op, Value weight,
                                   int64_t channels) {
  Type element = elementTypeOf(weight);
  if (auto perAxis = dyn_cast<quant::UniformQuantizedPerAxisType>(element)) {
    if (perAxis.getStorageTypeIntegralWidth() != 8 ||
        perAxis.getQuantizedDimension() != 0 ||
        static_cast<int64_t>(perAxis.getScales().size()) != channels)
      return op->emitOpError("per-channel weights need ")
             << channels << " int8 scales along dimension 0";
    if (llvm::any_of(perAxis.getZeroPoints(),
                     [](int64_t zp) { return zp != 0; }))
      return op->emitOpError("weights must be symmetric (zero points 0)");
    return success();
  }
  auto perTensor = dyn_cast<quant::UniformQuantizedType>(element);
  if (!perTensor || perTensor.getStorageTypeIntegralWidth() != 8)
    return op->emitOpError("weights must be int8 quantized, got ") << element;
  if (perTensor.getZeroPoint() != 0)
    return op->emitOpError("weights must be symmetric (zero point 0)");
  return success();
}

/// Checks the bias (int32, one per output channel).
static LogicalResult requireBias(Operation *op, Value bias,
                                 int64_t channels) {
  if (!bias)
    return success();
  auto integer = dyn_cast<IntegerType>(elementTypeOf(bias));
  if (!integer || integer.getWidth() != 32 ||
      shapeOf(bias) != ArrayRef<int64_t>{channels})
    return op->emitOpError("bias must be a tensor of ")
           << channels << " int32 values";
  return success();
}

/// Checks one multiplier/shift per channel, and their ranges.
static LogicalResult requireRequant(Operation *op, ArrayRef<int32_t> mults,
                                    ArrayRef<int32_t> shifts,
                                    int64_t channels) {
  if (static_cast<int64_t>(mults.size()) != channels ||
      static_cast<int64_t>(shifts.size()) != channels)
    return op->emitOpError("expected ")
           << channels << " multipliers and shifts, got " << mults.size()
           << " and " << shifts.size();
  for (auto [m, s] : llvm::zip(mults, shifts))
    if (m < 0 || s < -31 || s > 30)
      return op->emitOpError("multiplier ")
             << m << " / shift " << s
             << " out of range (multiplier >= 0, shift in [-31, 30])";
  return success();
}

/// Checks an activation range inside int8.
static LogicalResult requireActRange(Operation *op, int32_t lo, int32_t hi) {
  if (lo < -128 || hi > 127 || lo > hi)
    return op->emitOpError("activation range [")
           << lo << ", " << hi << "] must lie in [-128, 127] with min <= max";
  return success();
}

LogicalResult QConv2DOp::verify() {
  ArrayRef<int64_t> x = shapeOf(getInput()), w = shapeOf(getWeight());
  if (x.size() != 4 || w.size() != 4)
    return emitOpError("expected NHWC input and OHWI weight of rank 4");
  if (failed(requireActivation(*this, getInput(), "input")) ||
      failed(requireActivation(*this, getOutput(), "result")) ||
      failed(requireWeight(*this, getWeight(), w[0])) ||
      failed(requireBias(*this, getBias(), w[0])) ||
      failed(requireRequant(*this, getMultipliers(), getShifts(), w[0])) ||
      failed(requireActRange(*this, getActMin(), getActMax())))
    return failure();
  int64_t group = getGroup();
  // Reuse the NCHW shape rule on permuted shapes.
  SmallVector<int64_t> nchw = {x[0], x[3], x[1], x[2]};
  SmallVector<int64_t> oihw = {w[0], w[3], w[1], w[2]};
  ArrayRef<int64_t> pads = getPads();
  if (pads.size() != 4)
    return emitOpError("expected 4 pads [top, left, bottom, right]");
  auto expected = inferConvShape(nchw, oihw, getStrides(), pads,
                                 getDilations(), group, opErrorFn(*this));
  if (failed(expected))
    return failure();
  SmallVector<int64_t> nhwc = {(*expected)[0], (*expected)[2], (*expected)[3],
                               (*expected)[1]};
  return verifyResultShape(*this, nhwc);
}

LogicalResult QFullyConnectedOp::verify() {
  ArrayRef<int64_t> x = shapeOf(getInput()), w = shapeOf(getWeight());
  if (x.size() != 2 || w.size() != 2 || x[1] != w[1])
    return emitOpError("expected input [N, K] and weight [M, K], got ")
           << formatShape(x) << " and " << formatShape(w);
  if (failed(requireActivation(*this, getInput(), "input")) ||
      failed(requireActivation(*this, getOutput(), "result")) ||
      failed(requireWeight(*this, getWeight(), w[0])) ||
      failed(requireBias(*this, getBias(), w[0])) ||
      failed(requireRequant(*this, getMultipliers(), getShifts(), w[0])) ||
      failed(requireActRange(*this, getActMin(), getActMax())))
    return failure();
  SmallVector<int64_t> expected = {x[0], w[0]};
  return verifyResultShape(*this, expected);
}

/// Verifies an NHWC int8 pooling op.
template <typename OpTy> static LogicalResult verifyQPool(OpTy op) {
  ArrayRef<int64_t> x = shapeOf(op.getInput());
  if (x.size() != 4)
    return op.emitOpError("expected an NHWC input of rank 4");
  if (failed(requireActivation(op, op.getInput(), "input")) ||
      failed(requireActRange(op, op.getActMin(), op.getActMax())))
    return failure();
  if (op.getInput().getType().getElementType() !=
      op.getType().getElementType())
    return op.emitOpError("input and result must share their quantization");
  SmallVector<int64_t> nchw = {x[0], x[3], x[1], x[2]};
  SmallVector<int64_t> dilations = {1, 1};
  auto expected = inferPoolShape(nchw, op.getKernelShape(), op.getStrides(),
                                 op.getPads(), dilations, op.getCeilMode(),
                                 opErrorFn(op));
  if (failed(expected))
    return failure();
  SmallVector<int64_t> nhwc = {(*expected)[0], (*expected)[2], (*expected)[3],
                               (*expected)[1]};
  return verifyResultShape(op, nhwc);
}

LogicalResult QAvgPool2DOp::verify() { return verifyQPool(*this); }
LogicalResult QMaxPool2DOp::verify() { return verifyQPool(*this); }

LogicalResult QGlobalAvgPool2DOp::verify() {
  ArrayRef<int64_t> x = shapeOf(getInput());
  if (x.size() != 4)
    return emitOpError("expected an NHWC input of rank 4");
  if (failed(requireActivation(*this, getInput(), "input")) ||
      failed(requireActivation(*this, getOutput(), "result")) ||
      failed(requireActRange(*this, getActMin(), getActMax())))
    return failure();
  SmallVector<int64_t> expected = {x[0], 1, 1, x[3]};
  return verifyResultShape(*this, expected);
}

/// Verifies a broadcasting int8 binary op.
static LogicalResult verifyQBinary(Operation *op, Value lhs, Value rhs,
                                   int32_t actMin, int32_t actMax) {
  if (failed(requireActivation(op, lhs, "lhs")) ||
      failed(requireActivation(op, rhs, "rhs")) ||
      failed(requireActivation(op, op->getResult(0), "result")) ||
      failed(requireActRange(op, actMin, actMax)))
    return failure();
  auto expected =
      inferBroadcastShape(shapeOf(lhs), shapeOf(rhs), opErrorFn(op));
  if (failed(expected))
    return failure();
  return verifyResultShape(op, *expected);
}

LogicalResult QAddOp::verify() {
  return verifyQBinary(*this, getLhs(), getRhs(), getActMin(), getActMax());
}

LogicalResult QMulOp::verify() {
  return verifyQBinary(*this, getLhs(), getRhs(), getActMin(), getActMax());
}

LogicalResult QConcatOp::verify() {
  SmallVector<ArrayRef<int64_t>> shapes;
  for (Value input : getInputs()) {
    if (failed(requireActivation(*this, input, "input")))
      return failure();
    shapes.push_back(shapeOf(input));
  }
  if (failed(requireActivation(*this, getOutput(), "result")))
    return failure();
  int64_t count = getInputs().size();
  if (failed(requireRequant(*this, getMultipliers(), getShifts(), count)))
    return failure();
  auto expected = inferConcatShape(shapes, getAxis(), opErrorFn(*this));
  if (failed(expected))
    return failure();
  return verifyResultShape(*this, *expected);
}

LogicalResult QSoftmaxOp::verify() {
  if (failed(requireActivation(*this, getInput(), "input")) ||
      failed(requireActivation(*this, getOutput(), "result")))
    return failure();
  if (getTable().size() != 256)
    return emitOpError("the exp table must have 256 entries, got ")
           << getTable().size();
  auto out = perTensorInt8(getOutput());
  if (out.getScale() != 1.0 / 256.0 || out.getZeroPoint() != -128)
    return emitOpError("the result must have scale 1/256 and zero point "
                       "-128");
  return verifyResultShape(*this, shapeOf(getInput()));
}

LogicalResult QClampOp::verify() {
  if (failed(requireActivation(*this, getInput(), "input")) ||
      failed(requireActRange(*this, getMin(), getMax())))
    return failure();
  if (getInput().getType() != getType())
    return emitOpError("input and result types must be equal");
  return success();
}

LogicalResult QuantizeOp::verify() {
  if (!elementTypeOf(getInput()).isF32())
    return emitOpError("input must be float32");
  if (failed(requireActivation(*this, getOutput(), "result")))
    return failure();
  return verifyResultShape(*this, shapeOf(getInput()));
}

LogicalResult DequantizeOp::verify() {
  if (failed(requireActivation(*this, getInput(), "input")))
    return failure();
  if (!getType().getElementType().isF32())
    return emitOpError("result must be float32");
  return verifyResultShape(*this, shapeOf(getInput()));
}

LogicalResult RequantizeOp::verify() {
  if (failed(requireActivation(*this, getInput(), "input")) ||
      failed(requireActivation(*this, getOutput(), "result")))
    return failure();
  if (getShift() < -31 || getShift() > 30 || getMultiplier() < 0)
    return emitOpError("multiplier / shift out of range");
  return verifyResultShape(*this, shapeOf(getInput()));
}
