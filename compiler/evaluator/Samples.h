//===- Samples.h - Splitting data files into model inputs -------*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// Data files (calibration sets, harness inputs) hold arrays that stack one
// or more samples along their first dimension. splitSamples pairs arrays
// with a function's arguments (by the `kiln.name` attribute, else by
// position) and cuts them into per-sample input lists.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_COMPILER_EVALUATOR_SAMPLES_H
#define KILN_COMPILER_EVALUATOR_SAMPLES_H

#include "kiln/Tensor.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"

#include <string>
#include <vector>

namespace kiln {

/// Returns one input list per sample held by |data| for |func|; |limit|
/// caps the number of samples (0 = all). Fails with a message naming the
/// array that does not fit.
Result<std::vector<std::vector<Tensor>>>
splitSamples(mlir::func::FuncOp func, const std::vector<Tensor> &data,
             size_t limit = 0);

} // namespace kiln

#endif // KILN_COMPILER_EVALUATOR_SAMPLES_H
