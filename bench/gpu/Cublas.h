//===- Cublas.h - cuBLASLt baselines of the GPU benchmarks ------*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// The library baseline every Kiln GEMM is judged against: cuBLASLt with the
// same operands (X [M, K] row-major activations, W [N, K] row-major weights)
// computed as C^T = W X^T in cuBLAS's column-major terms ("TN", the layout
// cuBLASLt's int8 tensor-core kernels require): int8 x int8 -> int32
// (CUBLAS_COMPUTE_32I) and fp16 x fp16 -> fp16 with float accumulation
// (CUBLAS_COMPUTE_32F). The heuristic's top algorithms are each timed and
// the fastest is the baseline, so cuBLAS gets its best shot.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_BENCH_GPU_CUBLAS_H
#define KILN_BENCH_GPU_CUBLAS_H

#include "BenchCommon.h"

#include <cublasLt.h>

#include <vector>

namespace kiln::bench {

/// One cuBLASLt GEMM configuration with its candidate algorithms.
class LtGemm {
public:
  enum class Kind { kInt8, kFp16 };

  LtGemm(Kind kind, int M, int N, int K) : kind_(kind) {
    ok_ = cublasLtCreate(&handle_) == CUBLAS_STATUS_SUCCESS;
    const bool i8 = kind == Kind::kInt8;
    const cudaDataType_t in = i8 ? CUDA_R_8I : CUDA_R_16F;
    const cudaDataType_t out = i8 ? CUDA_R_32I : CUDA_R_16F;
    ok_ = ok_ &&
          cublasLtMatmulDescCreate(&op_, i8 ? CUBLAS_COMPUTE_32I
                                            : CUBLAS_COMPUTE_32F,
                                   i8 ? CUDA_R_32I : CUDA_R_32F) ==
              CUBLAS_STATUS_SUCCESS;
    const cublasOperation_t t = CUBLAS_OP_T, n = CUBLAS_OP_N;
    ok_ = ok_ &&
          cublasLtMatmulDescSetAttribute(op_, CUBLASLT_MATMUL_DESC_TRANSA, &t,
                                         sizeof t) == CUBLAS_STATUS_SUCCESS &&
          cublasLtMatmulDescSetAttribute(op_, CUBLASLT_MATMUL_DESC_TRANSB, &n,
                                         sizeof n) == CUBLAS_STATUS_SUCCESS;
    ok_ = ok_ &&
          cublasLtMatrixLayoutCreate(&w_, in, K, N, K) == CUBLAS_STATUS_SUCCESS &&
          cublasLtMatrixLayoutCreate(&x_, in, K, M, K) == CUBLAS_STATUS_SUCCESS &&
          cublasLtMatrixLayoutCreate(&c_, out, N, M, N) == CUBLAS_STATUS_SUCCESS;
    wsBytes_ = size_t(64) << 20;
    ok_ = ok_ && cudaMalloc(&ws_, wsBytes_) == cudaSuccess;
    cublasLtMatmulPreference_t pref = nullptr;
    ok_ = ok_ && cublasLtMatmulPreferenceCreate(&pref) == CUBLAS_STATUS_SUCCESS &&
          cublasLtMatmulPreferenceSetAttribute(
              pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &wsBytes_,
              sizeof wsBytes_) == CUBLAS_STATUS_SUCCESS;
    if (ok_) {
      algos_.resize(6);
      int found = 0;
      if (cublasLtMatmulAlgoGetHeuristic(handle_, op_, w_, x_, c_, c_, pref,
                                         int(algos_.size()), algos_.data(),
                                         &found) != CUBLAS_STATUS_SUCCESS)
        found = 0;
      algos_.resize(size_t(found));
      ok_ = found > 0;
    }
    if (pref)
      cublasLtMatmulPreferenceDestroy(pref);
  }
  LtGemm(const LtGemm &) = delete;
  LtGemm &operator=(const LtGemm &) = delete;
  ~LtGemm() {
    if (ws_)
      cudaFree(ws_);
    if (c_)
      cublasLtMatrixLayoutDestroy(c_);
    if (x_)
      cublasLtMatrixLayoutDestroy(x_);
    if (w_)
      cublasLtMatrixLayoutDestroy(w_);
    if (op_)
      cublasLtMatmulDescDestroy(op_);
    if (handle_)
      cublasLtDestroy(handle_);
  }

  bool ok() const { return ok_; }
  int algorithms() const { return int(algos_.size()); }

  /// C = X W^T with algorithm |algo|.
  cudaError_t run(int algo, const void *x, const void *w, void *c,
                  cudaStream_t stream = nullptr) const {
    const int32_t ia = 1, ib = 0;
    const float fa = 1.0f, fb = 0.0f;
    const void *alpha = kind_ == Kind::kInt8 ? static_cast<const void *>(&ia)
                                             : static_cast<const void *>(&fa);
    const void *beta = kind_ == Kind::kInt8 ? static_cast<const void *>(&ib)
                                            : static_cast<const void *>(&fb);
    return cublasLtMatmul(handle_, op_, alpha, w, w_, x, x_, beta, c, c_, c,
                          c_, &algos_[size_t(algo)].algo, ws_, wsBytes_,
                          stream) == CUBLAS_STATUS_SUCCESS
               ? cudaSuccess
               : cudaErrorUnknown;
  }

  /// Times every candidate algorithm; returns the best seconds per call
  /// (and its index), or -1.
  double timeBest(const std::function<const void *(int)> &x,
                  const std::function<const void *(int)> &w, void *c,
                  int rotation, int *bestAlgo = nullptr) const {
    double best = -1;
    for (int a = 0; a < algorithms(); ++a) {
      const double t = timeLaunches(
          [&](int i) { return run(a, x(i), w(i), c); }, rotation);
      if (t > 0 && (best < 0 || t < best)) {
        best = t;
        if (bestAlgo)
          *bestAlgo = a;
      }
    }
    return best;
  }

private:
  Kind kind_;
  bool ok_ = false;
  cublasLtHandle_t handle_ = nullptr;
  cublasLtMatmulDesc_t op_ = nullptr;
  cublasLtMatrixLayout_t w_ = nullptr, x_ = nullptr, c_ = nullptr;
  void *ws_ = nullptr;
  size_t wsBytes_ = 0;
  std::vector<cublasLtMatmulHeuristicResult_t> algos_;
};

} // namespace kiln::bench

#endif // KILN_BENCH_GPU_CUBLAS_H
