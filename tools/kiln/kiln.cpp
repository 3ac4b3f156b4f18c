//===- kiln.cpp - The kiln command line tool --------------------*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// `kiln import | compile | run | inspect`: a thin client of the compiler
// library (kiln/Compiler.h). It turns flags into CompileOptions, calls the
// library, prints the returned diagnostics to stderr and exits non-zero on
// failure. No compiler logic lives here.
//
//===----------------------------------------------------------------------===//

#include "kiln/Compiler.h"

#include "llvm/Support/CommandLine.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include <chrono>
#include <cstdio>
#include <map>

using namespace llvm;

namespace {

cl::SubCommand importCmd("import", "Import an ONNX model and print Kiln IR");
cl::SubCommand compileCmd("compile",
                          "Compile a model into a deployable program");
cl::SubCommand runCmd("run",
                      "Run a model on inputs with the reference evaluator");
cl::SubCommand inspectCmd("inspect",
                          "Print a model's inputs, outputs and operators");

cl::OptionCategory pipelineCat("Pipeline options");

cl::opt<std::string> modelPath(cl::Positional, cl::desc("<MODEL>"),
                               cl::Required, cl::sub(importCmd),
                               cl::sub(compileCmd), cl::sub(runCmd),
                               cl::sub(inspectCmd));

cl::opt<std::string> outputPath(
    "o", cl::desc("Output: a .mlir file for import ('-' for stdout, the "
                  "default), the output folder for compile"),
    cl::value_desc("PATH"), cl::sub(importCmd), cl::sub(compileCmd));

cl::list<std::string>
    inputShapes("input-shape",
                cl::desc("Fix the shape of an input with dynamic dimensions "
                         "(repeatable), e.g. --input-shape input=1x3x224x224"),
                cl::value_desc("NAME=D0xD1x..."), cl::cat(pipelineCat),
                cl::sub(importCmd), cl::sub(compileCmd), cl::sub(runCmd),
                cl::sub(inspectCmd));

cl::list<std::string>
    bindPaths("bind",
              cl::desc("Bind model inputs to fixed values: every tensor of "
                       "DATA (a .npz, a .npy, a folder of .npy, or a "
                       "test_data_set_N folder) whose name is a model input "
                       "becomes a constant, e.g. a Reshape target that the "
                       "model leaves to run time (repeatable)"),
              cl::value_desc("DATA"), cl::cat(pipelineCat),
              cl::sub(importCmd), cl::sub(compileCmd), cl::sub(runCmd),
              cl::sub(inspectCmd));

cl::opt<std::string> target("target",
                            cl::desc("Target: host, cortex-m4, cortex-m7, "
                                     "cortex-m55, cuda-sm80, cuda-sm90"),
                            cl::value_desc("T"), cl::init("host"),
                            cl::cat(pipelineCat), cl::sub(compileCmd),
                            cl::sub(runCmd));

cl::opt<std::string> quantize(
    "quantize",
    cl::desc("Quantization scheme: none, fp16, int8 (needs --calibration "
             "unless the model is a QDQ model), or a low-bit transformer "
             "scheme: w8a8, w8a8-smooth, w4a16, w4a4, w4a4-smooth, "
             "w4a4-svd, w4a8, nvfp4, nvfp4-4over6 (the smoothing schemes "
             "and --kv-bits 4 need --calibration; C targets compile int8 "
             "only)"),
                              cl::value_desc("SCHEME"), cl::init("none"),
                              cl::cat(pipelineCat), cl::sub(compileCmd),
                              cl::sub(runCmd));

cl::opt<std::string>
    calibration("calibration",
                cl::desc("Calibration data: a .npz, a folder of .npy, or an "
                         "ONNX test_data_set_N folder"),
                cl::value_desc("DATA"), cl::cat(pipelineCat),
                cl::sub(compileCmd), cl::sub(runCmd));

cl::opt<std::string> observer("observer",
                              cl::desc("Activation range observer: minmax, "
                                       "percentile, mse"),
                              cl::init("minmax"), cl::cat(pipelineCat),
                              cl::sub(compileCmd), cl::sub(runCmd));

cl::opt<std::string> smoothAlpha(
    "smooth-alpha",
    cl::desc("Smoothing alpha of w8a8-smooth, w4a4-smooth, w4a4-svd and "
             "w4a8: auto (searched per layer) or a number in [0, 1]"),
    cl::value_desc("auto|A"), cl::init("auto"), cl::cat(pipelineCat),
    cl::sub(compileCmd), cl::sub(runCmd));

cl::opt<int64_t> lowRank("rank",
                         cl::desc("Rank of SVDQuant's low-rank branch "
                                  "(w4a4-svd)"),
                         cl::init(32), cl::cat(pipelineCat),
                         cl::sub(compileCmd), cl::sub(runCmd));

cl::opt<int64_t> kvBits("kv-bits",
                        cl::desc("KV-cache bits of the attentions: 16 "
                                 "(float), 8, or 4 (with SmoothAttention)"),
                        cl::init(16), cl::cat(pipelineCat),
                        cl::sub(compileCmd), cl::sub(runCmd));

cl::opt<std::string> fp4Error("fp4-error",
                              cl::desc("Block error that nvfp4-4over6 "
                                       "minimizes: mse or mae"),
                              cl::init("mse"), cl::cat(pipelineCat),
                              cl::sub(compileCmd), cl::sub(runCmd));

cl::opt<std::string>
    quantReport("quant-report",
                cl::desc("Write a JSON report of the low-bit layers (alpha, "
                         "weight bits, layer SQNR on the calibration data)"),
                cl::value_desc("PATH"), cl::cat(pipelineCat),
                cl::sub(compileCmd), cl::sub(runCmd));

cl::opt<std::string> inputsPath("inputs",
                                cl::desc("Input data: a .npz, a folder of "
                                         ".npy, or a test_data_set_N folder"),
                                cl::value_desc("DATA"), cl::Required,
                                cl::sub(runCmd));

cl::opt<std::string> memoryPlanner(
    "memory-planner",
    cl::desc("Arena planner: default, or greedy (TF Lite Micro's baseline)"),
    cl::init("default"), cl::cat(pipelineCat), cl::sub(compileCmd));

cl::opt<int> patch(
    "patch",
    cl::desc("Run the first, memory-heavy stage in N x N patches (MCUNetV2) "
             "when that shrinks the arena; 0: off (default)"),
    cl::value_desc("N"), cl::init(0), cl::cat(pipelineCat),
    cl::sub(compileCmd));

cl::opt<bool> writeReport("report",
                          cl::desc("Write memory.md and memory.svg (peak "
                                   "SRAM, per-op live bytes, arena timeline)"),
                          cl::sub(compileCmd));

cl::opt<std::string>
    harness("harness",
            cl::desc("Emit main.c running the model on DATA and printing "
                     "each output as '<name>: v0 v1 ...' (make run)"),
            cl::value_desc("DATA"), cl::sub(compileCmd));

cl::opt<std::string> modelName("model-name",
                               cl::desc("Name in generated symbols "
                                        "(kiln_<name>_run)"),
                               cl::sub(compileCmd));

cl::opt<bool> rawOutputs("raw",
                         cl::desc("Write the int8 values of quantized "
                                  "outputs instead of dequantized floats"),
                         cl::sub(runCmd));

cl::opt<double> percentile("percentile",
                           cl::desc("Percentile of the percentile observer"),
                           cl::init(99.99), cl::cat(pipelineCat),
                           cl::sub(compileCmd), cl::sub(runCmd));

cl::opt<bool> timing("timing",
                     cl::desc("Print the time of each phase (import, "
                              "pipeline, evaluation) to stderr"),
                     cl::cat(pipelineCat), cl::sub(runCmd));

cl::opt<std::string> dumpActivations(
    "dump-activations",
    cl::desc("Also write every intermediate value to OUT.npz (keyed by node "
             "name; a repeated name gets '#1', '#2', ...; samples stacked "
             "along the first axis; int8 values dequantized unless --raw; "
             "NHWC int8 values transposed back to the model's NCHW) and "
             "describe each in OUT.json (op, element type, scale, zero "
             "point, layout)"),
    cl::value_desc("OUT.npz"), cl::sub(runCmd));

cl::opt<std::string> outputsPath("outputs",
                                 cl::desc("Where to write the outputs (.npz)"),
                                 cl::value_desc("OUT.npz"), cl::Required,
                                 cl::sub(runCmd));

/// Prints every diagnostic of |status| to stderr, prefixed with "kiln: ".
void printDiagnostics(const kiln::Status &status) {
  for (const kiln::Diagnostic &diag : status.diagnostics())
    errs() << "kiln: " << diag.str() << "\n";
}

/// Fills CompileOptions from the flags; prints errors and returns false when
/// a flag value is malformed.
bool buildOptions(kiln::CompileOptions &options) {
  kiln::Status status;
  for (const std::string &text : inputShapes) {
    kiln::InputShape shape;
    status.append(kiln::parseInputShape(text, shape));
    options.inputShapes.push_back(shape);
  }
  for (const std::string &path : bindPaths) {
    auto tensors = kiln::loadTensors(path);
    status.append(tensors.status());
    if (!tensors)
      continue;
    for (kiln::Tensor &tensor : *tensors) {
      if (tensor.name.empty()) {
        status.add({kiln::Severity::Error, path,
                    "--bind needs named tensors (the name says which model "
                    "input each one binds)",
                    {}});
        break;
      }
      options.boundInputs.push_back(std::move(tensor));
    }
  }
  options.target = target;
  options.quantize = quantize;
  options.calibrationPath = calibration;
  options.observer = observer;
  options.percentile = percentile;
  options.smoothAlpha = smoothAlpha;
  options.rank = lowRank;
  options.kvBits = kvBits;
  options.fp4Error = fp4Error;
  options.quantReport = quantReport;
  if (status.succeeded())
    status.append(kiln::validate(options));
  printDiagnostics(status);
  return status.succeeded();
}

int runImport() {
  kiln::CompileOptions options;
  if (!buildOptions(options))
    return 1;
  kiln::Compiler compiler;
  auto module = compiler.loadModel(modelPath, options);
  printDiagnostics(module.status());
  if (!module)
    return 1;
  if (outputPath.empty() || outputPath == "-") {
    outs() << module->toText();
    return 0;
  }
  kiln::Status status = module->writeText(outputPath);
  printDiagnostics(status);
  return status.succeeded() ? 0 : 1;
}

int runCompile() {
  kiln::CompileOptions options;
  if (!buildOptions(options))
    return 1;
  if (outputPath.empty()) {
    errs() << "kiln: error: compile needs an output folder (-o OUTDIR)\n";
    return 1;
  }
  options.outputDir = outputPath;
  options.memoryPlanner = memoryPlanner;
  options.patch = patch;
  options.report = writeReport;
  options.harnessPath = harness;
  options.modelName = modelName;
  if (kiln::Status status = kiln::validate(options); status.failed()) {
    printDiagnostics(status);
    return 1;
  }
  kiln::Compiler compiler;
  auto output = compiler.compile(modelPath, options);
  printDiagnostics(output.status());
  if (!output)
    return 1;
  for (const std::string &file : output->files)
    outs() << options.outputDir << "/" << file << "\n";
  return 0;
}

/// Collects the activations of `kiln run --dump-activations` and writes them.
class ActivationDump {
public:
  /// Adds one activation (called in execution order, sample by sample).
  void add(const kiln::Activation &activation) {
    if (activation.sample != sample) {
      sample = activation.sample;
      seen.clear();
    }
    int count = seen[activation.name]++;
    std::string key = activation.name;
    if (count > 0)
      key += "#" + std::to_string(count);
    auto [it, inserted] = index.try_emplace(key, tensors.size());
    if (inserted) {
      tensors.push_back(activation.tensor);
      tensors.back().name = key;
      llvm::json::Object entry{{"key", key},
                               {"name", activation.name},
                               {"op", activation.op},
                               {"element_type", activation.elementType},
                               {"layout", activation.layout}};
      if (activation.quantized) {
        entry["scale"] = activation.scale;
        entry["zero_point"] = activation.zeroPoint;
      }
      manifest.push_back(std::move(entry));
      return;
    }
    // Later samples stack along the first axis, like `run`'s outputs.
    kiln::Tensor &acc = tensors[it->second];
    const kiln::Tensor &next = activation.tensor;
    if (acc.shape.empty())
      acc.shape = {1};
    acc.shape[0] += next.shape.empty() ? 1 : next.shape[0];
    acc.data.insert(acc.data.end(), next.data.begin(), next.data.end());
  }

