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
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdio>

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

/// Returns "1x3x224x224" (or "scalar").
std::string formatDims(const std::vector<int64_t> &dims) {
  if (dims.empty())
    return "scalar";
  std::string text;
  for (int64_t d : dims)
    text += (text.empty() ? "" : "x") + std::to_string(d);
  return text;
}

int runRun() {
  kiln::CompileOptions options;
  if (!buildOptions(options))
    return 1;
  kiln::Compiler compiler;
  auto module = compiler.loadModel(modelPath, options);
  printDiagnostics(module.status());
  if (!module)
    return 1;
  kiln::Status status = compiler.runPipeline(*module, options);
  printDiagnostics(status);
  if (status.failed())
    return 1;
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
  auto outputs = compiler.run(*module, std::move(free), rawOutputs);
  printDiagnostics(outputs.status());
  if (!outputs)
    return 1;
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
