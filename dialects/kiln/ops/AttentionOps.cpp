//===- AttentionOps.cpp - Verifiers of attention ops ------------*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// Head-layout checks of kiln.attention: all operands are 4-D
// B x heads x S x head_dim after import.
//
//===----------------------------------------------------------------------===//

#include "dialects/kiln/KilnOpsUtils.h"

using namespace mlir;
using namespace mlir::kiln;
using namespace mlir::kiln::detail;

LogicalResult AttentionOp::verify() {
  ArrayRef<int64_t> q = shapeOf(getQuery()), k = shapeOf(getKey()),
                    v = shapeOf(getValue());
  if (q.size() != 4 || k.size() != 4 || v.size() != 4)
    return emitOpError("query, key and value must be 4-D (B x heads x S x "
                       "head_dim)");
  if (q[0] != k[0] || q[0] != v[0])
    return emitOpError("batch sizes differ");
  if (k[1] != v[1] || q[1] % k[1] != 0)
    return emitOpError("query heads (")
           << q[1] << ") must be a multiple of key/value heads (" << k[1]
           << ")";
  if (q[3] != k[3])
    return emitOpError("query and key head sizes differ: ")
           << q[3] << " vs " << k[3];
  int64_t qkMode = getQkMatmulOutputMode();
  if (qkMode < 0 || qkMode > 3)
    return emitOpError("qk_matmul_output_mode must be 0 to 3, got ") << qkMode;
  SmallVector<int64_t> expected = {q[0], q[1], q[2], v[3]};
  return verifyResultShape(*this, expected);
}
