//===- FuseLowBit.cpp - kiln-fuse-lowbit ------------------------*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// Chooses the runtime/cuda kernel of every kiln.lowbit_linear, fuses
// SVDQuant's low-rank branch into the W4A4 kernel where the kernel supports
// its rank, and reports every layer that does not get its best kernel (see
// Passes.td). The choices come from runtime/cuda's Select.h, the code the
// generated programs are built against.
//
//===----------------------------------------------------------------------===//

#include "passes/fusion/Passes.h"

#include "compiler/support/DiagnosticCapture.h"
#include "dialects/kiln/KilnOps.h"
#include "kiln/cuda/Select.h"

#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/raw_ostream.h"

#include <string>
#include <vector>

namespace mlir::kiln {

#define GEN_PASS_DEF_KILNFUSELOWBITPASS
#include "passes/fusion/Passes.h.inc"

namespace {

/// SVDQuant's branch around one layer: down = x L1, up = down L2,
/// merge = layer + up.
struct LowRankBranch {
  MatMulOp down, up;
  AddOp merge;
  int64_t rank = 0;
};

/// Returns the low-rank branch of |layer| as kiln-quantize-lowbit builds it,
/// or nothing.
std::optional<LowRankBranch> findBranch(LowBitLinearOp layer) {
  auto isPart = [](Operation *op, StringRef role) {
    auto attr = op ? op->getAttrOfType<StringAttr>("kiln.lowrank") : nullptr;
    return attr && attr.getValue() == role;
  };
  if (!layer->hasOneUse())
    return std::nullopt;
  auto merge = dyn_cast<AddOp>(*layer->getUsers().begin());
  if (!merge || !isPart(merge, "merge"))
    return std::nullopt;
  Value other = merge->getOperand(0) == layer.getResult()
                    ? merge->getOperand(1)
                    : merge->getOperand(0);
  auto up = other.getDefiningOp<MatMulOp>();
  if (!up || !isPart(up, "up") || !up->hasOneUse())
    return std::nullopt;
  auto down = up->getOperand(0).getDefiningOp<MatMulOp>();
  if (!down || !isPart(down, "down") || !down->hasOneUse() ||
      down->getOperand(0) != layer.getInput())
    return std::nullopt;
  auto mid = cast<RankedTensorType>(down.getType());
  return LowRankBranch{down, up, merge, mid.getShape().back()};
}

/// One row of the report.
struct Row {
  std::string node, shape, formats, kernel, reason;
};

/// Returns "launcher<tile>".
std::string kernelName(const ::kiln::cuda::KernelChoice &choice) {
  std::string name = choice.launcher;
  if (*choice.tile)
    name += std::string("<") + choice.tile + ">";
  return name;
}

struct KilnFuseLowBitPass final
    : impl::KilnFuseLowBitPassBase<KilnFuseLowBitPass> {
  using Base::Base;

  void runOnOperation() override {
    ::kiln::cuda::Arch target;
    if (arch == "sm80") {
      target = ::kiln::cuda::Arch::kSm80;
    } else if (arch == "sm90") {
      target = ::kiln::cuda::Arch::kSm90;
    } else {
      getOperation().emitError() << "kiln-fuse-lowbit: arch must be sm80 or "
                                    "sm90, got '"
                                 << arch << "'";
      return signalPassFailure();
    }
    std::vector<Row> rows;
    getOperation().walk([&](LowBitLinearOp layer) {
      rows.push_back(choose(layer, target));
    });
    if (!report.empty() && failed(writeReport(rows)))
      return signalPassFailure();
  }

  Row choose(LowBitLinearOp layer, ::kiln::cuda::Arch target) {
    auto input = cast<RankedTensorType>(layer.getInput().getType());
    auto weight = cast<RankedTensorType>(layer.getWeight().getType());
    int64_t k = input.getShape().back();
    int64_t n = weight.getShape().front();
    int64_t m = input.getNumElements() / k;
    StringRef w = layer.getWeightFormat(), a = layer.getActFormat();
    int64_t group = layer.getWeightGroupSize();
    std::string armName = target == ::kiln::cuda::Arch::kSm90 ? "sm90" : "sm80";

    Row row;
    row.node = ::kiln::formatLocation(layer.getLoc());
    row.shape = std::to_string(m) + " x " + std::to_string(n) + " x " +
                std::to_string(k);
    row.formats = (w + " x " + a).str();
    std::string kernel = "none", reason;
    bool degraded = false;

    if (w == "int8" && a == "int8") {
      ::kiln::cuda::KernelChoice c = ::kiln::cuda::chooseGemmKernel(target, m, n, k, 1);
      kernel = kernelName(c);
      reason = "W8A8: int8 tensor cores, per-token x per-channel scales in "
               "the epilogue";
      if (c.splitK > 1)
        reason += ", split-K " + std::to_string(c.splitK);
    } else if (w == "qoq" && a == "int8") {
      if (group != 128 || k % 128 != 0 || n % 8 != 0) {
        reason = "QoQ W4A8 needs group 128, K % 128 == 0 and N % 8 == 0 "
                 "(group " +
                 std::to_string(group) + ", K " + std::to_string(k) +
                 ", N " + std::to_string(n) + ")";
        degraded = true;
      } else {
        ::kiln::cuda::KernelChoice c = ::kiln::cuda::chooseW4A8Kernel(target, m, n, k);
        kernel = kernelName(c);
        reason = target == ::kiln::cuda::Arch::kSm90 && m >= 64
                     ? "QoQ W4A8: RS wgmma (sm90, M >= 64)"
                     : "QoQ W4A8: int8 mma.sync, in-register 4 -> 8 bit "
                       "unpacking";
        if (c.splitK > 1)
          reason += ", split-K " + std::to_string(c.splitK);
      }
    } else if (w == "int4-sym" && a == "int4-sym") {
      if (group != 64 || layer.getActGroupSize() != 64 || k % 64 != 0) {
        reason = "W4A4 needs groups of 64 and K % 64 == 0 (group " +
                 std::to_string(group) + ", K " + std::to_string(k) + ")";
        degraded = true;
      } else {
        bool int4Mma = ::kiln::cuda::w4a4UsesInt4Mma(target);
        std::string mma = int4Mma ? "int4 mma (m16n8k64)"
                                  : "int8 mma after in-register int4 "
                                    "unpacking (" +
                                        armName + " has no int4 tensor cores)";
        std::optional<LowRankBranch> branch = findBranch(layer);
        int64_t rank = branch ? branch->rank : 0;
        bool fusable = rank == 16 || rank == 32 || rank == 64 || rank == 128;
        if (branch && fusable) {
          kernel = "kiln::cuda::W4A4Quantize<" + std::to_string(rank) +
                   "> + kiln::cuda::GemmW4A4<" + std::to_string(rank) + ", " +
                   (int4Mma ? "true" : "false") + ">";
          reason = "SVDQuant W4A4, low-rank branch (rank " +
                   std::to_string(rank) +
                   ") fused: X L1 in the quantizer, (X L1) L2 in the GEMM "
                   "epilogue; " +
                   mma;
          Builder b(layer.getContext());
          layer->setAttr("kiln.lowrank_rank", b.getI64IntegerAttr(rank));
          for (Operation *part : {branch->down.getOperation(),
                                  branch->up.getOperation(),
                                  branch->merge.getOperation()})
            part->setAttr("kiln.fused_into", b.getStringAttr(kernel));
        } else {
          kernel = std::string("kiln::cuda::W4A4Quantize<0> + "
                               "kiln::cuda::GemmW4A4<0, ") +
                   (int4Mma ? "true" : "false") + ">";
          reason = "W4A4: " + mma;
          if (branch) {
            reason += "; low-rank branch of rank " + std::to_string(rank) +
                      " runs unfused (the fused kernel takes ranks 16, 32, "
                      "64, 128)";
            degraded = true;
          }
        }
      }
    } else if (w.starts_with("nvfp4")) {
      reason = "no NVFP4 kernel for " + armName +
               ": FP4 tensor cores need sm_100 (Blackwell)";
      degraded = true;
    } else if (a == "none") {
      reason = "no weight-only (" + w.str() +
               " weights, float activations) kernel in runtime/cuda yet";
      degraded = true;
    } else {
      reason = "no kernel for " + w.str() + " weights with " + a.str() +
               " activations";
      degraded = true;
    }
    Builder b(layer.getContext());
    layer->setAttr("kiln.kernel", b.getStringAttr(kernel));
    layer->setAttr("kiln.kernel_reason", b.getStringAttr(reason));
    if (degraded)
      layer.emitRemark() << (kernel == "none" ? "no CUDA kernel: "
                                              : "kernel " + kernel + ": ")
                         << reason;
    row.kernel = kernel;
    row.reason = reason;
    return row;
  }

  LogicalResult writeReport(const std::vector<Row> &rows) {
    std::error_code error;
    llvm::raw_fd_ostream os(report, error);
    if (error)
      return getOperation().emitError()
             << "kiln-fuse-lowbit: cannot write '" << report
             << "': " << error.message();
    os << "# Low-bit layers and their CUDA kernels (" << arch << ")\n\n"
       << "| layer | M x N x K | weights x activations | kernel | why |\n"
       << "| --- | --- | --- | --- | --- |\n";
    for (const Row &row : rows)
      os << "| " << row.node << " | " << row.shape << " | " << row.formats
         << " | `" << row.kernel << "` | " << row.reason << " |\n";
    return success();
  }
};

} // namespace

} // namespace mlir::kiln
