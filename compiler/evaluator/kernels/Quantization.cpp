//===- Quantization.cpp - Kernels of the quantized ops ----------*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// Evaluator kernels of quantize_linear, dequantize_linear and
// dynamic_quantize_linear (QuantizationOps.td) and of the integer / QLinear
// ops of LinearOps.td (matmul_integer, conv_integer, qlinear_matmul,
// qlinear_conv).
//
// Rounding follows ONNX's reference step by step, because Kiln's int8
// pipeline folds QDQ pairs into integer ops whose results must match these
// kernels bit for bit:
//  - quantize: x is converted to the scale's type and divided in that type
//    (the importer casts the scale to the 'precision' attribute's type);
//    integer results round half to even, add the zero point and saturate;
//    float8 / float4 results convert with round-to-nearest-even and the
//    op's saturate flag.
//  - dequantize: (x - zero_point) in float32 (float64 for int32 inputs, as
//    ONNX's reference promotes), times the scale in that precision, then
//    rounded to the result type.
//  - integer products accumulate exactly in int64 and wrap to int32 (ONNX:
//    "accumulation may overflow if and only if in 32 bits"); QLinear
//    requantization multiplies the int32 accumulator by
//    round_TS(round_TS(s_a * s_b) / s_y) in float64, adds the output zero
//    point, rounds half to even and saturates.
//
//===----------------------------------------------------------------------===//

#include "compiler/evaluator/Kernel.h"
#include "compiler/evaluator/kernels/FloatRounding.h"

#include "dialects/kiln/KilnOps.h"

#include <cmath>
#include <limits>

using namespace mlir;
using namespace mlir::kiln;

