//===- AttentionOps.td - Attention and transformer ops -------*- tablegen -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// Fused scaled dot-product attention (ONNX Attention, opset 23) and rotary
// position embeddings. The CUDA target lowers kiln.attention to its fused
// (online-softmax) kernel.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_DIALECTS_KILN_OPS_ATTENTIONOPS_TD
#define KILN_DIALECTS_KILN_OPS_ATTENTIONOPS_TD

include "dialects/kiln/KilnBase.td"

def Kiln_AttentionOp : Kiln_Op<"attention",
    [AttrSizedOperandSegments, AttrSizedResultSegments]> {
  let summary = "scaled dot-product attention (ONNX Attention)";
  let description = [{
    ONNX Attention semantics: `softmax(Q K^T * scale + mask) V` with grouped
    query heads (`q_num_heads`, `kv_num_heads`), 3-D inputs reshaped to heads
    by the importer so all tensors are `B x heads x S x head_dim`, an optional
    boolean or additive `attn_mask`, `is_causal`, `softcap`, optional past
    key/value concatenated in front of the new ones (returned as
    `present_key` / `present_value`), and the optional pre-softmax scores
    selected by `qk_matmul_output_mode`. `scale` 0 means 1/sqrt(head_dim).

    Example:

    ```mlir
    %y = kiln.attention %q, %k, %v {is_causal = true, scale = 0.0 : f32,
           softcap = 0.0 : f32, qk_matmul_output_mode = 0 : i64,
           operandSegmentSizes = array<i32: 1, 1, 1, 0, 0, 0>,
           resultSegmentSizes = array<i32: 1, 0, 0, 0>}
         : (tensor<1x8x16x64xf32>, tensor<1x8x16x64xf32>,
            tensor<1x8x16x64xf32>) -> tensor<1x8x16x64xf32>
    ```
  }];
  let arguments = (ins Kiln_Tensor:$query, Kiln_Tensor:$key,
                   Kiln_Tensor:$value, Optional<Kiln_Tensor>:$attn_mask,
                   Optional<Kiln_Tensor>:$past_key,
                   Optional<Kiln_Tensor>:$past_value,
                   DefaultValuedAttr<BoolAttr, "false">:$is_causal,
                   DefaultValuedAttr<F32Attr, "0.0">:$scale,
                   DefaultValuedAttr<F32Attr, "0.0">:$softcap,
                   DefaultValuedAttr<I64Attr, "0">:$qk_matmul_output_mode,
                   DefaultValuedAttr<I64Attr, "0">:$softmax_precision);
  let results = (outs Kiln_Tensor:$output, Optional<Kiln_Tensor>:$present_key,
                 Optional<Kiln_Tensor>:$present_value,
                 Optional<Kiln_Tensor>:$qk_matmul_output);
  let assemblyFormat = "operands attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def Kiln_RotaryEmbeddingOp : Kiln_Op<"rotary_embedding"> {
  let summary = "rotary position embedding (ONNX RotaryEmbedding)";
  let description = [{
    Rotates the first `rotary_embedding_dim` (0 = all) features of each head
    by the cos/sin caches, interleaved pairs or split halves. The input is
    `B x heads x S x head_dim` (the importer reshapes 3-D inputs).

    Example:

    ```mlir
    %y = kiln.rotary_embedding %x, %cos, %sin, %pos {interleaved = false,
           rotary_embedding_dim = 0 : i64}
         : (...) -> tensor<1x8x16x64xf32>
    ```
  }];
  let arguments = (ins Kiln_Tensor:$input, Kiln_Tensor:$cos_cache,
                   Kiln_Tensor:$sin_cache, Optional<Kiln_Tensor>:$position_ids,
                   DefaultValuedAttr<BoolAttr, "false">:$interleaved,
                   DefaultValuedAttr<I64Attr, "0">:$rotary_embedding_dim);
  let results = (outs Kiln_Tensor:$output);
  let assemblyFormat = "operands attr-dict `:` functional-type(operands, results)";
}

#endif // KILN_DIALECTS_KILN_OPS_ATTENTIONOPS_TD
