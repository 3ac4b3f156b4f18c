//===- LowBit.cpp - kiln-quantize-lowbit -------------------------*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// The transformer quantization schemes (see Passes.td for the contract).
// The pass runs in five steps:
//
// 1. find the linear layers (matmul / gemm with a constant weight, plus a
//    bias add) and the attentions (softmax(Q K^T ...) V as matmuls);
// 2. calibrate: run the reference evaluator on the samples of `data` and
//    keep, per layer input, the per-channel maxima and a bounded sample of
//    rows; per attention, the key channel maxima;
// 3. SmoothAttention (kv-bits=4): fold lambda into the query and key
//    projections (Smooth.cpp's engine proves the fold through RoPE);
// 4. smoothing, layer groups (linears sharing an input) from last to
//    first: search alpha with the scheme's own quantized layer
//    (kiln::quant::lowBitLinearForward, the op's semantics) as the
//    objective, fold 1/s into the producers and s into the weights;
// 5. rewrite: KV-cache fake quantization, then each layer into
//    kiln.lowbit_linear (and SVDQuant's low-rank branch), and the report.
//
// Calibration statistics are taken once on the float model. Every fold
// preserves the float function, so a layer's input in the smoothed model is
// its original input divided by its own s; the statistics stay valid.
//
//===----------------------------------------------------------------------===//

#include "passes/quant/LowBit.h"
#include "passes/quant/Passes.h"

#include "compiler/evaluator/Evaluator.h"
#include "compiler/evaluator/Samples.h"
#include "compiler/support/Numeric.h"
#include "compiler/support/TensorAttr.h"
#include "dialects/kiln/KilnOps.h"
#include "kiln/quant/LowBitLinear.h"
#include "kiln/quant/Metrics.h"
#include "kiln/quant/Qoq.h"
#include "kiln/quant/Smooth.h"
#include "kiln/quant/SvdQuant.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/SetVector.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/raw_ostream.h"

#include <cmath>
#include <cstdlib>
#include <deque>

