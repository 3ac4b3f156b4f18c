//===- Kernel.h - What an evaluator kernel sees -----------------*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// The reference evaluator runs one kernel per kiln op. A kernel reads its
// operands through the op's typed accessors (`ctx.get(conv.getInput())`),
// writes into results the evaluator has already allocated from the result
// types, and reports problems with ctx.fail(). Kernels are registered per op
// family (registerXxxKernels) in kernels/*.cpp.
//
// Helpers here cover what most kernels need: numpy broadcasting, strides,
// and dispatch over element types.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_COMPILER_EVALUATOR_KERNEL_H
#define KILN_COMPILER_EVALUATOR_KERNEL_H

#include "compiler/support/Numeric.h"
#include "kiln/Tensor.h"

#include "mlir/IR/Operation.h"
#include "mlir/Support/TypeID.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/Twine.h"

#include <functional>
#include <memory>
#include <string>

namespace kiln::eval {

/// The operands and results of one op evaluation.
class KernelContext {
public:
  using Lookup = std::function<const Tensor *(mlir::Value)>;

  KernelContext(mlir::Operation *op, Lookup lookup,
                std::vector<Tensor> &results)
      : op(op), lookup(std::move(lookup)), results(results) {}

  /// Returns the tensor of operand |value| (which must be non-null).
  const Tensor &get(mlir::Value value) const { return *lookup(value); }
  /// Returns the tensor of |value|, or null when |value| is null (an absent
  /// optional operand).
  const Tensor *getOptional(mlir::Value value) const {
    return value ? lookup(value) : nullptr;
  }
  /// Returns result |i|, already allocated (zero-filled) from its type.
  Tensor &result(unsigned i = 0) { return results[i]; }
  /// Returns the op being evaluated.
  mlir::Operation *getOp() const { return op; }

  /// Records |message| as the reason the kernel failed; returns failure.
  mlir::LogicalResult fail(const llvm::Twine &message) {
    error = message.str();
    return mlir::failure();
  }
  /// The message given to fail().
  const std::string &getError() const { return error; }

private:
  mlir::Operation *op;
  Lookup lookup;
  std::vector<Tensor> &results;
  std::string error;
};

/// A kernel: computes the results of |op| from its operands.
using Kernel = mlir::LogicalResult (*)(mlir::Operation *op,
                                       KernelContext &ctx);

/// Maps op types to kernels.
class KernelRegistry {
public:
  /// Registers |kernel| for op type OpTy.
  template <typename OpTy> void add(Kernel kernel) {
    kernels[mlir::TypeID::get<OpTy>()] = kernel;
  }
  /// Returns the kernel of |op|'s type, or null.
  Kernel lookup(mlir::Operation *op) const {
    auto it = kernels.find(op->getName().getTypeID());
    return it == kernels.end() ? nullptr : it->second;
  }
  /// Returns the registry with every family's kernels.
  static const KernelRegistry &get();

private:
  llvm::DenseMap<mlir::TypeID, Kernel> kernels;
};

// One function per op family, in kernels/<Family>.cpp.
void registerElementwiseKernels(KernelRegistry &registry);
void registerLinearKernels(KernelRegistry &registry);
void registerNormalizationKernels(KernelRegistry &registry);
void registerPoolingKernels(KernelRegistry &registry);
void registerReductionKernels(KernelRegistry &registry);
void registerDataMovementKernels(KernelRegistry &registry);
void registerQuantizationKernels(KernelRegistry &registry);
void registerAttentionKernels(KernelRegistry &registry);
void registerIntegerKernels(KernelRegistry &registry);
void registerLowBitKernels(KernelRegistry &registry);

//===----------------------------------------------------------------------===//
// Helpers for kernels
//===----------------------------------------------------------------------===//

/// Returns the row-major strides of |shape| (in elements).
llvm::SmallVector<int64_t> stridesOf(llvm::ArrayRef<int64_t> shape);

/// Returns the strides that read a tensor of shape |from| broadcast to
/// shape |to| (0 along broadcast dimensions; |from| aligned to the right).
llvm::SmallVector<int64_t> broadcastStrides(llvm::ArrayRef<int64_t> from,
                                            llvm::ArrayRef<int64_t> to);

/// Walks the row-major indices of |shape| and, for each, the offsets into
/// up to three broadcast operands. Usage:
///   BroadcastIterator it(outShape, {aShape, bShape});
///   for (int64_t i = 0; i < n; ++i, it.next()) use(it.offset(0), ...);
class BroadcastIterator {
public:
  BroadcastIterator(llvm::ArrayRef<int64_t> shape,
                    llvm::ArrayRef<llvm::ArrayRef<int64_t>> operands);
  int64_t offset(unsigned operand) const { return offsets[operand]; }
  void next();

private:
  llvm::SmallVector<int64_t> shape, index, offsets;
  llvm::SmallVector<llvm::SmallVector<int64_t>> strides;
};

/// Normalises a possibly negative index into [0, dim); returns false when
/// out of range.
inline bool normalizeIndex(int64_t &index, int64_t dim) {
  if (index < 0)
    index += dim;
  return index >= 0 && index < dim;
}

/// Calls fn(T()) with the C++ storage type of |type| for the byte-addressed
/// integer types and float/double; returns false for other types (half,
/// bfloat16, narrow floats, bool), which kernels handle via loadFloat /
/// storeFloat.
template <typename Fn> bool visitStorageType(DType type, Fn &&fn) {
  switch (type) {
  case DType::F32:
    fn(float());
    return true;
  case DType::F64:
    fn(double());
    return true;
  case DType::I8:
  case DType::I4:
    fn(int8_t());
    return true;
  case DType::U8:
  case DType::U4:
    fn(uint8_t());
    return true;
  case DType::I16:
    fn(int16_t());
    return true;
  case DType::U16:
    fn(uint16_t());
    return true;
  case DType::I32:
    fn(int32_t());
    return true;
  case DType::U32:
    fn(uint32_t());
    return true;
  case DType::I64:
    fn(int64_t());
    return true;
  case DType::U64:
    fn(uint64_t());
    return true;
  default:
    return false;
  }
}

/// Returns true for half, bfloat16 and the narrow float types, which have
/// no native C++ type and compute through float.
inline bool isEmulatedFloat(DType type) {
  return isFloat(type) && type != DType::F32 && type != DType::F64;
}

/// Copies |source| into a float32 tensor (any numeric type).
Tensor toFloat32(const Tensor &source);
/// Copies the float32 |source| into |dest| (already shaped), converting to
/// dest's element type.
void fromFloat32(const Tensor &source, Tensor &dest);

} // namespace kiln::eval

#endif // KILN_COMPILER_EVALUATOR_KERNEL_H
