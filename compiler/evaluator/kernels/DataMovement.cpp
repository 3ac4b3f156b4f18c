//===- DataMovement.cpp - Kernels of the data movement ops ------*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// reshape, transpose, concat, slice, broadcast, pad, tile, the gathers and
// scatters, depth/space rearrangements, trilu, one_hot, reverse_sequence and
// resize. The pure movers copy whole elements as bytes, so they work for
// every element type; scatter reductions and resize do arithmetic (in
// double for floats, in wrapping int64 for integers).
//
//===----------------------------------------------------------------------===//

#include "compiler/evaluator/Kernel.h"

#include "dialects/kiln/KilnOps.h"

#include "compiler/support/QuantParams.h"

#include "mlir/Dialect/Quant/IR/QuantTypes.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "llvm/ADT/StringSwitch.h"

#include <cmath>

using namespace mlir;
using namespace mlir::kiln;

namespace kiln::eval {
namespace {

/// Copies element |from| of |src| to element |to| of |dst|.
inline void copyElement(const Tensor &src, int64_t from, Tensor &dst,
                        int64_t to) {
  size_t size = dtypeSize(src.dtype);
  copyBytes(dst.data.data() + to * size, src.data.data() + from * size,
              size);
}

LogicalResult reshapeKernel(Operation *op, KernelContext &ctx) {
  ctx.result().data = ctx.get(op->getOperand(0)).data;
  return success();
}

LogicalResult transposeKernel(Operation *op, KernelContext &ctx) {
  auto transpose = cast<TransposeOp>(op);
  const Tensor &in = ctx.get(transpose.getInput());
  Tensor &out = ctx.result();
  llvm::ArrayRef<int64_t> perm = transpose.getPerm();
  llvm::SmallVector<int64_t> inStrides = stridesOf(in.shape);
  // Strides of the input, reordered so that walking the output row-major
  // steps through the input.
  llvm::SmallVector<int64_t> permuted;
  for (int64_t p : perm)
    permuted.push_back(inStrides[p]);
  size_t rank = out.shape.size();
  llvm::SmallVector<int64_t> index(rank, 0);
  int64_t offset = 0;
  for (int64_t i = 0, n = out.numElements(); i < n; ++i) {
    copyElement(in, offset, out, i);
    for (int64_t d = rank - 1; d >= 0; --d) {
      if (++index[d] < out.shape[d]) {
        offset += permuted[d];
        break;
      }
      offset -= permuted[d] * (out.shape[d] - 1);
      index[d] = 0;
    }
  }
  return success();
}

LogicalResult concatKernel(Operation *op, KernelContext &ctx) {
  auto concat = cast<ConcatOp>(op);
  Tensor &out = ctx.result();
  int64_t axis = concat.getAxis();
  size_t elem = dtypeSize(out.dtype);
  int64_t outer = 1;
  for (int64_t d = 0; d < axis; ++d)
    outer *= out.shape[d];
  int64_t outRow = out.numElements() / std::max<int64_t>(outer, 1);
  int64_t column = 0;
  for (Value input : concat.getInputs()) {
    const Tensor &in = ctx.get(input);
    int64_t inRow = in.numElements() / std::max<int64_t>(outer, 1);
    for (int64_t o = 0; o < outer; ++o)
      copyBytes(out.data.data() + (o * outRow + column) * elem,
                  in.data.data() + o * inRow * elem, inRow * elem);
    column += inRow;
  }
  return success();
}

LogicalResult sliceKernel(Operation *op, KernelContext &ctx) {
  auto slice = cast<SliceOp>(op);
  const Tensor &in = ctx.get(slice.getInput());
  Tensor &out = ctx.result();
  llvm::ArrayRef<int64_t> starts = slice.getStarts(), steps = slice.getSteps();
  llvm::SmallVector<int64_t> strides = stridesOf(in.shape);
  size_t rank = out.shape.size();
  llvm::SmallVector<int64_t> index(rank, 0);
  int64_t n = out.numElements();
  for (int64_t i = 0; i < n; ++i) {
    int64_t offset = 0;
    for (size_t d = 0; d < rank; ++d)
      offset += (starts[d] + index[d] * steps[d]) * strides[d];
    copyElement(in, offset, out, i);
    for (int64_t d = rank - 1; d >= 0; --d) {
      if (++index[d] < out.shape[d])
        break;
      index[d] = 0;
    }
  }
  return success();
}

LogicalResult broadcastKernel(Operation *op, KernelContext &ctx) {
  const Tensor &in = ctx.get(op->getOperand(0));
  Tensor &out = ctx.result();
  BroadcastIterator it(out.shape, {in.shape});
  for (int64_t i = 0, n = out.numElements(); i < n; ++i, it.next())
    copyElement(in, it.offset(0), out, i);
  return success();
}

LogicalResult tileKernel(Operation *op, KernelContext &ctx) {
  const Tensor &in = ctx.get(op->getOperand(0));
  Tensor &out = ctx.result();
  llvm::SmallVector<int64_t> strides = stridesOf(in.shape);
  size_t rank = out.shape.size();
  llvm::SmallVector<int64_t> index(rank, 0);
  for (int64_t i = 0, n = out.numElements(); i < n; ++i) {
    int64_t offset = 0;
    for (size_t d = 0; d < rank; ++d)
      offset += (index[d] % in.shape[d]) * strides[d];
    copyElement(in, offset, out, i);
    for (int64_t d = rank - 1; d >= 0; --d) {
      if (++index[d] < out.shape[d])
        break;
      index[d] = 0;
    }
  }
  return success();
}

/// Maps an index of a padded dimension back to the input, or -1 for a
/// constant-filled position.
int64_t padSource(int64_t pos, int64_t size, llvm::StringRef mode) {
  if (pos >= 0 && pos < size)
    return pos;
  if (mode == "constant" || size == 0)
    return -1;
  if (mode == "edge")
    return pos < 0 ? 0 : size - 1;
  if (mode == "wrap")
    return ((pos % size) + size) % size;
  // reflect: mirror without repeating the edge element.
  if (size == 1)
    return 0;
  int64_t period = 2 * (size - 1);
  pos = ((pos % period) + period) % period;
  return pos < size ? pos : period - pos;
}

LogicalResult padKernel(Operation *op, KernelContext &ctx) {
  auto pad = cast<PadOp>(op);
  const Tensor &in = ctx.get(pad.getInput());
  Tensor &out = ctx.result();
  llvm::ArrayRef<int64_t> pads = pad.getPads();
  llvm::StringRef mode = pad.getMode();
  size_t rank = out.shape.size();
  // The fill value, encoded once in the element type.
  Tensor fill("", out.dtype, {});
  if (auto value = pad.getValueAttr()) {
    if (auto f = dyn_cast<FloatAttr>(value))
      storeFloat(fill, 0, f.getValueAsDouble());
    else
      storeInt(fill, 0, cast<IntegerAttr>(value).getValue().getSExtValue());
  } else if (isa<quant::UniformQuantizedType>(pad.getType().getElementType())) {
    // Quantized tensors pad with the real value 0: the zero point.
    storeInt(fill, 0, perTensorParams(pad.getType()).zeroPoint);
  }
  if (mode == "reflect")
    for (size_t d = 0; d < rank; ++d)
      if (in.shape[d] < 2 && (pads[d] > 0 || pads[rank + d] > 0))
        return ctx.fail("reflect padding needs at least 2 elements per "
                        "padded dimension");
  llvm::SmallVector<int64_t> strides = stridesOf(in.shape);
  llvm::SmallVector<int64_t> index(rank, 0);
  for (int64_t i = 0, n = out.numElements(); i < n; ++i) {
    int64_t offset = 0;
    bool constant = false;
    for (size_t d = 0; d < rank; ++d) {
      int64_t src = padSource(index[d] - pads[d], in.shape[d], mode);
      if (src < 0) {
        constant = true;
        break;
      }
      offset += src * strides[d];
    }
    if (constant)
      copyElement(fill, 0, out, i);
    else
      copyElement(in, offset, out, i);
    for (int64_t d = rank - 1; d >= 0; --d) {
      if (++index[d] < out.shape[d])
        break;
      index[d] = 0;
    }
  }
  return success();
}

LogicalResult gatherKernel(Operation *op, KernelContext &ctx) {
  auto gather = cast<GatherOp>(op);
  const Tensor &in = ctx.get(gather.getInput());
  const Tensor &indices = ctx.get(gather.getIndices());
  Tensor &out = ctx.result();
  int64_t axis = gather.getAxis();
  int64_t outer = 1, inner = 1, dim = in.shape[axis];
  for (int64_t d = 0; d < axis; ++d)
    outer *= in.shape[d];
  for (size_t d = axis + 1; d < in.shape.size(); ++d)
    inner *= in.shape[d];
  int64_t count = indices.numElements();
  size_t elem = dtypeSize(in.dtype);
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t j = 0; j < count; ++j) {
      int64_t index = loadInt(indices, j);
      if (!normalizeIndex(index, dim))
        return ctx.fail("gather index " + llvm::Twine(loadInt(indices, j)) +
                        " is out of range for dimension of size " +
                        llvm::Twine(dim));
      copyBytes(out.data.data() + ((o * count + j) * inner) * elem,
                  in.data.data() + ((o * dim + index) * inner) * elem,
                  inner * elem);
    }
  return success();
}

/// Advances the row-major multi-index |index| within |shape|; returns false
/// after the last index.
inline bool nextIndex(llvm::MutableArrayRef<int64_t> index,
                      llvm::ArrayRef<int64_t> shape) {
  for (int64_t d = static_cast<int64_t>(shape.size()) - 1; d >= 0; --d) {
    if (++index[d] < shape[d])
      return true;
    index[d] = 0;
  }
  return false;
}

/// Returns the message for an index out of range.
std::string indexError(llvm::StringRef op, int64_t index, int64_t dim) {
  return (op + " index " + llvm::Twine(index) +
          " is out of range for a dimension of size " + llvm::Twine(dim))
      .str();
}

LogicalResult gatherElementsKernel(Operation *op, KernelContext &ctx) {
  auto gather = cast<GatherElementsOp>(op);
  const Tensor &in = ctx.get(gather.getInput());
  const Tensor &indices = ctx.get(gather.getIndices());
  Tensor &out = ctx.result();
  int64_t axis = gather.getAxis(), dim = in.shape[axis];
  llvm::SmallVector<int64_t> strides = stridesOf(in.shape);
  llvm::SmallVector<int64_t> index(indices.shape.size(), 0);
  for (int64_t i = 0, n = indices.numElements(); i < n; ++i) {
    int64_t value = loadInt(indices, i), target = value;
    if (!normalizeIndex(target, dim))
      return ctx.fail(indexError("gather_elements", value, dim));
    int64_t offset = 0;
    for (size_t d = 0; d < index.size(); ++d)
      offset +=
          (static_cast<int64_t>(d) == axis ? target : index[d]) * strides[d];
    copyElement(in, offset, out, i);
    nextIndex(index, indices.shape);
  }
  return success();
}

LogicalResult gatherNDKernel(Operation *op, KernelContext &ctx) {
  auto gather = cast<GatherNDOp>(op);
  const Tensor &in = ctx.get(gather.getInput());
  const Tensor &indices = ctx.get(gather.getIndices());
  Tensor &out = ctx.result();
  int64_t batchDims = gather.getBatchDims();
  int64_t tuple = indices.shape.back();
  llvm::SmallVector<int64_t> strides = stridesOf(in.shape);
  int64_t batches = 1, perBatch = 1, slice = 1;
  for (int64_t d = 0; d < batchDims; ++d)
    batches *= indices.shape[d];
  for (size_t d = batchDims; d + 1 < indices.shape.size(); ++d)
    perBatch *= indices.shape[d];
  for (size_t d = batchDims + tuple; d < in.shape.size(); ++d)
    slice *= in.shape[d];
  int64_t batchStride = batchDims > 0 ? strides[batchDims - 1] : 0;
  size_t elem = dtypeSize(in.dtype);
  for (int64_t b = 0; b < batches; ++b)
    for (int64_t t = 0; t < perBatch; ++t) {
      int64_t row = b * perBatch + t;
      int64_t offset = b * batchStride;
      for (int64_t j = 0; j < tuple; ++j) {
        int64_t value = loadInt(indices, row * tuple + j), target = value;
        int64_t dim = in.shape[batchDims + j];
        if (!normalizeIndex(target, dim))
          return ctx.fail(indexError("gather_nd", value, dim));
        offset += target * strides[batchDims + j];
      }
      copyBytes(out.data.data() + row * slice * elem,
                in.data.data() + offset * elem, slice * elem);
    }
  return success();
}

/// How a scatter combines an update with the value already in place.
enum class Reduction { None, Add, Mul, Max, Min };

/// Returns the reduction named |name| (the verifier admits no others).
Reduction parseReduction(llvm::StringRef name) {
  return llvm::StringSwitch<Reduction>(name)
      .Case("add", Reduction::Add)
      .Case("mul", Reduction::Mul)
      .Case("max", Reduction::Max)
      .Case("min", Reduction::Min)
      .Default(Reduction::None);
}

/// Combines element |from| of |updates| into element |to| of |out|. Floats
/// compute in double (exact for one add or multiply before rounding to the
/// element type); integers wrap as in two's complement; max and min
/// propagate NaN as numpy does.
void combine(Tensor &out, int64_t to, const Tensor &updates, int64_t from,
             Reduction reduction) {
  if (reduction == Reduction::None) {
    copyElement(updates, from, out, to);
    return;
  }
  if (isFloat(out.dtype)) {
    double a = loadFloat(out, to), b = loadFloat(updates, from), r;
    switch (reduction) {
    case Reduction::Add:
      r = a + b;
      break;
    case Reduction::Mul:
      r = a * b;
      break;
    case Reduction::Max:
      r = std::isnan(a) || std::isnan(b) ? NAN : std::max(a, b);
      break;
    default:
      r = std::isnan(a) || std::isnan(b) ? NAN : std::min(a, b);
      break;
    }
    storeFloat(out, to, r);
    return;
  }
  if (out.dtype == DType::U64) {
    uint64_t a = loadUnsigned(out, to), b = loadUnsigned(updates, from), r;
    switch (reduction) {
    case Reduction::Add:
      r = a + b;
      break;
    case Reduction::Mul:
      r = a * b;
      break;
    case Reduction::Max:
      r = std::max(a, b);
      break;
    default:
      r = std::min(a, b);
      break;
    }
    storeInt(out, to, static_cast<int64_t>(r));
    return;
  }
  int64_t a = loadInt(out, to), b = loadInt(updates, from), r;
  switch (reduction) {
  case Reduction::Add:
    r = static_cast<int64_t>(static_cast<uint64_t>(a) +
                             static_cast<uint64_t>(b));
    break;
  case Reduction::Mul:
    r = static_cast<int64_t>(static_cast<uint64_t>(a) *
                             static_cast<uint64_t>(b));
    break;
  case Reduction::Max:
    r = std::max(a, b);
    break;
  default:
    r = std::min(a, b);
    break;
  }
  storeInt(out, to, r);
}

LogicalResult scatterElementsKernel(Operation *op, KernelContext &ctx) {
  auto scatter = cast<ScatterElementsOp>(op);
  const Tensor &in = ctx.get(scatter.getInput());
  const Tensor &indices = ctx.get(scatter.getIndices());
  const Tensor &updates = ctx.get(scatter.getUpdates());
  Tensor &out = ctx.result();
  out.data = in.data;
  Reduction reduction = parseReduction(scatter.getReduction());
  int64_t axis = scatter.getAxis(), dim = in.shape[axis];
  llvm::SmallVector<int64_t> strides = stridesOf(in.shape);
  llvm::SmallVector<int64_t> index(indices.shape.size(), 0);
  for (int64_t i = 0, n = indices.numElements(); i < n; ++i) {
    int64_t value = loadInt(indices, i), target = value;
    if (!normalizeIndex(target, dim))
      return ctx.fail(indexError("scatter_elements", value, dim));
    int64_t offset = 0;
    for (size_t d = 0; d < index.size(); ++d)
      offset +=
          (static_cast<int64_t>(d) == axis ? target : index[d]) * strides[d];
    combine(out, offset, updates, i, reduction);
    nextIndex(index, indices.shape);
  }
  return success();
}

LogicalResult scatterNDKernel(Operation *op, KernelContext &ctx) {
  auto scatter = cast<ScatterNDOp>(op);
  const Tensor &in = ctx.get(scatter.getInput());
  const Tensor &indices = ctx.get(scatter.getIndices());
  const Tensor &updates = ctx.get(scatter.getUpdates());
  Tensor &out = ctx.result();
  out.data = in.data;
  Reduction reduction = parseReduction(scatter.getReduction());
  int64_t tuple = indices.shape.back();
  llvm::SmallVector<int64_t> strides = stridesOf(in.shape);
  int64_t slice = 1;
  for (size_t d = tuple; d < in.shape.size(); ++d)
    slice *= in.shape[d];
  int64_t rows = tuple > 0 ? indices.numElements() / tuple : 0;
  for (int64_t row = 0; row < rows; ++row) {
    int64_t offset = 0;
    for (int64_t j = 0; j < tuple; ++j) {
      int64_t value = loadInt(indices, row * tuple + j), target = value;
      if (!normalizeIndex(target, in.shape[j]))
        return ctx.fail(indexError("scatter_nd", value, in.shape[j]));
      offset += target * strides[j];
    }
    for (int64_t e = 0; e < slice; ++e)
      combine(out, offset + e, updates, row * slice + e, reduction);
  }
  return success();
}

/// Copies between the N x C x H x W tensor |space| and the
/// N x C*b*b x H/b x W/b tensor |depth|: the depth channel of space channel
/// c at block offset (by, bx) is (by * b + bx) * C + c in DCR order and
/// (c * b + by) * b + bx in CRD order.
void depthSpaceCopy(const Tensor &src, Tensor &dst, int64_t blocksize, bool crd,
                    bool toSpace) {
  const Tensor &space = toSpace ? dst : src;
  const Tensor &depth = toSpace ? src : dst;
  int64_t batch = space.shape[0], channels = space.shape[1];
  int64_t height = space.shape[2], width = space.shape[3];
  int64_t depthChannels = depth.shape[1];
  int64_t dh = depth.shape[2], dw = depth.shape[3];
  for (int64_t n = 0; n < batch; ++n)
    for (int64_t c = 0; c < channels; ++c)
      for (int64_t y = 0; y < height; ++y)
        for (int64_t x = 0; x < width; ++x) {
          int64_t by = y % blocksize, bx = x % blocksize;
          int64_t dc = crd ? (c * blocksize + by) * blocksize + bx
                           : (by * blocksize + bx) * channels + c;
          int64_t spaceIndex = ((n * channels + c) * height + y) * width + x;
          int64_t depthIndex =
              ((n * depthChannels + dc) * dh + y / blocksize) * dw +
              x / blocksize;
          if (toSpace)
            copyElement(src, depthIndex, dst, spaceIndex);
          else
            copyElement(src, spaceIndex, dst, depthIndex);
        }
}

LogicalResult depthToSpaceKernel(Operation *op, KernelContext &ctx) {
  auto d2s = cast<DepthToSpaceOp>(op);
  depthSpaceCopy(ctx.get(d2s.getInput()), ctx.result(), d2s.getBlocksize(),
                 d2s.getCrd(), /*toSpace=*/true);
  return success();
}

LogicalResult spaceToDepthKernel(Operation *op, KernelContext &ctx) {
  auto s2d = cast<SpaceToDepthOp>(op);
  depthSpaceCopy(ctx.get(s2d.getInput()), ctx.result(), s2d.getBlocksize(),
                 s2d.getCrd(), /*toSpace=*/false);
  return success();
}

LogicalResult triluKernel(Operation *op, KernelContext &ctx) {
  auto trilu = cast<TriluOp>(op);
  const Tensor &in = ctx.get(trilu.getInput());
  Tensor &out = ctx.result();
  size_t rank = in.shape.size();
  int64_t rows = in.shape[rank - 2], cols = in.shape[rank - 1];
  int64_t matrices = rows * cols == 0 ? 0 : in.numElements() / (rows * cols);
  int64_t k = trilu.getK();
  bool upper = trilu.getUpper();
  // The result starts zero-filled; copy the kept triangle.
  for (int64_t m = 0; m < matrices; ++m)
    for (int64_t i = 0; i < rows; ++i)
      for (int64_t j = 0; j < cols; ++j)
        if (upper ? j - i >= k : j - i <= k) {
          int64_t e = (m * rows + i) * cols + j;
          copyElement(in, e, out, e);
        }
  return success();
}

LogicalResult oneHotKernel(Operation *op, KernelContext &ctx) {
  auto oneHot = cast<OneHotOp>(op);
  const Tensor &indices = ctx.get(oneHot.getIndices());
  const Tensor &values = ctx.get(oneHot.getValues());
  Tensor &out = ctx.result();
  int64_t depth = oneHot.getDepth(), axis = oneHot.getAxis();
  int64_t outer = 1, inner = 1;
  for (int64_t d = 0; d < axis; ++d)
    outer *= indices.shape[d];
  for (size_t d = axis; d < indices.shape.size(); ++d)
    inner *= indices.shape[d];
  for (int64_t e = 0, n = out.numElements(); e < n; ++e)
    copyElement(values, 0, out, e);
  bool floatIndices = isFloat(indices.dtype);
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = 0; i < inner; ++i) {
      int64_t e = o * inner + i, index;
      if (floatIndices) {
        // Non-integer indices are cast to int64 (truncated); values beyond
        // int64 (and NaN) are out of range anyway.
        double value = std::trunc(loadFloat(indices, e));
        if (!(std::fabs(value) < 9.0e18))
          continue;
        index = static_cast<int64_t>(value);
      } else if (indices.dtype == DType::U64) {
        uint64_t value = loadUnsigned(indices, e);
        if (value >= static_cast<uint64_t>(depth))
          continue;
        index = static_cast<int64_t>(value);
      } else {
        index = loadInt(indices, e);
      }
      if (index < -depth || index >= depth)
        continue;
      if (index < 0)
        index += depth;
      copyElement(values, 1, out, (o * depth + index) * inner + i);
    }
  return success();
}