namespace mlir::kiln {

#define GEN_PASS_DEF_KILNQUANTIZELOWBITPASS
#include "passes/quant/Passes.h.inc"

namespace {

namespace kq = ::kiln::quant;
using ::kiln::DType;
using ::kiln::Result;
using ::kiln::Tensor;
using lowbit::Divisor;
using lowbit::FoldPlan;
using lowbit::Linear;

/// What a scheme does.
struct SchemeConfig {
  bool smooth = false;
  kq::WeightFormat weight = kq::WeightFormat::Int8;
  int64_t weightGroup = 0;
  kq::ActFormat act = kq::ActFormat::None;
  int64_t actGroup = 0;
  bool lowRank = false;
};

/// Returns the configuration of |scheme|, or nothing for an unknown name.
std::optional<SchemeConfig> schemeConfig(StringRef scheme) {
  using W = kq::WeightFormat;
  using A = kq::ActFormat;
  SchemeConfig c;
  if (scheme == "w8a8" || scheme == "w8a8-smooth") {
    c = {scheme == "w8a8-smooth", W::Int8, 0, A::Int8, 0, false};
  } else if (scheme == "w4a16") {
    c = {false, W::Int4Asym, 128, A::None, 0, false};
  } else if (scheme == "w4a4" || scheme == "w4a4-smooth" ||
             scheme == "w4a4-svd") {
    c = {scheme != "w4a4", W::Int4Sym, 64, A::Int4Sym, 64,
         scheme == "w4a4-svd"};
  } else if (scheme == "w4a8") {
    c = {true, W::Qoq, 128, A::Int8, 0, false};
  } else if (scheme == "nvfp4") {
    c = {false, W::NvFp4, 16, A::NvFp4, 16, false};
  } else if (scheme == "nvfp4-4over6") {
    c = {false, W::NvFp4FourOverSix, 16, A::NvFp4FourOverSix, 16, false};
  } else {
    return std::nullopt;
  }
  return c;
}

/// Returns the name of |op| from its location (NameLoc), or its op name.
std::string nameOf(Operation *op) {
  Location loc = op->getLoc();
  if (auto fused = dyn_cast<FusedLoc>(loc))
    if (!fused.getLocations().empty())
      loc = fused.getLocations().front();
  if (auto name = dyn_cast<NameLoc>(loc))
    return name.getName().str();
  return op->getName().getStringRef().str();
}

/// Returns the float32 constant behind |value|, if any.
std::optional<Tensor> floatConstant(Value value) {
  auto constant = value ? value.getDefiningOp<ConstantOp>() : ConstantOp();
  if (!constant)
    return std::nullopt;
  std::optional<Tensor> t = ::kiln::fromElementsAttr(constant.getValue());
  if (!t || t->dtype != DType::F32)
    return std::nullopt;
  return t;
}

/// Returns the shape of |value|'s ranked tensor type.
ArrayRef<int64_t> shapeOf(Value value) {
  return cast<RankedTensorType>(value.getType()).getShape();
}

/// Returns the number of elements of |shape|.
int64_t numel(ArrayRef<int64_t> shape) {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

/// Returns the row-major strides of |shape|.
SmallVector<int64_t> stridesOf(ArrayRef<int64_t> shape) {
  SmallVector<int64_t> s(shape.size(), 1);
  for (int64_t i = static_cast<int64_t>(shape.size()) - 2; i >= 0; --i)
    s[i] = s[i + 1] * shape[i + 1];
  return s;
}

/// Returns true for a float32 ranked tensor value.
bool isF32Tensor(Value value) {
  auto type = dyn_cast<RankedTensorType>(value.getType());
  return type && type.hasStaticShape() && type.getElementType().isF32();
}

/// Returns the bias vector of a constant |c| that broadcasts along the
/// last axis only ([N], [1, N], [1, 1, N], ...), or nothing.
std::optional<std::vector<float>> biasVector(const Tensor &c, int64_t n) {
  if (c.shape.empty() || c.shape.back() != n)
    return std::nullopt;
  for (size_t i = 0; i + 1 < c.shape.size(); ++i)
    if (c.shape[i] != 1)
      return std::nullopt;
  return std::vector<float>(c.as<float>(), c.as<float>() + n);
}

/// Returns the linear layer rooted at |op|, or nothing.
std::optional<Linear> matchLinear(Operation *op) {
  Linear l;
  l.op = op;
  l.name = nameOf(op);
  int64_t n = 0, k = 0;
  if (auto matmul = dyn_cast<MatMulOp>(op)) {
    std::optional<Tensor> w = floatConstant(matmul.getRhs());
    if (!w || w->shape.size() != 2 || !isF32Tensor(matmul.getLhs()) ||
        shapeOf(matmul.getLhs()).size() < 2 ||
        matmul.getLhs().getDefiningOp<ConstantOp>())
      return std::nullopt;
    k = w->shape[0], n = w->shape[1];
    l.weight = kq::Matrix(n, k);
    const float *v = w->as<float>();
    for (int64_t i = 0; i < k; ++i)
      for (int64_t j = 0; j < n; ++j)
        l.weight.at(j, i) = v[i * n + j];
    l.input = matmul.getLhs();
  } else if (auto gemm = dyn_cast<GemmOp>(op)) {
    std::optional<Tensor> b = floatConstant(gemm.getB());
    if (!b || b->shape.size() != 2 || gemm.getTransA() ||
        !isF32Tensor(gemm.getA()) || gemm.getA().getDefiningOp<ConstantOp>())
      return std::nullopt;
    bool t = gemm.getTransB();
    n = t ? b->shape[0] : b->shape[1];
    k = t ? b->shape[1] : b->shape[0];
    float alpha = gemm.getAlpha().convertToFloat();
    l.weight = kq::Matrix(n, k);
    const float *v = b->as<float>();
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = 0; j < k; ++j)
        l.weight.at(i, j) = alpha * (t ? v[i * k + j] : v[j * n + i]);
    if (Value c = gemm.getC()) {
      std::optional<Tensor> ct = floatConstant(c);
      std::optional<std::vector<float>> bias =
          ct ? biasVector(*ct, n) : std::nullopt;
      if (!bias)
        return std::nullopt;
      float beta = gemm.getBeta().convertToFloat();
      for (float &x : *bias)
        x *= beta;
      l.bias = *bias;
    }
    l.input = gemm.getA();
  } else {
    return std::nullopt;
  }
  l.output = op->getResult(0);
  // A following add of a constant [N] vector is the bias.
  if (op->hasOneUse() && l.bias.empty()) {
    Operation *user = *op->getUsers().begin();
    if (auto add = dyn_cast<AddOp>(user)) {
      Value other = add.getLhs() == l.output ? add.getRhs() : add.getLhs();
      std::optional<Tensor> c = floatConstant(other);
      std::optional<std::vector<float>> bias =
          c ? biasVector(*c, n) : std::nullopt;
      if (bias && shapeOf(add.getOutput()) == shapeOf(l.output)) {
        l.bias = *bias;
        l.biasAdd = add;
        l.output = add.getOutput();
      }
    }
  }
  return l;
}

/// One attention: softmax(Q K^T ...) V written with kiln.matmul.
struct Attention {
  /// matmul(Q, K^T) and matmul(P, V).
  MatMulOp scores, values;
  std::string name;
  /// Heads and head dimension of the keys; K^T is [..., H, D, T].
  int64_t heads = 1, headDim = 0;
  /// Elementwise max |K^T| over the calibration samples (K^T's shape).
  std::vector<float> keyMax;
};

/// Returns the attention whose score product is |op|, or nothing.
std::optional<Attention> matchAttention(MatMulOp op) {
  Value q = op.getLhs(), kt = op.getRhs();
  if (q.getDefiningOp<ConstantOp>() || kt.getDefiningOp<ConstantOp>() ||
      !isF32Tensor(q) || !isF32Tensor(kt) || shapeOf(q).size() < 3 ||
      shapeOf(q).size() != shapeOf(kt).size())
    return std::nullopt;
  // Scaling and masking between the product and the softmax.
  Value v = op.getResult();
  Operation *user = nullptr;
  while (v.hasOneUse()) {
    user = *v.getUsers().begin();
    if (isa<SoftmaxOp>(user))
      break;
    if (!isa<DivOp, MulOp, AddOp, SubOp>(user))
      return std::nullopt;
    v = user->getResult(0);
  }
  auto softmax = dyn_cast_or_null<SoftmaxOp>(user);
  if (!softmax || !softmax.getOutput().hasOneUse() ||
      static_cast<int64_t>(softmax.getAxis()) !=
          static_cast<int64_t>(shapeOf(v).size()) - 1)
    return std::nullopt;
  auto pv = dyn_cast<MatMulOp>(*softmax.getOutput().getUsers().begin());
  if (!pv || pv.getLhs() != softmax.getOutput() ||
      !isF32Tensor(pv.getRhs()) || pv.getRhs().getDefiningOp<ConstantOp>() ||
      shapeOf(pv.getRhs()).size() != shapeOf(q).size())
    return std::nullopt;
  Attention a;
  a.scores = op;
  a.values = pv;
  a.name = nameOf(op);
  ArrayRef<int64_t> kts = shapeOf(kt);
  a.headDim = kts[kts.size() - 2];
  a.heads = kts[kts.size() - 3];
  // Grouped-query attention would broadcast heads; not handled.
  if (shapeOf(q)[shapeOf(q).size() - 3] != a.heads)
    return std::nullopt;
  return a;
}

/// Calibration statistics of one layer input [..., K].
struct InputStats {
  int64_t k = 0;
  /// Per-channel max |x| over every calibration token.
  std::vector<float> absMax;
  /// Sampled rows, row-major [numRows, K].
  std::vector<float> rows;
  int64_t numRows = 0;
};

/// A group of linear layers reading the same value.
struct Group {
  Value input;
  SmallVector<Linear *> linears;
  double alpha = -1.0;
  std::vector<float> scales;
  std::string foldedInto;
};

/// Per-layer figures for the report.
struct LayerReport {
  double alpha = -1.0;
  int64_t rank = 0;
  int64_t weightBits = 0;
  std::optional<double> sqnrDb, weightSqnrDb;
  std::string smoothing;
};

struct KilnQuantizeLowBitPass final
    : impl::KilnQuantizeLowBitPassBase<KilnQuantizeLowBitPass> {
  using Base::Base;

  void runOnOperation() override;

private:
  LogicalResult calibrate(func::FuncOp func);
  void smoothAttention(Attention &attention);
  void smoothGroup(Group &group);
  LogicalResult foldSmoothing(Group &group);
  Result<kq::Matrix> emulate(kq::MatrixRef x, kq::MatrixRef w,
                             bool refine = false) const;
  /// SVDQuant's split of |w| at rank |r|, refined against the scheme's
  /// weight quantizer when |refine| (svd-iterations).
  Result<kq::LowRankSplit> splitWeight(kq::MatrixRef w, int64_t r,
                                       bool refine) const;
  LogicalResult emitLinear(Linear &l, LayerReport &report);
  void writeBackFloat(Linear &l);
  void insertKvQuant(Attention &attention);
  void writeReport(func::FuncOp func);

  SchemeConfig config;
  kq::BlockErrorMetric metric = kq::BlockErrorMetric::Mse;
  std::optional<double> fixedAlpha;
  /// The run's state (reset by each run; a deque keeps Linear addresses
  /// stable as it grows, and the pass stays copyable as MLIR requires).
  std::deque<Linear> linears;
  DenseMap<Operation *, Linear *> linearOf;
  std::vector<Group> groups;
  std::vector<Attention> attentions;
  DenseMap<Value, InputStats> stats;
  DenseMap<Linear *, LayerReport> reports;
  std::vector<std::string> kvNotes;
};

/// Returns the rows of |s| as a matrix view.
kq::MatrixRef rowsOf(const InputStats &s) {
  return kq::MatrixRef(s.rows.data(), s.numRows, s.k);
}

LogicalResult KilnQuantizeLowBitPass::calibrate(func::FuncOp func) {
  auto loaded = ::kiln::loadTensors(data);
  if (!loaded) {
    for (const ::kiln::Diagnostic &diag : loaded.status().diagnostics())
      func.emitError() << diag.location << ": " << diag.message;
    return failure();
  }
  auto samples = ::kiln::splitSamples(func, *loaded);
  if (!samples) {
    func.emitError("calibration data does not fit the model: ")
        << samples.status().diagnostics().front().message;
    return failure();
  }
  const int64_t numSamples = static_cast<int64_t>(samples->size());
  const int64_t perSample =
      std::max<int64_t>(1, (maxRows + numSamples - 1) / numSamples);
  for (Linear &l : linears) {
    InputStats &s = stats[l.input];
    s.k = l.weight.cols;
    s.absMax.assign(s.k, 0.0f);
  }
  DenseMap<Value, Attention *> keysOf;
  for (Attention &a : attentions) {
    keysOf[a.scores.getRhs()] = &a;
    a.keyMax.assign(numel(shapeOf(a.scores.getRhs())), 0.0f);
  }
  auto observe = [&](Value value, const Tensor &tensor) {
    if (tensor.dtype != DType::F32)
      return;
    const float *x = tensor.as<float>();
    if (Attention *a = keysOf.lookup(value)) {
      for (size_t i = 0; i < a->keyMax.size(); ++i)
        a->keyMax[i] = std::fmax(a->keyMax[i], std::fabs(x[i]));
    }
    auto it = stats.find(value);
    if (it == stats.end())
      return;
    InputStats &s = it->second;
    const int64_t rows = tensor.numElements() / s.k;
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t c = 0; c < s.k; ++c)
        s.absMax[c] = std::fmax(s.absMax[c], std::fabs(x[r * s.k + c]));
    // Evenly spaced rows of this sample, up to the budget.
    const int64_t take = std::min(perSample, rows);
    for (int64_t i = 0; i < take && s.numRows < maxRows; ++i) {
      int64_t r = i * rows / take;
      s.rows.insert(s.rows.end(), x + r * s.k, x + (r + 1) * s.k);
      ++s.numRows;
    }
  };
  for (const auto &inputs : *samples) {
    auto outputs = ::kiln::evaluateFunction(func, inputs, observe);
    if (!outputs) {
      func.emitError("calibration run failed: ") << outputs.status().str();
      return failure();
    }
  }
  for (auto &[value, s] : stats)
    if (s.numRows == 0) {
      func.emitError("calibration never reached a layer input");
      return failure();
    }
  return success();
}

Result<kq::LowRankSplit>
KilnQuantizeLowBitPass::splitWeight(kq::MatrixRef w, int64_t r,
                                    bool refine) const {
  if (!refine)
    return kq::lowRankSplit(w, r);
  auto quantize = [&](kq::MatrixRef residual) -> Result<kq::Matrix> {
    auto q = kq::quantizeLowBitWeights(residual, config.weight,
                                       config.weightGroup, metric);
    if (!q)
      return q.status();
    return q->dequantize();
  };
  return kq::refineLowRankSplit(w, r, quantize,
                                static_cast<int>(svdIterations));
}

Result<kq::Matrix> KilnQuantizeLowBitPass::emulate(kq::MatrixRef x,
                                                   kq::MatrixRef w,
                                                   bool refine) const {
  kq::ActQuant act{config.act, config.actGroup, metric};
  if (!config.lowRank) {
    auto q = kq::quantizeLowBitWeights(w, config.weight, config.weightGroup,
                                       metric);
    if (!q)
      return q.status();
    return kq::lowBitLinearForward(x, *q, act);
  }
  int64_t r = std::min<int64_t>(rank, std::min(w.rows, w.cols));
  auto split = splitWeight(w, r, refine);
  if (!split)
    return split.status();
  auto q = kq::quantizeLowBitWeights(split->residual, config.weight,
                                     config.weightGroup, metric);
  if (!q)
    return q.status();
  auto y = kq::lowBitLinearForward(x, *q, act);
  if (!y)
    return y.status();
  auto t = kq::matmulTransposed(x, split->l2);
  if (!t)
    return t.status();
  auto low = kq::matmulTransposed(*t, split->l1);
  if (!low)
    return low.status();
  return kq::add(*y, *low);
}

void KilnQuantizeLowBitPass::smoothAttention(Attention &a) {
  Value kt = a.scores.getRhs(), q = a.scores.getLhs();
  ArrayRef<int64_t> ks = shapeOf(kt);
  const int64_t rank = ks.size(), h = a.heads, hd = a.headDim;
  const int64_t t = ks[rank - 1];
  // Per (head, channel) maxima over the batch and the tokens.
  std::vector<float> maxima(h * hd, 0.0f);
  const int64_t batch = static_cast<int64_t>(a.keyMax.size()) / (h * hd * t);
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t i = 0; i < h * hd; ++i)
      for (int64_t j = 0; j < t; ++j)
        maxima[i] = std::fmax(maxima[i], a.keyMax[(b * h * hd + i) * t + j]);
  std::string lastReason;
  for (kq::RopePairing pairing :
       {kq::RopePairing::None, kq::RopePairing::HalfSplit,
        kq::RopePairing::Interleaved}) {
    auto lambda = kq::smoothAttentionScales(
        kq::MatrixRef(maxima.data(), 1, h * hd), hd, 0.5, pairing);
    if (!lambda) {
      lastReason = lambda.status().diagnostics().front().message;
      continue;
    }
    // K^T [.., H, D, T] / lambda, Q [.., H, T, D] * lambda, head h and
    // channel j sharing lambda[h * D + j].
    auto pattern = [&](Value v, int64_t channelAxis, bool inverse) {
      Divisor d;
      ArrayRef<int64_t> shape = shapeOf(v);
      d.shape.assign(shape.begin(), shape.end());
      SmallVector<int64_t> st = stridesOf(shape);
      d.values.resize(numel(shape));
      for (int64_t i = 0; i < static_cast<int64_t>(d.values.size()); ++i) {
        float l = (*lambda)[((i / st[rank - 3]) % h) * hd +
                            (i / st[channelAxis]) % hd];
        d.values[i] = inverse ? 1.0f / l : l;
      }
      return d;
    };
    Divisor kd = pattern(kt, rank - 2, false);
    Divisor qd = pattern(q, rank - 1, true);
    Operation *scores = a.scores;
    FoldPlan kPlan = lowbit::planFold(kt, kd, {scores}, linearOf);
    if (!kPlan.reason.empty()) {
      lastReason = "keys: " + kPlan.reason;
      continue;
    }
    FoldPlan qPlan = lowbit::planFold(q, qd, {scores}, linearOf);
    if (!qPlan.reason.empty()) {
      lastReason = "queries: " + qPlan.reason;
      continue;
    }
    kPlan.apply();
    qPlan.apply();
    const char *names[] = {"none", "rotate-half", "interleaved"};
    kvNotes.push_back(a.name + ": SmoothAttention folded (RoPE pairing " +
                      names[static_cast<int>(pairing)] + ")");
    return;
  }
  a.scores->emitRemark("SmoothAttention not applied: ") << lastReason;
  kvNotes.push_back(a.name + ": SmoothAttention not applied (" + lastReason +
                    ")");
}

