//===- FuseActivations.cpp - kiln-fuse-activations --------------*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// Folds kiln.qclamp into the activation range of the int8 kernel that
// produces its input (see Passes.td).
//
//===----------------------------------------------------------------------===//

#include "passes/graph/Passes.h"

#include "dialects/kiln/KilnOps.h"

#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::kiln {

#define GEN_PASS_DEF_KILNFUSEACTIVATIONSPASS
#include "passes/graph/Passes.h.inc"

namespace {

/// qclamp(kernel(...)) -> kernel(...) with the intersected range, for the
/// kernels that carry act_min / act_max.
template <typename KernelOp>
struct FuseClamp final : OpRewritePattern<QClampOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(QClampOp clamp,
                                PatternRewriter &rewriter) const override {
    // A clamp commutes with single-use layout ops (transpose, reshape)
    // between it and the kernel: look through them.
    Value source = clamp.getInput();
    while (Operation *def = source.getDefiningOp()) {
      if (!isa<TransposeOp, ReshapeOp>(def) || !def->hasOneUse())
        break;
      source = def->getOperand(0);
    }
    auto kernel = source.getDefiningOp<KernelOp>();
    if (!kernel)
      return rewriter.notifyMatchFailure(clamp, "producer is not a kernel");
    if (!kernel->hasOneUse())
      return rewriter.notifyMatchFailure(clamp, "producer has other uses");
    if (kernel.getType().getElementType() != clamp.getType().getElementType())
      return rewriter.notifyMatchFailure(clamp, "quantization differs");
    int32_t lo = std::max<int32_t>(kernel.getActMin(), clamp.getMin());
    int32_t hi = std::min<int32_t>(kernel.getActMax(), clamp.getMax());
    if (lo > hi)
      lo = hi; // an empty range clamps everything to one value
    rewriter.modifyOpInPlace(kernel, [&] {
      kernel.setActMin(lo);
      kernel.setActMax(hi);
      kernel->setLoc(
          FusedLoc::get(getContext(), {kernel.getLoc(), clamp.getLoc()}));
    });
    rewriter.replaceOp(clamp, clamp.getInput());
    return success();
  }
};

struct KilnFuseActivationsPass final
    : impl::KilnFuseActivationsPassBase<KilnFuseActivationsPass> {
  using Base::Base;

  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<FuseClamp<QConv2DOp>, FuseClamp<QFullyConnectedOp>,
                 FuseClamp<QAddOp>, FuseClamp<QMulOp>, FuseClamp<QAvgPool2DOp>,
                 FuseClamp<QMaxPool2DOp>, FuseClamp<QGlobalAvgPool2DOp>>(
        &getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
  }
};

} // namespace
} // namespace mlir::kiln
