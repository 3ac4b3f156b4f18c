//===- EpilogueData.h - Random epilogue operands for GPU tests --*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// Builds the operands an Epilogue configuration reads (bias, requantization
// multipliers, scales, residual) as seeded random data, once on the host
// (for the reference) and once on the device (for the kernel), plus the
// output buffer, and compares the kernel's output with the reference under
// the rule of the test plan: bit-exact when the main loop is exact (integer
// accumulation) and the epilogue has no transcendental function; otherwise
// int8 outputs within one code and float outputs within stated tolerances.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_TEST_GPU_EPILOGUEDATA_H
#define KILN_TEST_GPU_EPILOGUEDATA_H

#include "Harness.h"
#include "Reference.h"

#include "kiln/cuda/Epilogue.h"

#include <cmath>
#include <string>
#include <vector>

namespace kiln::gputest {

/// Magnitudes that keep outputs in a useful range: |accScale| is the
/// typical size of an accumulator (e.g. sqrt(K) * 64 * 64 for int8).
struct EpilogueScales {
  double accScale = 1.0;
};

/// Host and device operands of one epilogue.
template <class Epi> struct EpilogueData {
  using Out = typename Epi::Out;
  int M = 0, N = 0;
  int64_t ldOut = 0;
  std::vector<int32_t> biasInt, multiplier, shift;
  std::vector<float> rowScale, colScale, bias;
  std::vector<uint8_t> residual; // raw bytes of the residual element type
  DeviceBuffer<int32_t> dBiasInt, dMultiplier, dShift;
  DeviceBuffer<float> dRowScale, dColScale, dBias;
  DeviceBuffer<uint8_t> dResidual;
  DeviceBuffer<Out> dOut;
  cuda::EpilogueParams host, device;

  EpilogueData(Rng &rng, int m, int n, int64_t ldOutput, EpilogueScales s)
      : M(m), N(n), ldOut(ldOutput) {
    constexpr uint32_t F = Epi::kFlags;
    constexpr cuda::OutKind O = Epi::kOut;
    constexpr bool kIntOut =
        O == cuda::OutKind::kInt8Fixed || O == cuda::OutKind::kInt8Float;
    // Float pipeline: v = acc * scales ~ O(1).
    const bool row = (F & cuda::kEpiRowScale) != 0;
    const bool col = (F & cuda::kEpiColScale) != 0;
    const double target = 1.0 / s.accScale;
    host.scale = float(target);
    if (row) {
      rowScale.resize(M);
      for (float &v : rowScale)
        v = rng.uniform(0.5f, 2.0f) * (col ? 1.0f : float(target));
    }
    if (col) {
      colScale.resize(N);
      for (float &v : colScale)
        v = rng.uniform(0.5f, 2.0f) * float(target);
    }
    if (F & cuda::kEpiBiasInt) {
      biasInt.resize(N);
      for (int32_t &v : biasInt)
        v = int32_t(rng.normal() * s.accScale);
    }
    if (F & cuda::kEpiBiasFloat) {
      bias.resize(N);
      for (float &v : bias)
        v = rng.normal() * 0.5f;
    }
    if constexpr (O == cuda::OutKind::kInt8Fixed) {
      const int count = (F & cuda::kEpiPerTensorRequant) ? 1 : N;
      multiplier.resize(count);
      shift.resize(count);
      for (int c = 0; c < count; ++c)
        quantizeMultiplier(40.0 / s.accScale * rng.uniform(0.5f, 2.0f),
                           multiplier[c], shift[c]);
      host.outZeroPoint = rng.uniformInt(-20, 20);
      // A ReLU-like clamp on some cases exercises the range.
      host.clampMin = rng.uniformInt(0, 1) ? host.outZeroPoint : -128;
      host.clampMax = 127;
    }
    if constexpr (O == cuda::OutKind::kInt8Float) {
      host.outScale = 1.0f / 40.0f;
      host.outZeroPoint = rng.uniformInt(-10, 10);
      host.clampMin = -128;
      host.clampMax = 127;
    }
    (void)kIntOut;
    constexpr cuda::ResKind R = Epi::kResidual;
    if constexpr (R != cuda::ResKind::kNone) {
      host.ldResidual = N;
      const size_t count = size_t(M) * N;
      if constexpr (R == cuda::ResKind::kFloat32) {
        residual.resize(count * 4);
        float *r = reinterpret_cast<float *>(residual.data());
        for (size_t i = 0; i < count; ++i)
          r[i] = rng.normal();
      } else if constexpr (R == cuda::ResKind::kFloat16) {
        residual.resize(count * 2);
        uint16_t *r = reinterpret_cast<uint16_t *>(residual.data());
        for (size_t i = 0; i < count; ++i)
          r[i] = cuda::floatToHalfBits(rng.normal());
      } else {
        residual.resize(count);
        for (size_t i = 0; i < count; ++i)
          residual[i] = uint8_t(rng.uniformInt(-128, 127));
        host.residualScale = 1.0f / 50.0f;
        host.residualZeroPoint = rng.uniformInt(-5, 5);
      }
    }
    host.ldOut = ldOut;
    host.biasInt = biasInt.empty() ? nullptr : biasInt.data();
    host.multiplier = multiplier.empty() ? nullptr : multiplier.data();
    host.shift = shift.empty() ? nullptr : shift.data();
    host.rowScale = rowScale.empty() ? nullptr : rowScale.data();
    host.colScale = colScale.empty() ? nullptr : colScale.data();
    host.bias = bias.empty() ? nullptr : bias.data();
    host.residual = residual.empty() ? nullptr : residual.data();

    device = host;
    dBiasInt.upload(biasInt);
    dMultiplier.upload(multiplier);
    dShift.upload(shift);
    dRowScale.upload(rowScale);
    dColScale.upload(colScale);
    dBias.upload(bias);
    dResidual.upload(residual);
    dOut.resize(size_t(M) * ldOut);
    dOut.poison();
    device.biasInt = host.biasInt ? dBiasInt.get() : nullptr;
    device.multiplier = host.multiplier ? dMultiplier.get() : nullptr;
    device.shift = host.shift ? dShift.get() : nullptr;
    device.rowScale = host.rowScale ? dRowScale.get() : nullptr;
    device.colScale = host.colScale ? dColScale.get() : nullptr;
    device.bias = host.bias ? dBias.get() : nullptr;
    device.residual = host.residual ? dResidual.get() : nullptr;
    device.out = dOut.get();
  }

  /// Compares the device output with |want| ([M, N]); |exactMainLoop| says
  /// whether the accumulators are exact (integer kernels). Returns "" on
  /// success, else the reason.
  std::string check(const std::vector<Out> &want, bool exactMainLoop) const {
    const std::vector<Out> got = dOut.download();
    const bool exact = exactMainLoop && Epi::kExact;
    if (exact)
      return compareExact(got.data(), ldOut, want.data(), int64_t(N), M, N);
    if constexpr (std::is_same_v<Out, int8_t>) {
      int64_t bad = 0;
      std::string detail;
      for (int m = 0; m < M; ++m)
        for (int n = 0; n < N; ++n) {
          const int d = int(got[m * ldOut + n]) - int(want[size_t(m) * N + n]);
          if (d > 1 || d < -1) {
            if (bad < 4)
              detail += "[" + std::to_string(m) + "," + std::to_string(n) +
                        "] got " + std::to_string(int(got[m * ldOut + n])) +
                        " want " + std::to_string(int(want[size_t(m) * N + n])) +
                        "; ";
            ++bad;
          }
        }
      return bad ? std::to_string(bad) + " off by more than 1: " + detail : "";
    } else {
      std::vector<double> g(size_t(M) * N), w(size_t(M) * N);
      for (int m = 0; m < M; ++m)
        for (int n = 0; n < N; ++n) {
          g[size_t(m) * N + n] = toDouble(got[m * ldOut + n]);
          w[size_t(m) * N + n] = toDouble(want[size_t(m) * N + n]);
        }
      // fp16 outputs: one rounding of ~2^-11 relative on each side plus
      // float32 accumulation-order differences.
      const FloatCheck c = compareFloat(g, w, 2e-3, 2e-3, 4e-3);
      return c.ok ? "" : c.describe();
    }
  }

  static double toDouble(Out v) {
    if constexpr (std::is_same_v<Out, uint16_t>)
      return cuda::halfBitsToFloat(v);
    else
      return double(v);
  }
};

} // namespace kiln::gputest

#endif // KILN_TEST_GPU_EPILOGUEDATA_H
