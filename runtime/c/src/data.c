/*===- data.c - int8 concat and pad -----------------------------*- C -*-===//
 * SPDX-License-Identifier: Apache-2.0
 *
 * Data movement: concatenation with per-input requantization (a plain copy
 * when an input already has the output's quantization) and constant
 * padding of tensors of rank up to KILN_RT_MAX_RANK.
 *===----------------------------------------------------------------------===*/

#include "kiln_rt_internal.h"

kiln_rt_status_t kiln_concat_s8(const kiln_concat_input_t *inputs,
                                int32_t num_inputs, int32_t outer,
                                int32_t output_zp, int8_t *output) {
  int32_t i, o, j;
  if (inputs == NULL || num_inputs <= 0 || outer < 0 || output == NULL ||
      !kiln_rt_valid_zp(output_zp))
    return KILN_RT_INVALID_ARGUMENT;
  for (i = 0; i < num_inputs; ++i)
    if ((inputs[i].data == NULL && inputs[i].block != 0) ||
        inputs[i].block < 0 || !kiln_rt_valid_zp(inputs[i].zero_point) ||
        !kiln_rt_valid_multiplier(inputs[i].multiplier, inputs[i].shift))
      return KILN_RT_INVALID_ARGUMENT;
  for (o = 0; o < outer; ++o) {
    for (i = 0; i < num_inputs; ++i) {
      const kiln_concat_input_t *in = &inputs[i];
      const int8_t *src;
      if (in->block == 0)
        continue; /* An input of size 0 along the axis (data may be NULL). */
      src = in->data + o * in->block;
      /* {2^30, 1} is exactly 1.0: with equal zero points the requantization
       * is the identity, so copy. */
      if (in->multiplier == (1 << 30) && in->shift == 1 &&
          in->zero_point == output_zp) {
        memcpy(output, src, (size_t)in->block);
      } else {
        for (j = 0; j < in->block; ++j)
          output[j] = kiln_rt_requant_out(src[j] - in->zero_point,
                                          in->multiplier, in->shift, output_zp,
                                          -128 - output_zp, 127 - output_zp);
      }
      output += in->block;
    }
  }
  return KILN_RT_OK;
}

kiln_rt_status_t kiln_pad_s8(const kiln_pad_params_t *p, const int8_t *input,
                             int8_t *output) {
  int32_t out_dims[KILN_RT_MAX_RANK];
  int32_t index[KILN_RT_MAX_RANK];
  int32_t rank, d, rows = 1, r, last_in, last_before, last_after;
  if (p == NULL || input == NULL || output == NULL || p->rank < 0 ||
      p->rank > KILN_RT_MAX_RANK)
    return KILN_RT_INVALID_ARGUMENT;
  rank = p->rank;
  for (d = 0; d < rank; ++d) {
    if (p->dims[d] < 0 || p->before[d] < 0 || p->after[d] < 0)
      return KILN_RT_INVALID_ARGUMENT;
    out_dims[d] = p->before[d] + p->dims[d] + p->after[d];
    index[d] = 0;
  }
  if (rank == 0) {
    output[0] = input[0];
    return KILN_RT_OK;
  }
  /* Walk the output row by row (the last dim is one row): a row whose outer
   * index falls in the padding is all |value|; otherwise it is the input
   * row framed by the last dim's pads. */
  for (d = 0; d + 1 < rank; ++d)
    rows *= out_dims[d];
  last_in = p->dims[rank - 1];
  last_before = p->before[rank - 1];
  last_after = p->after[rank - 1];
  for (r = 0; r < rows; ++r) {
    int inside = 1;
    int32_t source = 0;
    for (d = 0; d + 1 < rank; ++d) {
      const int32_t i = index[d] - p->before[d];
      inside = inside && i >= 0 && i < p->dims[d];
      source = source * p->dims[d] + i;
    }
    if (inside && last_in > 0) {
      memset(output, p->value, (size_t)last_before);
      memcpy(output + last_before, input + source * last_in, (size_t)last_in);
      memset(output + last_before + last_in, p->value, (size_t)last_after);
    } else {
      memset(output, p->value, (size_t)out_dims[rank - 1]);
    }
    output += out_dims[rank - 1];
    for (d = rank - 2; d >= 0; --d) {
      if (++index[d] < out_dims[d])
        break;
      index[d] = 0;
    }
  }
  return KILN_RT_OK;
}
