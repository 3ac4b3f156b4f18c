//===- AttentionTest.cu - Fused attention vs float64 reference -----------===//
// SPDX-License-Identifier: Apache-2.0
//
// AttentionSm80 with head_dim 64 and 128, causal and not, grouped-query
// heads, ragged sequence lengths (seqQ != seqK, not multiples of the
// blocks), BHSD and BSHD strides, and a block-sparse schedule, against a
// float64 reference; and the KV4 variant (KvFormat::kInt4Asym: K/V packed
// by packKv4, the compiler's kv-bits 4 format) against the reference over
// the dequantized K/V, on the same cases. Tolerance: relative Frobenius error <= 2e-3 and every
// element within 4e-3 * max|ref| + 1e-2 |ref| (P is rounded to fp16 before
// P V, as in every fp16 flash attention).
//
//===----------------------------------------------------------------------===//

#include "AttentionCase.h"
#include "Harness.h"
#include "Reference.h"

#include "kiln/cuda/Attention.cuh"

#include <cstdio>
#include <string>
#include <vector>

using namespace kiln::cuda;
using namespace kiln::gputest;

namespace {

using D64 = AttentionConfig<64, 64, 64, false>;
using D64Causal = AttentionConfig<64, 64, 64, true>;
using D128 = AttentionConfig<128, 128, 64, false>;
using D128Causal = AttentionConfig<128, 128, 64, true>;
using D64Sparse = AttentionConfig<64, 64, 64, false, BlockSparseSchedule>;
using D64Kv4 =
    AttentionConfig<64, 64, 64, false, DenseSchedule, KvFormat::kInt4Asym>;
using D128Kv4 =
    AttentionConfig<128, 128, 64, false, DenseSchedule, KvFormat::kInt4Asym>;
using D128CausalKv4 =
    AttentionConfig<128, 128, 64, true, DenseSchedule, KvFormat::kInt4Asym>;
using D64SparseKv4 = AttentionConfig<64, 64, 64, false, BlockSparseSchedule,
                                     KvFormat::kInt4Asym>;

} // namespace

int main() {
  if (int skip = requireDevice(8))
    return skip;
  TestReport report("kiln-gpu-attention");
  Rng rng(31337);
  const std::vector<AttentionCase> cases = {
      {1, 1, 1, 1, 1, false},      {1, 2, 2, 64, 64, false},
      {2, 4, 2, 100, 100, true},   {1, 2, 1, 37, 300, false},
      {1, 3, 3, 300, 129, true},   {2, 2, 2, 256, 256, false},
      {1, 8, 2, 1, 515, true},     {1, 1, 1, 1000, 1000, false},
  };
  for (const AttentionCase &c : cases) {
    runAttentionCase<D64, AttentionSm80<D64>>(report, rng, "attn d64", c, false);
    runAttentionCase<D64Causal, AttentionSm80<D64Causal>>(
        report, rng, "attn d64 causal", c, false);
    runAttentionCase<D128, AttentionSm80<D128>>(report, rng, "attn d128", c,
                                                false);
    runAttentionCase<D128Causal, AttentionSm80<D128Causal>>(
        report, rng, "attn d128 causal", c, false);
    runAttentionCase<D64Sparse, AttentionSm80<D64Sparse>>(report, rng,
                                                          "attn d64", c, true);
    runAttentionCase<D64Kv4, AttentionSm80<D64Kv4>>(report, rng, "attn d64", c,
                                                    false);
    runAttentionCase<D128Kv4, AttentionSm80<D128Kv4>>(report, rng, "attn d128",
                                                      c, false);
    runAttentionCase<D128CausalKv4, AttentionSm80<D128CausalKv4>>(
        report, rng, "attn d128 causal", c, false);
    runAttentionCase<D64SparseKv4, AttentionSm80<D64SparseKv4>>(
        report, rng, "attn d64", c, true);
  }
  return report.finish();
}
