//===- PatchPlanner.h - Patch-based execution of a first stage --*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// MCUNetV2's patch-based inference: the first, high-resolution layers of a
// CNN are run patch by patch, so that their large activations never exist
// whole. The stage's output is split into N x N spatial patches; walking the
// stage backwards, each patch's output region becomes the receptive field it
// needs in the layer's input (kernel, stride, dilation and padding applied,
// clamped to the tensor, with the cut-off part recorded as per-patch
// padding). Neighbouring patches' input regions overlap (the halo), which is
// recomputed: planPatches reports that overhead in MACs next to the memory
// saved. The regions are what the code generator loops over.
//
// Memory model. Whole-tensor execution keeps a layer's full input and output
// (and kernel scratch) while it runs. Patch-based execution keeps the stage's
// full input (the first layer reads its patch window straight from it) and
// full output (the last layer writes its patch into it) plus, for one patch
// at a time, two ping-pong buffers for the intermediate regions and the
// kernel scratch: at layer l of a patch, the intermediate input and output
// regions occupy opposite ends of one buffer of patchBufferBytes, with the
// scratch between them. PatchOptions can make the first layer read a
// contiguous copy of its input window and the last layer write a contiguous
// output region that is then copied into the stage output (what Kiln's C
// kernels need: they take dense NHWC tensors); PatchPlan::layout gives the
// fixed offsets of every layer's regions and scratch in the buffer, the
// same for every patch.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_PASSES_MEMORY_PLANNER_PATCHPLANNER_H
#define KILN_PASSES_MEMORY_PLANNER_PATCHPLANNER_H

#include "passes/memory/planner/MemoryGraph.h"

#include <functional>

