//===- FoldBatchNorm.cpp - kiln-fold-batch-norm -----------------*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// Folds inference BatchNorm into the preceding conv or gemm, or rewrites it
// as a per-channel multiply-add (see Passes.td). Arithmetic is done in
// double on the constants and rounded once to their element type.
//
//===----------------------------------------------------------------------===//

#include "passes/graph/Passes.h"

#include "compiler/support/Numeric.h"
#include "compiler/support/TensorAttr.h"
#include "dialects/kiln/KilnOps.h"

#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

#include <cmath>

namespace mlir::kiln {

#define GEN_PASS_DEF_KILNFOLDBATCHNORMPASS
#include "passes/graph/Passes.h.inc"

namespace {

/// Returns the value of |value| when it is a constant.
std::optional<::kiln::Tensor> constantOf(Value value) {
  if (!value)
    return std::nullopt;
  auto constant = value.getDefiningOp<ConstantOp>();
  if (!constant)
    return std::nullopt;
  return ::kiln::fromElementsAttr(constant.getValue());
}

/// Creates a kiln.constant holding |tensor|.
Value makeConstant(PatternRewriter &rewriter, Location loc,
                   const ::kiln::Tensor &tensor) {
  auto type = ::kiln::tensorTypeOf(rewriter.getContext(), tensor);
  return ConstantOp::create(rewriter, loc, type,
                            ::kiln::toElementsAttr(tensor, type, "bn"));
}

/// The per-channel affine form of a BatchNorm: y = x * gain + offset.
struct Affine {
  std::vector<double> gain, offset, mean, beta;
};

std::optional<Affine> affineOf(BatchNormOp bn) {
  auto scale = constantOf(bn.getScale()), bias = constantOf(bn.getBias()),
       mean = constantOf(bn.getMean()), var = constantOf(bn.getVariance());
  if (!scale || !bias || !mean || !var || !::kiln::isFloat(scale->dtype))
    return std::nullopt;
  double eps = bn.getEpsilon().convertToDouble();
  Affine affine;
  for (int64_t c = 0, n = scale->numElements(); c < n; ++c) {
    double g = ::kiln::loadFloat(*scale, c) /
               std::sqrt(::kiln::loadFloat(*var, c) + eps);
    affine.gain.push_back(g);
    affine.mean.push_back(::kiln::loadFloat(*mean, c));
    affine.beta.push_back(::kiln::loadFloat(*bias, c));
    affine.offset.push_back(affine.beta.back() - affine.mean.back() * g);
  }
  return affine;
}

/// batch_norm(conv(x, W, b)) -> conv(x, W * g, (b - mean) * g + beta).
struct FoldIntoConv final : OpRewritePattern<BatchNormOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(BatchNormOp bn,
                                PatternRewriter &rewriter) const override {
    auto conv = bn.getInput().getDefiningOp<ConvOp>();
    if (!conv || !conv->hasOneUse())
      return rewriter.notifyMatchFailure(bn, "input is not a single-use conv");
    auto weight = constantOf(conv.getWeight());
    if (!weight || !::kiln::isFloat(weight->dtype))
      return rewriter.notifyMatchFailure(bn, "conv weight is not constant");
    std::optional<::kiln::Tensor> bias;
    if (conv.getBias() && !(bias = constantOf(conv.getBias())))
      return rewriter.notifyMatchFailure(bn, "conv bias is not constant");
    std::optional<Affine> affine = affineOf(bn);
    if (!affine)
      return rewriter.notifyMatchFailure(bn, "parameters are not constant");
    int64_t channels = weight->shape[0];
    int64_t perChannel = weight->numElements() / channels;
    for (int64_t c = 0; c < channels; ++c)
      for (int64_t i = 0; i < perChannel; ++i) {
        int64_t k = c * perChannel + i;
        ::kiln::storeFloat(*weight, k,
                           ::kiln::loadFloat(*weight, k) * affine->gain[c]);
      }
    ::kiln::Tensor newBias("", weight->dtype, {channels});
    for (int64_t c = 0; c < channels; ++c) {
      double b = bias ? ::kiln::loadFloat(*bias, c) : 0.0;
      ::kiln::storeFloat(newBias, c,
                         (b - affine->mean[c]) * affine->gain[c] +
                             affine->beta[c]);
    }
    Value w = makeConstant(rewriter, conv.getLoc(), *weight);
    Value b = makeConstant(rewriter, conv.getLoc(), newBias);
    auto fused = ConvOp::create(
        rewriter, FusedLoc::get(getContext(), {conv.getLoc(), bn.getLoc()}),
        bn.getType(), conv.getInput(), w, b, conv.getStridesAttr(),
        conv.getPadsAttr(), conv.getDilationsAttr(), conv.getGroupAttr());
    rewriter.replaceOp(bn, fused.getResult());
    rewriter.eraseOp(conv);
    return success();
  }
};

/// batch_norm(gemm(a, B, C)) over the gemm's columns.
struct FoldIntoGemm final : OpRewritePattern<BatchNormOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(BatchNormOp bn,
                                PatternRewriter &rewriter) const override {
    auto gemm = bn.getInput().getDefiningOp<GemmOp>();
    if (!gemm || !gemm->hasOneUse())
      return rewriter.notifyMatchFailure(bn, "input is not a single-use gemm");
    auto b = constantOf(gemm.getB());
    if (!b || !::kiln::isFloat(b->dtype))
      return rewriter.notifyMatchFailure(bn, "gemm B is not constant");
    bool transB = gemm.getTransB();
    int64_t k = transB ? b->shape[1] : b->shape[0];
    int64_t n = transB ? b->shape[0] : b->shape[1];
    std::optional<::kiln::Tensor> c;
    if (gemm.getC()) {
      // Only a C that is the same for every row folds into one bias.
      c = constantOf(gemm.getC());
      bool rowBias =
          c && (c->numElements() == 1 ||
                (c->numElements() == n &&
                 (c->shape.size() == 1 || c->shape[0] == 1)));
      if (!rowBias)
        return rewriter.notifyMatchFailure(bn, "C is not a row bias");
    }
    std::optional<Affine> affine = affineOf(bn);
    if (!affine)
      return rewriter.notifyMatchFailure(bn, "parameters are not constant");
    for (int64_t col = 0; col < n; ++col)
      for (int64_t row = 0; row < k; ++row) {
        int64_t idx = transB ? col * k + row : row * n + col;
        ::kiln::storeFloat(*b, idx,
                           ::kiln::loadFloat(*b, idx) * affine->gain[col]);
      }
    double beta = gemm.getBeta().convertToDouble();
    ::kiln::Tensor bias("", b->dtype, {n});
    for (int64_t col = 0; col < n; ++col) {
      double cv = 0;
      if (c)
        cv = beta * ::kiln::loadFloat(*c, c->numElements() == 1 ? 0 : col);
      ::kiln::storeFloat(bias, col,
                         (cv - affine->mean[col]) * affine->gain[col] +
                             affine->beta[col]);
    }
    Value newB = makeConstant(rewriter, gemm.getLoc(), *b);
    Value newC = makeConstant(rewriter, gemm.getLoc(), bias);
    auto fused = GemmOp::create(
        rewriter, FusedLoc::get(getContext(), {gemm.getLoc(), bn.getLoc()}),
        bn.getType(), gemm.getA(), newB, newC, gemm.getAlphaAttr(),
        rewriter.getF32FloatAttr(1.0f), gemm.getTransAAttr(),
        gemm.getTransBAttr());
    rewriter.replaceOp(bn, fused.getResult());
    rewriter.eraseOp(gemm);
    return success();
  }
};

