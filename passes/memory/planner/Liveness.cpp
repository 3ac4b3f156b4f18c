//===- Liveness.cpp - Tensor lifetimes over an execution order --*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// Order validation and first/last-use computation (TF Lite Micro's
// convention, see Liveness.h).
//
//===----------------------------------------------------------------------===//

#include "passes/memory/planner/Liveness.h"

namespace kiln::memory {

Status verifyOrder(const MemoryGraph &graph, const std::vector<OpId> &order) {
  if (order.size() != graph.numOps())
    return Status::error("execution order lists " +
                         std::to_string(order.size()) + " ops, expected " +
                         std::to_string(graph.numOps()));
  std::vector<int32_t> step(graph.numOps(), -1);
  for (size_t i = 0; i < order.size(); ++i) {
    OpId op = order[i];
    if (op < 0 || static_cast<size_t>(op) >= graph.numOps())
      return Status::error("execution order names op id " + std::to_string(op) +
                           ", out of range");
    if (step[op] >= 0)
      return Status::error("execution order lists the op twice",
                           describeOp(graph, op));
    step[op] = static_cast<int32_t>(i);
  }
  GraphUses uses = analyzeUses(graph);
  for (size_t i = 0; i < order.size(); ++i) {
    const OpDesc &op = graph.op(order[i]);
    for (TensorId t : op.inputs) {
      OpId producer = uses.producer[t];
      if (producer >= 0 && step[producer] > static_cast<int32_t>(i))
        return Status::error("execution order runs the op before " +
                                 describeOp(graph, producer) +
                                 ", which produces its input " +
                                 describeTensor(graph, t),
                             describeOp(graph, order[i]));
    }
  }
  return Status::ok();
}

Result<Liveness> computeLiveness(const MemoryGraph &graph,
                                 const std::vector<OpId> &order) {
  Status status = verifyOrder(graph, order);
  if (status.failed())
    return status;
  Liveness live;
  live.order = order;
  live.numSteps = static_cast<int32_t>(order.size());
  live.stepOfOp.assign(graph.numOps(), -1);
  for (size_t i = 0; i < order.size(); ++i)
    live.stepOfOp[order[i]] = static_cast<int32_t>(i);
  live.tensors.assign(graph.numTensors(), Interval());
  int32_t lastStep = std::max<int32_t>(live.numSteps - 1, 0);

  for (size_t t = 0; t < graph.numTensors(); ++t)
    if (graph.inArena(static_cast<TensorId>(t)) &&
        graph.tensors()[t].graphInput)
      live.tensors[t] = {0, 0};
  for (int32_t step = 0; step < live.numSteps; ++step) {
    const OpDesc &op = graph.op(order[step]);
    for (TensorId t : op.outputs)
      if (graph.inArena(t))
        live.tensors[t] = {step, step};
    for (TensorId t : op.inputs)
      if (graph.inArena(t))
        live.tensors[t].last = std::max(live.tensors[t].last, step);
  }
  for (size_t t = 0; t < graph.numTensors(); ++t)
    if (graph.inArena(static_cast<TensorId>(t)) &&
        graph.tensors()[t].graphOutput && !live.tensors[t].empty())
      live.tensors[t].last = lastStep;
  return live;
}

std::vector<uint64_t> liveBytesWithoutReuse(const MemoryGraph &graph,
                                            const Liveness &liveness) {
  std::vector<uint64_t> bytes(std::max<int32_t>(liveness.numSteps, 1), 0);
  for (size_t t = 0; t < graph.numTensors(); ++t) {
    const Interval &live = liveness.tensors[t];
    if (live.empty())
      continue;
    for (int32_t s = live.first; s <= live.last; ++s)
      bytes[s] += graph.tensors()[t].bytes;
  }
  for (int32_t step = 0; step < liveness.numSteps; ++step)
    for (uint64_t scratch : graph.op(liveness.order[step]).scratchBytes)
      bytes[step] += scratch;
  return bytes;
}

} // namespace kiln::memory
