/*===- dwconv.c - int8 depthwise convolution kernels ------------*- C -*-===//
 * SPDX-License-Identifier: Apache-2.0
 *
 * Depthwise convolution (groups == in_c, out_c == in_c * multiplier) on NHWC
 * activations with weights [out_c][kernel_h][kernel_w]:
 *  - generic: plain loops, any parameters, no scratch;
 *  - plane kernels (3x3 fast path and in-place): channel by channel, copy
 *    the input plane of channel c into |scratch| with the padding filled by
 *    the input zero point, then compute every output of the channel from
 *    that contiguous plane with no bounds checks. Because padded taps hold
 *    the zero point, sum w * (x - zp) = sum w * x - zp * sum w, so the zero
 *    point folds into the accumulator's start value. The DSP 3x3 core reads
 *    one word per kernel row: SXTB16 gives taps (0, 2), SXTB16 ROR 8 gives
 *    (1, 3); stride 1 computes two outputs per word.
 *  - in place: output channel c overwrites the slots of input channel c
 *    once that channel is in the scratch plane (see kiln_rt.h).
 *===----------------------------------------------------------------------===*/

#include "kiln_rt_internal.h"

#define KILN_RT_RQ_INDEX(rq, o) ((rq)->per_channel ? (o) : 0)

/** Returns 1 when |p| is a valid depthwise convolution with valid buffers. */
static int dw_ok(const kiln_conv_params_t *p, const kiln_requant_t *rq,
                 const void *input, const void *weights, const void *output) {
  return kiln_rt_valid_conv(p) && p->groups == p->in_c &&
         kiln_rt_valid_requant(rq, p->out_c) && input != NULL &&
         weights != NULL && output != NULL;
}

kiln_rt_status_t kiln_dwconv2d_generic_s8(const kiln_conv_params_t *p,
                                          const kiln_requant_t *rq,
                                          const int8_t *input,
                                          const int8_t *weights,
                                          const int32_t *bias, int8_t *output) {
  int32_t n, oy, ox, o;
  int32_t mult;
  kiln_rt_out_stage_t st;
  if (!dw_ok(p, rq, input, weights, output))
    return KILN_RT_INVALID_ARGUMENT;
  mult = p->out_c / p->in_c;
  st = kiln_rt_make_out_stage(p->output_zp, p->act_min, p->act_max);
  for (n = 0; n < p->batch; ++n) {
    for (oy = 0; oy < p->out_h; ++oy) {
      for (ox = 0; ox < p->out_w; ++ox) {
        int8_t *out = output + ((n * p->out_h + oy) * p->out_w + ox) * p->out_c;
        for (o = 0; o < p->out_c; ++o) {
          const int32_t c = o / mult;
          const int8_t *w = weights + o * p->kernel_h * p->kernel_w;
          int32_t acc = bias ? bias[o] : 0;
          int32_t ky, kx;
          for (ky = 0; ky < p->kernel_h; ++ky) {
            const int32_t iy =
                oy * p->stride_h - p->pad_top + ky * p->dilation_h;
            if (iy < 0 || iy >= p->in_h)
              continue;
            for (kx = 0; kx < p->kernel_w; ++kx) {
              const int32_t ix =
                  ox * p->stride_w - p->pad_left + kx * p->dilation_w;
              if (ix < 0 || ix >= p->in_w)
                continue;
              acc += (input[((n * p->in_h + iy) * p->in_w + ix) * p->in_c + c] -
                      p->input_zp) *
                     w[ky * p->kernel_w + kx];
            }
          }
          out[o] = kiln_rt_requant_out(
              acc, rq->multiplier[KILN_RT_RQ_INDEX(rq, o)],
              rq->shift[KILN_RT_RQ_INDEX(rq, o)], st.zp, st.lo_zp, st.hi_zp);
        }
      }
    }
  }
  return KILN_RT_OK;
}

/** Returns the bytes of one padded channel plane plus 4 bytes of slack for
 * word reads, rounded up to a multiple of 4. */
static size_t plane_bytes(const kiln_conv_params_t *p) {
  const size_t rows = (size_t)(p->in_h + p->pad_top + p->pad_bottom);
  const size_t cols = (size_t)(p->in_w + p->pad_left + p->pad_right);
  return (rows * cols + 4u + 3u) & ~(size_t)3u;
}

