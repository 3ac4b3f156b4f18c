//===- QuantParams.h - Reading quant dialect element types ------*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// Scale / zero point access for `!quant.uniform` element types, used by the
// evaluator's int8 kernels, the quantization passes and the code generators.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_COMPILER_SUPPORT_QUANTPARAMS_H
#define KILN_COMPILER_SUPPORT_QUANTPARAMS_H

#include "mlir/IR/Types.h"

#include <cstdint>
#include <vector>

namespace kiln {

/// The affine quantization of one tensor (or one channel).
struct QuantParams {
  double scale = 1.0;
  int32_t zeroPoint = 0;
};

/// Returns the parameters of a per-tensor quantized element type; |type|
/// may be the tensor type or its element type. Requires a
/// quant::UniformQuantizedType.
QuantParams perTensorParams(mlir::Type type);

/// Returns the scales of a per-axis (or, as one entry, per-tensor)
/// quantized element type.
std::vector<double> channelScales(mlir::Type type);

/// Returns the int8 per-tensor quantized type with |scale| and |zeroPoint|.
mlir::Type makeInt8Type(mlir::MLIRContext *context, double scale,
                        int32_t zeroPoint);

/// Returns the int8 per-axis symmetric type with |scales| along |axis|.
mlir::Type makeInt8PerAxisType(mlir::MLIRContext *context,
                               const std::vector<double> &scales,
                               int32_t axis);

/// Returns true for a per-tensor or per-axis int8 quantized type (or a
/// tensor of one).
bool isQuantizedInt8(mlir::Type type);

} // namespace kiln

#endif // KILN_COMPILER_SUPPORT_QUANTPARAMS_H
