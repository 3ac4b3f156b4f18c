//===- LowBit.cpp - Kernels of kiln.lowbit_linear and kiln.fake_quant -*- C++ -*-//
// SPDX-License-Identifier: Apache-2.0
//
// The evaluator reads the stored weight of a low-bit linear layer (codes,
// scales, zeros) from the op's operands into kiln::quant::LowBitWeights and
// runs kiln::quant::lowBitLinearForward, the arithmetic the op's
// description specifies; kiln.fake_quant runs kiln::quant's group
// quantizers. No arithmetic of its own lives here, so the evaluator, the
// quantization passes (which search and measure with the same functions)
// and the unit tests of compiler/quant agree by construction.
//
//===----------------------------------------------------------------------===//

#include "compiler/evaluator/Kernel.h"

#include "dialects/kiln/KilnOps.h"
#include "kiln/quant/GroupInt4.h"
#include "kiln/quant/Int8.h"
#include "kiln/quant/LowBitLinear.h"

using namespace mlir;
using namespace mlir::kiln;

namespace kq = ::kiln::quant;

namespace kiln::eval {
namespace {

/// Returns the low 4 bits of |byte| as a signed value (i4 storage: the
/// upper bits of the byte are not relied on).
int8_t signExtend4(uint8_t byte) {
  return static_cast<int8_t>(static_cast<uint8_t>(byte << 4)) >> 4;
}

/// Returns a kiln::Status failure as the kernel's result.
LogicalResult fail(KernelContext &ctx, const Status &status) {
  return ctx.fail(status.diagnostics().empty()
                      ? std::string("failed")
                      : status.diagnostics().front().message);
}

LogicalResult lowbitLinear(Operation *op, KernelContext &ctx) {
  auto linear = cast<LowBitLinearOp>(op);
  auto weightFormat = kq::parseWeightFormat(linear.getWeightFormat().str());
  auto actFormat = kq::parseActFormat(linear.getActFormat().str());
  if (!weightFormat)
    return fail(ctx, weightFormat.status());
  if (!actFormat)
    return fail(ctx, actFormat.status());
  const Tensor &w = ctx.get(linear.getWeight());
  const Tensor &scales = ctx.get(linear.getScales());

  kq::LowBitWeights weights;
  weights.format = *weightFormat;
  weights.rows = w.shape[0];
  weights.cols = w.shape[1];
  weights.groupSize = linear.getWeightGroupSize();
  const int64_t count = w.numElements();
  weights.codes.resize(static_cast<size_t>(count));
  const uint8_t *raw = w.as<uint8_t>();
  for (int64_t i = 0; i < count; ++i) {
    switch (w.dtype) {
    case DType::I8:
      weights.codes[i] = static_cast<int8_t>(raw[i]);
      break;
    case DType::I4:
      weights.codes[i] = signExtend4(raw[i]);
      break;
    default: // ui4 and f4E2M1FN codes: the low nibble.
      weights.codes[i] = static_cast<int8_t>(raw[i] & 0xf);
      break;
    }
  }
  if (scales.dtype == DType::F32) {
    weights.scales.assign(scales.as<float>(),
                          scales.as<float>() + scales.numElements());
  } else {
    // NVFP4 block scales: E4M3 bits.
    weights.blockScales.assign(scales.as<uint8_t>(),
                               scales.as<uint8_t>() + scales.numElements());
  }
  if (const Tensor *zeros = ctx.getOptional(linear.getZeros()))
    for (int64_t i = 0; i < zeros->numElements(); ++i)
      weights.zeros.push_back(zeros->dtype == DType::U4
                                  ? (zeros->as<uint8_t>()[i] & 0xf)
                                  : zeros->as<uint8_t>()[i]);
  if (const Tensor *s2 = ctx.getOptional(linear.getGroupScales()))
    weights.groupScales.assign(s2->as<uint8_t>(),
                               s2->as<uint8_t>() + s2->numElements());
  if (const Tensor *ts = ctx.getOptional(linear.getTensorScale()))
    weights.tensorScale = ts->as<float>()[0];

  kq::ActQuant act;
  act.format = *actFormat;
  act.groupSize = linear.getActGroupSize();
  act.metric = linear.getFp4Error() == "mae" ? kq::BlockErrorMetric::Mae
                                             : kq::BlockErrorMetric::Mse;

  const Tensor &x = ctx.get(linear.getInput());
  const int64_t k = weights.cols;
  kq::MatrixRef xm(x.as<float>(), x.numElements() / k, k);
  const Tensor *bias = ctx.getOptional(linear.getBias());
  auto y = kq::lowBitLinearForward(xm, weights, act,
                                   bias ? bias->as<float>() : nullptr);
  if (!y)
    return fail(ctx, y.status());
  Tensor &out = ctx.result();
  copyBytes(out.data.data(), y->data.data(), y->data.size() * sizeof(float));
  return success();
}

LogicalResult fakeQuant(Operation *op, KernelContext &ctx) {
  auto fq = cast<FakeQuantOp>(op);
  const Tensor &x = ctx.get(fq.getInput());
  Tensor &out = ctx.result();
  const int64_t axis = fq.getAxis(), group = fq.getGroupSize();
  const int64_t dim = x.shape[axis];
  int64_t outer = 1, inner = 1;
  for (int64_t d = 0; d < axis; ++d)
    outer *= x.shape[d];
  for (size_t d = axis + 1; d < x.shape.size(); ++d)
    inner *= x.shape[d];
  // Gather every group into one row of a [rows, group] matrix (rows in
  // the order outer, inner, group index), quantize the rows, scatter back.
  const int64_t groups = dim / group;
  const int64_t rows = outer * inner * groups;
  kq::Matrix m(rows, group);
  auto index = [&](int64_t o, int64_t i, int64_t j) {
    return (o * dim + j) * inner + i;
  };
  const float *in = x.as<float>();
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = 0; i < inner; ++i)
      for (int64_t g = 0; g < groups; ++g)
        for (int64_t e = 0; e < group; ++e)
          m.at((o * inner + i) * groups + g, e) =
              in[index(o, i, g * group + e)];
  Result<kq::Matrix> q = Status::error("unknown format");
  StringRef format = fq.getFormat();
  if (format == "int8") {
    auto r = kq::quantizeInt8PerRow(m, 127);
    if (r)
      q = r->dequantize();
    else
      q = r.status();
  } else {
    q = kq::fakeQuantGroupInt4(m, group,
                               format == "int4-sym" ? kq::Int4Kind::Symmetric
                                                    : kq::Int4Kind::Asymmetric);
  }
  if (!q)
    return fail(ctx, q.status());
  float *o = out.as<float>();
  for (int64_t a = 0; a < outer; ++a)
    for (int64_t i = 0; i < inner; ++i)
      for (int64_t g = 0; g < groups; ++g)
        for (int64_t e = 0; e < group; ++e)
          o[index(a, i, g * group + e)] =
              q->at((a * inner + i) * groups + g, e);
  return success();
}

} // namespace

void registerLowBitKernels(KernelRegistry &r) {
  r.add<LowBitLinearOp>(lowbitLinear);
  r.add<FakeQuantOp>(fakeQuant);
}

} // namespace kiln::eval