/** Copies channel |c| of batch image |in_n| into |plane| (padded_w wide),
 * filling the padding with the zero point. */
static void gather_plane(const kiln_conv_params_t *p, const int8_t *in_n,
                         int32_t c, int8_t *plane) {
  /* Locals: the int8 stores below may alias *p. */
  const int32_t in_h = p->in_h, in_w = p->in_w, in_c = p->in_c;
  const int32_t pad_top = p->pad_top, pad_left = p->pad_left;
  const int32_t pad_right = p->pad_right;
  const int32_t padded_w = in_w + pad_left + pad_right;
  const int32_t padded_h = in_h + pad_top + p->pad_bottom;
  const int8_t zp = (int8_t)p->input_zp;
  int32_t y, x;
  memset(plane, zp, (size_t)(pad_top * padded_w));
  for (y = 0; y < in_h; ++y) {
    int8_t *row = plane + (y + pad_top) * padded_w;
    const int8_t *src = in_n + y * in_w * in_c + c;
    for (x = 0; x < pad_left; ++x)
      *row++ = zp;
    for (x = 0; x < in_w; ++x) {
      *row++ = *src;
      src += in_c;
    }
    for (x = 0; x < pad_right; ++x)
      *row++ = zp;
  }
  memset(plane + (pad_top + in_h) * padded_w, zp,
         (size_t)((padded_h - pad_top - in_h) * padded_w));
}

/** Computes output channel |o| of one image from its padded |plane| with a
 * 3x3 kernel |w|, storing every out_c-th byte of |out_n| from offset |o|. */
KILN_RT_HOT static void plane_3x3(const kiln_conv_params_t *p,
                                  const int8_t *plane, const int8_t *w,
                                  int32_t acc0, int32_t multiplier,
                                  int32_t shift, int8_t *out_n, int32_t o) {
  const int32_t padded_w = p->in_w + p->pad_left + p->pad_right;
  const int32_t zp = p->output_zp;
  const int32_t lo = p->act_min - zp, hi = p->act_max - zp;
  const int32_t out_c = p->out_c, out_h = p->out_h, out_w = p->out_w;
  const int32_t stride_h = p->stride_h, stride_w = p->stride_w;
  int32_t oy;
#if KILN_RT_DSP
  /* Per kernel row r: (w[r][0], w[r][2]) as an int16 pair and w[r][1]. */
  const uint32_t k02_0 = kiln_rt_pack16(w[0], w[2]), k1_0 = (uint32_t)w[1];
  const uint32_t k02_1 = kiln_rt_pack16(w[3], w[5]), k1_1 = (uint32_t)w[4];
  const uint32_t k02_2 = kiln_rt_pack16(w[6], w[8]), k1_2 = (uint32_t)w[7];
#else
  const int32_t w0 = w[0], w1 = w[1], w2 = w[2], w3 = w[3], w4 = w[4];
  const int32_t w5 = w[5], w6 = w[6], w7 = w[7], w8 = w[8];
#endif
  for (oy = 0; oy < out_h; ++oy) {
    const int8_t *r0 = plane + oy * stride_h * padded_w;
    const int8_t *r1 = r0 + padded_w;
    const int8_t *r2 = r1 + padded_w;
    int8_t *out = out_n + oy * out_w * out_c + o;
    int32_t ox = 0;
#if KILN_RT_DSP
    if (stride_w == 1) {
      /* Two outputs per word: taps x0..x3 serve outputs ox and ox + 1. */
      for (; ox + 2 <= out_w; ox += 2) {
        int32_t a = acc0, b = acc0;
        uint32_t word = kiln_rt_read4(r0 + ox);
        uint32_t even = kiln_rt_sxtb16(word), odd = kiln_rt_sxtb16_ror8(word);
        a = kiln_rt_smlad(even, k02_0, a);
        a = kiln_rt_smlabb(odd, k1_0, a);
        b = kiln_rt_smlad(odd, k02_0, b);
        b = kiln_rt_smlatb(even, k1_0, b);
        word = kiln_rt_read4(r1 + ox);
        even = kiln_rt_sxtb16(word);
        odd = kiln_rt_sxtb16_ror8(word);
        a = kiln_rt_smlad(even, k02_1, a);
        a = kiln_rt_smlabb(odd, k1_1, a);
        b = kiln_rt_smlad(odd, k02_1, b);
        b = kiln_rt_smlatb(even, k1_1, b);
        word = kiln_rt_read4(r2 + ox);
        even = kiln_rt_sxtb16(word);
        odd = kiln_rt_sxtb16_ror8(word);
        a = kiln_rt_smlad(even, k02_2, a);
        a = kiln_rt_smlabb(odd, k1_2, a);
        b = kiln_rt_smlad(odd, k02_2, b);
        b = kiln_rt_smlatb(even, k1_2, b);
        out[0] = kiln_rt_requant_out(a, multiplier, shift, zp, lo, hi);
        out[out_c] = kiln_rt_requant_out(b, multiplier, shift, zp, lo, hi);
        out += 2 * out_c;
      }
    }
    for (; ox < out_w; ++ox) {
      const int32_t x = ox * stride_w;
      int32_t a = acc0;
      uint32_t word = kiln_rt_read4(r0 + x);
      a = kiln_rt_smlad(kiln_rt_sxtb16(word), k02_0, a);
      a = kiln_rt_smlabb(kiln_rt_sxtb16_ror8(word), k1_0, a);
      word = kiln_rt_read4(r1 + x);
      a = kiln_rt_smlad(kiln_rt_sxtb16(word), k02_1, a);
      a = kiln_rt_smlabb(kiln_rt_sxtb16_ror8(word), k1_1, a);
      word = kiln_rt_read4(r2 + x);
      a = kiln_rt_smlad(kiln_rt_sxtb16(word), k02_2, a);
      a = kiln_rt_smlabb(kiln_rt_sxtb16_ror8(word), k1_2, a);
      *out = kiln_rt_requant_out(a, multiplier, shift, zp, lo, hi);
      out += out_c;
    }
#else
    for (; ox < out_w; ++ox) {
      const int32_t x = ox * stride_w;
      const int32_t a = acc0 + r0[x] * w0 + r0[x + 1] * w1 + r0[x + 2] * w2 +
                        r1[x] * w3 + r1[x + 1] * w4 + r1[x + 2] * w5 +
                        r2[x] * w6 + r2[x + 1] * w7 + r2[x + 2] * w8;
      *out = kiln_rt_requant_out(a, multiplier, shift, zp, lo, hi);
      out += out_c;
    }
#endif
  }
}

