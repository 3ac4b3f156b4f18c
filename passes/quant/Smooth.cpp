//===- Smooth.cpp - Folding per-channel scales into producers ---*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// The folding engine of kiln-quantize-lowbit (LowBit.h). Smoothing needs
// `x / s` for a layer input x, SmoothAttention `K / lambda` and
// `Q * lambda`; rather than inserting a division, the engine moves the
// divisor backwards through the graph until constants absorb it.
//
// The divisor is a tensor of the value's own shape (NaN where no consumer
// reads the entry). The engine visits the ops before |start| in reverse
// block order, so an op is reached only after all users of its results:
// a value whose users are not all in the folded region cannot change and
// the fold fails. Rules, for a result divided by P:
//
// * linear layers (the pass's Linear set): P must vary only along the last
//   axis; the layer's output channels (weight rows) and bias are divided;
// * kiln.layer_norm (last axis) / kiln.rms_norm: scale and bias divided;
// * add/sub: each constant operand is divided (when its broadcast shape can
//   hold P), the others receive P;
// * mul: a constant operand absorbs P when it can, else the other operand
//   receives it; with two non-constant operands either one may receive it
//   (a choice point: the engine backtracks over choices);
// * div by anything, neg, reshape, transpose, slice (positive steps),
//   concat: P moves to the (numerator) operand, reshaped, permuted, or
//   split accordingly;
// * matmul of two non-constant operands (attention's P x V): a P constant
//   along the rows moves to the right operand, constant along the columns
//   to the left one;
// * anything else (nonlinear ops, function arguments) stops the fold.
//
// When several paths reach one value their divisors must agree entry by
// entry; this is what makes SmoothAttention's scales RoPE-pair symmetric.
//
//===----------------------------------------------------------------------===//

#include "passes/quant/LowBit.h"

#include "compiler/support/Numeric.h"
#include "compiler/support/TensorAttr.h"
#include "dialects/kiln/KilnOps.h"

#include "mlir/IR/Builders.h"
#include "llvm/ADT/DenseSet.h"

#include <cmath>
#include <functional>

