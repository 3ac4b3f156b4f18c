//===- Epilogue.h - Fused GEMM / convolution output stages ------*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// The output stage that every matrix kernel (int8/fp16 GEMM, implicit-GEMM
// convolution, W4A8, W4A4, split-K reduction) applies to its accumulators
// before the one store to memory. It is a compile-time configuration
//
//   Epilogue<OutKind, Act, Flags, ResKind>
//
// with run-time pointers and scalars in EpilogueParams. Per element (m, n)
// with accumulator `acc` (int32 for integer kernels, float32 for fp16):
//
//   integer kernels: acc += biasInt[n]                  (kEpiBiasInt)
//   kInt32:          out = acc                          (raw accumulator)
//   kInt8Fixed:      out = clamp(MBQM(acc, multiplier[n], shift[n])
//                               + outZeroPoint, clampMin, clampMax)
//                    (TFLite; per tensor with kEpiPerTensorRequant)
//   float outputs:   v = float(acc)
//                    v = v * (rowScale[m] * colScale[n])  (both flags)
//                      | v * colScale[n] | v * rowScale[m] | v * scale
//                    v = v + bias[n]                    (kEpiBiasFloat)
//                    v = v + residual[m, n]             (kEpiResidualBeforeAct)
//                    v = Act(v)
//                    v = v + residual[m, n]             (residual, otherwise)
//                    kFloat32: out = v; kFloat16: out = fp16(v) (RNE);
//                    kInt8Float: out = clamp(round(v / outScale)
//                                + outZeroPoint, clampMin, clampMax)
//
// Every float step is one IEEE operation (Numeric.h), so the stage is bit
// for bit reproducible on the host unless Act is transcendental. An int8
// residual is dequantized as residualScale * (q - residualZeroPoint).
//
// Zero points of int8 activations never reach the kernels: the compiler
// folds -inputZeroPoint * sum_k w[n, k] into biasInt[n] (weights are
// constants), so the main loops multiply raw int8 values.
//
// The QoQ W4A8 output y = float(acc) * (sa[m] * s1[n]) is kFloat16/32 with
// kEpiRowScale | kEpiColScale; a TFLite fully connected layer is kInt8Fixed
// with kEpiBiasInt.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_RUNTIME_CUDA_INCLUDE_KILN_CUDA_EPILOGUE_H
#define KILN_RUNTIME_CUDA_INCLUDE_KILN_CUDA_EPILOGUE_H

#include "kiln/cuda/Numeric.h"

#include <cstdint>
#include <type_traits>

