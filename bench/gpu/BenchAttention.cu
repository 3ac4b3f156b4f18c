//===- BenchAttention.cu - Fused attention vs tensor-core roofline, SDPA --===//
// SPDX-License-Identifier: Apache-2.0
//
// Kiln's fused attention (fp16, head_dim 64 and 128, causal and not) at
// long-sequence shapes -- AttentionSm90 (TMA + wgmma) on Hopper, with the
// mma.sync AttentionSm80 beside it -- in TFLOPS (4 B H Sq Sk D, halved for
// causal), as a
// share of two rooflines: the fp16 dense tensor-core rate measured in the
// same run (cuBLASLt fp16 GEMM 8192^3, the best algorithm) and the
// datasheet rate for the device (H100/H200 SXM: 989.4 TFLOPS dense fp16).
// PyTorch's scaled_dot_product_attention timings come from
// bench/gpu/bench_sdpa.py through the file named by $KILN_SDPA_TIMES
// (lines "B H S D causal seconds"). Target: >= 70% of the roofline on H100.
//
//===----------------------------------------------------------------------===//

#include "BenchCommon.h"
#include "Cublas.h"

#include "kiln/cuda/Attention.cuh"
#include "kiln/cuda/AttentionSm90.cuh"

#include <cuda_fp16.h>

#include <cstdio>
#include <map>
#include <string>
#include <tuple>
#include <vector>

using namespace kiln::cuda;
using namespace kiln::bench;

namespace {

__global__ void fillHalf(__half *p, size_t n, uint32_t seed) {
  const size_t i = size_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= n)
    return;
  uint32_t h = uint32_t(i) * 2654435761u ^ seed;
  h ^= h >> 13;
  h *= 0x5bd1e995u;
  h ^= h >> 15;
  p[i] = __float2half((float(h & 0xffff) / 65535.0f) * 2.0f - 1.0f);
}

/// Measured dense fp16 tensor-core rate (FLOP/s): cuBLASLt 8192^3.
double measuredRoofline(const DeviceInfo &dev) {
  const int n = 8192;
  void *a, *b, *c;
  KILN_BENCH_CHECK(cudaMalloc(&a, size_t(n) * n * 2));
  KILN_BENCH_CHECK(cudaMalloc(&b, size_t(n) * n * 2));
  KILN_BENCH_CHECK(cudaMalloc(&c, size_t(n) * n * 2));
  fillHalf<<<unsigned((size_t(n) * n + 255) / 256), 256>>>(static_cast<__half *>(a),
                                                            size_t(n) * n, 1);
  fillHalf<<<unsigned((size_t(n) * n + 255) / 256), 256>>>(static_cast<__half *>(b),
                                                            size_t(n) * n, 2);
  LtGemm lt(LtGemm::Kind::kFp16, n, n, n);
  const double t = lt.ok() ? lt.timeBest([&](int) { return a; },
                                         [&](int) { return b; }, c, 1)
                           : -1;
  cudaFree(a);
  cudaFree(b);
  cudaFree(c);
  (void)dev;
  return t > 0 ? 2.0 * n * n * double(n) / t : -1;
}

/// SDPA timings keyed by (B, H, S, D, causal).
std::map<std::tuple<int, int, int, int, int>, double> readSdpa() {
  std::map<std::tuple<int, int, int, int, int>, double> m;
  const char *path = std::getenv("KILN_SDPA_TIMES");
  if (!path)
    return m;
  if (FILE *f = std::fopen(path, "r")) {
    int b, h, s, d, c;
    double t;
    while (std::fscanf(f, "%d %d %d %d %d %lf", &b, &h, &s, &d, &c, &t) == 6)
      m[{b, h, s, d, c}] = t;
    std::fclose(f);
  }
  return m;
}

template <class Cfg, class Launcher>
double timeAttention(int B, int H, int S) {
  constexpr int D = Cfg::kHeadDim;
  const size_t n = size_t(B) * H * S * D;
  const int copies = 2;
  std::vector<__half *> q(copies), k(copies), v(copies);
  __half *o;
  for (int c = 0; c < copies; ++c) {
    KILN_BENCH_CHECK(cudaMalloc(&q[c], n * 2));
    KILN_BENCH_CHECK(cudaMalloc(&k[c], n * 2));
    KILN_BENCH_CHECK(cudaMalloc(&v[c], n * 2));
    fillHalf<<<unsigned((n + 255) / 256), 256>>>(q[c], n, 10 + c);
    fillHalf<<<unsigned((n + 255) / 256), 256>>>(k[c], n, 20 + c);
    fillHalf<<<unsigned((n + 255) / 256), 256>>>(v[c], n, 30 + c);
  }
  KILN_BENCH_CHECK(cudaMalloc(&o, n * 2));
  AttentionArgs a;
  a.batch = B;
  a.heads = H;
  a.kvHeads = H;
  a.seqQ = a.seqK = S;
  a.qBatchStride = a.kBatchStride = a.vBatchStride = a.oBatchStride =
      int64_t(H) * S * D;
  a.qHeadStride = a.kHeadStride = a.vHeadStride = a.oHeadStride = int64_t(S) * D;
  a.qRowStride = a.kRowStride = a.vRowStride = a.oRowStride = D;
  a.scale = 1.0f / std::sqrt(float(D));
  a.o = reinterpret_cast<uint16_t *>(o);
  // Plans (tensor maps for sm_90) are made once per input copy, outside
  // the timed region, as a program makes them once at start-up.
  std::vector<AttentionArgs> args(copies, a);
  for (int c = 0; c < copies; ++c) {
    args[size_t(c)].q = reinterpret_cast<const uint16_t *>(q[size_t(c)]);
    args[size_t(c)].k = reinterpret_cast<const uint16_t *>(k[size_t(c)]);
    args[size_t(c)].v = reinterpret_cast<const uint16_t *>(v[size_t(c)]);
  }
  double t;
  if constexpr (std::is_same_v<Launcher, AttentionSm80<Cfg>>) {
    t = timeLaunches([&](int i) { return Launcher::run(args[size_t(i)], nullptr); },
                     copies, 5, 7);
  } else {
    std::vector<AttentionSm90Plan> plans(args.size());
    bool ok = true;
    for (size_t c = 0; c < args.size(); ++c)
      ok = ok && Launcher::makePlan(args[c], plans[c]) == cudaSuccess;
    t = ok ? timeLaunches([&](int i) { return Launcher::run(plans[size_t(i)], nullptr); },
                          copies, 5, 7)
           : -1;
  }
  for (int c = 0; c < copies; ++c) {
    cudaFree(q[c]);
    cudaFree(k[c]);
    cudaFree(v[c]);
  }
  cudaFree(o);
  return t;
}

} // namespace

