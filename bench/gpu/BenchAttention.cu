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
// Second table: KV4 (KvFormat::kInt4Asym, 4-bit K/V with per-token scale
// and zero) against fp16 K/V, both the mma.sync AttentionSm80 kernel, at
// decoder shapes (32 heads, head_dim 128, seqQ 1..4096 queries over a
// 512..8192 K/V cache, causal bottom-right aligned when seqQ > 1): time,
// speed-up, and the K/V bytes each reads.
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

__global__ void fillBytes(uint8_t *p, size_t n, uint32_t seed) {
  const size_t i = size_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= n)
    return;
  uint32_t h = uint32_t(i) * 2654435761u ^ seed;
  h ^= h >> 13;
  h *= 0x5bd1e995u;
  h ^= h >> 15;
  p[i] = uint8_t(h);
}

__global__ void fillKvParams(float *s, uint8_t *z, size_t n) {
  const size_t i = size_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= n)
    return;
  s[i] = 0.1f + 0.01f * float(i % 7);
  z[i] = uint8_t(i % 16);
}

/// Times an AttentionSm80 decoder-shape launch (BHSD, H heads, kvHeads = H)
/// with fp16 or KV4 K/V (Cfg::kKv).
template <class Cfg>
double timeDecoder(int B, int H, int Sq, int Sk) {
  constexpr int D = Cfg::kHeadDim;
  constexpr bool kKv4 = Cfg::kKv == KvFormat::kInt4Asym;
  const size_t nq = size_t(B) * H * Sq * D, nkv = size_t(B) * H * Sk * D;
  const size_t kvBytes = kKv4 ? nkv / 2 : nkv * 2;
  const int copies = 2;
  __half *q, *o;
  KILN_BENCH_CHECK(cudaMalloc(&q, nq * 2));
  KILN_BENCH_CHECK(cudaMalloc(&o, nq * 2));
  fillHalf<<<unsigned((nq + 255) / 256), 256>>>(q, nq, 7);
  std::vector<uint8_t *> k(copies), v(copies), kz(copies), vz(copies);
  std::vector<float *> ks(copies), vs(copies);
  const size_t rows = size_t(B) * H * Sk;
  for (int c = 0; c < copies; ++c) {
    KILN_BENCH_CHECK(cudaMalloc(&k[c], kvBytes));
    KILN_BENCH_CHECK(cudaMalloc(&v[c], kvBytes));
    KILN_BENCH_CHECK(cudaMalloc(&ks[c], rows * 4));
    KILN_BENCH_CHECK(cudaMalloc(&vs[c], rows * 4));
    KILN_BENCH_CHECK(cudaMalloc(&kz[c], rows));
    KILN_BENCH_CHECK(cudaMalloc(&vz[c], rows));
    if (kKv4) {
      fillBytes<<<unsigned((kvBytes + 255) / 256), 256>>>(k[c], kvBytes, 20 + c);
      fillBytes<<<unsigned((kvBytes + 255) / 256), 256>>>(v[c], kvBytes, 30 + c);
    } else {
      fillHalf<<<unsigned((nkv + 255) / 256), 256>>>(
          reinterpret_cast<__half *>(k[c]), nkv, 20 + c);
      fillHalf<<<unsigned((nkv + 255) / 256), 256>>>(
          reinterpret_cast<__half *>(v[c]), nkv, 30 + c);
    }
    fillKvParams<<<unsigned((rows + 255) / 256), 256>>>(ks[c], kz[c], rows);
    fillKvParams<<<unsigned((rows + 255) / 256), 256>>>(vs[c], vz[c], rows);
  }
  AttentionArgs a;
  a.batch = B;
  a.heads = a.kvHeads = H;
  a.seqQ = Sq;
  a.seqK = Sk;
  a.qBatchStride = a.oBatchStride = int64_t(H) * Sq * D;
  a.qHeadStride = a.oHeadStride = int64_t(Sq) * D;
  a.qRowStride = a.oRowStride = D;
  // fp16: elements; KV4: bytes of packed codes (D / 2 a row).
  const int64_t row = kKv4 ? D / 2 : D;
  a.kBatchStride = a.vBatchStride = int64_t(H) * Sk * row;
  a.kHeadStride = a.vHeadStride = int64_t(Sk) * row;
  a.kRowStride = a.vRowStride = row;
  a.scale = 1.0f / std::sqrt(float(D));
  a.q = reinterpret_cast<const uint16_t *>(q);
  a.o = reinterpret_cast<uint16_t *>(o);
  std::vector<AttentionArgs> args(copies, a);
  for (int c = 0; c < copies; ++c) {
    AttentionArgs &x = args[size_t(c)];
    if (kKv4) {
      x.k4 = k[c];
      x.v4 = v[c];
      x.kScale = ks[c];
      x.vScale = vs[c];
      x.kZero = kz[c];
      x.vZero = vz[c];
    } else {
      x.k = reinterpret_cast<const uint16_t *>(k[c]);
      x.v = reinterpret_cast<const uint16_t *>(v[c]);
    }
  }
  const double t = timeLaunches(
      [&](int i) { return AttentionSm80<Cfg>::run(args[size_t(i)], nullptr); },
      copies, 5, 7);
  for (int c = 0; c < copies; ++c) {
    cudaFree(k[c]);
    cudaFree(v[c]);
    cudaFree(ks[c]);
    cudaFree(vs[c]);
    cudaFree(kz[c]);
    cudaFree(vz[c]);
  }
  cudaFree(q);
  cudaFree(o);
  return t;
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

  // KV4 vs fp16 K/V at decoder shapes (AttentionSm80 on every GPU).
  Table kv("KV4 vs fp16 K/V, AttentionSm80 (mma.sync), H = 32, D = 128, "
           "microseconds; K/V MB = bytes of K and V read (KV4: codes + "
           "float32 scales + uint8 zeros)",
           {"B", "seqQ", "seqK", "causal", "fp16 us", "KV4 us",
            "fp16 / KV4", "fp16 K/V MB", "KV4 K/V MB", "KV4 GB/s"});
  std::vector<std::tuple<int, int, int>> dshapes = {
      {1, 1, 512},    {1, 1, 4096},    {1, 1, 8192},    {8, 1, 512},
      {8, 1, 4096},   {8, 1, 8192},    {4, 16, 4096},   {1, 512, 4096},
      {1, 4096, 4096}, {2, 1024, 8192}};
  if (quickMode())
    dshapes = {{1, 1, 4096}, {8, 1, 8192}};
  const int H = 32;
  for (auto [B, Sq, Sk] : dshapes) {
    using F = AttentionConfig<128, 128, 64, false>;
    using Fc = AttentionConfig<128, 128, 64, true>;
    using K4 = AttentionConfig<128, 128, 64, false, DenseSchedule,
                               KvFormat::kInt4Asym>;
    using K4c = AttentionConfig<128, 128, 64, true, DenseSchedule,
                                KvFormat::kInt4Asym>;
    const bool causal = Sq > 1;
    const double tf = causal ? timeDecoder<Fc>(B, H, Sq, Sk)
                             : timeDecoder<F>(B, H, Sq, Sk);
    const double tq = causal ? timeDecoder<K4c>(B, H, Sq, Sk)
                             : timeDecoder<K4>(B, H, Sq, Sk);
    const double rows = double(B) * H * Sk;
    const double fp16Bytes = 2.0 * rows * 128 * 2;
    const double kv4Bytes = 2.0 * rows * (64 + 4 + 1);
    kv.add({fmt("%d", B), fmt("%d", Sq), fmt("%d", Sk), causal ? "yes" : "no",
            tf > 0 ? fmt("%.1f", tf * 1e6) : "n/a",
            tq > 0 ? fmt("%.1f", tq * 1e6) : "n/a", ratio(tf, tq),
            fmt("%.1f", fp16Bytes * 1e-6), fmt("%.1f", kv4Bytes * 1e-6),
            tq > 0 ? fmt("%.0f", kv4Bytes / tq * 1e-9) : "n/a"});
  }
  emit(argc, argv, kv.markdown());
  return 0;
}
