//===- PlanMemory.cpp - kiln-plan-memory ------------------------*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// Builds the memory graph of a lowered function, plans the arena with
// KilnMemoryPlanner, checks the plan, reorders the ops to the planned
// execution order and records offsets as attributes (see Passes.td). The
// scratch sizes here mirror runtime/c's *_scratch_bytes functions; the C
// code generator asserts them again at run time.
//
// With patch=N the pass also tries MCUNetV2's patch-based execution of the
// first stage: it finds the int8 convolution, depthwise and pooling ops
// that start at the program input (after an optional NCHW -> NHWC transpose
// of the input, which the patches then gather directly), through residual
// blocks (an int8 add of two of those ops' results), and for every prefix
// of them in program order that only its last op's result leaves asks the
// planner library for the N x N patch regions (planPatches), replaces the
// prefix by one op holding the per-patch buffer (replaceStageWithPatches)
// and plans the whole graph. The prefix
// with the smallest arena wins (ties: the least recomputation), if it beats
// the unpatched plan; the regions and buffer offsets go into attributes the
// C code generator loops over.
//
//===----------------------------------------------------------------------===//

#include "passes/memory/Passes.h"
#include "passes/memory/planner/MemoryPlanner.h"

#include "compiler/support/TensorAttr.h"
#include "dialects/kiln/KilnOps.h"

#include "mlir/Dialect/Quant/IR/QuantTypes.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/SmallPtrSet.h"

#include <cstdio>

