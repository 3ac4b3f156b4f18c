//===- LowBitOps.cpp - Verifiers of the low-bit ops -------------*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// Checks of kiln.lowbit_linear (formats and their pairing, the operand set
// and element types each weight format needs, shapes) and kiln.fake_quant.
// The format names and allowed pairs come from kiln::quant
// (compiler/quant/LowBitLinear.h), whose arithmetic the evaluator runs.
//
//===----------------------------------------------------------------------===//

#include "dialects/kiln/KilnOpsUtils.h"

#include "kiln/quant/LowBitLinear.h"

using namespace mlir;
using namespace mlir::kiln;
using namespace mlir::kiln::detail;

namespace kq = ::kiln::quant;

/// Returns true when |type| is an integer type of |width| bits, unsigned
/// when |isUnsigned|, signless otherwise.
static bool isInteger(Type type, unsigned width, bool isUnsigned) {
  auto integer = dyn_cast<IntegerType>(type);
  return integer && integer.getWidth() == width &&
         (isUnsigned ? integer.isUnsigned() : integer.isSignless());
}

/// Checks that |value| (the operand called |what|) is present exactly when
/// |needed|, and when present has |shape| and an element type accepted by
/// |elementOk| (described as |typeName|).
static LogicalResult
checkOperand(Operation *op, Value value, StringRef what, bool needed,
             ArrayRef<int64_t> shape,
             llvm::function_ref<bool(Type)> elementOk, StringRef typeName,
             StringRef format) {
  if (!needed) {
    if (value)
      return op->emitOpError("weight format '")
             << format << "' takes no '" << what << "' operand";
    return success();
  }
  if (!value)
    return op->emitOpError("weight format '")
           << format << "' needs a '" << what << "' operand";
  if (shapeOf(value) != shape)
    return op->emitOpError() << "'" << what << "' must have shape "
                             << formatShape(shape) << ", got "
                             << formatShape(shapeOf(value));
  if (!elementOk(elementTypeOf(value)))
    return op->emitOpError() << "'" << what << "' must have element type "
                             << typeName << ", got " << elementTypeOf(value);
  return success();
}

