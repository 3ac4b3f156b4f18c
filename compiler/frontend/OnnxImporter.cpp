//===- OnnxImporter.cpp - ONNX model to kiln dialect ------------*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// The import driver described in OnnxImporter.h, and NodeImporter, the view
// of one node that converters (ops/*.cpp) use.
//
//===----------------------------------------------------------------------===//

#include "compiler/frontend/OnnxImporter.h"
#include "compiler/evaluator/ConstantFolding.h"
#include "compiler/evaluator/Evaluator.h"
#include "compiler/frontend/ImportContext.h"
#include "compiler/frontend/OnnxModel.h"
#include "compiler/support/DiagnosticCapture.h"
#include "compiler/support/Numeric.h"
#include "compiler/support/TensorAttr.h"

#include "dialects/kiln/KilnOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Verifier.h"
#include "onnx/onnx_pb.h"

#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/StringSet.h"

#include <filesystem>
#include <map>
#include <set>
#include <tuple>

namespace kiln::frontend {

using namespace mlir;

//===----------------------------------------------------------------------===//
// Operator schema versions (generated from the pinned onnx package)
//===----------------------------------------------------------------------===//

namespace {

struct SchemaTable {
  std::map<std::pair<std::string, std::string>, std::vector<int64_t>> ops;
  std::map<std::string, int64_t> domainMax;

  static const SchemaTable &get() {
    static const SchemaTable table = [] {
      SchemaTable t;
#define KILN_ONNX_DOMAIN(domain, newest) t.domainMax[domain] = newest;
#define KILN_ONNX_SCHEMA(domain, name, ...)                                    \
  t.ops[{domain, name}] = std::vector<int64_t>{__VA_ARGS__};
#include "compiler/frontend/OnnxSchemas.inc"
#undef KILN_ONNX_DOMAIN
#undef KILN_ONNX_SCHEMA
      return t;
    }();
    return table;
  }
};

/// What one schema version allows: input and output counts, which inputs
/// are required, and the type (AttributeProto code) of every attribute.
struct Signature {
  int64_t minInputs = 0, maxInputs = 0, minOutputs = 0, maxOutputs = 0;
  std::string requiredInputs; // per formal input: '1' required, '0'
                              // optional, 'v' variadic
  std::map<std::string, std::pair<int, bool>> attributes; // type, required
};

struct SignatureTable {
  std::map<std::tuple<std::string, std::string, int64_t>, Signature> table;

  static const SignatureTable &get() {
    static const SignatureTable instance = [] {
      SignatureTable t;
#define KILN_ONNX_SIGNATURE(domain, name, since, minIn, maxIn, minOut,        \
                            maxOut, required)                                 \
  {                                                                            \
    Signature &sig = t.table[{domain, name, since}];                           \
    sig.minInputs = minIn;                                                     \
    sig.maxInputs = maxIn;                                                     \
    sig.minOutputs = minOut;                                                   \
    sig.maxOutputs = maxOut;                                                   \
    sig.requiredInputs = required;                                             \
  }
#define KILN_ONNX_ATTRIBUTE(domain, name, since, attr, type, required)        \
  t.table[{domain, name, since}].attributes[attr] = {type, required != 0};
#include "compiler/frontend/OnnxSignatures.inc"
#undef KILN_ONNX_SIGNATURE
#undef KILN_ONNX_ATTRIBUTE
      return t;
    }();
    return instance;
  }
};

/// Returns the name of AttributeProto type |type|, e.g. "INTS".
std::string attributeTypeName(int type) {
  if (onnx::AttributeProto::AttributeType_IsValid(type))
    return onnx::AttributeProto::AttributeType_Name(
        static_cast<onnx::AttributeProto::AttributeType>(type));
  return "type " + std::to_string(type);
}

/// Returns "" for the default ONNX domain under either of its names.
std::string canonicalDomain(const std::string &domain) {
  return domain == "ai.onnx" ? std::string() : domain;
}

/// Records the ops a converter creates, for import-time constant folding.
struct InsertionRecorder : public OpBuilder::Listener {
  std::vector<Operation *> ops;
  void notifyOperationInserted(Operation *op,
                               OpBuilder::InsertPoint) override {
    ops.push_back(op);
  }
};

/// Largest result (in elements) that import-time folding materializes.
constexpr int64_t kMaxFoldElements = int64_t(1) << 22;

/// Largest value (in elements) a model may have: 2^34 (64 GiB of float)
/// is beyond any model Kiln targets and keeps element and byte counts far
/// from int64 overflow.
constexpr int64_t kMaxValueElements = int64_t(1) << 34;

/// Returns the number of elements of |shape|, or -1 when a dimension is
/// dynamic or negative or the count exceeds kMaxValueElements.
int64_t boundedNumElements(llvm::ArrayRef<int64_t> shape) {
  int64_t count = 1;
  for (int64_t d : shape) {
    if (d < 0)
      return -1;
    if (d != 0 && count > kMaxValueElements / d)
      return -1;
    count *= d;
  }
  return count;
}

/// Opset Kiln upgrades older models to before import.
constexpr int64_t kMinNativeOpset = 7;
constexpr int64_t kUpgradeTarget = 11;

} // namespace

//===----------------------------------------------------------------------===//
// OnnxImporter
//===----------------------------------------------------------------------===//

