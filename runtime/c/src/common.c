/*===- common.c - Fixed point and parameter checks of the runtime -*- C -*-===//
 * SPDX-License-Identifier: Apache-2.0
 *
 * The public fixed-point entry point, the compiled path's name, and the
 * parameter checks shared by the convolution kernels.
 *===----------------------------------------------------------------------===*/

#include "kiln_rt_internal.h"

const char *kiln_rt_path(void) { return KILN_RT_DSP ? "dsp" : "portable"; }

int32_t kiln_multiply_by_quantized_multiplier(int32_t x, int32_t multiplier,
                                              int32_t shift) {
  /* Out-of-contract shifts are clamped rather than left undefined. */
  shift = shift < -31 ? -31 : shift > 30 ? 30 : shift;
  /* The doubling high multiply saturates only for INT32_MIN * INT32_MIN,
   * which needs a negative multiplier; kernels reject those, but keep this
   * entry point exact for any multiplier. */
  if (multiplier == INT32_MIN &&
      kiln_rt_shl_sat(x, shift > 0 ? shift : 0) == INT32_MIN)
    return kiln_rt_rdbpot(INT32_MAX, shift > 0 ? 0 : -shift);
  return kiln_rt_mbqm(x, multiplier, shift);
}

int kiln_rt_valid_requant(const kiln_requant_t *rq, int32_t channels) {
  int32_t count, c;
  if (rq == NULL || rq->multiplier == NULL || rq->shift == NULL)
    return 0;
  count = rq->per_channel ? channels : 1;
  for (c = 0; c < count; ++c)
    if (!kiln_rt_valid_multiplier(rq->multiplier[c], rq->shift[c]))
      return 0;
  return 1;
}

/** Returns the convolution output size of one dim, or -1 when the dilated
 * kernel does not fit. */
static int32_t conv_out_size(int32_t size, int32_t before, int32_t after,
                             int32_t kernel, int32_t stride, int32_t dilation) {
  const int32_t span = size + before + after - dilation * (kernel - 1) - 1;
  if (span < 0)
    return -1;
  return span / stride + 1;
}

int kiln_rt_valid_conv(const kiln_conv_params_t *p) {
  if (p == NULL)
    return 0;
  if (p->batch <= 0 || p->in_h <= 0 || p->in_w <= 0 || p->in_c <= 0 ||
      p->out_h <= 0 || p->out_w <= 0 || p->out_c <= 0 || p->kernel_h <= 0 ||
      p->kernel_w <= 0 || p->stride_h <= 0 || p->stride_w <= 0 ||
      p->dilation_h <= 0 || p->dilation_w <= 0 || p->groups <= 0)
    return 0;
  if (p->pad_top < 0 || p->pad_left < 0 || p->pad_bottom < 0 ||
      p->pad_right < 0)
    return 0;
  if (p->in_c % p->groups != 0 || p->out_c % p->groups != 0)
    return 0;
  if (conv_out_size(p->in_h, p->pad_top, p->pad_bottom, p->kernel_h,
                    p->stride_h, p->dilation_h) != p->out_h ||
      conv_out_size(p->in_w, p->pad_left, p->pad_right, p->kernel_w,
                    p->stride_w, p->dilation_w) != p->out_w)
    return 0;
  return kiln_rt_valid_zp(p->input_zp) && kiln_rt_valid_zp(p->output_zp) &&
         kiln_rt_valid_act(p->act_min, p->act_max);
}
