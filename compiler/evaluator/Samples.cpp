//===- Samples.cpp - Splitting data files into model inputs -----*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// Implements splitSamples (see Samples.h).
//
//===----------------------------------------------------------------------===//

#include "compiler/evaluator/Samples.h"
#include "compiler/support/Numeric.h"
#include "compiler/support/TensorAttr.h"

#include "mlir/IR/BuiltinAttributes.h"

namespace kiln {

Result<std::vector<std::vector<Tensor>>>
splitSamples(mlir::func::FuncOp func, const std::vector<Tensor> &data,
             size_t limit) {
  unsigned numArgs = func.getNumArguments();
  std::vector<const Tensor *> sources(numArgs, nullptr);
  for (unsigned i = 0; i < numArgs; ++i) {
    auto name = func.getArgAttrOfType<mlir::StringAttr>(i, "kiln.name");
    for (const Tensor &t : data)
      if (name && t.name == name.getValue())
        sources[i] = &t;
  }
  for (unsigned i = 0; i < numArgs; ++i)
    if (!sources[i]) {
      if (data.size() != numArgs)
        return Status::error(
            "the data holds " + std::to_string(data.size()) + " arrays for " +
            std::to_string(numArgs) +
            " model inputs, and their names do not match the inputs");
      sources[i] = &data[i];
    }
  int64_t count = -1;
  for (unsigned i = 0; i < numArgs; ++i) {
    auto type = llvm::cast<mlir::RankedTensorType>(
        func.getArgument(i).getType());
    const Tensor &t = *sources[i];
    int64_t perSample = type.getNumElements();
    int64_t n = perSample ? t.numElements() / perSample : 0;
    std::optional<DType> dtype = fromMlirType(type.getElementType());
    if (!dtype || *dtype != t.dtype || n * perSample != t.numElements() ||
        n == 0) {
      Tensor expected("", dtype.value_or(DType::F32),
                      std::vector<int64_t>(type.getShape().begin(),
                                           type.getShape().end()));
      return Status::error("array '" + t.name + "' (" + t.describe() +
                           ") is not a stack of samples of the model input " +
                           expected.describe());
    }
    if (count >= 0 && n != count)
      return Status::error("the arrays hold different numbers of samples");
    count = n;
  }
  if (limit && count > static_cast<int64_t>(limit))
    count = static_cast<int64_t>(limit);
  std::vector<std::vector<Tensor>> samples;
  for (int64_t s = 0; s < count; ++s) {
    std::vector<Tensor> inputs;
    for (unsigned i = 0; i < numArgs; ++i) {
      auto type = llvm::cast<mlir::RankedTensorType>(
          func.getArgument(i).getType());
      const Tensor &t = *sources[i];
      Tensor sample(t.name, t.dtype,
                    std::vector<int64_t>(type.getShape().begin(),
                                         type.getShape().end()));
      size_t bytes = sample.data.size();
      copyBytes(sample.data.data(), t.data.data() + s * bytes, bytes);
      inputs.push_back(std::move(sample));
    }
    samples.push_back(std::move(inputs));
  }
  return samples;
}

} // namespace kiln
