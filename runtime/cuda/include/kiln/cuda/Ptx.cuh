//===- Ptx.cuh - Inline-PTX primitives of the tensor-core kernels *- CUDA -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// Thin wrappers over the PTX instructions the kernels use (sm_80 and newer):
// asynchronous copies (cp.async with zero fill), ldmatrix, the warp-level
// tensor-core products mma.sync (m16n8k32 s8, m16n8k16 f16, m16n8k64 s4),
// and a few integer helpers. Every wrapper is one instruction; the fragment
// layouts they produce are documented in Fragments.h.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_RUNTIME_CUDA_INCLUDE_KILN_CUDA_PTX_CUH
#define KILN_RUNTIME_CUDA_INCLUDE_KILN_CUDA_PTX_CUH

#include "kiln/cuda/Config.h"

#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <cstdint>

namespace kiln::cuda::ptx {

/// Returns the shared-state-space address of a generic pointer to shared
/// memory.
KILN_DEVICE uint32_t smemAddr(const void *p) {
  return static_cast<uint32_t>(__cvta_generic_to_shared(p));
}

//===----------------------------------------------------------------------===//
// Asynchronous copies
//===----------------------------------------------------------------------===//

/// Copies |srcBytes| (0..16) bytes from global |src| to shared |dst| and
/// zero-fills the rest of the 16 bytes; bypasses L1 (.cg).
KILN_DEVICE void cpAsync16(uint32_t dst, const void *src, int srcBytes) {
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(dst),
               "l"(src), "r"(srcBytes));
}

/// Like cpAsync16 for 8 bytes (.ca: 4/8-byte copies cannot bypass L1).
KILN_DEVICE void cpAsync8(uint32_t dst, const void *src, int srcBytes) {
  asm volatile("cp.async.ca.shared.global [%0], [%1], 8, %2;\n" ::"r"(dst),
               "l"(src), "r"(srcBytes));
}

/// Like cpAsync16 for 4 bytes.
KILN_DEVICE void cpAsync4(uint32_t dst, const void *src, int srcBytes) {
  asm volatile("cp.async.ca.shared.global [%0], [%1], 4, %2;\n" ::"r"(dst),
               "l"(src), "r"(srcBytes));
}

/// Copies kBytes (4, 8 or 16) with zero fill beyond |srcBytes|.
template <int kBytes>
KILN_DEVICE void cpAsync(uint32_t dst, const void *src, int srcBytes) {
  static_assert(kBytes == 4 || kBytes == 8 || kBytes == 16, "bad copy size");
  if constexpr (kBytes == 16)
    cpAsync16(dst, src, srcBytes);
  else if constexpr (kBytes == 8)
    cpAsync8(dst, src, srcBytes);
  else
    cpAsync4(dst, src, srcBytes);
}

/// Closes the current group of cp.async operations.
KILN_DEVICE void cpAsyncCommit() { asm volatile("cp.async.commit_group;\n"); }

/// Waits until at most |N| committed groups are still in flight.
template <int N> KILN_DEVICE void cpAsyncWait() {
  asm volatile("cp.async.wait_group %0;\n" ::"n"(N));
}

//===----------------------------------------------------------------------===//
// ldmatrix
//===----------------------------------------------------------------------===//

/// Loads four 8x8 matrices of 16-bit elements (8 rows of 16 bytes each);
/// lanes 8i..8i+7 give the row addresses of matrix i. Lane l receives, in
/// register i, row l / 4, bytes 4 (l % 4) .. 4 (l % 4) + 3 of matrix i.
KILN_DEVICE void ldmatrixX4(uint32_t addr, uint32_t &r0, uint32_t &r1,
                            uint32_t &r2, uint32_t &r3) {
  asm volatile(
      "ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0, %1, %2, %3}, [%4];\n"
      : "=r"(r0), "=r"(r1), "=r"(r2), "=r"(r3)
      : "r"(addr));
}

/// Two matrices (lanes 0..15 give the addresses).
KILN_DEVICE void ldmatrixX2(uint32_t addr, uint32_t &r0, uint32_t &r1) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x2.shared.b16 {%0, %1}, [%2];\n"
               : "=r"(r0), "=r"(r1)
               : "r"(addr));
}

