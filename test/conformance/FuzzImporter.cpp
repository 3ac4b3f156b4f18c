//===- FuzzImporter.cpp - libFuzzer target over the ONNX importer -*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// kiln-fuzz-importer: feeds arbitrary bytes to the ONNX importer
// (frontend::importOnnxBytes: protobuf parsing, libonnx checker and version
// converter, opset resolution, support check, topological ordering, input
// and initializer handling, every converter, import-time constant folding
// with the evaluator, output checks). The importer must turn any input into
// a module or a diagnostic: a crash, a hang, a sanitizer report or an
// out-of-memory is a bug.
//
// When the import succeeds and the model is small, the target also runs the
// reference evaluator on zero-filled inputs, which must succeed or fail
// with a diagnostic too.
//
// Byte-level mutations rarely keep a protobuf parseable, so a custom
// mutator (LLVMFuzzerCustomMutator) mostly mutates the ModelProto itself:
// attribute values (boundary integers, odd strings, wrong types), input
// dimensions, shape-like initializer values, element types, op types
// (among the ops Kiln converts), value names (dangling, cycles), opsets,
// node order; one mutation in four stays byte-level.
//
// Built only in sanitized clang builds (KILN_SANITIZE=ON), linked with
// -fsanitize=fuzzer; the Kiln libraries are compiled with
// -fsanitize=fuzzer-no-link there so coverage guides the fuzzer
// (cmake/KilnUtils.cmake). ctest `conformance.fuzz-importer` runs it for a
// bounded time with a fixed seed from a corpus of node-test models and
// corrupted variants (make_fuzz_corpus.py).
//
//===----------------------------------------------------------------------===//

#include "compiler/evaluator/Evaluator.h"
#include "compiler/frontend/OnnxImporter.h"
#include "compiler/support/TensorAttr.h"
#include "kiln/Pipeline.h"

#include "mlir/IR/MLIRContext.h"

#include "compiler/frontend/ImportContext.h"

#include "onnx/onnx_pb.h"

#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <string>

extern "C" size_t LLVMFuzzerMutate(uint8_t *data, size_t size,
                                   size_t maxSize);