int main(int argc, char **argv) {
  int count = 0;
  if (cudaGetDeviceCount(&count) != cudaSuccess || count == 0) {
    std::printf("no CUDA device: benchmarks need a GPU\n");
    return 77;
  }
  const DeviceInfo dev = deviceInfo();
  const double roof = measuredRoofline(dev);
  const double datasheet = dev.capability == 90 ? 989.4e12 : (dev.capability == 80 ? 312e12 : -1);
  const auto sdpa = readSdpa();
  emit(argc, argv,
       fmt("## Fused attention (%s)\n\nMeasured fp16 dense tensor-core rate "
           "(cuBLASLt 8192^3): %s TFLOPS; datasheet: %s TFLOPS.\n\n",
           dev.name.c_str(), roof > 0 ? fmt("%.0f", roof * 1e-12).c_str() : "n/a",
           datasheet > 0 ? fmt("%.0f", datasheet * 1e-12).c_str() : "n/a"));
  const bool hopper = dev.capability >= 90;
  Table table("Kiln fused attention vs PyTorch SDPA, fp16, TFLOPS (Kiln = "
              "AttentionSm90 (TMA + wgmma) on sm_90, AttentionSm80 "
              "(mma.sync) otherwise; the sm80 column is the mma.sync kernel "
              "on this GPU)",
              {"B x H x S", "D", "causal", "Kiln", "% measured roof",
               "% datasheet", "Kiln sm80 kernel", "PyTorch SDPA",
               "Kiln / SDPA"});
  std::vector<std::tuple<int, int, int>> shapes = {
      {16, 16, 512}, {8, 16, 1024}, {4, 16, 2048}, {2, 16, 4096}, {1, 16, 8192}};
  if (quickMode())
    shapes = {{4, 16, 2048}};
  for (auto [B, H, S] : shapes)
    for (int D : {64, 128})
      for (int causal : {0, 1}) {
        using C64 = AttentionConfig<64, 128, 64, false>;
        using C64c = AttentionConfig<64, 128, 64, true>;
        using C128 = AttentionConfig<128, 128, 64, false>;
        using C128c = AttentionConfig<128, 128, 64, true>;
        using H64 = AttentionConfigSm90<64, false>;
        using H64c = AttentionConfigSm90<64, true>;
        using H128 = AttentionConfigSm90<128, false>;
        using H128c = AttentionConfigSm90<128, true>;
        double t80, t90 = -1;
        if (D == 64)
          t80 = causal ? timeAttention<C64c, AttentionSm80<C64c>>(B, H, S)
                       : timeAttention<C64, AttentionSm80<C64>>(B, H, S);
        else
          t80 = causal ? timeAttention<C128c, AttentionSm80<C128c>>(B, H, S)
                       : timeAttention<C128, AttentionSm80<C128>>(B, H, S);
        if (hopper) {
          if (D == 64)
            t90 = causal ? timeAttention<H64c, AttentionSm90<H64c>>(B, H, S)
                         : timeAttention<H64, AttentionSm90<H64>>(B, H, S);
          else
            t90 = causal ? timeAttention<H128c, AttentionSm90<H128c>>(B, H, S)
                         : timeAttention<H128, AttentionSm90<H128>>(B, H, S);
        }
        const double t = hopper ? t90 : t80;
        const double flops = 4.0 * B * H * double(S) * S * D * (causal ? 0.5 : 1.0);
        const auto it = sdpa.find({B, H, S, D, causal});
        const double ts = it == sdpa.end() ? -1 : it->second;
        table.add({fmt("%d x %d x %d", B, H, S), fmt("%d", D), causal ? "yes" : "no",
                   tera(flops, t),
                   t > 0 && roof > 0 ? fmt("%.0f%%", 100.0 * flops / t / roof) : "n/a",
                   t > 0 && datasheet > 0 ? fmt("%.0f%%", 100.0 * flops / t / datasheet)
                                          : "n/a",
                   tera(flops, t80), tera(flops, ts), ratio(ts, t)});
      }
  emit(argc, argv, table.markdown());
  return 0;
}