namespace mlir::kiln::lowbit {

using ::kiln::Tensor;

namespace {

/// Returns the row-major strides of |shape|.
SmallVector<int64_t> strides(ArrayRef<int64_t> shape) {
  SmallVector<int64_t> s(shape.size(), 1);
  for (int64_t i = static_cast<int64_t>(shape.size()) - 2; i >= 0; --i)
    s[i] = s[i + 1] * shape[i + 1];
  return s;
}

/// Returns the number of elements of |shape|.
int64_t numel(ArrayRef<int64_t> shape) {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

/// Returns a divisor of |shape| with every entry unconstrained.
Divisor unconstrained(ArrayRef<int64_t> shape) {
  Divisor d;
  d.shape.assign(shape.begin(), shape.end());
  d.values.assign(numel(shape), std::nanf(""));
  return d;
}

/// Merges |b| into |a| entry by entry; returns false on a conflict.
bool mergeInto(Divisor &a, const Divisor &b) {
  if (a.shape != b.shape)
    return false;
  for (size_t i = 0; i < a.values.size(); ++i) {
    float x = a.values[i], y = b.values[i];
    if (std::isnan(y))
      continue;
    if (std::isnan(x))
      a.values[i] = y;
    else if (x != y)
      return false;
  }
  return true;
}

/// Reduces |d| to |target| (the same rank, each dimension equal to d's or
/// 1): entries along a reduced axis must agree. Returns false on conflict.
bool reduceTo(const Divisor &d, ArrayRef<int64_t> target, Divisor &out) {
  if (target.size() != d.shape.size())
    return false;
  out = unconstrained(target);
  SmallVector<int64_t> inStrides = strides(d.shape);
  SmallVector<int64_t> outStrides = strides(target);
  for (int64_t i = 0; i < static_cast<int64_t>(d.values.size()); ++i) {
    float v = d.values[i];
    if (std::isnan(v))
      continue;
    int64_t rest = i, o = 0;
    for (size_t a = 0; a < target.size(); ++a) {
      int64_t idx = rest / inStrides[a];
      rest %= inStrides[a];
      if (target[a] != 1)
        o += idx * outStrides[a];
    }
    float &slot = out.values[o];
    if (std::isnan(slot))
      slot = v;
    else if (slot != v)
      return false;
  }
  return true;
}

/// Broadcasts |d| (dimensions 1 or equal to |target|'s) to |target|.
Divisor broadcastTo(const Divisor &d, ArrayRef<int64_t> target) {
  Divisor out = unconstrained(target);
  SmallVector<int64_t> inStrides = strides(d.shape);
  SmallVector<int64_t> outStrides = strides(target);
  for (int64_t i = 0; i < static_cast<int64_t>(out.values.size()); ++i) {
    int64_t rest = i, src = 0;
    for (size_t a = 0; a < target.size(); ++a) {
      int64_t idx = rest / outStrides[a];
      rest %= outStrides[a];
      if (d.shape[a] != 1)
        src += idx * inStrides[a];
    }
    out.values[i] = d.values[src];
  }
  return out;
}

/// Returns |d| (of a result) as seen by an operand of shape |operand| that
/// broadcasts to the result: reduced along the operand's broadcast axes,
/// leading axes dropped. Returns false when |d| varies along them.
bool toOperand(const Divisor &d, ArrayRef<int64_t> operand, Divisor &out) {
  size_t rank = d.shape.size();
  if (operand.size() > rank)
    return false;
  SmallVector<int64_t> aligned(rank - operand.size(), 1);
  aligned.append(operand.begin(), operand.end());
  for (size_t a = 0; a < rank; ++a)
    if (aligned[a] != 1 && aligned[a] != d.shape[a])
      return false;
  Divisor reduced;
  if (!reduceTo(d, aligned, reduced))
    return false;
  out.shape.assign(operand.begin(), operand.end());
  out.values = std::move(reduced.values);
  return true;
}

/// Returns the per-channel vector of |d| along its last axis, or nothing
/// when |d| varies along another axis. Unconstrained channels get 1.
std::optional<std::vector<float>> lastAxisVector(const Divisor &d) {
  if (d.shape.empty())
    return std::nullopt;
  SmallVector<int64_t> target(d.shape.size(), 1);
  target.back() = d.shape.back();
  Divisor reduced;
  if (!reduceTo(d, target, reduced))
    return std::nullopt;
  for (float &v : reduced.values)
    if (std::isnan(v))
      v = 1.0f;
  return reduced.values;
}

/// Returns the shape of |value|'s tensor type.
ArrayRef<int64_t> shapeOf(Value value) {
  return cast<RankedTensorType>(value.getType()).getShape();
}

/// Returns the float32 constant behind |value|, if any.
std::optional<Tensor> floatConstant(Value value) {
  auto constant = value.getDefiningOp<ConstantOp>();
  if (!constant)
    return std::nullopt;
  std::optional<Tensor> t = ::kiln::fromElementsAttr(constant.getValue());
  if (!t || t->dtype != ::kiln::DType::F32)
    return std::nullopt;
  return t;
}

} // namespace

Divisor channelDivisor(ArrayRef<int64_t> shape, int64_t axis,
                       ArrayRef<float> perChannel) {
  SmallVector<int64_t> reduced(shape.size(), 1);
  reduced[axis] = shape[axis];
  Divisor d;
  d.shape = reduced;
  d.values.assign(perChannel.begin(), perChannel.end());
  return broadcastTo(d, shape);
}

//===----------------------------------------------------------------------===//
// Folder
//===----------------------------------------------------------------------===//

/// One attempt at a fold with fixed choices at the choice points.
class Folder {
public:
  Folder(const DenseMap<Operation *, Linear *> &linears,
         SmallVectorImpl<int> &choices)
      : linears(linears), choices(choices) {}

  /// Runs the fold; returns false (and sets plan.reason) on failure.
  bool run(Value start, const Divisor &d, ArrayRef<Operation *> consumers);

  FoldPlan plan;
  /// The number of choice points met.
  int choicePoints = 0;

private:
  bool fail(const Twine &why) {
    if (plan.reason.empty())
      plan.reason = why.str();
    return false;
  }
  /// Gives |d| to |value| (merging with what it has).
  bool give(Value value, Divisor d);
  /// Records that |user|'s operand |index| (a constant) becomes
  /// constant / d, where |d| is the divisor of |user|'s result.
  bool absorbConstant(Operation *user, unsigned index, const Divisor &d);
  /// Returns the next choice (0 or 1) at a choice point.
  int choose() {
    int index = choicePoints++;
    if (index >= static_cast<int>(choices.size()))
      choices.push_back(0);
    return choices[index];
  }
  bool visit(Operation *op, const Divisor &d);

