//===- DataMovement.cpp - Kernels of the data movement ops ------*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// reshape, transpose, concat, slice, broadcast, pad, tile, gather and the
// other ops that move elements without arithmetic. They copy whole elements
// as bytes, so they work for every element type.
//
//===----------------------------------------------------------------------===//

#include "compiler/evaluator/Kernel.h"

#include "dialects/kiln/KilnOps.h"

#include "compiler/support/QuantParams.h"

#include "mlir/Dialect/Quant/IR/QuantTypes.h"
#include "mlir/IR/BuiltinAttributes.h"

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
}

} // namespace kiln::eval