LogicalResult KilnQuantizeLowBitPass::foldSmoothing(Group &group) {
  SmallVector<Operation *> consumers;
  for (Linear *l : group.linears)
    consumers.push_back(l->op);
  const int64_t k = static_cast<int64_t>(group.scales.size());
  Value x = group.input;
  Divisor d = lowbit::channelDivisor(shapeOf(x), shapeOf(x).size() - 1,
                                     group.scales);
  // 1. In place, when only the group reads x.
  FoldPlan plan = lowbit::planFold(x, d, consumers, linearOf);
  if (plan.reason.empty()) {
    plan.apply();
    group.foldedInto = "producer";
    return success();
  }
  std::string reason = plan.reason;
  // 2. A copy of a normalization or constant scaling that feeds the group
  //    and others.
  Operation *def = x.getDefiningOp();
  bool clonable =
      def && (isa<LayerNormOp, RMSNormOp>(def) ||
              (isa<MulOp, AddOp>(def) &&
               llvm::any_of(def->getOperands(), [](Value v) {
                 return static_cast<bool>(v.getDefiningOp<ConstantOp>());
               })));
  if (clonable && cast<OpResult>(x).getResultNumber() == 0) {
    OpBuilder builder(def);
    builder.setInsertionPointAfter(def);
    Operation *copy = builder.clone(*def);
    Value xs = copy->getResult(0);
    for (Linear *l : group.linears)
      l->op->replaceUsesOfWith(x, xs);
    FoldPlan copyPlan = lowbit::planFold(xs, d, consumers, linearOf);
    if (copyPlan.reason.empty()) {
      copyPlan.apply();
      for (Linear *l : group.linears)
        l->input = xs;
      group.input = xs;
      group.foldedInto = "copy of " + def->getName().getStringRef().str();
      return success();
    }
    for (Linear *l : group.linears)
      l->op->replaceUsesOfWith(xs, x);
    copy->erase();
  }
  // 3. An explicit multiplication by 1/s.
  OpBuilder builder(group.linears.front()->op->getContext());
  if (def)
    builder.setInsertionPointAfter(def);
  else
    builder.setInsertionPointToStart(cast<BlockArgument>(x).getOwner());
  Tensor inv("", DType::F32, {k});
  for (int64_t j = 0; j < k; ++j)
    inv.as<float>()[j] = 1.0f / group.scales[j];
  auto invType = RankedTensorType::get({k}, builder.getF32Type());
  auto invConst = ConstantOp::create(
      builder, x.getLoc(), invType,
      ::kiln::toElementsAttr(inv, invType, "kiln_smooth_inv"));
  auto mul = MulOp::create(builder, x.getLoc(), x.getType(), x,
                           invConst.getResult());
  mul->setAttr("kiln.smooth", builder.getUnitAttr());
  for (Linear *l : group.linears) {
    l->op->replaceUsesOfWith(x, mul.getResult());
    l->input = mul.getResult();
  }
  group.input = mul.getResult();
  group.foldedInto = "kiln.mul";
  group.linears.front()->op->emitRemark("smoothing scale not folded (")
      << reason << "): multiplying the input by 1/s";
  return success();
}

