/*===- dot.c - Out-of-line dot-product core ---------------------*- C -*-===//
 * SPDX-License-Identifier: Apache-2.0
 *
 * kiln_rt_dot_2x2_raw: the 2x2 (two input runs by two weight runs) dot
 * product of raw int8 values used by convolution and fully connected. It is
 * out of line so that the compiler allocates registers for this loop alone:
 * the DSP loop keeps 4 accumulators, 4 pointers, an end pointer and 6
 * unpacked int16 pairs live, one more than Thumb-2's 14 registers, and inside
 * a larger function it spilled two pointers per iteration. Compiled alone
 * (with KILN_RT_HOT) it reloads only the end pointer: 23 instructions per 16
 * multiply-accumulates on Cortex-M4.
 *===----------------------------------------------------------------------===*/

#include "kiln_rt_internal.h"

#if KILN_RT_DSP
/** One step of four taps: adds x0.wa, x0.wb, x1.wa, x1.wb over the words at
 * offset |k| of the four runs. */
#define KILN_RT_DOT_STEP(k)                                                    \
  do {                                                                         \
    const uint32_t wa = kiln_rt_read4(w0 + (k));                               \
    const uint32_t wb = kiln_rt_read4(w1 + (k));                               \
    const uint32_t wa_even = kiln_rt_sxtb16(wa);                               \
    const uint32_t wa_odd = kiln_rt_sxtb16_ror8(wa);                           \
    const uint32_t wb_even = kiln_rt_sxtb16(wb);                               \
    const uint32_t wb_odd = kiln_rt_sxtb16_ror8(wb);                           \
    uint32_t x = kiln_rt_read4(x0 + (k));                                      \
    uint32_t x_even = kiln_rt_sxtb16(x);                                       \
    uint32_t x_odd = kiln_rt_sxtb16_ror8(x);                                   \
    a00 = kiln_rt_smlad(x_even, wa_even, a00);                                 \
    a00 = kiln_rt_smlad(x_odd, wa_odd, a00);                                   \
    a01 = kiln_rt_smlad(x_even, wb_even, a01);                                 \
    a01 = kiln_rt_smlad(x_odd, wb_odd, a01);                                   \
    x = kiln_rt_read4(x1 + (k));                                               \
    x_even = kiln_rt_sxtb16(x);                                                \
    x_odd = kiln_rt_sxtb16_ror8(x);                                            \
    a10 = kiln_rt_smlad(x_even, wa_even, a10);                                 \
    a10 = kiln_rt_smlad(x_odd, wa_odd, a10);                                   \
    a11 = kiln_rt_smlad(x_even, wb_even, a11);                                 \
    a11 = kiln_rt_smlad(x_odd, wb_odd, a11);                                   \
  } while (0)
#endif

KILN_RT_HOT void kiln_rt_dot_2x2_raw(const int8_t *x0, const int8_t *x1,
                                     const int8_t *w0, const int8_t *w1,
                                     int32_t n, int32_t *acc) {
  int32_t a00 = acc[0], a01 = acc[1], a10 = acc[2], a11 = acc[3];
#if KILN_RT_DSP
  const int8_t *x0_end = x0 + (n & ~3);
  while (x0 != x0_end) {
    KILN_RT_DOT_STEP(0);
    x0 += 4;
    x1 += 4;
    w0 += 4;
    w1 += 4;
  }
  n &= 3;
#endif
  while (n-- > 0) {
    const int32_t xa = *x0++;
    const int32_t xb = *x1++;
    const int32_t wa = *w0++;
    const int32_t wb = *w1++;
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