/** Computes output channel |o| from its padded |plane| with any kernel size,
 * stride and dilation. */
static void plane_any(const kiln_conv_params_t *p, const int8_t *plane,
                      const int8_t *w, int32_t acc0, int32_t multiplier,
                      int32_t shift, int8_t *out_n, int32_t o) {
  const int32_t padded_w = p->in_w + p->pad_left + p->pad_right;
  const kiln_rt_out_stage_t st =
      kiln_rt_make_out_stage(p->output_zp, p->act_min, p->act_max);
  int32_t oy, ox, ky, kx;
  for (oy = 0; oy < p->out_h; ++oy) {
    int8_t *out = out_n + oy * p->out_w * p->out_c + o;
    for (ox = 0; ox < p->out_w; ++ox) {
      const int8_t *origin =
          plane + oy * p->stride_h * padded_w + ox * p->stride_w;
      int32_t acc = acc0;
      for (ky = 0; ky < p->kernel_h; ++ky) {
        const int8_t *row = origin + ky * p->dilation_h * padded_w;
        const int8_t *wr = w + ky * p->kernel_w;
        for (kx = 0; kx < p->kernel_w; ++kx)
          acc += row[kx * p->dilation_w] * wr[kx];
      }
      *out = kiln_rt_requant_out(acc, multiplier, shift, st.zp, st.lo_zp,
                                 st.hi_zp);
      out += p->out_c;
    }
  }
}

/** The plane kernel; parameters are valid. |input| may equal |output| when
 * the in-place contract holds. */