class OnnxImporter {
public:
  OnnxImporter(MLIRContext *context, const onnx::ModelProto &model,
               std::string path, std::string modelDir,
               const CompileOptions &options)
      : context(context), model(model), path(std::move(path)),
        modelDir(std::move(modelDir)), options(options), builder(context) {}

  OwningOpRef<ModuleOp> run();

  /// Checks what libonnx's version converter relies on but does not check
  /// itself (it crashes on such models): known operators with valid
  /// signatures, every value defined once, no cycles, produced outputs.
  LogicalResult preflight();

  /// The value of ONNX value |name| (null when unknown or poisoned).
  Value lookup(const std::string &name) const {
    auto it = values.find(name);
    return it == values.end() ? Value() : it->second;
  }
  void define(const std::string &name, Value value) { values[name] = value; }
  OpBuilder &getBuilder() { return builder; }
  Location fileLoc() { return FileLineColLoc::get(context, path, 0, 0); }
  const std::string &getModelDir() const { return modelDir; }

private:
  LogicalResult resolveOpsets();
  LogicalResult checkSupport();
  LogicalResult checkSignature(const onnx::NodeProto &node, Location loc,
                               const std::string &domain, int64_t version);
  LogicalResult createFunction();
  LogicalResult orderNodes();
  LogicalResult importNode(const onnx::NodeProto &node, size_t index);
  LogicalResult foldConstants(std::vector<Operation *> &ops,
                              const onnx::NodeProto &node, Location loc);
  LogicalResult finish();
  Location nodeLoc(const onnx::NodeProto &node, size_t index);

  MLIRContext *context;
  const onnx::ModelProto &model;
  std::string path, modelDir;
  const CompileOptions &options;
  OpBuilder builder;

  std::map<std::string, int64_t> opsets;
  std::map<std::string, Value> values;
  std::vector<std::pair<std::string, const Tensor *>> boundValues;
  std::vector<std::pair<const onnx::NodeProto *, size_t>> order;
  OwningOpRef<ModuleOp> module;
  func::FuncOp func;
  unsigned blobCounter = 0;

  friend class NodeImporter;
};

Location OnnxImporter::nodeLoc(const onnx::NodeProto &node, size_t index) {
  std::string name = node.name();
  if (name.empty())
    name = node.op_type() + "#" + std::to_string(index);
  return NameLoc::get(StringAttr::get(context, name), fileLoc());
}

LogicalResult OnnxImporter::resolveOpsets() {
  const SchemaTable &table = SchemaTable::get();
  for (const auto &opset : model.opset_import()) {
    std::string domain = canonicalDomain(opset.domain());
    opsets[domain] = opset.version();
    auto known = table.domainMax.find(domain);
    if (known != table.domainMax.end() && opset.version() > known->second) {
      emitError(fileLoc())
          << "opset " << opset.version() << " of domain '" << domain
          << "' is newer than Kiln knows (newest: " << known->second << ")";
      return failure();
    }
  }
  return success();
}

LogicalResult OnnxImporter::checkSupport() {
  const SchemaTable &table = SchemaTable::get();
  const ConverterRegistry &registry = ConverterRegistry::get();
  bool ok = true;
  // Nodes whose op Kiln lacks are reported after the loop, in node order,
  // with one note (the supported range) after the last of them rather than
  // the same note after each.
  std::vector<std::pair<Location, std::string>> missing;
  for (auto [index, node] : llvm::enumerate(model.graph().node())) {
    std::string domain = canonicalDomain(node.domain());
    Location loc = nodeLoc(node, index);
    auto opsetIt = opsets.find(domain);
    int64_t opset = opsetIt == opsets.end() ? -1 : opsetIt->second;
    auto schema = table.ops.find({domain, node.op_type()});
    if (schema == table.ops.end()) {
      missing.emplace_back(loc, "unsupported ONNX op '" + node.op_type() +
                                    "' (domain '" + domain + "', opset " +
                                    std::to_string(opset) +
                                    "): not an operator of the ONNX "
                                    "standard");
      ok = false;
      continue;
    }
    if (opset < 0) {
      emitError(loc) << "node uses domain '" << domain
                     << "', which the model does not import";
      ok = false;
      continue;
    }
    int64_t version = -1;
    for (int64_t since : schema->second)
      if (since <= opset)
        version = since;
    if (version < 0) {
      emitError(loc) << "op '" << node.op_type() << "' does not exist in "
                     << "opset " << opset << " of domain '" << domain
                     << "' (it appears in opset " << schema->second.front()
                     << ")";
      ok = false;
      continue;
    }
    const ConverterRegistry::Entry *entry =
        registry.lookup(domain, node.op_type());
    if (!entry) {
      missing.emplace_back(loc, "unsupported ONNX op '" + node.op_type() +
                                    "' (domain '" + domain + "', opset " +
                                    std::to_string(opset) + ")");
      ok = false;
      continue;
    }
    if (failed(checkSignature(node, loc, domain, version)))
      ok = false;
    if (!llvm::is_contained(entry->versions, version)) {
      InFlightDiagnostic diag = emitError(loc);
      diag << "unsupported ONNX op '" << node.op_type() << "' version "
           << version << " (domain '" << domain << "', opset " << opset
           << ")";
      std::string list;
      for (int64_t v : entry->versions)
        list += (list.empty() ? "" : ", ") + std::to_string(v);
      diag.attachNote() << "Kiln implements '" << node.op_type()
                        << "' versions " << list;
      ok = false;
    }
  }
  for (auto [i, entry] : llvm::enumerate(missing)) {
    InFlightDiagnostic diag = emitError(entry.first) << entry.second;
    if (i + 1 == missing.size())
      diag.attachNote() << "Kiln implements " << numSupportedOnnxOps()
                        << " ONNX ops at default-domain opsets "
                        << kMinNativeOpset << " to "
                        << table.domainMax.at("")
                        << " (older models are upgraded); "
                        << missing.size() << " node(s) above use others";
  }
  return success(ok);
}

