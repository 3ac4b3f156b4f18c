//===- Linear.cpp - Kernels of convolutions and matrix products -*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// conv (N-d, grouped, dilated) as im2col + GEMM, matmul with numpy
// broadcasting, gemm. Float GEMMs run through Eigen (float32 accumulates in
// float, float64 in double; half types compute in float32); integer GEMMs
// use exact int64 loops.
//
//===----------------------------------------------------------------------===//

#include "compiler/evaluator/Kernel.h"
#include "compiler/evaluator/kernels/LinearUtils.h"

#include "dialects/kiln/KilnOps.h"

#include <Eigen/Core>

using namespace mlir;
using namespace mlir::kiln;

namespace kiln::eval {

using RowMajorF = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic,
                                Eigen::RowMajor>;
using RowMajorD = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic,
                                Eigen::RowMajor>;

void gemmFloat(const float *a, const float *b, float *c, int64_t m,
               int64_t k, int64_t n, bool transA, bool transB,
               bool accumulate) {
  using Map = Eigen::Map<const RowMajorF>;
  Eigen::Map<RowMajorF> C(c, m, n);
  Map A(a, transA ? k : m, transA ? m : k);
  Map B(b, transB ? n : k, transB ? k : n);
  auto run = [&](const auto &lhs, const auto &rhs) {
    if (accumulate)
      C.noalias() += lhs * rhs;
    else
      C.noalias() = lhs * rhs;
  };
  if (transA && transB)
    run(A.transpose(), B.transpose());
  else if (transA)
    run(A.transpose(), B);
  else if (transB)
    run(A, B.transpose());
  else
    run(A, B);
}

void gemmDouble(const double *a, const double *b, double *c, int64_t m,
                int64_t k, int64_t n) {
  Eigen::Map<RowMajorD> C(c, m, n);
  Eigen::Map<const RowMajorD> A(a, m, k), B(b, k, n);
  C.noalias() = A * B;
}

void im2col(const float *input, llvm::ArrayRef<int64_t> spatialIn,
            int64_t channels, llvm::ArrayRef<int64_t> kernel,
            llvm::ArrayRef<int64_t> spatialOut, llvm::ArrayRef<int64_t> strides,
            llvm::ArrayRef<int64_t> pads, llvm::ArrayRef<int64_t> dilations,
            float padValue, float *columns) {
  size_t rank = spatialIn.size();
  int64_t kernelSize = 1, outSize = 1, inSize = 1;
  for (size_t d = 0; d < rank; ++d) {
    kernelSize *= kernel[d];
    outSize *= spatialOut[d];
    inSize *= spatialIn[d];
  }
  llvm::SmallVector<int64_t> kIndex(rank), oIndex(rank);
  for (int64_t c = 0; c < channels; ++c) {
    const float *plane = input + c * inSize;
    for (int64_t k = 0; k < kernelSize; ++k) {
      // Decompose k into per-dimension kernel offsets (row-major).
      for (int64_t d = rank - 1, rest = k; d >= 0; --d) {
        kIndex[d] = rest % kernel[d];
        rest /= kernel[d];
      }
      float *row = columns + (c * kernelSize + k) * outSize;
      std::fill(oIndex.begin(), oIndex.end(), 0);
      for (int64_t o = 0; o < outSize; ++o) {
        int64_t offset = 0;
        bool inside = true;
        for (size_t d = 0; d < rank; ++d) {
          int64_t pos = oIndex[d] * strides[d] - pads[d] +
                        kIndex[d] * dilations[d];
          if (pos < 0 || pos >= spatialIn[d]) {
            inside = false;
            break;
          }
          offset = offset * spatialIn[d] + pos;
        }
        row[o] = inside ? plane[offset] : padValue;
        for (int64_t d = rank - 1; d >= 0; --d) {
          if (++oIndex[d] < spatialOut[d])
            break;
          oIndex[d] = 0;
        }
      }
    }
  }
}

void convFloat(const float *input, llvm::ArrayRef<int64_t> inShape,
               const float *weight, llvm::ArrayRef<int64_t> wShape,
               const float *bias, float *output,
               llvm::ArrayRef<int64_t> outShape,
               llvm::ArrayRef<int64_t> strides, llvm::ArrayRef<int64_t> pads,
               llvm::ArrayRef<int64_t> dilations, int64_t group) {
  int64_t batch = inShape[0], channels = inShape[1];
  int64_t outChannels = wShape[0];
  llvm::ArrayRef<int64_t> spatialIn = inShape.drop_front(2);
  llvm::ArrayRef<int64_t> spatialOut = outShape.drop_front(2);
  llvm::ArrayRef<int64_t> kernel = wShape.drop_front(2);
  int64_t inSize = 1, outSize = 1, kernelSize = 1;
  for (int64_t d : spatialIn)
    inSize *= d;
  for (int64_t d : spatialOut)
    outSize *= d;
  for (int64_t d : kernel)
    kernelSize *= d;
  int64_t cPerGroup = channels / group, mPerGroup = outChannels / group;
  int64_t depth = cPerGroup * kernelSize;
  std::vector<float> columns(static_cast<size_t>(depth * outSize));
  for (int64_t n = 0; n < batch; ++n) {
    for (int64_t g = 0; g < group; ++g) {
      const float *in = input + (n * channels + g * cPerGroup) * inSize;
      im2col(in, spatialIn, cPerGroup, kernel, spatialOut, strides, pads,
             dilations, 0.0f, columns.data());
      float *out = output + (n * outChannels + g * mPerGroup) * outSize;
      gemmFloat(weight + g * mPerGroup * depth, columns.data(), out,
                mPerGroup, depth, outSize, false, false, false);
      if (bias)
        for (int64_t m = 0; m < mPerGroup; ++m)
          for (int64_t o = 0; o < outSize; ++o)
            out[m * outSize + o] += bias[g * mPerGroup + m];
    }
  }
}

namespace {

LogicalResult convKernel(Operation *op, KernelContext &ctx) {
  auto conv = cast<ConvOp>(op);
  const Tensor &input = ctx.get(conv.getInput());
  const Tensor &weight = ctx.get(conv.getWeight());
  const Tensor *bias = ctx.getOptional(conv.getBias());
  Tensor &out = ctx.result();
  if (!isFloat(input.dtype))
    return ctx.fail("conv on integer tensors is not supported (use "
                    "conv_integer)");
  if (input.dtype == DType::F64) {
    // Double precision: im2col in float would lose digits; use a direct
    // loop via the float path on converted copies is not exact either, so
    // compute straight from the definition.
    return convDirect(input, weight, bias, out, conv.getStrides(),
                      conv.getPads(), conv.getDilations(), conv.getGroup())
               ? success()
               : ctx.fail("conv failed");
  }
  Tensor x = toFloat32(input), w = toFloat32(weight);
  Tensor b = bias ? toFloat32(*bias) : Tensor();
  Tensor y("", DType::F32, out.shape);
  convFloat(x.as<float>(), x.shape, w.as<float>(), w.shape,
            bias ? b.as<float>() : nullptr, y.as<float>(), y.shape,
            conv.getStrides(), conv.getPads(), conv.getDilations(),
            conv.getGroup());
  fromFloat32(y, out);
  return success();
}

/// Splits numpy matmul operands into batches of (m x k) x (k x n).
struct MatMulPlan {
  int64_t m, k, n, batches;
  llvm::SmallVector<int64_t> batchShape;
  llvm::SmallVector<int64_t> lhsBatchShape, rhsBatchShape;
};

MatMulPlan planMatMul(llvm::ArrayRef<int64_t> lhs, llvm::ArrayRef<int64_t> rhs,
                      llvm::ArrayRef<int64_t> out) {
  MatMulPlan plan;
  llvm::SmallVector<int64_t> a(lhs), b(rhs);
  if (a.size() == 1)
    a.insert(a.begin(), 1);
  if (b.size() == 1)
    b.push_back(1);
  plan.m = a[a.size() - 2];
  plan.k = a.back();
  plan.n = b.back();
  plan.lhsBatchShape.assign(a.begin(), a.end() - 2);
  plan.rhsBatchShape.assign(b.begin(), b.end() - 2);
  size_t rank = std::max(plan.lhsBatchShape.size(), plan.rhsBatchShape.size());
  plan.batchShape.assign(rank, 1);
  for (size_t i = 0; i < rank; ++i) {
    int64_t l = i < rank - plan.lhsBatchShape.size()
                    ? 1
                    : plan.lhsBatchShape[i - (rank - plan.lhsBatchShape.size())];
    int64_t r = i < rank - plan.rhsBatchShape.size()
                    ? 1
                    : plan.rhsBatchShape[i - (rank - plan.rhsBatchShape.size())];
    plan.batchShape[i] = std::max(l, r);
  }
  plan.batches = 1;
  for (int64_t d : plan.batchShape)
    plan.batches *= d;
  (void)out;
  return plan;
}

LogicalResult matmulKernel(Operation *op, KernelContext &ctx) {
  auto matmul = cast<MatMulOp>(op);
  const Tensor &lhs = ctx.get(matmul.getLhs());
  const Tensor &rhs = ctx.get(matmul.getRhs());
  Tensor &out = ctx.result();
  MatMulPlan plan = planMatMul(lhs.shape, rhs.shape, out.shape);
  BroadcastIterator it(plan.batchShape,
                       {plan.lhsBatchShape, plan.rhsBatchShape});
  int64_t lhsStride = plan.m * plan.k, rhsStride = plan.k * plan.n,
          outStride = plan.m * plan.n;
  if (isFloat(out.dtype) && out.dtype != DType::F64) {
    Tensor a = toFloat32(lhs), b = toFloat32(rhs);
    Tensor y("", DType::F32, out.shape);
    for (int64_t batch = 0; batch < plan.batches; ++batch, it.next())
      gemmFloat(a.as<float>() + it.offset(0) * lhsStride,
                b.as<float>() + it.offset(1) * rhsStride,
                y.as<float>() + batch * outStride, plan.m, plan.k, plan.n,
                false, false, false);
    fromFloat32(y, out);
    return success();
  }
  if (out.dtype == DType::F64) {
    for (int64_t batch = 0; batch < plan.batches; ++batch, it.next())
      gemmDouble(lhs.as<double>() + it.offset(0) * lhsStride,
                 rhs.as<double>() + it.offset(1) * rhsStride,
                 out.as<double>() + batch * outStride, plan.m, plan.k,
                 plan.n);
    return success();
  }
  // Integers: exact wrapping arithmetic in int64.
  for (int64_t batch = 0; batch < plan.batches; ++batch, it.next()) {
    int64_t a0 = it.offset(0) * lhsStride, b0 = it.offset(1) * rhsStride;
    for (int64_t i = 0; i < plan.m; ++i)
      for (int64_t j = 0; j < plan.n; ++j) {
        uint64_t acc = 0;
        for (int64_t p = 0; p < plan.k; ++p)
          acc += static_cast<uint64_t>(loadInt(lhs, a0 + i * plan.k + p)) *
                 static_cast<uint64_t>(loadInt(rhs, b0 + p * plan.n + j));
        storeInt(out, batch * outStride + i * plan.n + j,
                 static_cast<int64_t>(acc));
      }
  }
  return success();
}

LogicalResult gemmKernel(Operation *op, KernelContext &ctx) {
  auto gemm = cast<GemmOp>(op);
  const Tensor &a = ctx.get(gemm.getA());
  const Tensor &b = ctx.get(gemm.getB());
  const Tensor *c = ctx.getOptional(gemm.getC());
  Tensor &out = ctx.result();
  int64_t m = out.shape[0], n = out.shape[1];
  int64_t k = gemm.getTransA() ? a.shape[0] : a.shape[1];
  double alpha = gemm.getAlpha().convertToDouble();
  double beta = gemm.getBeta().convertToDouble();
  if (isFloat(out.dtype)) {
    Tensor af = toFloat32(a), bf = toFloat32(b);
    Tensor y("", DType::F32, out.shape);
    gemmFloat(af.as<float>(), bf.as<float>(), y.as<float>(), m, k, n,
              gemm.getTransA(), gemm.getTransB(), false);
    float *yv = y.as<float>();
    if (alpha != 1.0)
      for (int64_t i = 0; i < m * n; ++i)
        yv[i] = static_cast<float>(yv[i] * alpha);
    if (c) {
      BroadcastIterator it(out.shape, {c->shape});
      for (int64_t i = 0; i < m * n; ++i, it.next())
        yv[i] = static_cast<float>(yv[i] + beta * loadFloat(*c, it.offset(0)));
    }
    fromFloat32(y, out);
    return success();
  }
  llvm::ArrayRef<int64_t> cShape;
  if (c)
    cShape = c->shape;
  BroadcastIterator it(out.shape, {cShape});
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j, it.next()) {
      int64_t acc = 0;
      for (int64_t p = 0; p < k; ++p) {
        int64_t av = loadInt(a, gemm.getTransA() ? p * m + i : i * k + p);
        int64_t bv = loadInt(b, gemm.getTransB() ? j * k + p : p * n + j);
        acc += av * bv;
      }
      double value = alpha * static_cast<double>(acc);
      if (c)
        value += beta * static_cast<double>(loadInt(*c, it.offset(0)));
      storeInt(out, i * n + j, static_cast<int64_t>(value));
    }
  return success();
}

} // namespace

