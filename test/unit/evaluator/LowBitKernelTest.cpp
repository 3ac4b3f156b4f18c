//===- LowBitKernelTest.cpp - Evaluator kernels of the low-bit ops -*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// Builds kiln.lowbit_linear / kiln.fake_quant ops whose operands hold the
// stored form of kiln::quant's quantizers, runs them through the reference
// evaluator (evaluateOp) and compares with the library's independent
// reference functions: bit for bit where the op's semantics equal them
// (QoQ W4A8 = qoqForward, W4A16 and NVFP4 = quantizedLinear, the KV cache =
// quantizeKvCache4), bit for bit against an integer computation written
// here (W8A8, W4A4), and within float rounding against quantizedLinear.
//
//===----------------------------------------------------------------------===//

#include "compiler/evaluator/Evaluator.h"
#include "compiler/support/TensorAttr.h"
#include "dialects/kiln/KilnDialect.h"
#include "dialects/kiln/KilnOps.h"
#include "kiln/quant/FakeQuant.h"
#include "kiln/quant/GroupInt4.h"
#include "kiln/quant/Int8.h"
#include "kiln/quant/LowBitLinear.h"
#include "kiln/quant/Qoq.h"
#include "kiln/quant/Smooth.h"

#include "TestUtil.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Verifier.h"

#include <gtest/gtest.h>

namespace {

using namespace kiln::quant;
using kiln::DType;
using kiln::Tensor;
using kiln::quant::test::randomMatrix;
using kiln::quant::test::withOutlierColumns;

/// Builds and evaluates one kiln.lowbit_linear op on |x| [M, K].
class LowBitHarness {
public:
  LowBitHarness() {
    context.loadDialect<mlir::kiln::KilnDialect, mlir::func::FuncDialect>();
    module = mlir::ModuleOp::create(mlir::UnknownLoc::get(&context));
  }
  ~LowBitHarness() { module->erase(); }

