/*===- quantize.c - float <-> int8 at the model boundary --------*- C -*-===//
 * SPDX-License-Identifier: Apache-2.0
 *
 * The only floating-point code of the runtime: quantization of float inputs
 * and dequantization of int8 outputs, matching kiln::ref::quantize /
 * dequantize bit for bit (float32 division and multiplication, round half
 * away from zero without libm).
 *===----------------------------------------------------------------------===*/

#include "kiln_rt_internal.h"

/** Returns round_half_away_from_zero(|t|) for |t| in [-1024, 1024]: the
 * truncation and the fraction t - trunc(t) are exact in float32 there. */
static int32_t round_half_away(float t) {
  const int32_t whole = (int32_t)t; /* truncates towards zero */
  const float frac = t - (float)whole;
  if (frac >= 0.5f)
    return whole + 1;
  if (frac <= -0.5f)
    return whole - 1;
  return whole;
}

kiln_rt_status_t kiln_quantize_f32_s8(const float *input, int8_t *output,
                                      int32_t count, float scale,
                                      int32_t zero_point) {
  int32_t i;
  if (input == NULL || output == NULL || count < 0 ||
      !kiln_rt_valid_zp(zero_point))
    return KILN_RT_INVALID_ARGUMENT;
  for (i = 0; i < count; ++i) {
    const float t = input[i] / scale;
    int32_t q;
    if (t != t) /* NaN */
      q = zero_point;
    else if (t > 1024.0f)
      q = 127;
    else if (t < -1024.0f)
      q = -128;
    else
      q = round_half_away(t) + zero_point;
    output[i] = (int8_t)(q < -128 ? -128 : q > 127 ? 127 : q);
  }
  return KILN_RT_OK;
}

kiln_rt_status_t kiln_dequantize_s8_f32(const int8_t *input, float *output,
                                        int32_t count, float scale,
                                        int32_t zero_point) {
  int32_t i;
  if (input == NULL || output == NULL || count < 0)
    return KILN_RT_INVALID_ARGUMENT;
  for (i = 0; i < count; ++i)
    output[i] = scale * (float)(input[i] - zero_point);
  return KILN_RT_OK;
}