void KilnQuantizeLowBitPass::smoothGroup(Group &group) {
  const InputStats &s = stats[group.input];
  kq::MatrixRef x = rowsOf(s);
  // The reference output of every layer, with its current weight.
  std::vector<kq::Matrix> refs;
  kq::Matrix wcat(0, s.k);
  for (Linear *l : group.linears) {
    auto ref = kq::matmulTransposed(x, l->weight);
    refs.push_back(ref ? ref.take() : kq::Matrix());
    wcat.data.insert(wcat.data.end(), l->weight.data.begin(),
                     l->weight.data.end());
    wcat.rows += l->weight.rows;
  }
  std::vector<float> wMax = kq::columnAbsMax(wcat);
  std::vector<double> grid;
  if (fixedAlpha)
    grid = {*fixedAlpha};
  else if (config.lowRank)
    for (int i = 0; i <= 10; ++i)
      grid.push_back(i / 10.0);
  else
    grid = kq::defaultAlphaGrid();
  double bestError = 0.0;
  bool found = false;
  for (double alpha : grid) {
    auto scales = kq::computeSmoothScales(s.absMax, wMax, alpha);
    if (!scales)
      continue;
    auto xs = kq::smoothActivations(x, *scales);
    if (!xs)
      continue;
    double error = 0.0;
    bool ok = true;
    for (size_t i = 0; i < group.linears.size() && ok; ++i) {
      auto ws = kq::smoothWeights(group.linears[i]->weight, *scales);
      auto y = ws ? emulate(*xs, *ws) : Result<kq::Matrix>(ws.status());
      if (!y) {
        ok = false;
        break;
      }
      for (size_t e = 0; e < y->data.size(); ++e) {
        double diff = static_cast<double>(y->data[e]) - refs[i].data[e];
        error += diff * diff;
      }
    }
    if (!ok)
      continue;
    if (!found || error < bestError) {
      found = true;
      bestError = error;
      group.alpha = alpha;
      group.scales = scales.take();
    }
  }
  if (!found) {
    group.linears.front()->op->emitRemark(
        "smoothing skipped: no alpha gave a valid quantized layer");
    return;
  }
  if (failed(foldSmoothing(group)))
    return;
  for (Linear *l : group.linears) {
    for (int64_t n = 0; n < l->weight.rows; ++n)
      for (int64_t j = 0; j < l->weight.cols; ++j)
        l->weight.at(n, j) = l->weight.at(n, j) * group.scales[j];
    l->modified = true;
  }
}

