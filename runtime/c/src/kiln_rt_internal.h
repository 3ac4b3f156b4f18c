/*===- kiln_rt_internal.h - Shared helpers of the C runtime -----*- C -*-===//
 * SPDX-License-Identifier: Apache-2.0
 *
 * Internal to runtime/c: the exact fixed-point requantization used by every
 * kernel, parameter checks, and the SIMD layer of the Cortex-M DSP paths.
 *
 * DSP layer. KILN_RT_DSP is 1 when the DSP code paths are compiled:
 *  - on Arm targets with __ARM_FEATURE_DSP (unless KILN_RT_PORTABLE), where
 *    the helpers map to ACLE intrinsics from <arm_acle.h> (SMLAD, SXTB16,
 *    SXTAB16, SMLABB, SMLATB); the "ror8" forms use SXTB16/SXTAB16's rotate
 *    operand, which ACLE does not expose, through one-instruction inline asm;
 *  - on any host with KILN_RT_EMULATE_DSP, where the same helpers are plain C
 *    models of those instructions, so that the host unit tests run the DSP
 *    code paths (with sanitizers) against the reference.
 *
 * Shifts of negative signed values: the runtime relies on >> being an
 * arithmetic shift (implementation-defined in C99; true for GCC and Clang on
 * every target Kiln supports), as TFLite does.
 *===----------------------------------------------------------------------===*/

#ifndef KILN_RUNTIME_C_SRC_KILN_RT_INTERNAL_H
#define KILN_RUNTIME_C_SRC_KILN_RT_INTERNAL_H

#include "kiln_rt.h"

#include <string.h>

#if !defined(KILN_RT_PORTABLE) && defined(__ARM_FEATURE_DSP)
#define KILN_RT_DSP 1
#define KILN_RT_DSP_NATIVE 1
#include <arm_acle.h>
#elif !defined(KILN_RT_PORTABLE) && defined(KILN_RT_EMULATE_DSP)
#define KILN_RT_DSP 1
#define KILN_RT_DSP_NATIVE 0
#else
#define KILN_RT_DSP 0
#define KILN_RT_DSP_NATIVE 0
#endif

#if defined(__GNUC__)
#define KILN_RT_INLINE static inline __attribute__((always_inline))
#else
#define KILN_RT_INLINE static inline
#endif

/* GCC's scheduling before register allocation (on by default for Arm at
 * -O2) hoists the loads of the multiply-accumulate loops and makes them
 * spill: the DSP 2x2 loop went from 23 to 28 instructions per 16 MACs. The
 * hot functions turn it off. */
#if defined(__GNUC__) && !defined(__clang__) && defined(__arm__)
#define KILN_RT_HOT __attribute__((optimize("no-schedule-insns")))
#else
#define KILN_RT_HOT
#endif

/*===----------------------------------------------------------------------===
 * Fixed point
 *===----------------------------------------------------------------------===*/

/** Returns x * 2^shift saturated to int32, for shift in [0, 31]. */
KILN_RT_INLINE int32_t kiln_rt_shl_sat(int32_t x, int32_t shift) {
  const int64_t shifted = (int64_t)x * ((int64_t)1 << shift);
  return shifted > INT32_MAX   ? INT32_MAX
         : shifted < INT32_MIN ? INT32_MIN
                               : (int32_t)shifted;
}

/** Returns gemmlowp's RoundingDivideByPOT(x, e) (x / 2^e rounded half away
 * from zero) for e in [0, 31], as (x + half) >> e for x >= 0 and
 * (x + half - 1) >> e for x < 0; the unit tests check that this equals the
 * remainder / threshold form of kiln::ref. */
KILN_RT_INLINE int32_t kiln_rt_rdbpot(int32_t x, int32_t e) {
  int32_t half;
  if (e == 0)
    return x;
  half = (int32_t)1 << (e - 1);
  if (x >= 0)
    return (int32_t)(((uint32_t)x + (uint32_t)half) >> e);
  return (x + (half - 1)) >> e;
}

/** Returns MultiplyByQuantizedMultiplier(x, multiplier, shift) exactly as
 * kiln::ref computes it, for multiplier >= 0 and shift in [-31, 30].
 *
 * The doubling high multiply is written as floor((x * m + 2^30) / 2^31):
 * gemmlowp's (x*m + nudge) / 2^31 with truncating division and a nudge of
 * 2^30 or 1 - 2^30 by sign equals that floor in every case, and its one
 * overflow (x == m == INT32_MIN) cannot occur with m >= 0. */
KILN_RT_INLINE int32_t kiln_rt_mbqm(int32_t x, int32_t multiplier,
                                    int32_t shift) {
  int32_t high;
  if (shift > 0)
    x = kiln_rt_shl_sat(x, shift);
  high = (int32_t)(((int64_t)x * multiplier + ((int64_t)1 << 30)) >> 31);
  return shift >= 0 ? high : kiln_rt_rdbpot(high, -shift);
}