namespace mlir::kiln {

#define GEN_PASS_DEF_KILNPLANMEMORYPASS
#include "passes/memory/Passes.h.inc"

bool isInputBoundary(Operation *op) {
  auto quantize = dyn_cast<QuantizeOp>(op);
  return quantize && isa<BlockArgument>(quantize.getInput());
}

bool isOutputBoundary(Operation *op) {
  auto dequantize = dyn_cast<DequantizeOp>(op);
  return dequantize && !dequantize->use_empty() &&
         llvm::all_of(dequantize->getUsers(),
                      [](Operation *user) { return isa<func::ReturnOp>(user); });
}

/// Returns the padded plane size the depthwise channel-plane kernels use:
/// ((in_h + pads) * (in_w + pads) + 4) rounded up to 4.
static uint64_t paddedPlaneBytes(QConv2DOp conv) {
  ArrayRef<int64_t> x = conv.getInput().getType().getShape();
  ArrayRef<int64_t> p = conv.getPads();
  uint64_t plane = (x[1] + p[0] + p[2]) * (x[2] + p[1] + p[3]) + 4;
  return (plane + 3) / 4 * 4;
}

/// Returns true for a depthwise convolution (one input channel per group).
static bool isDepthwise(QConv2DOp conv) {
  int64_t inC = conv.getInput().getType().getShape()[3];
  return conv.getGroup() == inC && inC > 1;
}

uint64_t kernelScratchBytes(Operation *op) {
  auto conv = dyn_cast<QConv2DOp>(op);
  if (!conv)
    return 0;
  ArrayRef<int64_t> x = conv.getInput().getType().getShape();
  ArrayRef<int64_t> w = conv.getWeight().getType().getShape();
  if (conv.getGroup() == 1) {
    // kiln_conv2d_s8_scratch_bytes: two output pixels of int16 im2col.
    uint64_t depth = w[1] * w[2] * x[3];
    return 16 * ((depth + 3) / 4);
  }
  if (isDepthwise(conv) && w[1] == 3 && w[2] == 3 &&
      conv.getDilations()[0] == 1 && conv.getDilations()[1] == 1)
    return paddedPlaneBytes(conv); // kiln_dwconv2d_3x3_s8_scratch_bytes
  return 0;
}

namespace {

/// Returns the bytes of a tensor value.
uint64_t bytesOf(Value value) {
  auto type = cast<RankedTensorType>(value.getType());
  std::optional<::kiln::DType> dtype =
      ::kiln::fromMlirType(type.getElementType());
  return type.getNumElements() * (dtype ? ::kiln::dtypeSize(*dtype) : 4);
}

/// Returns true when an int8 concat can be placed in its output: inputs keep
/// their quantization (identity requantization, the output's zero point)
/// and each is one contiguous slice (nothing outside the axis but 1s).
std::optional<std::vector<uint64_t>> concatSlices(QConcatOp concat) {
  ArrayRef<int64_t> out = concat.getType().getShape();
  for (int64_t d = 0; d < static_cast<int64_t>(concat.getAxis()); ++d)
    if (out[d] != 1)
      return std::nullopt;
  std::vector<uint64_t> slices;
  uint64_t offset = 0;
  int32_t zp = cast<quant::UniformQuantizedType>(
                   concat.getType().getElementType())
                   .getZeroPoint();
  for (auto [i, input] : llvm::enumerate(concat.getInputs())) {
    auto type = cast<quant::UniformQuantizedType>(
        cast<RankedTensorType>(input.getType()).getElementType());
    if (concat.getMultipliers()[i] != (1 << 30) || concat.getShifts()[i] != 1 ||
        type.getZeroPoint() != zp)
      return std::nullopt;
    slices.push_back(offset);
    offset += bytesOf(input);
  }
  return slices;
}

/// Returns true for a transpose from NCHW to NHWC.
bool isToNhwc(TransposeOp transpose) {
  ArrayRef<int64_t> perm = transpose.getPerm();
  return perm.size() == 4 && perm[0] == 0 && perm[1] == 2 && perm[2] == 3 &&
         perm[3] == 1;
}

/// Returns the geometry of |op| as a patch-stage layer, or nothing when the
/// op cannot be part of a patch stage (not an int8 conv, depthwise or
/// pooling op on one NHWC image).
std::optional<::kiln::memory::SpatialLayer> spatialLayerOf(Operation *op) {
  using ::kiln::memory::SpatialLayer;
  using ::kiln::memory::SpatialOpKind;
  SpatialLayer layer;
  layer.name = op->getName().getStringRef().str();
  auto fill = [&](ArrayRef<int64_t> x, ArrayRef<int64_t> y,
                  ArrayRef<int64_t> kernel, ArrayRef<int64_t> strides,
                  ArrayRef<int64_t> dilations, ArrayRef<int64_t> pads) {
    if (x.size() != 4 || y.size() != 4 || x[0] != 1 || kernel.size() != 2 ||
        strides.size() != 2 || pads.size() != 4)
      return false;
    layer.inH = static_cast<int>(x[1]);
    layer.inW = static_cast<int>(x[2]);
    layer.inC = static_cast<int>(x[3]);
    layer.outH = static_cast<int>(y[1]);
    layer.outW = static_cast<int>(y[2]);
    layer.outC = static_cast<int>(y[3]);
    layer.kernelH = static_cast<int>(kernel[0]);
    layer.kernelW = static_cast<int>(kernel[1]);
    layer.strideH = static_cast<int>(strides[0]);
    layer.strideW = static_cast<int>(strides[1]);
    if (!dilations.empty()) {
      layer.dilationH = static_cast<int>(dilations[0]);
      layer.dilationW = static_cast<int>(dilations[1]);
    }
    layer.padTop = static_cast<int>(pads[0]);
    layer.padLeft = static_cast<int>(pads[1]);
    layer.padBottom = static_cast<int>(pads[2]);
    layer.padRight = static_cast<int>(pads[3]);
    return true;
  };
  if (auto conv = dyn_cast<QConv2DOp>(op)) {
    ArrayRef<int64_t> w = conv.getWeight().getType().getShape();
    if (!fill(conv.getInput().getType().getShape(), conv.getType().getShape(),
              w.slice(1, 2), conv.getStrides(), conv.getDilations(),
              conv.getPads()))
      return std::nullopt;
    if (conv.getGroup() == 1) {
      layer.kind = SpatialOpKind::Conv;
    } else if (isDepthwise(conv)) {
      layer.kind = SpatialOpKind::DepthwiseConv;
    } else {
      return std::nullopt;
    }
    layer.scratchBytes = kernelScratchBytes(op);
    if (layer.kind == SpatialOpKind::DepthwiseConv && layer.scratchBytes > 0) {
      // The 3x3 depthwise kernel's plane shrinks with the patch.
      layer.patchScratchBytes = [](const ::kiln::memory::LayerPatch &patch) {
        uint64_t plane = static_cast<uint64_t>(patch.input.rows() +
                                               patch.padTop + patch.padBottom) *
                             static_cast<uint64_t>(patch.input.cols() +
                                                   patch.padLeft +
                                                   patch.padRight) +
                         4;
        return (plane + 3) / 4 * 4;
      };
    }
    return layer;
  }
  auto pool = [&](auto poolOp) -> std::optional<SpatialLayer> {
    if (!fill(poolOp.getInput().getType().getShape(),
              poolOp.getType().getShape(), poolOp.getKernelShape(),
              poolOp.getStrides(), {}, poolOp.getPads()))
      return std::nullopt;
    layer.kind = SpatialOpKind::Pool;
    return layer;
  };
  if (auto maxPool = dyn_cast<QMaxPool2DOp>(op))
    return pool(maxPool);
  if (auto avgPool = dyn_cast<QAvgPool2DOp>(op))
    return pool(avgPool);
  return std::nullopt;
}

/// Returns the geometry of an int8 add of two same-shape NHWC images (no
/// broadcasting) as a patch-stage layer.
std::optional<::kiln::memory::SpatialLayer> addLayerOf(Operation *op) {
  auto add = dyn_cast<QAddOp>(op);
  if (!add)
    return std::nullopt;
  auto lhs = cast<RankedTensorType>(op->getOperand(0).getType());
  auto rhs = cast<RankedTensorType>(op->getOperand(1).getType());
  ArrayRef<int64_t> y = add.getType().getShape();
  if (lhs.getShape() != rhs.getShape() || lhs.getShape() != y ||
      y.size() != 4 || y[0] != 1)
    return std::nullopt;
  ::kiln::memory::SpatialLayer layer;
  layer.name = op->getName().getStringRef().str();
  layer.kind = ::kiln::memory::SpatialOpKind::Add;
  layer.inH = layer.outH = static_cast<int>(y[1]);
  layer.inW = layer.outW = static_cast<int>(y[2]);
  layer.inC = layer.outC = static_cast<int>(y[3]);
  return layer;
}

/// The ops a patch stage can be cut from: a small DAG in program order.
struct StageChain {
  /// The NCHW -> NHWC transpose of the program input, if the stage starts
  /// with one.
  Operation *transpose = nullptr;
  std::vector<Operation *> layerOps;
  /// layers[l].inputs: the layers it reads (-1: the stage input).
  std::vector<::kiln::memory::SpatialLayer> layers;
};

/// Returns the patchable ops that follow a program input of |func|: the
/// first reads the input (its only reader), then, in program order, every
/// int8 conv, depthwise or pooling op that reads a stage op's result and
/// every int8 add of two stage results (a residual connection), until an
/// op reads a stage result but cannot join the stage.
StageChain findStageChain(func::FuncOp func) {
  StageChain chain;
  for (Operation &op : func.getBody().front()) {
    if (!isInputBoundary(&op))
      continue;
    Value value = op.getResult(0);
    auto soleUser = [](Value v) -> Operation * {
      if (!v.hasOneUse())
        return nullptr;
      Operation *user = *v.getUsers().begin();
      if (isOutputBoundary(user) || isa<func::ReturnOp>(user))
        return nullptr;
      return user;
    };
    Operation *next = soleUser(value);
    if (auto transpose = dyn_cast_or_null<TransposeOp>(next);
        transpose && isToNhwc(transpose)) {
      chain.transpose = transpose;
      value = transpose.getResult();
      next = soleUser(value);
    }
    llvm::DenseMap<Value, int> index;
    index[value] = -1;
    for (Operation *op = next; op; op = op->getNextNode()) {
      bool readsStage = llvm::any_of(op->getOperands(), [&](Value operand) {
        return index.count(operand) != 0;
      });
      if (!readsStage) {
        if (chain.layerOps.empty())
          break;
        continue; // an op beside the stage
      }
      if (op->getNumResults() != 1 || !index.count(op->getOperand(0)))
        break;
      std::optional<::kiln::memory::SpatialLayer> layer = spatialLayerOf(op);
      if (!layer)
        layer = addLayerOf(op);
      if (!layer)
        break;
      // Every other operand is a constant (weights, bias) or, for an add,
      // a stage result.
      bool ok = true;
      layer->inputs.clear();
      for (Value operand : op->getOperands()) {
        auto it = index.find(operand);
        if (it != index.end()) {
          layer->inputs.push_back(it->second);
          continue;
        }
        ok = ok && operand.getDefiningOp<ConstantOp>();
      }
      if (!ok || layer->inputs.size() !=
                     (layer->kind == ::kiln::memory::SpatialOpKind::Add ? 2u
                                                                         : 1u))
        break;
      index[op->getResult(0)] = static_cast<int>(chain.layerOps.size());
      chain.layerOps.push_back(op);
      chain.layers.push_back(std::move(*layer));
    }
    if (!chain.layerOps.empty())
      return chain;
    chain = StageChain();
  }
  return chain;
}

/// Returns true when the first |k| ops of |chain| can be a stage: every
/// result but the last is read, and only by ops of the prefix.
bool isStagePrefix(const StageChain &chain, size_t k) {
  llvm::SmallPtrSet<Operation *, 16> inside(chain.layerOps.begin(),
                                            chain.layerOps.begin() + k);
  for (size_t l = 0; l + 1 < k; ++l) {
    Value result = chain.layerOps[l]->getResult(0);
    if (result.use_empty())
      return false;
    for (Operation *user : result.getUsers())
      if (!inside.contains(user))
        return false;
  }
  return true;
}

/// The patch stage chosen for a function.
struct PatchChoice {
  /// The stage's ops in execution order (a leading transpose included).
  std::vector<Operation *> ops;
  /// True when ops.front() is the input's NCHW -> NHWC transpose.
  bool transposed = false;
  std::vector<::kiln::memory::SpatialLayer> layers;
  ::kiln::memory::PatchPlan patches;
  ::kiln::memory::PatchedGraph patched;
  ::kiln::memory::ArenaPlan plan;
};

/// Returns "1,234,567".
std::string withCommas(uint64_t value) {
  std::string digits = std::to_string(value), text;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0)
      text += ',';
    text += digits[i];
  }
  return text;
}

