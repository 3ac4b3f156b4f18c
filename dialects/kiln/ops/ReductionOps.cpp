//===- ReductionOps.cpp - Verifiers of reductions ---------------*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// Axis and result-shape checks of reduce_*, argmax/argmin and topk.
//
//===----------------------------------------------------------------------===//

#include "dialects/kiln/KilnOpsUtils.h"

using namespace mlir;
using namespace mlir::kiln;
using namespace mlir::kiln::detail;

/// Verifies a reduce_* op.
template <typename OpTy> static LogicalResult verifyReduce(OpTy op) {
  auto expected = inferReduceShape(shapeOf(op.getInput()), op.getAxes(),
                                   op.getKeepdims(), opErrorFn(op));
  if (failed(expected))
    return failure();
  return verifyResultShape(op, *expected);
}

LogicalResult ReduceSumOp::verify() { return verifyReduce(*this); }
LogicalResult ReduceMeanOp::verify() { return verifyReduce(*this); }
LogicalResult ReduceMaxOp::verify() { return verifyReduce(*this); }
LogicalResult ReduceMinOp::verify() { return verifyReduce(*this); }
LogicalResult ReduceProdOp::verify() { return verifyReduce(*this); }
LogicalResult ReduceL1Op::verify() { return verifyReduce(*this); }
LogicalResult ReduceL2Op::verify() { return verifyReduce(*this); }
LogicalResult ReduceLogSumOp::verify() { return verifyReduce(*this); }
LogicalResult ReduceLogSumExpOp::verify() { return verifyReduce(*this); }
LogicalResult ReduceSumSquareOp::verify() { return verifyReduce(*this); }

/// Verifies argmax / argmin.
template <typename OpTy> static LogicalResult verifyArgReduce(OpTy op) {
  int64_t axis = op.getAxis();
  if (failed(verifyAxis(op, axis, shapeOf(op.getInput()).size())))
    return failure();
  int64_t axes[] = {axis};
  auto expected = inferReduceShape(shapeOf(op.getInput()), axes,
                                   op.getKeepdims(), opErrorFn(op));
  if (failed(expected))
    return failure();
  return verifyResultShape(op, *expected);
}

LogicalResult ArgMaxOp::verify() { return verifyArgReduce(*this); }
LogicalResult ArgMinOp::verify() { return verifyArgReduce(*this); }

LogicalResult TopKOp::verify() {
  ArrayRef<int64_t> input = shapeOf(getInput());
  int64_t axis = static_cast<int64_t>(getAxis());
  int64_t k = static_cast<int64_t>(getK());
  if (failed(verifyAxis(*this, axis, input.size())))
    return failure();
  if (k < 0 || k > input[axis])
    return emitOpError("k = ") << k << " must be in [0, " << input[axis] << "]";
  SmallVector<int64_t> expected(input);
  expected[axis] = k;
  if (failed(verifyShape(*this, getValues(), expected, "values")))
    return failure();
  return verifyShape(*this, getIndices(), expected, "indices");
}
