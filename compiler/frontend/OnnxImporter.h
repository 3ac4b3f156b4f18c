//===- OnnxImporter.h - ONNX model to kiln dialect --------------*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// Imports an ONNX model into a module with one `func.func @main` of kiln
// ops. The import:
//   1. reads the protobuf (malformed/truncated files fail cleanly), runs
//      libonnx's checker where it applies and upgrades opsets older than 7
//      with its version converter;
//   2. resolves each node's operator version from the model's opsets and
//      reports EVERY unsupported node (name, op type, domain, opset) at once;
//   3. fixes input shapes (dynamic dimensions need --input-shape), turns
//      initializers into constants (dense_resource blobs for weights);
//   4. converts nodes in topological order (cycles and undefined values are
//      errors), computing every result type statically, and folds nodes
//      whose inputs are all constant (shape subgraphs) with the evaluator;
//   5. checks the computed output types against the model's declarations.
// Every op gets NameLoc(node name, FileLineColLoc(model path)).
//
//===----------------------------------------------------------------------===//

#ifndef KILN_COMPILER_FRONTEND_ONNXIMPORTER_H
#define KILN_COMPILER_FRONTEND_ONNXIMPORTER_H

#include "kiln/Diagnostics.h"
#include "kiln/Options.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"

#include <string>

namespace kiln::frontend {

/// Imports the ONNX model file |path|. Problems are appended to |status|
/// (and the result is null on failure).
mlir::OwningOpRef<mlir::ModuleOp>
importOnnxFile(mlir::MLIRContext *context, const std::string &path,
               const CompileOptions &options, Status &status);

/// Imports a model held in memory; |name| stands for its path in
/// diagnostics and external data is not allowed.
mlir::OwningOpRef<mlir::ModuleOp>
importOnnxBytes(mlir::MLIRContext *context, const std::string &bytes,
                const std::string &name, const CompileOptions &options,
                Status &status);

/// Returns the number of (domain, op type) pairs the importer supports.
size_t numSupportedOnnxOps();

} // namespace kiln::frontend

#endif // KILN_COMPILER_FRONTEND_ONNXIMPORTER_H