  const DenseMap<Operation *, Linear *> &linears;
  SmallVectorImpl<int> &choices;
  DenseMap<Value, Divisor> divisors;
  llvm::DenseSet<Operation *> region;
  /// Values with a divisor whose producer is not visited yet.
  int pending = 0;
};

bool Folder::give(Value value, Divisor d) {
  if (isa<BlockArgument>(value))
    return fail("a function argument cannot absorb the scale");
  if (value.getDefiningOp<ConstantOp>())
    return fail("a shared constant cannot absorb the scale");
  auto it = divisors.find(value);
  if (it == divisors.end()) {
    divisors[value] = std::move(d);
    ++pending;
    return true;
  }
  if (!mergeInto(it->second, d))
    return fail("two paths need different scales for '" +
                value.getDefiningOp()->getName().getStringRef() + "'");
  return true;
}

bool Folder::absorbConstant(Operation *user, unsigned index,
                            const Divisor &d) {
  Value operand = user->getOperand(index);
  std::optional<Tensor> c = floatConstant(operand);
  if (!c)
    return false;
  Divisor local;
  if (!toOperand(d, c->shape, local))
    return false;
  Tensor updated = *c;
  float *v = updated.as<float>();
  for (int64_t i = 0; i < updated.numElements(); ++i)
    if (!std::isnan(local.values[i]))
      v[i] = v[i] / local.values[i];
  plan.constantEdits.push_back({user, index, std::move(updated)});
  return true;
}

bool Folder::visit(Operation *op, const Divisor &d) {
  // Linear layers of the pass: output channels and bias.
  if (Linear *linear = linears.lookup(op)) {
    std::optional<std::vector<float>> v = lastAxisVector(d);
    if (!v)
      return fail("the scale of '" + linear->name +
                  "' varies along more than its output channels");
    bool isBias = op == linear->biasAdd;
    plan.linearEdits.push_back({linear, isBias, *v});
    if (!isBias)
      return true;
    // The bias add passes the scale on to the layer's product.
    return give(linear->op->getResult(0), d);
  }
  if (auto ln = dyn_cast<LayerNormOp>(op)) {
    if (static_cast<int64_t>(ln.getAxis()) !=
        static_cast<int64_t>(d.shape.size()) - 1)
      return fail("the layer norm normalizes more than the last axis");
    if (!lastAxisVector(d))
      return fail("the scale varies along more than the channels");
    if (!absorbConstant(op, 1, d) ||
        (ln.getBias() && !absorbConstant(op, 2, d)))
      return fail("the layer norm's scale and bias are not constants");
    return true;
  }
  if (auto rms = dyn_cast<RMSNormOp>(op)) {
    if (static_cast<int64_t>(rms.getAxis()) !=
            static_cast<int64_t>(d.shape.size()) - 1 ||
        !lastAxisVector(d) || !absorbConstant(op, 1, d))
      return fail("the rms norm cannot absorb the scale");
    return true;
  }
  if (isa<AddOp, SubOp>(op)) {
    for (unsigned i = 0; i < 2; ++i) {
      Value operand = op->getOperand(i);
      if (operand.getDefiningOp<ConstantOp>()) {
        if (!absorbConstant(op, i, d))
          return fail("a constant term cannot hold the scale");
        continue;
      }
      Divisor local;
      if (!toOperand(d, shapeOf(operand), local))
        return fail("a broadcast term cannot carry the scale");
      if (!give(operand, std::move(local)))
        return false;
    }
    return true;
  }
  if (isa<MulOp>(op)) {
    Value a = op->getOperand(0), b = op->getOperand(1);
    bool aConst = static_cast<bool>(a.getDefiningOp<ConstantOp>());
    bool bConst = static_cast<bool>(b.getDefiningOp<ConstantOp>());
    if (aConst || bConst) {
      unsigned c = bConst ? 1 : 0;
      if (absorbConstant(op, c, d))
        return true;
      Value other = op->getOperand(1 - c);
      Divisor local;
      if (!toOperand(d, shapeOf(other), local))
        return fail("a broadcast factor cannot carry the scale");
      return give(other, std::move(local));
    }
    // Two variable factors: either may take the scale.
    Value chosen = choose() == 0 ? b : a;
    Divisor local;
    if (!toOperand(d, shapeOf(chosen), local))
      return fail("a broadcast factor cannot carry the scale");
    return give(chosen, std::move(local));
  }
  if (auto div = dyn_cast<DivOp>(op)) {
    Divisor local;
    if (!toOperand(d, shapeOf(div.getLhs()), local))
      return fail("a broadcast numerator cannot carry the scale");
    return give(div.getLhs(), std::move(local));
  }
  if (auto neg = dyn_cast<NegOp>(op))
    return give(neg.getInput(), d);
  if (auto reshape = dyn_cast<ReshapeOp>(op)) {
    Divisor local = d;
    local.shape.assign(shapeOf(reshape.getInput()).begin(),
                       shapeOf(reshape.getInput()).end());
    return give(reshape.getInput(), std::move(local));
  }
  if (auto transpose = dyn_cast<TransposeOp>(op)) {
    ArrayRef<int64_t> perm = transpose.getPerm();
    ArrayRef<int64_t> in = shapeOf(transpose.getInput());
    Divisor local = unconstrained(in);
    SmallVector<int64_t> inStrides = strides(in);
    SmallVector<int64_t> outStrides = strides(d.shape);
    for (int64_t i = 0; i < static_cast<int64_t>(d.values.size()); ++i) {
      int64_t rest = i, src = 0;
      for (size_t a = 0; a < perm.size(); ++a) {
        int64_t idx = rest / outStrides[a];
        rest %= outStrides[a];
        src += idx * inStrides[perm[a]];
      }
      local.values[src] = d.values[i];
    }
    return give(transpose.getInput(), std::move(local));
  }
  if (auto slice = dyn_cast<SliceOp>(op)) {
    ArrayRef<int64_t> in = shapeOf(slice.getInput());
    ArrayRef<int64_t> starts = slice.getStarts(), steps = slice.getSteps();
    if (starts.size() != in.size() || steps.size() != in.size() ||
        llvm::any_of(steps, [](int64_t s) { return s <= 0; }))
      return fail("only slices with positive steps on every axis pass the "
                  "scale");
    Divisor local = unconstrained(in);
    SmallVector<int64_t> inStrides = strides(in);
    SmallVector<int64_t> outStrides = strides(d.shape);
    for (int64_t i = 0; i < static_cast<int64_t>(d.values.size()); ++i) {
      int64_t rest = i, dst = 0;
      for (size_t a = 0; a < in.size(); ++a) {
        int64_t idx = rest / outStrides[a];
        rest %= outStrides[a];
        dst += (starts[a] + idx * steps[a]) * inStrides[a];
      }
      local.values[dst] = d.values[i];
    }
    return give(slice.getInput(), std::move(local));
  }
  if (auto concat = dyn_cast<ConcatOp>(op)) {
    int64_t axis = concat.getAxis(), offset = 0;
    SmallVector<int64_t> outStrides = strides(d.shape);
    for (Value input : concat.getInputs()) {
      ArrayRef<int64_t> in = shapeOf(input);
      Divisor local = unconstrained(in);
      SmallVector<int64_t> inStrides = strides(in);
      for (int64_t i = 0; i < static_cast<int64_t>(local.values.size());
           ++i) {
        int64_t rest = i, src = 0;
        for (size_t a = 0; a < in.size(); ++a) {
          int64_t idx = rest / inStrides[a];
          rest %= inStrides[a];
          src += (a == static_cast<size_t>(axis) ? idx + offset : idx) *
                 outStrides[a];
        }
        local.values[i] = d.values[src];
      }
      offset += in[axis];
      if (input.getDefiningOp<ConstantOp>())
        return fail("a constant part of a concatenation cannot absorb the "
                    "scale");
      if (!give(input, std::move(local)))
        return false;
    }
    return true;
  }
  if (auto matmul = dyn_cast<MatMulOp>(op)) {
    ArrayRef<int64_t> out = d.shape;
    if (out.size() < 2 || shapeOf(matmul.getLhs()).size() != out.size() ||
        shapeOf(matmul.getRhs()).size() != out.size())
      return fail("only batched products of equal rank pass the scale");
    // Constant along the rows (axis -2): the right operand's columns.
    SmallVector<int64_t> rows(out.begin(), out.end());
    rows[rows.size() - 2] = 1;
    Divisor reduced;
    if (reduceTo(d, rows, reduced)) {
      Divisor local;
      ArrayRef<int64_t> rhs = shapeOf(matmul.getRhs());
      SmallVector<int64_t> target(rhs.begin(), rhs.end());
      target[target.size() - 2] = 1;
      if (!toOperand(broadcastTo(reduced, rows), target, local))
        return fail("the product's batch axes cannot carry the scale");
      return give(matmul.getRhs(), broadcastTo(local, rhs));
    }
    SmallVector<int64_t> cols(out.begin(), out.end());
    cols.back() = 1;
    if (reduceTo(d, cols, reduced)) {
      Divisor local;
      ArrayRef<int64_t> lhs = shapeOf(matmul.getLhs());
      SmallVector<int64_t> target(lhs.begin(), lhs.end());
      target.back() = 1;
      if (!toOperand(broadcastTo(reduced, cols), target, local))
        return fail("the product's batch axes cannot carry the scale");
      return give(matmul.getLhs(), broadcastTo(local, lhs));
    }
    return fail("the scale of a product varies along rows and columns");
  }
  return fail("'" + op->getName().getStringRef() +
              "' does not commute with a per-channel scale");
}

bool Folder::run(Value start, const Divisor &startDivisor,
                 ArrayRef<Operation *> consumers) {
  for (Operation *user : start.getUsers())
    if (!llvm::is_contained(consumers, user))
      return fail("the value has users that must keep it unscaled ('" +
                  user->getName().getStringRef() + "')");
  if (!give(start, startDivisor))
    return false;
  Operation *first = start.getDefiningOp();
  for (Operation *op = first; op; op = op->getPrevNode()) {
    bool touched = false;
    for (Value result : op->getResults())
      touched = touched || divisors.count(result);
    if (!touched)
      continue;
    for (Value result : op->getResults()) {
      if (!divisors.count(result))
        continue;
      for (Operation *user : result.getUsers()) {
        bool ok = region.count(user) ||
                  (result == start && llvm::is_contained(consumers, user));
        if (!ok)
          return fail("'" + op->getName().getStringRef() +
                      "' has a user outside the folded region ('" +
                      user->getName().getStringRef() + "')");
      }
    }
    // Only the first result of the normalizations carries the scale.
    Value carrier = op->getResult(0);
    if (!divisors.count(carrier))
      return fail("'" + op->getName().getStringRef() +
                  "' cannot pass a scale on this result");
    // A copy: visit() adds entries to the map, which may move them.
    Divisor d = divisors[carrier];
    if (!visit(op, d))
      return false;
    region.insert(op);
    for (Value result : op->getResults())
      pending -= divisors.count(result);
    if (pending == 0)
      break;
  }
  // Every value that got a divisor must have been visited.
  for (auto &[value, divisor] : divisors) {
    Operation *def = value.getDefiningOp();
    if (!def || !region.count(def))
      return fail("the scale reached a value outside the function body");
  }
  return true;
}

FoldPlan planFold(Value start, const Divisor &d,
                  ArrayRef<Operation *> consumers,
                  const DenseMap<Operation *, Linear *> &linears) {
  SmallVector<int> choices;
  std::string firstReason;
  for (int attempt = 0; attempt < 64; ++attempt) {
    Folder folder(linears, choices);
    if (folder.run(start, d, consumers))
      return std::move(folder.plan);
    if (firstReason.empty())
      firstReason = folder.plan.reason;
    // Next combination of choices (an odometer over the points met).
    choices.resize(folder.choicePoints);
    while (!choices.empty() && choices.back() == 1)
      choices.pop_back();
    if (choices.empty())
      break;
    choices.back() = 1;
  }
  FoldPlan failed;
  failed.reason = firstReason.empty() ? "no fold found" : firstReason;
  return failed;
}

void FoldPlan::apply() {
  for (LinearEdit &edit : linearEdits) {
    Linear &l = *edit.linear;
    l.modified = true;
    if (edit.bias) {
      for (size_t n = 0; n < l.bias.size(); ++n)
        l.bias[n] = l.bias[n] / edit.divisor[n];
      continue;
    }
    for (int64_t n = 0; n < l.weight.rows; ++n)
      for (int64_t k = 0; k < l.weight.cols; ++k)
        l.weight.at(n, k) = l.weight.at(n, k) / edit.divisor[n];
  }
  for (ConstantEdit &edit : constantEdits) {
    OpBuilder builder(edit.user);
    Value old = edit.user->getOperand(edit.operand);
    auto type = cast<RankedTensorType>(old.getType());
    auto constant = ConstantOp::create(
        builder, old.getLoc(), type,
        ::kiln::toElementsAttr(edit.value, type, "kiln_smoothed"));
    edit.user->setOperand(edit.operand, constant.getResult());
    if (Operation *def = old.getDefiningOp(); def && def->use_empty())
      def->erase();
  }
}

} // namespace mlir::kiln::lowbit