  /// Returns the op's output for |x|, weights |w| and activations |act|.
  kiln::Result<Matrix> run(MatrixRef x, const LowBitWeights &w,
                           const ActQuant &act,
                           const std::vector<float> *bias = nullptr) {
    mlir::OpBuilder b(&context);
    b.setInsertionPointToEnd(module.getBody());
    mlir::Location loc = b.getUnknownLoc();
    std::vector<Tensor> operands;
    auto add = [&](Tensor t, mlir::Type element) {
      operands.push_back(std::move(t));
      return mlir::RankedTensorType::get(operands.back().shape, element);
    };
    auto ui = [&](unsigned width) {
      return mlir::IntegerType::get(&context, width,
                                    mlir::IntegerType::Unsigned);
    };
    const int64_t n = w.rows, k = w.cols, groups = w.groupsPerRow();
    llvm::SmallVector<mlir::Type> types;
    Tensor xt("x", DType::F32, {x.rows, k});
    std::copy(x.data, x.data + x.size(), xt.as<float>());
    types.push_back(add(std::move(xt), b.getF32Type()));
    // Codes.
    DType codeType = DType::I8;
    mlir::Type codeElement = b.getIntegerType(8);
    if (w.format == WeightFormat::Int4Sym)
      codeType = DType::I4, codeElement = b.getIntegerType(4);
    else if (w.format == WeightFormat::Int4Asym ||
             w.format == WeightFormat::Qoq)
      codeType = DType::U4, codeElement = ui(4);
    else if (w.format == WeightFormat::NvFp4 ||
             w.format == WeightFormat::NvFp4FourOverSix)
      codeType = DType::F4E2M1,
      codeElement = mlir::Float4E2M1FNType::get(&context);
    Tensor codes("", codeType, {n, k});
    std::copy(w.codes.begin(), w.codes.end(), codes.as<int8_t>());
    types.push_back(add(std::move(codes), codeElement));
    unsigned segments[7] = {1, 1, 1, 0, 0, 0, 0};
    if (!w.blockScales.empty()) {
      Tensor s("", DType::F8E4M3FN, {n, groups});
      std::copy(w.blockScales.begin(), w.blockScales.end(),
                s.as<uint8_t>());
      types.push_back(add(std::move(s), mlir::Float8E4M3FNType::get(&context)));
    } else {
      std::vector<int64_t> shape =
          w.scales.size() == static_cast<size_t>(n)
              ? std::vector<int64_t>{n}
              : std::vector<int64_t>{n, groups};
      Tensor s("", DType::F32, shape);
      std::copy(w.scales.begin(), w.scales.end(), s.as<float>());
      types.push_back(add(std::move(s), b.getF32Type()));
    }
    if (!w.zeros.empty()) {
      bool qoq = w.format == WeightFormat::Qoq;
      Tensor z("", qoq ? DType::U8 : DType::U4, {n, groups});
      std::copy(w.zeros.begin(), w.zeros.end(), z.as<uint8_t>());
      types.push_back(add(std::move(z), ui(qoq ? 8 : 4)));
      segments[3] = 1;
    }
    if (!w.groupScales.empty()) {
      Tensor s2("", DType::U8, {n, groups});
      std::copy(w.groupScales.begin(), w.groupScales.end(),
                s2.as<uint8_t>());
      types.push_back(add(std::move(s2), ui(8)));
      segments[4] = 1;
    }
    if (!w.blockScales.empty()) {
      Tensor ts("", DType::F32, {1});
      ts.as<float>()[0] = w.tensorScale;
      types.push_back(add(std::move(ts), b.getF32Type()));
      segments[5] = 1;
    }
    if (bias) {
      Tensor bt("", DType::F32, {n});
      std::copy(bias->begin(), bias->end(), bt.as<float>());
      types.push_back(add(std::move(bt), b.getF32Type()));
      segments[6] = 1;
    }
    auto outType = mlir::RankedTensorType::get({x.rows, n}, b.getF32Type());
    auto func = mlir::func::FuncOp::create(
        b, loc, "f", b.getFunctionType(types, {outType}));
    mlir::Block *body = func.addEntryBlock();
    b.setInsertionPointToEnd(body);
    auto arg = [&](unsigned i) { return body->getArgument(i); };
    unsigned next = 3;
    mlir::Value zeros = segments[3] ? arg(next++) : mlir::Value();
    mlir::Value s2 = segments[4] ? arg(next++) : mlir::Value();
    mlir::Value ts = segments[5] ? arg(next++) : mlir::Value();
    mlir::Value bv = segments[6] ? arg(next++) : mlir::Value();
    auto op = mlir::kiln::LowBitLinearOp::create(
        b, loc, outType, arg(0), arg(1), arg(2), zeros, s2, ts, bv,
        weightFormatName(w.format), w.format == WeightFormat::Int8 ? 0
                                                                   : w.groupSize,
        actFormatName(act.format), act.groupSize,
        act.metric == BlockErrorMetric::Mae ? "mae" : "mse");
    mlir::func::ReturnOp::create(b, loc, op.getResult());
    if (mlir::failed(mlir::verify(op)))
      return kiln::Status::error("the op does not verify");
    std::string error;
    auto out = kiln::evaluateOp(op, operands, error);
    if (!out)
      return kiln::Status::error(error);
    const Tensor &y = out->front();
    return Matrix(x.rows, n,
                  std::vector<float>(y.as<float>(),
                                     y.as<float>() + y.numElements()));
  }

