//===- TensorAttr.cpp - kiln::Tensor <-> MLIR types and attributes -*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// Implements the conversions of TensorAttr.h. Boolean values are stored
// bit-packed by MLIR's DenseElementsAttr, so they always go through
// ArrayRef<bool>; every other type is copied as raw bytes.
//
//===----------------------------------------------------------------------===//

#include "compiler/support/TensorAttr.h"
#include "compiler/support/Numeric.h"

#include "mlir/Dialect/Quant/IR/QuantTypes.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"

namespace kiln {

mlir::Type toMlirType(mlir::MLIRContext *context, DType type) {
  using mlir::IntegerType;
  auto integer = [&](unsigned width, bool isUnsigned) {
    return IntegerType::get(context, width,
                            isUnsigned ? IntegerType::Unsigned
                                       : IntegerType::Signless);
  };
  switch (type) {
  case DType::F32:
    return mlir::Float32Type::get(context);
  case DType::F64:
    return mlir::Float64Type::get(context);
  case DType::F16:
    return mlir::Float16Type::get(context);
  case DType::BF16:
    return mlir::BFloat16Type::get(context);
  case DType::I8:
    return integer(8, false);
  case DType::I16:
    return integer(16, false);
  case DType::I32:
    return integer(32, false);
  case DType::I64:
    return integer(64, false);
  case DType::U8:
    return integer(8, true);
  case DType::U16:
    return integer(16, true);
  case DType::U32:
    return integer(32, true);
  case DType::U64:
    return integer(64, true);
  case DType::Bool:
    return integer(1, false);
  case DType::F8E4M3FN:
    return mlir::Float8E4M3FNType::get(context);
  case DType::F8E4M3FNUZ:
    return mlir::Float8E4M3FNUZType::get(context);
  case DType::F8E5M2:
    return mlir::Float8E5M2Type::get(context);
  case DType::F8E5M2FNUZ:
    return mlir::Float8E5M2FNUZType::get(context);
  case DType::F4E2M1:
    return mlir::Float4E2M1FNType::get(context);
  case DType::I4:
    return integer(4, false);
  case DType::U4:
    return integer(4, true);
  }
  return {};
}

std::optional<DType> fromMlirType(mlir::Type type) {
  if (auto quant = llvm::dyn_cast<mlir::quant::QuantizedType>(type)) {
    unsigned width = quant.getStorageTypeIntegralWidth();
    bool isSigned = quant.isSigned();
    switch (width) {
    case 4:
      return isSigned ? DType::I4 : DType::U4;
    case 8:
      return isSigned ? DType::I8 : DType::U8;
    case 16:
      return isSigned ? DType::I16 : DType::U16;
    case 32:
      return isSigned ? DType::I32 : DType::U32;
    default:
      return std::nullopt;
    }
  }
  if (type.isF32())
    return DType::F32;
  if (type.isF64())
    return DType::F64;
  if (type.isF16())
    return DType::F16;
  if (type.isBF16())
    return DType::BF16;
  if (llvm::isa<mlir::Float8E4M3FNType>(type))
    return DType::F8E4M3FN;
  if (llvm::isa<mlir::Float8E4M3FNUZType>(type))
    return DType::F8E4M3FNUZ;
  if (llvm::isa<mlir::Float8E5M2Type>(type))
    return DType::F8E5M2;
  if (llvm::isa<mlir::Float8E5M2FNUZType>(type))
    return DType::F8E5M2FNUZ;
  if (llvm::isa<mlir::Float4E2M1FNType>(type))
    return DType::F4E2M1;
  if (auto integer = llvm::dyn_cast<mlir::IntegerType>(type)) {
    bool isUnsigned = integer.isUnsigned();
    switch (integer.getWidth()) {
    case 1:
      return DType::Bool;
    case 4:
      return isUnsigned ? DType::U4 : DType::I4;
    case 8:
      return isUnsigned ? DType::U8 : DType::I8;
    case 16:
      return isUnsigned ? DType::U16 : DType::I16;
    case 32:
      return isUnsigned ? DType::U32 : DType::I32;
    case 64:
      return isUnsigned ? DType::U64 : DType::I64;
    default:
      return std::nullopt;
    }
  }
  return std::nullopt;
}

mlir::RankedTensorType tensorTypeOf(mlir::MLIRContext *context,
                                    const Tensor &tensor) {
  return mlir::RankedTensorType::get(tensor.shape,
                                     toMlirType(context, tensor.dtype));
}

mlir::ElementsAttr toElementsAttr(const Tensor &tensor,
                                  mlir::RankedTensorType type,
                                  llvm::StringRef blobName,
                                  int64_t resourceThreshold) {
  // The attribute's own type uses the storage element type; the op result
  // may be quantized.
  auto storageType = mlir::RankedTensorType::get(
      tensor.shape, toMlirType(type.getContext(), tensor.dtype));
  if (tensor.dtype == DType::Bool) {
    llvm::SmallVector<bool> values;
    for (uint8_t byte : tensor.data)
      values.push_back(byte != 0);
    return mlir::DenseElementsAttr::get(storageType, values);
  }
  llvm::ArrayRef<char> raw(reinterpret_cast<const char *>(tensor.data.data()),
                           tensor.data.size());
  bool byteSized = tensor.dtype != DType::I4 && tensor.dtype != DType::U4 &&
                   tensor.dtype != DType::F4E2M1;
  if (byteSized && tensor.numElements() >= resourceThreshold) {
    auto blob = mlir::HeapAsmResourceBlob::allocateAndCopyWithAlign(
        raw, alignof(uint64_t));
    return mlir::DenseResourceElementsAttr::get(storageType, blobName,
                                                std::move(blob));
  }
  return mlir::DenseElementsAttr::getFromRawBuffer(storageType, raw);
}

std::optional<Tensor> fromElementsAttr(mlir::ElementsAttr attr) {
  auto type = llvm::cast<mlir::ShapedType>(attr.getType());
  std::optional<DType> dtype = fromMlirType(type.getElementType());
  if (!dtype || !type.hasStaticShape())
    return std::nullopt;
  Tensor tensor("", *dtype,
                std::vector<int64_t>(type.getShape().begin(),
                                     type.getShape().end()));
  size_t elemSize = dtypeSize(*dtype);
  size_t count = static_cast<size_t>(tensor.numElements());
  if (auto resource = llvm::dyn_cast<mlir::DenseResourceElementsAttr>(attr)) {
    mlir::AsmResourceBlob *blob = resource.getRawHandle().getBlob();
    if (!blob)
      return std::nullopt;
    llvm::ArrayRef<char> data = blob->getData();
    if (data.size() != count * elemSize)
      return std::nullopt;
    copyBytes(tensor.data.data(), data.data(), data.size());
    return tensor;
  }
  auto dense = llvm::dyn_cast<mlir::DenseElementsAttr>(attr);
  if (!dense)
    return std::nullopt;
  if (*dtype == DType::Bool) {
    size_t i = 0;
    for (bool value : dense.getValues<bool>())
      tensor.data[i++] = value;
    return tensor;
  }
  llvm::ArrayRef<char> raw = dense.getRawData();
  if (dense.isSplat()) {
    for (size_t i = 0; i < count; ++i)
      copyBytes(tensor.data.data() + i * elemSize, raw.data(), elemSize);
  } else {
    if (raw.size() != count * elemSize)
      return std::nullopt;
    copyBytes(tensor.data.data(), raw.data(), raw.size());
  }
  return tensor;
}

} // namespace kiln