namespace kiln::memory {

/// The layer types a patch stage may hold. Add is the elementwise sum of two
/// same-shape tensors computed inside the stage (a residual connection): it
/// has no kernel (1 x 1, stride 1, no padding) and its output region per
/// patch is the region it reads from both operands.
enum class SpatialOpKind { Conv, DepthwiseConv, Pool, Add };

/// A half-open rectangle of rows [rowBegin, rowEnd) and columns.
struct PixelRegion {
  int rowBegin = 0, rowEnd = 0, colBegin = 0, colEnd = 0;
  int rows() const { return rowEnd - rowBegin; }
  int cols() const { return colEnd - colBegin; }
  bool operator==(const PixelRegion &other) const {
    return rowBegin == other.rowBegin && rowEnd == other.rowEnd &&
           colBegin == other.colBegin && colEnd == other.colEnd;
  }
};

/// What one layer computes for one patch.
struct LayerPatch {
  /// Input pixels read (clamped to the input tensor).
  PixelRegion input;
  /// Output pixels written.
  PixelRegion output;
  /// Zero padding the kernel sees at this patch's edges (only where the
  /// patch touches the tensor border).
  int padTop = 0, padLeft = 0, padBottom = 0, padRight = 0;
};

/// Geometry of one layer of the stage (NHWC, batch 1).
struct SpatialLayer {
  std::string name;
  SpatialOpKind kind = SpatialOpKind::Conv;
  int kernelH = 1, kernelW = 1;
  int strideH = 1, strideW = 1;
  int dilationH = 1, dilationW = 1;
  int padTop = 0, padLeft = 0, padBottom = 0, padRight = 0;
  int inH = 0, inW = 0, inC = 0;
  int outH = 0, outW = 0, outC = 0;
  int bytesPerElement = 1;
  /// Kernel scratch (e.g. im2col) the layer needs while it runs.
  uint64_t scratchBytes = 0;
  /// Scratch for one patch, when it depends on the patch's geometry (e.g. a
  /// zero-padded input plane); unset: scratchBytes for every patch.
  std::function<uint64_t(const LayerPatch &)> patchScratchBytes;
  /// The layers whose outputs this layer reads, by index into the stage
  /// (each smaller than this layer's; -1: the stage input). Empty: the
  /// previous layer (the stage input for layer 0), i.e. a chain. An Add
  /// reads two. Only layer 0 may read the stage input.
  std::vector<int> inputs;
};

/// How patches are run (what the code generator needs).
struct PatchOptions {
  /// The first layer reads a contiguous copy of its input window, held in
  /// the per-patch buffer, instead of the stage input itself.
  bool copyInputWindow = false;
  /// The last layer writes its output region into the per-patch buffer; it
  /// is copied into the stage output from there.
  bool copyOutputWindow = false;
  /// Alignment (a power of two) of every region and scratch in the buffer.
  uint64_t alignment = 1;
};

/// Where one layer's data sits in the per-patch buffer: byte offsets from
/// the buffer's start, the same for every patch, and the largest sizes over
/// the patches. An offset of -1 means the layer reads the stage input (or
/// writes the stage output) directly, or has no scratch.
struct PatchLayerLayout {
  int64_t inputOffset = -1, outputOffset = -1, scratchOffset = -1;
  uint64_t inputBytes = 0, outputBytes = 0, scratchBytes = 0;
  /// Offset of each operand's region (the producing layer's output region;
  /// inputOffsets[0] == inputOffset). An Add reads its operands' windows
  /// out of these regions, which may be larger than its own region (the
  /// skip tensor's region also covers the halo the block's first conv
  /// needs).
  std::vector<int64_t> inputOffsets;
};

/// Patch-based execution of a stage.
struct PatchPlan {
  int patchesPerSide = 1;
  /// regions[p][l]: layer l of patch p; patches in row-major order.
  std::vector<std::vector<LayerPatch>> regions;
  /// scratch[p][l]: kernel scratch bytes of layer l in patch p.
  std::vector<std::vector<uint64_t>> scratch;
  /// layout[l]: layer l's regions and scratch in the per-patch buffer.
  std::vector<PatchLayerLayout> layout;
  /// The options the plan was made with.
  PatchOptions options;
  /// Peak bytes of running the stage layer by layer on whole tensors.
  uint64_t wholeTensorPeakBytes = 0;
  /// Bytes of the per-patch buffer (ping-pong intermediates + scratch).
  uint64_t patchBufferBytes = 0;
  /// Peak bytes of patch-based execution: stage input + stage output +
  /// patchBufferBytes.
  uint64_t patchPeakBytes = 0;
  /// Multiply-accumulates of the stage, whole and summed over patches.
  uint64_t wholeMacs = 0;
  uint64_t patchMacs = 0;
  /// Extra MACs of patch-based execution, in percent of wholeMacs.
  double recomputePercent = 0.0;
  /// Bytes of the stage's whole input and output tensors.
  uint64_t stageInputBytes = 0;
  uint64_t stageOutputBytes = 0;
  /// inputs[l]: the layers layer l reads (SpatialLayer::inputs resolved).
  std::vector<std::vector<int>> inputs;
  /// True when the stage is not a chain (some layer's output has several
  /// readers): the buffer is then laid out by liveness (see planPatches).
  bool dag = false;
};

/// Checks |layers| (each layer's output size follows from its input size,
/// kernel, stride, dilation and padding; each layer's output is the input
/// of the layers that read it) and returns the patch plan for an N x N
/// split of the last layer's output, N = |patchesPerSide| (at most the
/// output's height and width).
///
/// The layers form a small DAG in topological order (SpatialLayer::inputs):
/// every layer but the last is read by a later one. Per patch, the regions
/// are found by a reverse walk: the last layer's output region is the
/// patch; every other layer computes the union of what its readers need
/// (for an Add, its own region in both operands; for a conv or pool, the
/// receptive field of its output region). A conv or pool must need all of
/// its producer's region (it reads a dense tensor); an Add may read a
/// window of it (the skip tensor of a residual block, whose region also
/// covers the block's halo).
///
/// The per-patch buffer is laid out as |options| say. For a chain the
/// regions of layer l sit at opposite ends (input at the low end for even
/// l, at the high end for odd l), its scratch just above the low-end
/// region. For a DAG every region lives from the layer that writes it to
/// its last reader (an Add writes in place over an operand that it reads
/// last and whose region is its own), scratch while its layer runs, and
/// the buffers are placed greedily by size at the lowest free offset.
Result<PatchPlan> planPatches(const std::vector<SpatialLayer> &layers,
                              int patchesPerSide,
                              const PatchOptions &options = {});

/// Returns the MACs of |layer| for |outputPixels| output pixels (0 for
/// pooling, which multiplies nothing).
uint64_t layerMacs(const SpatialLayer &layer, uint64_t outputPixels);

/// A graph whose patch stage was replaced by one op.
struct PatchedGraph {
  MemoryGraph graph;
  /// New id per old tensor (-1 for the stage's removed intermediates).
  std::vector<TensorId> tensorMap;
  /// New id per old op (the stage's ops all map to the fused op).
  std::vector<OpId> opMap;
  /// Id of the fused op in |graph|.
  OpId stageOp = -1;
};

/// Replaces the ops |stageOps| of |graph| (the layers |plan| was made for)
/// by one op that reads the stage's inputs, writes its single output and
/// holds plan.patchBufferBytes of scratch, so that planning the new graph
/// gives the whole model's arena with patch-based execution. The stage's
/// intermediate tensors must be used only inside the stage, and its output's
/// size must match the plan's last layer.
Result<PatchedGraph> replaceStageWithPatches(const MemoryGraph &graph,
                                             const std::vector<OpId> &stageOps,
                                             const PatchPlan &plan);

} // namespace kiln::memory

#endif // KILN_PASSES_MEMORY_PLANNER_PATCHPLANNER_H
