//===- PlanMemory.cpp - kiln-plan-memory ------------------------*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// Builds the memory graph of a lowered function, plans the arena with
// KilnMemoryPlanner, checks the plan, reorders the ops to the planned
// execution order and records offsets as attributes (see Passes.td). The
// scratch sizes here mirror runtime/c's *_scratch_bytes functions; the C
// code generator asserts them again at run time.
//
//===----------------------------------------------------------------------===//

#include "passes/memory/Passes.h"
#include "passes/memory/planner/MemoryPlanner.h"

#include "compiler/support/TensorAttr.h"
#include "dialects/kiln/KilnOps.h"

#include "mlir/Dialect/Quant/IR/QuantTypes.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "llvm/ADT/DenseMap.h"

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

    // Execution order, then offsets.
    OpBuilder builder(func.getContext());
    SmallVector<Operation *> outputBoundaries;
    for (Operation &op : func.getBody().front())
      if (isOutputBoundary(&op))
        outputBoundaries.push_back(&op);
    for (OpId id : plan->order)
      opsById[id]->moveBefore(returnOp);
    // The output dequantizes follow every kernel.
    for (Operation *op : outputBoundaries)
      op->moveBefore(returnOp);
    auto offsetsOf = [&](Operation *op) {
      SmallVector<int64_t> offsets;
      for (Value result : op->getResults())
        offsets.push_back(static_cast<int64_t>(
            plan->tensorOffset(ids.lookup(result)).value_or(0)));
      return builder.getDenseI64ArrayAttr(offsets);
    };
    for (Operation &op : func.getBody().front()) {
      if (isInputBoundary(&op))
        op.setAttr("kiln.offsets", offsetsOf(&op));
    }
    for (auto [id, op] : llvm::enumerate(opsById)) {
      op->setAttr("kiln.offsets", offsetsOf(op));
      if (std::optional<uint64_t> scratch = plan->scratchOffset(id, 0))
        op->setAttr("kiln.scratch_offset",
                    builder.getI64IntegerAttr(static_cast<int64_t>(*scratch)));
    }
    for (const AppliedReuse &reuse : plan->reuses) {
      Operation *op = opsById[reuse.op];
      if (reuse.kind == ReuseKind::DepthwiseInPlace) {
        op->setAttr("kiln.in_place", builder.getStringAttr("depthwise"));
        if (std::optional<uint64_t> temp = plan->inPlaceTempOffset(reuse.op))
          op->setAttr("kiln.scratch_offset",
                      builder.getI64IntegerAttr(static_cast<int64_t>(*temp)));
      } else if (reuse.kind == ReuseKind::ElementwiseInPlace) {
        op->setAttr("kiln.in_place", builder.getStringAttr("elementwise"));
      }
    }
    func->setAttr("kiln.arena_bytes",
                  builder.getI64IntegerAttr(static_cast<int64_t>(
                      alignUp(plan->arenaBytes, 16))));
    func->setAttr("kiln.arena_lower_bound",
                  builder.getI64IntegerAttr(
                      static_cast<int64_t>(plan->lowerBound)));
    func->setAttr("kiln.planner", builder.getStringAttr(plan->strategy));

    if (!report.empty()) {
      ::kiln::Status status =
          writeTextFile(report + ".md", formatPlanReport(graph, *plan));
      SvgOptions svg;
      svg.title = "arena plan (" + plan->strategy + ")";
      status.append(
          writeTextFile(report + ".svg", renderArenaSvg(graph, *plan, svg)));
      if (status.failed()) {
        func.emitError("cannot write the memory report: ") << status.str();
        return signalPassFailure();
      }
    }
  }
};

} // namespace
} // namespace mlir::kiln