namespace kiln::cuda {

/// What the epilogue writes.
enum class OutKind : int {
  /// The raw int32 accumulator (plus biasInt).
  kInt32,
  /// float32.
  kFloat32,
  /// fp16 (stored as its 16 bits).
  kFloat16,
  /// int8 by TFLite fixed-point requantization (bit-exact with kiln::ref).
  kInt8Fixed,
  /// int8 by float quantization of the float result (for activations
  /// that are not a clamp: GELU, SiLU).
  kInt8Float,
};

/// Element type of the optional residual input.
enum class ResKind : int { kNone, kFloat32, kFloat16, kInt8 };

/// Optional stages of the epilogue (bit flags).
enum EpilogueFlags : uint32_t {
  kEpiNone = 0,
  /// Add biasInt[n] to the int32 accumulator.
  kEpiBiasInt = 1u << 0,
  /// Add bias[n] in float.
  kEpiBiasFloat = 1u << 1,
  /// Multiply by rowScale[m] (per-token activation scale).
  kEpiRowScale = 1u << 2,
  /// Multiply by colScale[n] (per-channel weight scale); without either
  /// scale flag, float outputs multiply by the scalar |scale|.
  kEpiColScale = 1u << 3,
  /// Add the residual before the activation (ResNet: relu(conv + x));
  /// by default it is added after (transformer: x + f(y)).
  kEpiResidualBeforeAct = 1u << 4,
  /// kInt8Fixed with one multiplier/shift for the whole tensor.
  kEpiPerTensorRequant = 1u << 5,
};

/// Run-time operands of an epilogue. Pointers the configuration does not use
/// are ignored. All arrays are device memory.
struct EpilogueParams {
  /// Output [M, ldOut] (element type from OutKind).
  void *out = nullptr;
  int64_t ldOut = 0;
  /// int32 [N] added to the accumulator (kEpiBiasInt).
  const int32_t *biasInt = nullptr;
  /// Requantization (kInt8Fixed): [N] or [1] each.
  const int32_t *multiplier = nullptr;
  const int32_t *shift = nullptr;
  /// Output zero point and clamp range of int8 outputs.
  int32_t outZeroPoint = 0;
  int32_t clampMin = -128;
  int32_t clampMax = 127;
  /// Dequantization scales: [M] (kEpiRowScale), [N] (kEpiColScale), or the
  /// scalar |scale|.
  const float *rowScale = nullptr;
  const float *colScale = nullptr;
  float scale = 1.0f;
  /// float [N] (kEpiBiasFloat).
  const float *bias = nullptr;
  /// Residual [M, ldResidual] (ResKind), dequantized with residualScale /
  /// residualZeroPoint when int8.
  const void *residual = nullptr;
  int64_t ldResidual = 0;
  float residualScale = 1.0f;
  int32_t residualZeroPoint = 0;
  /// Output quantization scale of kInt8Float.
  float outScale = 1.0f;
};

/// Storage type of each OutKind.
template <OutKind O> struct OutStorage;
template <> struct OutStorage<OutKind::kInt32> { using Type = int32_t; };
template <> struct OutStorage<OutKind::kFloat32> { using Type = float; };
template <> struct OutStorage<OutKind::kFloat16> { using Type = uint16_t; };
template <> struct OutStorage<OutKind::kInt8Fixed> { using Type = int8_t; };
template <> struct OutStorage<OutKind::kInt8Float> { using Type = int8_t; };

/// The output stage (see the file comment).
template <OutKind O, Act A = Act::kNone, uint32_t F = kEpiNone,
          ResKind R = ResKind::kNone>
struct Epilogue {
  using Out = typename OutStorage<O>::Type;
  static constexpr OutKind kOut = O;
  static constexpr Act kAct = A;
  static constexpr uint32_t kFlags = F;
  static constexpr ResKind kResidual = R;
  /// True when host and device results must agree bit for bit.
  static constexpr bool kExact = !isTranscendental(A);

  static_assert(O != OutKind::kInt8Fixed ||
                    (A == Act::kNone && R == ResKind::kNone),
                "kInt8Fixed fuses ReLU/ReLU6 as the clamp range; use "
                "kInt8Float for other activations or a residual");
  static_assert(O != OutKind::kInt32 ||
                    (A == Act::kNone && R == ResKind::kNone),
                "kInt32 writes the raw accumulator");

  /// Returns the residual at (m, n) as float.
  KILN_HD static float residualAt(const EpilogueParams &p, int64_t m,
                                  int64_t n) {
    const int64_t i = m * p.ldResidual + n;
    if constexpr (R == ResKind::kFloat32) {
      return static_cast<const float *>(p.residual)[i];
    } else if constexpr (R == ResKind::kFloat16) {
      return halfBitsToFloat(static_cast<const uint16_t *>(p.residual)[i]);
    } else if constexpr (R == ResKind::kInt8) {
      const int32_t q = static_cast<const int8_t *>(p.residual)[i];
      return fmulRn(p.residualScale,
                    intToFloat(q - p.residualZeroPoint));
    } else {
      return 0.0f;
    }
  }

  /// Returns the float stages applied to |v| (already converted).
  KILN_HD static float floatStages(const EpilogueParams &p, int64_t m,
                                   int64_t n, float v) {
    constexpr bool kRow = (F & kEpiRowScale) != 0;
    constexpr bool kCol = (F & kEpiColScale) != 0;
    if constexpr (kRow && kCol)
      v = fmulRn(v, fmulRn(p.rowScale[m], p.colScale[n]));
    else if constexpr (kCol)
      v = fmulRn(v, p.colScale[n]);
    else if constexpr (kRow)
      v = fmulRn(v, p.rowScale[m]);
    else
      v = fmulRn(v, p.scale);
    if constexpr ((F & kEpiBiasFloat) != 0)
      v = faddRn(v, p.bias[n]);
    if constexpr (R != ResKind::kNone && (F & kEpiResidualBeforeAct) != 0)
      v = faddRn(v, residualAt(p, m, n));
    v = applyAct<A>(v);
    if constexpr (R != ResKind::kNone && (F & kEpiResidualBeforeAct) == 0)
      v = faddRn(v, residualAt(p, m, n));
    return v;
  }