/// Returns a constant op holding |t| with element type |element|.
Value constantOf(OpBuilder &builder, Location loc, const Tensor &t,
                 Type element, StringRef blob) {
  auto type = RankedTensorType::get(t.shape, element);
  return ConstantOp::create(builder, loc, type,
                            ::kiln::toElementsAttr(t, type, blob))
      .getResult();
}

/// Returns a float32 tensor of |shape| holding |values|.
Tensor floatTensor(std::vector<int64_t> shape, const float *values) {
  Tensor t("", DType::F32, std::move(shape));
  ::kiln::copyBytes(t.data.data(), values, t.data.size());
  return t;
}

LogicalResult KilnQuantizeLowBitPass::emitLinear(Linear &l,
                                                 LayerReport &report) {
  const int64_t n = l.weight.rows, k = l.weight.cols;
  if (auto st = kq::checkLowBitFormats(config.weight, config.weightGroup,
                                       config.act, config.actGroup, k);
      !st) {
    l.op->emitRemark("layer stays float: ")
        << st.diagnostics().front().message;
    return failure();
  }
  kq::Matrix w = l.weight;
  kq::LowRankSplit split;
  int64_t r = 0;
  if (config.lowRank) {
    r = std::min<int64_t>(rank, std::min(n, k));
    auto s = splitWeight(l.weight, r, /*refine=*/true);
    if (!s) {
      l.op->emitRemark("layer stays float: ")
          << s.status().diagnostics().front().message;
      return failure();
    }
    split = s.take();
    w = split.residual;
  }
  auto q = kq::quantizeLowBitWeights(w, config.weight, config.weightGroup,
                                     metric);
  if (!q) {
    l.op->emitRemark("layer stays float: ")
        << q.status().diagnostics().front().message;
    return failure();
  }
  report.rank = r;
  report.weightBits = q->storageBits() + (l.bias.empty() ? 0 : n * 32) +
                      (n + k) * r * 16;
  {
    kq::Matrix deq = q->dequantize();
    if (r > 0) {
      kq::Matrix low = kq::lowRankProduct(split);
      for (size_t i = 0; i < deq.data.size(); ++i)
        deq.data[i] = deq.data[i] + low.data[i];
    }
    report.weightSqnrDb = kq::sqnrDb(l.weight.data.data(), deq.data.data(),
                                     deq.data.size());
  }

  OpBuilder builder(l.op);
  if (l.biasAdd)
    builder.setInsertionPoint(l.biasAdd);
  Location loc = l.op->getLoc();
  MLIRContext *ctx = builder.getContext();
  const int64_t groups = q->groupsPerRow();
  Type f32 = builder.getF32Type();
  auto ui = [&](unsigned width) {
    return IntegerType::get(ctx, width, IntegerType::Unsigned);
  };

  // The codes.
  DType codeType = DType::I8;
  Type codeElement = builder.getIntegerType(8);
  switch (config.weight) {
  case kq::WeightFormat::Int8:
    break;
  case kq::WeightFormat::Int4Sym:
    codeType = DType::I4, codeElement = builder.getIntegerType(4);
    break;
  case kq::WeightFormat::Int4Asym:
  case kq::WeightFormat::Qoq:
    codeType = DType::U4, codeElement = ui(4);
    break;
  case kq::WeightFormat::NvFp4:
  case kq::WeightFormat::NvFp4FourOverSix:
    codeType = DType::F4E2M1, codeElement = Float4E2M1FNType::get(ctx);
    break;
  }
  Tensor codes("", codeType, {n, k});
  ::kiln::copyBytes(codes.data.data(), q->codes.data(), q->codes.size());
  Value weight = constantOf(builder, loc, codes, codeElement, "kiln_lowbit_w");
  Value scales, zeros, groupScales, tensorScale, bias;
  if (!q->blockScales.empty()) {
    Tensor t("", DType::F8E4M3FN, {n, groups});
    ::kiln::copyBytes(t.data.data(), q->blockScales.data(),
                      q->blockScales.size());
    scales = constantOf(builder, loc, t, Float8E4M3FNType::get(ctx),
                        "kiln_lowbit_s");
    Tensor ts = floatTensor({1}, &q->tensorScale);
    tensorScale = constantOf(builder, loc, ts, f32, "kiln_lowbit_ts");
  } else {
    // One scale per row (int8, QoQ's s1) or per group (int4): decided by
    // the format, not by the count, which is the same for one group a row.
    bool perRow = config.weight == kq::WeightFormat::Int8 ||
                  config.weight == kq::WeightFormat::Qoq;
    std::vector<int64_t> shape = perRow ? std::vector<int64_t>{n}
                                        : std::vector<int64_t>{n, groups};
    scales = constantOf(builder, loc, floatTensor(shape, q->scales.data()),
                        f32, "kiln_lowbit_s");
  }
  if (!q->zeros.empty()) {
    bool isQoq = config.weight == kq::WeightFormat::Qoq;
    Tensor z("", isQoq ? DType::U8 : DType::U4, {n, groups});
    ::kiln::copyBytes(z.data.data(), q->zeros.data(), q->zeros.size());
    zeros = constantOf(builder, loc, z, ui(isQoq ? 8 : 4), "kiln_lowbit_z");
  }
  if (!q->groupScales.empty()) {
    Tensor s2("", DType::U8, {n, groups});
    ::kiln::copyBytes(s2.data.data(), q->groupScales.data(),
                      q->groupScales.size());
    groupScales = constantOf(builder, loc, s2, ui(8), "kiln_lowbit_s2");
  }
  if (!l.bias.empty())
    bias = constantOf(builder, loc, floatTensor({n}, l.bias.data()), f32,
                      "kiln_lowbit_b");

  // The low-rank branch's constants, with the layer's others (before the
  // op): (x_s L2^T) L1^T, fp16 values in f32 constants.
  Value down, up;
  if (r > 0) {
    kq::Matrix l2t = kq::transpose(split.l2); // [K, r]
    kq::Matrix l1t = kq::transpose(split.l1); // [r, N]
    down = constantOf(builder, loc, floatTensor({k, r}, l2t.data.data()), f32,
                      "kiln_lowrank_down");
    up = constantOf(builder, loc, floatTensor({r, n}, l1t.data.data()), f32,
                    "kiln_lowrank_up");
  }

  auto outType = cast<RankedTensorType>(l.output.getType());
  auto op = LowBitLinearOp::create(
      builder, loc, outType, l.input, weight, scales, zeros, groupScales,
      tensorScale, bias, builder.getStringAttr(kq::weightFormatName(
                             config.weight)),
      builder.getI64IntegerAttr(config.weightGroup),
      builder.getStringAttr(kq::actFormatName(config.act)),
      builder.getI64IntegerAttr(config.actGroup),
      builder.getStringAttr(metric == kq::BlockErrorMetric::Mae ? "mae"
                                                                : "mse"));
  Value y = op.getResult();
  if (r > 0) {
    SmallVector<int64_t> midShape(outType.getShape());
    midShape.back() = r;
    auto mid = MatMulOp::create(builder, loc,
                                RankedTensorType::get(midShape, f32), l.input,
                                down);
    mid->setAttr("kiln.lowrank", builder.getStringAttr("down"));
    auto upOp = MatMulOp::create(builder, loc, outType, mid.getResult(), up);
    upOp->setAttr("kiln.lowrank", builder.getStringAttr("up"));
    auto sum = AddOp::create(builder, loc, outType, y, upOp.getResult());
    sum->setAttr("kiln.lowrank", builder.getStringAttr("merge"));
    y = sum.getResult();
  }
  l.output.replaceAllUsesWith(y);
  // The float weight and bias constants die with the layer (unless shared).
  llvm::SetVector<Operation *> oldConstants;
  for (Operation *op : {l.op, l.biasAdd})
    if (op)
      for (Value v : op->getOperands())
        if (auto c = v.getDefiningOp<ConstantOp>())
          oldConstants.insert(c);
  if (l.biasAdd)
    l.biasAdd->erase();
  l.op->erase();
  for (Operation *c : oldConstants)
    if (c->use_empty())
      c->erase();
  return success();
}

