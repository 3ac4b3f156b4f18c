//===- PatchPlanner.cpp - Patch-based execution of a first stage -*- C++
//-*-===//
// SPDX-License-Identifier: Apache-2.0
//
// Receptive-field propagation, memory and recomputation accounting for
// MCUNetV2-style patch-based execution, and the graph rewrite that lets the
// whole-graph planner see a patch stage as one op with a scratch buffer.
//
//===----------------------------------------------------------------------===//

#include "passes/memory/planner/PatchPlanner.h"

#include <algorithm>
#include <queue>

namespace kiln::memory {

namespace {

/// Returns the bytes of |region| with |channels| channels.
uint64_t regionBytes(const PixelRegion &region, int channels,
                     int bytesPerElement) {
  return static_cast<uint64_t>(region.rows()) * region.cols() * channels *
         bytesPerElement;
}

/// Returns the output size of a window of |kernel| taps, |dilation|,
/// |stride| over |in| pixels with |padBefore| + |padAfter| padding, or -1
/// when the window does not fit.
int windowOutput(int in, int kernel, int stride, int dilation, int padBefore,
                 int padAfter) {
  int span = (kernel - 1) * dilation + 1;
  int padded = in + padBefore + padAfter;
  if (padded < span)
    return -1;
  return (padded - span) / stride + 1;
}

/// Checks one layer's own geometry.
Status verifyLayer(const SpatialLayer &layer, size_t index) {
  std::string where = "layer " + std::to_string(index) +
                      (layer.name.empty() ? "" : " '" + layer.name + "'");
  if (layer.kernelH < 1 || layer.kernelW < 1 || layer.strideH < 1 ||
      layer.strideW < 1 || layer.dilationH < 1 || layer.dilationW < 1)
    return Status::error("kernel, stride and dilation must be at least 1",
                         where);
  if (layer.padTop < 0 || layer.padLeft < 0 || layer.padBottom < 0 ||
      layer.padRight < 0)
    return Status::error("padding must not be negative", where);
  if (layer.inH < 1 || layer.inW < 1 || layer.inC < 1 || layer.outH < 1 ||
      layer.outW < 1 || layer.outC < 1 || layer.bytesPerElement < 1)
    return Status::error("sizes and bytes per element must be positive", where);
  int outH = windowOutput(layer.inH, layer.kernelH, layer.strideH,
                          layer.dilationH, layer.padTop, layer.padBottom);
  int outW = windowOutput(layer.inW, layer.kernelW, layer.strideW,
                          layer.dilationW, layer.padLeft, layer.padRight);
  if (outH != layer.outH || outW != layer.outW)
    return Status::error("output is " + std::to_string(layer.outH) + "x" +
                             std::to_string(layer.outW) +
                             " but the kernel, stride and padding give " +
                             std::to_string(outH) + "x" + std::to_string(outW),
                         where);
  if (layer.kind == SpatialOpKind::DepthwiseConv && layer.outC % layer.inC != 0)
    return Status::error("depthwise output channels (" +
                             std::to_string(layer.outC) +
                             ") must be a multiple of the input channels (" +
                             std::to_string(layer.inC) + ")",
                         where);
  if (layer.kind == SpatialOpKind::Pool && layer.outC != layer.inC)
    return Status::error("pooling must keep the channel count", where);
  return Status::ok();
}

/// Returns the input region (clamped) that |layer| needs to compute
/// |output|, and fills the patch's padding.
LayerPatch backward(const SpatialLayer &layer, const PixelRegion &output) {
  LayerPatch patch;
  patch.output = output;
  int rowStart = output.rowBegin * layer.strideH - layer.padTop;
  int rowLast = (output.rowEnd - 1) * layer.strideH - layer.padTop +
                (layer.kernelH - 1) * layer.dilationH;
  int colStart = output.colBegin * layer.strideW - layer.padLeft;
  int colLast = (output.colEnd - 1) * layer.strideW - layer.padLeft +
                (layer.kernelW - 1) * layer.dilationW;
  patch.input.rowBegin = std::max(rowStart, 0);
  patch.input.rowEnd = std::min(rowLast + 1, layer.inH);
  patch.input.colBegin = std::max(colStart, 0);
  patch.input.colEnd = std::min(colLast + 1, layer.inW);
  patch.padTop = std::max(-rowStart, 0);
  patch.padLeft = std::max(-colStart, 0);
  patch.padBottom = std::max(rowLast + 1 - layer.inH, 0);
  patch.padRight = std::max(colLast + 1 - layer.inW, 0);
  return patch;
}

} // namespace

uint64_t layerMacs(const SpatialLayer &layer, uint64_t outputPixels) {
  uint64_t taps = static_cast<uint64_t>(layer.kernelH) * layer.kernelW;
  switch (layer.kind) {
  case SpatialOpKind::Conv:
    return outputPixels * layer.outC * taps * layer.inC;
  case SpatialOpKind::DepthwiseConv:
    return outputPixels * layer.outC * taps;
  case SpatialOpKind::Pool:
  case SpatialOpKind::Add:
    return 0;
  }
  return 0;
}

namespace {

/// Returns the smallest rectangle that holds |a| and |b|.
PixelRegion unite(const PixelRegion &a, const PixelRegion &b) {
  return PixelRegion{std::min(a.rowBegin, b.rowBegin),
                     std::max(a.rowEnd, b.rowEnd),
                     std::min(a.colBegin, b.colBegin),
                     std::max(a.colEnd, b.colEnd)};
}

/// Returns true when |inner| lies inside |outer|.
bool contains(const PixelRegion &outer, const PixelRegion &inner) {
  return outer.rowBegin <= inner.rowBegin && inner.rowEnd <= outer.rowEnd &&
         outer.colBegin <= inner.colBegin && inner.colEnd <= outer.colEnd;
}

/// Returns "layer 3 'name'".
std::string layerWhere(const SpatialLayer &layer, size_t index) {
  return "layer " + std::to_string(index) +
         (layer.name.empty() ? "" : " '" + layer.name + "'");
}

/// One region or scratch of the per-patch buffer of a DAG stage: its
/// largest size, the layers from the one that writes it to its last reader,
/// and its offset once placed.
struct BufferSlot {
  uint64_t bytes = 0;
  int first = 0, last = 0;
  int64_t offset = -1;
};

/// Places |slots| whose layer intervals overlap at disjoint offsets:
/// largest first, each at the lowest aligned offset free during its
/// interval. Returns the buffer's size.
uint64_t placeSlots(std::vector<BufferSlot> &slots, uint64_t align) {
  std::vector<size_t> order(slots.size());
  for (size_t i = 0; i < order.size(); ++i)
    order[i] = i;
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    if (slots[a].bytes != slots[b].bytes)
      return slots[a].bytes > slots[b].bytes;
    if (slots[a].first != slots[b].first)
      return slots[a].first < slots[b].first;
    return a < b;
  });
  uint64_t total = 0;
  std::vector<size_t> placed;
  for (size_t i : order) {
    BufferSlot &slot = slots[i];
    if (slot.bytes == 0)
      continue;
    uint64_t size = alignUp(slot.bytes, align);
    std::vector<std::pair<uint64_t, uint64_t>> busy;
    for (size_t j : placed) {
      const BufferSlot &other = slots[j];
      if (other.first <= slot.last && slot.first <= other.last)
        busy.push_back({static_cast<uint64_t>(other.offset),
                        static_cast<uint64_t>(other.offset) +
                            alignUp(other.bytes, align)});
    }
    std::sort(busy.begin(), busy.end());
    uint64_t offset = 0;
    for (const auto &[begin, end] : busy) {
      if (offset + size <= begin)
        break;
      offset = std::max(offset, end);
    }
    slot.offset = static_cast<int64_t>(offset);
    total = std::max(total, offset + size);
    placed.push_back(i);
  }
  return total;
}

} // namespace