/// Returns the ONNX node name of |op| (its location), or the op's name.
std::string opName(Operation *op) {
  std::string name = op->getName().getStringRef().str();
  if (auto loc = dyn_cast<FusedLoc>(op->getLoc()))
    if (!loc.getLocations().empty())
      if (auto nameLoc = dyn_cast<NameLoc>(loc.getLocations().front()))
        name = nameLoc.getName().str();
  if (auto nameLoc = dyn_cast<NameLoc>(op->getLoc()))
    name = nameLoc.getName().str();
  return name;
}

/// Returns the multiply-accumulates of every int8 conv and fully connected
/// op of |ops| (pooling and elementwise ops count none).
uint64_t modelMacs(ArrayRef<Operation *> ops) {
  uint64_t macs = 0;
  for (Operation *op : ops) {
    if (auto conv = dyn_cast<QConv2DOp>(op)) {
      ArrayRef<int64_t> y = conv.getType().getShape();
      ArrayRef<int64_t> w = conv.getWeight().getType().getShape();
      macs += static_cast<uint64_t>(y[0] * y[1] * y[2] * y[3]) * w[1] * w[2] *
              w[3];
    } else if (auto fc = dyn_cast<QFullyConnectedOp>(op)) {
      ArrayRef<int64_t> x = fc.getInput().getType().getShape();
      ArrayRef<int64_t> w = fc.getWeight().getType().getShape();
      macs += static_cast<uint64_t>(x[0]) * w[0] * w[1];
    }
  }
  return macs;
}