LogicalResult OnnxImporter::checkSignature(const onnx::NodeProto &node,
                                           Location loc,
                                           const std::string &domain,
                                           int64_t version) {
  auto it = SignatureTable::get().table.find({domain, node.op_type(),
                                              version});
  if (it == SignatureTable::get().table.end())
    return success();
  const Signature &sig = it->second;
  bool ok = true;
  auto what = [&] {
    return "ONNX op '" + node.op_type() + "' (version " +
           std::to_string(version) + ")";
  };
  int64_t inputs = node.input_size(), outputs = node.output_size();
  if (inputs < sig.minInputs || inputs > sig.maxInputs) {
    emitError(loc) << what() << " takes " << sig.minInputs << " to "
                   << sig.maxInputs << " inputs, got " << inputs;
    ok = false;
  }
  // Only optional inputs may be left out ("" names); required and
  // variadic ones must be given.
  const std::string &flags = sig.requiredInputs;
  int64_t positions = std::max<int64_t>(inputs, flags.size());
  for (int64_t i = 0; ok && i < positions; ++i) {
    char flag = i < static_cast<int64_t>(flags.size())
                    ? flags[i]
                    : (!flags.empty() && flags.back() == 'v' ? 'v' : '0');
    bool given = i < inputs && !node.input(i).empty();
    if (flag == '1' && !given && i < std::max<int64_t>(sig.minInputs, 1)) {
      emitError(loc) << what() << " requires input " << i
                     << ", which is missing";
      ok = false;
    } else if (flag == 'v' && i < inputs && !given) {
      emitError(loc) << "input " << i << " of " << what()
                     << " is variadic and must not be empty";
      ok = false;
    }
  }
  if (outputs < sig.minOutputs || outputs > sig.maxOutputs) {
    emitError(loc) << what() << " has " << sig.minOutputs << " to "
                   << sig.maxOutputs << " outputs, got " << outputs;
    ok = false;
  }
  std::set<std::string> seen;
  for (const auto &attr : node.attribute()) {
    if (!seen.insert(attr.name()).second) {
      emitError(loc) << "attribute '" << attr.name() << "' of " << what()
                     << " is given more than once";
      ok = false;
      continue;
    }
    auto known = sig.attributes.find(attr.name());
    if (known == sig.attributes.end()) {
      emitError(loc) << what() << " has no attribute '" << attr.name()
                     << "'";
      ok = false;
      continue;
    }
    // Very old models leave the type unset (UNDEFINED); newer ones must
    // give the schema's type.
    if (attr.type() != 0 && attr.type() != known->second.first) {
      emitError(loc) << "attribute '" << attr.name() << "' of " << what()
                     << " must be " << attributeTypeName(known->second.first)
                     << ", got " << attributeTypeName(attr.type());
      ok = false;
    }
  }
  for (const auto &[name, info] : sig.attributes)
    if (info.second && !seen.count(name)) {
      emitError(loc) << what() << " requires attribute '" << name << "'";
      ok = false;
    }
  return success(ok);
}

LogicalResult OnnxImporter::preflight() {
  if (failed(resolveOpsets()))
    return failure();
  const SchemaTable &table = SchemaTable::get();
  bool ok = true;
  for (auto [index, node] : llvm::enumerate(model.graph().node())) {
    std::string domain = canonicalDomain(node.domain());
    Location loc = nodeLoc(node, index);
    auto opsetIt = opsets.find(domain);
    auto schema = table.ops.find({domain, node.op_type()});
    int64_t version = -1;
    if (schema != table.ops.end() && opsetIt != opsets.end())
      for (int64_t since : schema->second)
        if (since <= opsetIt->second)
          version = since;
    if (version < 0) {
      emitError(loc) << "unsupported ONNX op '" << node.op_type()
                     << "' (domain '" << domain << "', opset "
                     << (opsetIt == opsets.end() ? -1 : opsetIt->second)
                     << "): not an operator of that opset, so the model "
                        "cannot be upgraded";
      ok = false;
      continue;
    }
    if (failed(checkSignature(node, loc, domain, version)))
      ok = false;
  }
  if (!ok || failed(orderNodes()))
    return failure();
  std::set<std::string> defined;
  for (const auto &input : model.graph().input())
    defined.insert(input.name());
  for (const auto &init : model.graph().initializer())
    defined.insert(init.name());
  for (const auto &node : model.graph().node())
    defined.insert(node.output().begin(), node.output().end());
  for (const auto &output : model.graph().output())
    if (!defined.count(output.name())) {
      emitError(NameLoc::get(StringAttr::get(context, output.name()),
                             fileLoc()))
          << "graph output '" << output.name()
          << "' is not produced by any node";
      ok = false;
    }
  return success(ok);
}

