//===- ImportContext.h - What an ONNX op converter sees ---------*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// The ONNX importer turns each node into kiln ops through a converter
// registered for its (domain, op type) and the operator versions it
// implements. A converter reads the node through NodeImporter: inputs as
// MLIR values with static types, constant inputs as host tensors,
// attributes with their ONNX defaults, and it sets one value per output.
//
// Rules for converters (ops/*.cpp):
//  - compute result types with the shape functions of KilnShapes.h, so the
//    op verifiers agree;
//  - on any attribute value or input type whose semantics the converter does
//    not implement, call unsupported(...) and return failure: an op is never
//    converted with semantics Kiln does not implement;
//  - write every attribute explicitly (no reliance on kiln op defaults that
//    may differ from ONNX's).
//
//===----------------------------------------------------------------------===//

#ifndef KILN_COMPILER_FRONTEND_IMPORTCONTEXT_H
#define KILN_COMPILER_FRONTEND_IMPORTCONTEXT_H

#include "compiler/support/Numeric.h"
#include "dialects/kiln/KilnShapes.h"
#include "kiln/Tensor.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Location.h"
#include "llvm/ADT/StringMap.h"

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace onnx {
class NodeProto;
class AttributeProto;
class TensorProto;
} // namespace onnx

namespace kiln::frontend {

class OnnxImporter;

/// The view of one ONNX node that a converter works with.
class NodeImporter {
public:
  NodeImporter(OnnxImporter &importer, const onnx::NodeProto &node,
               int64_t version, int64_t opset, mlir::Location loc);

  //--- The node -----------------------------------------------------------//
  const onnx::NodeProto &node() const { return node_; }
  /// The ONNX op type, e.g. "Conv".
  llvm::StringRef opType() const;
  /// The operator version in effect (its schema's since-version).
  int64_t version() const { return version_; }
  /// The model's opset for the node's domain.
  int64_t opset() const { return opset_; }
  mlir::Location loc() const { return loc_; }
  mlir::OpBuilder &builder() { return builder_; }
  mlir::MLIRContext *context() { return builder_.getContext(); }

  //--- Inputs -------------------------------------------------------------//
  /// Number of inputs listed (including omitted optional ones).
  size_t numInputs() const;
  /// True when input |i| is given (listed with a non-empty name).
  bool hasInput(size_t i) const;
  /// The value of input |i| (requires hasInput(i)).
  mlir::Value input(size_t i) const;
  mlir::RankedTensorType inputType(size_t i) const;
  llvm::ArrayRef<int64_t> inputShape(size_t i) const;
  int64_t inputRank(size_t i) const { return inputShape(i).size(); }
  mlir::Type inputElementType(size_t i) const;
  /// The host type of input |i|'s elements.
  DType inputDType(size_t i) const;
  /// The value of input |i| when it is a constant (after import-time
  /// folding), else nothing.
  std::optional<Tensor> constantInput(size_t i) const;
  /// The value of input |i|, which must be a constant; emits "input 'what'
  /// (value 'v') must be a constant" and fails otherwise.
  mlir::FailureOr<Tensor> requireConstant(size_t i, llvm::StringRef what);
  /// Input |i| as integers; emits "input 'what' must be a constant" and
  /// fails when it is not one.
  mlir::FailureOr<std::vector<int64_t>> constantInts(size_t i,
                                                     llvm::StringRef what);
  /// Input |i| as doubles (any numeric type); fails like constantInts.
  mlir::FailureOr<std::vector<double>> constantFloats(size_t i,
                                                      llvm::StringRef what);

  //--- Attributes ---------------------------------------------------------//
  bool hasAttr(llvm::StringRef name) const;
  const onnx::AttributeProto *attr(llvm::StringRef name) const;
  int64_t getInt(llvm::StringRef name, int64_t defaultValue) const;
  float getFloat(llvm::StringRef name, float defaultValue) const;
  std::string getString(llvm::StringRef name,
                        llvm::StringRef defaultValue) const;
  std::vector<int64_t> getInts(llvm::StringRef name) const;
  std::vector<float> getFloats(llvm::StringRef name) const;
  std::vector<std::string> getStrings(llvm::StringRef name) const;
  /// A TENSOR attribute converted to a host tensor.
  mlir::FailureOr<Tensor> getTensor(llvm::StringRef name);