namespace {

using Rng = std::mt19937_64;

/// Returns a uniformly drawn index below |n| (n > 0).
size_t pick(Rng &rng, size_t n) { return rng() % n; }

/// Integers that break size arithmetic and range checks.
int64_t interestingInt(Rng &rng) {
  static const int64_t values[] = {0,  1,  -1, 2,  -2, 3, 7, 64,
                                   255, 256, int64_t(1) << 31,
                                   (int64_t(1) << 31) - 1, int64_t(1) << 32,
                                   int64_t(1) << 40, int64_t(1) << 62,
                                   INT64_MAX, INT64_MIN, INT64_MIN + 1};
  if (rng() % 3 == 0)
    return static_cast<int64_t>(rng() % 9) - 4;
  return values[pick(rng, std::size(values))];
}

float interestingFloat(Rng &rng) {
  static const float values[] = {0.0f, -0.0f, 1.0f, -1.0f, 0.5f, 1e-30f,
                                 1e30f, 3.4e38f, -3.4e38f,
                                 std::numeric_limits<float>::infinity(),
                                 std::numeric_limits<float>::quiet_NaN()};
  return values[pick(rng, std::size(values))];
}

const char *interestingString(Rng &rng) {
  static const char *values[] = {"",          "NOTSET",   "SAME_UPPER",
                                 "SAME_LOWER", "VALID",    "constant",
                                 "reflect",    "edge",     "wrap",
                                 "none",       "tanh",     "DCR",
                                 "CRD",        "linear",   "nearest",
                                 "bogus\xff",  "half_pixel"};
  return values[pick(rng, std::size(values))];
}

/// The op types Kiln converts, to turn one node into another.
const std::vector<std::string> &kilnOps() {
  static const std::vector<std::string> ops = [] {
    std::vector<std::string> result;
    for (const std::string &key :
         kiln::frontend::ConverterRegistry::get().keys())
      result.push_back(key.substr(key.find(':') + 1));
    return result;
  }();
  return ops;
}

void mutateAttribute(onnx::AttributeProto &attr, Rng &rng) {
  switch (rng() % 8) {
  case 0: // The wrong type.
    attr.set_type(static_cast<onnx::AttributeProto::AttributeType>(
        1 + pick(rng, 8)));
    return;
  case 1:
    attr.set_i(interestingInt(rng));
    return;
  case 2:
    attr.set_f(interestingFloat(rng));
    return;
  case 3:
    attr.set_s(interestingString(rng));
    return;
  default:
    break;
  }
  if (attr.ints_size() > 0 && rng() % 2) {
    attr.set_ints(pick(rng, attr.ints_size()), interestingInt(rng));
  } else if (attr.ints_size() > 0 && rng() % 2) {
    attr.mutable_ints()->RemoveLast();
  } else if (attr.type() == onnx::AttributeProto::INTS) {
    attr.add_ints(interestingInt(rng));
  } else if (attr.floats_size() > 0) {
    attr.set_floats(pick(rng, attr.floats_size()), interestingFloat(rng));
  } else if (attr.type() == onnx::AttributeProto::INT) {
    attr.set_i(interestingInt(rng));
  } else if (attr.type() == onnx::AttributeProto::STRING) {
    attr.set_s(interestingString(rng));
  } else {
    attr.set_f(interestingFloat(rng));
  }
}

/// Every value name of |graph| (inputs, initializers, node outputs).
std::vector<std::string> valueNames(const onnx::GraphProto &graph) {
  std::vector<std::string> names;
  for (const auto &input : graph.input())
    names.push_back(input.name());
  for (const auto &init : graph.initializer())
    names.push_back(init.name());
  for (const auto &node : graph.node())
    for (const auto &out : node.output())
      names.push_back(out);
  return names;
}

/// Applies one random semantic mutation to |model|.
void mutateModel(onnx::ModelProto &model, Rng &rng) {
  onnx::GraphProto &graph = *model.mutable_graph();
  int nodes = graph.node_size();
  switch (rng() % 12) {
  case 0:
  case 1:
  case 2: { // An attribute value.
    if (!nodes)
      break;
    onnx::NodeProto &node = *graph.mutable_node(pick(rng, nodes));
    if (node.attribute_size() == 0 || rng() % 4 == 0) {
      static const char *names[] = {"axis",   "axes",      "perm",
                                    "pads",   "strides",   "dilations",
                                    "group",  "kernel_shape", "to",
                                    "mode",   "keepdims",  "auto_pad",
                                    "transA", "transB",    "alpha",
                                    "beta",   "ceil_mode", "num_outputs",
                                    "split",  "value"};
      onnx::AttributeProto &attr = *node.add_attribute();
      attr.set_name(names[pick(rng, std::size(names))]);
      attr.set_type(onnx::AttributeProto::INTS);
      attr.add_ints(interestingInt(rng));
      mutateAttribute(attr, rng);
    } else {
      mutateAttribute(*node.mutable_attribute(
                          pick(rng, node.attribute_size())),
                      rng);
    }
    break;
  }
  case 3: { // An input dimension.
    if (!graph.input_size())
      break;
    auto &type = *graph.mutable_input(pick(rng, graph.input_size()))
                      ->mutable_type()
                      ->mutable_tensor_type();
    auto &shape = *type.mutable_shape();
    if (shape.dim_size() && rng() % 3)
      shape.mutable_dim(pick(rng, shape.dim_size()))
          ->set_dim_value(rng() % 2 ? interestingInt(rng)
                                    : static_cast<int64_t>(rng() % 6));
    else if (rng() % 2)
      shape.add_dim()->set_dim_value(1 + rng() % 4);
    else
      type.set_elem_type(static_cast<int32_t>(rng() % 26));
    break;
  }
  case 4: { // A shape-like initializer value or an initializer type.
    if (!graph.initializer_size())
      break;
    onnx::TensorProto &init =
        *graph.mutable_initializer(pick(rng, graph.initializer_size()));
    if (init.int64_data_size())
      init.set_int64_data(pick(rng, init.int64_data_size()),
                          interestingInt(rng));
    else if (init.has_raw_data() && init.data_type() == onnx::TensorProto::INT64 &&
             init.raw_data().size() >= 8) {
      int64_t value = interestingInt(rng);
      size_t at = 8 * pick(rng, init.raw_data().size() / 8);
      std::memcpy(&(*init.mutable_raw_data())[at], &value, 8);
    } else if (rng() % 2 && init.dims_size()) {
      init.set_dims(pick(rng, init.dims_size()), interestingInt(rng));
    } else {
      init.set_data_type(static_cast<int32_t>(rng() % 26));
    }
    break;
  }
  case 5: { // Another op.
    if (!nodes)
      break;
    const auto &ops = kilnOps();
    graph.mutable_node(pick(rng, nodes))
        ->set_op_type(ops[pick(rng, ops.size())]);
    break;
  }
  case 6: { // Rewire an input (dangling names, cycles, empty names).
    if (!nodes)
      break;
    onnx::NodeProto &node = *graph.mutable_node(pick(rng, nodes));
    std::vector<std::string> names = valueNames(graph);
    // A graph of output-less nodes has no value names at all.
    std::string name = rng() % 5 == 0 || names.empty()
                           ? std::string(rng() % 2 ? "" : "?")
                           : names[pick(rng, names.size())];
    if (node.input_size() && rng() % 3)
      node.set_input(pick(rng, node.input_size()), name);
    else
      node.add_input(name);
    break;
  }
  case 7: { // Fewer inputs or outputs.
    if (!nodes)
      break;
    onnx::NodeProto &node = *graph.mutable_node(pick(rng, nodes));
    if (rng() % 2 && node.input_size())
      node.mutable_input()->RemoveLast();
    else if (node.output_size())
      node.add_output("extra" + std::to_string(rng() % 4));
    break;
  }
  case 8: { // Opsets.
    if (model.opset_import_size())
      model.mutable_opset_import(0)->set_version(
          rng() % 4 ? static_cast<int64_t>(rng() % 27) : interestingInt(rng));
    else
      model.add_opset_import()->set_version(13);
    break;
  }
  case 9: { // Node order, duplicates, removal.
    if (nodes < 1)
      break;
    if (rng() % 3 == 0)
      graph.mutable_node()->SwapElements(pick(rng, nodes), pick(rng, nodes));
    else if (rng() % 2)
      *graph.add_node() = graph.node(pick(rng, nodes));
    else
      graph.mutable_node()->DeleteSubrange(pick(rng, nodes), 1);
    break;
  }
  case 10: { // The IR version.
    model.set_ir_version(rng() % 4 ? 1 + rng() % 11 : interestingInt(rng));
    break;
  }
  default: { // Graph outputs.
    std::vector<std::string> names = valueNames(graph);
    if (graph.output_size() && !names.empty())
      graph.mutable_output(pick(rng, graph.output_size()))
          ->set_name(names[pick(rng, names.size())]);
    break;
  }
  }
}

} // namespace

