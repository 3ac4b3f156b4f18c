//===- FoldQdq.cpp - kiln-fold-qdq ------------------------------*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// Removes ONNX activation quantize/dequantize pairs, recording their exact
// parameters for the int8 lowering (see Passes.td).
//
//===----------------------------------------------------------------------===//

#include "passes/quant/Passes.h"

#include "compiler/support/Numeric.h"
#include "compiler/support/TensorAttr.h"
#include "dialects/kiln/KilnOps.h"

namespace mlir::kiln {

#define GEN_PASS_DEF_KILNFOLDQDQPASS
#include "passes/quant/Passes.h.inc"

namespace {

/// Reads a scalar constant.
std::optional<double> scalarOf(Value value) {
  auto constant = value ? value.getDefiningOp<ConstantOp>() : ConstantOp();
  if (!constant)
    return std::nullopt;
  std::optional<::kiln::Tensor> t = ::kiln::fromElementsAttr(
      constant.getValue());
  if (!t || t->numElements() != 1)
    return std::nullopt;
  return ::kiln::loadFloat(*t, 0);
}

struct KilnFoldQdqPass final : impl::KilnFoldQdqPassBase<KilnFoldQdqPass> {
  using Base::Base;

  void runOnOperation() override {
    SmallVector<DequantizeLinearOp> pairs;
    getOperation().walk([&](DequantizeLinearOp dq) { pairs.push_back(dq); });
    for (DequantizeLinearOp dq : pairs) {
      auto q = dq.getInput().getDefiningOp<QuantizeLinearOp>();
      if (!q || dq.getBlockSize() != 0 || q.getBlockSize() != 0)
        continue;
      std::optional<double> s1 = scalarOf(q.getScale()),
                            s2 = scalarOf(dq.getScale());
      std::optional<double> z1 = q.getZeroPoint() ? scalarOf(q.getZeroPoint())
                                                  : std::optional<double>(0.0);
      std::optional<double> z2 = dq.getZeroPoint()
                                     ? scalarOf(dq.getZeroPoint())
                                     : std::optional<double>(0.0);
      if (!s1 || !s2 || !z1 || !z2 || *s1 != *s2 || *z1 != *z2)
        continue;
      auto storage = dyn_cast<IntegerType>(
          cast<RankedTensorType>(q.getType()).getElementType());
      if (!storage || storage.getWidth() != 8)
        continue;
      // uint8 values v map to int8 v - 128 on the same real grid.
      int32_t zeroPoint = static_cast<int32_t>(*z1) -
                          (storage.isUnsigned() ? 128 : 0);
      Value x = q.getInput();
      setQParams(x, *s1, zeroPoint);
      dq.getResult().replaceAllUsesWith(x);
      dq.erase();
      if (q->use_empty())
        q.erase();
    }
  }
};

} // namespace
} // namespace mlir::kiln