/// Any other batch_norm: x * gain + offset with [C, 1, ...] constants.
struct DecomposeBatchNorm final : OpRewritePattern<BatchNormOp> {
  DecomposeBatchNorm(MLIRContext *context)
      : OpRewritePattern(context, /*benefit=*/0) {}

  LogicalResult matchAndRewrite(BatchNormOp bn,
                                PatternRewriter &rewriter) const override {
    std::optional<Affine> affine = affineOf(bn);
    if (!affine)
      return rewriter.notifyMatchFailure(bn, "parameters are not constant");
    auto type = bn.getType();
    std::optional<::kiln::DType> dtype =
        ::kiln::fromMlirType(type.getElementType());
    if (!dtype || !::kiln::isFloat(*dtype))
      return rewriter.notifyMatchFailure(bn, "not a float tensor");
    int64_t channels = type.getDimSize(1);
    std::vector<int64_t> shape(type.getRank() - 1, 1);
    shape[0] = channels;
    ::kiln::Tensor gain("", *dtype, shape), offset("", *dtype, shape);
    for (int64_t c = 0; c < channels; ++c) {
      ::kiln::storeFloat(gain, c, affine->gain[c]);
      ::kiln::storeFloat(offset, c, affine->offset[c]);
    }
    Location loc = bn.getLoc();
    Value mul = MulOp::create(rewriter, loc, type, bn.getInput(),
                              makeConstant(rewriter, loc, gain));
    Value add = AddOp::create(rewriter, loc, type, mul,
                              makeConstant(rewriter, loc, offset));
    rewriter.replaceOp(bn, add);
    return success();
  }
};

struct KilnFoldBatchNormPass final
    : impl::KilnFoldBatchNormPassBase<KilnFoldBatchNormPass> {
  using Base::Base;

  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<FoldIntoConv, FoldIntoGemm, DecomposeBatchNorm>(
        &getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
  }
};

} // namespace
} // namespace mlir::kiln
