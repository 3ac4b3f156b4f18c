/*===- elementwise.c - int8 add, mul, requantize and clamp ------*- C -*-===//
 * SPDX-License-Identifier: Apache-2.0
 *
 * TFLite's int8 Add and Mul (same-shape and broadcasting forms), int8 ->
 * int8 requantization and the ReLU/ReLU6 clamp. The same-shape kernels read
 * element i before writing it, so they may run in place.
 *===----------------------------------------------------------------------===*/

#include "kiln_rt_internal.h"

/** Returns 1 when the add parameters are usable. */
static int add_ok(const kiln_add_params_t *p) {
  return p != NULL && kiln_rt_valid_zp(p->input1_zp) &&
         kiln_rt_valid_zp(p->input2_zp) && kiln_rt_valid_zp(p->output_zp) &&
         p->left_shift >= 0 && p->left_shift <= 23 &&
         kiln_rt_valid_multiplier(p->input1_multiplier, p->input1_shift) &&
         kiln_rt_valid_multiplier(p->input2_multiplier, p->input2_shift) &&
         kiln_rt_valid_multiplier(p->output_multiplier, p->output_shift) &&
         kiln_rt_valid_act(p->act_min, p->act_max);
}

/** Returns TFLite's int8 Add of one pair of values. */
KILN_RT_INLINE int8_t add_one(const kiln_add_params_t *p, int32_t a,
                              int32_t b) {
  /* |x - zp| <= 255 and left_shift <= 23: the shifts cannot overflow. */
  const int32_t shifted1 = (a - p->input1_zp) * (1 << p->left_shift);
  const int32_t shifted2 = (b - p->input2_zp) * (1 << p->left_shift);
  const int32_t scaled1 =
      kiln_rt_mbqm(shifted1, p->input1_multiplier, p->input1_shift);
  const int32_t scaled2 =
      kiln_rt_mbqm(shifted2, p->input2_multiplier, p->input2_shift);
  return kiln_rt_requant_out(
      scaled1 + scaled2, p->output_multiplier, p->output_shift, p->output_zp,
      p->act_min - p->output_zp, p->act_max - p->output_zp);
}

/** Returns 1 when the mul parameters are usable. */
static int mul_ok(const kiln_mul_params_t *p) {
  return p != NULL && kiln_rt_valid_zp(p->input1_zp) &&
         kiln_rt_valid_zp(p->input2_zp) && kiln_rt_valid_zp(p->output_zp) &&
         kiln_rt_valid_multiplier(p->output_multiplier, p->output_shift) &&
         kiln_rt_valid_act(p->act_min, p->act_max);
}

/** Returns TFLite's int8 Mul of one pair of values. */
KILN_RT_INLINE int8_t mul_one(const kiln_mul_params_t *p, int32_t a,
                              int32_t b) {
  return kiln_rt_requant_out((a - p->input1_zp) * (b - p->input2_zp),
                             p->output_multiplier, p->output_shift,
                             p->output_zp, p->act_min - p->output_zp,
                             p->act_max - p->output_zp);
}

/** Returns 1 when |s| is a valid broadcast iteration space. */
static int broadcast_ok(const kiln_broadcast_t *s) {
  int32_t d;
  if (s == NULL || s->rank < 0 || s->rank > KILN_RT_MAX_RANK)
    return 0;
  for (d = 0; d < s->rank; ++d)
    if (s->dims[d] < 0 || s->strides1[d] < 0 || s->strides2[d] < 0)
      return 0;
  return 1;
}

/** Applies add (|op| 0) or mul (|op| 1) with |params| over the broadcast
 * iteration space |s|, walking it with an odometer of per-input offsets. */