LogicalResult reverseSequenceKernel(Operation *op, KernelContext &ctx) {
  auto reverse = cast<ReverseSequenceOp>(op);
  const Tensor &in = ctx.get(reverse.getInput());
  const Tensor &lens = ctx.get(reverse.getSequenceLens());
  Tensor &out = ctx.result();
  int64_t batchAxis = reverse.getBatchAxis(), timeAxis = reverse.getTimeAxis();
  // The verifier and importer keep both axes among the first two, so the
  // remaining dimensions form a contiguous block per (batch, time) pair.
  int64_t batch = in.shape[batchAxis], time = in.shape[timeAxis];
  int64_t inner = 1;
  for (size_t d = 2; d < in.shape.size(); ++d)
    inner *= in.shape[d];
  size_t elem = dtypeSize(in.dtype);
  auto offset = [&](int64_t b, int64_t t) {
    int64_t first = batchAxis == 0 ? b : t;
    int64_t second = batchAxis == 0 ? t : b;
    return (first * in.shape[1] + second) * inner;
  };
  for (int64_t b = 0; b < batch; ++b) {
    int64_t len = loadInt(lens, b);
    if (len < 0 || len > time)
      return ctx.fail("sequence length " + llvm::Twine(len) +
                      " is out of range [0, " + llvm::Twine(time) + "]");
    for (int64_t t = 0; t < time; ++t) {
      int64_t source = t < len ? len - 1 - t : t;
      copyBytes(out.data.data() + offset(b, t) * elem,
                in.data.data() + offset(b, source) * elem, inner * elem);
    }
  }
  return success();
}