/// Transposing variant of ldmatrixX4 (16-bit elements): lane l receives
/// elements (row 2 (l % 4) and 2 (l % 4) + 1, column l / 4) of matrix i.
KILN_DEVICE void ldmatrixX4Trans(uint32_t addr, uint32_t &r0, uint32_t &r1,
                                 uint32_t &r2, uint32_t &r3) {
  asm volatile(
      "ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0, %1, %2, %3}, "
      "[%4];\n"
      : "=r"(r0), "=r"(r1), "=r"(r2), "=r"(r3)
      : "r"(addr));
}

//===----------------------------------------------------------------------===//
// Warp-level matrix products (row.col: A row-major, B column-major)
//===----------------------------------------------------------------------===//

/// D = A * B + D for A 16x32 s8, B 32x8 s8, D 16x8 s32.
KILN_DEVICE void mmaS8(int32_t (&d)[4], const uint32_t (&a)[4],
                       const uint32_t (&b)[2]) {
  asm volatile("mma.sync.aligned.m16n8k32.row.col.s32.s8.s8.s32 "
               "{%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, "
               "{%0, %1, %2, %3};\n"
               : "+r"(d[0]), "+r"(d[1]), "+r"(d[2]), "+r"(d[3])
               : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]),
                 "r"(b[1]));
}

/// D = A * B + D for A 16x16 f16, B 16x8 f16, D 16x8 f32.
KILN_DEVICE void mmaF16(float (&d)[4], const uint32_t (&a)[4],
                        const uint32_t (&b)[2]) {
  asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 "
               "{%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, "
               "{%0, %1, %2, %3};\n"
               : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
               : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]),
                 "r"(b[1]));
}

/// D = A * B + D for A 16x64 s4, B 64x8 s4, D 16x8 s32 (sm_80 / sm_86 /
/// sm_89 tensor cores; Hopper has no int4 tensor path, see GemmW4A4.cuh).
KILN_DEVICE void mmaS4(int32_t (&d)[4], const uint32_t (&a)[4],
                       const uint32_t (&b)[2]) {
  asm volatile("mma.sync.aligned.m16n8k64.row.col.s32.s4.s4.s32 "
               "{%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, "
               "{%0, %1, %2, %3};\n"
               : "+r"(d[0]), "+r"(d[1]), "+r"(d[2]), "+r"(d[3])
               : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]),
                 "r"(b[1]));
}

//===----------------------------------------------------------------------===//
// Integer helpers
//===----------------------------------------------------------------------===//

/// Returns two floats packed as an f16x2 register (lo in bits 0..15), round
/// to nearest even.
KILN_DEVICE uint32_t packHalf2(float lo, float hi) {
  const __half2 h = __floats2half2_rn(lo, hi);
  return *reinterpret_cast<const uint32_t *>(&h);
}

/// Stores four 32-bit words to 16-byte aligned shared address |addr|.
KILN_DEVICE void stShared128(uint32_t addr, uint32_t a, uint32_t b, uint32_t c,
                             uint32_t d) {
  asm volatile("st.shared.v4.b32 [%0], {%1, %2, %3, %4};\n" ::"r"(addr),
               "r"(a), "r"(b), "r"(c), "r"(d)
               : "memory");
}

/// Byte-wise a - b modulo 256 (four lanes, no borrow between them).
KILN_DEVICE uint32_t vsub4(uint32_t a, uint32_t b) { return __vsub4(a, b); }

/// Returns bit-field permutation of a, b by selector s (PRMT).
KILN_DEVICE uint32_t prmt(uint32_t a, uint32_t b, uint32_t s) {
  uint32_t r;
  asm("prmt.b32 %0, %1, %2, %3;\n" : "=r"(r) : "r"(a), "r"(b), "r"(s));
  return r;
}

/// Returns (a & b) | c style three-input logic with truth table |kLut|.
template <int kLut> KILN_DEVICE uint32_t lop3(uint32_t a, uint32_t b,
                                              uint32_t c) {
  uint32_t r;
  asm("lop3.b32 %0, %1, %2, %3, %4;\n"
      : "=r"(r)
      : "r"(a), "r"(b), "r"(c), "n"(kLut));
  return r;
}

} // namespace kiln::cuda::ptx

#endif // KILN_RUNTIME_CUDA_INCLUDE_KILN_CUDA_PTX_CUH