LogicalResult OnnxImporter::orderNodes() {
  // Kahn's algorithm over value names; ONNX requires topological order, but
  // real models do not always comply.
  const auto &graph = model.graph();
  std::set<std::string> available;
  for (const auto &input : graph.input())
    available.insert(input.name());
  for (const auto &init : graph.initializer())
    available.insert(init.name());
  std::map<std::string, size_t> producer;
  for (auto [index, node] : llvm::enumerate(graph.node()))
    for (const std::string &out : node.output())
      if (!out.empty()) {
        if (available.count(out) || producer.count(out)) {
          emitError(nodeLoc(node, index))
              << "value '" << out << "' is defined more than once";
          return failure();
        }
        producer[out] = index;
      }
  size_t n = graph.node_size();
  std::vector<size_t> pending(n, 0);
  std::vector<std::vector<size_t>> consumers(n);
  bool ok = true;
  for (auto [index, node] : llvm::enumerate(graph.node())) {
    std::set<size_t> deps;
    for (const std::string &in : node.input()) {
      if (in.empty() || available.count(in))
        continue;
      auto it = producer.find(in);
      if (it == producer.end()) {
        emitError(nodeLoc(node, index))
            << "input '" << in << "' is not defined (no node, graph input "
            << "or initializer produces it; missing initializer?)";
        ok = false;
        continue;
      }
      deps.insert(it->second);
    }
    pending[index] = deps.size();
    for (size_t dep : deps)
      consumers[dep].push_back(index);
  }
  if (!ok)
    return failure();
  std::vector<size_t> ready;
  for (size_t i = n; i-- > 0;)
    if (pending[i] == 0)
      ready.push_back(i);
  while (!ready.empty()) {
    size_t i = ready.back();
    ready.pop_back();
    order.emplace_back(&graph.node(i), i);
    // Reverse so that, among ready nodes, file order is kept.
    for (auto it = consumers[i].rbegin(); it != consumers[i].rend(); ++it)
      if (--pending[*it] == 0)
        ready.push_back(*it);
  }
  if (order.size() != n) {
    for (size_t i = 0; i < n; ++i)
      if (pending[i] > 0) {
        emitError(nodeLoc(graph.node(i), i))
            << "the graph has a cycle through this node";
        return failure();
      }
  }
  return success();
}

