//===- MemoryGraph.h - Plain-data graph for the memory planner --*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// The input of the whole-graph memory planner: tensors with byte sizes,
// alignments and flags, and ops (in a candidate execution order) with their
// input/output tensors, per-op scratch buffers and the reuse capabilities the
// kernels offer: elementwise in-place, depthwise in-place, zero-copy aliasing
// and concat-by-placement. The graph is plain C++ data so that the MLIR pass
// that extracts it from the IR, the unit tests and tools can all build one.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_PASSES_MEMORY_PLANNER_MEMORYGRAPH_H
#define KILN_PASSES_MEMORY_PLANNER_MEMORYGRAPH_H

#include "kiln/Diagnostics.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace kiln::memory {

/// Index of a tensor in a MemoryGraph.
using TensorId = int32_t;
/// Index of an op in a MemoryGraph.
using OpId = int32_t;

/// One tensor. Constants live in flash and take no arena bytes; so do
/// zero-byte tensors. Graph inputs are written by the caller before the first
/// op and graph outputs are read after the last op, so both stay in the arena
/// for the whole run (the TF Lite Micro convention).
struct TensorDesc {
  std::string name;
  /// Size in bytes (elements x bytes per element, packed).
  uint64_t bytes = 0;
  /// Required offset alignment in the arena, a power of two.
  uint32_t alignment = 16;
  bool graphInput = false;
  bool graphOutput = false;
  /// Weights and other constants: not placed in the arena.
  bool constant = false;
};

/// The two kinds of in-place kernels.
enum class InPlaceKind {
  /// (a) The output may reuse an input's bytes when that input dies at this
  /// op and their sizes match (add, relu, requantize...).
  Elementwise,
  /// (b) The output overwrites the input channel by channel and needs a
  /// temporary buffer of one channel while the op runs (TinyEngine's in-place
  /// depthwise convolution). The output may be smaller than the input
  /// (stride 2); it starts at the input's first byte.
  Depthwise,
};

/// An op's offer to write output |output| over input |input|. Taking it is
/// the planner's choice; AppliedReuse records when it did.
struct InPlaceCapability {
  InPlaceKind kind = InPlaceKind::Elementwise;
  /// Operand index into OpDesc::inputs.
  unsigned input = 0;
  /// Result index into OpDesc::outputs.
  unsigned output = 0;
  /// Depthwise only: bytes of the one-channel temporary buffer, live only
  /// during the op, needed only when the op runs in place.
  uint64_t tempBytes = 0;
  /// When taken, the op's scratchBytes are not allocated: the in-place
  /// kernel needs only tempBytes (Kiln's kiln_dwconv2d_inplace_s8 replaces
  /// the out-of-place kernel and its scratch plane).
  bool replacesScratch = false;
};

/// (c) Zero-copy aliasing (reshape, flatten, squeeze): the output is the
/// input's bytes at the same offset. Sizes must be equal.
struct AliasCapability {
  unsigned input = 0;
  unsigned output = 0;
};

/// (d) Concat-by-placement: input i is written directly into bytes
/// [sliceOffsets[i], sliceOffsets[i] + bytes(input i)) of the output, so the
/// concat itself copies nothing. Only valid for a concat along an axis whose
/// slices are contiguous in memory (the outermost non-unit axis); deciding
/// that is the caller's job.
struct ConcatPlacement {
  /// Result index of the concatenated tensor.
  unsigned output = 0;
  /// One byte offset per input of the op, inside the output.
  std::vector<uint64_t> sliceOffsets;
};

/// One op: what it reads and writes, the scratch buffers its kernel needs
/// while it runs (e), and the reuses it allows.
struct OpDesc {
  std::string name;
  std::vector<TensorId> inputs;
  std::vector<TensorId> outputs;
  /// (e) Per-op scratch buffers, each live only during this op.
  std::vector<uint64_t> scratchBytes;
  /// Alignment of the scratch buffers (and of a depthwise temporary).
  uint32_t scratchAlignment = 16;
  /// In-place offers, tried in this order; at most one is taken per output.
  std::vector<InPlaceCapability> inPlace;
  std::optional<AliasCapability> alias;
  std::optional<ConcatPlacement> concat;
};

/// A dataflow graph of tensors and ops. Ops are kept in the order they were
/// added, which is the candidate execution order (OpId order).
class MemoryGraph {
public:
  /// Adds |tensor| and returns its id.
  TensorId addTensor(TensorDesc tensor);
  /// Adds a tensor of |bytes| bytes with default alignment and returns its id.
  TensorId addTensor(std::string name, uint64_t bytes, uint32_t alignment = 16);
  /// Adds |op| and returns its id.
  OpId addOp(OpDesc op);

  size_t numTensors() const { return tensors_.size(); }
  size_t numOps() const { return ops_.size(); }
  const TensorDesc &tensor(TensorId id) const { return tensors_[id]; }
  TensorDesc &tensor(TensorId id) { return tensors_[id]; }
  const OpDesc &op(OpId id) const { return ops_[id]; }
  OpDesc &op(OpId id) { return ops_[id]; }
  const std::vector<TensorDesc> &tensors() const { return tensors_; }
  const std::vector<OpDesc> &ops() const { return ops_; }

  /// Returns true when |id| needs arena bytes: not constant, not empty.
  bool inArena(TensorId id) const {
    return !tensors_[id].constant && tensors_[id].bytes > 0;
  }

  /// Returns the ops in id order, the graph's own candidate order.
  std::vector<OpId> candidateOrder() const;

  /// Checks that ids are in range, alignments are powers of two, every
  /// non-input, non-constant tensor has exactly one producer, the graph is
  /// acyclic, and every capability is well formed (indices in range, alias
  /// sizes equal, elementwise sizes equal, depthwise output not larger than
  /// its input, concat slices disjoint and inside the output). Reports every
  /// problem found, each naming the op or tensor.
  Status verify() const;

private:
  std::vector<TensorDesc> tensors_;
  std::vector<OpDesc> ops_;
};

/// Producer and consumers of every tensor.
struct GraphUses {
  /// Producing op per tensor, -1 for graph inputs and constants.
  std::vector<OpId> producer;
  /// Consuming ops per tensor, in id order, each listed once.
  std::vector<std::vector<OpId>> consumers;
};

/// Returns the producer and consumers of each tensor of |graph| (which must
/// have passed verify()).
GraphUses analyzeUses(const MemoryGraph &graph);

/// Returns "tensor 'name'" (or "tensor #id" when unnamed) for messages.
std::string describeTensor(const MemoryGraph &graph, TensorId id);
/// Returns "op 'name'" (or "op #id" when unnamed) for messages.
std::string describeOp(const MemoryGraph &graph, OpId id);

/// Returns true when |value| is a power of two (and not zero).
inline bool isPowerOfTwo(uint64_t value) {
  return value != 0 && (value & (value - 1)) == 0;
}

/// Returns |value| rounded up to a multiple of the power of two |alignment|.
inline uint64_t alignUp(uint64_t value, uint64_t alignment) {
  return (value + alignment - 1) & ~(alignment - 1);
}

} // namespace kiln::memory

#endif // KILN_PASSES_MEMORY_PLANNER_MEMORYGRAPH_H
