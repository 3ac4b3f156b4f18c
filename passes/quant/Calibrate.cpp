//===- Calibrate.cpp - kiln-calibrate and range annotations -----*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// Runs the reference evaluator over calibration samples and annotates each
// float activation with the range its observer picks (see Passes.td). Also
// implements the annotation accessors of Passes.h.
//
//===----------------------------------------------------------------------===//

#include "passes/quant/Observers.h"
#include "passes/quant/Passes.h"

#include "compiler/evaluator/Evaluator.h"
#include "compiler/evaluator/Samples.h"
#include "compiler/support/Numeric.h"
#include "compiler/support/TensorAttr.h"
#include "dialects/kiln/KilnOps.h"
#include "kiln/Tensor.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "llvm/ADT/DenseMap.h"

namespace mlir::kiln {

#define GEN_PASS_DEF_KILNCALIBRATEPASS
#include "passes/quant/Passes.h.inc"

//===----------------------------------------------------------------------===//
// Annotations
//===----------------------------------------------------------------------===//

/// Reads a two-element f64 array attribute named |name| describing |value|.
static std::optional<std::pair<double, double>> readPair(Value value,
                                                         StringRef name,
                                                         StringRef listName) {
  DenseF64ArrayAttr pair;
  if (auto arg = dyn_cast<BlockArgument>(value)) {
    auto func = dyn_cast<func::FuncOp>(arg.getOwner()->getParentOp());
    if (!func)
      return std::nullopt;
    pair = func.getArgAttrOfType<DenseF64ArrayAttr>(arg.getArgNumber(), name);
  } else {
    auto list = value.getDefiningOp()->getAttrOfType<ArrayAttr>(listName);
    unsigned index = cast<OpResult>(value).getResultNumber();
    if (list && index < list.size())
      pair = dyn_cast<DenseF64ArrayAttr>(list[index]);
  }
  if (!pair || pair.size() != 2)
    return std::nullopt;
  return std::make_pair(pair[0], pair[1]);
}

/// Writes a two-element f64 array attribute describing |value|.
static void writePair(Value value, StringRef name, StringRef listName,
                      double a, double b) {
  MLIRContext *context = value.getContext();
  auto pair = DenseF64ArrayAttr::get(context, {a, b});
  if (auto arg = dyn_cast<BlockArgument>(value)) {
    if (auto func = dyn_cast<func::FuncOp>(arg.getOwner()->getParentOp()))
      func.setArgAttr(arg.getArgNumber(), name, pair);
    return;
  }
  Operation *op = value.getDefiningOp();
  SmallVector<Attribute> list(op->getNumResults(), UnitAttr::get(context));
  if (auto existing = op->getAttrOfType<ArrayAttr>(listName))
    for (auto [i, attr] : llvm::enumerate(existing))
      if (i < list.size())
        list[i] = attr;
  list[cast<OpResult>(value).getResultNumber()] = pair;
  op->setAttr(listName, ArrayAttr::get(context, list));
}

std::optional<Range> getRange(Value value) {
  return readPair(value, "kiln.range", "kiln.ranges");
}

void setRange(Value value, Range range) {
  writePair(value, "kiln.range", "kiln.ranges", range.first, range.second);
}

std::optional<std::pair<double, int32_t>> getQParams(Value value) {
  auto pair = readPair(value, "kiln.qparam", "kiln.qparams");
  if (!pair)
    return std::nullopt;
  return std::make_pair(pair->first, static_cast<int32_t>(pair->second));
}

void setQParams(Value value, double scale, int32_t zeroPoint) {
  writePair(value, "kiln.qparam", "kiln.qparams", scale, zeroPoint);
}

namespace {

struct KilnCalibratePass final
    : impl::KilnCalibratePassBase<KilnCalibratePass> {
  using Base::Base;

  void runOnOperation() override {
    func::FuncOp func = getOperation();
    ::kiln::calib::ObserverKind kind;
    if (observer == "minmax")
      kind = ::kiln::calib::ObserverKind::MinMax;
    else if (observer == "percentile")
      kind = ::kiln::calib::ObserverKind::Percentile;
    else if (observer == "mse")
      kind = ::kiln::calib::ObserverKind::Mse;
    else {
      func.emitError("unknown observer '")
          << observer << "' (expected minmax, percentile or mse)";
      return signalPassFailure();
    }
    if (!(percentile > 50.0 && percentile <= 100.0)) {
      func.emitError("percentile must be in (50, 100], got ") << percentile;
      return signalPassFailure();
    }
    if (data.empty()) {
      func.emitError("kiln-calibrate needs calibration data (data=PATH)");
      return signalPassFailure();
    }
    auto loaded = ::kiln::loadTensors(data);
    if (!loaded) {
      for (const ::kiln::Diagnostic &diag : loaded.status().diagnostics())
        func.emitError() << diag.location << ": " << diag.message;
      return signalPassFailure();
    }
    auto samples = ::kiln::splitSamples(func, *loaded);
    if (!samples) {
      func.emitError("calibration data does not fit the model: ")
          << samples.status().diagnostics().front().message;
      return signalPassFailure();
    }

    llvm::DenseMap<Value, ::kiln::calib::RangeObserver> observers;
    bool histogram = false;
    auto observe = [&](Value value, const ::kiln::Tensor &tensor) {
      if (!::kiln::isFloat(tensor.dtype) ||
          value.getDefiningOp<ConstantOp>())
        return;
      const float *data = tensor.as<float>();
      ::kiln::Tensor converted;
      if (tensor.dtype != ::kiln::DType::F32) {
        converted = ::kiln::Tensor("", ::kiln::DType::F32, tensor.shape);
        for (int64_t i = 0; i < tensor.numElements(); ++i)
          converted.as<float>()[i] =
              static_cast<float>(::kiln::loadFloat(tensor, i));
        data = converted.as<float>();
      }
      auto &obs = observers[value];
      if (histogram)
        obs.observeHistogram(data, tensor.numElements());
      else
        obs.observeExtremes(data, tensor.numElements());
    };
    int passes = kind == ::kiln::calib::ObserverKind::MinMax ? 1 : 2;
    for (int pass = 0; pass < passes; ++pass) {
      histogram = pass == 1;
      for (const auto &inputs : *samples) {
        auto outputs = ::kiln::evaluateFunction(func, inputs, observe);
        if (!outputs) {
          func.emitError("calibration run failed: ")
              << outputs.status().str();
          return signalPassFailure();
        }
      }
    }
    for (auto &[value, obs] : observers)
      setRange(value, obs.range(kind, percentile));
  }
};

} // namespace
} // namespace mlir::kiln