LogicalResult OnnxImporter::createFunction() {
  const auto &graph = model.graph();
  module = ModuleOp::create(fileLoc());
  std::string modelName = graph.name();
  (*module)->setAttr("kiln.source", StringAttr::get(context, path));
  if (!modelName.empty())
    (*module)->setAttr("kiln.graph_name", StringAttr::get(context, modelName));
  builder.setInsertionPointToEnd(module->getBody());

  std::set<std::string> initializerNames;
  for (const auto &init : graph.initializer())
    initializerNames.insert(init.name());

  // Graph inputs that are not initializers become arguments.
  std::map<std::string, const InputShape *> overrides;
  for (const InputShape &shape : options.inputShapes)
    overrides[shape.name] = &shape;
  std::map<std::string, const Tensor *> bound;
  for (const Tensor &tensor : options.boundInputs)
    bound[tensor.name] = &tensor;
  std::set<std::string> inputNames;
  SmallVector<Type> argTypes;
  SmallVector<std::string> argNames;
  bool ok = true;
  for (const auto &input : graph.input()) {
    if (initializerNames.count(input.name()))
      continue;
    inputNames.insert(input.name());
    Location loc = NameLoc::get(StringAttr::get(context, input.name()),
                                fileLoc());
    if (!input.type().has_tensor_type()) {
      emitError(loc) << "unsupported input '" << input.name()
                     << "': only tensor inputs are supported (not sequences, "
                        "maps or optionals)";
      ok = false;
      continue;
    }
    const auto &tensorType = input.type().tensor_type();
    if (auto it = bound.find(input.name()); it != bound.end()) {
      // A bound input becomes a constant; its declared type must agree.
      const Tensor &value = *it->second;
      std::optional<DType> declared = dtypeFromOnnx(tensorType.elem_type());
      bool shapeOk = !tensorType.has_shape() ||
                     tensorType.shape().dim_size() ==
                         static_cast<int>(value.shape.size());
      for (int d = 0; shapeOk && d < tensorType.shape().dim_size(); ++d) {
        const auto &dim = tensorType.shape().dim(d);
        if (dim.has_dim_value() && dim.dim_value() >= 0 &&
            dim.dim_value() != value.shape[d])
          shapeOk = false;
      }
      if (!declared || *declared != value.dtype || !shapeOk) {
        emitError(loc) << "bound value " << value.describe()
                       << " does not match the declared type of input '"
                       << input.name() << "'";
        ok = false;
      } else {
        boundValues.emplace_back(input.name(), &value);
      }
      bound.erase(it);
      continue;
    }
    std::optional<DType> dtype = dtypeFromOnnx(tensorType.elem_type());
    if (!dtype) {
      emitError(loc) << "unsupported element type "
                     << onnxTypeName(tensorType.elem_type()) << " of input '"
                     << input.name() << "'";
      ok = false;
      continue;
    }
    SmallVector<int64_t> shape;
    bool dynamic = !tensorType.has_shape();
    std::string shapeText;
    if (tensorType.has_shape()) {
      for (const auto &dim : tensorType.shape().dim()) {
        if (dim.has_dim_value() && dim.dim_value() >= 0) {
          shape.push_back(dim.dim_value());
          shapeText += (shapeText.empty() ? "" : "x") +
                       std::to_string(dim.dim_value());
        } else {
          dynamic = true;
          shape.push_back(ShapedType::kDynamic);
          shapeText += (shapeText.empty() ? "" : "x") +
                       (dim.has_dim_param() ? dim.dim_param() : "?");
        }
      }
    }
    auto override = overrides.find(input.name());
    if (override != overrides.end()) {
      const std::vector<int64_t> &dims = override->second->dims;
      if (tensorType.has_shape() && dims.size() != shape.size()) {
        emitError(loc) << "--input-shape gives " << dims.size()
                       << " dimensions for input '" << input.name()
                       << "' of rank " << shape.size();
        ok = false;
        continue;
      }
      for (size_t d = 0; d < shape.size(); ++d)
        if (shape[d] != ShapedType::kDynamic && shape[d] != dims[d]) {
          emitError(loc) << "--input-shape gives dimension " << d
                         << " of input '" << input.name() << "' as "
                         << dims[d] << ", but the model fixes it to "
                         << shape[d];
          ok = false;
        }
      shape.assign(dims.begin(), dims.end());
      overrides.erase(override);
    } else if (dynamic) {
      emitError(loc) << "input '" << input.name()
                     << "' has dynamic dimensions ("
                     << (tensorType.has_shape() ? shapeText : "unknown rank")
                     << "); give a fixed shape with --input-shape "
                     << input.name() << "=D0xD1x...";
      ok = false;
      continue;
    }
    bool absurd = false;
    for (int64_t d : shape)
      if (d > (int64_t(1) << 31)) {
        emitError(loc) << "absurd dimension " << d << " of input '"
                       << input.name() << "'";
        ok = false;
        absurd = true;
      }
    if (!absurd && boundedNumElements(shape) < 0) {
      emitError(loc) << "absurd shape " << mlir::kiln::formatShape(shape)
                     << " of input '" << input.name()
                     << "' (over 2^34 elements)";
      ok = false;
    }
    if (!ok)
      continue;
    argTypes.push_back(RankedTensorType::get(shape, toMlirType(context,
                                                               *dtype)));
    argNames.push_back(input.name());
  }
  for (const auto &[name, tensor] : bound)
    emitError(fileLoc()) << "--bind names '" << name
                         << "', which is not an input of the model";
  if (!bound.empty())
    ok = false;
  for (const auto &[name, shape] : overrides) {
    std::string known;
    for (const std::string &n : inputNames)
      known += (known.empty() ? "" : ", ") + n;
    emitError(fileLoc()) << "--input-shape names '" << name
                         << "', which is not an input of the model (inputs: "
                         << known << ")";
    ok = false;
  }
  if (!ok)
    return failure();

  func = func::FuncOp::create(builder, fileLoc(), "main",
                              builder.getFunctionType(argTypes, {}));
  Block *entry = func.addEntryBlock();
  for (auto [i, name] : llvm::enumerate(argNames)) {
    func.setArgAttr(i, "kiln.name", builder.getStringAttr(name));
    values[name] = entry->getArgument(i);
  }
  builder.setInsertionPointToStart(entry);
  for (const auto &[name, tensor] : boundValues) {
    auto type = tensorTypeOf(context, *tensor);
    values[name] = mlir::kiln::ConstantOp::create(
        builder, NameLoc::get(StringAttr::get(context, name), fileLoc()),
        type, toElementsAttr(*tensor, type, "bound_" + name));
  }

  // Initializers become constants (weights as dense_resource blobs).
  for (const auto &init : graph.initializer()) {
    Location loc = NameLoc::get(StringAttr::get(context, init.name()),
                                fileLoc());
    auto tensor = tensorFromProto(init, modelDir,
                                  path + ": initializer '" + init.name() +
                                      "'");
    if (!tensor) {
      for (const Diagnostic &diag : tensor.status().diagnostics())
        emitError(loc) << diag.message;
      ok = false;
      continue;
    }
    auto type = tensorTypeOf(context, *tensor);
    std::string blob = "w" + std::to_string(blobCounter++);
    auto constant = mlir::kiln::ConstantOp::create(
        builder, loc, type, toElementsAttr(*tensor, type, blob));
    values[init.name()] = constant;
  }
  return success(ok);
}

LogicalResult OnnxImporter::foldConstants(std::vector<Operation *> &ops,
                                          const onnx::NodeProto &node,
                                          Location loc) {
  for (Operation *op : ops) {
    // Remember which outputs of this node name the op's results.
    SmallVector<std::pair<std::string, unsigned>> named;
    for (const std::string &out : node.output())
      if (!out.empty() && values[out] && values[out].getDefiningOp() == op)
        named.emplace_back(out,
                           cast<OpResult>(values[out]).getResultNumber());
    std::string error;
    SmallVector<Value> replacements;
    FoldResult result = tryFoldToConstants(op, builder, kMaxFoldElements,
                                           error, "c", &replacements);
    if (result == FoldResult::Failed) {
      emitError(loc) << "evaluating constant '"
                     << op->getName().getStringRef() << "' failed: " << error;
      return failure();
    }
    if (result != FoldResult::Folded)
      continue;
    // Results were replaced; point the node's outputs at the constants.
    for (auto &[name, index] : named)
      values[name] = replacements[index];
    op->erase();
  }
  return success();
}

