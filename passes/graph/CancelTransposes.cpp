//===- CancelTransposes.cpp - kiln-cancel-transposes ------------*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// Transpose simplification (see Passes.td): composition, identity removal,
// transposes of size-1 dimensions as reshapes, and sinking transposes
// through layout-agnostic unary ops (quantize, dequantize, qclamp, cast,
// unary elementwise) so layout pairs meet, and through same-shape binary
// int8 ops (qadd, qmul) whose operands are both transposed the same way.
//
//===----------------------------------------------------------------------===//

#include "passes/graph/Passes.h"

#include "dialects/kiln/KilnOps.h"

#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::kiln {

#define GEN_PASS_DEF_KILNCANCELTRANSPOSESPASS
#include "passes/graph/Passes.h.inc"

namespace {

/// transpose(transpose(x, p), q) -> transpose(x, p o q).
struct ComposeTransposes final : OpRewritePattern<TransposeOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(TransposeOp op,
                                PatternRewriter &rewriter) const override {
    auto inner = op.getInput().getDefiningOp<TransposeOp>();
    if (!inner)
      return rewriter.notifyMatchFailure(op, "input is not a transpose");
    SmallVector<int64_t> perm;
    for (int64_t p : op.getPerm())
      perm.push_back(inner.getPerm()[p]);
    rewriter.replaceOpWithNewOp<TransposeOp>(op, op.getType(),
                                             inner.getInput(),
                                             rewriter.getDenseI64ArrayAttr(perm));
    return success();
  }
};

/// transpose with the identity permutation -> its input.
struct RemoveIdentityTranspose final : OpRewritePattern<TransposeOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(TransposeOp op,
                                PatternRewriter &rewriter) const override {
    for (auto [i, p] : llvm::enumerate(op.getPerm()))
      if (static_cast<int64_t>(i) != p)
        return rewriter.notifyMatchFailure(op, "not the identity");
    rewriter.replaceOp(op, op.getInput());
    return success();
  }
};

/// A transpose that keeps the order of all non-unit dimensions moves no
/// element: it is a reshape.
struct TransposeAsReshape final : OpRewritePattern<TransposeOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(TransposeOp op,
                                PatternRewriter &rewriter) const override {
    ArrayRef<int64_t> in = op.getInput().getType().getShape();
    int64_t last = -1;
    for (int64_t p : op.getPerm()) {
      if (in[p] == 1)
        continue;
      if (p < last)
        return rewriter.notifyMatchFailure(op, "moves data");
      last = p;
    }
    rewriter.replaceOpWithNewOp<ReshapeOp>(op, op.getType(), op.getInput());
    return success();
  }
};

/// op(transpose(x)) -> transpose(op(x)) for single-input ops that act per
/// element, so a following transpose can cancel this one.
template <typename OpTy>
struct SinkTransposeThrough final : OpRewritePattern<OpTy> {
  using OpRewritePattern<OpTy>::OpRewritePattern;

  LogicalResult matchAndRewrite(OpTy op,
                                PatternRewriter &rewriter) const override {
    auto transpose = op->getOperand(0).template getDefiningOp<TransposeOp>();
    if (!transpose || !transpose->hasOneUse())
      return rewriter.notifyMatchFailure(op, "input is not a transpose");
    // Only worth it when the result feeds another transpose.
    if (!op->hasOneUse() || !isa<TransposeOp>(*op->getUsers().begin()))
      return rewriter.notifyMatchFailure(op, "no transpose to meet");
    auto resultType = cast<RankedTensorType>(op.getType());
    auto inputType = transpose.getInput().getType();
    auto newType =
        RankedTensorType::get(inputType.getShape(), resultType.getElementType());
    Operation *moved = rewriter.clone(*op);
    moved->setOperand(0, transpose.getInput());
    moved->getResult(0).setType(newType);
    rewriter.replaceOpWithNewOp<TransposeOp>(op, resultType,
                                             moved->getResult(0),
                                             transpose.getPermAttr());
    return success();
  }
};

/// op(transpose(a, p), transpose(b, p)) -> transpose(op(a, b), p) for
/// same-shape binary elementwise ops: one transpose instead of two, and the
/// remaining one can meet the next (residual adds of NHWC int8 programs run
/// in NHWC instead of being wrapped in three layout changes).
template <typename OpTy>
struct SinkTransposeThroughBinary final : OpRewritePattern<OpTy> {
  using OpRewritePattern<OpTy>::OpRewritePattern;

  LogicalResult matchAndRewrite(OpTy op,
                                PatternRewriter &rewriter) const override {
    auto lhs = op->getOperand(0).template getDefiningOp<TransposeOp>();
    auto rhs = op->getOperand(1).template getDefiningOp<TransposeOp>();
    if (!lhs || !rhs)
      return rewriter.notifyMatchFailure(op, "an operand is not a transpose");
    if (lhs.getPerm() != rhs.getPerm() ||
        lhs.getInput().getType().getShape() !=
            rhs.getInput().getType().getShape())
      return rewriter.notifyMatchFailure(op, "operands transposed differently");
    auto resultType = cast<RankedTensorType>(op.getType());
    if (lhs.getType().getShape() != resultType.getShape() ||
        rhs.getType().getShape() != resultType.getShape())
      return rewriter.notifyMatchFailure(op, "broadcasting");
    auto newType = RankedTensorType::get(lhs.getInput().getType().getShape(),
                                         resultType.getElementType());
    Operation *moved = rewriter.clone(*op);
    moved->setOperand(0, lhs.getInput());
    moved->setOperand(1, rhs.getInput());
    moved->getResult(0).setType(newType);
    rewriter.replaceOpWithNewOp<TransposeOp>(op, resultType,
                                             moved->getResult(0),
                                             lhs.getPermAttr());
    return success();
  }
};

struct KilnCancelTransposesPass final
    : impl::KilnCancelTransposesPassBase<KilnCancelTransposesPass> {
  using Base::Base;

  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    populateKilnCancelTransposesPatterns(patterns);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
  }
};

} // namespace

void populateKilnCancelTransposesPatterns(RewritePatternSet &patterns) {
  MLIRContext *context = patterns.getContext();
  patterns.add<ComposeTransposes, RemoveIdentityTranspose, TransposeAsReshape,
               SinkTransposeThrough<QuantizeOp>,
               SinkTransposeThrough<DequantizeOp>,
               SinkTransposeThrough<QClampOp>, SinkTransposeThrough<CastOp>,
               SinkTransposeThrough<ReluOp>, SinkTransposeThrough<ClipOp>,
               SinkTransposeThroughBinary<QAddOp>,
               SinkTransposeThroughBinary<QMulOp>>(
      context);
}

} // namespace mlir::kiln
