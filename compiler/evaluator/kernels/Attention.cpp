//===- Attention.cpp - Kernels of the attention ops -------------*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// Evaluator kernels of kiln.attention and kiln.rotary_embedding.
//
// Attention is the golden model of the fused attention kernels, so it is
// exact first: every step rounds where ONNX's reference (numpy) rounds, in
// the same type, which matters for float16 and bfloat16 inputs:
//   q' = T(q * sqrt_scale), k' = T(k * sqrt_scale)
//   s  = T(f32(sum q' k'))                      (numpy matmul accumulates
//                                                 16-bit types in float32)
//   s  = T(T(tanh(T(s / softcap))) * softcap)    when softcap > 0
//   s  = T(s + bias);  x = Ts(s)                 (Ts: the softmax type)
//   e  = Ts(exp(Ts(x - max)));  p = Ts(e / sum e);  P = T(p)
//   y  = T(f32(sum P v))
// with sums of bfloat16 rounded after every addition (numpy's add.reduce on
// ml_dtypes.bfloat16) and of wider types accumulated in float64.
//
// Loop structure: per (batch, head) and tile of query rows, the kernel
// sweeps the keys in tiles like a fused flash-attention kernel, keeping one
// row block of scores (rows x total keys) in scratch: sweep 1 computes the
// score tiles and the running row maximum, sweep 2 the exponentials and row
// sums, sweep 3 accumulates P V tile by tile. A one-sweep online softmax
// (rescaling partial sums as the maximum grows, normalising at the end) is
// what the CUDA kernels do, but it rounds differently from ONNX's two-pass
// softmax, so the golden model does not.
//
//===----------------------------------------------------------------------===//

#include "compiler/evaluator/Kernel.h"
#include "compiler/evaluator/kernels/FloatRounding.h"
#include "compiler/support/TensorAttr.h"

#include "dialects/kiln/KilnOps.h"

#include <cmath>
#include <limits>

using namespace mlir;
using namespace mlir::kiln;

namespace kiln::eval {
namespace {

/// Query rows and key columns per tile of the attention loop nest.
constexpr int64_t kQueryTile = 16;
constexpr int64_t kKeyTile = 64;

constexpr double kNegInf = -std::numeric_limits<double>::infinity();

/// Returns the elements of |tensor| (any float type) as doubles.
std::vector<double> toDoubles(const Tensor &tensor) {
  int64_t n = tensor.numElements();
  std::vector<double> values(n);
  if (tensor.dtype == DType::F32) {
    const float *data = tensor.as<float>();
    for (int64_t i = 0; i < n; ++i)
      values[i] = data[i];
  } else {
    for (int64_t i = 0; i < n; ++i)
      values[i] = loadFloat(tensor, i);
  }
  return values;
}

/// Returns the result index of the optional result |value| of |op|.
unsigned resultIndex(Value value) {
  return cast<OpResult>(value).getResultNumber();
}

/// Returns max(a, b) with numpy's NaN propagation.
double nanMax(double a, double b) {
  if (std::isnan(a) || std::isnan(b))
    return std::numeric_limits<double>::quiet_NaN();
  return std::max(a, b);
}

/// Returns the dot product of |a| and |b| (length |n|) as numpy's matmul
/// produces it in type |t|: accumulated in float32 (here float64, then
/// rounded to float32) for the 32- and 16-bit types, in float64 for
/// float64.
double matmulDot(DType t, const double *a, const double *b, int64_t n,
                 int64_t bStride) {
  double sum = 0;
  for (int64_t i = 0; i < n; ++i)
    sum += a[i] * b[i * bStride];
  if (t == DType::F64)
    return sum;
  return roundTo(t, static_cast<float>(sum));
}

/// Where kiln.attention reads its bias terms from.
struct BiasSource {
  const Tensor *mask = nullptr;
  int64_t maskStrides[4] = {0, 0, 0, 0}; // 0 along broadcast dimensions
  int64_t maskLength = 0;                // last dimension of the mask
  bool causal = false;
  int64_t left = -1, right = -1;
  std::vector<int64_t> nonpad; // per batch, empty when absent
  int64_t past = 0, queries = 0;

