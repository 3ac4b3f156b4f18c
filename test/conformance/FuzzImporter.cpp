//===- FuzzImporter.cpp - libFuzzer target over the ONNX importer -*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// kiln-fuzz-importer: feeds arbitrary bytes to the ONNX importer
// (frontend::importOnnxBytes: protobuf parsing, libonnx checker and version
// converter, opset resolution, support check, topological ordering, input
// and initializer handling, every converter, import-time constant folding
// with the evaluator, output checks). The importer must turn any input into
// a module or a diagnostic: a crash, a hang, a sanitizer report or an
// out-of-memory is a bug.
//
// When the import succeeds and the model is small, the target also runs the
// reference evaluator on zero-filled inputs, which must succeed or fail
// with a diagnostic too.
//
// Built only in sanitized clang builds (KILN_SANITIZE=ON), linked with
// -fsanitize=fuzzer; the Kiln libraries are compiled with
// -fsanitize=fuzzer-no-link there so coverage guides the fuzzer
// (cmake/KilnUtils.cmake). ctest `conformance.fuzz-importer` runs it for a
// bounded time with a fixed seed from a corpus of node-test models and
// corrupted variants (make_fuzz_corpus.py).
//
//===----------------------------------------------------------------------===//

#include "compiler/evaluator/Evaluator.h"
#include "compiler/frontend/OnnxImporter.h"
#include "compiler/support/TensorAttr.h"
#include "kiln/Pipeline.h"

#include "mlir/IR/MLIRContext.h"

#include <cstdint>
#include <string>

namespace {

/// Largest number of elements over all arguments for which the target also
/// evaluates the imported model.
constexpr int64_t kMaxEvalElements = int64_t(1) << 16;

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  // A context per input: dense_resource blobs and uniqued attributes would
  // otherwise accumulate across millions of inputs.
  static mlir::DialectRegistry *registry = [] {
    auto *r = new mlir::DialectRegistry();
    kiln::registerKilnDialects(*r);
    return r;
  }();
  mlir::MLIRContext context(*registry,
                            mlir::MLIRContext::Threading::DISABLED);
  context.loadAllAvailableDialects();
  context.printOpOnDiagnostic(false);

  std::string bytes(reinterpret_cast<const char *>(data), size);
  kiln::CompileOptions options;
  kiln::Status status;
  auto module = kiln::frontend::importOnnxBytes(&context, bytes, "fuzz.onnx",
                                                options, status);
  if (!module)
    return 0;
  mlir::func::FuncOp func = kiln::getEntryFunction(*module);
  if (!func)
    return 0;
  std::vector<kiln::Tensor> inputs;
  int64_t total = 0;
  for (mlir::Type type : func.getFunctionType().getInputs()) {
    auto tensorType = llvm::cast<mlir::RankedTensorType>(type);
    std::optional<kiln::DType> dtype =
        kiln::fromMlirType(tensorType.getElementType());
    if (!dtype)
      return 0;
    total += tensorType.getNumElements();
    if (total > kMaxEvalElements)
      return 0;
    inputs.emplace_back("", *dtype,
                        std::vector<int64_t>(tensorType.getShape().begin(),
                                             tensorType.getShape().end()));
  }
  // Intermediate values can be large (Expand, Tile, ConstantOfShape with
  // legitimately big shapes); evaluating those would only measure memory.
  bool small = true;
  func.walk([&](mlir::Operation *op) {
    for (mlir::Type type : op->getResultTypes())
      if (auto tensor = llvm::dyn_cast<mlir::RankedTensorType>(type))
        if (!tensor.hasStaticShape() ||
            tensor.getNumElements() > kMaxEvalElements * 16)
          small = false;
  });
  if (!small)
    return 0;
  (void)kiln::evaluateFunction(func, std::move(inputs));
  return 0;
}
