//===- BatchRunner.cpp - Many `kiln run`s in one process --------*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// kiln-batch-run: what `kiln run MODEL --inputs IN --outputs OUT` does, for
// a list of cases in one process, so that the differential and real-model
// tests (differential.py, real_models.py) do not pay a process start per
// case. Each case gets its own kiln::Compiler (and so its own MLIR context),
// exactly as a `kiln run` invocation would.
//
// Usage:
//   kiln-batch-run --list-ops          print the supported "domain:OpType"s
//   kiln-batch-run MANIFEST            run the cases of MANIFEST
//
// MANIFEST has one case per line, fields separated by tabs:
//   MODEL  INPUTS  OUTPUTS.npz  [NAME=D0xD1x... ...]
// (INPUTS as for `kiln run --inputs`; "-" runs the import only.) For each
// case it prints, and flushes, "START i" and then exactly one of
//   OK i            the outputs were written
//   UNSUPPORTED i   the import failed with only "unsupported ..." errors
//   ERROR i         anything else
// followed by the diagnostics, one per line, each prefixed with "  ". A
// crash therefore leaves "START i" as the last line, which the callers use
// to name the crashing case.
//
//===----------------------------------------------------------------------===//

#include "compiler/frontend/ImportContext.h"
#include "kiln/Compiler.h"

#include <fstream>
#include <iostream>
#include <sstream>

using namespace kiln;

namespace {

/// Returns true when every error of |status| reports something unsupported.
bool onlyUnsupported(const Status &status) {
  bool any = false;
  for (const Diagnostic &diag : status.diagnostics()) {
    if (diag.severity != Severity::Error)
      continue;
    any = true;
    if (diag.message.rfind("unsupported", 0) != 0)
      return false;
  }
  return any;
}

/// Prints the verdict of case |index| and the diagnostics of |status|.
void report(const char *verdict, size_t index, const Status &status) {
  std::cout << verdict << " " << index << "\n";
  for (const Diagnostic &diag : status.diagnostics()) {
    std::string text = diag.str();
    std::istringstream lines(text);
    for (std::string line; std::getline(lines, line);)
      std::cout << "  " << line << "\n";
  }
  std::cout.flush();
}

/// Splits |line| at tabs.
std::vector<std::string> splitTabs(const std::string &line) {
  std::vector<std::string> fields;
  std::string field;
  std::istringstream in(line);
  while (std::getline(in, field, '\t'))
    fields.push_back(field);
  return fields;
}

/// Runs one case; returns after printing its verdict.
void runCase(size_t index, const std::vector<std::string> &fields) {
  std::cout << "START " << index << "\n";
  std::cout.flush();
  if (fields.size() < 3) {
    report("ERROR", index,
           Status::error("manifest line needs MODEL, INPUTS and OUTPUTS"));
    return;
  }
  CompileOptions options;
  Status status;
  for (size_t i = 3; i < fields.size(); ++i) {
    InputShape shape;
    status.append(parseInputShape(fields[i], shape));
    options.inputShapes.push_back(shape);
  }
  if (status.failed()) {
    report("ERROR", index, status);
    return;
  }
  Compiler compiler;
  auto module = compiler.loadModel(fields[0], options);
  if (!module) {
    report(onlyUnsupported(module.status()) ? "UNSUPPORTED" : "ERROR", index,
           module.status());
    return;
  }
  status.append(module.status());
  status.append(compiler.runPipeline(*module, options));
  if (status.failed()) {
    report("ERROR", index, status);
    return;
  }
  if (fields[1] == "-") {
    report("OK", index, status);
    return;
  }
  auto inputs = loadTensors(fields[1]);
  status.append(inputs.status());
  if (!inputs) {
    report("ERROR", index, status);
    return;
  }
  auto outputs = compiler.run(*module, inputs.take());
  status.append(outputs.status());
  if (!outputs) {
    report("ERROR", index, status);
    return;
  }
  status.append(saveNpz(fields[2], *outputs));
  report(status.failed() ? "ERROR" : "OK", index, status);
}

} // namespace

int main(int argc, char **argv) {
  if (argc != 2) {
    std::cerr << "usage: kiln-batch-run MANIFEST | --list-ops\n";
    return 2;
  }
  std::string arg = argv[1];
  if (arg == "--list-ops") {
    for (const std::string &key : frontend::ConverterRegistry::get().keys())
      std::cout << key << "\n";
    return 0;
  }
  std::ifstream manifest(arg);
  if (!manifest) {
    std::cerr << "kiln-batch-run: cannot read '" << arg << "'\n";
    return 2;
  }
  size_t index = 0;
  for (std::string line; std::getline(manifest, line); ++index)
    if (!line.empty())
      runCase(index, splitTabs(line));
  return 0;
}