void KilnQuantizeLowBitPass::writeBackFloat(Linear &l) {
  if (!l.modified)
    return;
  // The layer stays float with its smoothed weight: matmul + bias add.
  OpBuilder builder(l.op);
  if (l.biasAdd)
    builder.setInsertionPoint(l.biasAdd);
  Location loc = l.op->getLoc();
  const int64_t n = l.weight.rows, k = l.weight.cols;
  kq::Matrix wt = kq::transpose(l.weight);
  Type f32 = builder.getF32Type();
  Value w = constantOf(builder, loc, floatTensor({k, n}, wt.data.data()), f32,
                       "kiln_smoothed_w");
  auto outType = cast<RankedTensorType>(l.output.getType());
  Value y = MatMulOp::create(builder, loc, outType, l.input, w).getResult();
  if (!l.bias.empty()) {
    Value b = constantOf(builder, loc, floatTensor({n}, l.bias.data()), f32,
                         "kiln_smoothed_b");
    y = AddOp::create(builder, loc, outType, y, b).getResult();
  }
  l.output.replaceAllUsesWith(y);
  if (l.biasAdd)
    l.biasAdd->erase();
  l.op->erase();
}

void KilnQuantizeLowBitPass::insertKvQuant(Attention &a) {
  OpBuilder builder(a.scores);
  StringRef format = kvBits == 8 ? "int8" : "int4-asym";
  auto quantize = [&](MatMulOp user, int64_t axisFromEnd) {
    Value v = user.getRhs();
    ArrayRef<int64_t> shape = shapeOf(v);
    int64_t axis = static_cast<int64_t>(shape.size()) - axisFromEnd;
    builder.setInsertionPoint(user);
    auto fq = FakeQuantOp::create(builder, v.getLoc(), v.getType(), v,
                                  builder.getStringAttr(format),
                                  builder.getI64IntegerAttr(axis),
                                  builder.getI64IntegerAttr(shape[axis]));
    user.getRhsMutable().assign(fq.getResult());
  };
  // Keys K^T [.., D, T]: groups along D; values [.., T, D]: along D.
  quantize(a.scores, 2);
  quantize(a.values, 1);
}