  /// Writes |path| (.npz) and the manifest next to it (.json).
  kiln::Status write(const std::string &path) const {
    kiln::Status status = kiln::saveNpz(path, tensors);
    if (status.failed())
      return status;
    llvm::SmallString<256> jsonPath(path);
    llvm::sys::path::replace_extension(jsonPath, "json");
    std::error_code error;
    llvm::raw_fd_ostream os(jsonPath, error);
    if (error)
      return kiln::Status::error("cannot write '" + jsonPath.str().str() +
                                 "': " + error.message());
    os << llvm::formatv("{0:2}",
                        llvm::json::Value(llvm::json::Object{
                            {"activations", llvm::json::Array(manifest)}}))
       << "\n";
    return kiln::Status::ok();
  }

  size_t size() const { return tensors.size(); }

private:
  int64_t sample = -1;
  std::map<std::string, int> seen;
  std::map<std::string, size_t> index;
  std::vector<kiln::Tensor> tensors;
  std::vector<llvm::json::Value> manifest;
};

/// Returns "1x3x224x224" (or "scalar").
std::string formatDims(const std::vector<int64_t> &dims) {
  if (dims.empty())
    return "scalar";
  std::string text;
  for (int64_t d : dims)
    text += (text.empty() ? "" : "x") + std::to_string(d);
  return text;
}

/// Seconds since |start|, for --timing.
double secondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() -
                                       start)
      .count();
}

