//===- BenchGemm.cu - Kiln int8 / fp16 GEMMs and convolutions vs cuBLASLt -===//
// SPDX-License-Identifier: Apache-2.0
//
// Tables (markdown, appended to argv[1] when given):
// 1. int8 GEMM at LLM shapes (M = 1, 16, 128, 1024, 4096; N x K = 4096 x
//    4096, 11008 x 4096, 4096 x 11008): Kiln's fastest tile (sm_80 mma.sync
//    tiles with split-K for small M; on sm_90 also the TMA + wgmma tiles),
//    int32 output, against the fastest of cuBLASLt's heuristic algorithms
//    (int32 output); plus Kiln with its fused requantizing epilogue (int8
//    output). Every Kiln int32 result is compared with cuBLASLt's, element
//    for element (must be identical).
// 2. The same for fp16 (fp16 output, float accumulation; compared within
//    1e-2 relative).
// 3. ResNet-50 convolutions (batch 32, NHWC, int8 requantized and fp16)
//    as implicit GEMM, against cuBLASLt on the GEMM of the same M, N, K
//    (no im2col cost counted for cuBLAS: an upper bound for a convolution).
// Target (docs/runtime-cuda.md): int8 >= 80% of cuBLASLt at M >= 1024 on
// H100.
//
//===----------------------------------------------------------------------===//

#include "BenchCommon.h"
#include "Cublas.h"

#include "kiln/cuda/Conv.cuh"
#include "kiln/cuda/GemmSm80.cuh"
#include "kiln/cuda/GemmSm90.cuh"
#include "kiln/cuda/Packing.h"
#include "kiln/cuda/Select.h"

#include <cuda_fp16.h>

#include <functional>
#include <string>
#include <vector>

using namespace kiln::cuda;
using namespace kiln::bench;

namespace {

/// Fills |count| bytes with pseudo-random values (int8 in [-100, 100] or
/// fp16 normal-ish in [-1, 1]).
__global__ void fillKernel(uint8_t *p, size_t count, uint32_t seed, bool half) {
  const size_t i = size_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (half) {
    if (2 * i + 1 >= count)
      return;
    uint32_t h = uint32_t(i) * 2654435761u ^ seed;
    h ^= h >> 13;
    h *= 0x5bd1e995u;
    h ^= h >> 15;
    const float v = (float(h & 0xffff) / 65535.0f) * 2.0f - 1.0f;
    reinterpret_cast<__half *>(p)[i] = __float2half(v);
  } else {
    if (i >= count)
      return;
    uint32_t h = uint32_t(i) * 2654435761u ^ seed;
    h ^= h >> 13;
    h *= 0x5bd1e995u;
    h ^= h >> 15;
    p[i] = uint8_t(int8_t(int(h % 201) - 100));
  }
}

void fill(void *p, size_t bytes, uint32_t seed, bool half) {
  const size_t n = half ? bytes / 2 : bytes;
  fillKernel<<<unsigned((n + 255) / 256), 256>>>(static_cast<uint8_t *>(p),
                                                 bytes, seed, half);
  KILN_BENCH_CHECK(cudaGetLastError());
}

/// Counts elements of |a| that differ from |b| (int32 exactly; fp16 beyond
/// 1e-2 |b| + 1e-2).
__global__ void mismatchKernel(const void *a, const void *b, size_t n,
                               bool half, unsigned long long *count) {
  const size_t i = size_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= n)
    return;
  bool bad;
  if (half) {
    const float x = __half2float(static_cast<const __half *>(a)[i]);
    const float y = __half2float(static_cast<const __half *>(b)[i]);
    bad = !(fabsf(x - y) <= 1e-2f * fabsf(y) + 1e-2f);
  } else {
    bad = static_cast<const int32_t *>(a)[i] != static_cast<const int32_t *>(b)[i];
  }
  if (bad)
    atomicAdd(count, 1ull);
}

unsigned long long mismatches(const void *a, const void *b, size_t n, bool half) {
  unsigned long long *d;
  KILN_BENCH_CHECK(cudaMalloc(&d, sizeof *d));
  KILN_BENCH_CHECK(cudaMemset(d, 0, sizeof *d));
  mismatchKernel<<<unsigned((n + 255) / 256), 256>>>(a, b, n, half, d);
  unsigned long long h = 0;
  KILN_BENCH_CHECK(cudaMemcpy(&h, d, sizeof h, cudaMemcpyDeviceToHost));
  cudaFree(d);
  return h;
}

