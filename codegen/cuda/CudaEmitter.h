//===- CudaEmitter.h - CUDA C++ code generation for NVIDIA GPUs -*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// Writes a self-contained folder for a memory-planned int8 function
// (kiln-plan-memory with device=gpu):
//   model.h / model.cu  the model behind a C API:
//                         kiln_<name>_create(stream, weights_path, &handle)
//                         kiln_<name>_run(handle, inputs, outputs)
//                         kiln_<name>_run_int8(handle, inputs, outputs)
//                         kiln_<name>_destroy(handle)
//                       one device workspace (the planner's arena plus the
//                       split-K partial sums), kernels instantiated from
//                       runtime/cuda templates with static shapes and tiles
//                       chosen at compile time, every launch on the one
//                       stream (capturable by a CUDA graph)
//   weights.bin         every constant, pre-packed (padded GEMM rows,
//                       depthwise [KH][KW][C], zero points folded into the
//                       int32 biases), read once by _create
//   kiln_cuda/          the CUDA runtime headers (embedded in the compiler)
//   CMakeLists.txt      builds lib<name>.so and, with a harness, <name>_run
//   main.cu             with a harness: runs the model on embedded samples
//                       and prints each output as "<name>: v0 v1 ..." (raw
//                       int8 values, as the MCU harness)
//
//===----------------------------------------------------------------------===//

#ifndef KILN_CODEGEN_CUDA_CUDAEMITTER_H
#define KILN_CODEGEN_CUDA_CUDAEMITTER_H

#include "kiln/Diagnostics.h"
#include "kiln/Tensor.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"

#include <string>
#include <vector>

namespace kiln::codegen {

/// What to emit.
struct CudaEmitOptions {
  /// cuda-sm80 or cuda-sm90.
  std::string target = "cuda-sm80";
  /// Identifier used in symbol names: kiln_<modelName>_run.
  std::string modelName = "model";
  /// Output folder (created if missing).
  std::string outputDir;
  /// Harness samples: one vector of input tensors (float or int8) per
  /// sample; empty for no harness.
  std::vector<std::vector<Tensor>> harnessSamples;
};

/// Emits the CUDA program of |func| (after kiln-plan-memory device=gpu).
/// Returns the files written, relative to options.outputDir.
Result<std::vector<std::string>> emitCudaProgram(mlir::func::FuncOp func,
                                                 const CudaEmitOptions &options);

} // namespace kiln::codegen

#endif // KILN_CODEGEN_CUDA_CUDAEMITTER_H