int runRun() {
  kiln::CompileOptions options;
  if (!buildOptions(options))
    return 1;
  auto start = std::chrono::steady_clock::now();
  kiln::Compiler compiler;
  auto module = compiler.loadModel(modelPath, options);
  printDiagnostics(module.status());
  if (!module)
    return 1;
  double importSeconds = secondsSince(start);
  start = std::chrono::steady_clock::now();
  kiln::Status status = compiler.runPipeline(*module, options);
  printDiagnostics(status);
  if (status.failed())
    return 1;
  double pipelineSeconds = secondsSince(start);
  start = std::chrono::steady_clock::now();
  auto inputs = kiln::loadTensors(inputsPath);
  printDiagnostics(inputs.status());
  if (!inputs)
    return 1;
  // Bound inputs are constants now: drop them from the run's inputs, so the
  // same data file can serve --bind and --inputs.
  std::vector<kiln::Tensor> free;
  for (kiln::Tensor &tensor : *inputs) {
    bool bound = false;
    for (const kiln::Tensor &b : options.boundInputs)
      bound = bound || (!tensor.name.empty() && b.name == tensor.name);
    if (!bound)
      free.push_back(std::move(tensor));
  }
  double inputSeconds = secondsSince(start);
  start = std::chrono::steady_clock::now();
  ActivationDump dump;
  kiln::ActivationCallback onActivation;
  if (!dumpActivations.empty())
    onActivation = [&](const kiln::Activation &a) { dump.add(a); };
  auto outputs =
      compiler.run(*module, std::move(free), rawOutputs, onActivation);
  printDiagnostics(outputs.status());
  if (!outputs)
    return 1;
  double evalSeconds = secondsSince(start);
  if (timing)
    errs() << llvm::format("kiln: timing: import %.3f s, pipeline %.3f s, "
                           "inputs %.3f s, evaluation %.3f s\n",
                           importSeconds, pipelineSeconds, inputSeconds,
                           evalSeconds);
  if (!dumpActivations.empty()) {
    kiln::Status written = dump.write(dumpActivations);
    printDiagnostics(written);
    if (written.failed())
      return 1;
    outs() << "wrote " << dump.size() << " activation(s) to "
           << dumpActivations << "\n";
  }
  kiln::Status saved = kiln::saveNpz(outputsPath, *outputs);
  printDiagnostics(saved);
  if (saved.failed())
    return 1;
  for (const kiln::Tensor &output : *outputs)
    outs() << output.name << ": " << output.describe() << "\n";
  outs() << "wrote " << outputs->size() << " output(s) to " << outputsPath
         << "\n";
  return 0;
}