/// Tries every prefix of |chain| as a patch stage of |patchesPerSide|^2
/// patches and returns the one whose whole-graph plan has the smallest
/// arena, if it beats |unpatched|. |report| receives a Markdown section on
/// the candidates and the choice (or "error: ..." on an internal failure).
std::optional<PatchChoice>
choosePatchStage(const ::kiln::memory::MemoryGraph &graph,
                 const llvm::DenseMap<Value, ::kiln::memory::TensorId> &ids,
                 const std::vector<Operation *> &opsById,
                 const StageChain &chain, int patchesPerSide,
                 const ::kiln::memory::PlanOptions &options,
                 const ::kiln::memory::ArenaPlan &unpatched,
                 std::string &report) {
  using namespace ::kiln::memory;
  std::string text = "## Patch-based first stage (MCUNetV2)\n\n";
  char line[512];
  if (chain.layerOps.empty()) {
    report = text + "No stage: the program input does not feed a chain of "
                    "int8 convolution, depthwise or pooling ops.\n";
    return std::nullopt;
  }
  llvm::DenseMap<Operation *, OpId> idOf;
  for (auto [id, op] : llvm::enumerate(opsById))
    idOf[op] = static_cast<OpId>(id);
  PatchOptions patchOptions;
  // The C kernels take dense NHWC tensors: the first layer reads a copy of
  // its input window, the last writes its region before it is copied out.
  patchOptions.copyInputWindow = true;
  patchOptions.copyOutputWindow = true;
  patchOptions.alignment = 16;

  std::snprintf(line, sizeof(line),
                "%d x %d patches. Unpatched arena: %s bytes. Candidates (the "
                "stage is the first k ops, in program order, of the convs, "
                "pools and residual adds that start at the input%s; a "
                "prefix that ends inside a residual block, whose skip tensor "
                "is still read after it, is none):\n\n",
                patchesPerSide, patchesPerSide,
                withCommas(alignUp(unpatched.arenaBytes, 16)).c_str(),
                chain.transpose ? ", whose NCHW -> NHWC transpose the patches "
                                  "gather directly"
                                : "");
  text += line;
  text += "| k | last op | stage output | buffer bytes | stage peak "
          "(whole -> patched) | MACs (whole -> patched) | recompute | "
          "arena |\n"
          "| ---: | --- | --- | ---: | --- | --- | ---: | ---: |\n";
  std::optional<PatchChoice> best;
  for (size_t k = 1; k <= chain.layerOps.size(); ++k) {
    std::vector<SpatialLayer> layers(chain.layers.begin(),
                                     chain.layers.begin() + k);
    const SpatialLayer &last = layers.back();
    if (patchesPerSide > std::min(last.outH, last.outW))
      break;
    // Inside a residual block the skip tensor is still read after the
    // prefix: not a stage.
    if (!isStagePrefix(chain, k))
      continue;
    ::kiln::Result<PatchPlan> patches =
        planPatches(layers, patchesPerSide, patchOptions);
    if (!patches) {
      std::snprintf(line, sizeof(line), "| %zu | `%s` | %dx%dx%d | not a "
                    "stage: %s | | | | |\n", k, opName(chain.layerOps[k - 1]).c_str(),
                    last.outH, last.outW, last.outC,
                    patches.status().str().c_str());
      text += line;
      continue;
    }
    std::vector<OpId> stageIds;
    std::vector<Operation *> stageOps;
    if (chain.transpose) {
      stageIds.push_back(idOf.lookup(chain.transpose));
      stageOps.push_back(chain.transpose);
    }
    for (size_t l = 0; l < k; ++l) {
      stageIds.push_back(idOf.lookup(chain.layerOps[l]));
      stageOps.push_back(chain.layerOps[l]);
    }
    ::kiln::Result<PatchedGraph> patchedGraph =
        replaceStageWithPatches(graph, stageIds, *patches);
    if (!patchedGraph) {
      report = "error: cannot replace the patch stage: " +
               patchedGraph.status().str();
      return std::nullopt;
    }
    ::kiln::Result<ArenaPlan> plan = planMemory(patchedGraph->graph, options);
    if (!plan) {
      report = "error: memory planning failed: " + plan.status().str();
      return std::nullopt;
    }
    if (::kiln::Status check = checkPlan(patchedGraph->graph, *plan);
        check.failed()) {
      report = "error: memory plan is invalid: " + check.str();
      return std::nullopt;
    }
    std::string name = opName(chain.layerOps[k - 1]);
    std::snprintf(line, sizeof(line),
                  "| %zu | `%s` | %dx%dx%d | %s | %s -> %s | %s -> %s | %.1f %% "
                  "| %s |\n",
                  k, name.c_str(), last.outH, last.outW, last.outC,
                  withCommas(patches->patchBufferBytes).c_str(),
                  withCommas(patches->wholeTensorPeakBytes).c_str(),
                  withCommas(patches->patchPeakBytes).c_str(),
                  withCommas(patches->wholeMacs).c_str(),
                  withCommas(patches->patchMacs).c_str(),
                  patches->recomputePercent,
                  withCommas(alignUp(plan->arenaBytes, 16)).c_str());
    text += line;
    bool better =
        !best || plan->arenaBytes < best->plan.arenaBytes ||
        (plan->arenaBytes == best->plan.arenaBytes &&
         patches->patchMacs - patches->wholeMacs <
             best->patches.patchMacs - best->patches.wholeMacs);
    if (better) {
      best = PatchChoice{stageOps,        chain.transpose != nullptr,
                         layers,          patches.take(),
                         patchedGraph.take(), plan.take()};
    }
  }
  if (!best) {
    std::snprintf(line, sizeof(line),
                  "\nNo stage: no prefix is a stage, or %d patches per side "
                  "exceed its output.\n",
                  patchesPerSide);
    report = text + line;
    return std::nullopt;
  }
  if (best->plan.arenaBytes >= unpatched.arenaBytes) {
    report = text + "\nNot used: no stage gives a smaller arena than "
                    "whole-tensor execution.\n";
    return std::nullopt;
  }
  const PatchPlan &p = best->patches;
  uint64_t macs = modelMacs(opsById);
  uint64_t extra = p.patchMacs - p.wholeMacs;
  std::snprintf(
      line, sizeof(line),
      "\nChosen: k = %zu (%zu layers), arena %s -> %s bytes (%.2fx). "
      "Recomputation: the stage's %s MACs become %s (+%.1f %%), "
      "+%.2f %% of the model's %s MACs. Per-patch buffer: %s bytes.\n",
      best->layers.size(), best->layers.size(),
      withCommas(alignUp(unpatched.arenaBytes, 16)).c_str(),
      withCommas(alignUp(best->plan.arenaBytes, 16)).c_str(),
      static_cast<double>(unpatched.arenaBytes) /
          static_cast<double>(best->plan.arenaBytes),
      withCommas(p.wholeMacs).c_str(), withCommas(p.patchMacs).c_str(),
      p.recomputePercent,
      macs ? 100.0 * static_cast<double>(extra) / static_cast<double>(macs)
           : 0.0,
      withCommas(macs).c_str(), withCommas(p.patchBufferBytes).c_str());
  report = text + line;
  return best;
}

