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
#include "passes/fusion/Passes.h"
#include "passes/graph/Passes.h"
#include "passes/memory/Passes.h"
#include "passes/quant/Passes.h"

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

/// Graph clean-up: fold what is constant, fold BatchNorm into the layers
/// before it, then let canonicalization remove dead ops and reshape chains.
/// Runs first so every later stage sees the smallest graph.
static void buildGraphCleanupPipeline(mlir::OpPassManager &pm) {
  mlir::OpPassManager &fpm = pm.nest<mlir::func::FuncOp>();
  fpm.addPass(mlir::kiln::createKilnFoldConstantsPass());
  fpm.addPass(mlir::kiln::createKilnFoldBatchNormPass());
  fpm.addPass(mlir::createCanonicalizerPass());
  fpm.addPass(mlir::createCSEPass());
}

/// Int8: QDQ pairs become exact parameters before calibration (so a QDQ
/// model needs no data), calibration annotates ranges, the lowering builds
/// the int8 kernels; then clamps fuse into kernels and the layout
/// transposes cancel, which needs the dead dequantizes gone first.
static void buildInt8Pipeline(mlir::OpPassManager &pm,
                              const CompileOptions &options) {
  mlir::OpPassManager &fpm = pm.nest<mlir::func::FuncOp>();
  fpm.addPass(mlir::kiln::createKilnFoldQdqPass());
  if (!options.calibrationPath.empty()) {
    mlir::kiln::KilnCalibratePassOptions calib;
    calib.data = options.calibrationPath;
    calib.observer = options.observer;
    calib.percentile = options.percentile;
    fpm.addPass(mlir::kiln::createKilnCalibratePass(calib));
  }
  fpm.addPass(mlir::kiln::createKilnQuantizeInt8Pass());
  fpm.addPass(mlir::createCanonicalizerPass());
  fpm.addPass(mlir::kiln::createKilnFuseActivationsPass());
  fpm.addPass(mlir::kiln::createKilnCancelTransposesPass());
  fpm.addPass(mlir::createCanonicalizerPass());
  fpm.addPass(mlir::createCSEPass());
}

/// The low-bit transformer schemes: one pass calibrates, smooths and
/// rewrites the linear layers (it needs the float graph as imported, after
/// clean-up, so its folds see LayerNorm and the projections directly);
/// canonicalization and CSE then drop the float weights it replaced.
static void buildLowBitPipeline(mlir::OpPassManager &pm,
                                const CompileOptions &options) {
  mlir::OpPassManager &fpm = pm.nest<mlir::func::FuncOp>();
  mlir::kiln::KilnQuantizeLowBitPassOptions lowbit;
  lowbit.scheme = options.quantize;
  lowbit.data = options.calibrationPath;
  lowbit.rank = options.rank;
  lowbit.smoothAlpha = options.smoothAlpha;
  lowbit.fp4Error = options.fp4Error;
  lowbit.kvBits = options.kvBits;
  lowbit.report = options.quantReport;
  fpm.addPass(mlir::kiln::createKilnQuantizeLowBitPass(lowbit));
  fpm.addPass(mlir::createCanonicalizerPass());
  fpm.addPass(mlir::createCSEPass());
}

/// Memory planning runs last: it needs the final kernels, and fixes the
/// execution order the code generators follow.
static void buildMemoryPlanningPipeline(mlir::OpPassManager &pm,
                                        const CompileOptions &options) {
  mlir::kiln::KilnPlanMemoryPassOptions plan;
  plan.planner = options.memoryPlanner;
  plan.device = options.target.rfind("cuda-", 0) == 0 ? "gpu" : "mcu";
  plan.patch = options.patch;
  if (options.report && !options.outputDir.empty())
    plan.report = options.outputDir + "/memory";
  pm.nest<mlir::func::FuncOp>().addPass(
      mlir::kiln::createKilnPlanMemoryPass(plan));
}

/// Returns true for the targets whose code generator is the C emitter.
static bool isCTarget(const std::string &target) {
  return target == "host" || target.rfind("cortex-m", 0) == 0;
}

void buildKilnPipeline(mlir::OpPassManager &pm,
                       const CompileOptions &options) {
  buildGraphCleanupPipeline(pm);
  if (options.quantize == "int8")
    buildInt8Pipeline(pm, options);
  else if (isLowBitScheme(options.quantize))
    buildLowBitPipeline(pm, options);
}

void buildKilnCodegenPipeline(mlir::OpPassManager &pm,
                              const CompileOptions &options) {
  if (isCTarget(options.target) || options.target.rfind("cuda-", 0) == 0)
    buildMemoryPlanningPipeline(pm, options);
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
  mlir::kiln::registerKilnGraphPasses();
  mlir::kiln::registerKilnQuantPasses();
  mlir::kiln::registerKilnFusionPasses();
  mlir::kiln::registerKilnMemoryPasses();
  mlir::PassPipelineRegistration<>(
      "kiln-pipeline", "the default Kiln pipeline (graph clean-up, no "
                       "quantization)",
      [](mlir::OpPassManager &pm) { buildKilnPipeline(pm, CompileOptions()); });
  mlir::PassPipelineRegistration<>(
      "kiln-graph-cleanup", "constant folding, BatchNorm folding, "
                            "canonicalization",
      [](mlir::OpPassManager &pm) { buildGraphCleanupPipeline(pm); });
  mlir::PassPipelineRegistration<>(
      "kiln-int8-lowering", "QDQ folding, int8 lowering, activation fusion "
                            "and transpose cancellation (ranges must be "
                            "annotated already)",
      [](mlir::OpPassManager &pm) {
        CompileOptions options;
        options.quantize = "int8";
        buildInt8Pipeline(pm, options);
      });
}

} // namespace kiln
