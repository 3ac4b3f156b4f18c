//===- Compiler.cpp - The Kiln compiler API ---------------------*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// Implements kiln::Compiler and kiln::Module: loading a model (ONNX or Kiln
// IR), running the pipeline, emitting the target program. Every step routes
// MLIR diagnostics into the returned Status.
//
//===----------------------------------------------------------------------===//

#include "kiln/Compiler.h"
#include "kiln/Pipeline.h"

#include "compiler/api/ModuleImpl.h"
#include "codegen/c/CEmitter.h"
#include "compiler/evaluator/Evaluator.h"
#include "compiler/evaluator/Samples.h"
#include "compiler/frontend/OnnxImporter.h"
#include "compiler/support/DiagnosticCapture.h"
#include "compiler/support/TensorAttr.h"
#include "dialects/kiln/KilnOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinAttributes.h"
#include <map>

#include "mlir/IR/Verifier.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/Config/llvm-config.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/raw_ostream.h"

#include "compiler/KilnVersion.h"

namespace kiln {

//===----------------------------------------------------------------------===//
// Module
//===----------------------------------------------------------------------===//

Module::Module(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Module::Module(Module &&) noexcept = default;
Module &Module::operator=(Module &&) noexcept = default;
Module::~Module() = default;

std::string Module::toText() const {
  std::string text;
  llvm::raw_string_ostream os(text);
  impl_->module->print(os);
  return text;
}

Status Module::writeText(const std::string &path) const {
  std::error_code error;
  llvm::raw_fd_ostream os(path, error);
  if (error)
    return Status::error("cannot write '" + path + "': " + error.message());
  impl_->module->print(os);
  return Status::ok();
}

mlir::ModuleOp getModuleOp(Module &module) {
  return *module.impl().module;
}

//===----------------------------------------------------------------------===//
// Compiler
//===----------------------------------------------------------------------===//

struct Compiler::Impl {
  std::shared_ptr<mlir::MLIRContext> context;
};

Compiler::Compiler() : impl_(std::make_unique<Impl>()) {
  mlir::DialectRegistry registry;
  registerKilnDialects(registry);
  impl_->context = std::make_shared<mlir::MLIRContext>(registry);
  impl_->context->loadAllAvailableDialects();
  // Diagnostics are returned to the caller, never printed: do not attach
  // the op to error messages (the location already says where).
  impl_->context->printOpOnDiagnostic(false);
}

Compiler::~Compiler() = default;

Result<Module> Compiler::parseModule(const std::string &text,
                                     const std::string &bufferName) {
  Status status;
  DiagnosticCapture capture(impl_->context.get(), status);
  llvm::SourceMgr sourceMgr;
  sourceMgr.AddNewSourceBuffer(
      llvm::MemoryBuffer::getMemBufferCopy(text, bufferName), llvm::SMLoc());
  mlir::ParserConfig config(impl_->context.get());
  auto module = mlir::parseSourceFile<mlir::ModuleOp>(sourceMgr, config);
  if (!module)
    return status;
  auto impl = std::make_unique<Module::Impl>();
  impl->context = impl_->context;
  impl->module = std::move(module);
  impl->sourcePath = bufferName;
  return Result<Module>(Module(std::move(impl)), status);
}

Result<Module> Compiler::loadModel(const std::string &path,
                                   const CompileOptions &options) {
  Status status = validate(options);
  if (status.failed())
    return status;
  if (!llvm::sys::fs::exists(path))
    return Status::error("no such file", path);
  if (llvm::sys::fs::is_directory(path))
    return Status::error("expected a model file, got a directory", path);
  llvm::StringRef extension = llvm::sys::path::extension(path);
  if (extension == ".mlir") {
    auto buffer = llvm::MemoryBuffer::getFile(path);
    if (!buffer)
      return Status::error("cannot read: " + buffer.getError().message(),
                           path);
    return parseModule((*buffer)->getBuffer().str(), path);
  }
  if (extension == ".onnx") {
    auto module = frontend::importOnnxFile(impl_->context.get(), path,
                                           options, status);
    if (!module)
      return status;
    auto impl = std::make_unique<Module::Impl>();
    impl->context = impl_->context;
    impl->module = std::move(module);
    impl->sourcePath = path;
    return Result<Module>(Module(std::move(impl)), status);
  }
  return Status::error("unknown model format '" + extension.str() +
                           "' (expected .onnx or .mlir)",
                       path);
}

Status Compiler::runPipeline(Module &module, const CompileOptions &options) {
  Status status = validate(options);
  if (status.failed())
    return status;
  if (isLowBitScheme(options.quantize) && needsCalibration(options) &&
      options.calibrationPath.empty())
    return Status::error("--quantize " + options.quantize +
                             (options.kvBits == 4 ? " with --kv-bits 4" : "") +
                             " needs calibration data (--calibration DATA) "
                             "for its smoothing and key scales",
                         "--calibration");
  if (options.quantize == "int8" && options.calibrationPath.empty()) {
    // Without data, only a QDQ model carries its own quantization.
    bool hasQdq = false;
    getModuleOp(module).walk(
        [&](mlir::kiln::QuantizeLinearOp) { hasQdq = true; });
    if (!hasQdq)
      return Status::error("--quantize int8 needs calibration data "
                           "(--calibration DATA) unless the model is an "
                           "ONNX QDQ model",
                           "--calibration");
  }
  DiagnosticCapture capture(impl_->context.get(), status);
  mlir::PassManager pm(impl_->context.get());
  buildKilnPipeline(pm, options);
  if (mlir::failed(pm.run(getModuleOp(module))))
    status.setFailed();
  return status;
}

Result<CompileOutput> Compiler::emit(Module &module,
                                     const CompileOptions &options) {
  Status status = validate(options);
  if (status.failed())
    return status;
  if (options.outputDir.empty())
    return Status::error("no output folder given (use -o OUTDIR)");
  if (Status supported = checkTargetSupportsScheme(options); !supported)
    return supported;
  if (options.target.rfind("cuda-", 0) == 0)
    return Status::error("not yet supported: CUDA code generation for "
                         "target '" + options.target + "'");
  if (options.quantize != "int8")
    return Status::error("target '" + options.target +
                             "' emits int8 C code: compile with --quantize "
                             "int8 (and --calibration DATA)",
                         "--quantize");
  DiagnosticCapture capture(impl_->context.get(), status);
  if (auto error = llvm::sys::fs::create_directories(options.outputDir))
    return Status::error("cannot create the output folder: " +
                             error.message(),
                         options.outputDir);
  mlir::PassManager pm(impl_->context.get());
  buildKilnCodegenPipeline(pm, options);
  if (mlir::failed(pm.run(getModuleOp(module)))) {
    status.setFailed();
    return status;
  }
  mlir::func::FuncOp func = getEntryFunction(getModuleOp(module));
  if (!func)
    return Status::error("the module has no entry function");
  codegen::CEmitOptions emit;
  emit.target = options.target;
  emit.outputDir = options.outputDir;
  std::string name = options.modelName;
  if (name.empty())
    name = llvm::sys::path::stem(module.impl().sourcePath).str();
  emit.modelName = codegen::sanitizeIdentifier(name);
  if (!options.harnessPath.empty()) {
    auto data = loadTensors(options.harnessPath);
    if (!data)
      return data.status();
    auto samples = splitSamples(func, *data, /*limit=*/16);
    if (!samples)
      return Status::error(samples.status().diagnostics().front().message,
                           options.harnessPath);
    emit.harnessSamples = samples.take();
  }
  auto files = codegen::emitCProgram(func, emit);
  status.append(files.status());
  if (!files)
    return status;
  CompileOutput output;
  output.files = files.take();
  if (options.report) {
    output.files.push_back("memory.md");
    output.files.push_back("memory.svg");
  }
  return Result<CompileOutput>(std::move(output), status);
}

/// Runs |func| once on |inputs|, replacing outputs that a quantized module
/// dequantizes by their int8 values when |raw|.
static Result<std::vector<Tensor>> runOnce(mlir::func::FuncOp func,
                                           std::vector<Tensor> inputs,
                                           bool raw) {
  std::map<unsigned, mlir::Value> rawSources;
  if (raw) {
    auto ret = llvm::cast<mlir::func::ReturnOp>(
        func.getBody().front().getTerminator());
    for (auto [i, operand] : llvm::enumerate(ret.getOperands()))
      if (auto dq = operand.getDefiningOp<mlir::kiln::DequantizeOp>())
        rawSources[i] = dq.getInput();
  }
  std::map<unsigned, Tensor> rawValues;
  ValueObserver observer;
  if (!rawSources.empty())
    observer = [&](mlir::Value value, const Tensor &tensor) {
      for (auto &[i, source] : rawSources)
        if (source == value)
          rawValues[i] = tensor;
    };
  auto outputs = evaluateFunction(func, std::move(inputs), observer);
  if (!outputs)
    return outputs.status();
  for (auto &[i, tensor] : rawValues) {
    std::string name = (*outputs)[i].name;
    (*outputs)[i] = tensor;
    (*outputs)[i].name = name;
  }
  return outputs;
}

/// Returns true when |inputs| match |func|'s arguments one to one.
static bool matchesSignature(mlir::func::FuncOp func,
                             const std::vector<Tensor> &inputs) {
  if (inputs.size() != func.getNumArguments())
    return false;
  for (auto [arg, input] : llvm::zip(func.getArguments(), inputs)) {
    auto type = llvm::cast<mlir::RankedTensorType>(arg.getType());
    if (llvm::ArrayRef<int64_t>(input.shape) != type.getShape())
      return false;
  }
  return true;
}

Result<std::vector<Tensor>> Compiler::run(Module &module,
                                          std::vector<Tensor> inputs,
                                          bool raw) {
  Status status;
  DiagnosticCapture capture(impl_->context.get(), status);
  mlir::func::FuncOp func = getEntryFunction(getModuleOp(module));
  if (!func)
    return Status::error("the module has no entry function (expected "
                         "func.func @main)");
  if (matchesSignature(func, inputs)) {
    auto outputs = runOnce(func, std::move(inputs), raw);
    status.append(outputs.status());
    if (!outputs)
      return status;
    return Result<std::vector<Tensor>>(outputs.take(), status);
  }
  // Arrays that stack several samples: run each, stack the outputs along
  // the first axis.
  auto samples = splitSamples(func, inputs);
  if (!samples) {
    // Report the mismatch of the first input the way a single run would.
    auto outputs = runOnce(func, std::move(inputs), raw);
    status.append(outputs.status());
    if (outputs)
      return Result<std::vector<Tensor>>(outputs.take(), status);
    return status;
  }
  std::vector<Tensor> stacked;
  for (auto &sample : *samples) {
    auto outputs = runOnce(func, std::move(sample), raw);
    status.append(outputs.status());
    if (!outputs)
      return status;
    if (stacked.empty()) {
      stacked = outputs.take();
      continue;
    }
    for (size_t i = 0; i < stacked.size(); ++i) {
      Tensor &acc = stacked[i];
      const Tensor &next = (*outputs)[i];
      if (acc.shape.empty())
        acc.shape = {1};
      acc.shape[0] += next.shape.empty() ? 1 : next.shape[0];
      acc.data.insert(acc.data.end(), next.data.begin(), next.data.end());
    }
  }
  return Result<std::vector<Tensor>>(std::move(stacked), status);
}

/// Describes one function argument or result for `inspect`.
static PortInfo describePort(mlir::Type type, mlir::StringAttr name,
                             const std::string &fallback) {
  PortInfo port;
  port.name = name ? name.getValue().str() : fallback;
  if (auto tensor = llvm::dyn_cast<mlir::RankedTensorType>(type)) {
    llvm::raw_string_ostream os(port.elementType);
    tensor.getElementType().print(os);
    port.shape.assign(tensor.getShape().begin(), tensor.getShape().end());
  }
  return port;
}

Result<ModelInfo> Compiler::inspect(Module &module) {
  mlir::func::FuncOp func = getEntryFunction(getModuleOp(module));
  if (!func)
    return Status::error("the module has no entry function (expected "
                         "func.func @main)");
  ModelInfo info;
  mlir::FunctionType type = func.getFunctionType();
  for (unsigned i = 0; i < type.getNumInputs(); ++i)
    info.inputs.push_back(describePort(
        type.getInput(i),
        func.getArgAttrOfType<mlir::StringAttr>(i, "kiln.name"),
        "input_" + std::to_string(i)));
  for (unsigned i = 0; i < type.getNumResults(); ++i)
    info.outputs.push_back(describePort(
        type.getResult(i),
        func.getResultAttrOfType<mlir::StringAttr>(i, "kiln.name"),
        "output_" + std::to_string(i)));
  std::map<std::string, int64_t> counts;
  func.walk([&](mlir::Operation *op) {
    if (op == func.getOperation())
      return;
    std::string name = op->getName().getStringRef().str();
    if (name == "kiln.constant") {
      ++info.constants;
      auto tensor = llvm::cast<mlir::RankedTensorType>(
          op->getResult(0).getType());
      std::optional<DType> dtype = fromMlirType(tensor.getElementType());
      info.constantBytes +=
          tensor.getNumElements() * (dtype ? dtypeSize(*dtype) : 4);
      return;
    }
    ++counts[name];
  });
  info.opCounts.assign(counts.begin(), counts.end());
  return info;
}

Result<CompileOutput> Compiler::compile(const std::string &modelPath,
                                        const CompileOptions &options) {
  // Fail before calibration when the target cannot run the scheme.
  if (Status supported = checkTargetSupportsScheme(options); !supported)
    return supported;
  auto module = loadModel(modelPath, options);
  if (!module)
    return module.status();
  Status status = module.status();
  status.append(runPipeline(*module, options));
  if (status.failed())
    return status;
  auto output = emit(*module, options);
  status.append(output.status());
  if (!output)
    return status;
  return Result<CompileOutput>(output.take(), status);
}

const char *version() { return KILN_VERSION_STRING; }
const char *mlirVersion() { return LLVM_VERSION_STRING; }

} // namespace kiln