  /// Returns the value stored at (m, n) for accumulator |acc| (int32 or
  /// float).
  template <typename AccT>
  KILN_HD static Out compute(const EpilogueParams &p, int64_t m, int64_t n,
                             AccT acc) {
    if constexpr (std::is_integral_v<AccT>) {
      if constexpr ((F & kEpiBiasInt) != 0)
        acc = static_cast<int32_t>(static_cast<uint32_t>(acc) +
                                   static_cast<uint32_t>(p.biasInt[n]));
      if constexpr (O == OutKind::kInt32) {
        return acc;
      } else if constexpr (O == OutKind::kInt8Fixed) {
        const int64_t c = (F & kEpiPerTensorRequant) != 0 ? 0 : n;
        const int64_t v = static_cast<int64_t>(multiplyByQuantizedMultiplier(
                              acc, p.multiplier[c], p.shift[c])) +
                          p.outZeroPoint;
        return static_cast<Out>(
            v < p.clampMin ? p.clampMin : (v > p.clampMax ? p.clampMax : v));
      } else {
        return fromFloat(p, floatStages(p, m, n, intToFloat(acc)));
      }
    } else {
      static_assert(O != OutKind::kInt32 && O != OutKind::kInt8Fixed,
                    "integer outputs need an integer accumulator");
      return fromFloat(p, floatStages(p, m, n, static_cast<float>(acc)));
    }
  }

  /// Converts the final float value to the output storage.
  KILN_HD static Out fromFloat(const EpilogueParams &p, float v) {
    if constexpr (O == OutKind::kFloat32) {
      return v;
    } else if constexpr (O == OutKind::kFloat16) {
      return floatToHalfBits(v);
    } else {
      return static_cast<Out>(quantizeToInt(v, p.outScale, p.outZeroPoint,
                                            p.clampMin, p.clampMax));
    }
  }

  /// Stores |v| at (m, n).
  KILN_HD static void store(const EpilogueParams &p, int64_t m, int64_t n,
                            Out v) {
    static_cast<Out *>(p.out)[m * p.ldOut + n] = v;
  }

  /// Computes and stores the two adjacent elements (m, n) and (m, n + 1)
  /// (n even), the second only when n + 1 < N; one vector store when the
  /// row stride allows it.
  template <typename AccT>
  KILN_HD static void apply2(const EpilogueParams &p, int64_t m, int64_t n,
                             int64_t N, AccT a0, AccT a1) {
    const Out v0 = compute(p, m, n, a0);
    if (n + 1 < N) {
      const Out v1 = compute(p, m, n + 1, a1);
#if defined(__CUDA_ARCH__)
      if ((p.ldOut & 1) == 0) {
        Out *dst = static_cast<Out *>(p.out) + m * p.ldOut + n;
        if constexpr (sizeof(Out) == 1) {
          *reinterpret_cast<uint16_t *>(dst) = static_cast<uint16_t>(
              static_cast<uint8_t>(v0) | (static_cast<uint8_t>(v1) << 8));
        } else if constexpr (sizeof(Out) == 2) {
          *reinterpret_cast<uint32_t *>(dst) =
              static_cast<uint32_t>(v0) | (static_cast<uint32_t>(v1) << 16);
        } else {
          using Pair = std::conditional_t<std::is_same_v<Out, float>, float2,
                                          int2>;
          *reinterpret_cast<Pair *>(dst) = Pair{v0, v1};
        }
        return;
      }
#endif
      store(p, m, n + 1, v1);
    }
    store(p, m, n, v0);
  }
};

} // namespace kiln::cuda

#endif // KILN_RUNTIME_CUDA_INCLUDE_KILN_CUDA_EPILOGUE_H