LogicalResult OnnxImporter::importNode(const onnx::NodeProto &node,
                                       size_t index) {
  Location loc = nodeLoc(node, index);
  // Skip nodes downstream of a failed node: their errors would only repeat.
  for (const std::string &in : node.input())
    if (!in.empty() && !lookup(in))
      return failure();
  std::string domain = canonicalDomain(node.domain());
  const SchemaTable &table = SchemaTable::get();
  int64_t opset = opsets.at(domain);
  int64_t version = -1;
  for (int64_t since : table.ops.at({domain, node.op_type()}))
    if (since <= opset)
      version = since;
  const ConverterRegistry::Entry *entry =
      ConverterRegistry::get().lookup(domain, node.op_type());

  InsertionRecorder recorder;
  OpBuilder::Listener *previous = builder.getListener();
  builder.setListener(&recorder);
  NodeImporter importer(*this, node, version, opset, loc);
  LogicalResult result = entry->fn(importer);
  builder.setListener(previous);
  if (failed(result))
    return failure();
  for (auto [i, out] : llvm::enumerate(node.output()))
    if (!out.empty() && !lookup(out)) {
      emitError(loc) << "internal error: the converter of '"
                     << node.op_type() << "' did not produce output " << i;
      return failure();
    }
  // Absurd shapes (Expand or Tile to 2^90 elements, ...) stop here, before
  // anything computes their element counts.
  for (Operation *op : recorder.ops)
    for (Type type : op->getResultTypes()) {
      auto tensor = dyn_cast<RankedTensorType>(type);
      if (!tensor || boundedNumElements(tensor.getShape()) < 0) {
        emitError(loc) << "ONNX op '" << node.op_type()
                       << "' would produce " << type
                       << " (Kiln needs static shapes of at most 2^34 "
                          "elements)";
        return failure();
      }
    }
  // Verify the new ops now, so a converter bug points at its node.
  for (Operation *op : recorder.ops)
    if (failed(mlir::verify(op, /*verifyRecursively=*/false)))
      return failure();
  LogicalResult folded = foldConstants(recorder.ops, node, loc);
  // Folding moved the insertion point; nodes are appended in order.
  builder.setInsertionPointToEnd(&func.getBody().front());
  return folded;
}

LogicalResult OnnxImporter::finish() {
  const auto &graph = model.graph();
  SmallVector<Value> results;
  SmallVector<Type> resultTypes;
  bool ok = true;
  for (const auto &output : graph.output()) {
    Value value = lookup(output.name());
    Location loc = NameLoc::get(StringAttr::get(context, output.name()),
                                fileLoc());
    if (!value) {
      emitError(loc) << "graph output '" << output.name()
                     << "' is not produced by any node";
      ok = false;
      continue;
    }
    auto type = cast<RankedTensorType>(value.getType());
    // Check the model's own declaration against what Kiln computed.
    if (output.type().has_tensor_type()) {
      const auto &declared = output.type().tensor_type();
      std::optional<DType> dtype = dtypeFromOnnx(declared.elem_type());
      if (declared.elem_type() != 0 && dtype &&
          toMlirType(context, *dtype) != type.getElementType()) {
        emitError(loc) << "output '" << output.name() << "' is declared "
                       << onnxTypeName(declared.elem_type())
                       << " but computes as " << type.getElementType();
        ok = false;
      }
      if (declared.has_shape()) {
        bool matches =
            declared.shape().dim_size() == static_cast<int>(type.getRank());
        for (int d = 0; matches && d < declared.shape().dim_size(); ++d) {
          const auto &dim = declared.shape().dim(d);
          if (dim.has_dim_value() && dim.dim_value() >= 0 &&
              dim.dim_value() != type.getDimSize(d))
            matches = false;
        }
        if (!matches) {
          emitError(loc) << "output '" << output.name()
                         << "' is declared with a shape that differs from "
                            "the computed "
                         << mlir::kiln::formatShape(type.getShape());
          ok = false;
        }
      }
    }
    results.push_back(value);
    resultTypes.push_back(type);
  }
  if (!ok)
    return failure();
  builder.setInsertionPointToEnd(&func.getBody().front());
  func::ReturnOp::create(builder, fileLoc(), results);
  func.setType(builder.getFunctionType(func.getArgumentTypes(), resultTypes));
  for (auto [i, output] : llvm::enumerate(graph.output()))
    func.setResultAttr(i, "kiln.name", builder.getStringAttr(output.name()));
  // Drop ops whose results nobody uses (folded shape inputs and the like).
  for (Operation &op :
       llvm::make_early_inc_range(llvm::reverse(func.getBody().front())))
    if (!isa<func::ReturnOp>(op) && op.use_empty())
      op.erase();
  return success();
}

OwningOpRef<ModuleOp> OnnxImporter::run() {
  if (failed(resolveOpsets()))
    return nullptr;
  if (failed(checkSupport()))
    return nullptr;
  if (failed(orderNodes()))
    return nullptr;
  if (failed(createFunction()))
    return nullptr;
  bool ok = true;
  for (auto [node, index] : order)
    if (failed(importNode(*node, index)))
      ok = false;
  if (!ok || failed(finish()))
    return nullptr;
  if (failed(mlir::verify(*module)))
    return nullptr;
  return std::move(module);
}

//===----------------------------------------------------------------------===//
// NodeImporter
//===----------------------------------------------------------------------===//