LogicalResult LowBitLinearOp::verify() {
  auto weightFormat = kq::parseWeightFormat(getWeightFormat().str());
  if (!weightFormat)
    return emitOpError() << weightFormat.status().diagnostics().front().message;
  auto actFormat = kq::parseActFormat(getActFormat().str());
  if (!actFormat)
    return emitOpError() << actFormat.status().diagnostics().front().message;
  if (getFp4Error() != "mse" && getFp4Error() != "mae")
    return emitOpError("fp4_error must be 'mse' or 'mae', got '")
           << getFp4Error() << "'";

  ArrayRef<int64_t> x = shapeOf(getInput()), w = shapeOf(getWeight());
  if (x.empty() || !elementTypeOf(getInput()).isF32())
    return emitOpError("input must be a float32 tensor of rank >= 1");
  if (w.size() != 2)
    return emitOpError("weight must have rank 2 [N, K], got ")
           << formatShape(w);
  int64_t n = w[0], k = w[1];
  if (x.back() != k)
    return emitOpError("input has ")
           << x.back() << " features but the weight expects " << k;
  if (auto st = kq::checkLowBitFormats(*weightFormat, getWeightGroupSize(),
                                       *actFormat, getActGroupSize(), k);
      !st)
    return emitOpError() << st.diagnostics().front().message;
  if (*actFormat == kq::ActFormat::Int8 && k >= 133000)
    return emitOpError("int8 accumulation is exact only for K < 133000, "
                       "got ")
           << k;

  StringRef format = getWeightFormat();
  int64_t groups = kq::weightFormatIsGrouped(*weightFormat)
                       ? k / getWeightGroupSize()
                       : 0;
  SmallVector<int64_t> perRow = {n}, perGroup = {n, groups};
  auto f32 = [](Type t) { return t.isF32(); };
  auto ui8 = [](Type t) { return isInteger(t, 8, true); };
  auto ui4 = [](Type t) { return isInteger(t, 4, true); };
  bool isNvFp4 = *weightFormat == kq::WeightFormat::NvFp4 ||
                 *weightFormat == kq::WeightFormat::NvFp4FourOverSix;
  bool isQoq = *weightFormat == kq::WeightFormat::Qoq;
  bool isAsym = *weightFormat == kq::WeightFormat::Int4Asym;

  // The codes.
  Type code = elementTypeOf(getWeight());
  bool codeOk = false;
  StringRef codeName;
  switch (*weightFormat) {
  case kq::WeightFormat::Int8:
    codeOk = isInteger(code, 8, false), codeName = "i8";
    break;
  case kq::WeightFormat::Int4Sym:
    codeOk = isInteger(code, 4, false), codeName = "i4";
    break;
  case kq::WeightFormat::Int4Asym:
  case kq::WeightFormat::Qoq:
    codeOk = isInteger(code, 4, true), codeName = "ui4";
    break;
  case kq::WeightFormat::NvFp4:
  case kq::WeightFormat::NvFp4FourOverSix:
    codeOk = isa<Float4E2M1FNType>(code), codeName = "f4E2M1FN";
    break;
  }
  if (!codeOk)
    return emitOpError("weight format '")
           << format << "' stores " << codeName << " codes, got " << code;

  // The parameters each format needs, and no others.
  ArrayRef<int64_t> scaleShape =
      (*weightFormat == kq::WeightFormat::Int8 || isQoq)
          ? ArrayRef<int64_t>(perRow)
          : ArrayRef<int64_t>(perGroup);
  if (isNvFp4) {
    if (failed(checkOperand(
            *this, getScales(), "scales", true, perGroup,
            [](Type t) { return isa<Float8E4M3FNType>(t); }, "f8E4M3FN",
            format)))
      return failure();
  } else if (failed(checkOperand(*this, getScales(), "scales", true,
                                 scaleShape, f32, "f32", format))) {
    return failure();
  }
  if (failed(checkOperand(*this, getZeros(), "zeros", isAsym || isQoq,
                          perGroup, isQoq ? llvm::function_ref<bool(Type)>(ui8)
                                          : llvm::function_ref<bool(Type)>(ui4),
                          isQoq ? "ui8" : "ui4", format)) ||
      failed(checkOperand(*this, getGroupScales(), "group_scales", isQoq,
                          perGroup, ui8, "ui8", format)))
    return failure();
  if (isNvFp4) {
    Value ts = getTensorScale();
    if (!ts)
      return emitOpError("weight format '")
             << format << "' needs a 'tensor_scale' operand";
    if (!elementTypeOf(ts).isF32() ||
        cast<RankedTensorType>(ts.getType()).getNumElements() != 1)
      return emitOpError("'tensor_scale' must hold one float32 value");
  } else if (getTensorScale()) {
    return emitOpError("weight format '")
           << format << "' takes no 'tensor_scale' operand";
  }
  if (Value bias = getBias())
    if (shapeOf(bias) != ArrayRef<int64_t>(perRow) ||
        !elementTypeOf(bias).isF32())
      return emitOpError("bias must be a float32 tensor of shape ")
             << formatShape(perRow) << ", got " << bias.getType();

  SmallVector<int64_t> expected(x.begin(), x.end());
  expected.back() = n;
  if (!elementTypeOf(getOutput()).isF32())
    return emitOpError("result must be float32");
  return verifyResultShape(*this, expected);
}

LogicalResult FakeQuantOp::verify() {
  StringRef format = getFormat();
  if (format != "int4-asym" && format != "int4-sym" && format != "int8")
    return emitOpError("unknown format '")
           << format << "' (expected int4-asym, int4-sym or int8)";
  if (!elementTypeOf(getInput()).isF32())
    return emitOpError("input must be float32");
  ArrayRef<int64_t> shape = shapeOf(getInput());
  if (failed(verifyAxis(*this, getAxis(), shape.size())))
    return failure();
  int64_t dim = shape[getAxis()], group = getGroupSize();
  if (group <= 0 || dim % group != 0)
    return emitOpError("group size ")
           << group << " must be positive and divide the " << dim
           << " elements of axis " << getAxis();
  return success();
}
