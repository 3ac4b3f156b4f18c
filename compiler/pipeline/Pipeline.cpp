//===- Pipeline.cpp - Registration and pipeline builders --------*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// Registers Kiln's dialects and passes, and builds the pass pipeline for a set
// of options. Each stage is a plain function (IREE style) so kiln-opt can
// run any slice; the comments say why each pass sits where it does.
//
//===----------------------------------------------------------------------===//

#include "kiln/Pipeline.h"

#include "dialects/kiln/KilnDialect.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Quant/IR/Quant.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"

namespace kiln {

void registerKilnDialects(mlir::DialectRegistry &registry) {
  registry.insert<mlir::kiln::KilnDialect, mlir::quant::QuantDialect,
                  mlir::func::FuncDialect, mlir::arith::ArithDialect>();
}

void registerKilnPasses() {
  static bool registered = false;
  if (registered)
    return;
  registered = true;
  // Upstream passes that Kiln pipelines use, so kiln-opt can run them too.
  mlir::registerCanonicalizerPass();
  mlir::registerCSEPass();
  mlir::registerSymbolDCEPass();
  mlir::PassPipelineRegistration<>(
      "kiln-pipeline", "the default Kiln pipeline (no quantization, host)",
      [](mlir::OpPassManager &pm) { buildKilnPipeline(pm, CompileOptions()); });
}

void buildKilnPipeline(mlir::OpPassManager &pm,
                       const CompileOptions &options) {
  // Graph clean-up first: canonicalization folds constants and removes
  // reshape chains, so later stages see the smallest graph.
  pm.addPass(mlir::createCanonicalizerPass());
  pm.addPass(mlir::createCSEPass());
}

} // namespace kiln