Result<PatchPlan> planPatches(const std::vector<SpatialLayer> &layers,
                              int patchesPerSide, const PatchOptions &options) {
  if (options.alignment == 0 ||
      (options.alignment & (options.alignment - 1)) != 0)
    return Status::error("patch buffer alignment must be a power of two, got " +
                         std::to_string(options.alignment));
  if (layers.empty())
    return Status::error("a patch stage needs at least one layer");
  size_t numLayers = layers.size();
  PatchPlan plan;
  plan.inputs.resize(numLayers);
  // readers[l]: the layers that read layer l's output.
  std::vector<std::vector<int>> readers(numLayers);
  for (size_t l = 0; l < numLayers; ++l) {
    const SpatialLayer &layer = layers[l];
    Status status = verifyLayer(layer, l);
    if (status.failed())
      return status;
    std::string where = layerWhere(layer, l);
    std::vector<int> inputs = layer.inputs;
    if (inputs.empty())
      inputs.push_back(static_cast<int>(l) - 1);
    size_t expected = layer.kind == SpatialOpKind::Add ? 2 : 1;
    if (inputs.size() != expected)
      return Status::error(std::string(layer.kind == SpatialOpKind::Add
                                           ? "an add reads two layers"
                                           : "a conv or pool reads one layer") +
                               ", got " + std::to_string(inputs.size()),
                           where);
    if (layer.kind == SpatialOpKind::Add &&
        (layer.kernelH != 1 || layer.kernelW != 1 || layer.strideH != 1 ||
         layer.strideW != 1 || layer.padTop || layer.padLeft ||
         layer.padBottom || layer.padRight || layer.inC != layer.outC))
      return Status::error("an add has no kernel, stride or padding and keeps "
                           "the channel count",
                           where);
    for (int input : inputs) {
      if (input < -1 || input >= static_cast<int>(l))
        return Status::error("reads layer " + std::to_string(input) +
                                 ", which does not come before it",
                             where);
      if ((input == -1) != (l == 0))
        return Status::error("only layer 0 reads the stage input, and it "
                             "reads nothing else",
                             where);
      if (input < 0)
        continue;
      const SpatialLayer &a = layers[input];
      if (a.outH != layer.inH || a.outW != layer.inW || a.outC != layer.inC ||
          a.bytesPerElement != layer.bytesPerElement)
        return Status::error(
            "output " + std::to_string(a.outH) + "x" + std::to_string(a.outW) +
                "x" + std::to_string(a.outC) +
                " does not match the next "
                "layer's input " +
                std::to_string(layer.inH) + "x" + std::to_string(layer.inW) +
                "x" + std::to_string(layer.inC),
            "layer " + std::to_string(input));
      if (std::find(readers[input].begin(), readers[input].end(),
                    static_cast<int>(l)) == readers[input].end())
        readers[input].push_back(static_cast<int>(l));
    }
    plan.dag = plan.dag || inputs != std::vector<int>{static_cast<int>(l) - 1};
    plan.inputs[l] = std::move(inputs);
  }
  for (size_t l = 0; l + 1 < numLayers; ++l)
    if (readers[l].empty())
      return Status::error("no later layer of the stage reads its output (only "
                           "the last layer's output leaves the stage)",
                           layerWhere(layers[l], l));
  if (layers.front().kind == SpatialOpKind::Add)
    return Status::error("the first layer of a stage cannot be an add");
  const SpatialLayer &last = layers.back();
  if (patchesPerSide < 1 || patchesPerSide > last.outH ||
      patchesPerSide > last.outW)
    return Status::error("patches per side must be between 1 and the stage "
                         "output's " +
                         std::to_string(std::min(last.outH, last.outW)) +
                         " pixels, got " + std::to_string(patchesPerSide));

  plan.patchesPerSide = patchesPerSide;
  plan.options = options;
  const SpatialLayer &first = layers.front();
  auto wholeBytes = [](const SpatialLayer &layer, bool output) {
    return output ? static_cast<uint64_t>(layer.outH) * layer.outW *
                        layer.outC * layer.bytesPerElement
                  : static_cast<uint64_t>(layer.inH) * layer.inW * layer.inC *
                        layer.bytesPerElement;
  };
  plan.stageInputBytes = wholeBytes(first, false);
  plan.stageOutputBytes = wholeBytes(last, true);
  // lastReader[l]: the last layer that reads layer l (l itself for the
  // stage output).
  std::vector<int> lastReader(numLayers);
  for (size_t l = 0; l < numLayers; ++l) {
    lastReader[l] = static_cast<int>(l);
    for (int reader : readers[l])
      lastReader[l] = std::max(lastReader[l], reader);
  }
  // Whole-tensor execution: at layer l, the tensors written before l and
  // read at or after it, l's output and l's scratch are live.
  for (size_t l = 0; l < numLayers; ++l) {
    uint64_t live = wholeBytes(layers[l], true) + layers[l].scratchBytes;
    if (l == 0)
      live += plan.stageInputBytes;
    for (size_t j = 0; j < l; ++j)
      if (lastReader[j] >= static_cast<int>(l))
        live += wholeBytes(layers[j], true);
    plan.wholeTensorPeakBytes = std::max(plan.wholeTensorPeakBytes, live);
    plan.wholeMacs += layerMacs(
        layers[l], static_cast<uint64_t>(layers[l].outH) * layers[l].outW);
  }

  // Regions, per-patch scratch and the largest sizes per layer: a reverse
  // walk over the DAG, each layer computing the union of what its readers
  // need.
  plan.layout.assign(numLayers, PatchLayerLayout{});
  int n = patchesPerSide;
  for (int pr = 0; pr < n; ++pr)
    for (int pc = 0; pc < n; ++pc) {
      std::vector<LayerPatch> chain(numLayers);
      std::vector<PixelRegion> need(numLayers);
      std::vector<bool> needed(numLayers, false);
      need[numLayers - 1] =
          PixelRegion{pr * last.outH / n, (pr + 1) * last.outH / n,
                      pc * last.outW / n, (pc + 1) * last.outW / n};
      needed[numLayers - 1] = true;
      for (size_t l = numLayers; l-- > 0;) {
        chain[l] = backward(layers[l], need[l]);
        for (int input : plan.inputs[l]) {
          if (input < 0)
            continue;
          need[input] = needed[input] ? unite(need[input], chain[l].input)
                                      : chain[l].input;
          needed[input] = true;
        }
      }
      // A conv or pool reads its producer's whole region (the kernels take
      // dense tensors); an add reads a window of it.
      for (size_t l = 0; l < numLayers; ++l)
        for (int input : plan.inputs[l]) {
          if (input < 0)
            continue;
          bool ok = layers[l].kind == SpatialOpKind::Add
                        ? contains(chain[input].output, chain[l].input)
                        : chain[input].output == chain[l].input;
          if (!ok)
            return Status::error(
                "reads only part of the region that layer " +
                    std::to_string(input) +
                    " computes for its other readers (only an add may read a "
                    "window of its operand's region)",
                layerWhere(layers[l], l));
        }
      std::vector<uint64_t> scratch(numLayers);
      for (size_t l = 0; l < numLayers; ++l) {
        const SpatialLayer &layer = layers[l];
        const LayerPatch &patch = chain[l];
        scratch[l] = layer.patchScratchBytes ? layer.patchScratchBytes(patch)
                                             : layer.scratchBytes;
        PatchLayerLayout &layout = plan.layout[l];
        if (l > 0 || options.copyInputWindow)
          layout.inputBytes = std::max(
              layout.inputBytes,
              regionBytes(patch.input, layer.inC, layer.bytesPerElement));
        if (l + 1 < numLayers || options.copyOutputWindow)
          layout.outputBytes = std::max(
              layout.outputBytes,
              regionBytes(patch.output, layer.outC, layer.bytesPerElement));
        layout.scratchBytes = std::max(layout.scratchBytes, scratch[l]);
        plan.patchMacs +=
            layerMacs(layer, static_cast<uint64_t>(patch.output.rows()) *
                                 patch.output.cols());
      }
      plan.regions.push_back(std::move(chain));
      plan.scratch.push_back(std::move(scratch));
    }

  uint64_t align = options.alignment;
  auto up = [align](uint64_t bytes) { return alignUp(bytes, align); };
  if (!plan.dag) {
    // Ping-pong layout: layer l's input region sits at the low end of the
    // buffer for even l and at the high end for odd l, its output region at
    // the other end, its scratch just above the low-end region. Layer l's
    // output is layer l + 1's input, so it stays where it was written.
    for (size_t l = 0; l < numLayers; ++l) {
      const PatchLayerLayout &layout = plan.layout[l];
      plan.patchBufferBytes =
          std::max(plan.patchBufferBytes, up(layout.inputBytes) +
                                              up(layout.scratchBytes) +
                                              up(layout.outputBytes));
    }
    uint64_t buffer = plan.patchBufferBytes;
    for (size_t l = 0; l < numLayers; ++l) {
      PatchLayerLayout &layout = plan.layout[l];
      bool inputLow = l % 2 == 0;
      uint64_t low = inputLow ? layout.inputBytes : layout.outputBytes;
      uint64_t high = inputLow ? layout.outputBytes : layout.inputBytes;
      int64_t lowOffset = 0;
      int64_t highOffset = static_cast<int64_t>(buffer - up(high));
      if (layout.inputBytes > 0)
        layout.inputOffset = inputLow ? lowOffset : highOffset;
      if (layout.outputBytes > 0)
        layout.outputOffset = inputLow ? highOffset : lowOffset;
      if (layout.scratchBytes > 0)
        layout.scratchOffset = static_cast<int64_t>(up(low));
      layout.inputOffsets = {layout.inputOffset};
    }
  } else {
    // Liveness layout: one slot per region (the copied input window, every
    // layer's output region) and per scratch, live from the layer that
    // writes it to its last reader.
    std::vector<BufferSlot> slots;
    int windowSlot = -1;
    if (options.copyInputWindow && plan.layout[0].inputBytes > 0) {
      windowSlot = static_cast<int>(slots.size());
      slots.push_back(BufferSlot{plan.layout[0].inputBytes, 0, 0, -1});
    }
    std::vector<int> outputSlot(numLayers, -1), scratchSlot(numLayers, -1);
    for (size_t l = 0; l < numLayers; ++l) {
      const PatchLayerLayout &layout = plan.layout[l];
      int at = static_cast<int>(l);
      if (layout.outputBytes > 0) {
        // An add writes over an operand it reads last whose region is its
        // own in every patch (kiln_add_s8 may write over either input).
        int reuse = -1;
        if (layers[l].kind == SpatialOpKind::Add)
          for (int input : plan.inputs[l]) {
            if (reuse >= 0 || input < 0 || outputSlot[input] < 0 ||
                lastReader[input] != at)
              continue;
            bool same = true;
            for (const std::vector<LayerPatch> &patch : plan.regions)
              same = same && patch[input].output == patch[l].output;
            if (same)
              reuse = outputSlot[input];
          }
        if (reuse >= 0) {
          outputSlot[l] = reuse;
          slots[reuse].bytes = std::max(slots[reuse].bytes, layout.outputBytes);
          slots[reuse].last = lastReader[l];
        } else {
          outputSlot[l] = static_cast<int>(slots.size());
          slots.push_back(BufferSlot{layout.outputBytes, at, lastReader[l], -1});
        }
      }
      if (layout.scratchBytes > 0) {
        scratchSlot[l] = static_cast<int>(slots.size());
        slots.push_back(BufferSlot{layout.scratchBytes, at, at, -1});
      }
    }
    plan.patchBufferBytes = placeSlots(slots, align);
    auto offsetOf = [&](int slot) {
      return slot < 0 ? int64_t{-1} : slots[slot].offset;
    };
    for (size_t l = 0; l < numLayers; ++l) {
      PatchLayerLayout &layout = plan.layout[l];
      layout.inputOffsets.clear();
      for (int input : plan.inputs[l])
        layout.inputOffsets.push_back(input < 0 ? offsetOf(windowSlot)
                                                : offsetOf(outputSlot[input]));
      layout.inputOffset = layout.inputOffsets.front();
      layout.outputOffset = offsetOf(outputSlot[l]);
      layout.scratchOffset = offsetOf(scratchSlot[l]);
    }
  }
  plan.patchPeakBytes =
      plan.stageInputBytes + plan.stageOutputBytes + plan.patchBufferBytes;
  if (plan.wholeMacs > 0)
    plan.recomputePercent = 100.0 *
                            (static_cast<double>(plan.patchMacs) -
                             static_cast<double>(plan.wholeMacs)) /
                            static_cast<double>(plan.wholeMacs);
  return plan;
}