//===----------------------------------------------------------------------===//
// Resize
//===----------------------------------------------------------------------===//

/// The sampling of one resized dimension: |taps| (index, weight) pairs per
/// output position, and which positions take the extrapolation value.
struct AxisSampling {
  int64_t taps = 0;
  std::vector<int64_t> index;
  std::vector<double> weight;
  std::vector<bool> extrapolated;
};

/// Returns the interpolation weights of |mode| for the fractional offset
/// |ratio| in (0, 1] (1 when the coordinate is an integer), as the ONNX
/// reference computes them.
std::vector<double> resizeWeights(ResizeOp resize, double ratio, double scale) {
  llvm::StringRef mode = resize.getMode();
  if (mode == "nearest") {
    llvm::StringRef rounding = resize.getNearestMode();
    if (ratio == 1.0)
      return {0.0, 1.0};
    bool high = rounding == "round_prefer_floor"  ? ratio > 0.5
                : rounding == "round_prefer_ceil" ? ratio >= 0.5
                                                  : rounding == "ceil";
    return {high ? 0.0 : 1.0, high ? 1.0 : 0.0};
  }
  double a = resize.getCubicCoeffA().convertToDouble();
  if (!resize.getAntialias()) {
    if (mode == "linear")
      return {1 - ratio, ratio};
    double r1 = ratio + 1, s = 1 - ratio, s1 = s + 1;
    return {((a * r1 - 5 * a) * r1 + 8 * a) * r1 - 4 * a,
            ((a + 2) * ratio - (a + 3)) * ratio * ratio + 1,
            ((a + 2) * s - (a + 3)) * s * s + 1,
            ((a * s1 - 5 * a) * s1 + 8 * a) * s1 - 4 * a};
  }
  // Antialiasing stretches the filter by 1 / scale when shrinking.
  scale = std::min(scale, 1.0);
  std::vector<double> weights;
  double sum = 0;
  if (mode == "linear") {
    int64_t start = static_cast<int64_t>(std::floor(-1 / scale) + 1);
    int64_t footprint = 2 - 2 * start;
    for (int64_t j = 0; j < footprint; ++j) {
      double arg = (static_cast<double>(start + j) - ratio) * scale;
      weights.push_back(std::clamp(1 - std::fabs(arg), 0.0, 1.0));
      sum += weights.back();
    }
  } else {
    int64_t first = static_cast<int64_t>(std::floor(-2 / scale) + 1);
    int64_t last = 2 - first;
    for (int64_t i = first; i < last; ++i) {
      double x = std::fabs(scale * (static_cast<double>(i) - ratio));
      double x2 = x * x, x3 = x * x2;
      weights.push_back(x <= 1  ? (a + 2) * x3 - (a + 3) * x2 + 1
                        : x < 2 ? a * x3 - 5 * a * x2 + 8 * a * x - 4 * a
                                : 0.0);
      sum += weights.back();
    }
  }
  for (double &w : weights)
    w /= sum;
  return weights;
}