NodeImporter::NodeImporter(OnnxImporter &importer, const onnx::NodeProto &node,
                           int64_t version, int64_t opset, Location loc)
    : importer_(importer), node_(node), version_(version), opset_(opset),
      loc_(loc), builder_(importer.getBuilder()),
      errorCallback_([this]() { return emitError(); }) {}

llvm::StringRef NodeImporter::opType() const { return node_.op_type(); }

size_t NodeImporter::numInputs() const { return node_.input_size(); }

bool NodeImporter::hasInput(size_t i) const {
  return i < numInputs() && !node_.input(i).empty();
}

Value NodeImporter::input(size_t i) const {
  return importer_.lookup(node_.input(i));
}

RankedTensorType NodeImporter::inputType(size_t i) const {
  return cast<RankedTensorType>(input(i).getType());
}

llvm::ArrayRef<int64_t> NodeImporter::inputShape(size_t i) const {
  return inputType(i).getShape();
}

Type NodeImporter::inputElementType(size_t i) const {
  return inputType(i).getElementType();
}

DType NodeImporter::inputDType(size_t i) const {
  return fromMlirType(inputElementType(i)).value_or(DType::F32);
}

std::optional<Tensor> NodeImporter::constantInput(size_t i) const {
  if (!hasInput(i))
    return std::nullopt;
  auto constant = input(i).getDefiningOp<mlir::kiln::ConstantOp>();
  if (!constant)
    return std::nullopt;
  return fromElementsAttr(constant.getValue());
}

FailureOr<Tensor> NodeImporter::requireConstant(size_t i, StringRef what) {
  std::optional<Tensor> tensor = constantInput(i);
  if (!tensor) {
    emitError() << "input '" << what << "' (value '" << node_.input(i)
                << "') must be a constant (Kiln compiles static graphs; bind "
                   "it with --bind, or compute it from constants and shapes)";
    return failure();
  }
  return std::move(*tensor);
}

FailureOr<std::vector<int64_t>> NodeImporter::constantInts(size_t i,
                                                           StringRef what) {
  FailureOr<Tensor> tensor = requireConstant(i, what);
  if (failed(tensor))
    return failure();
  std::vector<int64_t> result;
  for (int64_t k = 0, n = tensor->numElements(); k < n; ++k)
    result.push_back(loadInt(*tensor, k));
  return result;
}

FailureOr<std::vector<double>> NodeImporter::constantFloats(size_t i,
                                                            StringRef what) {
  FailureOr<Tensor> tensor = requireConstant(i, what);
  if (failed(tensor))
    return failure();
  std::vector<double> result;
  for (int64_t k = 0, n = tensor->numElements(); k < n; ++k)
    result.push_back(loadFloat(*tensor, k));
  return result;
}

const onnx::AttributeProto *NodeImporter::attr(StringRef name) const {
  for (const auto &a : node_.attribute())
    if (a.name() == name)
      return &a;
  return nullptr;
}

bool NodeImporter::hasAttr(StringRef name) const { return attr(name); }

int64_t NodeImporter::getInt(StringRef name, int64_t defaultValue) const {
  const auto *a = attr(name);
  return a ? a->i() : defaultValue;
}

float NodeImporter::getFloat(StringRef name, float defaultValue) const {
  const auto *a = attr(name);
  return a ? a->f() : defaultValue;
}

std::string NodeImporter::getString(StringRef name,
                                    StringRef defaultValue) const {
  const auto *a = attr(name);
  return a ? a->s() : defaultValue.str();
}

std::vector<int64_t> NodeImporter::getInts(StringRef name) const {
  const auto *a = attr(name);
  if (!a)
    return {};
  return std::vector<int64_t>(a->ints().begin(), a->ints().end());
}

std::vector<float> NodeImporter::getFloats(StringRef name) const {
  const auto *a = attr(name);
  if (!a)
    return {};
  return std::vector<float>(a->floats().begin(), a->floats().end());
}

std::vector<std::string> NodeImporter::getStrings(StringRef name) const {
  const auto *a = attr(name);
  if (!a)
    return {};
  return std::vector<std::string>(a->strings().begin(), a->strings().end());
}

FailureOr<Tensor> NodeImporter::getTensor(StringRef name) {
  const auto *a = attr(name);
  if (!a || !a->has_t()) {
    emitError() << "attribute '" << name << "' must be a tensor";
    return failure();
  }
  auto tensor = tensorFromProto(a->t(), importer_.getModelDir(),
                                "attribute '" + name.str() + "'");
  if (!tensor) {
    for (const Diagnostic &diag : tensor.status().diagnostics()) {
      if (diag.message.rfind("unsupported", 0) == 0)
        (void)unsupported(diag.message.substr(12));
      else
        emitError() << diag.message;
    }
    return failure();
  }
  return tensor.take();
}

InFlightDiagnostic NodeImporter::emitError() {
  return mlir::emitError(loc_);
}

LogicalResult NodeImporter::unsupported(const llvm::Twine &what) {
  emitError() << "unsupported " << what << " in ONNX op '" << opType()
              << "' (version " << version_ << ")";
  return failure();
}

FailureOr<int64_t> NodeImporter::normalizeAxis(int64_t axis, int64_t rank,
                                               StringRef what) {
  if (axis < -rank || axis >= rank) {
    emitError() << what << " " << axis << " is out of range for rank "
                << rank;
    return failure();
  }
  return axis < 0 ? axis + rank : axis;
}

