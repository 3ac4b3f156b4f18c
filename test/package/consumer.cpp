//===- consumer.cpp - Uses Kiln through its installed package ----*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// Parses Kiln IR, runs the pipeline and the evaluator through the public
// C++ API only; exits non-zero on any unexpected result.
//
//===----------------------------------------------------------------------===//

#include <kiln/Compiler.h>

#include <cstdio>

int main() {
  kiln::Compiler compiler;
  auto module = compiler.parseModule(R"mlir(
func.func @main(%x: tensor<4xf32> {kiln.name = "x"}) -> tensor<4xf32> {
  %0 = kiln.relu %x : tensor<4xf32>
  return %0 : tensor<4xf32>
}
)mlir");
  if (!module) {
    std::printf("parse failed: %s\n", module.status().str().c_str());
    return 1;
  }
  kiln::Tensor x("x", kiln::DType::F32, {4});
  float values[] = {-1.5f, 0.f, 2.f, -0.25f};
  for (int i = 0; i < 4; ++i)
    x.as<float>()[i] = values[i];
  auto outputs = compiler.run(*module, {x});
  if (!outputs || outputs->size() != 1) {
    std::printf("run failed: %s\n", outputs.status().str().c_str());
    return 1;
  }
  const float *y = (*outputs)[0].as<float>();
  if (y[0] != 0.f || y[1] != 0.f || y[2] != 2.f || y[3] != 0.f) {
    std::printf("wrong relu result\n");
    return 1;
  }
  kiln::CompileOptions bad;
  bad.target = "z80";
  if (kiln::validate(bad).succeeded()) {
    std::printf("bad option accepted\n");
    return 1;
  }
  std::printf("kiln %s through the C++ package: ok\n", kiln::version());
  return 0;
}