void KilnQuantizeLowBitPass::runOnOperation() {
  func::FuncOp func = getOperation();
  std::optional<SchemeConfig> cfg = schemeConfig(scheme);
  if (!cfg) {
    func.emitError("unknown low-bit scheme '")
        << scheme
        << "' (expected w8a8, w8a8-smooth, w4a16, w4a4, w4a4-smooth, "
           "w4a4-svd, w4a8, nvfp4 or nvfp4-4over6)";
    return signalPassFailure();
  }
  config = *cfg;
  linears.clear();
  linearOf.clear();
  groups.clear();
  attentions.clear();
  stats.clear();
  reports.clear();
  kvNotes.clear();
  fixedAlpha.reset();
  if (fp4Error != "mse" && fp4Error != "mae") {
    func.emitError("fp4-error must be mse or mae, got '") << fp4Error << "'";
    return signalPassFailure();
  }
  metric = fp4Error == "mae" ? kq::BlockErrorMetric::Mae
                             : kq::BlockErrorMetric::Mse;
  if (smoothAlpha != "auto") {
    char *end = nullptr;
    double a = std::strtod(smoothAlpha.c_str(), &end);
    if (smoothAlpha.empty() || *end != '\0' || !(a >= 0.0 && a <= 1.0)) {
      func.emitError("smooth-alpha must be auto or a number in [0, 1], "
                     "got '")
          << smoothAlpha << "'";
      return signalPassFailure();
    }
    fixedAlpha = a;
  }
  if (rank <= 0) {
    func.emitError("rank must be positive, got ") << rank;
    return signalPassFailure();
  }
  if (svdIterations < 0 || svdIterations > 64) {
    func.emitError("svd-iterations must be in [0, 64], got ") << svdIterations;
    return signalPassFailure();
  }
  if (kvBits != 16 && kvBits != 8 && kvBits != 4) {
    func.emitError("kv-bits must be 16, 8 or 4, got ") << kvBits;
    return signalPassFailure();
  }
  if (maxRows <= 0) {
    func.emitError("max-rows must be positive, got ") << maxRows;
    return signalPassFailure();
  }
  bool needsData = config.smooth || kvBits == 4;
  if (needsData && data.empty()) {
    func.emitError("scheme '")
        << scheme
        << (kvBits == 4 && !config.smooth ? "' with kv-bits=4" : "'")
        << " needs calibration data (data=PATH)";
    return signalPassFailure();
  }

  // 1. Layers and attentions.
  func.walk([&](Operation *op) {
    if (!isa<MatMulOp, GemmOp>(op))
      return;
    if (std::optional<Linear> l = matchLinear(op)) {
      linears.push_back(std::move(*l));
      Linear *p = &linears.back();
      linearOf[op] = p;
      if (p->biasAdd)
        linearOf[p->biasAdd] = p;
    }
  });
  if (kvBits < 16)
    func.walk([&](MatMulOp op) {
      if (!linearOf.count(op))
        if (std::optional<Attention> a = matchAttention(op))
          attentions.push_back(*a);
    });
  for (Linear &l : linears) {
    auto it = llvm::find_if(groups, [&](const Group &g) {
      return g.input == l.input;
    });
    if (it == groups.end()) {
      groups.push_back(Group{l.input, {}, -1.0, {}, {}});
      it = groups.end() - 1;
    }
    it->linears.push_back(&l);
  }

  // 2. Calibration.
  if (!data.empty() && failed(calibrate(func)))
    return signalPassFailure();

  // 3. SmoothAttention, before the layer searches see the weights.
  if (kvBits == 4)
    for (Attention &a : attentions)
      smoothAttention(a);

  // 4. Smoothing, last group first (see the file comment).
  if (config.smooth) {
    std::vector<Group *> order;
    for (Group &g : groups)
      order.push_back(&g);
    std::sort(order.begin(), order.end(), [](Group *a, Group *b) {
      return b->linears.front()->op->isBeforeInBlock(
          a->linears.front()->op);
    });
    for (Group *g : order) {
      Value before = g->input;
      smoothGroup(*g);
      // Keep the statistics reachable from the (possibly new) input.
      if (g->input != before) {
        InputStats copy = stats[before];
        stats[g->input] = std::move(copy);
      }
    }
  }

  // 5. Rewrite.
  for (Attention &a : attentions)
    insertKvQuant(a);
  for (Group &g : groups) {
    for (Linear *l : g.linears) {
      LayerReport &report = reports[l];
      report.alpha = g.alpha;
      report.smoothing = g.foldedInto;
      // The layer's own error on the calibration rows, before the rewrite
      // (x / s against the weight it had before smoothing).
      auto it = stats.find(g.input);
      if (it != stats.end() && it->second.numRows > 0) {
        kq::MatrixRef x = rowsOf(it->second);
        kq::Matrix w = l->weight;
        if (!g.scales.empty())
          for (int64_t n = 0; n < w.rows; ++n)
            for (int64_t j = 0; j < w.cols; ++j)
              w.at(n, j) = w.at(n, j) / g.scales[j];
        auto ref = kq::matmulTransposed(x, w);
        Result<kq::Matrix> xs = kq::copyOf(x);
        if (!g.scales.empty())
          xs = kq::smoothActivations(x, g.scales);
        Result<kq::Matrix> y =
            xs ? emulate(*xs, l->weight, /*refine=*/true)
               : Result<kq::Matrix>(xs.status());
        if (ref && y)
          report.sqnrDb =
              kq::sqnrDb(ref->data.data(), y->data.data(), y->data.size());
      }
      if (failed(emitLinear(*l, report)))
        writeBackFloat(*l);
    }
  }
  if (!report.empty())
    writeReport(func);
}