/** Returns clamp(mbqm(acc) + zp, lo, hi) as int8, given |lo_zp| = lo - zp
 * and |hi_zp| = hi - zp: the clamp happens before the zero point is added so
 * that nothing overflows. Kernels compute the bounds once per call. */
KILN_RT_INLINE int8_t kiln_rt_requant_out(int32_t acc, int32_t multiplier,
                                          int32_t shift, int32_t zp,
                                          int32_t lo_zp, int32_t hi_zp) {
  int32_t v = kiln_rt_mbqm(acc, multiplier, shift);
  v = v < lo_zp ? lo_zp : v;
  v = v > hi_zp ? hi_zp : v;
  return (int8_t)(v + zp);
}

/** The output stage of a kernel, copied out of its parameter struct once
 * (int8 stores may alias the struct, so reading fields in the loop would
 * reload them after every store). */
typedef struct kiln_rt_out_stage {
  int32_t zp, lo_zp, hi_zp;
} kiln_rt_out_stage_t;

/** Returns the output stage of zero point |zp| and clamp [lo, hi]. */
KILN_RT_INLINE kiln_rt_out_stage_t kiln_rt_make_out_stage(int32_t zp,
                                                          int32_t lo,
                                                          int32_t hi) {
  kiln_rt_out_stage_t stage;
  stage.zp = zp;
  stage.lo_zp = lo - zp;
  stage.hi_zp = hi - zp;
  return stage;
}

/*===----------------------------------------------------------------------===
 * Parameter checks
 *===----------------------------------------------------------------------===*/

/** Returns 1 when |zp| is an int8 value. */
KILN_RT_INLINE int kiln_rt_valid_zp(int32_t zp) {
  return zp >= -128 && zp <= 127;
}

/** Returns 1 when [lo, hi] is a non-empty sub-range of [-128, 127]. */
KILN_RT_INLINE int kiln_rt_valid_act(int32_t lo, int32_t hi) {
  return lo >= -128 && hi <= 127 && lo <= hi;
}

/** Returns 1 when |multiplier| / |shift| are usable by kiln_rt_mbqm. */
KILN_RT_INLINE int kiln_rt_valid_multiplier(int32_t multiplier, int32_t shift) {
  return multiplier >= 0 && shift >= -31 && shift <= 30;
}

/** Returns 1 when |rq| is usable for |channels| output channels. */
int kiln_rt_valid_requant(const kiln_requant_t *rq, int32_t channels);

/** Returns 1 when |p| is a consistent convolution (sizes, pads, groups,
 * output size, zero points, activation). */
int kiln_rt_valid_conv(const kiln_conv_params_t *p);

/*===----------------------------------------------------------------------===
 * DSP layer
 *===----------------------------------------------------------------------===*/

/** Returns the 4 bytes at |p| as one little-endian word (unaligned loads
 * compile to one LDR on Cortex-M3 and later). */
KILN_RT_INLINE uint32_t kiln_rt_read4(const int8_t *p) {
  uint32_t w;
  memcpy(&w, p, 4);
  return w;
}

/** Returns the halfword pair (lo, hi) = (a, b), both int16. */
KILN_RT_INLINE uint32_t kiln_rt_pack16(int32_t lo, int32_t hi) {
  return ((uint32_t)lo & 0xFFFFu) | ((uint32_t)hi << 16);
}

#if KILN_RT_DSP_NATIVE

/** SXTB16: bytes 0 and 2 of |x| sign-extended into halfwords 0 and 1. */
KILN_RT_INLINE uint32_t kiln_rt_sxtb16(uint32_t x) {
  return (uint32_t)__sxtb16((int8x4_t)x);
}

/** SXTB16 ROR #8: bytes 1 and 3 of |x| sign-extended. */
KILN_RT_INLINE uint32_t kiln_rt_sxtb16_ror8(uint32_t x) {
  uint32_t r;
  __asm__("sxtb16 %0, %1, ror #8" : "=r"(r) : "r"(x));
  return r;
}

/** SXTAB16: |acc| + bytes 0 and 2 of |x|, per halfword. */
KILN_RT_INLINE uint32_t kiln_rt_sxtab16(uint32_t acc, uint32_t x) {
  return (uint32_t)__sxtab16((int16x2_t)acc, (int8x4_t)x);
}

/** SXTAB16 ROR #8: |acc| + bytes 1 and 3 of |x|, per halfword. */
KILN_RT_INLINE uint32_t kiln_rt_sxtab16_ror8(uint32_t acc, uint32_t x) {
  uint32_t r;
  __asm__("sxtab16 %0, %1, %2, ror #8" : "=r"(r) : "r"(acc), "r"(x));
  return r;
}

