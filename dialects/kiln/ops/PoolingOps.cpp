//===- PoolingOps.cpp - Verifiers of pooling ops ----------------*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// Window and result-shape checks of the sliding-window and global pools.
//
//===----------------------------------------------------------------------===//

#include "dialects/kiln/KilnOpsUtils.h"

using namespace mlir;
using namespace mlir::kiln;
using namespace mlir::kiln::detail;

/// Verifies a sliding-window pooling op's first result.
template <typename OpTy> static LogicalResult verifyPool(OpTy op) {
  auto expected = inferPoolShape(shapeOf(op.getInput()), op.getKernelShape(),
                                 op.getStrides(), op.getPads(),
                                 op.getDilations(), op.getCeilMode(),
                                 opErrorFn(op));
  if (failed(expected))
    return failure();
  return verifyResultShape(op, *expected);
}

LogicalResult MaxPoolOp::verify() { return verifyPool(*this); }
LogicalResult AvgPoolOp::verify() { return verifyPool(*this); }
LogicalResult LpPoolOp::verify() { return verifyPool(*this); }

LogicalResult MaxPoolWithIndicesOp::verify() {
  if (failed(verifyPool(*this)))
    return failure();
  if (getStorageOrder() != 0 && getStorageOrder() != 1)
    return emitOpError("storage_order must be 0 or 1, got ")
           << getStorageOrder();
  return verifyShape(*this, getIndices(), shapeOf(getOutput()), "indices");
}

/// Verifies a global pooling op: every spatial dimension becomes 1.
static LogicalResult verifyGlobalPool(Operation *op) {
  ArrayRef<int64_t> input = shapeOf(op->getOperand(0));
  if (input.size() < 3)
    return op->emitOpError("expected input of rank >= 3 (N x C x spatial), "
                           "got rank ")
           << input.size();
  SmallVector<int64_t> expected(input.begin(), input.begin() + 2);
  expected.append(input.size() - 2, 1);
  return verifyResultShape(op, expected);
}

LogicalResult GlobalAvgPoolOp::verify() { return verifyGlobalPool(*this); }
LogicalResult GlobalMaxPoolOp::verify() { return verifyGlobalPool(*this); }
LogicalResult GlobalLpPoolOp::verify() { return verifyGlobalPool(*this); }
