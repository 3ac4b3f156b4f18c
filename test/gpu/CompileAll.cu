//===- CompileAll.cu - Every kernel family, compiled for plain sm_90 ------===//
// SPDX-License-Identifier: Apache-2.0
//
// The GPU test programs are built for sm_80 and sm_90a. This translation
// unit instantiates one kernel of every family of runtime/cuda so that
// cuda-build.compile-all also checks the portable Hopper target (sm_90,
// without the "a" features: the wgmma kernels compile to empty bodies
// there and their launchers still build). Compile only; nothing runs.
//
//===----------------------------------------------------------------------===//

#include "kiln/cuda/Attention.cuh"
#include "kiln/cuda/AttentionSm90.cuh"
#include "kiln/cuda/Conv.cuh"
#include "kiln/cuda/Elementwise.cuh"
#include "kiln/cuda/GemmSm80.cuh"
#include "kiln/cuda/GemmSm90.cuh"
#include "kiln/cuda/GemmW4A4.cuh"
#include "kiln/cuda/GemmW4A8.cuh"
#include "kiln/cuda/GemmW4A8Sm90.cuh"
#include "kiln/cuda/Norm.cuh"
#include "kiln/cuda/Pool.cuh"
#include "kiln/cuda/Select.h"

using namespace kiln::cuda;

namespace {
using I8 = Epilogue<OutKind::kInt8Fixed, Act::kNone, kEpiBiasInt>;
using F16 = Epilogue<OutKind::kFloat16, Act::kGeluTanh, kEpiBiasFloat,
                     ResKind::kFloat16>;
using Qoq = Epilogue<OutKind::kFloat16, Act::kNone, kEpiRowScale | kEpiColScale>;
} // namespace

/// Launches nothing useful: each call only has to compile and link.
cudaError_t compileAll(cudaStream_t s) {
  GemmArgs g;
  ConvGeometry cg;
  cudaError_t e = cudaSuccess;
  e = GemmInt8Sm80<TileInt8Medium, I8>::run(g, s);
  e = GemmFp16Sm80<TileFp16Skinny, F16>::run(g, s);
  e = Conv2dSm80<int8_t, TileInt8Medium, I8>::run(g, cg, s);
  e = GemmInt8Sm90<TileSm90Large, I8>::run(g, s);
  e = GemmFp16Sm90<TileSm90Medium, F16>::run(g, s);
  DepthwiseArgs d;
  e = DepthwiseConv2d<int8_t, I8>::run(d, s);
  PoolArgs p;
  e = Pool2d<int8_t, PoolKind::kMax>::run(p, s);
  GlobalPoolArgs gp;
  e = GlobalAvgPool<uint16_t>::run(gp, s);
  ElementwiseArgs ea;
  e = elementwiseChain<ElemKind::kFloat16, ElemKind::kInt8>(
      ea, Chain<OpScaleShift, OpAct<Act::kSilu>>{{nullptr, nullptr}, {{}, {}}},
      s);
  NormArgs na;
  e = RowNorm<NormKind::kRmsNorm, NormOut::kInt8PerToken>::run(na, s);
  SoftmaxArgs sa;
  e = Softmax<int8_t>::run(sa, s);
  AttentionArgs aa;
  e = AttentionSm80<AttentionConfig<128, 128, 64, true>>::run(aa, s);
  e = AttentionSm80<AttentionConfig<128, 128, 64, true, DenseSchedule,
                                    KvFormat::kInt4Asym>>::run(aa, s);
  e = AttentionSm90<AttentionConfigSm90<128, true>>::run(aa, s);
  W4A8Args w8;
  e = GemmW4A8<TileW4A8Medium, Qoq>::run(w8, s);
  e = GemmW4A8Sm90<TileW4A8Sm90, Qoq>::run(w8, s);
  W4A4QuantArgs wq;
  e = W4A4Quantize<32>::run(wq, s);
  W4A4Args w4;
  e = GemmW4A4<TileW4A4, 32, false, F16>::run(w4, s);
  return e;
}