/** SMLAD: acc + a.lo * b.lo + a.hi * b.hi (wrapping). */
KILN_RT_INLINE int32_t kiln_rt_smlad(uint32_t a, uint32_t b, int32_t acc) {
  return __smlad((int16x2_t)a, (int16x2_t)b, acc);
}

/** SMLABB: acc + a.lo * b.lo. */
KILN_RT_INLINE int32_t kiln_rt_smlabb(uint32_t a, uint32_t b, int32_t acc) {
  return __smlabb((int32_t)a, (int32_t)b, acc);
}

/** SMLATB: acc + a.hi * b.lo. */
KILN_RT_INLINE int32_t kiln_rt_smlatb(uint32_t a, uint32_t b, int32_t acc) {
  return __smlatb((int32_t)a, (int32_t)b, acc);
}

#elif KILN_RT_DSP

/* C models of the instructions above, for host testing of the DSP paths. */

/** Returns the signed low halfword of |x|. */
KILN_RT_INLINE int32_t kiln_rt_lo16(uint32_t x) {
  return (int32_t)(int16_t)(uint16_t)(x & 0xFFFFu);
}

/** Returns the signed high halfword of |x|. */
KILN_RT_INLINE int32_t kiln_rt_hi16(uint32_t x) {
  return (int32_t)(int16_t)(uint16_t)(x >> 16);
}

/** Returns byte |i| of |x| sign-extended. */
KILN_RT_INLINE int32_t kiln_rt_byte(uint32_t x, int i) {
  return (int32_t)(int8_t)(uint8_t)((x >> (8 * i)) & 0xFFu);
}

KILN_RT_INLINE uint32_t kiln_rt_sxtb16(uint32_t x) {
  return kiln_rt_pack16(kiln_rt_byte(x, 0), kiln_rt_byte(x, 2));
}

KILN_RT_INLINE uint32_t kiln_rt_sxtb16_ror8(uint32_t x) {
  return kiln_rt_pack16(kiln_rt_byte(x, 1), kiln_rt_byte(x, 3));
}

KILN_RT_INLINE uint32_t kiln_rt_sxtab16(uint32_t acc, uint32_t x) {
  return kiln_rt_pack16(kiln_rt_lo16(acc) + kiln_rt_byte(x, 0),
                        kiln_rt_hi16(acc) + kiln_rt_byte(x, 2));
}

KILN_RT_INLINE uint32_t kiln_rt_sxtab16_ror8(uint32_t acc, uint32_t x) {
  return kiln_rt_pack16(kiln_rt_lo16(acc) + kiln_rt_byte(x, 1),
                        kiln_rt_hi16(acc) + kiln_rt_byte(x, 3));
}

KILN_RT_INLINE int32_t kiln_rt_smlad(uint32_t a, uint32_t b, int32_t acc) {
  const uint32_t sum = (uint32_t)acc +
                       (uint32_t)(kiln_rt_lo16(a) * kiln_rt_lo16(b)) +
                       (uint32_t)(kiln_rt_hi16(a) * kiln_rt_hi16(b));
  return (int32_t)sum;
}

KILN_RT_INLINE int32_t kiln_rt_smlabb(uint32_t a, uint32_t b, int32_t acc) {
  return (int32_t)((uint32_t)acc +
                   (uint32_t)(kiln_rt_lo16(a) * kiln_rt_lo16(b)));
}

KILN_RT_INLINE int32_t kiln_rt_smlatb(uint32_t a, uint32_t b, int32_t acc) {
  return (int32_t)((uint32_t)acc +
                   (uint32_t)(kiln_rt_hi16(a) * kiln_rt_lo16(b)));
}

#endif /* KILN_RT_DSP_NATIVE */

/*===----------------------------------------------------------------------===
 * Dot-product cores shared by convolution and fully connected
 *===----------------------------------------------------------------------===*/

/** Adds to acc[0..3] the dot products of two input runs |x0|, |x1| (int8,
 * each value plus |offset|) with two weight runs |w0|, |w1|, all of length
 * |n|: acc[0] += x0.w0, acc[1] += x0.w1, acc[2] += x1.w0, acc[3] += x1.w1.
 * The 2x2 blocking loads each value once for two products. */
