//===- kiln-opt.cpp - Run Kiln passes on MLIR text --------------*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// mlir-opt for Kiln: MlirOptMain with every Kiln dialect and pass registered.
// It is what the lit suite drives, and what a compiler engineer uses to run
// any slice of the pipeline.
//
//===----------------------------------------------------------------------===//

#include "kiln/Pipeline.h"

#include "mlir/Tools/mlir-opt/MlirOptMain.h"

int main(int argc, char **argv) {
  mlir::DialectRegistry registry;
  kiln::registerKilnDialects(registry);
  kiln::registerKilnPasses();
  return mlir::asMainReturnCode(
      mlir::MlirOptMain(argc, argv, "Kiln optimizer driver\n", registry));
}
