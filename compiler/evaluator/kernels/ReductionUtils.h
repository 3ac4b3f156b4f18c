//===- ReductionUtils.h - Helpers of reducing kernels -----------*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// Shared by the reduction and normalization kernels: whole-tensor loads into
// double / 64-bit integer buffers, the (outer, axis, inner) split of a
// tensor around one axis, the walk that maps every input element to its
// reduction slot, and rounding to a storage type.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_COMPILER_EVALUATOR_KERNELS_REDUCTIONUTILS_H
#define KILN_COMPILER_EVALUATOR_KERNELS_REDUCTIONUTILS_H

#include "compiler/evaluator/Kernel.h"

#include "llvm/ADT/ArrayRef.h"

#include <vector>

namespace kiln::eval {

/// Returns every element of the floating-point tensor |tensor| as double.
inline std::vector<double> loadDoubles(const Tensor &tensor) {
  int64_t n = tensor.numElements();
  std::vector<double> values(n);
  if (tensor.dtype == DType::F32) {
    const float *x = tensor.as<float>();
    for (int64_t i = 0; i < n; ++i)
      values[i] = x[i];
  } else if (tensor.dtype == DType::F64) {
    copyBytes(values.data(), tensor.data.data(), n * sizeof(double));
  } else {
    for (int64_t i = 0; i < n; ++i)
      values[i] = loadFloat(tensor, i);
  }
  return values;
}

/// Writes |values| into the floating-point tensor |tensor| (rounding once
/// to its element type).
inline void storeDoubles(llvm::ArrayRef<double> values, Tensor &tensor) {
  int64_t n = static_cast<int64_t>(values.size());
  if (tensor.dtype == DType::F32) {
    float *y = tensor.as<float>();
    for (int64_t i = 0; i < n; ++i)
      y[i] = static_cast<float>(values[i]);
  } else if (tensor.dtype == DType::F64) {
    copyBytes(tensor.data.data(), values.data(), n * sizeof(double));
  } else {
    for (int64_t i = 0; i < n; ++i)
      storeFloat(tensor, i, values[i]);
  }
}

/// Returns every element of the integer or bool tensor |tensor| as the 64
/// bits of its value (sign-extended for signed types).
inline std::vector<uint64_t> loadBits(const Tensor &tensor) {
  int64_t n = tensor.numElements();
  std::vector<uint64_t> values(n);
  for (int64_t i = 0; i < n; ++i)
    values[i] = loadUnsigned(tensor, i);
  return values;
}

/// Returns the number of value bits of integer type |type|.
inline unsigned intBits(DType type) {
  if (type == DType::I4 || type == DType::U4)
    return 4;
  if (type == DType::Bool)
    return 1;
  return static_cast<unsigned>(dtypeSize(type) * 8);
}

/// Returns |bits| wrapped to the width of integer type |type|, as the
/// signed value for signed types and the unsigned value otherwise (both in
/// 64 bits).
inline uint64_t wrapToType(DType type, uint64_t bits) {
  unsigned width = intBits(type);
  if (width >= 64)
    return bits;
  uint64_t mask = (uint64_t(1) << width) - 1;
  bits &= mask;
  if (isSignedInt(type) && (bits >> (width - 1)) & 1)
    bits |= ~mask;
  return bits;
}

/// Returns the largest value of integer or bool type |type| as 64 bits.
inline uint64_t maxBits(DType type) {
  if (type == DType::U64)
    return ~uint64_t(0);
  return static_cast<uint64_t>(intMax(type));
}

/// The split of a shape around one axis: |outer| lines before it, |dim|
/// elements along it, |inner| contiguous elements after it. Element j of
/// line (o, i) sits at (o * dim + j) * inner + i.
struct AxisSplit {
  int64_t outer = 1, dim = 1, inner = 1;

  AxisSplit(llvm::ArrayRef<int64_t> shape, int64_t axis) {
    for (int64_t d = 0; d < axis; ++d)
      outer *= shape[d];
    dim = shape[axis];
    for (size_t d = axis + 1; d < shape.size(); ++d)
      inner *= shape[d];
  }
  /// Returns the flat offset of element 0 of line |line| (o * inner + i).
  int64_t base(int64_t line) const {
    return (line / inner) * dim * inner + line % inner;
  }
  int64_t lines() const { return outer * inner; }
};

/// The split of a shape into |outer| leading elements (axes before |axis|)
/// and |inner| trailing ones (|axis| to the last): the normalized block of
/// layer / RMS normalization.
inline std::pair<int64_t, int64_t> splitAt(llvm::ArrayRef<int64_t> shape,
                                           int64_t axis) {
  int64_t outer = 1, inner = 1;
  for (int64_t d = 0; d < static_cast<int64_t>(shape.size()); ++d)
    (d < axis ? outer : inner) *= shape[d];
  return {outer, inner};
}

/// Calls fn(i, o) for every element i (row-major) of a tensor of |shape|,
/// with o the row-major index of its slot in the reduction over |axes|
/// (the same index with or without keepdims).
template <typename Fn>
void forEachReduced(llvm::ArrayRef<int64_t> shape, llvm::ArrayRef<int64_t> axes,
                    Fn &&fn) {
  llvm::SmallVector<int64_t> kept(shape);
  for (int64_t axis : axes)
    kept[axis] = 1;
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  if (n == 0)
    return;
  llvm::ArrayRef<int64_t> operands[] = {kept};
  BroadcastIterator it(shape, operands);
  for (int64_t i = 0; i < n; ++i, it.next())
    fn(i, it.offset(0));
}

/// Returns |value| rounded to the floating-point type with ONNX TensorProto
/// code |onnxType| (1 float, 10 float16, 11 double, 16 bfloat16).
inline double roundToOnnxType(int64_t onnxType, double value) {
  switch (onnxType) {
  case 1:
    return static_cast<float>(value);
  case 10:
    return halfToFloat(floatToHalf(static_cast<float>(value)));
  case 16:
    return bfloat16ToFloat(floatToBfloat16(static_cast<float>(value)));
  default:
    return value;
  }
}

/// Returns |value| rounded to the floating-point type |type|.
inline double roundToType(DType type, double value) {
  switch (type) {
  case DType::F32:
    return static_cast<float>(value);
  case DType::F64:
    return value;
  case DType::F16:
    return halfToFloat(floatToHalf(static_cast<float>(value)));
  case DType::BF16:
    return bfloat16ToFloat(floatToBfloat16(static_cast<float>(value)));
  default: {
    Tensor scratch("", type, {});
    storeFloat(scratch, 0, value);
    return loadFloat(scratch, 0);
  }
  }
}

} // namespace kiln::eval

#endif // KILN_COMPILER_EVALUATOR_KERNELS_REDUCTIONUTILS_H
