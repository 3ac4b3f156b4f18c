//===- CompilerTest.cpp - Tests of the compile API --------------*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// Exercises kiln::Compiler through its public header only: parsing Kiln IR,
// verifier errors coming back as diagnostics (never printed), the pipeline,
// and clear errors from load/compile on bad input.
//
//===----------------------------------------------------------------------===//

#include "kiln/Compiler.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

namespace {

const char *kValidModule = R"mlir(
func.func @main(%x: tensor<1x4xf32>) -> tensor<1x4xf32> {
  %0 = kiln.relu %x : tensor<1x4xf32>
  %1 = kiln.reshape %0 : (tensor<1x4xf32>) -> tensor<4xf32>
  %2 = kiln.reshape %1 : (tensor<4xf32>) -> tensor<1x4xf32>
  return %2 : tensor<1x4xf32>
}
)mlir";

TEST(Compiler, ParsesValidModule) {
  kiln::Compiler compiler;
  auto module = compiler.parseModule(kValidModule, "valid.mlir");
  ASSERT_TRUE(module) << module.status().str();
  EXPECT_TRUE(module.status().diagnostics().empty());
  EXPECT_NE(module->toText().find("kiln.relu"), std::string::npos);
}

TEST(Compiler, VerifierErrorsComeBackAsDiagnostics) {
  kiln::Compiler compiler;
  auto module = compiler.parseModule(R"mlir(
func.func @main(%x: tensor<2x3xf32>, %y: tensor<4xf32>) -> tensor<2x3xf32> {
  %0 = kiln.add %x, %y : (tensor<2x3xf32>, tensor<4xf32>) -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}
)mlir",
                                     "bad.mlir");
  ASSERT_FALSE(module);
  const auto &diags = module.status().diagnostics();
  ASSERT_EQ(diags.size(), 1u);
  EXPECT_EQ(diags[0].severity, kiln::Severity::Error);
  EXPECT_EQ(diags[0].location, "bad.mlir:3:8");
  EXPECT_NE(diags[0].message.find("2x3 and 4 are not broadcastable"),
            std::string::npos)
      << diags[0].message;
}

TEST(Compiler, PipelineFoldsReshapeChain) {
  kiln::Compiler compiler;
  auto module = compiler.parseModule(kValidModule);
  ASSERT_TRUE(module);
  kiln::Status status = compiler.runPipeline(*module, kiln::CompileOptions());
  ASSERT_TRUE(status.succeeded()) << status.str();
  // reshape(reshape(x)) back to the original type folds away entirely.
  EXPECT_EQ(module->toText().find("kiln.reshape"), std::string::npos)
      << module->toText();
}

TEST(Compiler, PipelineRejectsBadOptions) {
  kiln::Compiler compiler;
  auto module = compiler.parseModule(kValidModule);
  ASSERT_TRUE(module);
  kiln::CompileOptions options;
  options.target = "riscv";
  kiln::Status status = compiler.runPipeline(*module, options);
  EXPECT_TRUE(status.failed());
  EXPECT_EQ(status.diagnostics().at(0).location, "--target");
}

TEST(Compiler, LoadMissingFileFails) {
  kiln::Compiler compiler;
  auto module = compiler.loadModel("/nonexistent/model.onnx",
                                   kiln::CompileOptions());
  ASSERT_FALSE(module);
  EXPECT_EQ(module.status().diagnostics().at(0).location,
            "/nonexistent/model.onnx");
  EXPECT_EQ(module.status().diagnostics().at(0).message, "no such file");
}

TEST(Compiler, LoadUnknownFormatFails) {
  std::string path = ::testing::TempDir() + "/model.txt";
  std::ofstream(path) << "hello";
  kiln::Compiler compiler;
  auto module = compiler.loadModel(path, kiln::CompileOptions());
  ASSERT_FALSE(module);
  EXPECT_NE(module.status().str().find("unknown model format '.txt'"),
            std::string::npos);
  std::remove(path.c_str());
}

TEST(Compiler, CompileWithoutOutputDirFails) {
  std::string path = ::testing::TempDir() + "/valid.mlir";
  std::ofstream(path) << kValidModule;
  kiln::Compiler compiler;
  auto output = compiler.compile(path, kiln::CompileOptions());
  ASSERT_FALSE(output);
  EXPECT_NE(output.status().str().find("no output folder"), std::string::npos)
      << output.status().str();
  std::remove(path.c_str());
}

TEST(Compiler, VersionsAreSet) {
  EXPECT_STREQ(kiln::version(), "0.1.0");
  EXPECT_EQ(std::string(kiln::mlirVersion()).substr(0, 3), "22.");
}

} // namespace
