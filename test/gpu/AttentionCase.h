//===- AttentionCase.h - One fused-attention test case ----------*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// Runs an attention kernel (AttentionSm80 or AttentionSm90, the Launcher)
// of configuration Cfg on seeded random Q, K, V with the case's shape and
// layout, optionally with a random block mask (BlockSparseSchedule), and
// compares with a float64 reference. Tolerance: relative Frobenius error
// <= 2e-3 and every element within 4e-3 * max|ref| + 1e-2 |ref| (P is
// rounded to fp16 before P V, as in every fp16 flash attention).
//
//===----------------------------------------------------------------------===//

#ifndef KILN_TEST_GPU_ATTENTIONCASE_H
#define KILN_TEST_GPU_ATTENTIONCASE_H

#include "Harness.h"
#include "Reference.h"

#include "kiln/cuda/Attention.cuh"

#include <cstdio>
#include <string>
#include <vector>

namespace kiln::gputest {

using cuda::AttentionArgs;
using cuda::ceilDiv;
using cuda::floatToHalfBits;
using cuda::halfBitsToFloat;

/// Batch, heads, K/V heads, sequence lengths and layout of one case.
struct AttentionCase {
  int batch, heads, kvHeads, seqQ, seqK;
  bool bshd;
};

/// Runs one case of configuration Cfg; |sparse| builds a random block mask
/// (always keeping the diagonal block so every row sees some key).
template <class Cfg, class Launcher>
void runAttentionCase(TestReport &report, Rng &rng, const char *name,
                      const AttentionCase &c, bool sparse) {
  constexpr int D = Cfg::kHeadDim;
  const size_t qCount = size_t(c.batch) * c.heads * c.seqQ * D;
  const size_t kvCount = size_t(c.batch) * c.kvHeads * c.seqK * D;
  std::vector<uint16_t> q(qCount), k(kvCount), v(kvCount);
  for (auto &x : q)
    x = floatToHalfBits(rng.normal());
  for (auto &x : k)
    x = floatToHalfBits(rng.normal());
  for (auto &x : v)
    x = floatToHalfBits(rng.normal());

  AttentionArgs a;
  a.batch = c.batch;
  a.heads = c.heads;
  a.kvHeads = c.kvHeads;
  a.seqQ = c.seqQ;
  a.seqK = c.seqK;
  a.scale = 1.0f / std::sqrt(float(D));
  // BHSD: [b][h][s][d]; BSHD: [b][s][h][d].
  const auto strides = [&](int heads, int seq, int64_t &bs, int64_t &hs,
                           int64_t &rs) {
    if (c.bshd) {
      rs = int64_t(heads) * D;
      hs = D;
      bs = int64_t(seq) * heads * D;
    } else {
      rs = D;
      hs = int64_t(seq) * D;
      bs = int64_t(heads) * seq * D;
    }
  };
  strides(c.heads, c.seqQ, a.qBatchStride, a.qHeadStride, a.qRowStride);
  strides(c.kvHeads, c.seqK, a.kBatchStride, a.kHeadStride, a.kRowStride);
  strides(c.kvHeads, c.seqK, a.vBatchStride, a.vHeadStride, a.vRowStride);
  strides(c.heads, c.seqQ, a.oBatchStride, a.oHeadStride, a.oRowStride);

  // Block mask (CSR per head and query block).
  const int numQ = ceilDiv(c.seqQ, Cfg::kBlockM);
  const int numK = ceilDiv(c.seqK, Cfg::kBlockN);
  std::vector<uint8_t> mask(size_t(c.heads) * numQ * numK, 1);
  std::vector<int32_t> rowPtr(1, 0), cols;
  if (sparse) {
    for (int h = 0; h < c.heads; ++h)
      for (int qb = 0; qb < numQ; ++qb)
        for (int kb = 0; kb < numK; ++kb) {
          const bool keep = kb == std::min(qb, numK - 1) || rng.uniformInt(0, 2) == 0;
          mask[(size_t(h) * numQ + qb) * numK + kb] = keep;
        }
    for (int h = 0; h < c.heads; ++h)
      for (int qb = 0; qb < numQ; ++qb) {
        for (int kb = 0; kb < numK; ++kb)
          if (mask[(size_t(h) * numQ + qb) * numK + kb])
            cols.push_back(kb);
        rowPtr.push_back(int32_t(cols.size()));
      }
  }
  DeviceBuffer<uint16_t> dq, dk, dv, dout(qCount);
  DeviceBuffer<int32_t> dRowPtr, dCols;
  dq.upload(q);
  dk.upload(k);
  dv.upload(v);
  dout.poison();
  dRowPtr.upload(rowPtr);
  dCols.upload(cols);
  a.q = dq.get();
  a.k = dk.get();
  a.v = dv.get();
  a.o = dout.get();
  a.blockRowPtr = dRowPtr.get();
  a.blockCols = dCols.get();
  KILN_CUDA_CHECK(Launcher::run(a, nullptr));
  KILN_CUDA_CHECK(cudaDeviceSynchronize());
  const std::vector<uint16_t> got = dout.download();

  std::vector<double> want(qCount), g(qCount);
  std::vector<float> qh(size_t(c.seqQ) * D), kh(size_t(c.seqK) * D),
      vh(size_t(c.seqK) * D);
  std::vector<double> oh(size_t(c.seqQ) * D);
  for (int b = 0; b < c.batch; ++b)
    for (int h = 0; h < c.heads; ++h) {
      const int kvh = h / (c.heads / c.kvHeads);
      for (int i = 0; i < c.seqQ; ++i)
        for (int d = 0; d < D; ++d)
          qh[size_t(i) * D + d] = halfBitsToFloat(
              q[b * a.qBatchStride + h * a.qHeadStride + i * a.qRowStride + d]);
      for (int j = 0; j < c.seqK; ++j)
        for (int d = 0; d < D; ++d) {
          kh[size_t(j) * D + d] = halfBitsToFloat(
              k[b * a.kBatchStride + kvh * a.kHeadStride + j * a.kRowStride + d]);
          vh[size_t(j) * D + d] = halfBitsToFloat(
              v[b * a.vBatchStride + kvh * a.vHeadStride + j * a.vRowStride + d]);
        }
      attentionHead(c.seqQ, c.seqK, D, qh.data(), kh.data(), vh.data(),
                    double(a.scale), Cfg::kCausal, Cfg::kBlockM, Cfg::kBlockN,
                    [&](int qb, int kb) {
                      return !sparse || mask[(size_t(h) * numQ + qb) * numK + kb];
                    },
                    oh.data());
      for (int i = 0; i < c.seqQ; ++i)
        for (int d = 0; d < D; ++d) {
          const int64_t idx =
              b * a.oBatchStride + h * a.oHeadStride + i * a.oRowStride + d;
          want[idx] = oh[size_t(i) * D + d];
          g[idx] = halfBitsToFloat(got[idx]);
        }
    }
  const FloatCheck fc = compareFloat(g, want, 2e-3, 4e-3, 1e-2);
  char label[200];
  std::snprintf(label, sizeof label,
                "%s b=%d h=%d kvh=%d sq=%d sk=%d %s%s", name, c.batch, c.heads,
                c.kvHeads, c.seqQ, c.seqK, c.bshd ? "bshd" : "bhsd",
                sparse ? " block-sparse" : "");
  report.record(fc.ok, label, fc.ok ? "" : fc.describe());
}

} // namespace kiln::gputest

#endif // KILN_TEST_GPU_ATTENTIONCASE_H
