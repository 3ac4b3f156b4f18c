//===- Reduction.cpp - Converters of the ONNX reduction ops -----*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// ReduceSum / Mean / Max / Min / Prod / L1 / L2 / LogSum / LogSumExp /
// SumSquare, ArgMax / ArgMin, CumSum / CumProd and TopK.
//
// Reductions read their axes from the attribute (before opset 13 for
// ReduceSum, before 18 for the others) or from the constant second input,
// and normalize them: negative axes wrap, the list is sorted, and "no axes"
// means all axes unless noop_with_empty_axes is set. A reduction over no
// axes at all (noop_with_empty_axes, or a rank-0 input) is not a kiln reduce
// op (those always have axes): it becomes the element-wise part of the
// reduction (identity, abs, square, log, ...), as ONNX defines it.
//
//===----------------------------------------------------------------------===//

#include "compiler/frontend/ImportContext.h"

#include "dialects/kiln/KilnOps.h"

using namespace mlir;
using namespace mlir::kiln;

namespace kiln::frontend {
namespace {

/// The ONNX reductions.
enum class Reduction {
  Sum,
  Mean,
  Max,
  Min,
  Prod,
  L1,
  L2,
  LogSum,
  LogSumExp,
  SumSquare
};

/// Returns true for the element types every reduction accepts: IEEE and
/// brain floats and the integer types.
bool isNumericType(DType t) {
  return t == DType::F32 || t == DType::F64 || t == DType::F16 ||
         t == DType::BF16 ||
         ((isSignedInt(t) || isUnsignedInt(t)) && t != DType::I4 &&
          t != DType::U4);
}

/// Checks the element type of a reduction's input.
LogicalResult checkReduceType(NodeImporter &n, Reduction kind) {
  DType t = n.inputDType(0);
  bool ok = isNumericType(t);
  if (kind == Reduction::LogSum || kind == Reduction::LogSumExp)
    ok = ok && isFloat(t);
  // ReduceMax / ReduceMin order booleans as False < True (opset 20).
  if ((kind == Reduction::Max || kind == Reduction::Min) && t == DType::Bool)
    ok = n.version() >= 20;
  if (!ok)
    return n.unsupported(llvm::Twine("element type ") + dtypeName(t));
  return success();
}

/// Returns the reduced axes of a reduction node (sorted, unique,
/// non-negative; empty when nothing is reduced), or failure.
FailureOr<SmallVector<int64_t>> reduceAxes(NodeImporter &n,
                                           int64_t inputSinceVersion) {
  int64_t rank = n.inputRank(0);
  std::vector<int64_t> axes;
  bool noop = false;
  if (n.version() < inputSinceVersion) {
    axes = n.getInts("axes");
  } else {
    noop = n.getInt("noop_with_empty_axes", 0) != 0;
    if (n.hasInput(1)) {
      auto values = n.constantInts(1, "axes");
      if (failed(values))
        return failure();
      axes = *values;
    }
  }
  SmallVector<int64_t> result;
  if (axes.empty()) {
    if (!noop)
      for (int64_t d = 0; d < rank; ++d)
        result.push_back(d);
    return result;
  }
  for (int64_t axis : axes) {
    auto normalized = n.normalizeAxis(axis, rank, "reduction axis");
    if (failed(normalized))
      return failure();
    if (llvm::is_contained(result, *normalized)) {
      n.emitError() << "reduction axis " << *normalized << " is repeated";
      return failure();
    }
    result.push_back(*normalized);
  }
  llvm::sort(result);
  return result;
}

/// Builds the element-wise part of |kind| for a reduction over no axes.
FailureOr<Value> buildNoAxesReduction(NodeImporter &n, Reduction kind) {
  OpBuilder &b = n.builder();
  Value x = n.input(0);
  RankedTensorType type = n.inputType(0);
  switch (kind) {
  case Reduction::Sum:
  case Reduction::Mean:
  case Reduction::Max:
  case Reduction::Min:
  case Reduction::Prod:
    return x;
  case Reduction::L1:
    return Value(AbsOp::create(b, n.loc(), type, x));
  case Reduction::SumSquare:
    return Value(MulOp::create(b, n.loc(), type, x, x));
  case Reduction::L2:
    // sqrt(x * x) as ONNX writes it; kiln.sqrt is defined on floats only.
    if (!isFloat(n.inputDType(0))) {
      (void)n.unsupported("reduction over no axes of an integer input");
      return failure();
    }
    return Value(SqrtOp::create(b, n.loc(), type,
                                MulOp::create(b, n.loc(), type, x, x)));
  case Reduction::LogSum:
    return Value(LogOp::create(b, n.loc(), type, x));
  case Reduction::LogSumExp:
    return Value(
        LogOp::create(b, n.loc(), type, ExpOp::create(b, n.loc(), type, x)));
  }
  return failure();
}

/// Converts reduction |kind|, whose axes become an input at version
/// |inputSince|.
template <typename OpTy, Reduction kind, int64_t inputSince>
LogicalResult convertReduce(NodeImporter &n) {
  if (failed(checkReduceType(n, kind)))
    return failure();
  auto axes = reduceAxes(n, inputSince);
  if (failed(axes))
    return failure();
  if (axes->empty()) {
    auto result = buildNoAxesReduction(n, kind);
    if (failed(result))
      return failure();
    n.setOutput(0, *result);
    return success();
  }
  bool keepdims = n.getInt("keepdims", 1) != 0;
  auto shape = inferReduceShape(n.inputShape(0), *axes, keepdims, n.errorFn());
  if (failed(shape))
    return failure();
  OpBuilder &b = n.builder();
  n.setOutput(0, OpTy::create(b, n.loc(),
                              n.tensorType(*shape, n.inputElementType(0)),
                              n.input(0), b.getDenseI64ArrayAttr(*axes),
                              b.getBoolAttr(keepdims)));
  return success();
}

template <typename OpTy> LogicalResult convertArgReduce(NodeImporter &n) {
  DType t = n.inputDType(0);
  if (!isNumericType(t) || t == DType::Bool)
    return n.unsupported(llvm::Twine("element type ") + dtypeName(t));
  ArrayRef<int64_t> in = n.inputShape(0);
  auto axis = n.normalizeAxis(n.getInt("axis", 0), in.size());
  if (failed(axis))
    return failure();
  bool keepdims = n.getInt("keepdims", 1) != 0;
  bool last = n.getInt("select_last_index", 0) != 0;
  int64_t axes[] = {*axis};
  auto shape = inferReduceShape(in, axes, keepdims, n.errorFn());
  if (failed(shape))
    return failure();
  if (in[*axis] == 0 && llvm::all_of(*shape, [](int64_t d) { return d; })) {
    n.emitError() << "cannot take the index of an extremum over the empty "
                     "axis "
                  << *axis;
    return failure();
  }
  OpBuilder &b = n.builder();
  n.setOutput(0, OpTy::create(b, n.loc(), n.tensorType(*shape, b.getI64Type()),
                              n.input(0), b.getI64IntegerAttr(*axis),
                              b.getBoolAttr(keepdims), b.getBoolAttr(last)));
  return success();
}

template <typename OpTy> LogicalResult convertScan(NodeImporter &n) {
  DType t = n.inputDType(0);
  if (!isNumericType(t) || t == DType::Bool)
    return n.unsupported(llvm::Twine("element type ") + dtypeName(t));
  auto axisValues = n.constantInts(1, "axis");
  if (failed(axisValues))
    return failure();
  if (axisValues->size() != 1) {
    n.emitError() << "input 'axis' must hold one value, got "
                  << axisValues->size();
    return failure();
  }
  auto axis = n.normalizeAxis((*axisValues)[0], n.inputRank(0));
  if (failed(axis))
    return failure();
  OpBuilder &b = n.builder();
  n.setOutput(0, OpTy::create(b, n.loc(), n.inputType(0), n.input(0),
                              b.getI64IntegerAttr(*axis),
                              b.getBoolAttr(n.getInt("exclusive", 0) != 0),
                              b.getBoolAttr(n.getInt("reverse", 0) != 0)));
  return success();
}

LogicalResult convertTopK(NodeImporter &n) {
  DType t = n.inputDType(0);
  if (!isNumericType(t) || t == DType::Bool)
    return n.unsupported(llvm::Twine("element type ") + dtypeName(t));
  ArrayRef<int64_t> in = n.inputShape(0);
  auto axis = n.normalizeAxis(n.getInt("axis", -1), in.size());
  if (failed(axis))
    return failure();
  int64_t k;
  if (n.version() < 10) {
    if (!n.hasAttr("k")) {
      n.emitError() << "attribute 'k' is required";
      return failure();
    }
    k = n.getInt("k", 0);
  } else {
    auto values = n.constantInts(1, "K");
    if (failed(values))
      return failure();
    if (values->size() != 1) {
      n.emitError() << "input 'K' must hold one value, got " << values->size();
      return failure();
    }
    k = (*values)[0];
  }
  if (k < 0 || k > in[*axis]) {
    n.emitError() << "k = " << k << " must be in [0, " << in[*axis]
                  << "] (the size of axis " << *axis << ")";
    return failure();
  }
  bool largest = n.getInt("largest", 1) != 0;
  // sorted = 0 leaves the order unspecified; the sorted order is one of
  // the orders it allows, so the flag is kept only as a hint.
  bool sorted = n.getInt("sorted", 1) != 0;
  SmallVector<int64_t> shape(in);
  shape[*axis] = k;
  OpBuilder &b = n.builder();
  auto op =
      TopKOp::create(b, n.loc(), n.tensorType(shape, n.inputElementType(0)),
                     n.tensorType(shape, b.getI64Type()), n.input(0),
                     b.getI64IntegerAttr(k), b.getI64IntegerAttr(*axis),
                     b.getBoolAttr(largest), b.getBoolAttr(sorted));
  n.setOutput(0, op.getValues());
  n.setOutput(1, op.getIndices());
  return success();
}

} // namespace

void registerReductionConverters(ConverterRegistry &r) {
  // Versions: 11 allowed negative axes, 12 added (u)int8 to ReduceMax/Min,
  // 13 added bfloat16 (and axes as an input of ReduceSum), 18 turned axes
  // into an input elsewhere, 20 added bool to ReduceMax/Min, and 28 dropped
  // integer types from ReduceLogSum/LogSumExp.
  using R = Reduction;
  r.add("", "ReduceSum", {1, 11, 13}, convertReduce<ReduceSumOp, R::Sum, 13>);
  r.add("", "ReduceMean", {1, 11, 13, 18},
        convertReduce<ReduceMeanOp, R::Mean, 18>);
  r.add("", "ReduceMax", {1, 11, 12, 13, 18, 20},
        convertReduce<ReduceMaxOp, R::Max, 18>);
  r.add("", "ReduceMin", {1, 11, 12, 13, 18, 20},
        convertReduce<ReduceMinOp, R::Min, 18>);
  r.add("", "ReduceProd", {1, 11, 13, 18},
        convertReduce<ReduceProdOp, R::Prod, 18>);
  r.add("", "ReduceL1", {1, 11, 13, 18}, convertReduce<ReduceL1Op, R::L1, 18>);
  r.add("", "ReduceL2", {1, 11, 13, 18}, convertReduce<ReduceL2Op, R::L2, 18>);
  r.add("", "ReduceLogSum", {1, 11, 13, 18, 28},
        convertReduce<ReduceLogSumOp, R::LogSum, 18>);
  r.add("", "ReduceLogSumExp", {1, 11, 13, 18, 28},
        convertReduce<ReduceLogSumExpOp, R::LogSumExp, 18>);
  r.add("", "ReduceSumSquare", {1, 11, 13, 18},
        convertReduce<ReduceSumSquareOp, R::SumSquare, 18>);

  // ArgMax / ArgMin: 11 allowed negative axes, 12 added select_last_index,
  // 13 added bfloat16.
  r.add("", "ArgMax", {1, 11, 12, 13}, convertArgReduce<ArgMaxOp>);
  r.add("", "ArgMin", {1, 11, 12, 13}, convertArgReduce<ArgMinOp>);

  // CumSum 14 added float16 / bfloat16.
  r.add("", "CumSum", {11, 14}, convertScan<CumSumOp>);
  r.add("", "CumProd", {26}, convertScan<CumProdOp>);

  // TopK: 10 made k an input, 11 added largest / sorted and negative axes,
  // 24 added bfloat16.
  r.add("", "TopK", {1, 10, 11, 24}, convertTopK);
}

} // namespace kiln::frontend
