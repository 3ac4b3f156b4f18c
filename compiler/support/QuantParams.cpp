//===- QuantParams.cpp - Reading quant dialect element types ----*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// Implements QuantParams.h on MLIR's upstream quant types.
//
//===----------------------------------------------------------------------===//

#include "compiler/support/QuantParams.h"

#include "mlir/Dialect/Quant/IR/QuantTypes.h"
#include "mlir/IR/BuiltinTypes.h"

namespace kiln {

/// Returns the element type of a shaped type, or |type| itself.
static mlir::Type elementOf(mlir::Type type) {
  if (auto shaped = llvm::dyn_cast<mlir::ShapedType>(type))
    return shaped.getElementType();
  return type;
}

QuantParams perTensorParams(mlir::Type type) {
  auto quant =
      llvm::cast<mlir::quant::UniformQuantizedType>(elementOf(type));
  return {quant.getScale(), static_cast<int32_t>(quant.getZeroPoint())};
}

std::vector<double> channelScales(mlir::Type type) {
  mlir::Type element = elementOf(type);
  if (auto perAxis =
          llvm::dyn_cast<mlir::quant::UniformQuantizedPerAxisType>(element))
    return std::vector<double>(perAxis.getScales().begin(),
                               perAxis.getScales().end());
  return {perTensorParams(element).scale};
}

mlir::Type makeInt8Type(mlir::MLIRContext *context, double scale,
                        int32_t zeroPoint) {
  auto i8 = mlir::IntegerType::get(context, 8);
  auto f32 = mlir::Float32Type::get(context);
  return mlir::quant::UniformQuantizedType::get(
      mlir::quant::QuantizationFlags::Signed, i8, f32, scale, zeroPoint, -128,
      127);
}

mlir::Type makeInt8PerAxisType(mlir::MLIRContext *context,
                               const std::vector<double> &scales,
                               int32_t axis) {
  auto i8 = mlir::IntegerType::get(context, 8);
  auto f32 = mlir::Float32Type::get(context);
  std::vector<int64_t> zeroPoints(scales.size(), 0);
  return mlir::quant::UniformQuantizedPerAxisType::get(
      mlir::quant::QuantizationFlags::Signed, i8, f32, scales, zeroPoints,
      axis, -127, 127);
}

bool isQuantizedInt8(mlir::Type type) {
  auto quant =
      llvm::dyn_cast<mlir::quant::QuantizedType>(elementOf(type));
  return quant && quant.getStorageTypeIntegralWidth() == 8 && quant.isSigned();
}

} // namespace kiln