/// Records the chosen patch stage for the code generator: on the function
/// `kiln.patch_stage` (patches per side, buffer offset and bytes, MACs), on
/// each stage op `kiln.patch_layer` (its index; -1 for the input transpose),
/// and on each layer `kiln.patch_regions` (per patch: input rows [r0, r1),
/// columns [c0, c1), output rows and columns, pads top, left, bottom, right)
/// and `kiln.patch_buffer` (arena offsets of its input region, output
/// region and scratch; -1 where the layer reads the stage input or writes
/// the stage output in place, or has no scratch).
void annotatePatchStage(func::FuncOp func, const PatchChoice &choice,
                        OpBuilder &builder) {
  const ::kiln::memory::PatchPlan &p = choice.patches;
  int64_t base = static_cast<int64_t>(
      choice.plan.scratchOffset(choice.patched.stageOp, 0).value_or(0));
  MLIRContext *ctx = func.getContext();
  auto i64 = [&](int64_t v) { return builder.getI64IntegerAttr(v); };
  SmallVector<NamedAttribute> fields = {
      NamedAttribute(StringAttr::get(ctx, "patches"), i64(p.patchesPerSide)),
      NamedAttribute(StringAttr::get(ctx, "buffer_offset"), i64(base)),
      NamedAttribute(StringAttr::get(ctx, "buffer_bytes"),
                     i64(static_cast<int64_t>(p.patchBufferBytes))),
      NamedAttribute(StringAttr::get(ctx, "whole_macs"),
                     i64(static_cast<int64_t>(p.wholeMacs))),
      NamedAttribute(StringAttr::get(ctx, "patch_macs"),
                     i64(static_cast<int64_t>(p.patchMacs)))};
  func->setAttr("kiln.patch_stage", builder.getDictionaryAttr(fields));
  size_t first = 0;
  if (choice.transposed) {
    choice.ops.front()->setAttr("kiln.patch_layer", i64(-1));
    first = 1;
  }
  for (size_t l = 0; l < choice.layers.size(); ++l) {
    Operation *op = choice.ops[first + l];
    op->setAttr("kiln.patch_layer", i64(static_cast<int64_t>(l)));
    SmallVector<int64_t> regions;
    for (const auto &chain : p.regions) {
      const ::kiln::memory::LayerPatch &r = chain[l];
      regions.append({r.input.rowBegin, r.input.rowEnd, r.input.colBegin,
                      r.input.colEnd, r.output.rowBegin, r.output.rowEnd,
                      r.output.colBegin, r.output.colEnd, r.padTop, r.padLeft,
                      r.padBottom, r.padRight});
    }
    op->setAttr("kiln.patch_regions", builder.getDenseI64ArrayAttr(regions));
    const ::kiln::memory::PatchLayerLayout &layout = p.layout[l];
    auto at = [&](int64_t offset) { return offset < 0 ? -1 : base + offset; };
    op->setAttr("kiln.patch_buffer",
                builder.getDenseI64ArrayAttr({at(layout.inputOffset),
                                              at(layout.outputOffset),
                                              at(layout.scratchOffset)}));
    op->removeAttr("kiln.scratch_offset");
    op->removeAttr("kiln.in_place");
  }
  if (choice.transposed)
    choice.ops.front()->removeAttr("kiln.scratch_offset");
}