namespace kiln::eval {
namespace {

/// Returns true for the 8- and 4-bit float types.
bool isNarrowFloat(DType type) {
  return type >= DType::F8E4M3FN && type <= DType::F4E2M1;
}

/// Maps an element of the quantized tensor to its scale / zero point
/// element: per tensor, per axis (block 1), or blocked along one axis.
class ScaleIndex {
public:
  ScaleIndex(llvm::ArrayRef<int64_t> shape, llvm::ArrayRef<int64_t> scale,
             int64_t axis, int64_t blockSize) {
    int64_t count = 1;
    for (int64_t d : scale)
      count *= d;
    perTensor = count == 1 && blockSize == 0;
    if (perTensor)
      return;
    perAxis = blockSize == 0;
    dim = shape[axis];
    block = blockSize > 0 ? blockSize : 1;
    scaleDim = (dim + block - 1) / block;
    for (size_t d = axis + 1; d < shape.size(); ++d)
      inner *= shape[d];
  }
  /// Returns the scale element of element |i| of the quantized tensor.
  int64_t operator()(int64_t i) const {
    if (perTensor)
      return 0;
    int64_t rest = i / inner, r = i % inner;
    int64_t a = rest % dim, outer = rest / dim;
    // A per-axis scale is 1-D; a blocked one has the input's rank.
    if (perAxis)
      return a;
    return (outer * scaleDim + a / block) * inner + r;
  }

private:
  bool perTensor = true, perAxis = false;
  int64_t dim = 1, block = 1, scaleDim = 1, inner = 1;
};

/// Returns the integer result of quantizing |q| (already divided and
/// rounded to the division type) with zero point |zp| into |type|.
int64_t saturateInt(double q, int64_t zp, DType type) {
  double lo = static_cast<double>(intMin(type));
  double hi = static_cast<double>(intMax(type));
  // NaN is undefined in ONNX; Kiln maps it to the zero point.
  double v = std::isnan(q) ? static_cast<double>(zp)
                           : roundHalfEven(q) + static_cast<double>(zp);
  return static_cast<int64_t>(std::clamp(v, lo, hi));
}

LogicalResult quantizeLinearKernel(Operation *op, KernelContext &ctx) {
  auto q = cast<QuantizeLinearOp>(op);
  const Tensor &x = ctx.get(q.getInput());
  const Tensor &scale = ctx.get(q.getScale());
  const Tensor *zp = ctx.getOptional(q.getZeroPoint());
  Tensor &out = ctx.result();
  ScaleIndex index(x.shape, scale.shape, q.getAxis(), q.getBlockSize());
  int64_t n = x.numElements();
  DType divType = scale.dtype;
  bool saturate = q.getSaturate();
  if (!isFloat(divType))
    return ctx.fail("the scale must have a floating-point type");
  // Fast path: float32 data and scale into 8-bit integers.
  if (x.dtype == DType::F32 && divType == DType::F32 &&
      (out.dtype == DType::I8 || out.dtype == DType::U8)) {
    const float *xs = x.as<float>();
    const float *ss = scale.as<float>();
    for (int64_t i = 0; i < n; ++i) {
      int64_t s = index(i);
      float quotient = xs[i] / ss[s];
      storeInt(out, i,
               saturateInt(quotient, zp ? loadInt(*zp, s) : 0, out.dtype));
    }
    return success();
  }
  bool narrow = isNarrowFloat(out.dtype);
  for (int64_t i = 0; i < n; ++i) {
    int64_t s = index(i);
    double xv = roundTo(divType, loadFloat(x, i));
    double quotient = roundTo(divType, xv / loadFloat(scale, s));
    if (!narrow) {
      storeInt(out, i,
               saturateInt(quotient, zp ? loadInt(*zp, s) : 0, out.dtype));
      continue;
    }
    // ONNX's reference adds a float4 zero point always and ignores float8
    // ones (which must be zero); adding only non-zero float8 zero points
    // gives both, including the sign of -0.
    if (zp) {
      double z = loadFloat(*zp, s);
      if (out.dtype == DType::F4E2M1 || z != 0)
        quotient = static_cast<float>(quotient + z);
    }
    out.data[i] =
        floatToNarrowFloat(out.dtype, static_cast<float>(quotient), saturate);
  }
  return success();
}

LogicalResult dequantizeLinearKernel(Operation *op, KernelContext &ctx) {
  auto dq = cast<DequantizeLinearOp>(op);
  const Tensor &x = ctx.get(dq.getInput());
  const Tensor &scale = ctx.get(dq.getScale());
  const Tensor *zp = ctx.getOptional(dq.getZeroPoint());
  Tensor &out = ctx.result();
  ScaleIndex index(x.shape, scale.shape, dq.getAxis(), dq.getBlockSize());
  int64_t n = x.numElements();
  bool wide = x.dtype == DType::I32;
  bool floatInput = isFloat(x.dtype);
  for (int64_t i = 0; i < n; ++i) {
    int64_t s = index(i);
    double value;
    if (wide) {
      // ONNX's reference: float32(x) - int32 zero point promotes to
      // float64, and the product stays in float64.
      double d = static_cast<double>(static_cast<float>(loadInt(x, i))) -
                 (zp ? static_cast<double>(loadInt(*zp, s)) : 0.0);
      value = d * loadFloat(scale, s);
    } else {
      // Narrow integers subtract exactly; the product rounds to float32.
      double d =
          floatInput
              ? static_cast<float>(loadFloat(x, i) -
                                   (zp ? loadFloat(*zp, s) : 0.0))
              : static_cast<double>(loadInt(x, i) - (zp ? loadInt(*zp, s) : 0));
      value = static_cast<float>(static_cast<float>(d) * loadFloat(scale, s));
    }
    storeFloat(out, i, value);
  }
  return success();
}

LogicalResult dynamicQuantizeLinearKernel(Operation *op, KernelContext &ctx) {
  auto dq = cast<DynamicQuantizeLinearOp>(op);
  const Tensor &x = ctx.get(dq.getInput());
  if (x.dtype != DType::F32)
    return ctx.fail("the input must be float32");
  const float *xs = x.as<float>();
  int64_t n = x.numElements();
  // Every step in float32, as ONNX's reference (and onnxruntime) compute.
  float maxValue = 0.0f, minValue = 0.0f;
  for (int64_t i = 0; i < n; ++i) {
    if (std::isnan(xs[i])) {
      maxValue = minValue = xs[i];
      break;
    }
    maxValue = std::max(maxValue, xs[i]);
    minValue = std::min(minValue, xs[i]);
  }
  float range = maxValue == minValue ? 1.0f : maxValue - minValue;
  float scale = range / 255.0f;
  float initial = 0.0f - minValue / scale;
  float zeroPoint = std::nearbyint(std::max(0.0f, std::min(255.0f, initial)));
  uint8_t *y = ctx.result(0).as<uint8_t>();
  for (int64_t i = 0; i < n; ++i) {
    float v = std::nearbyint(xs[i] / scale) + zeroPoint;
    y[i] = static_cast<uint8_t>(std::clamp(v, 0.0f, 255.0f));
  }
  ctx.result(1).as<float>()[0] = scale;
  ctx.result(2).as<uint8_t>()[0] = static_cast<uint8_t>(zeroPoint);
  return success();
}

//===----------------------------------------------------------------------===//
// Integer products
//===----------------------------------------------------------------------===//

/// Returns |value| - |zeroPoint| (broadcast unidirectionally to |value|'s
/// shape; null means 0) as int32 values.
std::vector<int32_t> subtractZeroPoint(const Tensor &value,
                                       const Tensor *zeroPoint) {
  int64_t n = value.numElements();
  std::vector<int32_t> result(n);
  if (!zeroPoint) {
    for (int64_t i = 0; i < n; ++i)
      result[i] = static_cast<int32_t>(loadInt(value, i));
    return result;
  }
  if (zeroPoint->numElements() == 1) {
    int64_t z = loadInt(*zeroPoint, 0);
    for (int64_t i = 0; i < n; ++i)
      result[i] = static_cast<int32_t>(loadInt(value, i) - z);
    return result;
  }
  BroadcastIterator it(value.shape, {value.shape, zeroPoint->shape});
  for (int64_t i = 0; i < n; ++i, it.next())
    result[i] = static_cast<int32_t>(loadInt(value, i) -
                                     loadInt(*zeroPoint, it.offset(1)));
  return result;
}

/// Computes numpy.matmul of the int32 matrices |a| (shape |aShape|) and |b|
/// into int64 accumulators |acc| of shape |outShape| (rank-1 operands are
/// promoted as numpy does).
void matmulInt(const std::vector<int32_t> &a, llvm::ArrayRef<int64_t> aShape,
               const std::vector<int32_t> &b, llvm::ArrayRef<int64_t> bShape,
               llvm::ArrayRef<int64_t> outShape, std::vector<int64_t> &acc) {
  llvm::SmallVector<int64_t> as(aShape), bs(bShape);
  if (as.size() == 1)
    as.insert(as.begin(), 1);
  if (bs.size() == 1)
    bs.push_back(1);
  int64_t m = as[as.size() - 2], k = as.back(), n = bs.back();
  llvm::SmallVector<int64_t> aBatch(as.begin(), as.end() - 2);
  llvm::SmallVector<int64_t> bBatch(bs.begin(), bs.end() - 2);
  // The broadcast batch shape: the result shape without its matrix dims.
  size_t batchRank = std::max(aBatch.size(), bBatch.size());
  llvm::SmallVector<int64_t> batch(batchRank, 1);
  for (size_t d = 0; d < batchRank; ++d) {
    auto dimOf = [&](const llvm::SmallVector<int64_t> &s) -> int64_t {
      size_t offset = batchRank - s.size();
      return d < offset ? 1 : s[d - offset];
    };
    batch[d] = std::max(dimOf(aBatch), dimOf(bBatch));
  }
  int64_t batches = 1;
  for (int64_t d : batch)
    batches *= d;
  int64_t total = 1;
  for (int64_t d : outShape)
    total *= d;
  acc.assign(total, 0);
  BroadcastIterator it(batch, {aBatch, bBatch});
  for (int64_t bi = 0; bi < batches; ++bi, it.next()) {
    const int32_t *am = a.data() + it.offset(0) * m * k;
    const int32_t *bm = b.data() + it.offset(1) * k * n;
    int64_t *cm = acc.data() + bi * m * n;
    for (int64_t i = 0; i < m; ++i)
      for (int64_t p = 0; p < k; ++p) {
        int64_t av = am[i * k + p];
        if (av == 0)
          continue;
        for (int64_t j = 0; j < n; ++j)
          cm[i * n + j] += av * bm[p * n + j];
      }
  }
}

/// Returns |value| wrapped to int32 (two's complement).
int32_t wrap32(int64_t value) {
  return static_cast<int32_t>(static_cast<uint32_t>(value));
}

LogicalResult matmulIntegerKernel(Operation *op, KernelContext &ctx) {
  auto mm = cast<MatMulIntegerOp>(op);
  const Tensor &a = ctx.get(mm.getLhs());
  const Tensor &b = ctx.get(mm.getRhs());
  std::vector<int32_t> a32 =
      subtractZeroPoint(a, ctx.getOptional(mm.getLhsZeroPoint()));
  std::vector<int32_t> b32 =
      subtractZeroPoint(b, ctx.getOptional(mm.getRhsZeroPoint()));
  Tensor &out = ctx.result();
  std::vector<int64_t> acc;
  matmulInt(a32, a.shape, b32, b.shape, out.shape, acc);
  int32_t *y = out.as<int32_t>();
  for (size_t i = 0; i < acc.size(); ++i)
    y[i] = wrap32(acc[i]);
  return success();
}

/// Returns round_TS(round_TS(sa * sb) / sy), the requantization multiplier
/// ONNX's reference computes in the scales' type TS.
double requantMultiplier(DType scaleType, double sa, double sb, double sy) {
  return roundTo(scaleType, roundTo(scaleType, sa * sb) / sy);
}

/// Returns the requantized value of accumulator |acc|.
int64_t requantize(int64_t acc, double multiplier, int64_t zeroPoint,
                   DType type) {
  double v = static_cast<double>(wrap32(acc)) * multiplier +
             static_cast<double>(zeroPoint);
  return static_cast<int64_t>(std::clamp(roundHalfEven(v),
                                         static_cast<double>(intMin(type)),
                                         static_cast<double>(intMax(type))));
}

LogicalResult qlinearMatmulKernel(Operation *op, KernelContext &ctx) {
  auto mm = cast<QLinearMatMulOp>(op);
  const Tensor &a = ctx.get(mm.getLhs());
  const Tensor &b = ctx.get(mm.getRhs());
  const Tensor &bScale = ctx.get(mm.getRhsScale());
  const Tensor &bZero = ctx.get(mm.getRhsZeroPoint());
  std::vector<int32_t> a32 =
      subtractZeroPoint(a, &ctx.get(mm.getLhsZeroPoint()));
  // B's zero point is per tensor or per column (1-D of N): broadcasting a
  // 1-D tensor over B's last axis is exactly per column.
  std::vector<int32_t> b32 = subtractZeroPoint(b, &bZero);
  Tensor &out = ctx.result();
  std::vector<int64_t> acc;
  matmulInt(a32, a.shape, b32, b.shape, out.shape, acc);
  DType scaleType = bScale.dtype;
  double sa = loadFloat(ctx.get(mm.getLhsScale()), 0);
  double sy = loadFloat(ctx.get(mm.getOutputScale()), 0);
  int64_t zy = loadInt(ctx.get(mm.getOutputZeroPoint()), 0);
  int64_t columns = out.shape.empty() ? 1 : out.shape.back();
  if (b.shape.size() == 1)
    columns = 1; // numpy drops the column axis of a 1-D rhs
  std::vector<double> multipliers(bScale.numElements());
  for (int64_t j = 0; j < bScale.numElements(); ++j) {
    multipliers[j] = requantMultiplier(scaleType, sa, loadFloat(bScale, j), sy);
    if (std::isnan(multipliers[j]))
      return ctx.fail("the scales give a NaN requantization multiplier");
  }
  bool perColumn = multipliers.size() > 1;
  for (size_t i = 0; i < acc.size(); ++i) {
    double m = multipliers[perColumn ? i % columns : 0];
    storeInt(out, i, requantize(acc[i], m, zy, out.dtype));
  }
  return success();
}

/// Computes an N-d grouped integer convolution of the int32 input |x| and
/// weight |w| (zero points already subtracted, so padding reads 0) into
/// int64 accumulators of shape |outShape|.
void convInt(const std::vector<int32_t> &x, llvm::ArrayRef<int64_t> xShape,
             const std::vector<int32_t> &w, llvm::ArrayRef<int64_t> wShape,
             llvm::ArrayRef<int64_t> outShape, llvm::ArrayRef<int64_t> strides,
             llvm::ArrayRef<int64_t> pads, llvm::ArrayRef<int64_t> dilations,
             int64_t group, std::vector<int64_t> &acc) {
  size_t rank = xShape.size() - 2;
  int64_t batch = xShape[0], channels = xShape[1], outChannels = wShape[0];
  int64_t groupIn = channels / group, groupOut = outChannels / group;
  int64_t inSize = 1, outSize = 1, kernelSize = 1;
  for (size_t d = 0; d < rank; ++d) {
    inSize *= xShape[d + 2];
    outSize *= outShape[d + 2];
    kernelSize *= wShape[d + 2];
  }
  // im2col of one group: row (c, k) holds input channel c at kernel tap k
  // for every output position.
  int64_t rows = groupIn * kernelSize;
  std::vector<int32_t> columns(rows * outSize);
  llvm::SmallVector<int64_t> kIndex(rank), oIndex(rank);
  acc.assign(batch * outChannels * outSize, 0);
  for (int64_t nb = 0; nb < batch; ++nb) {
    for (int64_t g = 0; g < group; ++g) {
      for (int64_t c = 0; c < groupIn; ++c) {
        const int32_t *plane =
            x.data() + (nb * channels + g * groupIn + c) * inSize;
        for (int64_t k = 0; k < kernelSize; ++k) {
          for (int64_t d = rank - 1, rest = k; d >= 0; --d) {
            kIndex[d] = rest % wShape[d + 2];
            rest /= wShape[d + 2];
          }
          int32_t *row = columns.data() + (c * kernelSize + k) * outSize;
          std::fill(oIndex.begin(), oIndex.end(), 0);
          for (int64_t o = 0; o < outSize; ++o) {
            int64_t offset = 0;
            bool inside = true;
            for (size_t d = 0; d < rank && inside; ++d) {
              int64_t pos =
                  oIndex[d] * strides[d] - pads[d] + kIndex[d] * dilations[d];
              inside = pos >= 0 && pos < xShape[d + 2];
              offset = offset * xShape[d + 2] + pos;
            }
            row[o] = inside ? plane[offset] : 0;
            for (int64_t d = rank - 1; d >= 0; --d) {
              if (++oIndex[d] < outShape[d + 2])
                break;
              oIndex[d] = 0;
            }
          }
        }
      }
      for (int64_t m = 0; m < groupOut; ++m) {
        int64_t oc = g * groupOut + m;
        const int32_t *wrow = w.data() + oc * rows;
        int64_t *dst = acc.data() + (nb * outChannels + oc) * outSize;
        for (int64_t r = 0; r < rows; ++r) {
          int64_t wv = wrow[r];
          if (wv == 0)
            continue;
          const int32_t *col = columns.data() + r * outSize;
          for (int64_t o = 0; o < outSize; ++o)
            dst[o] += wv * col[o];
        }
      }
    }
  }
}

/// Returns |w| minus its per-tensor or per-output-channel zero point.
std::vector<int32_t> subtractChannelZeroPoint(const Tensor &w,
                                              const Tensor *zeroPoint) {
  if (!zeroPoint || zeroPoint->numElements() == 1)
    return subtractZeroPoint(w, zeroPoint);
  int64_t n = w.numElements(), perChannel = n / w.shape[0];
  std::vector<int32_t> result(n);
  for (int64_t i = 0; i < n; ++i)
    result[i] = static_cast<int32_t>(loadInt(w, i) -
                                     loadInt(*zeroPoint, i / perChannel));
  return result;
}

LogicalResult convIntegerKernel(Operation *op, KernelContext &ctx) {
  auto conv = cast<ConvIntegerOp>(op);
  const Tensor &x = ctx.get(conv.getInput());
  const Tensor &w = ctx.get(conv.getWeight());
  std::vector<int32_t> x32 =
      subtractZeroPoint(x, ctx.getOptional(conv.getInputZeroPoint()));
  std::vector<int32_t> w32 =
      subtractChannelZeroPoint(w, ctx.getOptional(conv.getWeightZeroPoint()));
  Tensor &out = ctx.result();
  std::vector<int64_t> acc;
  convInt(x32, x.shape, w32, w.shape, out.shape, conv.getStrides(),
          conv.getPads(), conv.getDilations(), conv.getGroup(), acc);
  int32_t *y = out.as<int32_t>();
  for (size_t i = 0; i < acc.size(); ++i)
    y[i] = wrap32(acc[i]);
  return success();
}

LogicalResult qlinearConvKernel(Operation *op, KernelContext &ctx) {
  auto conv = cast<QLinearConvOp>(op);
  const Tensor &x = ctx.get(conv.getInput());
  const Tensor &w = ctx.get(conv.getWeight());
  const Tensor &wScale = ctx.get(conv.getWeightScale());
  const Tensor *bias = ctx.getOptional(conv.getBias());
  std::vector<int32_t> x32 =
      subtractZeroPoint(x, &ctx.get(conv.getInputZeroPoint()));
  std::vector<int32_t> w32 =
      subtractChannelZeroPoint(w, &ctx.get(conv.getWeightZeroPoint()));
  Tensor &out = ctx.result();
  std::vector<int64_t> acc;
  convInt(x32, x.shape, w32, w.shape, out.shape, conv.getStrides(),
          conv.getPads(), conv.getDilations(), conv.getGroup(), acc);
  DType scaleType = wScale.dtype;
  double sx = loadFloat(ctx.get(conv.getInputScale()), 0);
  double sy = loadFloat(ctx.get(conv.getOutputScale()), 0);
  int64_t zy = loadInt(ctx.get(conv.getOutputZeroPoint()), 0);
  int64_t outChannels = out.shape[1];
  int64_t outSize = out.numElements() / (out.shape[0] * outChannels);
  for (size_t i = 0; i < acc.size(); ++i) {
    int64_t oc = (static_cast<int64_t>(i) / outSize) % outChannels;
    double sw = loadFloat(wScale, wScale.numElements() == 1 ? 0 : oc);
    int64_t sum = wrap32(acc[i]) + (bias ? loadInt(*bias, oc) : 0);
    double multiplier = requantMultiplier(scaleType, sx, sw, sy);
    if (std::isnan(multiplier))
      return ctx.fail("the scales give a NaN requantization multiplier");
    storeInt(out, i, requantize(sum, multiplier, zy, out.dtype));
  }
  return success();
}

} // namespace

void registerQuantizationKernels(KernelRegistry &r) {
  r.add<QuantizeLinearOp>(quantizeLinearKernel);
  r.add<DequantizeLinearOp>(dequantizeLinearKernel);
  r.add<DynamicQuantizeLinearOp>(dynamicQuantizeLinearKernel);
  r.add<MatMulIntegerOp>(matmulIntegerKernel);
  r.add<ConvIntegerOp>(convIntegerKernel);
  r.add<QLinearMatMulOp>(qlinearMatmulKernel);
  r.add<QLinearConvOp>(qlinearConvKernel);
}

} // namespace kiln::eval
