//===- CancelTransposes.cpp - kiln-cancel-transposes ------------*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// Transpose simplification (see Passes.td): composition, identity removal,
// transposes of size-1 dimensions as reshapes, and sinking transposes
// through layout-agnostic ops (quantize, dequantize, qclamp, requantize,
// cast, unary elementwise; same-shape qadd/qmul and qconcat when every
// operand is transposed alike) so layout pairs meet.
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

/// Returns the transposes feeding every operand of |op| when they all have
/// the same permutation and input shape (no broadcasting), else nothing.
static SmallVector<TransposeOp> sameTransposes(Operation *op) {
  SmallVector<TransposeOp> transposes;
  for (Value operand : op->getOperands()) {
    auto t = operand.getDefiningOp<TransposeOp>();
    if (!t || (!transposes.empty() &&
               (t.getPerm() != transposes.front().getPerm())))
      return {};
    transposes.push_back(t);
  }
  return transposes;
}

/// Worth moving a transpose below |op| when one of its input transposes
/// then dies, or the result meets another transpose.
static bool worthSinking(Operation *op, ArrayRef<TransposeOp> transposes) {
  if (llvm::any_of(transposes, [](TransposeOp t) { return t->hasOneUse(); }))
    return true;
  return llvm::any_of(op->getUsers(),
                      [](Operation *u) { return isa<TransposeOp>(u); });
}

/// op(transpose(a, p), transpose(b, p)) -> transpose(op(a, b), p) for
/// same-shape binary int8 ops (a residual add between two NHWC convolutions
/// whose float graph added in NCHW): the add runs in the producers' layout
/// and the transposes around it cancel.
template <typename OpTy>
struct SinkTransposeThroughBinary final : OpRewritePattern<OpTy> {
  using OpRewritePattern<OpTy>::OpRewritePattern;

  LogicalResult matchAndRewrite(OpTy op,
                                PatternRewriter &rewriter) const override {
    SmallVector<TransposeOp> transposes = sameTransposes(op);
    if (transposes.size() != 2 ||
        transposes[0].getInput().getType().getShape() !=
            transposes[1].getInput().getType().getShape())
      return rewriter.notifyMatchFailure(op, "operands are not transposes "
                                             "of one layout");
    if (!worthSinking(op, transposes))
      return rewriter.notifyMatchFailure(op, "no transpose would go away");
    auto resultType = cast<RankedTensorType>(op.getType());
    auto newType =
        RankedTensorType::get(transposes[0].getInput().getType().getShape(),
                              resultType.getElementType());
    Operation *moved = rewriter.clone(*op);
    moved->setOperand(0, transposes[0].getInput());
    moved->setOperand(1, transposes[1].getInput());
    moved->getResult(0).setType(newType);
    rewriter.replaceOpWithNewOp<TransposeOp>(op, resultType,
                                             moved->getResult(0),
                                             transposes[0].getPermAttr());
    return success();
  }
};

/// qconcat(transpose(a, p), transpose(b, p), ..., axis) ->
/// transpose(qconcat(a, b, ..., p[axis]), p).
struct SinkTransposeThroughConcat final : OpRewritePattern<QConcatOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(QConcatOp op,
                                PatternRewriter &rewriter) const override {
    SmallVector<TransposeOp> transposes = sameTransposes(op);
    if (transposes.empty())
      return rewriter.notifyMatchFailure(op, "inputs are not transposes of "
                                             "one layout");
    if (!worthSinking(op, transposes))
      return rewriter.notifyMatchFailure(op, "no transpose would go away");
    ArrayRef<int64_t> perm = transposes[0].getPerm();
    int64_t axis = perm[op.getAxis()];
    SmallVector<Value> inputs;
    for (TransposeOp t : transposes)
      inputs.push_back(t.getInput());
    auto resultType = op.getType();
    SmallVector<int64_t> shape(resultType.getRank());
    for (auto [i, p] : llvm::enumerate(perm))
      shape[p] = resultType.getDimSize(i);
    auto newType = RankedTensorType::get(shape, resultType.getElementType());
    Operation *moved = rewriter.clone(*op);
    moved->setOperands(inputs);
    cast<QConcatOp>(moved).setAxis(axis);
    moved->getResult(0).setType(newType);
    rewriter.replaceOpWithNewOp<TransposeOp>(op, resultType,
                                             moved->getResult(0),
                                             transposes[0].getPermAttr());
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
               SinkTransposeThrough<RequantizeOp>,
               SinkTransposeThroughBinary<QAddOp>,
               SinkTransposeThroughBinary<QMulOp>,
               SinkTransposeThroughConcat>(context);
}

} // namespace mlir::kiln
