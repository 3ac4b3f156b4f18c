//===- Pipeline.h - MLIR-level API: registration and pipelines --*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// The MLIR-facing part of the API, used by kiln-opt and by embedders who want
// to run Kiln passes in their own pass managers: dialect and pass
// registration, and the pipeline builders (plain functions, one per stage,
// each also registered as a named pass pipeline).
//
//===----------------------------------------------------------------------===//

#ifndef KILN_COMPILER_INCLUDE_KILN_PIPELINE_H
#define KILN_COMPILER_INCLUDE_KILN_PIPELINE_H

#include "kiln/Compiler.h"
#include "kiln/Options.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/Pass/PassManager.h"

namespace kiln {

/// Adds every dialect Kiln's IR uses (kiln, quant, func, arith) to
/// |registry|.
void registerKilnDialects(mlir::DialectRegistry &registry);

/// Registers every Kiln pass and named pipeline with MLIR's global registry
/// (for kiln-opt and mlir-opt-style tools). Idempotent.
void registerKilnPasses();

/// Adds the whole Kiln pipeline for |options| (graph clean-up, quantization,
/// fusion, lowering, memory planning) to |pm|.
void buildKilnPipeline(mlir::OpPassManager &pm, const CompileOptions &options);

/// Adds the target stages that precede code generation for |options|
/// (memory planning for the C targets) to |pm|.
void buildKilnCodegenPipeline(mlir::OpPassManager &pm,
                              const CompileOptions &options);

/// Returns the MLIR module held by |module|.
mlir::ModuleOp getModuleOp(Module &module);

} // namespace kiln

#endif // KILN_COMPILER_INCLUDE_KILN_PIPELINE_H