static void broadcast_apply(const kiln_broadcast_t *s, int op,
                            const void *params, const int8_t *input1,
                            const int8_t *input2, int8_t *output) {
  int32_t index[KILN_RT_MAX_RANK];
  int32_t count = 1, d, i;
  int32_t off1 = 0, off2 = 0;
  for (d = 0; d < s->rank; ++d) {
    index[d] = 0;
    count *= s->dims[d];
  }
  for (i = 0; i < count; ++i) {
    output[i] = op == 0 ? add_one((const kiln_add_params_t *)params,
                                  input1[off1], input2[off2])
                        : mul_one((const kiln_mul_params_t *)params,
                                  input1[off1], input2[off2]);
    for (d = s->rank - 1; d >= 0; --d) {
      off1 += s->strides1[d];
      off2 += s->strides2[d];
      if (++index[d] < s->dims[d])
        break;
      off1 -= s->strides1[d] * s->dims[d];
      off2 -= s->strides2[d] * s->dims[d];
      index[d] = 0;
    }
  }
}

kiln_rt_status_t kiln_add_s8(const kiln_add_params_t *p, const int8_t *input1,
                             const int8_t *input2, int8_t *output,
                             int32_t count) {
  int32_t i;
  if (!add_ok(p) || count < 0 || input1 == NULL || input2 == NULL ||
      output == NULL)
    return KILN_RT_INVALID_ARGUMENT;
  for (i = 0; i < count; ++i)
    output[i] = add_one(p, input1[i], input2[i]);
  return KILN_RT_OK;
}

kiln_rt_status_t kiln_add_broadcast_s8(const kiln_add_params_t *p,
                                       const kiln_broadcast_t *shape,
                                       const int8_t *input1,
                                       const int8_t *input2, int8_t *output) {
  if (!add_ok(p) || !broadcast_ok(shape) || input1 == NULL || input2 == NULL ||
      output == NULL)
    return KILN_RT_INVALID_ARGUMENT;
  broadcast_apply(shape, 0, p, input1, input2, output);
  return KILN_RT_OK;
}

kiln_rt_status_t kiln_mul_s8(const kiln_mul_params_t *p, const int8_t *input1,
                             const int8_t *input2, int8_t *output,
                             int32_t count) {
  int32_t i;
  if (!mul_ok(p) || count < 0 || input1 == NULL || input2 == NULL ||
      output == NULL)
    return KILN_RT_INVALID_ARGUMENT;
  for (i = 0; i < count; ++i)
    output[i] = mul_one(p, input1[i], input2[i]);
  return KILN_RT_OK;
}

kiln_rt_status_t kiln_mul_broadcast_s8(const kiln_mul_params_t *p,
                                       const kiln_broadcast_t *shape,
                                       const int8_t *input1,
                                       const int8_t *input2, int8_t *output) {
  if (!mul_ok(p) || !broadcast_ok(shape) || input1 == NULL || input2 == NULL ||
      output == NULL)
    return KILN_RT_INVALID_ARGUMENT;
  broadcast_apply(shape, 1, p, input1, input2, output);
  return KILN_RT_OK;
}

kiln_rt_status_t kiln_requantize_s8(const kiln_requantize_params_t *p,
                                    const int8_t *input, int8_t *output,
                                    int32_t count) {
  int32_t i;
  if (p == NULL || input == NULL || output == NULL || count < 0 ||
      !kiln_rt_valid_zp(p->input_zp) || !kiln_rt_valid_zp(p->output_zp) ||
      !kiln_rt_valid_multiplier(p->multiplier, p->shift) ||
      !kiln_rt_valid_act(p->act_min, p->act_max))
    return KILN_RT_INVALID_ARGUMENT;
  for (i = 0; i < count; ++i)
    output[i] = kiln_rt_requant_out(
        input[i] - p->input_zp, p->multiplier, p->shift, p->output_zp,
        p->act_min - p->output_zp, p->act_max - p->output_zp);
  return KILN_RT_OK;
}

kiln_rt_status_t kiln_clamp_s8(const int8_t *input, int8_t *output,
                               int32_t count, int32_t act_min,
                               int32_t act_max) {
  int32_t i;
  if (input == NULL || output == NULL || count < 0 ||
      !kiln_rt_valid_act(act_min, act_max))
    return KILN_RT_INVALID_ARGUMENT;
  for (i = 0; i < count; ++i) {
    const int32_t x = input[i];
    output[i] = (int8_t)(x < act_min ? act_min : x > act_max ? act_max : x);
  }
  return KILN_RT_OK;
}
