//===- MemoryGraph.cpp - Plain-data graph for the memory planner -*- C++
//-*-===//
// SPDX-License-Identifier: Apache-2.0
//
// Construction, validation and use analysis of kiln::memory::MemoryGraph.
// verify() collects every problem before it fails so that the MLIR pass that
// builds the graph can report them all at once.
//
//===----------------------------------------------------------------------===//

#include "passes/memory/planner/MemoryGraph.h"

#include <algorithm>
#include <utility>

namespace kiln::memory {

TensorId MemoryGraph::addTensor(TensorDesc tensor) {
  tensors_.push_back(std::move(tensor));
  return static_cast<TensorId>(tensors_.size() - 1);
}

TensorId MemoryGraph::addTensor(std::string name, uint64_t bytes,
                                uint32_t alignment) {
  TensorDesc tensor;
  tensor.name = std::move(name);
  tensor.bytes = bytes;
  tensor.alignment = alignment;
  return addTensor(std::move(tensor));
}

OpId MemoryGraph::addOp(OpDesc op) {
  ops_.push_back(std::move(op));
  return static_cast<OpId>(ops_.size() - 1);
}

std::vector<OpId> MemoryGraph::candidateOrder() const {
  std::vector<OpId> order(ops_.size());
  for (size_t i = 0; i < ops_.size(); ++i)
    order[i] = static_cast<OpId>(i);
  return order;
}

std::string describeTensor(const MemoryGraph &graph, TensorId id) {
  if (id < 0 || static_cast<size_t>(id) >= graph.numTensors())
    return "tensor #" + std::to_string(id);
  const std::string &name = graph.tensor(id).name;
  return name.empty() ? "tensor #" + std::to_string(id)
                      : "tensor '" + name + "'";
}

std::string describeOp(const MemoryGraph &graph, OpId id) {
  if (id < 0 || static_cast<size_t>(id) >= graph.numOps())
    return "op #" + std::to_string(id);
  const std::string &name = graph.op(id).name;
  return name.empty() ? "op #" + std::to_string(id) : "op '" + name + "'";
}

namespace {

/// Collects errors of MemoryGraph::verify, each with a location.
class Problems {
public:
  void add(std::string location, std::string message) {
    status_.add(Diagnostic{
        Severity::Error, std::move(location), std::move(message), {}});
  }
  Status take() { return std::move(status_); }

private:
  Status status_;
};

/// Returns true when |id| is a valid tensor id of |graph|.
bool validTensor(const MemoryGraph &graph, TensorId id) {
  return id >= 0 && static_cast<size_t>(id) < graph.numTensors();
}

/// Checks the capabilities of op |id|; its tensor ids are known valid.
void verifyCapabilities(const MemoryGraph &graph, OpId id, Problems &problems) {
  const OpDesc &op = graph.op(id);
  std::string where = describeOp(graph, id);
  auto bytesOf = [&](TensorId t) { return graph.tensor(t).bytes; };
  for (const InPlaceCapability &cap : op.inPlace) {
    if (cap.input >= op.inputs.size() || cap.output >= op.outputs.size()) {
      problems.add(where, "in-place capability refers to operand " +
                              std::to_string(cap.input) + " / result " +
                              std::to_string(cap.output) + ", out of range");
      continue;
    }
    uint64_t in = bytesOf(op.inputs[cap.input]);
    uint64_t out = bytesOf(op.outputs[cap.output]);
    if (cap.kind == InPlaceKind::Elementwise && in != out)
      problems.add(where, "elementwise in-place needs equal sizes, got input " +
                              std::to_string(in) + " bytes and output " +
                              std::to_string(out) + " bytes");
    if (cap.kind == InPlaceKind::Depthwise && out > in)
      problems.add(where,
                   "depthwise in-place needs an output no larger than its "
                   "input, got input " +
                       std::to_string(in) + " bytes and output " +
                       std::to_string(out) + " bytes");
  }
  if (op.alias) {
    if (op.alias->input >= op.inputs.size() ||
        op.alias->output >= op.outputs.size()) {
      problems.add(where, "alias capability refers to an operand or result "
                          "out of range");
    } else {
      uint64_t in = bytesOf(op.inputs[op.alias->input]);
      uint64_t out = bytesOf(op.outputs[op.alias->output]);
      if (in != out)
        problems.add(where, "alias needs equal sizes, got input " +
                                std::to_string(in) + " bytes and output " +
                                std::to_string(out) + " bytes");
    }
  }
  if (op.concat) {
    const ConcatPlacement &concat = *op.concat;
    if (concat.output >= op.outputs.size()) {
      problems.add(where, "concat placement refers to result " +
                              std::to_string(concat.output) + ", out of range");
      return;
    }
    if (concat.sliceOffsets.size() != op.inputs.size()) {
      problems.add(where, "concat placement needs one slice offset per input "
                          "(" +
                              std::to_string(op.inputs.size()) + "), got " +
                              std::to_string(concat.sliceOffsets.size()));
      return;
    }
    uint64_t outBytes = bytesOf(op.outputs[concat.output]);
    std::vector<std::pair<uint64_t, uint64_t>> slices;
    for (size_t i = 0; i < op.inputs.size(); ++i) {
      uint64_t begin = concat.sliceOffsets[i];
      uint64_t end = begin + bytesOf(op.inputs[i]);
      if (end > outBytes || end < begin)
        problems.add(where, "concat slice of input " + std::to_string(i) +
                                " ends at byte " + std::to_string(end) +
                                ", past the output's " +
                                std::to_string(outBytes) + " bytes");
      slices.emplace_back(begin, end);
    }
    std::sort(slices.begin(), slices.end());
    for (size_t i = 1; i < slices.size(); ++i)
      if (slices[i].first < slices[i - 1].second)
        problems.add(where, "concat slices overlap at byte " +
                                std::to_string(slices[i].first));
  }
}

} // namespace

Status MemoryGraph::verify() const {
  Problems problems;
  for (size_t t = 0; t < tensors_.size(); ++t) {
    const TensorDesc &tensor = tensors_[t];
    std::string where = describeTensor(*this, static_cast<TensorId>(t));
    if (!isPowerOfTwo(tensor.alignment))
      problems.add(where, "alignment must be a power of two, got " +
                              std::to_string(tensor.alignment));
    if (tensor.constant && (tensor.graphInput || tensor.graphOutput))
      problems.add(where, "a constant cannot also be a graph input or output");
  }

  std::vector<int> producerCount(tensors_.size(), 0);
  std::vector<OpId> producer(tensors_.size(), -1);
  bool idsValid = true;
  for (size_t o = 0; o < ops_.size(); ++o) {
    const OpDesc &op = ops_[o];
    OpId id = static_cast<OpId>(o);
    std::string where = describeOp(*this, id);
    bool opValid = true;
    for (TensorId t : op.inputs)
      if (!validTensor(*this, t)) {
        problems.add(where,
                     "input tensor id " + std::to_string(t) + " out of range");
        opValid = false;
      }
    for (TensorId t : op.outputs) {
      if (!validTensor(*this, t)) {
        problems.add(where,
                     "output tensor id " + std::to_string(t) + " out of range");
        opValid = false;
        continue;
      }
      ++producerCount[t];
      producer[t] = id;
      if (tensors_[t].constant || tensors_[t].graphInput)
        problems.add(where, "writes " + describeTensor(*this, t) +
                                ", which is a constant or graph input");
      if (std::count(op.inputs.begin(), op.inputs.end(), t))
        problems.add(where, "reads and writes " + describeTensor(*this, t));
    }
    if (!isPowerOfTwo(op.scratchAlignment))
      problems.add(where, "scratch alignment must be a power of two, got " +
                              std::to_string(op.scratchAlignment));
    if (opValid)
      verifyCapabilities(*this, id, problems);
    idsValid = idsValid && opValid;
  }
  if (!idsValid)
    return problems.take();

  for (size_t t = 0; t < tensors_.size(); ++t) {
    const TensorDesc &tensor = tensors_[t];
    std::string where = describeTensor(*this, static_cast<TensorId>(t));
    if (producerCount[t] > 1)
      problems.add(where, "has " + std::to_string(producerCount[t]) +
                              " producers, expected one");
    if (producerCount[t] == 0 && !tensor.graphInput && !tensor.constant)
      problems.add(where, "has no producer and is neither a graph input nor "
                          "a constant");
  }

  // Kahn's algorithm: ops left with unmet inputs lie on a cycle.
  std::vector<int> pending(ops_.size(), 0);
  std::vector<std::vector<OpId>> users(tensors_.size());
  for (size_t o = 0; o < ops_.size(); ++o)
    for (TensorId t : ops_[o].inputs)
      if (producer[t] >= 0) {
        ++pending[o];
        users[t].push_back(static_cast<OpId>(o));
      }
  std::vector<OpId> ready;
  for (size_t o = 0; o < ops_.size(); ++o)
    if (pending[o] == 0)
      ready.push_back(static_cast<OpId>(o));
  size_t done = 0;
  while (!ready.empty()) {
    OpId o = ready.back();
    ready.pop_back();
    ++done;
    for (TensorId t : ops_[o].outputs)
      for (OpId user : users[t])
        if (--pending[user] == 0)
          ready.push_back(user);
  }
  if (done != ops_.size())
    for (size_t o = 0; o < ops_.size(); ++o)
      if (pending[o] > 0) {
        problems.add(describeOp(*this, static_cast<OpId>(o)),
                     "lies on a cycle of the graph");
        break;
      }
  return problems.take();
}

GraphUses analyzeUses(const MemoryGraph &graph) {
  GraphUses uses;
  uses.producer.assign(graph.numTensors(), -1);
  uses.consumers.assign(graph.numTensors(), {});
  for (size_t o = 0; o < graph.numOps(); ++o) {
    OpId id = static_cast<OpId>(o);
    for (TensorId t : graph.op(id).outputs)
      uses.producer[t] = id;
    for (TensorId t : graph.op(id).inputs) {
      std::vector<OpId> &list = uses.consumers[t];
      if (list.empty() || list.back() != id)
        list.push_back(id);
    }
  }
  return uses;
}

} // namespace kiln::memory
