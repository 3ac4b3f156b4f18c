//===- Attention.cpp - Converters of attention ONNX ops ---------*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// Attention (opsets 23, 24 with nonpad_kv_seqlen, 25 with sliding windows)
// and RotaryEmbedding (opset 23). ONNX's 3-D forms (B x S x heads*size)
// become the heads layout (B x heads x S x size) with a reshape and a
// transpose, and back; every attribute is written explicitly, including the
// default scale 1/sqrt(head_size), which is resolved in float64 as ONNX's
// reference does.
//
//===----------------------------------------------------------------------===//

#include "compiler/frontend/ImportContext.h"
#include "compiler/frontend/OnnxModel.h"

#include "dialects/kiln/KilnOps.h"

#include <cmath>

using namespace mlir;
using namespace mlir::kiln;

namespace kiln::frontend {
namespace {

/// Returns true for the float types the attention kernels implement.
bool isAttentionType(DType t) {
  return t == DType::F32 || t == DType::F16 || t == DType::BF16 ||
         t == DType::F64;
}

/// Returns the number of significand bits of float type |t| (to order
/// float types by precision).
int precisionBits(DType t) {
  switch (t) {
  case DType::F64:
    return 53;
  case DType::F32:
    return 24;
  case DType::F16:
    return 11;
  case DType::BF16:
    return 8;
  default:
    return 0;
  }
}

/// Reshapes the 3-D |value| (B x S x heads*size) to B x heads x S x size.
Value toHeads(NodeImporter &n, Value value, int64_t heads) {
  auto type = cast<RankedTensorType>(value.getType());
  ArrayRef<int64_t> s = type.getShape();
  Value split = n.reshape(value, {s[0], s[1], heads, s[2] / heads});
  return TransposeOp::create(
      n.builder(), n.loc(),
      n.tensorType({s[0], heads, s[1], s[2] / heads}, type.getElementType()),
      split, n.builder().getDenseI64ArrayAttr({0, 2, 1, 3}));
}

/// Returns the B x heads x S x size |value| as B x S x heads*size.
Value fromHeads(NodeImporter &n, Value value) {
  auto type = cast<RankedTensorType>(value.getType());
  ArrayRef<int64_t> s = type.getShape();
  Value swapped = TransposeOp::create(
      n.builder(), n.loc(),
      n.tensorType({s[0], s[2], s[1], s[3]}, type.getElementType()), value,
      n.builder().getDenseI64ArrayAttr({0, 2, 1, 3}));
  return n.reshape(swapped, {s[0], s[2], s[1] * s[3]});
}

/// Reads a head count attribute that must divide dimension 2 of input |i|.
FailureOr<int64_t> headCount(NodeImporter &n, StringRef name, size_t i) {
  if (!n.hasAttr(name)) {
    n.emitError() << "attribute '" << name << "' is required for 3-D inputs";
    return failure();
  }
  int64_t heads = n.getInt(name, 0);
  int64_t hidden = n.inputShape(i)[2];
  if (heads <= 0 || hidden % heads != 0) {
    n.emitError() << "attribute '" << name << "' (" << heads
                  << ") must be positive and divide the hidden size " << hidden;
    return failure();
  }
  return heads;
}

LogicalResult convertAttention(NodeImporter &n) {
  DType t = n.inputDType(0);
  if (!isAttentionType(t))
    return n.unsupported(llvm::Twine("element type ") + dtypeName(t));
  if (n.inputDType(1) != t || n.inputDType(2) != t)
    return n.unsupported("key or value element type differing from the "
                         "query's");
  int64_t rank = n.inputRank(0);
  if ((rank != 3 && rank != 4) || n.inputRank(1) != rank ||
      n.inputRank(2) != rank) {
    n.emitError() << "Q, K and V must all be 3-D or all 4-D";
    return failure();
  }
  Value q = n.input(0), k = n.input(1), v = n.input(2);
  if (rank == 3) {
    auto qHeads = headCount(n, "q_num_heads", 0);
    auto kvHeads = headCount(n, "kv_num_heads", 1);
    if (failed(qHeads) || failed(kvHeads))
      return failure();
    if (n.inputShape(2)[2] % *kvHeads != 0) {
      n.emitError() << "kv_num_heads (" << *kvHeads
                    << ") must divide the value hidden size "
                    << n.inputShape(2)[2];
      return failure();
    }
    q = toHeads(n, q, *qHeads);
    k = toHeads(n, k, *kvHeads);
    v = toHeads(n, v, *kvHeads);
  } else if (n.version() >= 25 &&
             (n.hasAttr("q_num_heads") || n.hasAttr("kv_num_heads"))) {
    n.emitError() << "q_num_heads and kv_num_heads must not be given for "
                     "4-D inputs";
    return failure();
  } else {
    // Opsets 23 and 24 ignore the head counts of 4-D inputs; they must at
    // least agree with the shapes.
    if ((n.hasAttr("q_num_heads") &&
         n.getInt("q_num_heads", 0) != n.inputShape(0)[1]) ||
        (n.hasAttr("kv_num_heads") &&
         n.getInt("kv_num_heads", 0) != n.inputShape(1)[1])) {
      n.emitError() << "q_num_heads / kv_num_heads disagree with the 4-D "
                       "input shapes";
      return failure();
    }
  }
  auto qType = cast<RankedTensorType>(q.getType());
  auto kType = cast<RankedTensorType>(k.getType());
  auto vType = cast<RankedTensorType>(v.getType());
  ArrayRef<int64_t> qs = qType.getShape(), ks = kType.getShape(),
                    vs = vType.getShape();
  if (ks[1] == 0 || qs[1] % ks[1] != 0) {
    n.emitError() << "query heads (" << qs[1]
                  << ") must be a multiple of key/value heads (" << ks[1]
                  << ")";
    return failure();
  }

  // Optional inputs: attn_mask (3), past_key (4), past_value (5),
  // nonpad_kv_seqlen (6, opset 24+).
  Value mask, pastKey, pastValue, nonpad;
  if (n.hasInput(3)) {
    DType m = n.inputDType(3);
    // A float mask must convert exactly to the inputs' type (ONNX adds it
    // in the promoted type, which is then the inputs' type).
    bool wideInputs = t == DType::F32 || t == DType::F64;
    bool floatMask =
        isAttentionType(m) &&
        (m == t || (wideInputs && precisionBits(m) < precisionBits(t)));
    if (m != DType::Bool && !floatMask)
      return n.unsupported(llvm::Twine("attn_mask element type ") +
                           dtypeName(m) + " with " + dtypeName(t) +
                           " inputs (Kiln implements boolean masks and "
                           "float masks no wider than the inputs)");
    mask = n.input(3);
  }
  if (n.hasInput(4) != n.hasInput(5)) {
    n.emitError() << "past_key and past_value must be given together";
    return failure();
  }
  if (n.hasInput(4)) {
    if (n.inputDType(4) != t || n.inputDType(5) != t)
      return n.unsupported("past key/value element types differing from the "
                           "query's");
    pastKey = n.input(4);
    pastValue = n.input(5);
  }
  if (n.hasInput(6)) {
    if (pastKey) {
      n.emitError() << "nonpad_kv_seqlen cannot be combined with past_key "
                       "and past_value";
      return failure();
    }
    nonpad = n.input(6);
  }
  int64_t total = ks[2] + (pastKey ? n.inputShape(4)[2] : 0);

  OpBuilder &b = n.builder();
  double scale = n.hasAttr("scale")
                     ? static_cast<double>(n.getFloat("scale", 0))
                     : 1.0 / std::sqrt(static_cast<double>(qs[3]));
  int64_t mode = n.getInt("qk_matmul_output_mode", 0);
  if (mode < 0 || mode > 3) {
    n.emitError() << "qk_matmul_output_mode must be 0 to 3, got " << mode;
    return failure();
  }
  DType softmaxType = t;
  if (n.hasAttr("softmax_precision")) {
    int32_t code = static_cast<int32_t>(n.getInt("softmax_precision", 0));
    std::optional<DType> st = dtypeFromOnnx(code);
    if (!st || !isAttentionType(*st))
      return n.unsupported("softmax_precision " + onnxTypeName(code));
    softmaxType = *st;
  }
  int64_t left = -1, right = -1;
  if (n.version() >= 25) {
    left = n.getInt("left_window_size", -1);
    right = n.getInt("right_window_size", -1);
    if (left < -1 || right < -1) {
      n.emitError() << "window sizes must be -1 or non-negative";
      return failure();
    }
  }

  Type element = qType.getElementType();
  Type outType = n.tensorType({qs[0], qs[1], qs[2], vs[3]}, element);
  SmallVector<Type> resultTypes = {outType};
  SmallVector<int32_t> resultSegments = {1, 0, 0, 0};
  if (n.hasOutput(1)) {
    resultTypes.push_back(n.tensorType({ks[0], ks[1], total, ks[3]}, element));
    resultSegments[1] = 1;
  }
  if (n.hasOutput(2)) {
    resultTypes.push_back(n.tensorType({vs[0], vs[1], total, vs[3]}, element));
    resultSegments[2] = 1;
  }
  if (n.hasOutput(3)) {
    resultTypes.push_back(n.tensorType({qs[0], qs[1], qs[2], total}, element));
    resultSegments[3] = 1;
  }
  SmallVector<Value> operands = {q, k, v};
  SmallVector<int32_t> operandSegments = {1, 1, 1, 0, 0, 0, 0};
  Value optional[] = {mask, pastKey, pastValue, nonpad};
  for (auto [i, value] : llvm::enumerate(optional)) {
    if (!value)
      continue;
    operands.push_back(value);
    operandSegments[3 + i] = 1;
  }
  OperationState state(n.loc(), AttentionOp::getOperationName());
  state.addOperands(operands);
  state.addTypes(resultTypes);
  state.addAttribute("is_causal", b.getBoolAttr(n.getInt("is_causal", 0)));
  state.addAttribute("scale", b.getF64FloatAttr(scale));
  state.addAttribute("softcap", b.getF32FloatAttr(n.getFloat("softcap", 0)));
  state.addAttribute("qk_matmul_output_mode", b.getI64IntegerAttr(mode));
  state.addAttribute("softmax_type", TypeAttr::get(n.mlirType(softmaxType)));
  state.addAttribute("left_window_size", b.getI64IntegerAttr(left));
  state.addAttribute("right_window_size", b.getI64IntegerAttr(right));
  state.addAttribute("operandSegmentSizes",
                     b.getDenseI32ArrayAttr(operandSegments));
  state.addAttribute("resultSegmentSizes",
                     b.getDenseI32ArrayAttr(resultSegments));
  Operation *op = b.create(state);
  auto attention = cast<AttentionOp>(op);
  Value y = attention.getOutput();
  n.setOutput(0, rank == 3 ? fromHeads(n, y) : y);
  if (n.hasOutput(1))
    n.setOutput(1, attention.getPresentKey());
  if (n.hasOutput(2))
    n.setOutput(2, attention.getPresentValue());
  if (n.hasOutput(3))
    n.setOutput(3, attention.getQkMatmulOutput());
  return success();
}

LogicalResult convertRotaryEmbedding(NodeImporter &n) {
  DType t = n.inputDType(0);
  if (t != DType::F32 && t != DType::F16 && t != DType::BF16)
    return n.unsupported(llvm::Twine("element type ") + dtypeName(t));
  if (n.inputDType(1) != t || n.inputDType(2) != t) {
    n.emitError() << "cos_cache and sin_cache must have the input's element "
                     "type";
    return failure();
  }
  int64_t rank = n.inputRank(0);
  Value x = n.input(0);
  if (rank == 3) {
    auto heads = headCount(n, "num_heads", 0);
    if (failed(heads))
      return failure();
    x = toHeads(n, x, *heads);
  } else if (rank != 4) {
    n.emitError() << "input must be 3-D or 4-D, got rank " << rank;
    return failure();
  }
  auto xType = cast<RankedTensorType>(x.getType());
  int64_t headSize = xType.getShape()[3];
  int64_t rotary = n.getInt("rotary_embedding_dim", 0);
  if (rotary == 0)
    rotary = headSize;
  if (rotary < 0 || rotary % 2 != 0 || rotary > headSize) {
    n.emitError() << "rotary_embedding_dim must be even and at most the "
                     "head size "
                  << headSize << ", got " << rotary;
    return failure();
  }
  Value positions;
  if (n.hasInput(3)) {
    if (n.inputDType(3) != DType::I64) {
      n.emitError() << "position_ids must be int64";
      return failure();
    }
    positions = n.input(3);
  }
  OpBuilder &b = n.builder();
  auto op = RotaryEmbeddingOp::create(
      b, n.loc(), xType, x, n.input(1), n.input(2), positions,
      b.getBoolAttr(n.getInt("interleaved", 0) != 0),
      b.getI64IntegerAttr(rotary));
  n.setOutput(0, rank == 3 ? fromHeads(n, op.getOutput()) : op.getOutput());
  return success();
}

} // namespace

void registerAttentionConverters(ConverterRegistry &r) {
  // 24 added nonpad_kv_seqlen; 25 the sliding window attributes.
  r.add("", "Attention", {23, 24, 25}, convertAttention);
  r.add("", "RotaryEmbedding", {23}, convertRotaryEmbedding);
}

} // namespace kiln::frontend