  mlir::MLIRContext context;
  mlir::ModuleOp module;
};

/// Asserts that |a| and |b| are equal bit for bit.
void expectBitExact(MatrixRef a, MatrixRef b) {
  ASSERT_EQ(a.rows, b.rows);
  ASSERT_EQ(a.cols, b.cols);
  for (int64_t i = 0; i < a.size(); ++i)
    ASSERT_EQ(a.data[i], b.data[i]) << "element " << i;
}

/// Asserts that |a| and |b| agree to |relative| of b's largest magnitude.
void expectClose(MatrixRef a, MatrixRef b, double relative) {
  double scale = 0.0;
  for (int64_t i = 0; i < b.size(); ++i)
    scale = std::max(scale, std::fabs(static_cast<double>(b.data[i])));
  for (int64_t i = 0; i < a.size(); ++i)
    ASSERT_NEAR(a.data[i], b.data[i], relative * scale) << "element " << i;
}

/// Activations with outlier channels, the case the schemes are built for
/// (channels 3, 70 and 200, those that exist for |k| input features).
Matrix activations(int64_t m, int64_t k, uint32_t seed) {
  std::vector<int64_t> outliers;
  for (int64_t c : {3, 70, 200})
    if (c < k)
      outliers.push_back(c);
  return withOutlierColumns(randomMatrix(m, k, seed), outliers, 20.0f);
}

TEST(LowBitLinearKernel, W8A8IsExactIntegerArithmetic) {
  Matrix x = activations(16, 256, 1), w = randomMatrix(24, 256, 2, 0.05f);
  KILN_ASSERT_OK_AND_ASSIGN(q, quantizeLowBitWeights(w, WeightFormat::Int8, 0));
  // The stored codes are quantizeWeightsInt8PerChannel's.
  KILN_ASSERT_OK_AND_ASSIGN(ref, quantizeWeightsInt8PerChannel(w));
  ASSERT_EQ(q.codes, ref.values);
  ASSERT_EQ(q.scales, ref.scales);
  LowBitHarness h;
  std::vector<float> bias(24, 0.0f);
  for (int i = 0; i < 24; ++i)
    bias[i] = 0.01f * i;
  KILN_ASSERT_OK_AND_ASSIGN(
      y, h.run(x, q, ActQuant{ActFormat::Int8, 0, BlockErrorMetric::Mse},
               &bias));
  // int32 dot products of the per-token codes, one float scaling each.
  KILN_ASSERT_OK_AND_ASSIGN(qa, quantizeActivationsInt8PerToken(x));
  Matrix expected(16, 24);
  for (int64_t m = 0; m < 16; ++m)
    for (int64_t n = 0; n < 24; ++n) {
      int32_t acc = 0;
      for (int64_t k = 0; k < 256; ++k)
        acc += qa.values[m * 256 + k] * ref.values[n * 256 + k];
      expected.at(m, n) =
          static_cast<float>(acc) * (qa.scales[m] * ref.scales[n]) + bias[n];
    }
  expectBitExact(y, expected);
  // And the same layer as kiln::quant's fake-quantized reference.
  KILN_ASSERT_OK_AND_ASSIGN(
      fq, quantizedLinear(x, w, QuantSpec::int8PerRow(),
                          QuantSpec::int8PerRow()));
  for (int64_t m = 0; m < 16; ++m)
    for (int64_t n = 0; n < 24; ++n)
      fq.at(m, n) += bias[n];
  expectClose(y, fq, 1e-6);
}

TEST(LowBitLinearKernel, W4A8EqualsQoqForward) {
  Matrix x = activations(16, 256, 3), w = randomMatrix(32, 256, 4, 0.05f);
  KILN_ASSERT_OK_AND_ASSIGN(q,
                            quantizeLowBitWeights(w, WeightFormat::Qoq, 128));
  LowBitHarness h;
  KILN_ASSERT_OK_AND_ASSIGN(
      y, h.run(x, q, ActQuant{ActFormat::Int8, 0, BlockErrorMetric::Mse}));
  KILN_ASSERT_OK_AND_ASSIGN(qoq, quantizeQoqWeights(w, 128));
  KILN_ASSERT_OK_AND_ASSIGN(expected, qoqForward(x, qoq));
  expectBitExact(y, expected);
}

TEST(LowBitLinearKernel, W4A16EqualsQuantizedLinear) {
  Matrix x = activations(8, 256, 5), w = randomMatrix(16, 256, 6, 0.05f);
  KILN_ASSERT_OK_AND_ASSIGN(
      q, quantizeLowBitWeights(w, WeightFormat::Int4Asym, 128));
  LowBitHarness h;
  KILN_ASSERT_OK_AND_ASSIGN(y, h.run(x, q, ActQuant{}));
  KILN_ASSERT_OK_AND_ASSIGN(
      expected, quantizedLinear(x, w, QuantSpec::int4GroupAsym(128),
                                QuantSpec::none()));
  expectBitExact(y, expected);
}

TEST(LowBitLinearKernel, W4A4IsPerGroupIntegerArithmetic) {
  Matrix x = activations(8, 256, 7), w = randomMatrix(16, 256, 8, 0.05f);
  KILN_ASSERT_OK_AND_ASSIGN(
      q, quantizeLowBitWeights(w, WeightFormat::Int4Sym, 64));
  LowBitHarness h;
  KILN_ASSERT_OK_AND_ASSIGN(
      y, h.run(x, q, ActQuant{ActFormat::Int4Sym, 64, BlockErrorMetric::Mse}));
  KILN_ASSERT_OK_AND_ASSIGN(qa, quantizeGroupInt4(x, 64, Int4Kind::Symmetric));
  KILN_ASSERT_OK_AND_ASSIGN(qw, quantizeGroupInt4(w, 64, Int4Kind::Symmetric));
  Matrix expected(8, 16);
  for (int64_t m = 0; m < 8; ++m)
    for (int64_t n = 0; n < 16; ++n) {
      float sum = 0.0f;
      for (int64_t g = 0; g < 4; ++g) {
        int32_t acc = 0;
        for (int64_t k = g * 64; k < (g + 1) * 64; ++k)
          acc += qa.values[m * 256 + k] * qw.values[n * 256 + k];
        sum += static_cast<float>(acc) *
               (qa.scales[m * 4 + g] * qw.scales[n * 4 + g]);
      }
      expected.at(m, n) = sum;
    }
  expectBitExact(y, expected);
  KILN_ASSERT_OK_AND_ASSIGN(
      fq, quantizedLinear(x, w, QuantSpec::int4GroupSym(64),
                          QuantSpec::int4GroupSym(64)));
  expectClose(y, fq, 1e-6);
}

TEST(LowBitLinearKernel, NvFp4EqualsQuantizedLinear) {
  Matrix x = activations(8, 128, 9), w = randomMatrix(16, 128, 10, 0.05f);
  LowBitHarness h;
  for (bool fourOverSix : {false, true}) {
    WeightFormat wf =
        fourOverSix ? WeightFormat::NvFp4FourOverSix : WeightFormat::NvFp4;
    ActFormat af = fourOverSix ? ActFormat::NvFp4FourOverSix : ActFormat::NvFp4;
    KILN_ASSERT_OK_AND_ASSIGN(q, quantizeLowBitWeights(w, wf, 16));
    KILN_ASSERT_OK_AND_ASSIGN(
        y, h.run(x, q, ActQuant{af, 16, BlockErrorMetric::Mse}));
    QuantSpec spec =
        fourOverSix ? QuantSpec::nvfp4FourOverSix() : QuantSpec::nvfp4();
    KILN_ASSERT_OK_AND_ASSIGN(expected, quantizedLinear(x, w, spec, spec));
    expectBitExact(y, expected);
  }
}

TEST(LowBitLinearKernel, FakeQuantIsTheKvCacheQuantizer) {
  // Values [1, H, T, D] quantized per head and token along D equal
  // quantizeKvCache4 on the [T, H * D] cache.
  const int64_t heads = 4, tokens = 6, dim = 8;
  Matrix cache = withOutlierColumns(randomMatrix(tokens, heads * dim, 11),
                                    {5, 17}, 12.0f);
  Tensor v("v", DType::F32, {1, heads, tokens, dim});
  for (int64_t h = 0; h < heads; ++h)
    for (int64_t t = 0; t < tokens; ++t)
      for (int64_t d = 0; d < dim; ++d)
        v.as<float>()[(h * tokens + t) * dim + d] = cache.at(t, h * dim + d);
  mlir::MLIRContext context;
  context.loadDialect<mlir::kiln::KilnDialect, mlir::func::FuncDialect>();
  mlir::OpBuilder b(&context);
  auto type = mlir::RankedTensorType::get(v.shape, b.getF32Type());
  auto module = mlir::ModuleOp::create(b.getUnknownLoc());
  b.setInsertionPointToEnd(module.getBody());
  auto func = mlir::func::FuncOp::create(b, b.getUnknownLoc(), "f",
                                         b.getFunctionType({type}, {type}));
  b.setInsertionPointToEnd(func.addEntryBlock());
  auto op = mlir::kiln::FakeQuantOp::create(
      b, b.getUnknownLoc(), type, func.getArgument(0),
      b.getStringAttr("int4-asym"), b.getI64IntegerAttr(3),
      b.getI64IntegerAttr(dim));
  mlir::func::ReturnOp::create(b, b.getUnknownLoc(), op.getResult());
  std::string error;
  auto out = kiln::evaluateOp(op, {v}, error);
  ASSERT_TRUE(out) << error;
  KILN_ASSERT_OK_AND_ASSIGN(kv, quantizeKvCache4(cache, dim));
  Matrix expected = kv.dequantize();
  const float *y = out->front().as<float>();
  for (int64_t h = 0; h < heads; ++h)
    for (int64_t t = 0; t < tokens; ++t)
      for (int64_t d = 0; d < dim; ++d)
        ASSERT_EQ(y[(h * tokens + t) * dim + d], expected.at(t, h * dim + d));
  module->erase();
}

} // namespace