static void dw_planes(const kiln_conv_params_t *p, const kiln_requant_t *rq,
                      const int8_t *input, const int8_t *weights,
                      const int32_t *bias, int8_t *output, int8_t *plane) {
  const int32_t mult = p->out_c / p->in_c;
  const int32_t taps = p->kernel_h * p->kernel_w;
  const int fast = p->kernel_h == 3 && p->kernel_w == 3 && p->dilation_h == 1 &&
                   p->dilation_w == 1;
  int32_t n, c, j, t;
  for (n = 0; n < p->batch; ++n) {
    const int8_t *in_n = input + n * p->in_h * p->in_w * p->in_c;
    int8_t *out_n = output + n * p->out_h * p->out_w * p->out_c;
    for (c = 0; c < p->in_c; ++c) {
      gather_plane(p, in_n, c, plane);
      for (j = 0; j < mult; ++j) {
        const int32_t o = c * mult + j;
        const int8_t *w = weights + o * taps;
        const int32_t multiplier = rq->multiplier[KILN_RT_RQ_INDEX(rq, o)];
        const int32_t shift = rq->shift[KILN_RT_RQ_INDEX(rq, o)];
        int32_t weight_sum = 0, acc0;
        for (t = 0; t < taps; ++t)
          weight_sum += w[t];
        acc0 = (bias ? bias[o] : 0) - p->input_zp * weight_sum;
        if (fast)
          plane_3x3(p, plane, w, acc0, multiplier, shift, out_n, o);
        else
          plane_any(p, plane, w, acc0, multiplier, shift, out_n, o);
      }
    }
  }
}

size_t kiln_dwconv2d_3x3_s8_scratch_bytes(const kiln_conv_params_t *p) {
  return p ? plane_bytes(p) : 0;
}

size_t kiln_dwconv2d_inplace_s8_scratch_bytes(const kiln_conv_params_t *p) {
  return p ? plane_bytes(p) : 0;
}

kiln_rt_status_t
kiln_dwconv2d_3x3_s8(const kiln_conv_params_t *p, const kiln_requant_t *rq,
                     const int8_t *input, const int8_t *weights,
                     const int32_t *bias, int8_t *output, void *scratch) {
  if (!dw_ok(p, rq, input, weights, output) || scratch == NULL)
    return KILN_RT_INVALID_ARGUMENT;
  if (p->kernel_h != 3 || p->kernel_w != 3 || p->dilation_h != 1 ||
      p->dilation_w != 1)
    return KILN_RT_UNSUPPORTED;
  dw_planes(p, rq, input, weights, bias, output, (int8_t *)scratch);
  return KILN_RT_OK;
}

kiln_rt_status_t kiln_dwconv2d_inplace_s8(const kiln_conv_params_t *p,
                                          const kiln_requant_t *rq,
                                          const int8_t *weights,
                                          const int32_t *bias, int8_t *inout,
                                          void *scratch) {
  if (!dw_ok(p, rq, inout, weights, inout) || scratch == NULL)
    return KILN_RT_INVALID_ARGUMENT;
  /* Output channel c may only overwrite slots of input channels already
   * consumed: same channel count and no more output pixels than input. */
  if (p->out_c != p->in_c || p->out_h * p->out_w > p->in_h * p->in_w)
    return KILN_RT_UNSUPPORTED;
  dw_planes(p, rq, inout, weights, bias, inout, (int8_t *)scratch);
  return KILN_RT_OK;
}

/** Returns 1 when kiln_dwconv2d_s8 takes the 3x3 plane path for |p|. */
static int dw_uses_3x3(const kiln_conv_params_t *p) {
  return p->kernel_h == 3 && p->kernel_w == 3 && p->dilation_h == 1 &&
         p->dilation_w == 1;
}

size_t kiln_dwconv2d_s8_scratch_bytes(const kiln_conv_params_t *p) {
  return p && dw_uses_3x3(p) ? plane_bytes(p) : 0;
}

kiln_rt_status_t kiln_dwconv2d_s8(const kiln_conv_params_t *p,
                                  const kiln_requant_t *rq, const int8_t *input,
                                  const int8_t *weights, const int32_t *bias,
                                  int8_t *output, void *scratch) {
  if (!dw_ok(p, rq, input, weights, output))
    return KILN_RT_INVALID_ARGUMENT;
  if (dw_uses_3x3(p))
    return kiln_dwconv2d_3x3_s8(p, rq, input, weights, bias, output, scratch);
  return kiln_dwconv2d_generic_s8(p, rq, input, weights, bias, output);
}
