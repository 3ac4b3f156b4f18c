//===- CEmitter.h - C99 code generation for MCUs and the host ---*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// Writes a self-contained folder for a memory-planned int8 function:
//   model.h / model.c  the model: weights as aligned const arrays, one
//                      arena of KILN_<NAME>_ARENA_BYTES, I/O descriptors,
//                      kiln_<name>_run(arena, inputs, outputs) calling
//                      runtime/c kernels; no malloc, no stdio, no float in
//                      the int8 path; re-entrant given its arena
//   kiln_rt/           the C runtime sources (embedded in the compiler)
//   platform/          start-up, semihosting and linker script of the QEMU
//                      board (Cortex-M targets)
//   main.c             with a harness: runs the model on embedded inputs and
//                      prints each output as "<name>: v0 v1 ..."
//   Makefile           `make` builds, `make run` runs natively or under
//                      qemu-system-arm, exiting non-zero on failure
//
//===----------------------------------------------------------------------===//

#ifndef KILN_CODEGEN_C_CEMITTER_H
#define KILN_CODEGEN_C_CEMITTER_H

#include "codegen/common/EmitSupport.h"
#include "kiln/Diagnostics.h"
#include "kiln/Tensor.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"

#include <string>
#include <vector>

namespace kiln::codegen {

/// What to emit.
struct CEmitOptions {
  /// host, cortex-m4, cortex-m7 or cortex-m55.
  std::string target = "host";
  /// Identifier used in symbol names: kiln_<modelName>_run.
  std::string modelName = "model";
  /// Output folder (created if missing).
  std::string outputDir;
  /// Harness samples: one vector of input tensors (float or int8) per
  /// sample; empty for no harness.
  std::vector<std::vector<Tensor>> harnessSamples;
};

/// Emits the C program of |func| (after kiln-plan-memory). Returns the
/// files written, relative to options.outputDir.
Result<std::vector<std::string>> emitCProgram(mlir::func::FuncOp func,
                                              const CEmitOptions &options);

} // namespace kiln::codegen

#endif // KILN_CODEGEN_C_CEMITTER_H
