//===- Evaluator.cpp - The reference evaluator ------------------*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// The driver: binds inputs, walks the function body in order, allocates each
// op's results from their types, runs the op's kernel and frees every tensor
// after its last use (so large models need only their live activations).
//
//===----------------------------------------------------------------------===//

#include "compiler/evaluator/Evaluator.h"
#include "compiler/evaluator/Kernel.h"
#include "compiler/support/DiagnosticCapture.h"
#include "compiler/support/TensorAttr.h"
#include "compiler/support/Numeric.h"

#include "dialects/kiln/KilnOps.h"

#include "llvm/ADT/DenseMap.h"
#include "llvm/Support/raw_ostream.h"

namespace kiln {

using namespace eval;

mlir::func::FuncOp getEntryFunction(mlir::ModuleOp module) {
  mlir::func::FuncOp only;
  int publicCount = 0;
  for (auto func : module.getOps<mlir::func::FuncOp>()) {
    if (func.getName() == "main")
      return func;
    if (func.isPublic() && !func.isExternal()) {
      only = func;
      ++publicCount;
    }
  }
  return publicCount == 1 ? only : mlir::func::FuncOp();
}

/// Returns the `kiln.name` of argument or result |index| of |func|, or a
/// positional name.
static std::string valueName(mlir::func::FuncOp func, unsigned index,
                             bool isResult) {
  auto attr = isResult ? func.getResultAttrOfType<mlir::StringAttr>(
                             index, "kiln.name")
                       : func.getArgAttrOfType<mlir::StringAttr>(index,
                                                                 "kiln.name");
  if (attr)
    return attr.getValue().str();
  return (isResult ? "output_" : "input_") + std::to_string(index);
}

/// Allocates zero-filled result tensors for |op| from its result types.
static bool allocateResults(mlir::Operation *op, std::vector<Tensor> &results,
                            std::string &error) {
  results.clear();
  for (mlir::Value result : op->getResults()) {
    auto type = llvm::dyn_cast<mlir::RankedTensorType>(result.getType());
    if (!type || !type.hasStaticShape()) {
      error = "result type is not a static tensor";
      return false;
    }
    std::optional<DType> dtype = fromMlirType(type.getElementType());
    if (!dtype) {
      llvm::raw_string_ostream os(error);
      os << "element type " << type.getElementType()
         << " is not supported by the evaluator";
      return false;
    }
    results.emplace_back("", *dtype,
                         std::vector<int64_t>(type.getShape().begin(),
                                              type.getShape().end()));
  }
  return true;
}

/// Runs |op|'s kernel; |lookup| resolves operands.
static bool runKernel(mlir::Operation *op, KernelContext::Lookup lookup,
                      std::vector<Tensor> &results, std::string &error) {
  if (!allocateResults(op, results, error))
    return false;
  Kernel kernel = KernelRegistry::get().lookup(op);
  if (!kernel) {
    error = "the evaluator has no kernel for '" +
            op->getName().getStringRef().str() + "'";
    return false;
  }
  KernelContext ctx(op, std::move(lookup), results);
  if (mlir::failed(kernel(op, ctx))) {
    error = ctx.getError().empty() ? "evaluation failed" : ctx.getError();
    return false;
  }
  return true;
}

std::optional<std::vector<Tensor>> evaluateOp(mlir::Operation *op,
                                              llvm::ArrayRef<Tensor> operands,
                                              std::string &error) {
  if (operands.size() != op->getNumOperands()) {
    error = "wrong number of operands";
    return std::nullopt;
  }
  llvm::DenseMap<mlir::Value, const Tensor *> map;
  for (auto [value, tensor] : llvm::zip(op->getOperands(), operands))
    map[value] = &tensor;
  std::vector<Tensor> results;
  if (!runKernel(
          op, [&](mlir::Value v) { return map.lookup(v); }, results, error))
    return std::nullopt;
  return results;
}

Result<std::vector<Tensor>> evaluateFunction(mlir::func::FuncOp func,
                                             std::vector<Tensor> inputs,
                                             const ValueObserver &observer) {
  std::string where = formatLocation(func.getLoc());
  mlir::FunctionType type = func.getFunctionType();
  if (inputs.size() != type.getNumInputs())
    return Status::error("the model has " +
                             std::to_string(type.getNumInputs()) +
                             " inputs but " + std::to_string(inputs.size()) +
                             " were given",
                         where);
  // Match by name when every given tensor names an argument.
  std::vector<std::string> argNames;
  for (unsigned i = 0; i < type.getNumInputs(); ++i)
    argNames.push_back(valueName(func, i, /*isResult=*/false));
  bool byName = true;
  for (const Tensor &input : inputs)
    if (std::find(argNames.begin(), argNames.end(), input.name) ==
        argNames.end())
      byName = false;
  if (byName) {
    std::vector<Tensor> ordered(inputs.size());
    for (Tensor &input : inputs) {
      size_t index = std::find(argNames.begin(), argNames.end(), input.name) -
                     argNames.begin();
      ordered[index] = std::move(input);
    }
    inputs = std::move(ordered);
  }

  // Tensors are shared so that a value can be freed after its last use.
  llvm::DenseMap<mlir::Value, std::shared_ptr<const Tensor>> values;
  Status status;
  for (unsigned i = 0; i < type.getNumInputs(); ++i) {
    auto argType = llvm::cast<mlir::RankedTensorType>(type.getInput(i));
    std::optional<DType> dtype = fromMlirType(argType.getElementType());
    Tensor &input = inputs[i];
    if (!dtype || *dtype != input.dtype ||
        llvm::ArrayRef<int64_t>(input.shape) != argType.getShape()) {
      Tensor expected("", dtype.value_or(DType::F32),
                      std::vector<int64_t>(argType.getShape().begin(),
                                           argType.getShape().end()));
      status.add({Severity::Error, where,
                  "input '" + argNames[i] + "' expects " +
                      expected.describe() + ", got " + input.describe(),
                  {}});
      continue;
    }
    if (input.data.size() !=
        static_cast<size_t>(input.numElements()) * dtypeSize(input.dtype)) {
      status.add({Severity::Error, where,
                  "input '" + argNames[i] + "' has the wrong payload size",
                  {}});
      continue;
    }
    if (observer)
      observer(func.getArgument(i), input);
    values[func.getArgument(i)] =
        std::make_shared<const Tensor>(std::move(input));
  }
  if (status.failed())
    return status;

  // Last use of every value, so its tensor can be dropped afterwards.
  llvm::DenseMap<mlir::Operation *, llvm::SmallVector<mlir::Value>> dies;
  for (mlir::Operation &op : func.getBody().front()) {
    for (mlir::Value operand : op.getOperands()) {
      mlir::Operation *last = nullptr;
      for (mlir::Operation *user : operand.getUsers())
        if (!last || last->isBeforeInBlock(user))
          last = user;
      if (last == &op && !llvm::is_contained(dies[&op], operand))
        dies[&op].push_back(operand);
    }
  }

  auto lookup = [&](mlir::Value v) -> const Tensor * {
    auto it = values.find(v);
    return it == values.end() ? nullptr : it->second.get();
  };
  std::vector<Tensor> outputs;
  for (mlir::Operation &op : func.getBody().front()) {
    if (auto ret = llvm::dyn_cast<mlir::func::ReturnOp>(op)) {
      for (auto [i, operand] : llvm::enumerate(ret.getOperands())) {
        Tensor output = *values.lookup(operand);
        output.name = valueName(func, i, /*isResult=*/true);
        outputs.push_back(std::move(output));
      }
      break;
    }
    std::string error;
    if (auto constant = llvm::dyn_cast<mlir::kiln::ConstantOp>(op)) {
      std::optional<Tensor> tensor = fromElementsAttr(constant.getValue());
      if (!tensor)
        return Status::error("cannot read this constant's value",
                             formatLocation(op.getLoc()));
      if (observer)
        observer(constant.getResult(), *tensor);
      values[constant.getResult()] =
          std::make_shared<const Tensor>(std::move(*tensor));
      continue;
    }
    for (mlir::Value operand : op.getOperands())
      if (!lookup(operand))
        return Status::error("operand is not available (unsupported op "
                             "structure)",
                             formatLocation(op.getLoc()));
    std::vector<Tensor> results;
    if (!runKernel(&op, lookup, results, error))
      return Status::error("'" + op.getName().getStringRef().str() +
                               "': " + error,
                           formatLocation(op.getLoc()));
    for (auto [value, tensor] : llvm::zip(op.getResults(), results)) {
      if (observer)
        observer(value, tensor);
      values[value] = std::make_shared<const Tensor>(std::move(tensor));
    }
    for (mlir::Value dead : dies.lookup(&op))
      values.erase(dead);
  }
  return outputs;
}

//===----------------------------------------------------------------------===//
// Registry and helpers
//===----------------------------------------------------------------------===//

namespace eval {

const KernelRegistry &KernelRegistry::get() {
  static const KernelRegistry registry = [] {
    KernelRegistry r;
    registerElementwiseKernels(r);
    registerLinearKernels(r);
    registerNormalizationKernels(r);
    registerPoolingKernels(r);
    registerReductionKernels(r);
    registerDataMovementKernels(r);
    registerQuantizationKernels(r);
    registerAttentionKernels(r);
    registerIntegerKernels(r);
    registerLowBitKernels(r);
    return r;
  }();
  return registry;
}

llvm::SmallVector<int64_t> stridesOf(llvm::ArrayRef<int64_t> shape) {
  llvm::SmallVector<int64_t> strides(shape.size(), 1);
  for (int64_t i = static_cast<int64_t>(shape.size()) - 2; i >= 0; --i)
    strides[i] = strides[i + 1] * shape[i + 1];
  return strides;
}

llvm::SmallVector<int64_t> broadcastStrides(llvm::ArrayRef<int64_t> from,
                                            llvm::ArrayRef<int64_t> to) {
  llvm::SmallVector<int64_t> fromStrides = stridesOf(from);
  llvm::SmallVector<int64_t> result(to.size(), 0);
  size_t offset = to.size() - from.size();
  for (size_t i = 0; i < from.size(); ++i)
    result[offset + i] = from[i] == 1 ? 0 : fromStrides[i];
  return result;
}

BroadcastIterator::BroadcastIterator(
    llvm::ArrayRef<int64_t> shape,
    llvm::ArrayRef<llvm::ArrayRef<int64_t>> operands)
    : shape(shape), index(shape.size(), 0), offsets(operands.size(), 0) {
  for (llvm::ArrayRef<int64_t> operand : operands)
    strides.push_back(broadcastStrides(operand, shape));
}

void BroadcastIterator::next() {
  for (int64_t d = static_cast<int64_t>(shape.size()) - 1; d >= 0; --d) {
    if (++index[d] < shape[d]) {
      for (size_t k = 0; k < offsets.size(); ++k)
        offsets[k] += strides[k][d];
      return;
    }
    index[d] = 0;
    for (size_t k = 0; k < offsets.size(); ++k)
      offsets[k] -= strides[k][d] * (shape[d] - 1);
  }
}

Tensor toFloat32(const Tensor &source) {
  Tensor result(source.name, DType::F32, source.shape);
  float *out = result.as<float>();
  int64_t n = source.numElements();
  if (source.dtype == DType::F32) {
    copyBytes(out, source.data.data(), n * sizeof(float));
    return result;
  }
  for (int64_t i = 0; i < n; ++i)
    out[i] = static_cast<float>(loadFloat(source, i));
  return result;
}

void fromFloat32(const Tensor &source, Tensor &dest) {
  const float *in = source.as<float>();
  int64_t n = dest.numElements();
  if (dest.dtype == DType::F32) {
    copyBytes(dest.data.data(), in, n * sizeof(float));
    return;
  }
  for (int64_t i = 0; i < n; ++i)
    storeFloat(dest, i, in[i]);
}

} // namespace eval
} // namespace kiln
