//===- Elementwise.cpp - Kernels of the elementwise ops ---------*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// Unary math and activations, binary arithmetic with broadcasting,
// comparisons, logical and bitwise ops, where, clip and cast, on every
// element type ONNX allows. Floats compute in double and round once to the
// storage type; integers compute in int64 (uint64 where it matters) with the
// C semantics ONNX specifies (division truncates toward zero).
//
//===----------------------------------------------------------------------===//

#include "compiler/evaluator/Kernel.h"

#include "dialects/kiln/KilnOps.h"

#include "mlir/IR/BuiltinAttributes.h"

#include <cmath>
#include <limits>

using namespace mlir;
using namespace mlir::kiln;

namespace kiln::eval {
namespace {

/// Returns the low 4 bits of |value| as a two's-complement int4.
int64_t signExtend4(int64_t value) {
  int64_t low = value & 0xf;
  return low >= 8 ? low - 16 : low;
}

//===----------------------------------------------------------------------===//
// Unary
//===----------------------------------------------------------------------===//

/// Applies |floatFn| to float tensors and |intFn| (when given) to integer
/// ones.
template <typename FloatFn, typename IntFn>
LogicalResult unary(Operation *op, KernelContext &ctx, FloatFn floatFn,
                    IntFn intFn, bool intAllowed) {
  const Tensor &in = ctx.get(op->getOperand(0));
  Tensor &out = ctx.result();
  int64_t n = in.numElements();
  if (in.dtype == DType::F32) {
    const float *x = in.as<float>();
    float *y = out.as<float>();
    for (int64_t i = 0; i < n; ++i)
      y[i] = static_cast<float>(floatFn(static_cast<double>(x[i])));
    return success();
  }
  if (isFloat(in.dtype)) {
    for (int64_t i = 0; i < n; ++i)
      storeFloat(out, i, floatFn(loadFloat(in, i)));
    return success();
  }
  if (!intAllowed)
    return ctx.fail(llvm::Twine("element type ") + dtypeName(in.dtype) +
                    " is not supported");
  for (int64_t i = 0; i < n; ++i)
    storeInt(out, i, intFn(loadInt(in, i)));
  return success();
}

template <typename FloatFn>
LogicalResult unaryFloat(Operation *op, KernelContext &ctx, FloatFn fn) {
  return unary(
      op, ctx, fn, [](int64_t v) { return v; }, /*intAllowed=*/false);
}

double sigmoid(double x) {
  return x >= 0 ? 1.0 / (1.0 + std::exp(-x))
                : std::exp(x) / (1.0 + std::exp(x));
}

double softplus(double x) {
  // log(1 + exp(x)) without overflow for large x.
  return x > 0 ? x + std::log1p(std::exp(-x)) : std::log1p(std::exp(x));
}

#define KILN_UNARY_FLOAT(OpTy, expr)                                           \
  r.add<OpTy>([](Operation *op, KernelContext &ctx) {                          \
    return unaryFloat(op, ctx, [](double x) { return (expr); });               \
  })

#define KILN_UNARY_BOTH(OpTy, floatExpr, intExpr)                              \
  r.add<OpTy>([](Operation *op, KernelContext &ctx) {                          \
    return unary(                                                              \
        op, ctx, [](double x) { return (floatExpr); },                         \
        [](int64_t v) -> int64_t { return (intExpr); }, true);                 \
  })

void registerUnary(KernelRegistry &r) {
  KILN_UNARY_BOTH(ReluOp, x > 0 ? x : (std::isnan(x) ? x : 0.0), v > 0 ? v : 0);
  KILN_UNARY_BOTH(AbsOp, std::fabs(x), v < 0 ? -v : v);
  KILN_UNARY_BOTH(NegOp, -x, -v);
  KILN_UNARY_BOTH(SignOp, x > 0 ? 1.0 : (x < 0 ? -1.0 : (x == 0 ? 0.0 : x)),
                  v > 0 ? 1 : (v < 0 ? -1 : 0));
  KILN_UNARY_FLOAT(SigmoidOp, sigmoid(x));
  KILN_UNARY_FLOAT(TanhOp, std::tanh(x));
  KILN_UNARY_FLOAT(ExpOp, std::exp(x));
  KILN_UNARY_FLOAT(LogOp, std::log(x));
  KILN_UNARY_FLOAT(SqrtOp, std::sqrt(x));
  KILN_UNARY_FLOAT(ReciprocalOp, 1.0 / x);
  KILN_UNARY_FLOAT(FloorOp, std::floor(x));
  KILN_UNARY_FLOAT(CeilOp, std::ceil(x));
  KILN_UNARY_FLOAT(RoundOp, roundHalfEven(x));
  KILN_UNARY_FLOAT(SinOp, std::sin(x));
  KILN_UNARY_FLOAT(CosOp, std::cos(x));
  KILN_UNARY_FLOAT(TanOp, std::tan(x));
  KILN_UNARY_FLOAT(AsinOp, std::asin(x));
  KILN_UNARY_FLOAT(AcosOp, std::acos(x));
  KILN_UNARY_FLOAT(AtanOp, std::atan(x));
  KILN_UNARY_FLOAT(SinhOp, std::sinh(x));
  KILN_UNARY_FLOAT(CoshOp, std::cosh(x));
  KILN_UNARY_FLOAT(AsinhOp, std::asinh(x));
  KILN_UNARY_FLOAT(AcoshOp, std::acosh(x));
  KILN_UNARY_FLOAT(AtanhOp, std::atanh(x));
  KILN_UNARY_FLOAT(ErfOp, std::erf(x));
  KILN_UNARY_FLOAT(SoftplusOp, softplus(x));
  KILN_UNARY_FLOAT(SoftsignOp, x / (1.0 + std::fabs(x)));
  KILN_UNARY_FLOAT(HardSwishOp,
                   x * std::max(0.0, std::min(1.0, x / 6.0 + 0.5)));
  KILN_UNARY_FLOAT(MishOp, x * std::tanh(softplus(x)));

  r.add<NotOp>([](Operation *op, KernelContext &ctx) {
    const Tensor &in = ctx.get(op->getOperand(0));
    Tensor &out = ctx.result();
    for (int64_t i = 0, n = in.numElements(); i < n; ++i)
      out.data[i] = !in.data[i];
    return success();
  });
  r.add<BitwiseNotOp>([](Operation *op, KernelContext &ctx) {
    const Tensor &in = ctx.get(op->getOperand(0));
    Tensor &out = ctx.result();
    for (int64_t i = 0, n = in.numElements(); i < n; ++i)
      storeInt(out, i, ~loadInt(in, i));
    return success();
  });

  // Parameterized activations.
  r.add<LeakyReluOp>([](Operation *op, KernelContext &ctx) {
    double alpha = cast<LeakyReluOp>(op).getAlpha().convertToDouble();
    return unaryFloat(op, ctx,
                      [=](double x) { return x < 0 ? alpha * x : x; });
  });
  r.add<EluOp>([](Operation *op, KernelContext &ctx) {
    double alpha = cast<EluOp>(op).getAlpha().convertToDouble();
    return unaryFloat(op, ctx, [=](double x) {
      return x < 0 ? alpha * (std::exp(x) - 1) : x;
    });
  });
  r.add<SeluOp>([](Operation *op, KernelContext &ctx) {
    auto selu = cast<SeluOp>(op);
    double alpha = selu.getAlpha().convertToDouble();
    double gamma = selu.getGamma().convertToDouble();
    return unaryFloat(op, ctx, [=](double x) {
      return gamma * (x <= 0 ? alpha * (std::exp(x) - 1) : x);
    });
  });
  r.add<CeluOp>([](Operation *op, KernelContext &ctx) {
    double alpha = cast<CeluOp>(op).getAlpha().convertToDouble();
    return unaryFloat(op, ctx, [=](double x) {
      return std::max(0.0, x) +
             std::min(0.0, alpha * (std::exp(x / alpha) - 1));
    });
  });
  r.add<HardSigmoidOp>([](Operation *op, KernelContext &ctx) {
    auto hs = cast<HardSigmoidOp>(op);
    double alpha = hs.getAlpha().convertToDouble();
    double beta = hs.getBeta().convertToDouble();
    return unaryFloat(op, ctx, [=](double x) {
      return std::max(0.0, std::min(1.0, alpha * x + beta));
    });
  });
  r.add<ThresholdedReluOp>([](Operation *op, KernelContext &ctx) {
    double alpha = cast<ThresholdedReluOp>(op).getAlpha().convertToDouble();
    return unaryFloat(op, ctx, [=](double x) { return x > alpha ? x : 0.0; });
  });
  r.add<GeluOp>([](Operation *op, KernelContext &ctx) {
    if (cast<GeluOp>(op).getTanhApproximation())
      return unaryFloat(op, ctx, [](double x) {
        return 0.5 * x *
               (1 + std::tanh(std::sqrt(2 / M_PI) *
                              (x + 0.044715 * x * x * x)));
      });
    return unaryFloat(
        op, ctx, [](double x) { return 0.5 * x * (1 + std::erf(x / M_SQRT2)); });
  });
  r.add<ShrinkOp>([](Operation *op, KernelContext &ctx) {
    auto shrink = cast<ShrinkOp>(op);
    double bias = shrink.getBias().convertToDouble();
    double lambd = shrink.getLambd().convertToDouble();
    auto fn = [=](double x) {
      return x < -lambd ? x + bias : (x > lambd ? x - bias : 0.0);
    };
    // Shrink also accepts integers; the result is computed exactly.
    return unary(
        op, ctx, fn,
        [=](int64_t v) -> int64_t { return static_cast<int64_t>(fn(v)); },
        true);
  });
  r.add<SwishOp>([](Operation *op, KernelContext &ctx) {
    double alpha = cast<SwishOp>(op).getAlpha().convertToDouble();
    return unaryFloat(op, ctx,
                      [=](double x) { return x * sigmoid(alpha * x); });
  });

  r.add<IsNaNOp>([](Operation *op, KernelContext &ctx) {
    const Tensor &in = ctx.get(op->getOperand(0));
    Tensor &out = ctx.result();
    for (int64_t i = 0, n = in.numElements(); i < n; ++i)
      out.data[i] = std::isnan(loadFloat(in, i));
    return success();
  });
  r.add<IsInfOp>([](Operation *op, KernelContext &ctx) {
    auto isInf = cast<IsInfOp>(op);
    bool negative = isInf.getDetectNegative();
    bool positive = isInf.getDetectPositive();
    const Tensor &in = ctx.get(isInf.getInput());
    Tensor &out = ctx.result();
    for (int64_t i = 0, n = in.numElements(); i < n; ++i) {
      double x = loadFloat(in, i);
      out.data[i] = std::isinf(x) && ((x > 0 && positive) ||
                                      (x < 0 && negative));
    }
    return success();
  });
}

//===----------------------------------------------------------------------===//
// Clip
//===----------------------------------------------------------------------===//

LogicalResult clipKernel(Operation *op, KernelContext &ctx) {
  auto clip = cast<ClipOp>(op);
  const Tensor &in = ctx.get(clip.getInput());
  Tensor &out = ctx.result();
  int64_t n = in.numElements();
  auto bound = [](TypedAttr attr, bool isFloatType) -> std::optional<double> {
    if (!attr)
      return std::nullopt;
    if (auto f = dyn_cast<FloatAttr>(attr))
      return f.getValueAsDouble();
    auto i = cast<IntegerAttr>(attr);
    return isFloatType ? static_cast<double>(i.getValue().getSExtValue())
                       : static_cast<double>(i.getValue().getSExtValue());
  };
  if (isFloat(in.dtype)) {
    std::optional<double> lo = bound(clip.getMinAttr(), true);
    std::optional<double> hi = bound(clip.getMaxAttr(), true);
    for (int64_t i = 0; i < n; ++i) {
      double x = loadFloat(in, i);
      if (lo && x < *lo)
        x = *lo;
      if (hi && x > *hi)
        x = *hi;
      storeFloat(out, i, x);
    }
    return success();
  }
  // Integers compare exactly (bounds may be the extremes of int64/uint64).
  auto intBound = [&](TypedAttr attr) -> std::optional<llvm::APInt> {
    if (!attr)
      return std::nullopt;
    return cast<IntegerAttr>(attr).getValue();
  };
  std::optional<llvm::APInt> lo = intBound(clip.getMinAttr());
  std::optional<llvm::APInt> hi = intBound(clip.getMaxAttr());
  bool isUnsigned = isUnsignedInt(in.dtype);
  for (int64_t i = 0; i < n; ++i) {
    if (isUnsigned) {
      uint64_t x = loadUnsigned(in, i);
      if (lo && x < lo->getZExtValue())
        x = lo->getZExtValue();
      if (hi && x > hi->getZExtValue())
        x = hi->getZExtValue();
      storeInt(out, i, static_cast<int64_t>(x));
    } else {
      int64_t x = loadInt(in, i);
      if (lo && x < lo->getSExtValue())
        x = lo->getSExtValue();
      if (hi && x > hi->getSExtValue())
        x = hi->getSExtValue();
      storeInt(out, i, x);
    }
  }
  return success();
}

//===----------------------------------------------------------------------===//
// Binary
//===----------------------------------------------------------------------===//

/// How a binary op computes on each class of element type.
struct BinaryFns {
  double (*onFloat)(double, double) = nullptr;
  int64_t (*onInt)(int64_t, int64_t) = nullptr;
  uint64_t (*onUnsigned)(uint64_t, uint64_t) = nullptr;
  /// Set for ops whose integer form can fail (division by zero).
  bool checkZeroDivisor = false;
};

LogicalResult binary(Operation *op, KernelContext &ctx, const BinaryFns &fns) {
  const Tensor &a = ctx.get(op->getOperand(0));
  const Tensor &b = ctx.get(op->getOperand(1));
  Tensor &out = ctx.result();
  int64_t n = out.numElements();
  bool fast = a.shape == out.shape && b.shape == out.shape;
  if (out.dtype == DType::F32 && b.dtype == DType::F32 && fns.onFloat) {
    const float *x = a.as<float>(), *y = b.as<float>();
    float *z = out.as<float>();
    if (fast) {
      for (int64_t i = 0; i < n; ++i)
        z[i] = static_cast<float>(fns.onFloat(x[i], y[i]));
      return success();
    }
    BroadcastIterator it(out.shape, {a.shape, b.shape});
    for (int64_t i = 0; i < n; ++i, it.next())
      z[i] = static_cast<float>(fns.onFloat(x[it.offset(0)], y[it.offset(1)]));
    return success();
  }
  BroadcastIterator it(out.shape, {a.shape, b.shape});
  if (isFloat(out.dtype)) {
    if (!fns.onFloat)
      return ctx.fail("floating-point operands are not supported");
    for (int64_t i = 0; i < n; ++i, it.next())
      storeFloat(out, i,
                 fns.onFloat(loadFloat(a, it.offset(0)),
                             loadFloat(b, it.offset(1))));
    return success();
  }
  if (isUnsignedInt(out.dtype) && fns.onUnsigned) {
    for (int64_t i = 0; i < n; ++i, it.next()) {
      uint64_t y = loadUnsigned(b, it.offset(1));
      if (fns.checkZeroDivisor && y == 0)
        return ctx.fail("integer division by zero");
      storeInt(out, i,
               static_cast<int64_t>(
                   fns.onUnsigned(loadUnsigned(a, it.offset(0)), y)));
    }
    return success();
  }
  if (!fns.onInt)
    return ctx.fail(llvm::Twine("element type ") + dtypeName(out.dtype) +
                    " is not supported");
  for (int64_t i = 0; i < n; ++i, it.next()) {
    int64_t y = loadInt(b, it.offset(1));
    if (fns.checkZeroDivisor && y == 0)
      return ctx.fail("integer division by zero");
    storeInt(out, i, fns.onInt(loadInt(a, it.offset(0)), y));
  }
  return success();
}

/// Wrapping integer arithmetic (two's complement, as the C kernels do).
int64_t wrapAdd(int64_t a, int64_t b) {
  return static_cast<int64_t>(static_cast<uint64_t>(a) +
                              static_cast<uint64_t>(b));
}
int64_t wrapSub(int64_t a, int64_t b) {
  return static_cast<int64_t>(static_cast<uint64_t>(a) -
                              static_cast<uint64_t>(b));
}
int64_t wrapMul(int64_t a, int64_t b) {
  return static_cast<int64_t>(static_cast<uint64_t>(a) *
                              static_cast<uint64_t>(b));
}

double floatMin(double a, double b) {
  return std::isnan(a) || std::isnan(b) ? std::nan("") : std::min(a, b);
}
double floatMax(double a, double b) {
  return std::isnan(a) || std::isnan(b) ? std::nan("") : std::max(a, b);
}

/// Integer power by squaring (wrapping); negative exponents give 0 except
/// for bases 1 and -1, as integer numpy does not define them.
int64_t intPow(int64_t base, int64_t exponent) {
  if (exponent < 0)
    return base == 1 ? 1 : (base == -1 ? (exponent % 2 ? -1 : 1) : 0);
  int64_t result = 1;
  while (exponent) {
    if (exponent & 1)
      result = wrapMul(result, base);
    base = wrapMul(base, base);
    exponent >>= 1;
  }
  return result;
}

LogicalResult powKernel(Operation *op, KernelContext &ctx) {
  const Tensor &a = ctx.get(op->getOperand(0));
  const Tensor &b = ctx.get(op->getOperand(1));
  Tensor &out = ctx.result();
  BroadcastIterator it(out.shape, {a.shape, b.shape});
  for (int64_t i = 0, n = out.numElements(); i < n; ++i, it.next()) {
    if (!isFloat(a.dtype) && !isFloat(b.dtype)) {
      storeInt(out, i,
               intPow(loadInt(a, it.offset(0)), loadInt(b, it.offset(1))));
      continue;
    }
    double value =
        std::pow(loadFloat(a, it.offset(0)), loadFloat(b, it.offset(1)));
    if (isFloat(out.dtype))
      storeFloat(out, i, value);
    else
      storeInt(out, i, static_cast<int64_t>(value));
  }
  return success();
}

LogicalResult modKernel(Operation *op, KernelContext &ctx) {
  bool fmod = cast<ModOp>(op).getFmod();
  BinaryFns fns;
  fns.checkZeroDivisor = true;
  if (fmod) {
    fns.onFloat = [](double x, double y) { return std::fmod(x, y); };
    fns.onInt = [](int64_t x, int64_t y) { return x % y; };
  } else {
    // Python's modulo: the result takes the divisor's sign.
    fns.onFloat = [](double x, double y) {
      double r = std::fmod(x, y);
      if (r != 0 && ((r < 0) != (y < 0)))
        r += y;
      return r;
    };
    fns.onInt = [](int64_t x, int64_t y) {
      int64_t r = x % y;
      if (r != 0 && ((r < 0) != (y < 0)))
        r += y;
      return r;
    };
  }
  fns.onUnsigned = [](uint64_t x, uint64_t y) { return x % y; };
  return binary(op, ctx, fns);
}

LogicalResult bitShiftKernel(Operation *op, KernelContext &ctx) {
  BinaryFns fns;
  if (cast<BitShiftOp>(op).getLeft())
    fns.onUnsigned = [](uint64_t x, uint64_t y) {
      return y >= 64 ? uint64_t(0) : x << y;
    };
  else
    fns.onUnsigned = [](uint64_t x, uint64_t y) {
      return y >= 64 ? uint64_t(0) : x >> y;
    };
  return binary(op, ctx, fns);
}

/// Comparison: result is bool, operands of any (equal) type.
template <typename Cmp>
LogicalResult compare(Operation *op, KernelContext &ctx, Cmp cmp) {
  const Tensor &a = ctx.get(op->getOperand(0));
  const Tensor &b = ctx.get(op->getOperand(1));
  Tensor &out = ctx.result();
  BroadcastIterator it(out.shape, {a.shape, b.shape});
  bool floats = isFloat(a.dtype);
  bool unsignedInts = isUnsignedInt(a.dtype);
  for (int64_t i = 0, n = out.numElements(); i < n; ++i, it.next()) {
    if (floats)
      out.data[i] = cmp(loadFloat(a, it.offset(0)), loadFloat(b, it.offset(1)));
    else if (unsignedInts)
      out.data[i] =
          cmp(loadUnsigned(a, it.offset(0)), loadUnsigned(b, it.offset(1)));
    else
      out.data[i] = cmp(loadInt(a, it.offset(0)), loadInt(b, it.offset(1)));
  }
  return success();
}

#define KILN_COMPARE(OpTy, expr)                                               \
  r.add<OpTy>([](Operation *op, KernelContext &ctx) {                          \
    return compare(op, ctx, [](auto x, auto y) { return (expr); });            \
  })

/// Logical op on booleans.
template <typename Fn>
LogicalResult logical(Operation *op, KernelContext &ctx, Fn fn) {
  const Tensor &a = ctx.get(op->getOperand(0));
  const Tensor &b = ctx.get(op->getOperand(1));
  Tensor &out = ctx.result();
  BroadcastIterator it(out.shape, {a.shape, b.shape});
  for (int64_t i = 0, n = out.numElements(); i < n; ++i, it.next())
    out.data[i] = fn(a.data[it.offset(0)] != 0, b.data[it.offset(1)] != 0);
  return success();
}

LogicalResult preluKernel(Operation *op, KernelContext &ctx) {
  BinaryFns fns;
  fns.onFloat = [](double x, double slope) { return x < 0 ? slope * x : x; };
  fns.onInt = [](int64_t x, int64_t slope) { return x < 0 ? slope * x : x; };
  return binary(op, ctx, fns);
}

void registerBinary(KernelRegistry &r) {
  r.add<AddOp>([](Operation *op, KernelContext &ctx) {
    BinaryFns fns;
    fns.onFloat = [](double x, double y) { return x + y; };
    fns.onInt = wrapAdd;
    return binary(op, ctx, fns);
  });
  r.add<SubOp>([](Operation *op, KernelContext &ctx) {
    BinaryFns fns;
    fns.onFloat = [](double x, double y) { return x - y; };
    fns.onInt = wrapSub;
    return binary(op, ctx, fns);
  });
  r.add<MulOp>([](Operation *op, KernelContext &ctx) {
    BinaryFns fns;
    fns.onFloat = [](double x, double y) { return x * y; };
    fns.onInt = wrapMul;
    return binary(op, ctx, fns);
  });
  r.add<DivOp>([](Operation *op, KernelContext &ctx) {
    BinaryFns fns;
    fns.onFloat = [](double x, double y) { return x / y; };
    fns.onInt = [](int64_t x, int64_t y) {
      // INT64_MIN / -1 overflows in C; wrap like the hardware would not.
      return (x == INT64_MIN && y == -1) ? x : x / y;
    };
    fns.onUnsigned = [](uint64_t x, uint64_t y) { return x / y; };
    fns.checkZeroDivisor = true;
    return binary(op, ctx, fns);
  });
  r.add<MinOp>([](Operation *op, KernelContext &ctx) {
    BinaryFns fns;
    fns.onFloat = floatMin;
    fns.onInt = [](int64_t x, int64_t y) { return std::min(x, y); };
    fns.onUnsigned = [](uint64_t x, uint64_t y) { return std::min(x, y); };
    return binary(op, ctx, fns);
  });
  r.add<MaxOp>([](Operation *op, KernelContext &ctx) {
    BinaryFns fns;
    fns.onFloat = floatMax;
    fns.onInt = [](int64_t x, int64_t y) { return std::max(x, y); };
    fns.onUnsigned = [](uint64_t x, uint64_t y) { return std::max(x, y); };
    return binary(op, ctx, fns);
  });
  r.add<BitwiseAndOp>([](Operation *op, KernelContext &ctx) {
    BinaryFns fns;
    fns.onInt = [](int64_t x, int64_t y) { return x & y; };
    return binary(op, ctx, fns);
  });
  r.add<BitwiseOrOp>([](Operation *op, KernelContext &ctx) {
    BinaryFns fns;
    fns.onInt = [](int64_t x, int64_t y) { return x | y; };
    return binary(op, ctx, fns);
  });
  r.add<BitwiseXorOp>([](Operation *op, KernelContext &ctx) {
    BinaryFns fns;
    fns.onInt = [](int64_t x, int64_t y) { return x ^ y; };
    return binary(op, ctx, fns);
  });
  r.add<PowOp>(powKernel);
  r.add<ModOp>(modKernel);
  r.add<BitShiftOp>(bitShiftKernel);
  r.add<PReluOp>(preluKernel);

  KILN_COMPARE(EqualOp, x == y);
  KILN_COMPARE(LessOp, x < y);
  KILN_COMPARE(LessEqualOp, x <= y);
  KILN_COMPARE(GreaterOp, x > y);
  KILN_COMPARE(GreaterEqualOp, x >= y);

  r.add<AndOp>([](Operation *op, KernelContext &ctx) {
    return logical(op, ctx, [](bool x, bool y) { return x && y; });
  });
  r.add<OrOp>([](Operation *op, KernelContext &ctx) {
    return logical(op, ctx, [](bool x, bool y) { return x || y; });
  });
  r.add<XorOp>([](Operation *op, KernelContext &ctx) {
    return logical(op, ctx, [](bool x, bool y) { return x != y; });
  });
}

//===----------------------------------------------------------------------===//
// Where and cast
//===----------------------------------------------------------------------===//

LogicalResult whereKernel(Operation *op, KernelContext &ctx) {
  auto where = cast<WhereOp>(op);
  const Tensor &c = ctx.get(where.getCondition());
  const Tensor &a = ctx.get(where.getLhs());
  const Tensor &b = ctx.get(where.getRhs());
  Tensor &out = ctx.result();
  size_t size = dtypeSize(out.dtype);
  BroadcastIterator it(out.shape, {c.shape, a.shape, b.shape});
  for (int64_t i = 0, n = out.numElements(); i < n; ++i, it.next()) {
    const Tensor &from = c.data[it.offset(0)] ? a : b;
    int64_t offset = c.data[it.offset(0)] ? it.offset(1) : it.offset(2);
    copyBytes(out.data.data() + i * size, from.data.data() + offset * size,
                size);
  }
  return success();
}

LogicalResult castKernel(Operation *op, KernelContext &ctx) {
  auto castOp = cast<CastOp>(op);
  bool saturate = castOp.getSaturate();
  const Tensor &in = ctx.get(castOp.getInput());
  Tensor &out = ctx.result();
  int64_t n = in.numElements();
  if (in.dtype == out.dtype) {
    out.data = in.data;
    return success();
  }
  bool narrowOut = out.dtype >= DType::F8E4M3FN && out.dtype <= DType::F4E2M1;
  for (int64_t i = 0; i < n; ++i) {
    if (out.dtype == DType::Bool) {
      out.data[i] = isFloat(in.dtype) ? loadFloat(in, i) != 0
                                      : loadUnsigned(in, i) != 0;
    } else if (narrowOut) {
      out.data[i] = floatToNarrowFloat(
          out.dtype, static_cast<float>(loadFloat(in, i)), saturate);
    } else if (isFloat(out.dtype)) {
      if (isUnsignedInt(in.dtype))
        storeFloat(out, i, static_cast<double>(loadUnsigned(in, i)));
      else if (isFloat(in.dtype))
        storeFloat(out, i, loadFloat(in, i));
      else
        storeFloat(out, i, static_cast<double>(loadInt(in, i)));
    } else if (isFloat(in.dtype)) {
      // Float to integer truncates toward zero; out-of-range and NaN values
      // are undefined in ONNX; Kiln saturates (and NaN gives 0) so the
      // result is deterministic.
      double x = std::trunc(loadFloat(in, i));
      int64_t value;
      if (std::isnan(x))
        value = 0;
      else if (out.dtype == DType::U64)
        value = x <= 0 ? 0
                       : (x >= 18446744073709551615.0
                              ? -1
                              : static_cast<int64_t>(static_cast<uint64_t>(x)));
      else if (x <= -9223372036854775808.0)
        value = INT64_MIN;
      else if (x >= 9223372036854775807.0)
        value = INT64_MAX;
      else
        value = static_cast<int64_t>(x);
      if (out.dtype == DType::I4)
        // ONNX's reference wraps 4-bit results (-9 becomes 7).
        value = signExtend4(value);
      else if (out.dtype == DType::U4)
        value &= 0xf;
      else if (out.dtype != DType::U64 && out.dtype != DType::I64)
        value = std::clamp(value, intMin(out.dtype), intMax(out.dtype));
      storeInt(out, i, value);
    } else {
      // Integer to integer wraps (two's complement truncation); 4-bit types
      // keep their low nibble sign-extended as ONNX's reference does.
      int64_t value = isUnsignedInt(in.dtype)
                          ? static_cast<int64_t>(loadUnsigned(in, i))
                          : loadInt(in, i);
      if (out.dtype == DType::I4)
        value = signExtend4(value);
      else if (out.dtype == DType::U4)
        value &= 0xf;
      storeInt(out, i, value);
    }
  }
  return success();
}

} // namespace

void registerElementwiseKernels(KernelRegistry &r) {
  registerUnary(r);
  registerBinary(r);
  r.add<ClipOp>(clipKernel);
  r.add<WhereOp>(whereKernel);
  r.add<CastOp>(castKernel);
}

} // namespace kiln::eval
