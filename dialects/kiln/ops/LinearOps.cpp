//===- LinearOps.cpp - Verifiers of convolutions and products ---*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// Shape checks of conv, conv_transpose, matmul, gemm, einsum and their
// integer / QLinear forms, through the shape functions of KilnShapes.h.
//
//===----------------------------------------------------------------------===//

#include "dialects/kiln/KilnOpsUtils.h"

using namespace mlir;
using namespace mlir::kiln;
using namespace mlir::kiln::detail;

/// Verifies the conv-shaped op |op| (input, weight, optional 1-D bias).
static LogicalResult verifyConvLike(Operation *op, Value input, Value weight,
                                    Value bias, ArrayRef<int64_t> strides,
                                    ArrayRef<int64_t> pads,
                                    ArrayRef<int64_t> dilations,
                                    int64_t group) {
  auto expected = inferConvShape(shapeOf(input), shapeOf(weight), strides,
                                 pads, dilations, group, opErrorFn(op));
  if (failed(expected))
    return failure();
  if (bias && shapeOf(bias) != ArrayRef<int64_t>{(*expected)[1]})
    return op->emitOpError("bias must have shape ")
           << (*expected)[1] << " (one per output channel), got "
           << formatShape(shapeOf(bias));
  return verifyResultShape(op, *expected);
}

LogicalResult ConvOp::verify() {
  return verifyConvLike(*this, getInput(), getWeight(), getBias(),
                        getStrides(), getPads(), getDilations(), getGroup());
}

LogicalResult ConvIntegerOp::verify() {
  return verifyConvLike(*this, getInput(), getWeight(), nullptr,
                        getStrides(), getPads(), getDilations(), getGroup());
}

LogicalResult QLinearConvOp::verify() {
  return verifyConvLike(*this, getInput(), getWeight(), getBias(),
                        getStrides(), getPads(), getDilations(), getGroup());
}

LogicalResult ConvTransposeOp::verify() {
  auto expected = inferConvTransposeShape(
      shapeOf(getInput()), shapeOf(getWeight()), getStrides(), getPads(),
      getDilations(), getOutputPadding(), getGroup(), opErrorFn(*this));
  if (failed(expected))
    return failure();
  if (getBias() && shapeOf(getBias()) != ArrayRef<int64_t>{(*expected)[1]})
    return emitOpError("bias must have shape ")
           << (*expected)[1] << " (one per output channel), got "
           << formatShape(shapeOf(getBias()));
  return verifyResultShape(*this, *expected);
}

/// Verifies a numpy-matmul-shaped op.
static LogicalResult verifyMatMulLike(Operation *op, Value lhs, Value rhs) {
  auto expected = inferMatMulShape(shapeOf(lhs), shapeOf(rhs), opErrorFn(op));
  if (failed(expected))
    return failure();
  return verifyResultShape(op, *expected);
}

LogicalResult MatMulOp::verify() {
  return verifyMatMulLike(*this, getLhs(), getRhs());
}

LogicalResult MatMulIntegerOp::verify() {
  return verifyMatMulLike(*this, getLhs(), getRhs());
}

LogicalResult QLinearMatMulOp::verify() {
  return verifyMatMulLike(*this, getLhs(), getRhs());
}

LogicalResult GemmOp::verify() {
  std::optional<ArrayRef<int64_t>> c;
  if (getC())
    c = shapeOf(getC());
  auto expected = inferGemmShape(shapeOf(getA()), shapeOf(getB()), c,
                                 getTransA(), getTransB(), opErrorFn(*this));
  if (failed(expected))
    return failure();
  return verifyResultShape(*this, *expected);
}

LogicalResult EinsumOp::verify() {
  SmallVector<ArrayRef<int64_t>> shapes;
  for (Value input : getInputs())
    shapes.push_back(shapeOf(input));
  auto expected = inferEinsumShape(getEquation(), shapes, opErrorFn(*this));
  if (failed(expected))
    return failure();
  return verifyResultShape(*this, *expected);
}
