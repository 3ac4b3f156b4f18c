//===- TensorAttr.h - kiln::Tensor <-> MLIR types and attributes -*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// The mapping between host tensors and MLIR: DType <-> element type (signed
// integers are signless `iN`, unsigned ones `uiN`, bool is `i1`, quantized
// types map to their storage type), and Tensor <-> ElementsAttr (dense for
// small or boolean values, dense_resource blobs for weights).
//
//===----------------------------------------------------------------------===//

#ifndef KILN_COMPILER_SUPPORT_TENSORATTR_H
#define KILN_COMPILER_SUPPORT_TENSORATTR_H

#include "kiln/Tensor.h"

#include "mlir/IR/BuiltinAttributeInterfaces.h"
#include "mlir/IR/BuiltinTypes.h"

#include <optional>

namespace kiln {

/// Returns the MLIR element type of |type|.
mlir::Type toMlirType(mlir::MLIRContext *context, DType type);

/// Returns the host type of an MLIR element type (the storage type of a
/// quantized type), or nothing for types host tensors cannot hold.
std::optional<DType> fromMlirType(mlir::Type type);

/// Returns a RankedTensorType with |tensor|'s shape and element type.
mlir::RankedTensorType tensorTypeOf(mlir::MLIRContext *context,
                                    const Tensor &tensor);

/// Returns an attribute holding |tensor|'s values with type |type| (whose
/// element type may differ from the tensor's only as a quantized type over
/// the same storage). Tensors of at least |resourceThreshold| elements become
/// dense_resource blobs named |blobName| (copied once).
mlir::ElementsAttr toElementsAttr(const Tensor &tensor,
                                  mlir::RankedTensorType type,
                                  llvm::StringRef blobName = "kiln_const",
                                  int64_t resourceThreshold = 256);

/// Copies the values of |attr| (dense, splat or dense_resource) into a host
/// tensor; fails for element types host tensors cannot hold.
std::optional<Tensor> fromElementsAttr(mlir::ElementsAttr attr);

} // namespace kiln

#endif // KILN_COMPILER_SUPPORT_TENSORATTR_H
