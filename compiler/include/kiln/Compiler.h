//===- Compiler.h - The Kiln compiler API -----------------------*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// The product: a library that imports a model, runs Kiln's pass pipeline and
// emits a deployable program. The `kiln` command line tool is a thin client
// of this header. Nothing here prints or exits; every call returns a Status
// or Result with diagnostics. This header does not expose MLIR types (see
// kiln/Pipeline.h for the MLIR-level API).
//
// Thread-safety: a Compiler and the Modules it made may be used from one
// thread at a time; distinct Compilers are independent.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_COMPILER_INCLUDE_KILN_COMPILER_H
#define KILN_COMPILER_INCLUDE_KILN_COMPILER_H

#include "kiln/Diagnostics.h"
#include "kiln/Options.h"
#include "kiln/Tensor.h"

#include <functional>
#include <memory>
#include <string>

namespace kiln {

/// A model in Kiln's IR (an MLIR module of the kiln dialect). Move-only; it
/// keeps the context it lives in alive, so it may outlive its Compiler.
class Module {
public:
  struct Impl;
  explicit Module(std::unique_ptr<Impl> impl);
  Module(Module &&) noexcept;
  Module &operator=(Module &&) noexcept;
  ~Module();

  /// Returns the module as MLIR assembly text.
  std::string toText() const;
  /// Writes the assembly text to |path| ("-" for standard output is the
  /// caller's business: this writes files only).
  Status writeText(const std::string &path) const;

  Impl &impl() { return *impl_; }
  const Impl &impl() const { return *impl_; }

private:
  std::unique_ptr<Impl> impl_;
};

/// One input or output of a model, as `kiln inspect` shows it.
struct PortInfo {
  std::string name;
  /// Element type as printed by MLIR, e.g. "f32" or
  /// "!quant.uniform<i8:f32, 0.1>".
  std::string elementType;
  std::vector<int64_t> shape;
};

/// What `kiln inspect` reports about a module.
struct ModelInfo {
  std::vector<PortInfo> inputs, outputs;
  /// Number of ops of each kind, e.g. {"kiln.conv", 12}.
  std::vector<std::pair<std::string, int64_t>> opCounts;
  /// Number of constant tensors and their total bytes.
  int64_t constants = 0, constantBytes = 0;
};

/// One value computed while `Compiler::run` evaluates a model: every op
/// result and every graph input, in execution order, once per sample.
struct Activation {
  /// Index of the sample (inputs that stack several samples run one at a
  /// time).
  int64_t sample = 0;
  /// The name of the producing op's location: the ONNX node name, or for an
  /// op fused from several nodes (conv + BatchNorm + ReLU) the last of them,
  /// whose output the value is. Graph inputs carry their own name. Result
  /// i > 0 of an op gets ":i" appended. An op without a node name (the
  /// quantization of a graph input) takes its first operand's name; other
  /// locations print as "file:line:col". Names are not unique: layout changes and the
  /// (de)quantization of a value share the name of the op they serve.
  std::string name;
  /// The producing op, e.g. "kiln.qconv2d"; "input" for a graph input.
  std::string op;
  /// The element type as MLIR prints it, e.g. "f32" or
  /// "!quant.uniform<i8:f32, 0.0235:-128>".
  std::string elementType;
  /// True for a per-tensor int8 value; then |scale| and |zeroPoint| are its
  /// quantization (real = (q - zeroPoint) * scale).
  bool quantized = false;
  double scale = 1.0;
  int32_t zeroPoint = 0;
  /// The layout the value has in the module: "NHWC" for the outputs of the
  /// NHWC int8 kernels and the values derived from them, where the source
  /// model holds the same tensor as NCHW; "unknown" where a reshape scrambled
  /// an NHWC tensor; empty when it is the source model's layout.
  std::string layout;
  /// The value, converted back to the source model's layout when |layout|
  /// is "NHWC" (int8 kernels keep the source layout's shape that way), and
  /// dequantized to float32 unless `run` was asked for raw values.
  Tensor tensor;
};

/// Called by `Compiler::run` for every Activation; the reference is valid
/// only during the call.
using ActivationCallback = std::function<void(const Activation &)>;

/// Summary of what `compile` produced.
struct CompileOutput {
  /// Files written, relative to CompileOptions::outputDir.
  std::vector<std::string> files;
};

/// Entry point of the library. Owns an MLIR context with every Kiln dialect
/// loaded.
class Compiler {
public:
  Compiler();
  ~Compiler();
  Compiler(const Compiler &) = delete;
  Compiler &operator=(const Compiler &) = delete;

  /// Loads a model from |path|: `.onnx` (ONNX import) or `.mlir` (Kiln IR
  /// text). |options| supplies input shapes for dynamic dimensions.
  Result<Module> loadModel(const std::string &path,
                           const CompileOptions &options);

  /// Parses Kiln IR from |text|; |bufferName| names it in diagnostics.
  Result<Module> parseModule(const std::string &text,
                             const std::string &bufferName = "<buffer>");

  /// Runs the pass pipeline that |options| selects on |module|, in place.
  Status runPipeline(Module &module, const CompileOptions &options);

  /// Writes the program for options.target into options.outputDir.
  Result<CompileOutput> emit(Module &module, const CompileOptions &options);

  /// Runs the entry function of |module| on |inputs| with the reference
  /// evaluator. Inputs match by name when all names match, else by
  /// position; outputs carry the model's output names. With |raw|, outputs
  /// that a quantized module dequantizes are returned as their int8 values.
  /// |onActivation|, when set, sees every intermediate value (see
  /// Activation; with |raw| int8 values are passed as integers); per-layer
  /// error analysis of quantization matches them by name against a float
  /// run of the same model.
  Result<std::vector<Tensor>>
  run(Module &module, std::vector<Tensor> inputs, bool raw = false,
      const ActivationCallback &onActivation = nullptr);

  /// Describes the entry function of |module|.
  Result<ModelInfo> inspect(Module &module);

  /// loadModel + runPipeline + emit.
  Result<CompileOutput> compile(const std::string &modelPath,
                                const CompileOptions &options);

private:
  /// CUDA targets with a low-bit scheme: writes the kernel plan
  /// (OUTDIR/kernels.md) and fails with "not yet supported".
  Status planLowBitKernels(Module &module, const CompileOptions &options);

  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// Returns Kiln's version, e.g. "0.1.0".
const char *version();
/// Returns the version of MLIR Kiln was built against, e.g. "22.1.8".
const char *mlirVersion();

} // namespace kiln

#endif // KILN_COMPILER_INCLUDE_KILN_COMPILER_H