  /// Returns the causal / window offset of batch |b|: keys before the query
  /// block.
  int64_t offset(int64_t b) const {
    if (past == 0 && !nonpad.empty())
      return nonpad[b] - queries;
    return past;
  }

  /// Returns the additive bias of score (b, h, i, j).
  double operator()(int64_t b, int64_t h, int64_t i, int64_t j) const {
    double bias = 0;
    if (mask) {
      if (j >= maskLength) {
        bias = kNegInf; // ONNX pads a short mask with false / -inf
      } else {
        int64_t at = b * maskStrides[0] + h * maskStrides[1] +
                     i * maskStrides[2] + j * maskStrides[3];
        if (mask->dtype == DType::Bool)
          bias = mask->data[at] ? 0.0 : kNegInf;
        else
          bias = loadFloat(*mask, at);
      }
    }
    int64_t frontier = i + offset(b);
    if (causal && j > frontier)
      bias += kNegInf;
    if (!nonpad.empty() && j >= nonpad[b])
      bias += kNegInf;
    int64_t diff = frontier - j;
    if ((left >= 0 && diff > left) || (right >= 0 && -diff > right))
      bias += kNegInf;
    return bias;
  }
};

/// Returns the softmax of one row, in place, as ONNX's reference computes
/// it in type |ts| (see the file comment); a row whose maximum is -inf
/// gives zeros.
void softmaxRow(DType ts, double *row, int64_t n) {
  double maximum = kNegInf;
  for (int64_t j = 0; j < n; ++j)
    maximum = nanMax(maximum, row[j]);
  double safeMax = maximum == kNegInf ? 0.0 : maximum;
  double sum = 0;
  for (int64_t j0 = 0; j0 < n; j0 += kKeyTile) {
    for (int64_t j = j0, end = std::min(n, j0 + kKeyTile); j < end; ++j) {
      double e = roundTo(ts, std::exp(roundTo(ts, row[j] - safeMax)));
      row[j] = e;
      // bfloat16 sums round after every addition; float16 sums accumulate
      // in float32; wider ones in float64.
      if (ts == DType::BF16)
        sum = roundTo(ts, sum + e);
      else if (ts == DType::F16)
        sum = static_cast<float>(sum + e);
      else
        sum += e;
    }
  }
  sum = roundTo(ts, sum);
  if (sum == 0)
    sum = 1;
  for (int64_t j = 0; j < n; ++j)
    row[j] = roundTo(ts, row[j] / sum);
}

LogicalResult attentionKernel(Operation *op, KernelContext &ctx) {
  auto att = cast<AttentionOp>(op);
  const Tensor &query = ctx.get(att.getQuery());
  const Tensor &key = ctx.get(att.getKey());
  const Tensor &value = ctx.get(att.getValue());
  const Tensor *pastKey = ctx.getOptional(att.getPastKey());
  const Tensor *pastValue = ctx.getOptional(att.getPastValue());
  DType t = query.dtype;
  std::optional<DType> softmaxType = fromMlirType(att.getSoftmaxType());
  if (!softmaxType || !isFloat(*softmaxType))
    return ctx.fail("unsupported softmax type");
  DType ts = *softmaxType;
  int64_t batch = query.shape[0], qHeads = query.shape[1];
  int64_t queries = query.shape[2], headSize = query.shape[3];
  int64_t kvHeads = key.shape[1], keys = key.shape[2];
  int64_t valueSize = value.shape[3];
  int64_t past = pastKey ? pastKey->shape[2] : 0;
  int64_t total = past + keys;
  int64_t group = qHeads / kvHeads;

  // present_key / present_value: the past followed by the new keys and
  // values, per (batch, head).
  auto concat = [&](const Tensor *before, const Tensor &after, int64_t width) {
    Tensor joined("", t, {batch, kvHeads, total, width});
    size_t size = dtypeSize(t);
    int64_t pastBytes = past * width * size, newBytes = keys * width * size;
    for (int64_t bh = 0; bh < batch * kvHeads; ++bh) {
      uint8_t *dst = joined.data.data() + bh * (pastBytes + newBytes);
      if (before)
        copyBytes(dst, before->data.data() + bh * pastBytes, pastBytes);
      copyBytes(dst + pastBytes, after.data.data() + bh * newBytes, newBytes);
    }
    return joined;
  };
  Tensor presentKey = concat(pastKey, key, headSize);
  Tensor presentValue = concat(pastValue, value, valueSize);
  if (att.getPresentKey())
    ctx.result(resultIndex(att.getPresentKey())).data = presentKey.data;
  if (att.getPresentValue())
    ctx.result(resultIndex(att.getPresentValue())).data = presentValue.data;

  // q' and k': the inputs scaled by T(sqrt(scale)) and rounded to T.
  double sqrtScale = roundTo(t, std::sqrt(att.getScale().convertToDouble()));
  std::vector<double> q = toDoubles(query), k = toDoubles(presentKey);
  std::vector<double> v = toDoubles(presentValue);
  for (double &x : q)
    x = roundTo(t, x * sqrtScale);
  for (double &x : k)
    x = roundTo(t, x * sqrtScale);

  BiasSource bias;
  bias.causal = att.getIsCausal();
  bias.left = att.getLeftWindowSize();
  bias.right = att.getRightWindowSize();
  bias.past = past;
  bias.queries = queries;
  if (const Tensor *mask = ctx.getOptional(att.getAttnMask())) {
    bias.mask = mask;
    size_t rank = mask->shape.size();
    SmallVector<int64_t> strides = stridesOf(mask->shape);
    for (size_t d = 0; d < rank; ++d)
      bias.maskStrides[4 - rank + d] = mask->shape[d] == 1 ? 0 : strides[d];
    bias.maskLength = mask->shape.back();
    bias.maskStrides[3] = 1;
  }
  if (const Tensor *nonpad = ctx.getOptional(att.getNonpadKvSeqlen()))
    for (int64_t b = 0; b < batch; ++b)
      bias.nonpad.push_back(loadInt(*nonpad, b));

  double softcap = att.getSoftcap().convertToDouble();
  int64_t mode = att.getQkMatmulOutputMode();
  Tensor *qkOut = att.getQkMatmulOutput()
                      ? &ctx.result(resultIndex(att.getQkMatmulOutput()))
                      : nullptr;
  Tensor &out = ctx.result(0);

  std::vector<double> scores(kQueryTile * total), rowMax(kQueryTile);
  std::vector<double> acc(valueSize);
  std::vector<bool> fullyMasked(kQueryTile);
  for (int64_t b = 0; b < batch; ++b) {
    for (int64_t h = 0; h < qHeads; ++h) {
      int64_t kvh = h / group;
      const double *kHead = k.data() + (b * kvHeads + kvh) * total * headSize;
      const double *vHead = v.data() + (b * kvHeads + kvh) * total * valueSize;
      int64_t qkBase = (b * qHeads + h) * queries * total;
      for (int64_t i0 = 0; i0 < queries; i0 += kQueryTile) {
        int64_t rows = std::min(kQueryTile, queries - i0);
        std::fill(rowMax.begin(), rowMax.end(), kNegInf);
        std::fill(fullyMasked.begin(), fullyMasked.end(), true);
        // Sweep 1: score tiles (matmul, softcap, bias), running row max.
        for (int64_t j0 = 0; j0 < total; j0 += kKeyTile) {
          int64_t cols = std::min(kKeyTile, total - j0);
          for (int64_t r = 0; r < rows; ++r) {
            int64_t i = i0 + r;
            const double *qRow =
                q.data() + ((b * qHeads + h) * queries + i) * headSize;
            for (int64_t j = j0; j < j0 + cols; ++j) {
              double s = matmulDot(t, qRow, kHead + j * headSize, headSize, 1);
              if (qkOut && mode == 0)
                storeFloat(*qkOut, qkBase + i * total + j, s);
              if (softcap > 0) {
                s = roundTo(t, s / softcap);
                s = roundTo(t, std::tanh(s));
                s = roundTo(t, s * softcap);
              }
              if (qkOut && mode == 1)
                storeFloat(*qkOut, qkBase + i * total + j, s);
              double termBias = bias(b, h, i, j);
              if (termBias != kNegInf)
                fullyMasked[r] = false;
              s = roundTo(t, s + termBias);
              if (qkOut && mode == 2)
                storeFloat(*qkOut, qkBase + i * total + j, s);
              s = roundTo(ts, s);
              scores[r * total + j] = s;
              rowMax[r] = nanMax(rowMax[r], s);
            }
          }
        }
        for (int64_t r = 0; r < rows; ++r) {
          int64_t i = i0 + r;
          double *row = scores.data() + r * total;
          // Sweep 2: exponentials, row sum, normalisation (ONNX's two-pass
          // softmax); a row whose bias is -inf everywhere becomes zeros.
          softmaxRow(ts, row, total);
          for (int64_t j = 0; j < total; ++j) {
            double p = fullyMasked[r] ? 0.0 : roundTo(t, row[j]);
            row[j] = p;
            if (qkOut && mode == 3)
              storeFloat(*qkOut, qkBase + i * total + j, p);
          }
          // Sweep 3: P V, accumulated over the key tiles.
          std::fill(acc.begin(), acc.end(), 0.0);
          for (int64_t j0 = 0; j0 < total; j0 += kKeyTile)
            for (int64_t j = j0, end = std::min(total, j0 + kKeyTile); j < end;
                 ++j)
              for (int64_t d = 0; d < valueSize; ++d)
                acc[d] += row[j] * vHead[j * valueSize + d];
          int64_t outBase = ((b * qHeads + h) * queries + i) * valueSize;
          for (int64_t d = 0; d < valueSize; ++d)
            storeFloat(out, outBase + d,
                       t == DType::F64
                           ? acc[d]
                           : roundTo(t, static_cast<float>(acc[d])));
        }
      }
    }
  }
  return success();
}

LogicalResult rotaryEmbeddingKernel(Operation *op, KernelContext &ctx) {
  auto rope = cast<RotaryEmbeddingOp>(op);
  const Tensor &x = ctx.get(rope.getInput());
  const Tensor &cosCache = ctx.get(rope.getCosCache());
  const Tensor &sinCache = ctx.get(rope.getSinCache());
  const Tensor *positions = ctx.getOptional(rope.getPositionIds());
  Tensor &out = ctx.result();
  DType t = x.dtype;
  int64_t batch = x.shape[0], heads = x.shape[1], seq = x.shape[2];
  int64_t headSize = x.shape[3];
  int64_t rotary = rope.getRotaryEmbeddingDim(), half = rotary / 2;
  bool interleaved = rope.getInterleaved();
  int64_t cacheRows = cosCache.shape[0];
  out.data = x.data; // the features past rotary_embedding_dim pass through
  for (int64_t b = 0; b < batch; ++b) {
    for (int64_t s = 0; s < seq; ++s) {
      int64_t cacheRow = b * seq + s;
      if (positions) {
        cacheRow = loadInt(*positions, b * seq + s);
        if (cacheRow < 0 || cacheRow >= cacheRows)
          return ctx.fail("position id " + llvm::Twine(cacheRow) +
                          " is out of range for caches of " +
                          llvm::Twine(cacheRows) + " positions");
      }
      for (int64_t h = 0; h < heads; ++h) {
        int64_t base = ((b * heads + h) * seq + s) * headSize;
        for (int64_t p = 0; p < half; ++p) {
          double c = loadFloat(cosCache, cacheRow * half + p);
          double sn = loadFloat(sinCache, cacheRow * half + p);
          int64_t first = base + (interleaved ? 2 * p : p);
          int64_t second = base + (interleaved ? 2 * p + 1 : p + half);
          double x1 = loadFloat(x, first), x2 = loadFloat(x, second);
          double real = roundTo(t, roundTo(t, c * x1) - roundTo(t, sn * x2));
          double imag = roundTo(t, roundTo(t, sn * x1) + roundTo(t, c * x2));
          storeFloat(out, first, real);
          storeFloat(out, second, imag);
        }
      }
    }
  }
  return success();
}

} // namespace

void registerAttentionKernels(KernelRegistry &r) {
  r.add<AttentionOp>(attentionKernel);
  r.add<RotaryEmbeddingOp>(rotaryEmbeddingKernel);
}

} // namespace kiln::eval