int runInspect() {
  kiln::CompileOptions options;
  if (!buildOptions(options))
    return 1;
  kiln::Compiler compiler;
  auto module = compiler.loadModel(modelPath, options);
  printDiagnostics(module.status());
  if (!module)
    return 1;
  auto info = compiler.inspect(*module);
  printDiagnostics(info.status());
  if (!info)
    return 1;
  outs() << "model: " << modelPath << "\n";
  for (const kiln::PortInfo &port : info->inputs)
    outs() << "input  " << port.name << ": " << port.elementType << "["
           << formatDims(port.shape) << "]\n";
  for (const kiln::PortInfo &port : info->outputs)
    outs() << "output " << port.name << ": " << port.elementType << "["
           << formatDims(port.shape) << "]\n";
  outs() << "constants: " << info->constants << " (" << info->constantBytes
         << " bytes)\n";
  int64_t total = 0;
  for (const auto &[name, count] : info->opCounts)
    total += count;
  outs() << "ops: " << total << "\n";
  for (const auto &[name, count] : info->opCounts)
    outs() << "  " << name << ": " << count << "\n";
  return 0;
}

} // namespace

int main(int argc, char **argv) {
  InitLLVM initLLVM(argc, argv);
  cl::SetVersionPrinter([](raw_ostream &os) {
    os << "kiln " << kiln::version() << " (MLIR " << kiln::mlirVersion()
       << ")\n";
  });
  cl::HideUnrelatedOptions({&pipelineCat, &cl::getGeneralCategory()});
  if (!cl::ParseCommandLineOptions(
          argc, argv,
          "Kiln: an ahead-of-time compiler from ONNX to C99 and CUDA\n\n"
          "  kiln import MODEL.onnx [-o out.mlir] [--bind DATA]\n"
          "  kiln compile MODEL --target T [--quantize S] [--calibration "
          "DATA] -o OUTDIR\n"
          "  kiln run MODEL --inputs DATA --outputs OUT.npz\n"
          "  kiln inspect MODEL\n\n"
          "Run 'kiln <command> --help' for the options of a command.\n",
          &errs()))
    return 1;
  if (importCmd)
    return runImport();
  if (compileCmd)
    return runCompile();
  if (runCmd)
    return runRun();
  if (inspectCmd)
    return runInspect();
  errs() << "kiln: error: no command given (expected import, compile, run or "
            "inspect; see 'kiln --help')\n";
  return 1;
}