/// Plans the sampling of dimension |axis| from |in| to |out| elements.
AxisSampling planAxis(ResizeOp resize, size_t axis, int64_t in, int64_t out) {
  double scale = resize.getScales()[axis];
  llvm::ArrayRef<double> roi = resize.getRoi();
  size_t rank = resize.getScales().size();
  llvm::StringRef transform = resize.getCoordinateTransformationMode();
  double width = scale * static_cast<double>(in);
  double inDouble = static_cast<double>(in);
  AxisSampling plan;
  plan.extrapolated.assign(out, false);
  for (int64_t y = 0; y < out; ++y) {
    double yd = static_cast<double>(y), x;
    // The expressions keep the ONNX reference's evaluation order so that
    // nearest rounding ties fall the same way.
    if (transform == "align_corners") {
      x = width == 1 ? 0.0 : yd * (inDouble - 1) / (width - 1);
    } else if (transform == "asymmetric") {
      x = yd / scale;
    } else if (transform == "tf_crop_and_resize") {
      double begin = roi[axis], end = roi[rank + axis];
      x = width == 1 ? (end - begin) * (inDouble - 1) / 2
                     : yd * (end - begin) * (inDouble - 1) / (width - 1);
      x = x + begin * (inDouble - 1);
      plan.extrapolated[y] = x < 0 || x > inDouble - 1;
    } else if (transform == "pytorch_half_pixel") {
      x = width == 1 ? -0.5 : (yd + 0.5) / scale - 0.5;
    } else if (transform == "half_pixel_symmetric") {
      double adjustment = static_cast<double>(out) / width;
      double center = inDouble / 2;
      double offset = center * (1 - adjustment);
      x = offset + (yd + 0.5) / scale - 0.5;
    } else if (transform == "tf_half_pixel_for_nn") {
      x = (yd + 0.5) / scale;
    } else {
      x = (yd + 0.5) / scale - 0.5;
    }
    double floorX = std::floor(x);
    double ratio = x == floorX ? 1.0 : x - floorX;
    std::vector<double> weights = resizeWeights(resize, ratio, scale);
    int64_t taps = weights.size();
    if (y == 0) {
      plan.taps = taps;
      plan.index.resize(out * taps);
      plan.weight.resize(out * taps);
    }
    // The taps are the |taps| integers nearest to x, ties to the smaller
    // ones (the reference pads by ceil(taps / 2) before choosing).
    int64_t pad = (taps + 1) / 2;
    double padded = x + static_cast<double>(pad);
    double base = std::floor(padded), frac = padded - base;
    int64_t offset = taps % 2 == 0 ? (frac == 0 ? -(taps / 2) : -(taps / 2) + 1)
                                   : (frac <= 0.5 ? -((taps - 1) / 2)
                                                  : -((taps - 1) / 2) + 1);
    int64_t start = static_cast<int64_t>(base) + offset - pad;
    if (resize.getExcludeOutside()) {
      double sum = 0;
      for (int64_t j = 0; j < taps; ++j) {
        if (start + j < 0 || start + j >= in)
          weights[j] = 0;
        sum += weights[j];
      }
      if (sum == 0)
        sum = 1;
      for (double &w : weights)
        w /= sum;
    }
    for (int64_t j = 0; j < taps; ++j) {
      plan.index[y * taps + j] = std::clamp<int64_t>(start + j, 0, in - 1);
      plan.weight[y * taps + j] = weights[j];
    }
  }
  return plan;
}

