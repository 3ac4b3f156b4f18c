//===- ElementOps.h - Scalar element functions (host and device) -*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// The per-element arithmetic of the memory-bound kernels (Elementwise.cuh,
// Norm.cuh), in plain C++ so that the host references and the CPU checks
// against kiln::ref / kiln::quant evaluate exactly what the kernels do:
// the elementwise chain ops, TFLite's int8 Add, the per-token int8 scale and
// the int8 softmax output formula.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_RUNTIME_CUDA_INCLUDE_KILN_CUDA_ELEMENTOPS_H
#define KILN_RUNTIME_CUDA_INCLUDE_KILN_CUDA_ELEMENTOPS_H

#include "kiln/cuda/Numeric.h"

#include <cstdint>

namespace kiln::cuda {

//===----------------------------------------------------------------------===//
// Chain ops (host and device: the host reference evaluates the same chain)
//===----------------------------------------------------------------------===//

/// v * scale[c] + shift[c] (inference BatchNorm, or any per-channel affine).
struct OpScaleShift {
  const float *scale;
  const float *shift;
  KILN_HD float operator()(float v, int64_t, int64_t c) const {
    return faddRn(fmulRn(v, scale[c]), shift[c]);
  }
};

/// v + bias[c].
struct OpBias {
  const float *bias;
  KILN_HD float operator()(float v, int64_t, int64_t c) const {
    return faddRn(v, bias[c]);
  }
};

/// v * s.
struct OpMulScalar {
  float s;
  KILN_HD float operator()(float v, int64_t, int64_t) const {
    return fmulRn(v, s);
  }
};

/// v + s.
struct OpAddScalar {
  float s;
  KILN_HD float operator()(float v, int64_t, int64_t) const {
    return faddRn(v, s);
  }
};

/// A(v).
template <Act A> struct OpAct {
  KILN_HD float operator()(float v, int64_t, int64_t) const {
    return applyAct<A>(v);
  }
};

/// v + other[i] (fp16 tensor of the same shape: a residual).
struct OpAddHalf {
  const uint16_t *other;
  KILN_HD float operator()(float v, int64_t i, int64_t) const {
    return faddRn(v, halfBitsToFloat(other[i]));
  }
};

/// v * other[i] (fp16 tensor of the same shape: a gate).
struct OpMulHalf {
  const uint16_t *other;
  KILN_HD float operator()(float v, int64_t i, int64_t) const {
    return fmulRn(v, halfBitsToFloat(other[i]));
  }
};

/// A compile-time chain of ops, applied first to last. Aggregate:
/// Chain<A, B>{a, {b, {}}}.
template <class... Ops> struct Chain;
template <> struct Chain<> {
  KILN_HD float operator()(float v, int64_t, int64_t) const { return v; }
};
template <class Op, class... Rest> struct Chain<Op, Rest...> {
  Op op;
  Chain<Rest...> rest;
  KILN_HD float operator()(float v, int64_t i, int64_t c) const {
    return rest(op(v, i, c), i, c);
  }
};

/// Element types of chain inputs and outputs.
enum class ElemKind : int { kFloat16, kFloat32, kInt8 };

/// Storage type of an ElemKind.
template <ElemKind E> struct ElemStorage;
template <> struct ElemStorage<ElemKind::kFloat16> { using Type = uint16_t; };
template <> struct ElemStorage<ElemKind::kFloat32> { using Type = float; };
template <> struct ElemStorage<ElemKind::kInt8> { using Type = int8_t; };

/// Operands of an elementwise chain over |count| elements whose innermost
/// dimension (channels) has |channels| elements.
struct ElementwiseArgs {
  int64_t count = 0;
  int64_t channels = 1;
  const void *input = nullptr;
  void *output = nullptr;
  /// int8 input: x = inScale * (q - inZeroPoint).
  float inScale = 1.0f;
  int32_t inZeroPoint = 0;
  /// int8 output: q = clamp(round(y / outScale) + outZeroPoint, -128, 127).
  float outScale = 1.0f;
  int32_t outZeroPoint = 0;
};

/// Returns element |i| of the input as float.
template <ElemKind In>
KILN_HD float loadElement(const ElementwiseArgs &a, int64_t i) {
  const auto *x = static_cast<const typename ElemStorage<In>::Type *>(a.input);
  if constexpr (In == ElemKind::kFloat16)
    return halfBitsToFloat(x[i]);
  else if constexpr (In == ElemKind::kFloat32)
    return x[i];
  else
    return fmulRn(a.inScale, intToFloat(int32_t(x[i]) - a.inZeroPoint));
}

/// Converts |v| to the output storage.
template <ElemKind Out>
KILN_HD typename ElemStorage<Out>::Type storeValue(const ElementwiseArgs &a,
                                                   float v) {
  if constexpr (Out == ElemKind::kFloat16)
    return floatToHalfBits(v);
  else if constexpr (Out == ElemKind::kFloat32)
    return v;
  else
    return int8_t(quantizeToInt(v, a.outScale, a.outZeroPoint, -128, 127));
}

/// The chain applied to element |i| (the host reference calls this too).
template <ElemKind In, ElemKind Out, class ChainT>
KILN_HD typename ElemStorage<Out>::Type
chainElement(const ElementwiseArgs &a, const ChainT &chain, int64_t i) {
  return storeValue<Out>(a, chain(loadElement<In>(a, i), i, i % a.channels));
}

/// Integer parameters of TFLite's int8 Add, as kiln::ref::makeAddParams
/// computes them.
struct Int8AddParams {
  int32_t input1ZeroPoint = 0, input2ZeroPoint = 0, outputZeroPoint = 0;
  int32_t leftShift = 20;
  int32_t input1Multiplier = 0, input1Shift = 0;
  int32_t input2Multiplier = 0, input2Shift = 0;
  int32_t outputMultiplier = 0, outputShift = 0;
  int32_t clampMin = -128, clampMax = 127;
};

/// Returns kiln::ref::add's value for one pair of inputs.
KILN_HD int8_t int8AddElement(const Int8AddParams &p, int8_t x1, int8_t x2) {
  const int32_t s1 = (int32_t(x1) - p.input1ZeroPoint) * (1 << p.leftShift);
  const int32_t s2 = (int32_t(x2) - p.input2ZeroPoint) * (1 << p.leftShift);
  const int32_t r1 =
      multiplyByQuantizedMultiplier(s1, p.input1Multiplier, p.input1Shift);
  const int32_t r2 =
      multiplyByQuantizedMultiplier(s2, p.input2Multiplier, p.input2Shift);
  const int32_t out = multiplyByQuantizedMultiplier(r1 + r2, p.outputMultiplier,
                                                    p.outputShift) +
                      p.outputZeroPoint;
  return int8_t(clampInt(out, p.clampMin, p.clampMax));
}

/// Returns the per-row scale of quantizePerToken for a row maximum |amax|.
KILN_HD float perTokenScale(float amax) {
  float s = amax > 0.0f ? fdivRn(amax, 127.0f) : 1.0f;
  return s == 0.0f ? 1.0f : s;
}

/// Returns kiln::ref::softmax's output for table value |e| and row sum |S|.
KILN_HD int8_t int8SoftmaxValue(uint32_t e, uint32_t S) {
  const int32_t q = int32_t((e * 256u + S / 2u) / S);
  return int8_t(clampInt(q - 128, -128, 127));
}

} // namespace kiln::cuda

#endif // KILN_RUNTIME_CUDA_INCLUDE_KILN_CUDA_ELEMENTOPS_H