size_t NodeImporter::numOutputs() const { return node_.output_size(); }

bool NodeImporter::hasOutput(size_t i) const {
  return i < numOutputs() && !node_.output(i).empty();
}

void NodeImporter::setOutput(size_t i, Value value) {
  if (hasOutput(i))
    importer_.define(node_.output(i), value);
}

Value NodeImporter::constant(const Tensor &tensor) {
  auto type = tensorTypeOf(context(), tensor);
  return mlir::kiln::ConstantOp::create(builder_, loc_, type,
                                  toElementsAttr(tensor, type));
}

Value NodeImporter::scalar(DType type, double value) {
  Tensor tensor("", type, {});
  storeFloat(tensor, 0, value);
  return constant(tensor);
}

Value NodeImporter::reshape(Value value, llvm::ArrayRef<int64_t> shape) {
  auto type = cast<RankedTensorType>(value.getType());
  if (type.getShape() == shape)
    return value;
  return mlir::kiln::ReshapeOp::create(
      builder_, loc_, RankedTensorType::get(shape, type.getElementType()),
      value);
}

Value NodeImporter::castTo(Value value, Type elementType) {
  auto type = cast<RankedTensorType>(value.getType());
  if (type.getElementType() == elementType)
    return value;
  return mlir::kiln::CastOp::create(
      builder_, loc_, RankedTensorType::get(type.getShape(), elementType),
      value, builder_.getBoolAttr(true));
}

Type NodeImporter::mlirType(DType type) { return toMlirType(context(), type); }

//===----------------------------------------------------------------------===//
// ConverterRegistry
//===----------------------------------------------------------------------===//

void ConverterRegistry::add(StringRef domain, StringRef opType,
                            std::vector<int64_t> versions, ConverterFn fn) {
  entries[(domain + ":" + opType).str()] = Entry{std::move(versions), fn};
}

const ConverterRegistry::Entry *
ConverterRegistry::lookup(StringRef domain, StringRef opType) const {
  auto it = entries.find((domain + ":" + opType).str());
  return it == entries.end() ? nullptr : &it->second;
}

std::vector<std::string> ConverterRegistry::keys() const {
  std::vector<std::string> result;
  for (const auto &entry : entries)
    result.push_back(entry.getKey().str());
  std::sort(result.begin(), result.end());
  return result;
}

const ConverterRegistry &ConverterRegistry::get() {
  static const ConverterRegistry registry = [] {
    ConverterRegistry r;
    registerStructuralConverters(r);
    registerElementwiseConverters(r);
    registerLinearConverters(r);
    registerNormalizationConverters(r);
    registerPoolingConverters(r);
    registerReductionConverters(r);
    registerDataMovementConverters(r);
    registerQuantizationConverters(r);
    registerAttentionConverters(r);
    return r;
  }();
  return registry;
}

size_t numSupportedOnnxOps() { return ConverterRegistry::get().keys().size(); }

//===----------------------------------------------------------------------===//
// Entry points
//===----------------------------------------------------------------------===//

/// Imports a parsed model (after the libonnx checks and opset upgrade).
static OwningOpRef<ModuleOp> importModel(MLIRContext *context,
                                         std::shared_ptr<onnx::ModelProto> model,
                                         const std::string &path,
                                         const std::string &modelDir,
                                         const CompileOptions &options,
                                         Status &status) {
  status.append(checkWithLibOnnx(*model, path));
  if (status.failed())
    return nullptr;
  int64_t defaultOpset = -1;
  for (const auto &opset : model->opset_import())
    if (canonicalDomain(opset.domain()).empty())
      defaultOpset = opset.version();
  if (defaultOpset >= 1 && defaultOpset < kMinNativeOpset) {
    {
      DiagnosticCapture capture(context, status);
      OnnxImporter check(context, *model, path, modelDir, options);
      if (failed(check.preflight())) {
        status.setFailed();
        return nullptr;
      }
    }
    auto upgraded = upgradeOpset(*model, kUpgradeTarget, path);
    status.append(upgraded.status());
    if (!upgraded)
      return nullptr;
    model = upgraded.take();
  }
  DiagnosticCapture capture(context, status);
  OnnxImporter importer(context, *model, path, modelDir, options);
  OwningOpRef<ModuleOp> module = importer.run();
  if (!module)
    status.setFailed();
  return module;
}

OwningOpRef<ModuleOp> importOnnxFile(MLIRContext *context,
                                     const std::string &path,
                                     const CompileOptions &options,
                                     Status &status) {
  auto model = readModelFile(path);
  status.append(model.status());
  if (!model)
    return nullptr;
  std::string dir = std::filesystem::path(path).parent_path().string();
  return importModel(context, model.take(), path, dir.empty() ? "." : dir,
                     options, status);
}

OwningOpRef<ModuleOp> importOnnxBytes(MLIRContext *context,
                                      const std::string &bytes,
                                      const std::string &name,
                                      const CompileOptions &options,
                                      Status &status) {
  auto model = readModelBytes(bytes, name);
  status.append(model.status());
  if (!model)
    return nullptr;
  // No folder: external data cannot be resolved and is refused.
  return importModel(context, model.take(), name, "/nonexistent-kiln-dir",
                     options, status);
}

} // namespace kiln::frontend