/// Device buffers: |copies| sets of X [M, K] and W [N, K], one output, a
/// reference output, a split-K workspace and per-channel epilogue arrays.
struct Operands {
  int M, N, K, copies;
  bool half;
  std::vector<void *> x, w;
  void *out = nullptr, *ref = nullptr, *ws = nullptr;
  int32_t *biasInt = nullptr, *mult = nullptr, *shift = nullptr;
  size_t wsBytes = size_t(256) << 20;

  Operands(int m, int n, int k, bool h, const DeviceInfo &d)
      : M(m), N(n), K(k), half(h) {
    const size_t e = h ? 2 : 1;
    const size_t set = (size_t(M) + N) * K * e;
    copies = rotationCopies(set, d);
    for (int c = 0; c < copies; ++c) {
      void *px, *pw;
      KILN_BENCH_CHECK(cudaMalloc(&px, size_t(M) * K * e));
      KILN_BENCH_CHECK(cudaMalloc(&pw, size_t(N) * K * e));
      fill(px, size_t(M) * K * e, 17u + c, h);
      fill(pw, size_t(N) * K * e, 1000u + c, h);
      x.push_back(px);
      w.push_back(pw);
    }
    KILN_BENCH_CHECK(cudaMalloc(&out, size_t(M) * N * 4));
    KILN_BENCH_CHECK(cudaMalloc(&ref, size_t(M) * N * 4));
    KILN_BENCH_CHECK(cudaMalloc(&ws, wsBytes));
    KILN_BENCH_CHECK(cudaMalloc(&biasInt, size_t(N) * 4));
    KILN_BENCH_CHECK(cudaMalloc(&mult, size_t(N) * 4));
    KILN_BENCH_CHECK(cudaMalloc(&shift, size_t(N) * 4));
    const std::vector<int32_t> hm(N, 1 << 30), hs(N, -12), hb(N, 0);
    KILN_BENCH_CHECK(cudaMemcpy(mult, hm.data(), N * 4, cudaMemcpyHostToDevice));
    KILN_BENCH_CHECK(cudaMemcpy(shift, hs.data(), N * 4, cudaMemcpyHostToDevice));
    KILN_BENCH_CHECK(cudaMemcpy(biasInt, hb.data(), N * 4, cudaMemcpyHostToDevice));
    KILN_BENCH_CHECK(cudaDeviceSynchronize());
  }
  ~Operands() {
    for (void *p : x)
      cudaFree(p);
    for (void *p : w)
      cudaFree(p);
    cudaFree(out);
    cudaFree(ref);
    cudaFree(ws);
    cudaFree(biasInt);
    cudaFree(mult);
    cudaFree(shift);
  }

  GemmArgs args(int i, int splitK) const {
    GemmArgs a;
    a.M = M;
    a.N = N;
    a.K = K;
    a.A = x[size_t(i)];
    a.lda = K;
    a.B = w[size_t(i)];
    a.ldb = K;
    a.epi.out = out;
    a.epi.ldOut = N;
    a.epi.biasInt = biasInt;
    a.epi.multiplier = mult;
    a.epi.shift = shift;
    a.splitK = splitK;
    a.workspace = ws;
    return a;
  }
};

/// A Kiln candidate: name, split factor and a launch on rotation index i.
struct Candidate {
  std::string name;
  std::function<cudaError_t(int)> launch;
};

template <class Gemm>
Candidate sm80(const Operands &o, const char *name, int splitK) {
  if (Gemm::workspaceBytes(o.M, o.N, splitK) > o.wsBytes)
    splitK = 1;
  return {splitK > 1 ? fmt("%s/splitK%d", name, splitK) : std::string(name),
          [&o, splitK](int i) { return Gemm::run(o.args(i, splitK), nullptr); }};
}

template <class Gemm>
Candidate sm90(const Operands &o, const char *name,
               std::vector<GemmSm90Plan> &plans) {
  plans.resize(size_t(o.copies));
  bool ok = true;
  for (int i = 0; i < o.copies; ++i)
    ok = ok && Gemm::makePlan(o.args(i, 1), plans[size_t(i)]) == cudaSuccess;
  if (!ok)
    return {name, [](int) { return cudaErrorNotSupported; }};
  return {name, [&plans](int i) { return Gemm::run(plans[size_t(i)], nullptr); }};
}