bool convDirect(const Tensor &input, const Tensor &weight, const Tensor *bias,
                Tensor &out, llvm::ArrayRef<int64_t> strides,
                llvm::ArrayRef<int64_t> pads,
                llvm::ArrayRef<int64_t> dilations, int64_t group) {
  size_t rank = input.shape.size() - 2;
  int64_t batch = input.shape[0], channels = input.shape[1];
  int64_t outChannels = out.shape[1];
  int64_t cPerGroup = channels / group, mPerGroup = outChannels / group;
  llvm::ArrayRef<int64_t> spatialIn = llvm::ArrayRef(input.shape).drop_front(2);
  llvm::ArrayRef<int64_t> spatialOut = llvm::ArrayRef(out.shape).drop_front(2);
  llvm::ArrayRef<int64_t> kernel = llvm::ArrayRef(weight.shape).drop_front(2);
  int64_t inSize = 1, outSize = 1, kernelSize = 1;
  for (size_t d = 0; d < rank; ++d) {
    inSize *= spatialIn[d];
    outSize *= spatialOut[d];
    kernelSize *= kernel[d];
  }
  llvm::SmallVector<int64_t> oIndex(rank), kIndex(rank);
  for (int64_t n = 0; n < batch; ++n)
    for (int64_t m = 0; m < outChannels; ++m) {
      int64_t g = m / mPerGroup;
      for (int64_t o = 0; o < outSize; ++o) {
        for (int64_t d = rank - 1, rest = o; d >= 0; --d) {
          oIndex[d] = rest % spatialOut[d];
          rest /= spatialOut[d];
        }
        double acc = bias ? loadFloat(*bias, m) : 0.0;
        for (int64_t c = 0; c < cPerGroup; ++c)
          for (int64_t k = 0; k < kernelSize; ++k) {
            for (int64_t d = rank - 1, rest = k; d >= 0; --d) {
              kIndex[d] = rest % kernel[d];
              rest /= kernel[d];
            }
            int64_t offset = 0;
            bool inside = true;
            for (size_t d = 0; d < rank && inside; ++d) {
              int64_t pos = oIndex[d] * strides[d] - pads[d] +
                            kIndex[d] * dilations[d];
              inside = pos >= 0 && pos < spatialIn[d];
              offset = offset * spatialIn[d] + pos;
            }
            if (!inside)
              continue;
            acc += loadFloat(input, (n * channels + g * cPerGroup + c) *
                                            inSize +
                                        offset) *
                   loadFloat(weight, (m * cPerGroup + c) * kernelSize + k);
          }
        storeFloat(out, (n * outChannels + m) * outSize + o, acc);
      }
    }
  return true;
}

void registerLinearKernels(KernelRegistry &r) {
  r.add<ConvOp>(convKernel);
  r.add<MatMulOp>(matmulKernel);
  r.add<GemmOp>(gemmKernel);
}

} // namespace kiln::eval