void KilnQuantizeLowBitPass::writeReport(func::FuncOp func) {
  std::error_code error;
  llvm::raw_fd_ostream os(report, error);
  if (error) {
    func.emitError("cannot write the report '")
        << report << "': " << error.message();
    return signalPassFailure();
  }
  llvm::json::OStream j(os, 2);
  j.object([&] {
    j.attribute("scheme", scheme);
    j.attribute("weight_format", kq::weightFormatName(config.weight));
    j.attribute("weight_group_size", config.weightGroup);
    j.attribute("act_format", kq::actFormatName(config.act));
    j.attribute("act_group_size", config.actGroup);
    j.attribute("kv_bits", static_cast<int64_t>(kvBits));
    j.attributeArray("layers", [&] {
      for (Linear &l : linears) {
        const LayerReport &r = reports[&l];
        j.object([&] {
          j.attribute("name", l.name);
          j.attribute("out_features", l.weight.rows);
          j.attribute("in_features", l.weight.cols);
          j.attribute("float_bits",
                      l.weight.rows * l.weight.cols * 32 +
                          static_cast<int64_t>(l.bias.size()) * 32);
          j.attribute("weight_bits", r.weightBits);
          if (r.alpha >= 0.0)
            j.attribute("alpha", r.alpha);
          if (!r.smoothing.empty())
            j.attribute("smoothing", r.smoothing);
          j.attribute("rank", r.rank);
          if (r.sqnrDb)
            j.attribute("sqnr_db", *r.sqnrDb);
          if (r.weightSqnrDb)
            j.attribute("weight_sqnr_db", *r.weightSqnrDb);
        });
      }
    });
    j.attributeArray("attention", [&] {
      for (const std::string &note : kvNotes)
        j.value(note);
    });
  });
  os << "\n";
}

} // namespace
} // namespace mlir::kiln
