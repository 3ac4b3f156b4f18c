//===- NodeTestRunner.cpp - ONNX backend node tests through Kiln -*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// Runs every ONNX backend node test (model.onnx + test_data_set_N) through
// Kiln's importer, default pipeline and reference evaluator, and compares
// the outputs with ONNX's expected ones:
//   - floats: |got - expected| <= atol + rtol * |expected| (numpy's
//     assert_allclose, rtol 1e-3, atol 1e-7 as in ONNX's backend runner;
//     NaN matches NaN); integers and booleans: exact.
//   - A test is SKIPPED only when the import fails with nothing but
//     "unsupported ..." errors. Any other error or any mismatch is a FAILURE.
//   - Tests whose shape-like inputs (e.g. Reshape's target) are graph inputs
//     are re-imported with those integer inputs bound as constants (--bind),
//     the way a static compiler specializes them; they count as passed
//     "with bound inputs" and are listed separately.
// Prints every failure and "N passed, N failed, N skipped", writes a per-op
// Markdown table, and exits non-zero on any failure or when fewer than
// --min-passed tests pass.
//
// Usage: kiln-node-tests NODE_DIR [--report FILE] [--filter SUBSTR]
//                        [--min-passed N] [--verbose]
//
//===----------------------------------------------------------------------===//

#include "compiler/frontend/OnnxModel.h"
#include "compiler/support/Numeric.h"
#include "kiln/Compiler.h"

#include "onnx/onnx_pb.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <sstream>

namespace fs = std::filesystem;
using namespace kiln;