  //--- Errors -------------------------------------------------------------//
  /// Starts an error at the node ("model.onnx: node 'name': error: ...").
  mlir::InFlightDiagnostic emitError();
  /// Reports a value Kiln does not implement, as an "unsupported" error
  /// (the conformance runner counts these as skips, not failures).
  mlir::LogicalResult unsupported(const llvm::Twine &what);
  /// Callback for the KilnShapes.h shape functions.
  mlir::kiln::EmitErrorFn errorFn() { return errorCallback_; }
  /// Normalizes a possibly negative |axis| for |rank|; emits an error.
  mlir::FailureOr<int64_t> normalizeAxis(int64_t axis, int64_t rank,
                                         llvm::StringRef what = "axis");

  //--- Outputs ------------------------------------------------------------//
  size_t numOutputs() const;
  /// True when output |i| is requested (listed with a non-empty name).
  bool hasOutput(size_t i) const;
  void setOutput(size_t i, mlir::Value value);

  //--- Building -----------------------------------------------------------//
  mlir::RankedTensorType tensorType(llvm::ArrayRef<int64_t> shape,
                                    mlir::Type elementType) {
    return mlir::RankedTensorType::get(shape, elementType);
  }
  /// A kiln.constant holding |tensor|.
  mlir::Value constant(const Tensor &tensor);
  /// A kiln.constant scalar (rank 0) of |type| with value |value|.
  mlir::Value scalar(DType type, double value);
  /// kiln.reshape of |value| to |shape| (|value| itself if already so).
  mlir::Value reshape(mlir::Value value, llvm::ArrayRef<int64_t> shape);
  /// kiln.cast of |value| to |elementType| (|value| itself if already so).
  mlir::Value castTo(mlir::Value value, mlir::Type elementType);
  /// The MLIR element type of host type |type|.
  mlir::Type mlirType(DType type);

private:
  OnnxImporter &importer_;
  const onnx::NodeProto &node_;
  int64_t version_, opset_;
  mlir::Location loc_;
  mlir::OpBuilder &builder_;
  std::function<mlir::InFlightDiagnostic()> errorCallback_;
};

/// A converter: lowers one ONNX node to kiln ops.
using ConverterFn = mlir::LogicalResult (*)(NodeImporter &node);

/// The converters of every supported (domain, op type).
class ConverterRegistry {
public:
  struct Entry {
    std::vector<int64_t> versions; // since-versions implemented
    ConverterFn fn;
  };
  /// Registers |fn| for op |opType| of |domain| ("" is the default ONNX
  /// domain) at the listed since-versions.
  void add(llvm::StringRef domain, llvm::StringRef opType,
           std::vector<int64_t> versions, ConverterFn fn);
  const Entry *lookup(llvm::StringRef domain, llvm::StringRef opType) const;
  /// Returns the registry with every family's converters.
  static const ConverterRegistry &get();
  /// All registered "domain:OpType" keys, sorted.
  std::vector<std::string> keys() const;

private:
  llvm::StringMap<Entry> entries;
};

// One function per op family, in ops/<Family>.cpp.
void registerStructuralConverters(ConverterRegistry &registry);
void registerElementwiseConverters(ConverterRegistry &registry);
void registerLinearConverters(ConverterRegistry &registry);
void registerNormalizationConverters(ConverterRegistry &registry);
void registerPoolingConverters(ConverterRegistry &registry);
void registerReductionConverters(ConverterRegistry &registry);
void registerDataMovementConverters(ConverterRegistry &registry);
void registerQuantizationConverters(ConverterRegistry &registry);
void registerAttentionConverters(ConverterRegistry &registry);

} // namespace kiln::frontend

#endif // KILN_COMPILER_FRONTEND_IMPORTCONTEXT_H