/// Returns true when resizing dimension |axis| is the identity (the ONNX
/// reference skips such dimensions).
bool isIdentityAxis(ResizeOp resize, size_t axis, int64_t in, int64_t out) {
  auto isClose = [](double a, double b) {
    return std::fabs(a - b) <= 1e-9 * std::max(std::fabs(a), std::fabs(b));
  };
  if (out != in || !isClose(resize.getScales()[axis], 1.0))
    return false;
  llvm::ArrayRef<double> roi = resize.getRoi();
  size_t rank = resize.getScales().size();
  return roi.empty() || (roi[axis] == 0.0 && isClose(roi[rank + axis], 1.0));
}

LogicalResult resizeKernel(Operation *op, KernelContext &ctx) {
  auto resize = cast<ResizeOp>(op);
  const Tensor &input = ctx.get(resize.getInput());
  Tensor &out = ctx.result();
  size_t rank = input.shape.size();
  if (out.numElements() == 0)
    return success();
  if (input.numElements() == 0)
    return ctx.fail("resize of an empty tensor to a non-empty one");
  // Dimensions are resized one after the other in double precision.
  std::vector<double> data(input.numElements());
  for (int64_t i = 0, n = input.numElements(); i < n; ++i)
    data[i] = isFloat(input.dtype) ? loadFloat(input, i)
              : input.dtype == DType::U64
                  ? static_cast<double>(loadUnsigned(input, i))
                  : static_cast<double>(loadInt(input, i));
  std::vector<int64_t> shape = input.shape;
  double extrapolation = resize.getExtrapolationValue().convertToDouble();
  for (size_t axis = 0; axis < rank; ++axis) {
    int64_t in = shape[axis], outDim = out.shape[axis];
    if (isIdentityAxis(resize, axis, in, outDim))
      continue;
    AxisSampling plan = planAxis(resize, axis, in, outDim);
    int64_t outer = 1, inner = 1;
    for (size_t d = 0; d < axis; ++d)
      outer *= shape[d];
    for (size_t d = axis + 1; d < rank; ++d)
      inner *= shape[d];
    std::vector<double> next(outer * outDim * inner);
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t y = 0; y < outDim; ++y) {
        double *dst = next.data() + (o * outDim + y) * inner;
        if (plan.extrapolated[y]) {
          std::fill(dst, dst + inner, extrapolation);
          continue;
        }
        for (int64_t j = 0; j < plan.taps; ++j) {
          double w = plan.weight[y * plan.taps + j];
          const double *src =
              data.data() + (o * in + plan.index[y * plan.taps + j]) * inner;
          for (int64_t i = 0; i < inner; ++i)
            dst[i] += w * src[i];
        }
      }
    data = std::move(next);
    shape[axis] = outDim;
  }
  // Integer results are rounded half to even and saturated.
  bool integer = !isFloat(out.dtype);
  double lo = integer ? static_cast<double>(intMin(out.dtype)) : 0;
  double hi = integer ? static_cast<double>(intMax(out.dtype)) : 0;
  for (int64_t i = 0, n = out.numElements(); i < n; ++i) {
    if (!integer) {
      storeFloat(out, i, data[i]);
      continue;
    }
    double v = std::clamp(roundHalfEven(data[i]), lo, hi);
    if (out.dtype == DType::U64 && v >= 9223372036854775808.0)
      storeInt(out, i, static_cast<int64_t>(static_cast<uint64_t>(v)));
    else
      storeInt(out, i, static_cast<int64_t>(v));
  }
  return success();
}

} // namespace

void registerDataMovementKernels(KernelRegistry &r) {
  r.add<ReshapeOp>(reshapeKernel);
  r.add<TransposeOp>(transposeKernel);
  r.add<ConcatOp>(concatKernel);
  r.add<SliceOp>(sliceKernel);
  r.add<BroadcastOp>(broadcastKernel);
  r.add<TileOp>(tileKernel);
  r.add<PadOp>(padKernel);
  r.add<GatherOp>(gatherKernel);
  r.add<GatherElementsOp>(gatherElementsKernel);
  r.add<GatherNDOp>(gatherNDKernel);
  r.add<ScatterElementsOp>(scatterElementsKernel);
  r.add<ScatterNDOp>(scatterNDKernel);
  r.add<DepthToSpaceOp>(depthToSpaceKernel);
  r.add<SpaceToDepthOp>(spaceToDepthKernel);
  r.add<TriluOp>(triluKernel);
  r.add<OneHotOp>(oneHotKernel);
  r.add<ReverseSequenceOp>(reverseSequenceKernel);
  r.add<ResizeOp>(resizeKernel);
}

} // namespace kiln::eval
