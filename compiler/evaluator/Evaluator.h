//===- Evaluator.h - The reference evaluator --------------------*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// The reference evaluator interprets a kiln module on host tensors: in
// float (and every other ONNX element type) for imported models, and in the
// exact integer semantics of the quantized kernels for quantized modules. It
// is the golden model: calibration runs it, quantization passes measure
// their error with it, and every emitted program must match it.
//
// It is written to be readable and exactly correct first; conv and matmul
// use blocked float loops so real models run in seconds.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_COMPILER_EVALUATOR_EVALUATOR_H
#define KILN_COMPILER_EVALUATOR_EVALUATOR_H

#include "kiln/Diagnostics.h"
#include "kiln/Tensor.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace kiln {

/// Observer called with every value the evaluator computes (calibration
/// uses it to collect activation statistics). |value| is the SSA value;
/// the tensor is valid only during the call.
using ValueObserver =
    std::function<void(mlir::Value value, const Tensor &tensor)>;

/// Returns the entry function of |module|: `main` if present, else the only
/// public function; null when there is none.
mlir::func::FuncOp getEntryFunction(mlir::ModuleOp module);

/// Runs |func| on |inputs|. Inputs match the function arguments by name
/// (the `kiln.name` argument attribute) when every input has a name that
/// matches, else by position; each must have the argument's element type and
/// shape. Outputs are named after the `kiln.name` result attributes.
Result<std::vector<Tensor>>
evaluateFunction(mlir::func::FuncOp func, std::vector<Tensor> inputs,
                 const ValueObserver &observer = nullptr);

/// Evaluates the single op |op| on |operands| (in operand order). Used to
/// fold constants at import. Returns nothing and sets |error| on failure.
std::optional<std::vector<Tensor>> evaluateOp(mlir::Operation *op,
                                              llvm::ArrayRef<Tensor> operands,
                                              std::string &error);

} // namespace kiln

#endif // KILN_COMPILER_EVALUATOR_EVALUATOR_H