/// Times the candidates; returns the best time and writes its name.
double best(const std::vector<Candidate> &cands, int rotation,
            std::string &bestName) {
  double t = -1;
  for (const Candidate &c : cands) {
    const double s = timeLaunches(c.launch, rotation);
    if (s > 0 && (t < 0 || s < t)) {
      t = s;
      bestName = c.name;
    }
  }
  return t;
}

using Raw = Epilogue<OutKind::kInt32>;
using Requant = Epilogue<OutKind::kInt8Fixed, Act::kNone, kEpiBiasInt>;
using HalfOut = Epilogue<OutKind::kFloat16>;

void gemmTables(int argc, char **argv, const DeviceInfo &dev) {
  const bool hopper = dev.capability >= 90;
  std::vector<int> ms = {1, 16, 128, 1024, 4096};
  if (quickMode())
    ms = {16, 1024};
  const std::vector<std::pair<int, int>> nks = {
      {4096, 4096}, {11008, 4096}, {4096, 11008}};
  Table int8Table("int8 GEMM, TOPS (2 M N K / time), int32 out unless noted",
                  {"M", "N x K", "Kiln best", "Kiln config", "cuBLASLt",
                   "Kiln / cuBLASLt", "Kiln requant->int8", "check"});
  Table halfTable("fp16 GEMM, TFLOPS, fp16 out, fp32 accumulation",
                  {"M", "N x K", "Kiln best", "Kiln config", "cuBLASLt",
                   "Kiln / cuBLASLt", "check"});
  for (auto [N, K] : nks)
    for (int M : ms) {
      const double ops = 2.0 * M * N * K;
      const GemmChoice choice = selectGemm(M, N, K, 1, dev.sms);
      // int8.
      {
        Operands o(M, N, K, false, dev);
        std::vector<GemmSm90Plan> planL, planM, planQ;
        std::vector<Candidate> cands;
        if (M <= 64) {
          cands.push_back(sm80<GemmInt8Sm80<TileInt8Skinny, Raw>>(
              o, "sm80-skinny", choice.splitK));
          cands.push_back(sm80<GemmInt8Sm80<TileInt8Small, Raw>>(
              o, "sm80-small", selectGemm(64, N, K, 1, dev.sms).splitK));
        }
        cands.push_back(sm80<GemmInt8Sm80<TileInt8Medium, Raw>>(o, "sm80-medium", 1));
        cands.push_back(sm80<GemmInt8Sm80<TileInt8Large, Raw>>(o, "sm80-large", 1));
        if (hopper && M >= 64) {
          cands.push_back(sm90<GemmInt8Sm90<TileSm90Large, Raw>>(o, "sm90-large", planL));
          cands.push_back(sm90<GemmInt8Sm90<TileSm90Medium, Raw>>(o, "sm90-medium", planM));
        }
        std::string name;
        const double tKiln = best(cands, o.copies, name);
        // Reference result from cuBLASLt, then Kiln's best once more for the
        // comparison.
        LtGemm lt(LtGemm::Kind::kInt8, M, N, K);
        int algo = 0;
        const double tLt =
            lt.ok() ? lt.timeBest([&](int i) { return o.x[size_t(i)]; },
                                  [&](int i) { return o.w[size_t(i)]; }, o.ref,
                                  o.copies, &algo)
                    : -1;
        std::string check = "no cuBLASLt";
        if (lt.ok() && tKiln > 0) {
          KILN_BENCH_CHECK(lt.run(algo, o.x[0], o.w[0], o.ref));
          for (const Candidate &c : cands)
            if (c.name == name)
              KILN_BENCH_CHECK(c.launch(0));
          KILN_BENCH_CHECK(cudaDeviceSynchronize());
          const unsigned long long bad =
              mismatches(o.out, o.ref, size_t(M) * N, false);
          check = bad ? fmt("%llu MISMATCHES", bad) : "exact";
        }
        // Fused requantization (int8 out) on the selected family.
        std::vector<Candidate> rq;
        if (M <= 64)
          rq.push_back(sm80<GemmInt8Sm80<TileInt8Skinny, Requant>>(
              o, "sm80-skinny", choice.splitK));
        rq.push_back(sm80<GemmInt8Sm80<TileInt8Medium, Requant>>(o, "sm80-medium", 1));
        if (hopper && M >= 64)
          rq.push_back(sm90<GemmInt8Sm90<TileSm90Large, Requant>>(o, "sm90-large", planQ));
        std::string rqName;
        const double tRq = best(rq, o.copies, rqName);
        int8Table.add({fmt("%d", M), fmt("%d x %d", N, K), tera(ops, tKiln),
                       name, tera(ops, tLt), ratio(tLt, tKiln),
                       tera(ops, tRq) + " (" + rqName + ")", check});
      }
      // fp16.
      {
        Operands o(M, N, K, true, dev);
        std::vector<GemmSm90Plan> planL, planM;
        std::vector<Candidate> cands;
        if (M <= 64)
          cands.push_back(sm80<GemmFp16Sm80<TileFp16Skinny, HalfOut>>(
              o, "sm80-skinny", selectGemm(M, N, K, 2, dev.sms).splitK));
        cands.push_back(sm80<GemmFp16Sm80<TileFp16Medium, HalfOut>>(o, "sm80-medium", 1));
        cands.push_back(sm80<GemmFp16Sm80<TileFp16Large, HalfOut>>(o, "sm80-large", 1));
        if (hopper && M >= 64) {
          cands.push_back(sm90<GemmFp16Sm90<TileSm90Large, HalfOut>>(o, "sm90-large", planL));
          cands.push_back(sm90<GemmFp16Sm90<TileSm90Medium, HalfOut>>(o, "sm90-medium", planM));
        }
        std::string name;
        const double tKiln = best(cands, o.copies, name);
        LtGemm lt(LtGemm::Kind::kFp16, M, N, K);
        int algo = 0;
        const double tLt =
            lt.ok() ? lt.timeBest([&](int i) { return o.x[size_t(i)]; },
                                  [&](int i) { return o.w[size_t(i)]; }, o.ref,
                                  o.copies, &algo)
                    : -1;
        std::string check = "no cuBLASLt";
        if (lt.ok() && tKiln > 0) {
          KILN_BENCH_CHECK(lt.run(algo, o.x[0], o.w[0], o.ref));
          for (const Candidate &c : cands)
            if (c.name == name)
              KILN_BENCH_CHECK(c.launch(0));
          KILN_BENCH_CHECK(cudaDeviceSynchronize());
          const unsigned long long bad =
              mismatches(o.out, o.ref, size_t(M) * N, true);
          check = bad ? fmt("%llu beyond 1e-2", bad) : "within 1e-2";
        }
        halfTable.add({fmt("%d", M), fmt("%d x %d", N, K), tera(ops, tKiln),
                       name, tera(ops, tLt), ratio(tLt, tKiln), check});
      }
    }
  emit(argc, argv, int8Table.markdown());
  emit(argc, argv, halfTable.markdown());
}