struct KilnPlanMemoryPass final
    : impl::KilnPlanMemoryPassBase<KilnPlanMemoryPass> {
  using Base::Base;

  void runOnOperation() override {
    func::FuncOp func = getOperation();
    // "greedy" is the command line's name of TF Lite Micro's planner.
    auto kind = ::kiln::memory::parsePlannerKind(
        planner == "greedy" ? std::string("greedy-by-size") : planner);
    if (!kind) {
      func.emitError("unknown memory planner '")
          << planner << "' (expected default or greedy)";
      return signalPassFailure();
    }
    if (device != "mcu" && device != "gpu") {
      func.emitError("unknown device '") << device << "' (expected mcu or gpu)";
      return signalPassFailure();
    }
    const bool gpu = device == "gpu";
    using namespace ::kiln::memory;
    MemoryGraph graph;
    llvm::DenseMap<Value, TensorId> ids;
    std::vector<Operation *> opsById;
    auto returnOp = cast<func::ReturnOp>(func.getBody().front().getTerminator());

    auto tensorOf = [&](Value value) -> std::optional<TensorId> {
      if (value.getDefiningOp<ConstantOp>())
        return std::nullopt;
      auto it = ids.find(value);
      if (it != ids.end())
        return it->second;
      TensorDesc desc;
      desc.name = "t" + std::to_string(ids.size());
      desc.bytes = bytesOf(value);
      Operation *def = value.getDefiningOp();
      desc.graphInput =
          isa<BlockArgument>(value) || (def && isInputBoundary(def));
      TensorId id = graph.addTensor(desc);
      ids[value] = id;
      return id;
    };

    for (Operation &op : func.getBody().front()) {
      if (isa<ConstantOp, func::ReturnOp>(op) || isOutputBoundary(&op))
        continue;
      if (isInputBoundary(&op)) {
        (void)tensorOf(op.getResult(0));
        continue;
      }
      OpDesc desc;
      desc.name = op.getName().getStringRef().str();
      for (Value operand : op.getOperands())
        if (std::optional<TensorId> id = tensorOf(operand))
          desc.inputs.push_back(*id);
      for (Value result : op.getResults())
        desc.outputs.push_back(*tensorOf(result));
      if (uint64_t scratch = gpu ? 0 : kernelScratchBytes(&op))
        desc.scratchBytes.push_back(scratch);
      if (isa<ReshapeOp>(op) && !desc.inputs.empty())
        desc.alias = AliasCapability{0, 0};
      if (auto conv = dyn_cast<QConv2DOp>(op)) {
        ArrayRef<int64_t> x = conv.getInput().getType().getShape();
        ArrayRef<int64_t> y = conv.getType().getShape();
        if (!gpu && isDepthwise(conv) && y[3] == x[3] &&
            y[1] * y[2] <= x[1] * x[2])
        {
          // The in-place kernel's channel plane replaces the 3x3 kernel's
          // scratch (same formula, kiln_dwconv2d_inplace_s8_scratch_bytes).
          InPlaceCapability inPlace{InPlaceKind::Depthwise, 0, 0,
                                    paddedPlaneBytes(conv)};
          inPlace.replacesScratch = true;
          desc.inPlace.push_back(inPlace);
        }
      }
      if (isa<QClampOp, RequantizeOp, QSoftmaxOp>(op))
        desc.inPlace.push_back(
            InPlaceCapability{InPlaceKind::Elementwise, 0, 0, 0});
      if (isa<QAddOp, QMulOp>(op) &&
          cast<RankedTensorType>(op.getOperand(0).getType()).getShape() ==
              cast<RankedTensorType>(op.getOperand(1).getType()).getShape() &&
          desc.inputs.size() == 2) {
        desc.inPlace.push_back(
            InPlaceCapability{InPlaceKind::Elementwise, 0, 0, 0});
        desc.inPlace.push_back(
            InPlaceCapability{InPlaceKind::Elementwise, 1, 0, 0});
      }
      if (auto concat = dyn_cast<QConcatOp>(op))
        if (auto slices = concatSlices(concat);
            slices && desc.inputs.size() == concat.getInputs().size())
          desc.concat = ConcatPlacement{0, *slices};
      graph.addOp(desc);
      opsById.push_back(&op);
    }
    // Program outputs: the int8 values the output boundaries dequantize, or
    // values returned directly.
    for (Value operand : returnOp.getOperands()) {
      Value source = operand;
      if (Operation *def = operand.getDefiningOp(); def && isOutputBoundary(def))
        source = def->getOperand(0);
      if (std::optional<TensorId> id = tensorOf(source))
        graph.tensor(*id).graphOutput = true;
    }

    PlanOptions options;
    options.planner = *kind;
    if (*kind == PlannerKind::GreedyBySize)
      options.chooseOrder = false; // TF Lite Micro keeps the model's order
    auto plan = planMemory(graph, options);
    if (!plan) {
      func.emitError("memory planning failed: ") << plan.status().str();
      return signalPassFailure();
    }
    if (::kiln::Status check = checkPlan(graph, *plan); check.failed()) {
      func.emitError("memory plan is invalid: ") << check.str();
      return signalPassFailure();
    }

    // Patch-based execution of the first stage: every prefix of the chain
    // that starts at the input is a candidate.
    std::optional<PatchChoice> patched;
    std::string patchReport;
    if (patch < 0 || patch > 64) {
      func.emitError("patches per side must be in [0, 64], got ") << patch;
      return signalPassFailure();
    }
    if (patch > 0) {
      patched = choosePatchStage(graph, ids, opsById, findStageChain(func), patch,
                                 options, *plan, patchReport);
      if (!patched && !patchReport.empty() &&
          patchReport.rfind("error: ", 0) == 0) {
        func.emitError(patchReport.substr(7));
        return signalPassFailure();
      }
    }
    const MemoryGraph &finalGraph = patched ? patched->patched.graph : graph;
    const ArenaPlan &finalPlan = patched ? patched->plan : *plan;
    auto newTensor = [&](TensorId old) -> TensorId {
      return patched ? patched->patched.tensorMap[old] : old;
    };
    std::vector<Operation *> opOfNew(finalGraph.numOps(), nullptr);
    for (auto [old, op] : llvm::enumerate(opsById)) {
      OpId id = patched ? patched->patched.opMap[old] : static_cast<OpId>(old);
      if (!patched || id != patched->patched.stageOp)
        opOfNew[id] = op;
    }

    // Execution order, then offsets.
    OpBuilder builder(func.getContext());
    SmallVector<Operation *> outputBoundaries;
    for (Operation &op : func.getBody().front())
      if (isOutputBoundary(&op))
        outputBoundaries.push_back(&op);
    for (OpId id : finalPlan.order) {
      if (patched && id == patched->patched.stageOp) {
        for (Operation *op : patched->ops)
          op->moveBefore(returnOp);
        continue;
      }
      opOfNew[id]->moveBefore(returnOp);
    }
    // The output dequantizes follow every kernel.
    for (Operation *op : outputBoundaries)
      op->moveBefore(returnOp);
    auto offsetOf = [&](Value value) -> int64_t {
      TensorId id = newTensor(ids.lookup(value));
      if (id < 0)
        return -1; // an intermediate of the patch stage: not in the arena
      return static_cast<int64_t>(finalPlan.tensorOffset(id).value_or(0));
    };
    auto offsetsOf = [&](Operation *op) {
      SmallVector<int64_t> offsets;
      for (Value result : op->getResults())
        offsets.push_back(offsetOf(result));
      return builder.getDenseI64ArrayAttr(offsets);
    };
    for (Operation &op : func.getBody().front()) {
      if (isInputBoundary(&op))
        op.setAttr("kiln.offsets", offsetsOf(&op));
    }
    for (Operation *op : opsById)
      op->setAttr("kiln.offsets", offsetsOf(op));
    for (auto [id, op] : llvm::enumerate(opOfNew)) {
      if (!op)
        continue;
      if (std::optional<uint64_t> scratch = finalPlan.scratchOffset(id, 0))
        op->setAttr("kiln.scratch_offset",
                    builder.getI64IntegerAttr(static_cast<int64_t>(*scratch)));
    }
    for (const AppliedReuse &reuse : finalPlan.reuses) {
      Operation *op = opOfNew[reuse.op];
      if (!op)
        continue;
      if (reuse.kind == ReuseKind::DepthwiseInPlace) {
        op->setAttr("kiln.in_place", builder.getStringAttr("depthwise"));
        if (std::optional<uint64_t> temp = finalPlan.inPlaceTempOffset(reuse.op))
          op->setAttr("kiln.scratch_offset",
                      builder.getI64IntegerAttr(static_cast<int64_t>(*temp)));
      } else if (reuse.kind == ReuseKind::ElementwiseInPlace) {
        op->setAttr("kiln.in_place", builder.getStringAttr("elementwise"));
      }
    }
    if (patched)
      annotatePatchStage(func, *patched, builder);
    func->setAttr("kiln.arena_bytes",
                  builder.getI64IntegerAttr(static_cast<int64_t>(
                      alignUp(finalPlan.arenaBytes, 16))));
    func->setAttr("kiln.arena_lower_bound",
                  builder.getI64IntegerAttr(
                      static_cast<int64_t>(finalPlan.lowerBound)));
    func->setAttr("kiln.planner", builder.getStringAttr(finalPlan.strategy));

    if (!report.empty()) {
      std::string text = formatPlanReport(finalGraph, finalPlan);
      if (!patchReport.empty())
        text += "\n" + patchReport;
      ::kiln::Status status = writeTextFile(report + ".md", text);
      SvgOptions svg;
      svg.title = "arena plan (" + finalPlan.strategy + ")";
      status.append(writeTextFile(report + ".svg",
                                  renderArenaSvg(finalGraph, finalPlan, svg)));
      if (status.failed()) {
        func.emitError("cannot write the memory report: ") << status.str();
        return signalPassFailure();
      }
    }
  }
};

} // namespace
} // namespace mlir::kiln
