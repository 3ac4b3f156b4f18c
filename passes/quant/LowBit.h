//===- LowBit.h - Shared pieces of kiln-quantize-lowbit ---------*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// Private to passes/quant: the linear layers the low-bit pass rewrites, and
// the channel-scale folding engine (Smooth.cpp) that moves a per-channel
// divisor of a value into the constants of the ops producing it (LayerNorm
// scale and bias, constant multiplications, earlier linears' output
// channels), through the ops that commute with it.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_PASSES_QUANT_LOWBIT_H
#define KILN_PASSES_QUANT_LOWBIT_H

#include "kiln/Tensor.h"
#include "kiln/quant/Matrix.h"

#include "mlir/IR/Operation.h"
#include "mlir/IR/Value.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/SmallVector.h"

#include <string>
#include <vector>

namespace mlir::kiln::lowbit {

/// One linear layer `y = x W^T (+ b)` found in the function. The weight and
/// bias live here while the pass works: smoothing and SmoothAttention edit
/// these copies, and the rewrite emits them.
struct Linear {
  /// The kiln.matmul or kiln.gemm.
  Operation *op = nullptr;
  /// The kiln.add of the bias that consumes op's result, or null.
  Operation *biasAdd = nullptr;
  /// The layer input x [..., K] (replaced when smoothing inserts a
  /// producer for it).
  Value input;
  /// The layer output: biasAdd's result, or op's.
  Value output;
  /// The op's name (its NameLoc) for remarks and the report.
  std::string name;
  /// The current weight [N, K] and bias [N] (empty when none).
  ::kiln::quant::Matrix weight;
  std::vector<float> bias;
  /// Set when smoothing or SmoothAttention changed weight or bias.
  bool modified = false;
};

/// A per-element divisor of a value: the folded graph computes `v / d`
/// where the original computed `v`. |shape| is the value's shape; NaN
/// entries are unconstrained (no consumer reads them).
struct Divisor {
  llvm::SmallVector<int64_t> shape;
  std::vector<float> values;
};

/// Returns the divisor of |shape| whose entry at every index is
/// |perChannel|[index along |axis|] (a per-channel scale along |axis|).
Divisor channelDivisor(llvm::ArrayRef<int64_t> shape, int64_t axis,
                       llvm::ArrayRef<float> perChannel);

/// The changes a successful fold makes. Nothing is changed until apply().
class FoldPlan {
public:
  /// Applies every change: divides linear output channels and biases (in
  /// the Linear copies) and redirects constant operands to new constants.
  void apply();
  /// Why planning failed (empty on success).
  std::string reason;

private:
  friend class Folder;
  struct LinearEdit {
    Linear *linear;
    bool bias;
    std::vector<float> divisor;
  };
  struct ConstantEdit {
    Operation *user;
    unsigned operand;
    ::kiln::Tensor value;
  };
  std::vector<LinearEdit> linearEdits;
  std::vector<ConstantEdit> constantEdits;
};

/// Plans `start / d` folded into the producers of |start|. Every user of
/// |start| must be one of |consumers| (which the caller adjusts itself:
/// smoothing multiplies their weight columns by s, SmoothAttention leaves
/// the attention product unchanged). |linears| maps kiln.matmul / kiln.gemm
/// ops and bias adds to the layers they belong to. Returns a plan whose
/// `reason` is empty on success.
FoldPlan planFold(Value start, const Divisor &d,
                  llvm::ArrayRef<Operation *> consumers,
                  const llvm::DenseMap<Operation *, Linear *> &linears);

} // namespace mlir::kiln::lowbit

#endif // KILN_PASSES_QUANT_LOWBIT_H
