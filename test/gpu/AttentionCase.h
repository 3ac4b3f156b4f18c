//===- AttentionCase.h - One fused-attention test case ----------*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// Runs an attention kernel (AttentionSm80 or AttentionSm90, the Launcher)
// of configuration Cfg on seeded random Q, K, V with the case's shape and
// layout, optionally with a random block mask (BlockSparseSchedule), and
// compares with a float64 reference. Tolerance: relative Frobenius error
// <= 2e-3 and every element within 4e-3 * max|ref| + 1e-2 |ref| (P is
// rounded to fp16 before P V, as in every fp16 flash attention).
// KV4 configurations (KvFormat::kInt4Asym): K and V are packed by packKv4
// (the compiler's kv-bits 4 quantizer) and the reference attends over the
// dequantized values float(q - zero) * scale rounded to fp16, as the kernel
// writes its tiles; the tolerance is the same, since quantization error is
// in both sides.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_TEST_GPU_ATTENTIONCASE_H
#define KILN_TEST_GPU_ATTENTIONCASE_H

#include "Harness.h"
#include "Reference.h"

#include "kiln/cuda/Attention.cuh"
#include "kiln/cuda/Packing.h"

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
  // KV4: pack every (batch, kv head) row block; codes keep the fp16 layout
  // with byte strides (half the element strides), scales/zeros dense
  // [batch][kvHeads][seqK]. kq / vq hold the values the kernel attends to.
  constexpr bool kKv4 = Cfg::kKv == cuda::KvFormat::kInt4Asym;
  std::vector<uint16_t> kq = k, vq = v;
  std::vector<uint8_t> k4(kvCount / 2), v4(kvCount / 2), kz, vz;
  std::vector<float> ks, vs;
  if (kKv4) {
    for (int b = 0; b < c.batch; ++b)
      for (int h = 0; h < c.kvHeads; ++h) {
        const int64_t base = b * a.kBatchStride + h * a.kHeadStride;
        const cuda::Kv4Packed pk = cuda::packKv4(k.data() + base, c.seqK, D,
                                                 a.kRowStride);
        const cuda::Kv4Packed pv = cuda::packKv4(v.data() + base, c.seqK, D,
                                                 a.vRowStride);
        ks.insert(ks.end(), pk.scales.begin(), pk.scales.end());
        kz.insert(kz.end(), pk.zeros.begin(), pk.zeros.end());
        vs.insert(vs.end(), pv.scales.begin(), pv.scales.end());
        vz.insert(vz.end(), pv.zeros.begin(), pv.zeros.end());
        for (int j = 0; j < c.seqK; ++j)
          for (int d = 0; d < D; ++d) {
            const int64_t e = base + j * a.kRowStride + d;
            if (d % 2 == 0) {
              k4[size_t(e / 2)] = pk.codes[size_t(j) * D / 2 + d / 2];
              v4[size_t(e / 2)] = pv.codes[size_t(j) * D / 2 + d / 2];
            }
            kq[size_t(e)] = floatToHalfBits(cuda::kv4Dequant(pk, j, d));
            vq[size_t(e)] = floatToHalfBits(cuda::kv4Dequant(pv, j, d));
          }
      }
  }
  DeviceBuffer<uint8_t> dk4, dv4, dkz, dvz;
  DeviceBuffer<float> dks, dvs;
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
  if (kKv4) {
    dk4.upload(k4);
    dv4.upload(v4);
    dks.upload(ks);
    dvs.upload(vs);
    dkz.upload(kz);
    dvz.upload(vz);
    a.k4 = dk4.get();
    a.v4 = dv4.get();
    a.kScale = dks.get();
    a.vScale = dvs.get();
    a.kZero = dkz.get();
    a.vZero = dvz.get();
    a.k = nullptr;
    a.v = nullptr;
    for (int64_t *st : {&a.kBatchStride, &a.kHeadStride, &a.kRowStride,
                        &a.vBatchStride, &a.vHeadStride, &a.vRowStride})
      *st /= 2; // bytes of packed codes
  }
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
          // Element strides (KV4 halved a's to bytes).
          const int64_t e = kKv4 ? 2 * (b * a.kBatchStride +
                                        kvh * a.kHeadStride + j * a.kRowStride) + d
                                 : b * a.kBatchStride + kvh * a.kHeadStride +
                                       j * a.kRowStride + d;
          kh[size_t(j) * D + d] = halfBitsToFloat(kq[size_t(e)]);
          vh[size_t(j) * D + d] = halfBitsToFloat(vq[size_t(e)]);
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
                "%s%s b=%d h=%d kvh=%d sq=%d sk=%d %s%s", name,
                kKv4 ? " kv4" : "", c.batch, c.heads,
                c.kvHeads, c.seqQ, c.seqK, c.bshd ? "bshd" : "bhsd",
                sparse ? " block-sparse" : "");
  report.record(fc.ok, label, fc.ok ? "" : fc.describe());
}

} // namespace kiln::gputest

#endif // KILN_TEST_GPU_ATTENTIONCASE_H