/// ResNet-50 (batch 32) convolution layers.
struct ConvLayer {
  const char *name;
  int H, C, OC, k, stride, pad;
};

void convTable(int argc, char **argv, const DeviceInfo &dev) {
  const int batch = quickMode() ? 8 : 32;
  const std::vector<ConvLayer> layers = {
      {"conv1 7x7/2 (C 3->4)", 224, 4, 64, 7, 2, 3},
      {"res2 1x1 64->64", 56, 64, 64, 1, 1, 0},
      {"res2 3x3 64->64", 56, 64, 64, 3, 1, 1},
      {"res2 1x1 64->256", 56, 64, 256, 1, 1, 0},
      {"res3 3x3 128->128", 28, 128, 128, 3, 1, 1},
      {"res3 1x1 512->128", 28, 512, 128, 1, 1, 0},
      {"res4 3x3 256->256", 14, 256, 256, 3, 1, 1},
      {"res4 1x1 1024->256", 14, 1024, 256, 1, 1, 0},
      {"res5 3x3 512->512", 7, 512, 512, 3, 1, 1},
      {"res5 1x1 2048->512", 7, 2048, 512, 1, 1, 0},
  };
  Table table(fmt("ResNet-50 convolutions, batch %d, NHWC, TOPS (2 M N K / time)", batch),
              {"layer", "M x N x K", "Kiln int8 (requant)", "cuBLASLt int8 GEMM",
               "ratio", "Kiln fp16", "cuBLASLt fp16 GEMM", "ratio"});
  for (const ConvLayer &l : layers) {
    ConvGeometry g;
    g.batch = batch;
    g.H = g.W = l.H;
    g.C = l.C;
    g.KH = g.KW = l.k;
    g.strideH = g.strideW = l.stride;
    g.padTop = g.padLeft = l.pad;
    g.OH = g.OW = (l.H + 2 * l.pad - l.k) / l.stride + 1;
    const int M = batch * g.OH * g.OW, N = l.OC, K = l.k * l.k * l.C;
    const double ops = 2.0 * M * N * K;
    std::vector<std::string> row = {l.name, fmt("%d x %d x %d", M, N, K)};
    for (bool half : {false, true}) {
      const size_t e = half ? 2 : 1;
      const int64_t ldw = paddedStride(K, int(e));
      void *x, *w, *y;
      KILN_BENCH_CHECK(cudaMalloc(&x, size_t(batch) * l.H * l.H * l.C * e));
      KILN_BENCH_CHECK(cudaMalloc(&w, size_t(N) * ldw * e));
      KILN_BENCH_CHECK(cudaMalloc(&y, size_t(M) * N * 4));
      fill(x, size_t(batch) * l.H * l.H * l.C * e, 5, half);
      fill(w, size_t(N) * ldw * e, 6, half);
      Operands dummy(1, N, 16, false, dev); // per-channel requant arrays
      EpilogueParams epi;
      epi.out = y;
      epi.ldOut = N;
      epi.biasInt = dummy.biasInt;
      epi.multiplier = dummy.mult;
      epi.shift = dummy.shift;
      const GemmArgs args = makeConvArgs(g, N, x, w, ldw, epi);
      double t;
      if (!half) {
        t = l.C % 16 == 0
                ? std::min(timeLaunches([&](int) {
                             return Conv2dSm80<int8_t, TileInt8Medium, Requant>::run(
                                 args, g, nullptr);
                           }, 1),
                           timeLaunches([&](int) {
                             return Conv2dSm80<int8_t, TileInt8Large, Requant>::run(
                                 args, g, nullptr);
                           }, 1))
                : timeLaunches([&](int) {
                    return Conv2dSm80<int8_t, TileInt8Medium, Requant, 4>::run(
                        args, g, nullptr);
                  }, 1);
      } else {
        t = l.C % 8 == 0
                ? std::min(timeLaunches([&](int) {
                             return Conv2dSm80<__half, TileFp16Medium, HalfOut>::run(
                                 args, g, nullptr);
                           }, 1),
                           timeLaunches([&](int) {
                             return Conv2dSm80<__half, TileFp16Large, HalfOut>::run(
                                 args, g, nullptr);
                           }, 1))
                : timeLaunches([&](int) {
                    return Conv2dSm80<__half, TileFp16Medium, HalfOut, 8>::run(
                        args, g, nullptr);
                  }, 1);
      }
      // cuBLASLt on the GEMM of the same sizes (K padded like the filter).
      Operands o(M, N, int(ldw), half, dev);
      LtGemm lt(half ? LtGemm::Kind::kFp16 : LtGemm::Kind::kInt8, M, N, int(ldw));
      const double tLt =
          lt.ok() ? lt.timeBest([&](int i) { return o.x[size_t(i)]; },
                                [&](int i) { return o.w[size_t(i)]; }, o.ref,
                                o.copies)
                  : -1;
      row.push_back(tera(ops, t));
      row.push_back(tera(ops, tLt));
      row.push_back(ratio(tLt, t));
      cudaFree(x);
      cudaFree(w);
      cudaFree(y);
    }
    table.add(row);
  }
  emit(argc, argv, table.markdown());
}

} // namespace

int main(int argc, char **argv) {
  int count = 0;
  if (cudaGetDeviceCount(&count) != cudaSuccess || count == 0) {
    std::printf("no CUDA device: benchmarks need a GPU\n");
    return 77;
  }
  const DeviceInfo dev = deviceInfo();
  emit(argc, argv,
       fmt("## GEMM and convolution (%s, sm_%d, %d SMs)\n\n", dev.name.c_str(),
           dev.capability, dev.sms));
  gemmTables(argc, argv, dev);
  convTable(argc, argv, dev);
  return 0;
}