Result<PatchedGraph> replaceStageWithPatches(const MemoryGraph &graph,
                                             const std::vector<OpId> &stageOps,
                                             const PatchPlan &plan) {
  Status status = graph.verify();
  if (status.failed())
    return status;
  if (stageOps.empty())
    return Status::error("the patch stage lists no ops");
  std::vector<bool> inStage(graph.numOps(), false);
  for (OpId op : stageOps) {
    if (op < 0 || static_cast<size_t>(op) >= graph.numOps())
      return Status::error("patch stage names op id " + std::to_string(op) +
                           ", out of range");
    if (inStage[op])
      return Status::error("patch stage lists the op twice",
                           describeOp(graph, op));
    inStage[op] = true;
  }
  GraphUses uses = analyzeUses(graph);

  // Classify the tensors the stage touches.
  std::vector<TensorId> inputs;
  TensorId output = -1;
  std::vector<bool> internal(graph.numTensors(), false);
  for (OpId op : stageOps) {
    for (TensorId t : graph.op(op).inputs) {
      OpId producer = uses.producer[t];
      if ((producer < 0 || !inStage[producer]) &&
          std::find(inputs.begin(), inputs.end(), t) == inputs.end())
        inputs.push_back(t);
    }
    for (TensorId t : graph.op(op).outputs) {
      bool usedOutside = graph.tensor(t).graphOutput;
      for (OpId consumer : uses.consumers[t])
        usedOutside = usedOutside || !inStage[consumer];
      if (!usedOutside) {
        internal[t] = true;
        continue;
      }
      if (output >= 0)
        return Status::error("the patch stage has more than one output (" +
                             describeTensor(graph, output) + " and " +
                             describeTensor(graph, t) + ")");
      output = t;
    }
  }
  if (output < 0)
    return Status::error("the patch stage's result is used by no op");
  if (graph.tensor(output).bytes != plan.stageOutputBytes)
    return Status::error("the stage output has " +
                             std::to_string(graph.tensor(output).bytes) +
                             " bytes but the patch plan's last layer makes " +
                             std::to_string(plan.stageOutputBytes),
                         describeTensor(graph, output));
  bool inputFound = false;
  for (TensorId t : inputs)
    inputFound = inputFound || (graph.inArena(t) &&
                                graph.tensor(t).bytes == plan.stageInputBytes);
  if (!inputFound)
    return Status::error("no input of the patch stage has the " +
                         std::to_string(plan.stageInputBytes) +
                         " bytes of the plan's first layer");

  PatchedGraph result;
  result.tensorMap.assign(graph.numTensors(), -1);
  for (size_t t = 0; t < graph.numTensors(); ++t)
    if (!internal[t])
      result.tensorMap[t] = result.graph.addTensor(graph.tensors()[t]);

  // The fused op stands where the first stage op stood; a stable
  // topological sort (by old id) then repairs the order if other ops were
  // interleaved with the stage.
  OpDesc fused;
  fused.name = "patch_stage";
  for (TensorId t : inputs)
    fused.inputs.push_back(result.tensorMap[t]);
  fused.outputs.push_back(result.tensorMap[output]);
  fused.scratchBytes.push_back(plan.patchBufferBytes);
  for (OpId op : stageOps)
    fused.scratchAlignment =
        std::max(fused.scratchAlignment, graph.op(op).scratchAlignment);
  OpId firstStage = *std::min_element(stageOps.begin(), stageOps.end());

  // Nodes: old non-stage ops plus the fused op (keyed by firstStage).
  std::vector<OpId> keys;
  for (size_t o = 0; o < graph.numOps(); ++o)
    if (!inStage[o] || static_cast<OpId>(o) == firstStage)
      keys.push_back(static_cast<OpId>(o));
  auto inputsOf = [&](OpId key) -> std::vector<TensorId> {
    if (key == firstStage)
      return inputs;
    return graph.op(key).inputs;
  };
  auto nodeOf = [&](OpId oldOp) { return inStage[oldOp] ? firstStage : oldOp; };
  std::vector<int> pending(graph.numOps(), 0);
  std::vector<std::vector<OpId>> successors(graph.numOps());
  for (OpId key : keys)
    for (TensorId t : inputsOf(key))
      if (uses.producer[t] >= 0) {
        ++pending[key];
        successors[nodeOf(uses.producer[t])].push_back(key);
      }
  std::priority_queue<OpId, std::vector<OpId>, std::greater<OpId>> ready;
  for (OpId key : keys)
    if (pending[key] == 0)
      ready.push(key);
  result.opMap.assign(graph.numOps(), -1);
  while (!ready.empty()) {
    OpId key = ready.top();
    ready.pop();
    OpId newId;
    if (key == firstStage) {
      newId = result.graph.addOp(fused);
      result.stageOp = newId;
    } else {
      OpDesc copy = graph.op(key);
      for (TensorId &t : copy.inputs)
        t = result.tensorMap[t];
      for (TensorId &t : copy.outputs)
        t = result.tensorMap[t];
      newId = result.graph.addOp(std::move(copy));
    }
    result.opMap[key] = newId;
    for (OpId next : successors[key])
      if (--pending[next] == 0)
        ready.push(next);
  }
  if (result.graph.numOps() != keys.size())
    return Status::error("fusing the patch stage would create a cycle: an op "
                         "outside the stage both reads a stage tensor and "
                         "feeds the stage");
  for (OpId op : stageOps)
    result.opMap[op] = result.stageOp;
  return result;
}

} // namespace kiln::memory
