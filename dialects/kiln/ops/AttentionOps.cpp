//===- AttentionOps.cpp - Verifiers of attention ops ------------*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// Shape checks of kiln.attention (all tensors in the B x heads x S x
// head_dim layout after import; the mask broadcasts to the score shape) and
// of kiln.rotary_embedding.
//
//===----------------------------------------------------------------------===//

#include "dialects/kiln/KilnOpsUtils.h"

using namespace mlir;
using namespace mlir::kiln;
using namespace mlir::kiln::detail;

/// Checks that |mask| broadcasts (right-aligned) to |scores|, except that
/// its last dimension may be shorter (it is padded with masked positions).
static LogicalResult verifyMask(Operation *op, ArrayRef<int64_t> mask,
                                ArrayRef<int64_t> scores) {
  if (mask.empty() || mask.size() > scores.size())
    return op->emitOpError("attention mask must have rank 1 to 4, got ")
           << mask.size();
  size_t offset = scores.size() - mask.size();
  for (size_t d = 0; d < mask.size(); ++d) {
    int64_t want = scores[offset + d];
    bool last = d + 1 == mask.size();
    bool ok = last ? mask[d] <= want : (mask[d] == 1 || mask[d] == want);
    if (!ok)
      return op->emitOpError("attention mask of shape ")
             << formatShape(mask) << " does not broadcast to the scores "
             << formatShape(scores);
  }
  return success();
}

LogicalResult AttentionOp::verify() {
  ArrayRef<int64_t> q = shapeOf(getQuery()), k = shapeOf(getKey()),
                    v = shapeOf(getValue());
  if (q.size() != 4 || k.size() != 4 || v.size() != 4)
    return emitOpError("query, key and value must be 4-D (B x heads x S x "
                       "head_dim)");
  if (q[0] != k[0] || q[0] != v[0])
    return emitOpError("batch sizes differ");
  if (k[1] != v[1] || k[1] == 0 || q[1] % k[1] != 0)
    return emitOpError("query heads (")
           << q[1] << ") must be a multiple of key/value heads (" << k[1]
           << ")";
  if (q[3] != k[3])
    return emitOpError("query and key head sizes differ: ")
           << q[3] << " vs " << k[3];
  if (k[2] != v[2])
    return emitOpError("key and value sequence lengths differ: ")
           << k[2] << " vs " << v[2];
  Type element = elementTypeOf(getQuery());
  if (elementTypeOf(getKey()) != element ||
      elementTypeOf(getValue()) != element)
    return emitOpError("query, key and value must have one element type");
  if (static_cast<bool>(getPastKey()) != static_cast<bool>(getPastValue()))
    return emitOpError("past_key and past_value must be given together");
  int64_t past = 0;
  if (getPastKey()) {
    ArrayRef<int64_t> pk = shapeOf(getPastKey()), pv = shapeOf(getPastValue());
    if (pk.size() != 4 || pv.size() != 4 || pk[0] != k[0] || pk[1] != k[1] ||
        pk[3] != k[3] || pv[0] != v[0] || pv[1] != v[1] || pv[3] != v[3] ||
        pk[2] != pv[2])
      return emitOpError("past key/value shapes ")
             << formatShape(pk) << " and " << formatShape(pv)
             << " do not match key " << formatShape(k) << " and value "
             << formatShape(v);
    past = pk[2];
  }
  int64_t total = past + k[2];
  SmallVector<int64_t> scores = {q[0], q[1], q[2], total};
  if (getAttnMask() &&
      failed(verifyMask(*this, shapeOf(getAttnMask()), scores)))
    return failure();
  if (getNonpadKvSeqlen()) {
    if (getPastKey())
      return emitOpError("nonpad_kv_seqlen cannot be combined with a past "
                         "key/value cache");
    if (shapeOf(getNonpadKvSeqlen()) != ArrayRef<int64_t>{q[0]} ||
        !isa<IntegerType>(elementTypeOf(getNonpadKvSeqlen())))
      return emitOpError("nonpad_kv_seqlen must be an integer vector of ")
             << q[0] << " elements";
  }
  int64_t qkMode = getQkMatmulOutputMode();
  if (qkMode < 0 || qkMode > 3)
    return emitOpError("qk_matmul_output_mode must be 0 to 3, got ") << qkMode;
  // I64Attr getters return the value as uint64_t; the sizes are signed.
  if (static_cast<int64_t>(getLeftWindowSize()) < -1 ||
      static_cast<int64_t>(getRightWindowSize()) < -1)
    return emitOpError("window sizes must be -1 (unbounded) or >= 0");
  if (failed(verifyResultShape(*this, {q[0], q[1], q[2], v[3]})))
    return failure();
  if (getPresentKey() &&
      failed(verifyShape(*this, getPresentKey(), {k[0], k[1], total, k[3]},
                         "present_key")))
    return failure();
  if (getPresentValue() &&
      failed(verifyShape(*this, getPresentValue(), {v[0], v[1], total, v[3]},
                         "present_value")))
    return failure();
  if (getQkMatmulOutput() && failed(verifyShape(*this, getQkMatmulOutput(),
                                                scores, "qk_matmul_output")))
    return failure();
  return success();
}

LogicalResult RotaryEmbeddingOp::verify() {
  ArrayRef<int64_t> x = shapeOf(getInput());
  if (x.size() != 4)
    return emitOpError("input must be 4-D (B x heads x S x head_dim)");
  int64_t rotary = getRotaryEmbeddingDim();
  if (rotary <= 0 || rotary % 2 != 0 || rotary > x[3])
    return emitOpError("rotary_embedding_dim must be even and in (0, ")
           << x[3] << "], got " << rotary;
  ArrayRef<int64_t> cosShape = shapeOf(getCosCache());
  if (shapeOf(getSinCache()) != cosShape)
    return emitOpError("cos and sin caches have different shapes");
  if (getPositionIds()) {
    if (shapeOf(getPositionIds()) != ArrayRef<int64_t>{x[0], x[2]})
      return emitOpError("position_ids must have shape ")
             << x[0] << "x" << x[2];
    if (cosShape.size() != 2 || cosShape[1] != rotary / 2)
      return emitOpError("with position_ids the caches must be "
                         "max_position x ")
             << rotary / 2 << ", got " << formatShape(cosShape);
  } else if (cosShape != ArrayRef<int64_t>{x[0], x[2], rotary / 2}) {
    return emitOpError("without position_ids the caches must be ")
           << x[0] << "x" << x[2] << "x" << rotary / 2 << ", got "
           << formatShape(cosShape);
  }
  return verifyResultShape(*this, x);
}
