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
#include "codegen/cuda/CudaEmitter.h"
#include "compiler/evaluator/Evaluator.h"
#include "compiler/evaluator/Samples.h"
#include "compiler/frontend/OnnxImporter.h"
#include "compiler/support/DiagnosticCapture.h"
#include "compiler/support/QuantParams.h"
#include "compiler/support/TensorAttr.h"
#include "dialects/kiln/KilnOps.h"
#include "passes/fusion/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Quant/IR/QuantTypes.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "llvm/ADT/DenseMap.h"
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

/// CUDA targets with a low-bit scheme: the kernels exist in runtime/cuda but
/// the emitter does not instantiate them yet, so compile stops after
/// kiln-fuse-lowbit has written the kernel each layer would get to
/// OUTDIR/kernels.md (and remarked on every layer without one).
Status Compiler::planLowBitKernels(Module &module,
                                   const CompileOptions &options) {
  Status status;
  if (auto error = llvm::sys::fs::create_directories(options.outputDir))
    return Status::error("cannot create the output folder: " +
                             error.message(),
                         options.outputDir);
  std::string report = options.outputDir + "/kernels.md";
  {
    DiagnosticCapture capture(impl_->context.get(), status);
    mlir::PassManager pm(impl_->context.get());
    mlir::kiln::KilnFuseLowBitPassOptions fuse;
    fuse.arch = options.target.substr(std::string("cuda-").size());
    fuse.report = report;
    pm.addPass(mlir::kiln::createKilnFuseLowBitPass(fuse));
    if (mlir::failed(pm.run(getModuleOp(module))))
      status.setFailed();
  }
  if (status.failed())
    return status;
  status.append(Status::error(
      "not yet supported: CUDA code generation of low-bit layers "
      "(--quantize " + options.quantize + "); the kernel each layer would "
      "get is in " + report + "; use 'kiln run' to evaluate the scheme",
      "--quantize"));
  return status;
}

