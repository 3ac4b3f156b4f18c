/*===- fc.c - int8 fully connected kernel -----------------------*- C -*-===//
 * SPDX-License-Identifier: Apache-2.0
 *
 * Fully connected layer: out[b][o] = requant(bias[o] + sum_i w[o][i] *
 * (in[b][i] - input_zp)). Output-feature pairs outermost; two batch rows
 * at a time (kiln_rt_dot_2x2_raw, the zero point folded into the start value
 * through the weight sums) when the batch allows, else one row with the
 * offset added per value (kiln_rt_dot_1x2). The DSP build does four inputs
 * per SMLAD pair.
 *===----------------------------------------------------------------------===*/

#include "kiln_rt_internal.h"

KILN_RT_HOT kiln_rt_status_t kiln_fully_connected_s8(
    const kiln_fc_params_t *p, const kiln_requant_t *rq, const int8_t *input,
    const int8_t *weights, const int32_t *bias, int8_t *output) {
  int32_t b, o, batch, per_channel;
  int32_t in_n, out_n, offset;
  kiln_rt_out_stage_t st;
  if (p == NULL || p->batch <= 0 || p->in_features <= 0 ||
      p->out_features <= 0 || !kiln_rt_valid_zp(p->input_zp) ||
      !kiln_rt_valid_zp(p->output_zp) ||
      !kiln_rt_valid_act(p->act_min, p->act_max) ||
      !kiln_rt_valid_requant(rq, p->out_features) || input == NULL ||
      weights == NULL || output == NULL)
    return KILN_RT_INVALID_ARGUMENT;
  in_n = p->in_features;
  out_n = p->out_features;
  offset = -p->input_zp;
  st = kiln_rt_make_out_stage(p->output_zp, p->act_min, p->act_max);
  per_channel = rq->per_channel;
  batch = p->batch;
  for (o = 0; o < out_n; o += 2) {
    /* An odd last feature is computed twice and stored once. */
    const int32_t o1 = o + 1 < out_n ? o + 1 : o;
    const int8_t *w0 = weights + o * in_n;
    const int8_t *w1 = weights + o1 * in_n;
    const int32_t m0 = rq->multiplier[per_channel ? o : 0];
    const int32_t s0 = rq->shift[per_channel ? o : 0];
    const int32_t m1 = rq->multiplier[per_channel ? o1 : 0];
    const int32_t s1 = rq->shift[per_channel ? o1 : 0];
    const int32_t b0 = bias ? bias[o] : 0;
    const int32_t b1 = bias ? bias[o1] : 0;
    /* Batch pairs start from bias + offset * sum(w) and add raw products. */
    const int32_t start0 =
        batch > 1 ? b0 + offset * kiln_rt_sum_s8(w0, in_n) : b0;
    const int32_t start1 =
        batch > 1 ? b1 + offset * kiln_rt_sum_s8(w1, in_n) : b1;
    for (b = 0; b < batch; b += 2) {
      const int8_t *x0 = input + b * in_n;
      int8_t *out = output + b * out_n;
      int32_t acc[4];
      if (b + 1 < batch) {
        acc[0] = acc[2] = start0;
        acc[1] = acc[3] = start1;
        kiln_rt_dot_2x2_raw(x0, x0 + in_n, w0, w1, in_n, acc);
        out[out_n + o] =
            kiln_rt_requant_out(acc[2], m0, s0, st.zp, st.lo_zp, st.hi_zp);
        if (o1 != o)
          out[out_n + o1] =
              kiln_rt_requant_out(acc[3], m1, s1, st.zp, st.lo_zp, st.hi_zp);
      } else {
        acc[0] = b0;
        acc[1] = b1;
        kiln_rt_dot_1x2(x0, w0, w1, in_n, offset, acc);
      }
      out[o] = kiln_rt_requant_out(acc[0], m0, s0, st.zp, st.lo_zp, st.hi_zp);
      if (o1 != o)
        out[o1] =
            kiln_rt_requant_out(acc[1], m1, s1, st.zp, st.lo_zp, st.hi_zp);
    }
  }
  return KILN_RT_OK;
}