extern "C" size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size,
                                          size_t maxSize, unsigned seed) {
  Rng rng(seed);
  onnx::ModelProto model;
  if (rng() % 4 == 0 || !model.ParseFromArray(data, static_cast<int>(size)))
    return LLVMFuzzerMutate(data, size, maxSize);
  for (unsigned i = 0, n = 1 + rng() % 3; i < n; ++i)
    mutateModel(model, rng);
  std::string bytes;
  if (!model.SerializeToString(&bytes) || bytes.size() > maxSize)
    return LLVMFuzzerMutate(data, size, maxSize);
  std::memcpy(data, bytes.data(), bytes.size());
  return bytes.size();
}

namespace {

/// Largest number of elements over all arguments for which the target also
/// evaluates the imported model.
constexpr int64_t kMaxEvalElements = int64_t(1) << 16;

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  // A context per input: dense_resource blobs and uniqued attributes would
  // otherwise accumulate across millions of inputs.
  static mlir::DialectRegistry *registry = [] {
    auto *r = new mlir::DialectRegistry();
    kiln::registerKilnDialects(*r);
    return r;
  }();
  mlir::MLIRContext context(*registry,
                            mlir::MLIRContext::Threading::DISABLED);
  context.loadAllAvailableDialects();
  context.printOpOnDiagnostic(false);

  std::string bytes(reinterpret_cast<const char *>(data), size);
  kiln::CompileOptions options;
  kiln::Status status;
  auto module = kiln::frontend::importOnnxBytes(&context, bytes, "fuzz.onnx",
                                                options, status);
  if (!module)
    return 0;
  mlir::func::FuncOp func = kiln::getEntryFunction(*module);
  if (!func)
    return 0;
  std::vector<kiln::Tensor> inputs;
  int64_t total = 0;
  for (mlir::Type type : func.getFunctionType().getInputs()) {
    auto tensorType = llvm::cast<mlir::RankedTensorType>(type);
    std::optional<kiln::DType> dtype =
        kiln::fromMlirType(tensorType.getElementType());
    if (!dtype)
      return 0;
    total += tensorType.getNumElements();
    if (total > kMaxEvalElements)
      return 0;
    inputs.emplace_back("", *dtype,
                        std::vector<int64_t>(tensorType.getShape().begin(),
                                             tensorType.getShape().end()));
  }
  // Intermediate values can be large (Expand, Tile, ConstantOfShape with
  // legitimately big shapes); evaluating those would only measure memory.
  bool small = true;
  func.walk([&](mlir::Operation *op) {
    for (mlir::Type type : op->getResultTypes())
      if (auto tensor = llvm::dyn_cast<mlir::RankedTensorType>(type))
        if (!tensor.hasStaticShape() ||
            tensor.getNumElements() > kMaxEvalElements * 16)
          small = false;
  });
  if (!small)
    return 0;
  (void)kiln::evaluateFunction(func, std::move(inputs));
  return 0;
}