KILN_RT_INLINE void kiln_rt_dot_2x2(const int8_t *x0, const int8_t *x1,
                                    const int8_t *w0, const int8_t *w1,
                                    int32_t n, int32_t offset, int32_t *acc) {
  int32_t a00 = acc[0], a01 = acc[1], a10 = acc[2], a11 = acc[3];
  int32_t i = 0;
#if KILN_RT_DSP
  /* Four values per step: SXTB16 splits a word of int8 into the int16 pairs
   * (b0, b2) and (b1, b3); the inputs get the offset added on the way
   * (SXTAB16) and one SMLAD does two multiply-accumulates. */
  const uint32_t offset2 = kiln_rt_pack16(offset, offset);
  for (; i + 4 <= n; i += 4) {
    const uint32_t wa = kiln_rt_read4(w0 + i);
    const uint32_t wb = kiln_rt_read4(w1 + i);
    const uint32_t wa_even = kiln_rt_sxtb16(wa);
    const uint32_t wa_odd = kiln_rt_sxtb16_ror8(wa);
    const uint32_t wb_even = kiln_rt_sxtb16(wb);
    const uint32_t wb_odd = kiln_rt_sxtb16_ror8(wb);
    uint32_t x = kiln_rt_read4(x0 + i);
    uint32_t x_even = kiln_rt_sxtab16(offset2, x);
    uint32_t x_odd = kiln_rt_sxtab16_ror8(offset2, x);
    a00 = kiln_rt_smlad(x_even, wa_even, a00);
    a00 = kiln_rt_smlad(x_odd, wa_odd, a00);
    a01 = kiln_rt_smlad(x_even, wb_even, a01);
    a01 = kiln_rt_smlad(x_odd, wb_odd, a01);
    x = kiln_rt_read4(x1 + i);
    x_even = kiln_rt_sxtab16(offset2, x);
    x_odd = kiln_rt_sxtab16_ror8(offset2, x);
    a10 = kiln_rt_smlad(x_even, wa_even, a10);
    a10 = kiln_rt_smlad(x_odd, wa_odd, a10);
    a11 = kiln_rt_smlad(x_even, wb_even, a11);
    a11 = kiln_rt_smlad(x_odd, wb_odd, a11);
  }
#endif
  for (; i < n; ++i) {
    const int32_t xa = x0[i] + offset;
    const int32_t xb = x1[i] + offset;
    const int32_t wa = w0[i];
    const int32_t wb = w1[i];
    a00 += xa * wa;
    a01 += xa * wb;
    a10 += xb * wa;
    a11 += xb * wb;
  }
  acc[0] = a00;
  acc[1] = a01;
  acc[2] = a10;
  acc[3] = a11;
}

/** As kiln_rt_dot_2x2 without the input offset: adds raw int8 products
 * (callers fold offset * sum(w) into the accumulators' start values), which
 * frees the offset's register and its per-word add in the hot loop. Defined
 * out of line in dot.c: on its own, the DSP loop (eight taps per iteration)
 * gets all registers and does not spill. */
void kiln_rt_dot_2x2_raw(const int8_t *x0, const int8_t *x1, const int8_t *w0,
                         const int8_t *w1, int32_t n, int32_t *acc);

/** Returns the sum of the |n| int8 values at |w|. */
KILN_RT_INLINE int32_t kiln_rt_sum_s8(const int8_t *w, int32_t n) {
  int32_t sum = 0, i;
  for (i = 0; i < n; ++i)
    sum += w[i];
  return sum;
}

/** Adds to acc[0..1] the dot products of one input run |x| (plus |offset|)
 * with two weight runs |w0|, |w1| of length |n|. */
KILN_RT_INLINE void kiln_rt_dot_1x2(const int8_t *x, const int8_t *w0,
                                    const int8_t *w1, int32_t n, int32_t offset,
                                    int32_t *acc) {
  int32_t a0 = acc[0], a1 = acc[1];
  int32_t i = 0;
#if KILN_RT_DSP
  const uint32_t offset2 = kiln_rt_pack16(offset, offset);
  for (; i + 4 <= n; i += 4) {
    const uint32_t xw = kiln_rt_read4(x + i);
    const uint32_t x_even = kiln_rt_sxtab16(offset2, xw);
    const uint32_t x_odd = kiln_rt_sxtab16_ror8(offset2, xw);
    const uint32_t wa = kiln_rt_read4(w0 + i);
    const uint32_t wb = kiln_rt_read4(w1 + i);
    a0 = kiln_rt_smlad(x_even, kiln_rt_sxtb16(wa), a0);
    a0 = kiln_rt_smlad(x_odd, kiln_rt_sxtb16_ror8(wa), a0);
    a1 = kiln_rt_smlad(x_even, kiln_rt_sxtb16(wb), a1);
    a1 = kiln_rt_smlad(x_odd, kiln_rt_sxtb16_ror8(wb), a1);
  }
#endif
  for (; i < n; ++i) {
    const int32_t xv = x[i] + offset;
    a0 += xv * w0[i];
    a1 += xv * w1[i];
  }
  acc[0] = a0;
  acc[1] = a1;
}

#endif /* KILN_RUNTIME_C_SRC_KILN_RT_INTERNAL_H */
