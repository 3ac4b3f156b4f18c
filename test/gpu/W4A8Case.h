//===- W4A8Case.h - One W4A8 (QoQ) GEMM test case ---------------*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// Random QoQ progressive weights (made by the QoQ level-2 rule from random
// int8 groups), packed in fragment order (Packing.h), int8 activations, the
// exact integer reference and the Epilogue: shared by LowBitTest (GemmW4A8)
// and Sm90Test (GemmW4A8Sm90).
//
//===----------------------------------------------------------------------===//

#ifndef KILN_TEST_GPU_W4A8CASE_H
#define KILN_TEST_GPU_W4A8CASE_H

#include "EpilogueData.h"
#include "Harness.h"
#include "Reference.h"

#include "kiln/cuda/GemmW4A8.cuh"
#include "kiln/cuda/Packing.h"

#include <cstdio>
#include <string>
#include <utility>
#include <vector>

namespace kiln::gputest {

using cuda::W4A8Args;
using cuda::W4A8Packed;
using cuda::packW4A8;

/// Random QoQ weights [N][K]: per group of 128 a random int8 range, values
/// in it, then the level-2 rule. Fills the codes, s2, z * s2 and q8~.
void makeQoqWeights(Rng &rng, int N, int K, std::vector<uint8_t> &q4,
                    std::vector<uint8_t> &s2, std::vector<uint8_t> &zs2,
                    std::vector<int8_t> &q8) {
  const int G = K / 128;
  q4.assign(size_t(N) * K, 0);
  q8.assign(size_t(N) * K, 0);
  s2.assign(size_t(N) * G, 0);
  zs2.assign(size_t(N) * G, 0);
  for (int n = 0; n < N; ++n)
    for (int g = 0; g < G; ++g) {
      int32_t lo = rng.uniformInt(-119, 119), hi = rng.uniformInt(-119, 119);
      if (lo > hi)
        std::swap(lo, hi);
      uint8_t s, z;
      qoqGroup(lo, hi, s, z);
      s2[size_t(n) * G + g] = s;
      zs2[size_t(n) * G + g] = uint8_t(z * s);
      for (int k = g * 128; k < g * 128 + 128; ++k) {
        const uint8_t c = qoqCode(rng.uniformInt(lo, hi), s, z);
        q4[size_t(n) * K + k] = c;
        q8[size_t(n) * K + k] = qoqValue(c, s, uint8_t(z * s));
      }
    }
}

/// Runs W4A8 launcher |Gemm| (GemmW4A8<...> or GemmW4A8Sm90<...>) with
/// epilogue |Epi| on random QoQ weights and int8 activations; bit-exact.
template <class Gemm, class Epi>
void w4a8Case(TestReport &report, Rng &rng, const char *name, int M, int N,
              int K, int splitK) {
  std::vector<uint8_t> q4, s2, zs2;
  std::vector<int8_t> q8;
  makeQoqWeights(rng, N, K, q4, s2, zs2, q8);
  const W4A8Packed packed = packW4A8(q4.data(), s2.data(), zs2.data(), N, K);
  const int64_t lda = K + (M % 2 ? 16 : 0);
  std::vector<int8_t> a(size_t(M) * lda);
  for (auto &v : a)
    v = int8_t(rng.uniformInt(-127, 127));
  EpilogueScales sc;
  sc.accScale = std::sqrt(double(K)) * 64 * 64;
  EpilogueData<Epi> epi(rng, M, N, N, sc);
  const std::vector<typename Epi::Out> want = applyEpilogue<Epi>(
      epi.host, M, N, gemmInt32(M, N, K, a.data(), lda, q8.data(), K));
  DeviceBuffer<int8_t> dA;
  DeviceBuffer<uint8_t> dW;
  DeviceBuffer<uint16_t> dG;
  dA.upload(a);
  dW.upload(packed.weights);
  dG.upload(packed.groups);
  DeviceBuffer<unsigned char> ws(size_t(splitK) * M * N * 4 + 16);
  W4A8Args args;
  args.M = M;
  args.N = N;
  args.K = K;
  args.A = dA.get();
  args.lda = lda;
  args.weights = dW.get();
  args.groups = dG.get();
  args.epi = epi.device;
  args.splitK = splitK;
  args.workspace = ws.get();
  KILN_CUDA_CHECK(Gemm::run(args, nullptr));
  KILN_CUDA_CHECK(cudaDeviceSynchronize());
  const std::string failure = epi.check(want, true);
  char label[160];
  std::snprintf(label, sizeof label, "%s M=%d N=%d K=%d splitK=%d", name, M, N,
                K, splitK);
  report.record(failure.empty(), label, failure);
}

} // namespace kiln::gputest

#endif // KILN_TEST_GPU_W4A8CASE_H