namespace {

enum class Outcome { Passed, PassedBound, Failed, Skipped };

struct TestResult {
  std::string name, op;
  Outcome outcome;
  std::string reason;
};

/// Returns "LayerNormalization" -> "layernormalization".
std::string squash(const std::string &text) {
  std::string out;
  for (char c : text)
    if (c != '_')
      out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

/// Names the operator a test exercises: the op type of a one-node model,
/// else the longest known op name that prefixes the test name.
std::string opUnderTest(const std::string &test,
                        const onnx::ModelProto &model,
                        const std::vector<std::string> &opNames) {
  if (model.graph().node_size() == 1)
    return model.graph().node(0).op_type();
  std::string name = squash(test.substr(5)); // drop "test_"
  std::string best;
  for (const std::string &op : opNames) {
    std::string key = squash(op);
    if (name.rfind(key, 0) == 0 && key.size() > squash(best).size())
      best = op;
  }
  return best.empty() ? "(model)" : best;
}

/// Compares one output; returns an empty string when it matches.
std::string compare(const Tensor &got, const Tensor &expected) {
  if (got.dtype != expected.dtype)
    return std::string("element type ") + dtypeName(got.dtype) +
           ", expected " + dtypeName(expected.dtype);
  if (got.shape != expected.shape)
    return "shape " + got.describe() + ", expected " + expected.describe();
  int64_t n = got.numElements();
  if (isFloat(got.dtype)) {
    for (int64_t i = 0; i < n; ++i) {
      double g = loadFloat(got, i), e = loadFloat(expected, i);
      if (std::isnan(e) && std::isnan(g))
        continue;
      if (std::isinf(e) && g == e)
        continue;
      if (!(std::fabs(g - e) <= 1e-7 + 1e-3 * std::fabs(e))) {
        std::ostringstream os;
        os << "element " << i << " is " << g << ", expected " << e;
        return os.str();
      }
    }
    return {};
  }
  if (got.data != expected.data) {
    for (int64_t i = 0; i < n; ++i)
      if (loadUnsigned(got, i) != loadUnsigned(expected, i)) {
        std::ostringstream os;
        os << "element " << i << " is " << loadInt(got, i) << ", expected "
           << loadInt(expected, i);
        return os.str();
      }
  }
  return {};
}

/// Returns the sorted test_data_set_N folders of a test.
std::vector<fs::path> dataSets(const fs::path &test) {
  std::vector<fs::path> sets;
  for (const auto &entry : fs::directory_iterator(test))
    if (entry.is_directory() &&
        entry.path().filename().string().rfind("test_data_set_", 0) == 0)
      sets.push_back(entry.path());
  std::sort(sets.begin(), sets.end());
  return sets;
}

/// Loads output_N.pb files of a data set, in order.
Result<std::vector<Tensor>> loadOutputs(const fs::path &set) {
  std::vector<Tensor> outputs;
  for (int i = 0;; ++i) {
    fs::path file = set / ("output_" + std::to_string(i) + ".pb");
    if (!fs::exists(file))
      break;
    auto tensor = frontend::readTensorFile(file.string());
    if (!tensor)
      return tensor.status();
    outputs.push_back(tensor.take());
  }
  return outputs;
}

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

/// Returns the graph values that the import needs as constants ("input 'x'
/// (value 'v') must be a constant").
std::vector<std::string> valuesToBind(const Status &status) {
  std::vector<std::string> names;
  for (const Diagnostic &diag : status.diagnostics()) {
    const std::string &m = diag.message;
    if (m.find("must be a constant") == std::string::npos)
      continue;
    size_t start = m.find("(value '");
    if (start == std::string::npos)
      continue;
    start += 8;
    size_t end = m.find('\'', start);
    if (end != std::string::npos)
      names.push_back(m.substr(start, end - start));
  }
  return names;
}

/// First error message of |status|, location included.
std::string firstError(const Status &status) {
  for (const Diagnostic &diag : status.diagnostics())
    if (diag.severity == Severity::Error)
      return diag.message;
  return "failed";
}

TestResult runTest(const fs::path &dir, const std::vector<std::string> &ops) {
  TestResult result;
  result.name = dir.filename().string();
  std::string modelPath = (dir / "model.onnx").string();
  auto proto = frontend::readModelFile(modelPath);
  if (!proto)
    return {result.name, "?", Outcome::Failed, firstError(proto.status())};
  result.op = opUnderTest(result.name, **proto, ops);

  std::vector<fs::path> sets = dataSets(dir);
  if (sets.empty())
    return {result.name, result.op, Outcome::Failed, "no test data"};

  Compiler compiler;
  CompileOptions options;
  auto module = compiler.loadModel(modelPath, options);
  bool bound = false;
  // Bind the graph inputs that feed shape-like operands to their values in
  // the first data set (each data set must agree), a few rounds deep since
  // binding one may expose the next.
  auto firstInputs = loadTensors(sets[0].string());
  for (int round = 0; round < 4 && !module && firstInputs; ++round) {
    std::vector<std::string> names = valuesToBind(module.status());
    // Values computed inside the graph from inputs: bind the integer
    // (shape-like) graph inputs they come from.
    bool fromGraphInputs = std::any_of(
        names.begin(), names.end(), [&](const std::string &name) {
          return std::any_of(firstInputs->begin(), firstInputs->end(),
                             [&](const Tensor &t) { return t.name == name; });
        });
    if (!names.empty() && !fromGraphInputs)
      for (const Tensor &t : *firstInputs)
        if (t.dtype == DType::I64 || t.dtype == DType::I32)
          names.push_back(t.name);
    bool added = false;
    for (const std::string &name : names)
      for (const Tensor &t : *firstInputs)
        if (t.name == name &&
            std::none_of(options.boundInputs.begin(),
                         options.boundInputs.end(),
                         [&](const Tensor &b) { return b.name == name; })) {
          options.boundInputs.push_back(t);
          added = true;
        }
    if (!added)
      break;
    module = compiler.loadModel(modelPath, options);
    bound = true;
  }
  if (!module) {
    if (onlyUnsupported(module.status()))
      return {result.name, result.op, Outcome::Skipped,
              firstError(module.status())};
    return {result.name, result.op, Outcome::Failed,
            "import: " + firstError(module.status())};
  }
  Status status = compiler.runPipeline(*module, options);
  if (status.failed())
    return {result.name, result.op, Outcome::Failed,
            "pipeline: " + firstError(status)};
  for (const fs::path &set : sets) {
    auto inputs = loadTensors(set.string());
    auto expected = loadOutputs(set);
    if (!inputs || !expected)
      return {result.name, result.op, Outcome::Failed,
              "cannot read test data"};
    std::vector<Tensor> free;
    for (Tensor &t : *inputs) {
      bool isBound = false;
      for (const Tensor &b : options.boundInputs)
        if (b.name == t.name) {
          isBound = true;
          if (b.data != t.data)
            return {result.name, result.op, Outcome::Failed,
                    "bound input '" + t.name + "' differs between data sets"};
        }
      if (!isBound)
        free.push_back(std::move(t));
    }
    auto outputs = compiler.run(*module, std::move(free));
    if (!outputs)
      return {result.name, result.op, Outcome::Failed,
              "run: " + firstError(outputs.status())};
    if (outputs->size() != expected->size())
      return {result.name, result.op, Outcome::Failed,
              "produced " + std::to_string(outputs->size()) +
                  " outputs, expected " + std::to_string(expected->size())};
    for (size_t i = 0; i < outputs->size(); ++i) {
      std::string mismatch = compare((*outputs)[i], (*expected)[i]);
      if (!mismatch.empty())
        return {result.name, result.op, Outcome::Failed,
                set.filename().string() + " output " + std::to_string(i) +
                    ": " + mismatch};
    }
  }
  return {result.name, result.op,
          bound ? Outcome::PassedBound : Outcome::Passed, ""};
}

/// Returns every ONNX op name known to the schema table of the importer.
std::vector<std::string> knownOps() {
  std::vector<std::string> ops;
#define KILN_ONNX_DOMAIN(domain, newest)
#define KILN_ONNX_SCHEMA(domain, name, ...) ops.push_back(name);
#include "compiler/frontend/OnnxSchemas.inc"
#undef KILN_ONNX_DOMAIN
#undef KILN_ONNX_SCHEMA
  return ops;
}

} // namespace

int main(int argc, char **argv) {
  if (argc < 2) {
    std::cerr << "usage: kiln-node-tests NODE_DIR [--report FILE] "
                 "[--filter SUBSTR] [--min-passed N] [--verbose]\n";
    return 2;
  }
  fs::path root = argv[1];
  std::string report, filter;
  long minPassed = 0;
  bool verbose = false;
  for (int i = 2; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--report" && i + 1 < argc)
      report = argv[++i];
    else if (arg == "--filter" && i + 1 < argc)
      filter = argv[++i];
    else if (arg == "--min-passed" && i + 1 < argc)
      minPassed = std::stol(argv[++i]);
    else if (arg == "--verbose")
      verbose = true;
    else {
      std::cerr << "kiln-node-tests: unknown argument '" << arg << "'\n";
      return 2;
    }
  }
  if (!fs::is_directory(root)) {
    std::cerr << "kiln-node-tests: " << root << " is not a folder\n";
    return 2;
  }
  std::vector<fs::path> tests;
  for (const auto &entry : fs::directory_iterator(root))
    if (entry.is_directory() &&
        entry.path().filename().string().find(filter) != std::string::npos)
      tests.push_back(entry.path());
  std::sort(tests.begin(), tests.end());

  std::vector<std::string> ops = knownOps();
  auto start = std::chrono::steady_clock::now();
  std::vector<TestResult> results;
  for (const fs::path &test : tests) {
    results.push_back(runTest(test, ops));
    const TestResult &r = results.back();
    if (r.outcome == Outcome::Failed)
      std::cout << "FAIL " << r.name << ": " << r.reason << "\n";
    else if (verbose)
      std::cout << (r.outcome == Outcome::Skipped ? "SKIP " : "PASS ")
                << r.name << (r.reason.empty() ? "" : ": " + r.reason)
                << "\n";
  }
  double seconds = std::chrono::duration<double>(
                       std::chrono::steady_clock::now() - start)
                       .count();

  struct Counts {
    int passed = 0, bound = 0, failed = 0, skipped = 0;
    std::string skipReason;
  };
  std::map<std::string, Counts> perOp;
  Counts total;
  for (const TestResult &r : results) {
    Counts &c = perOp[r.op];
    for (Counts *k : {&c, &total}) {
      switch (r.outcome) {
      case Outcome::Passed:
        ++k->passed;
        break;
      case Outcome::PassedBound:
        ++k->passed;
        ++k->bound;
        break;
      case Outcome::Failed:
        ++k->failed;
        break;
      case Outcome::Skipped:
        ++k->skipped;
        if (k->skipReason.empty())
          k->skipReason = r.reason;
        break;
      }
    }
  }
  std::cout << total.passed << " passed (" << total.bound
            << " with shape inputs bound as constants), " << total.failed
            << " failed, " << total.skipped << " skipped, of "
            << results.size() << " ONNX node tests in " << std::fixed;
  std::cout.precision(1);
  std::cout << seconds << " s\n";

  if (!report.empty()) {
    std::ofstream out(report);
    std::time_t now = std::time(nullptr);
    char date[32];
    std::strftime(date, sizeof(date), "%Y-%m-%d", std::gmtime(&now));
    out << "# ONNX backend node tests through Kiln\n\n"
        << "Generated by `kiln-node-tests` (ctest `conformance.node-tests`) "
        << "on " << date << " from the node tests of onnx "
        << KILN_ONNX_PACKAGE_VERSION << ".\n\n"
        << "**" << total.passed << " passed** (" << total.bound
        << " with shape-like inputs bound as constants), **" << total.failed
        << " failed**, " << total.skipped << " skipped (rejected with an "
        << "'unsupported' error), of " << results.size() << " tests.\n\n"
        << "| op | passed | failed | skipped | first skip reason |\n"
        << "| --- | ---: | ---: | ---: | --- |\n";
    for (const auto &[op, c] : perOp) {
      std::string reason = c.skipReason;
      std::replace(reason.begin(), reason.end(), '|', '/');
      if (reason.size() > 110)
        reason = reason.substr(0, 107) + "...";
      out << "| " << op << " | " << c.passed << " | " << c.failed << " | "
          << c.skipped << " | " << reason << " |\n";
    }
    std::cout << "wrote " << report << "\n";
  }
  if (total.failed > 0)
    return 1;
  if (total.passed < minPassed) {
    std::cout << "FAIL: " << total.passed << " passed, fewer than the "
              << minPassed << " required\n";
    return 1;
  }
  return 0;
}
