//===- AttentionOps.td - Attention and transformer ops -------*- tablegen -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// Fused scaled dot-product attention (ONNX Attention, opsets 23 to 25) and
// rotary position embeddings. The CUDA target lowers kiln.attention to its
// fused (online-softmax) kernel.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_DIALECTS_KILN_OPS_ATTENTIONOPS_TD
#define KILN_DIALECTS_KILN_OPS_ATTENTIONOPS_TD

include "dialects/kiln/KilnBase.td"

def Kiln_AttentionOp : Kiln_Op<"attention",
    [AttrSizedOperandSegments, AttrSizedResultSegments]> {
  let summary = "scaled dot-product attention (ONNX Attention)";
  let description = [{
    ONNX Attention semantics (opsets 23 to 25) on the heads layout: `query`
    is `B x Hq x Sq x D`, `key` `B x Hkv x Skv x D`, `value`
    `B x Hkv x Skv x Dv`, with `Hq` a multiple of `Hkv` (query head `h`
    reads key/value head `h / (Hq / Hkv)`); the importer reshapes ONNX's
    3-D inputs. Optional `past_key` / `past_value` (`B x Hkv x P x D|Dv`)
    are concatenated in front of the new keys and values (total length
    `T = P + Skv`) and returned as `present_key` / `present_value`.

    Per row: `q' = q * sqrt(scale)`, `k' = k * sqrt(scale)` (rounded to the
    input type), `s = q' k'^T`, `s = softcap * tanh(s / softcap)` when
    `softcap > 0`, `s = s + bias`, softmax in `softmax_type`, then
    `softmax(s) v`. The bias adds `attn_mask` (boolean: false is -inf;
    float: added; broadcast to `B x Hq x Sq x T`, a shorter last dimension
    is padded with false / -inf), and -inf where `is_causal` forbids
    (key `j` > query `i` + offset), where `j >= nonpad_kv_seqlen[b]`, and
    outside the sliding window (`left_window_size`, `right_window_size`;
    -1 is unbounded). The offset is `P` with a past, `nonpad_kv_seqlen[b] -
    Sq` with `nonpad_kv_seqlen`, else 0. A row whose bias is -inf
    everywhere produces zeros. `qk_matmul_output` holds the scores after
    the matmul (mode 0), after softcap (1), after the bias (2) or the
    softmax (3). `scale` is explicit (the importer resolves ONNX's default
    `1/sqrt(D)` in float64, as ONNX does).

    Example:

    ```mlir
    %y = kiln.attention %q, %k, %v {is_causal = true, scale = 0.125 : f64,
           softcap = 0.0 : f32, qk_matmul_output_mode = 0 : i64,
           softmax_type = f32, left_window_size = -1 : i64,
           right_window_size = -1 : i64,
           operandSegmentSizes = array<i32: 1, 1, 1, 0, 0, 0, 0>,
           resultSegmentSizes = array<i32: 1, 0, 0, 0>}
         : (tensor<1x8x16x64xf32>, tensor<1x8x16x64xf32>,
            tensor<1x8x16x64xf32>) -> tensor<1x8x16x64xf32>
    ```
  }];
  let arguments = (ins Kiln_Tensor:$query, Kiln_Tensor:$key,
                   Kiln_Tensor:$value, Optional<Kiln_Tensor>:$attn_mask,
                   Optional<Kiln_Tensor>:$past_key,
                   Optional<Kiln_Tensor>:$past_value,
                   Optional<Kiln_Tensor>:$nonpad_kv_seqlen,
                   BoolAttr:$is_causal, F64Attr:$scale, F32Attr:$softcap,
                   I64Attr:$qk_matmul_output_mode,
                   TypeAttrOf<AnyFloat>:$softmax_type,
                   I64Attr:$left_window_size, I64Attr:$right_window_size);
  let results = (outs Kiln_Tensor:$output, Optional<Kiln_Tensor>:$present_key,
                 Optional<Kiln_Tensor>:$present_value,
                 Optional<Kiln_Tensor>:$qk_matmul_output);
  let assemblyFormat = "operands attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def Kiln_RotaryEmbeddingOp : Kiln_Op<"rotary_embedding"> {
  let summary = "rotary position embedding (ONNX RotaryEmbedding)";
  let description = [{
    Rotates the first `rotary_embedding_dim` features of each head (pairs
    `(2k, 2k+1)` when `interleaved`, else `(k, k + R/2)`) by the angle whose
    cosine and sine are read from the caches; the other features pass
    through. The input is `B x H x S x D` (the importer reshapes 3-D
    inputs). With `position_ids` (`B x S`) the caches are
    `max_position x R/2` and indexed by position, else they are
    `B x S x R/2`. Every product and sum rounds to the element type, as
    ONNX's reference computes.

    Example:

    ```mlir
    %y = kiln.rotary_embedding %x, %cos, %sin, %pos {interleaved = false,
           rotary_embedding_dim = 64 : i64}
         : (tensor<1x8x16x64xf32>, tensor<128x32xf32>, tensor<128x32xf32>,
            tensor<1x16xi64>) -> tensor<1x8x16x64xf32>
    ```
  }];
  let arguments = (ins Kiln_Tensor:$input, Kiln_Tensor:$cos_cache,
                   Kiln_Tensor:$sin_cache, Optional<Kiln_Tensor>:$position_ids,
                   BoolAttr:$interleaved, I64Attr:$rotary_embedding_dim);
  let results = (outs Kiln_Tensor:$output);
  let assemblyFormat = "operands attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

#endif // KILN_DIALECTS_KILN_OPS_ATTENTIONOPS_TD