Result<CompileOutput> Compiler::emit(Module &module,
                                     const CompileOptions &options) {
  Status status = validate(options);
  if (status.failed())
    return status;
  if (options.outputDir.empty())
    return Status::error("no output folder given (use -o OUTDIR)");
  const bool cuda = options.target.rfind("cuda-", 0) == 0;
  if (cuda && isLowBitScheme(options.quantize))
    return planLowBitKernels(module, options);
  if (Status supported = checkTargetSupportsScheme(options); !supported)
    return supported;
  if (cuda && options.quantize != "int8")
    return Status::error("not yet supported: CUDA code generation of float "
                         "models (--quantize " + options.quantize +
                             "); the CUDA targets emit int8 models: compile "
                             "with --quantize int8 (and --calibration DATA)",
                         "--quantize");
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
  std::string name = options.modelName;
  if (name.empty())
    name = llvm::sys::path::stem(module.impl().sourcePath).str();
  std::vector<std::vector<Tensor>> harnessSamples;
  if (!options.harnessPath.empty()) {
    auto data = loadTensors(options.harnessPath);
    if (!data)
      return data.status();
    auto samples = splitSamples(func, *data, /*limit=*/16);
    if (!samples)
      return Status::error(samples.status().diagnostics().front().message,
                           options.harnessPath);
    harnessSamples = samples.take();
  }
  Result<std::vector<std::string>> files = std::vector<std::string>();
  if (cuda) {
    codegen::CudaEmitOptions emit;
    emit.target = options.target;
    emit.outputDir = options.outputDir;
    emit.modelName = codegen::sanitizeIdentifier(name);
    emit.harnessSamples = std::move(harnessSamples);
    files = codegen::emitCudaProgram(func, emit);
  } else {
    codegen::CEmitOptions emit;
    emit.target = options.target;
    emit.outputDir = options.outputDir;
    emit.modelName = codegen::sanitizeIdentifier(name);
    emit.harnessSamples = std::move(harnessSamples);
    files = codegen::emitCProgram(func, emit);
  }
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

//===----------------------------------------------------------------------===//
// Activations (Compiler::run's per-value callback)
//===----------------------------------------------------------------------===//

namespace {

/// Where a value's elements sit relative to the same tensor in the source
/// model: the int8 kernels work in NHWC while ONNX models are NCHW.
enum class Layout { Source, Nhwc, Unknown };

constexpr int64_t kNhwcPerm[] = {0, 2, 3, 1};

/// Per-function facts that do not change between samples.
struct ActivationContext {
  llvm::DenseMap<mlir::Value, Layout> layouts;
  llvm::DenseMap<mlir::Value, std::string> names;
  /// Index of the sample being run.
  int64_t sample = 0;
};

} // namespace

/// Returns the name of the last NameLoc inside |loc| (the node a fused op's
/// output belongs to), or nothing.
static std::optional<std::string> lastName(mlir::Location loc) {
  if (auto name = llvm::dyn_cast<mlir::NameLoc>(loc))
    return name.getName().str();
  if (auto fused = llvm::dyn_cast<mlir::FusedLoc>(loc))
    for (mlir::Location inner : llvm::reverse(fused.getLocations()))
      if (std::optional<std::string> name = lastName(inner))
        return name;
  if (auto callSite = llvm::dyn_cast<mlir::CallSiteLoc>(loc))
    return lastName(callSite.getCallee());
  return std::nullopt;
}

/// Returns true when transposing a tensor of |shape| (module layout) by
/// |perm| moves no element, i.e. only unit dimensions change places.
static bool movesNoElement(llvm::ArrayRef<int64_t> shape,
                           llvm::ArrayRef<int64_t> perm) {
  int64_t last = -1;
  for (int64_t p : perm) {
    if (shape[p] == 1)
      continue;
    if (p < last)
      return false;
    last = p;
  }
  return true;
}

/// Infers the Layout of every value of |func| (see Activation::layout): the
/// NHWC int8 kernels produce NHWC; a transpose composes its permutation
/// with its input's; a reshape keeps the source layout only when its input's
/// elements are in source order; ops whose result has the shape of an NHWC
/// operand (elementwise int8 ops, (de)quantization, unary float ops sunk
/// through by kiln-cancel-transposes) keep NHWC.
static llvm::DenseMap<mlir::Value, Layout>
inferLayouts(mlir::func::FuncOp func) {
  llvm::DenseMap<mlir::Value, Layout> layouts;
  auto layoutOf = [&](mlir::Value v) {
    auto it = layouts.find(v);
    return it == layouts.end() ? Layout::Source : it->second;
  };
  for (mlir::Operation &op : func.getBody().front()) {
    if (op.getNumResults() == 0)
      continue;
    Layout result = Layout::Source;
    if (llvm::isa<mlir::kiln::QConv2DOp, mlir::kiln::QMaxPool2DOp,
                  mlir::kiln::QAvgPool2DOp, mlir::kiln::QGlobalAvgPool2DOp>(
            op)) {
      result = Layout::Nhwc;
    } else if (auto transpose = llvm::dyn_cast<mlir::kiln::TransposeOp>(op)) {
      Layout in = layoutOf(transpose.getInput());
      llvm::ArrayRef<int64_t> perm = transpose.getPerm();
      if (in == Layout::Nhwc) {
        // NHWC -> NCHW undoes the layout change.
        bool back = perm.size() == 4 && perm[0] == 0 && perm[1] == 3 &&
                    perm[2] == 1 && perm[3] == 2;
        result = back ? Layout::Source : Layout::Unknown;
      } else if (in == Layout::Source) {
        // NCHW -> NHWC starts one; any other transpose is the model's own.
        result = perm == llvm::ArrayRef<int64_t>(kNhwcPerm) ? Layout::Nhwc
                                                             : Layout::Source;
      } else {
        result = Layout::Unknown;
      }
    } else if (auto reshape = llvm::dyn_cast<mlir::kiln::ReshapeOp>(op)) {
      mlir::Value input = reshape->getOperand(0);
      Layout in = layoutOf(input);
      auto type = llvm::cast<mlir::RankedTensorType>(input.getType());
      if (in == Layout::Nhwc)
        // [N, H, W, C] -> [N, C, H, W] moves nothing when C or H*W is 1.
        in = movesNoElement(type.getShape(), {0, 3, 1, 2}) ? Layout::Source
                                                           : Layout::Unknown;
      result = in;
    } else {
      auto resultType =
          llvm::dyn_cast<mlir::RankedTensorType>(op.getResult(0).getType());
      bool anyNhwc = false, allNhwc = op.getNumOperands() > 0,
           sameShape = true, anyUnknown = false;
      for (mlir::Value operand : op.getOperands()) {
        Layout in = layoutOf(operand);
        anyUnknown |= in == Layout::Unknown;
        if (in != Layout::Nhwc) {
          allNhwc = false;
          continue;
        }
        anyNhwc = true;
        auto type = llvm::dyn_cast<mlir::RankedTensorType>(operand.getType());
        sameShape &= resultType && type &&
                     type.getShape() == resultType.getShape();
      }
      if (anyUnknown)
        result = Layout::Unknown;
      else if (anyNhwc)
        result = (sameShape || (allNhwc && llvm::isa<mlir::kiln::QConcatOp>(
                                               op)))
                     ? Layout::Nhwc
                     : Layout::Unknown;
    }
    for (mlir::Value value : op.getResults())
      if (result != Layout::Source)
        layouts[value] = result;
  }
  return layouts;
}

/// Returns the Activation names of |func|'s arguments and op results.
static llvm::DenseMap<mlir::Value, std::string>
activationNames(mlir::func::FuncOp func) {
  llvm::DenseMap<mlir::Value, std::string> names;
  for (mlir::BlockArgument arg : func.getArguments()) {
    auto name = func.getArgAttrOfType<mlir::StringAttr>(arg.getArgNumber(),
                                                        "kiln.name");
    names[arg] = name ? name.getValue().str()
                      : "input_" + std::to_string(arg.getArgNumber());
  }
  for (mlir::Operation &op : func.getBody().front()) {
    // An op without a node name that serves one value (the quantization of
    // a graph input) takes that value's name.
    std::optional<std::string> name = lastName(op.getLoc());
    if (!name && op.getNumOperands() > 0)
      if (auto it = names.find(op.getOperand(0)); it != names.end())
        name = it->second;
    std::string base = name.value_or(formatLocation(op.getLoc()));
    for (mlir::OpResult result : op.getResults())
      names[result] = result.getResultNumber() == 0
                          ? base
                          : base + ":" +
                                std::to_string(result.getResultNumber());
  }
  return names;
}

/// Returns |tensor| as float32 values `(q - zeroPoint) * scale`.
static Tensor dequantizeTensor(const Tensor &tensor, double scale,
                               int32_t zeroPoint) {
  Tensor out(tensor.name, DType::F32, tensor.shape);
  const float s = static_cast<float>(scale);
  for (int64_t i = 0; i < tensor.numElements(); ++i)
    out.as<float>()[i] =
        static_cast<float>(tensor.as<int8_t>()[i] - zeroPoint) * s;
  return out;
}

/// Returns the [N, H, W, C] tensor |tensor| as [N, C, H, W].
static Tensor nhwcToNchw(const Tensor &tensor) {
  const std::vector<int64_t> &s = tensor.shape;
  Tensor out(tensor.name, tensor.dtype, {s[0], s[3], s[1], s[2]});
  const size_t size = dtypeSize(tensor.dtype);
  const int64_t hw = s[1] * s[2];
  for (int64_t n = 0; n < s[0]; ++n)
    for (int64_t p = 0; p < hw; ++p)
      for (int64_t c = 0; c < s[3]; ++c)
        std::memcpy(out.data.data() + ((n * s[3] + c) * hw + p) * size,
                    tensor.data.data() + ((n * hw + p) * s[3] + c) * size,
                    size);
  return out;
}

/// Builds the Activation of |value| (computed as |tensor|) and passes it to
/// |callback|; constants (weights) are skipped.
static void reportActivation(const ActivationContext &context,
                             mlir::Value value, const Tensor &tensor,
                             bool raw, const ActivationCallback &callback) {
  mlir::Operation *op = value.getDefiningOp();
  if (op && llvm::isa<mlir::kiln::ConstantOp>(op))
    return;
  Activation activation;
  activation.sample = context.sample;
  activation.name = context.names.lookup(value);
  activation.op = op ? op->getName().getStringRef().str() : "input";
  auto type = llvm::dyn_cast<mlir::RankedTensorType>(value.getType());
  mlir::Type element = type ? type.getElementType() : value.getType();
  llvm::raw_string_ostream os(activation.elementType);
  element.print(os);
  if (auto uniform = llvm::dyn_cast<mlir::quant::UniformQuantizedType>(
          element);
      uniform && tensor.dtype == DType::I8) {
    activation.quantized = true;
    activation.scale = uniform.getScale();
    activation.zeroPoint = static_cast<int32_t>(uniform.getZeroPoint());
  }
  Layout layout = Layout::Source;
  if (auto it = context.layouts.find(value); it != context.layouts.end())
    layout = it->second;
  if (layout == Layout::Nhwc && tensor.shape.size() != 4)
    layout = Layout::Unknown;
  activation.layout = layout == Layout::Nhwc      ? "NHWC"
                      : layout == Layout::Unknown ? "unknown"
                                                  : "";
  const Tensor *view = &tensor;
  Tensor converted;
  if (activation.quantized && !raw) {
    converted = dequantizeTensor(tensor, activation.scale,
                                 activation.zeroPoint);
    view = &converted;
  }
  if (layout == Layout::Nhwc) {
    converted = nhwcToNchw(*view);
    view = &converted;
  }
  activation.tensor = *view;
  activation.tensor.name = activation.name;
  callback(activation);
}

/// Runs |func| once on |inputs|, replacing outputs that a quantized module
/// dequantizes by their int8 values when |raw|, and reporting every value
/// to |onActivation| when set.
static Result<std::vector<Tensor>>
runOnce(mlir::func::FuncOp func, std::vector<Tensor> inputs, bool raw,
        const ActivationContext *context,
        const ActivationCallback &onActivation) {
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
  if (!rawSources.empty() || onActivation)
    observer = [&](mlir::Value value, const Tensor &tensor) {
      for (auto &[i, source] : rawSources)
        if (source == value)
          rawValues[i] = tensor;
      if (onActivation && context)
        reportActivation(*context, value, tensor, raw, onActivation);
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

Result<std::vector<Tensor>>
Compiler::run(Module &module, std::vector<Tensor> inputs, bool raw,
              const ActivationCallback &onActivation) {
  Status status;
  DiagnosticCapture capture(impl_->context.get(), status);
  mlir::func::FuncOp func = getEntryFunction(getModuleOp(module));
  if (!func)
    return Status::error("the module has no entry function (expected "
                         "func.func @main)");
  std::optional<ActivationContext> context;
  if (onActivation)
    context = ActivationContext{inferLayouts(func), activationNames(func), 0};
  ActivationContext *ctx = context ? &*context : nullptr;
  if (matchesSignature(func, inputs)) {
    auto outputs = runOnce(func, std::move(inputs), raw, ctx, onActivation);
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
    auto outputs = runOnce(func, std::move(inputs), raw, ctx, onActivation);
    status.append(outputs.status());
    if (outputs)
      return Result<std::vector<Tensor>>(outputs.take(), status);
    return status;
  }
  std::vector<Tensor> stacked;
  for (auto [index, sample] : llvm::enumerate(*samples)) {
    if (ctx)
      ctx->sample = static_cast<int64_t>(index);
    auto outputs = runOnce(func, std::move(sample), raw, ctx, onActivation);
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
  // Fail before calibration when the target cannot run the scheme (a CUDA
  // target still plans the kernels of a low-bit scheme: see emit).
  bool cudaLowBit = options.target.rfind("cuda-", 0) == 0 &&
                    isLowBitScheme(options.quantize);
  if (Status supported = checkTargetSupportsScheme(options);
      !supported && !cudaLowBit)
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
