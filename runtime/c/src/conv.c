/*===- conv.c - int8 2-D convolution kernels --------------------*- C -*-===//
 * SPDX-License-Identifier: Apache-2.0
 *
 * Convolution on NHWC int8 activations with OHWI int8 weights:
 *  - a generic kernel: plain loops, any parameters (groups, dilation), no
 *    scratch;
 *  - the im2col kernel behind 1x1, 3x3 and every groups == 1 convolution:
 *    output pixels go in pairs; the two patches are copied once into an int16
 *    scratch buffer with the input offset applied and padding as zeros, in
 *    the order SXTB16 unpacks weights, and every output channel pair is then
 *    a 2x2 block of dot products over that buffer (gemm_pair): each loaded
 *    value feeds two products, and on DSP cores one SMLAD does two taps, so
 *    only the weights are unpacked in the inner loop (19 instructions per 16
 *    multiply-accumulates on Cortex-M4, against 40 in the portable loop);
 *  - in portable builds, a direct "row" kernel (conv_rows) instead of
 *    im2col, which was faster without SMLAD.
 *===----------------------------------------------------------------------===*/

#include "kiln_rt_internal.h"

/** Returns the multiplier index of output channel |o|. */
#define KILN_RT_RQ_INDEX(rq, o) ((rq)->per_channel ? (o) : 0)

kiln_rt_status_t kiln_conv2d_generic_s8(const kiln_conv_params_t *p,
                                        const kiln_requant_t *rq,
                                        const int8_t *input,
                                        const int8_t *weights,
                                        const int32_t *bias, int8_t *output) {
  int32_t n, oy, ox, o;
  int32_t in_per_group, out_per_group;
  kiln_rt_out_stage_t st;
  if (!kiln_rt_valid_conv(p) || !kiln_rt_valid_requant(rq, p->out_c) ||
      input == NULL || weights == NULL || output == NULL)
    return KILN_RT_INVALID_ARGUMENT;
  in_per_group = p->in_c / p->groups;
  out_per_group = p->out_c / p->groups;
  st = kiln_rt_make_out_stage(p->output_zp, p->act_min, p->act_max);
  for (n = 0; n < p->batch; ++n) {
    for (oy = 0; oy < p->out_h; ++oy) {
      for (ox = 0; ox < p->out_w; ++ox) {
        int8_t *out = output + ((n * p->out_h + oy) * p->out_w + ox) * p->out_c;
        for (o = 0; o < p->out_c; ++o) {
          const int32_t first_in = (o / out_per_group) * in_per_group;
          const int8_t *w =
              weights + o * p->kernel_h * p->kernel_w * in_per_group;
          int32_t acc = bias ? bias[o] : 0;
          int32_t ky, kx, i;
          for (ky = 0; ky < p->kernel_h; ++ky) {
            const int32_t iy =
                oy * p->stride_h - p->pad_top + ky * p->dilation_h;
            if (iy < 0 || iy >= p->in_h)
              continue;
            for (kx = 0; kx < p->kernel_w; ++kx) {
              const int32_t ix =
                  ox * p->stride_w - p->pad_left + kx * p->dilation_w;
              const int8_t *x;
              const int8_t *wk;
              if (ix < 0 || ix >= p->in_w)
                continue;
              x = input + ((n * p->in_h + iy) * p->in_w + ix) * p->in_c +
                  first_in;
              wk = w + (ky * p->kernel_w + kx) * in_per_group;
              for (i = 0; i < in_per_group; ++i)
                acc += (x[i] - p->input_zp) * wk[i];
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

/** Returns the im2col buffer bytes of |p|: 2 pixels x ceil(K / 4) groups x
 * 4 taps x 2 bytes. */
static size_t im2col_bytes(const kiln_conv_params_t *p) {
  const size_t k = (size_t)p->kernel_h * (size_t)p->kernel_w * (size_t)p->in_c;
  return ((k + 3u) / 4u) * 16u;
}

#if KILN_RT_DSP

/* Layout of the im2col buffer: for the two output pixels of a pair, the K =
 * kernel_h * kernel_w * in_c patch values (x + offset as int16, 0 for
 * padding taps), in the flattened (ky, kx, c) order of the OHWI weights, as
 * groups of four taps k = 4g .. 4g + 3. Group g is four 32-bit words:
 *   word 4g + 0: pixel 0 (x[4g], x[4g+2])   word 4g + 1: pixel 0 (x[4g+1],
 * x[4g+3]) word 4g + 2: pixel 1 (x[4g], x[4g+2])   word 4g + 3: pixel 1
 * (x[4g+1], x[4g+3]) (low halfword first): the order SXTB16 / SXTB16 ROR 8 give
 * for a word of four int8 weights, so one SMLAD multiplies two taps. A partial
 * last group is zero-filled. */

/** Returns the halfword position within a pixel's two words of tap j of a
 * group: taps 0 and 2 are the low and high halves of the first word, taps 1
 * and 3 of the second. */
static const uint8_t kiln_rt_tap_pos[4] = {0, 2, 1, 3};

/** Fills pixel |pix| of the im2col buffer for in_c % 4 != 0 (e.g. the
 * 3-channel stems): the taps are streamed in (ky, kx, c) order through a
 * four-tap window that is written as the group's two words when full, so
 * every word is written once (no read-modify-write per tap). A partial last
 * group is written with zeros in its missing taps. */
static void im2col_pixel_taps(const kiln_conv_params_t *p, const int8_t *in_n,
                              int32_t oy, int32_t ox, int32_t pix,
                              uint32_t *buf) {
  const int32_t in_c = p->in_c, offset = -p->input_zp;
  int32_t v[4] = {0, 0, 0, 0};
  int32_t ky, kx, c, j = 0;
  uint32_t *dst = buf + pix * 2;
  for (ky = 0; ky < p->kernel_h; ++ky) {
    const int32_t iy = oy * p->stride_h - p->pad_top + ky * p->dilation_h;
    const int row_in = iy >= 0 && iy < p->in_h;
    for (kx = 0; kx < p->kernel_w; ++kx) {
      const int32_t ix = ox * p->stride_w - p->pad_left + kx * p->dilation_w;
      const int inside = row_in && ix >= 0 && ix < p->in_w;
      const int8_t *src = inside ? in_n + (iy * p->in_w + ix) * in_c : NULL;
      for (c = 0; c < in_c; ++c) {
        v[j] = inside ? src[c] + offset : 0;
        if (++j == 4) {
          dst[0] = kiln_rt_pack16(v[0], v[2]);
          dst[1] = kiln_rt_pack16(v[1], v[3]);
          dst += 4;
          j = 0;
        }
      }
    }
  }
  if (j) {
    for (; j < 4; ++j)
      v[j] = 0;
    dst[0] = kiln_rt_pack16(v[0], v[2]);
    dst[1] = kiln_rt_pack16(v[1], v[3]);
  }
}

/** Fills pixel |pix| (0 or 1) of the im2col buffer with the patch of output
 * position (|oy|, |ox|) of image |in_n|. */
static void im2col_pixel(const kiln_conv_params_t *p, const int8_t *in_n,
                         int32_t oy, int32_t ox, int32_t pix, uint32_t *buf) {
  const int32_t in_c = p->in_c, offset = -p->input_zp;
  int32_t ky, kx, c;
  const uint32_t offset2 = kiln_rt_pack16(offset, offset);
  if (in_c & 3) {
    im2col_pixel_taps(p, in_n, oy, ox, pix, buf);
    return;
  }
  for (ky = 0; ky < p->kernel_h; ++ky) {
    const int32_t iy = oy * p->stride_h - p->pad_top + ky * p->dilation_h;
    const int row_in = iy >= 0 && iy < p->in_h;
    for (kx = 0; kx < p->kernel_w; ++kx) {
      const int32_t ix = ox * p->stride_w - p->pad_left + kx * p->dilation_w;
      const int32_t base = (ky * p->kernel_w + kx) * in_c;
      const int inside = row_in && ix >= 0 && ix < p->in_w;
      const int8_t *src = inside ? in_n + (iy * p->in_w + ix) * in_c : NULL;
      /* Whole groups: one word of input gives both halfword pairs. */
      uint32_t *dst = buf + (base >> 2) * 4 + pix * 2;
      for (c = 0; c < in_c; c += 4) {
        if (inside) {
          const uint32_t x = kiln_rt_read4(src + c);
          dst[0] = kiln_rt_sxtab16(offset2, x);
          dst[1] = kiln_rt_sxtab16_ror8(offset2, x);
        } else {
          dst[0] = dst[1] = 0;
        }
        dst += 4;
      }
    }
  }
}

/** Computes every output channel of the two pixels in |buf| (K taps each)
 * and stores them at |out0| and |out1| (equal for a duplicated last pixel).
 * Out of line and KILN_RT_HOT: the DSP loop needs 14 registers. */
KILN_RT_HOT static void gemm_pair(const uint32_t *buf, const int8_t *weights,
                                  int32_t k, int32_t out_c, const int32_t *bias,
                                  const int32_t *multipliers,
                                  const int32_t *shifts, int32_t per_channel,
                                  kiln_rt_out_stage_t st, int8_t *out0,
                                  int8_t *out1) {
  const int32_t groups = k >> 2, tail = k & 3;
  int32_t o;
  for (o = 0; o < out_c; o += 2) {
    /* An odd last channel is computed twice and stored once. */
    const int32_t o1 = o + 1 < out_c ? o + 1 : o;
    const int8_t *w0 = weights + o * k;
    const int8_t *w1 = weights + o1 * k;
    const uint32_t *x = buf;
    int32_t a00 = bias ? bias[o] : 0, a01 = bias ? bias[o1] : 0;
    int32_t a10 = a00, a11 = a01, g, j;
    /* The partial last group as a whole one: its missing taps are zero in
     * the buffer, so the bytes read past the end of rows o and o1 (the
     * start of the next row, which exists when o1 is not the last channel
     * and k >= 4) multiply zeros. */
    const int32_t whole =
        groups + (tail && k >= 4 && o1 + 1 < out_c ? 1 : 0);
    for (g = 0; g < whole; ++g) {
      const uint32_t wa = kiln_rt_read4(w0);
      const uint32_t wb = kiln_rt_read4(w1);
      const uint32_t wa_even = kiln_rt_sxtb16(wa);
      const uint32_t wa_odd = kiln_rt_sxtb16_ror8(wa);
      const uint32_t wb_even = kiln_rt_sxtb16(wb);
      const uint32_t wb_odd = kiln_rt_sxtb16_ror8(wb);
      uint32_t x_even = x[0], x_odd = x[1];
      a00 = kiln_rt_smlad(x_even, wa_even, a00);
      a00 = kiln_rt_smlad(x_odd, wa_odd, a00);
      a01 = kiln_rt_smlad(x_even, wb_even, a01);
      a01 = kiln_rt_smlad(x_odd, wb_odd, a01);
      x_even = x[2];
      x_odd = x[3];
      a10 = kiln_rt_smlad(x_even, wa_even, a10);
      a10 = kiln_rt_smlad(x_odd, wa_odd, a10);
      a11 = kiln_rt_smlad(x_even, wb_even, a11);
      a11 = kiln_rt_smlad(x_odd, wb_odd, a11);
      x += 4;
      w0 += 4;
      w1 += 4;
    }
    for (j = 0; whole == groups && j < tail; ++j) {
      /* The partial last group, one tap at a time. */
      const int32_t pos = kiln_rt_tap_pos[j];
      const uint32_t *px = x + (pos >> 1);
      const int32_t sh = (pos & 1) * 16;
      const int32_t v0 = (int16_t)((px[0] >> sh) & 0xFFFFu);
      const int32_t v1 = (int16_t)((px[2] >> sh) & 0xFFFFu);
      a00 += v0 * w0[j];
      a01 += v0 * w1[j];
      a10 += v1 * w0[j];
      a11 += v1 * w1[j];
    }
    {
      const int32_t m0 = multipliers[per_channel ? o : 0];
      const int32_t s0 = shifts[per_channel ? o : 0];
      out0[o] = kiln_rt_requant_out(a00, m0, s0, st.zp, st.lo_zp, st.hi_zp);
      out1[o] = kiln_rt_requant_out(a10, m0, s0, st.zp, st.lo_zp, st.hi_zp);
      if (o1 != o) {
        const int32_t m1 = multipliers[per_channel ? o1 : 0];
        const int32_t s1 = shifts[per_channel ? o1 : 0];
        out0[o1] = kiln_rt_requant_out(a01, m1, s1, st.zp, st.lo_zp, st.hi_zp);
        out1[o1] = kiln_rt_requant_out(a11, m1, s1, st.zp, st.lo_zp, st.hi_zp);
      }
    }
  }
}

/** The im2col kernel (groups == 1); parameters and scratch are valid.
 * Output pixels are taken in pairs in raster order (a pair may span two
 * rows); an odd last pixel of an image is paired with itself. */
static void conv_im2col(const kiln_conv_params_t *p, const kiln_requant_t *rq,
                        const int8_t *input, const int8_t *weights,
                        const int32_t *bias, int8_t *output, void *scratch) {
  const int32_t k = p->kernel_h * p->kernel_w * p->in_c;
  const int32_t pixels = p->out_h * p->out_w;
  const kiln_rt_out_stage_t st =
      kiln_rt_make_out_stage(p->output_zp, p->act_min, p->act_max);
  uint32_t *buf = (uint32_t *)scratch;
  int32_t n, q;
  /* The padding of a partial last group stays zero for every pair. */
  memset(buf, 0, im2col_bytes(p));
  for (n = 0; n < p->batch; ++n) {
    const int8_t *in_n = input + n * p->in_h * p->in_w * p->in_c;
    int8_t *out_n = output + n * pixels * p->out_c;
    for (q = 0; q < pixels; q += 2) {
      const int32_t q1 = q + 1 < pixels ? q + 1 : q;
      im2col_pixel(p, in_n, q / p->out_w, q % p->out_w, 0, buf);
      im2col_pixel(p, in_n, q1 / p->out_w, q1 % p->out_w, 1, buf);
      gemm_pair(buf, weights, k, p->out_c, bias, rq->multiplier, rq->shift,
                rq->per_channel, st, out_n + q * p->out_c,
                out_n + q1 * p->out_c);
    }
  }
}

#endif /* KILN_RT_DSP */

/** Output rows whose windows reach this many kernel rows or fewer fold
 * the input zero point into per-row weight sums; taller kernels add the
 * offset inside the dot products. */
#define KILN_RT_ROWSUM_MAX 16

/** Returns ceil(a / b) for b > 0 and any a. */
static int32_t ceil_div(int32_t a, int32_t b) {
  return a >= 0 ? (a + b - 1) / b : -((-a) / b);
}

/** The row kernel of portable builds, and of DSP builds for few output
 * channels over in_c % 4 != 0 (groups == 1); parameters are valid.
 * With dilation_w == 1, the taps of one kernel row are one contiguous run
 * of kernel_w * in_c bytes in both the NHWC input and the OHWI weights
 * (shorter, still contiguous, at the left/right borders), so no copy is
 * needed. Output-channel pairs are outermost, so that their multipliers,
 * biases and weight-row sums stay in registers; interior column pairs start
 * from bias + offset * (sum of the weights of the kernel rows inside the
 * input) and accumulate raw products (kiln_rt_dot_2x2_raw); clipped border
 * columns and odd leftovers go one at a time with the offset added per
 * value. Dilated widths take one tap per run. */
KILN_RT_HOT static void conv_rows(const kiln_conv_params_t *p,
                                  const kiln_requant_t *rq, const int8_t *input,
                                  const int8_t *weights, const int32_t *bias,
                                  int8_t *output) {
  /* Copies of the parameters: int8 stores may alias *p and *rq. */
  const int32_t batch = p->batch, in_h = p->in_h, in_w = p->in_w;
  const int32_t in_c = p->in_c, out_h = p->out_h, out_w = p->out_w;
  const int32_t out_c = p->out_c, kernel_h = p->kernel_h;
  const int32_t kernel_w = p->kernel_w, stride_h = p->stride_h;
  const int32_t stride_w = p->stride_w, dilation_h = p->dilation_h;
  const int32_t dilation_w = p->dilation_w;
  const int32_t pad_top = p->pad_top, pad_left = p->pad_left;
  const int32_t offset = -p->input_zp;
  const int per_channel = rq->per_channel;
  const kiln_rt_out_stage_t st =
      kiln_rt_make_out_stage(p->output_zp, p->act_min, p->act_max);
  const int32_t row_len = kernel_w * in_c;           /* one kernel row */
  const int32_t filter_len = kernel_h * row_len;     /* one output channel */
  const int32_t x_step = stride_w * in_c;            /* next output column */
  const int32_t row_step = dilation_h * in_w * in_c; /* next kernel row */
  /* With dilated widths, a "run" is one tap (in_c values) and the kernel
   * row is walked tap by tap. */
  const int32_t runs = dilation_w == 1 ? 1 : kernel_w;
  const int32_t run_len = dilation_w == 1 ? row_len : in_c;
  const int fold = kernel_h <= KILN_RT_ROWSUM_MAX;
  /* Output columns whose kernel rows lie entirely inside the input. */
  const int32_t span_w = dilation_w * (kernel_w - 1) + 1;
  const int32_t ox_first = ceil_div(pad_left, stride_w);
  int32_t ox_end = in_w + pad_left - span_w < 0
                       ? 0
                       : (in_w + pad_left - span_w) / stride_w + 1;
  int32_t o;
  if (ox_end > out_w)
    ox_end = out_w;

  for (o = 0; o < out_c; o += 2) {
    /* An odd last channel is computed twice and stored once. */
    const int32_t o1 = o + 1 < out_c ? o + 1 : o;
    const int8_t *w0 = weights + o * filter_len;
    const int8_t *w1 = weights + o1 * filter_len;
    const int32_t m0 = rq->multiplier[per_channel ? o : 0];
    const int32_t s0 = rq->shift[per_channel ? o : 0];
    const int32_t m1 = rq->multiplier[per_channel ? o1 : 0];
    const int32_t s1 = rq->shift[per_channel ? o1 : 0];
    const int32_t b0 = bias ? bias[o] : 0;
    const int32_t b1 = bias ? bias[o1] : 0;
    int32_t rowsum0[KILN_RT_ROWSUM_MAX], rowsum1[KILN_RT_ROWSUM_MAX];
    int32_t n, oy, ky, r;
    if (fold)
      for (ky = 0; ky < kernel_h; ++ky) {
        rowsum0[ky] = offset * kiln_rt_sum_s8(w0 + ky * row_len, row_len);
        rowsum1[ky] = offset * kiln_rt_sum_s8(w1 + ky * row_len, row_len);
      }
    for (n = 0; n < batch; ++n) {
      const int8_t *in_n = input + n * in_h * in_w * in_c;
      int8_t *out_n = output + n * out_h * out_w * out_c;
      for (oy = 0; oy < out_h; ++oy) {
        const int32_t iy0 = oy * stride_h - pad_top;
        /* Kernel rows inside the input: iy0 + ky * dilation_h in [0, in_h). */
        const int32_t ky_first = iy0 < 0 ? ceil_div(-iy0, dilation_h) : 0;
        const int32_t ky_limit = ceil_div(in_h - iy0, dilation_h);
        const int32_t ky_end = ky_limit < kernel_h ? ky_limit : kernel_h;
        /* Offset of input column 0 of the first kernel row inside. */
        const int32_t row_off =
            ((iy0 + ky_first * dilation_h) * in_w - pad_left) * in_c;
        int8_t *out_row = out_n + oy * out_w * out_c;
        int32_t start0 = b0, start1 = b1, ox = 0;
        if (fold)
          for (ky = ky_first; ky < ky_end; ++ky) {
            start0 += rowsum0[ky];
            start1 += rowsum1[ky];
          }
        while (ox < out_w) {
          int8_t *out = out_row + ox * out_c;
          if (ox >= ox_first && ox + 1 < ox_end) {
            /* Two interior columns: full kernel rows for both. */
            const int8_t *x0 = in_n + row_off + ox * x_step;
            int32_t acc[4];
            acc[0] = acc[2] = fold ? start0 : b0;
            acc[1] = acc[3] = fold ? start1 : b1;
            for (ky = ky_first; ky < ky_end; ++ky) {
              for (r = 0; r < runs; ++r) {
                const int8_t *xr = x0 + r * dilation_w * in_c;
                const int32_t wo = ky * row_len + r * run_len;
                if (fold)
                  kiln_rt_dot_2x2_raw(xr, xr + x_step, w0 + wo, w1 + wo,
                                      run_len, acc);
                else
                  kiln_rt_dot_2x2(xr, xr + x_step, w0 + wo, w1 + wo, run_len,
                                  offset, acc);
              }
              x0 += row_step;
            }
            out[o] =
                kiln_rt_requant_out(acc[0], m0, s0, st.zp, st.lo_zp, st.hi_zp);
            out[out_c + o] =
                kiln_rt_requant_out(acc[2], m0, s0, st.zp, st.lo_zp, st.hi_zp);
            if (o1 != o) {
              out[o1] = kiln_rt_requant_out(acc[1], m1, s1, st.zp, st.lo_zp,
                                            st.hi_zp);
              out[out_c + o1] = kiln_rt_requant_out(acc[3], m1, s1, st.zp,
                                                    st.lo_zp, st.hi_zp);
            }
            ox += 2;
          } else {
            /* One column, its taps clipped to the input. */
            const int32_t ix0 = ox * stride_w - pad_left;
            int32_t acc[2], kx;
            acc[0] = b0;
            acc[1] = b1;
            for (ky = ky_first; ky < ky_end; ++ky) {
              const int8_t *xrow = in_n + row_off + (ky - ky_first) * row_step;
              for (kx = 0; kx < kernel_w; ++kx) {
                const int32_t ix = ix0 + kx * dilation_w;
                if (ix < 0 || ix >= in_w)
                  continue;
                kiln_rt_dot_1x2(xrow + (ix + pad_left) * in_c,
                                w0 + ky * row_len + kx * in_c,
                                w1 + ky * row_len + kx * in_c, in_c, offset,
                                acc);
              }
            }
            out[o] =
                kiln_rt_requant_out(acc[0], m0, s0, st.zp, st.lo_zp, st.hi_zp);
            if (o1 != o)
              out[o1] = kiln_rt_requant_out(acc[1], m1, s1, st.zp, st.lo_zp,
                                            st.hi_zp);
            ox += 1;
          }
        }
      }
    }
  }
}

/** Runs the fast kernel of this build: im2col with SMLAD on DSP cores
 * (except few-channel layers with an odd channel count, see below), the
 * direct row kernel (which ignores |scratch|) in portable builds. */
static void conv_fast(const kiln_conv_params_t *p, const kiln_requant_t *rq,
                      const int8_t *input, const int8_t *weights,
                      const int32_t *bias, int8_t *output, void *scratch) {
#if KILN_RT_DSP
  /* Building a patch of in_c % 4 != 0 channels costs per tap, and few
   * output channels do not amortize it: there the direct row kernel (with
   * the DSP dot products) wins (mobilenetv1's 3 -> 8 stem: 2.51 M vs
   * 3.40 M instructions; the 3 -> 16 stems are faster with im2col). */
  if ((p->in_c & 3) && p->out_c <= 8) {
    conv_rows(p, rq, input, weights, bias, output);
    return;
  }
  conv_im2col(p, rq, input, weights, bias, output, scratch);
#else
  (void)scratch;
  conv_rows(p, rq, input, weights, bias, output);
#endif
}

/** Returns 1 when |p|, the buffers and |scratch| are valid for the im2col
 * kernel (scratch must be 4-byte aligned). */
static int im2col_ok(const kiln_conv_params_t *p, const kiln_requant_t *rq,
                     const int8_t *input, const int8_t *weights,
                     const int8_t *output, const void *scratch) {
  return kiln_rt_valid_conv(p) && kiln_rt_valid_requant(rq, p->out_c) &&
         input != NULL && weights != NULL && output != NULL &&
         scratch != NULL && ((uintptr_t)scratch & 3u) == 0;
}

size_t kiln_conv2d_s8_scratch_bytes(const kiln_conv_params_t *p) {
  return p && p->groups == 1 ? im2col_bytes(p) : 0;
}

kiln_rt_status_t kiln_conv2d_1x1_s8(const kiln_conv_params_t *p,
                                    const kiln_requant_t *rq,
                                    const int8_t *input, const int8_t *weights,
                                    const int32_t *bias, int8_t *output,
                                    void *scratch) {
  if (!im2col_ok(p, rq, input, weights, output, scratch))
    return KILN_RT_INVALID_ARGUMENT;
  if (p->kernel_h != 1 || p->kernel_w != 1 || p->groups != 1 ||
      p->pad_top != 0 || p->pad_left != 0 || p->pad_bottom != 0 ||
      p->pad_right != 0)
    return KILN_RT_UNSUPPORTED;
  conv_fast(p, rq, input, weights, bias, output, scratch);
  return KILN_RT_OK;
}

kiln_rt_status_t kiln_conv2d_3x3_s8(const kiln_conv_params_t *p,
                                    const kiln_requant_t *rq,
                                    const int8_t *input, const int8_t *weights,
                                    const int32_t *bias, int8_t *output,
                                    void *scratch) {
  if (!im2col_ok(p, rq, input, weights, output, scratch))
    return KILN_RT_INVALID_ARGUMENT;
  if (p->kernel_h != 3 || p->kernel_w != 3 || p->groups != 1)
    return KILN_RT_UNSUPPORTED;
  conv_fast(p, rq, input, weights, bias, output, scratch);
  return KILN_RT_OK;
}

kiln_rt_status_t kiln_conv2d_s8(const kiln_conv_params_t *p,
                                const kiln_requant_t *rq, const int8_t *input,
                                const int8_t *weights, const int32_t *bias,
                                int8_t *output, void *scratch) {
  if (p != NULL && p->groups != 1)
    return kiln_conv2d_generic_s8(p, rq, input, weights, bias, output);
  if (!im2col_ok(p, rq, input, weights, output, scratch))
    return KILN_RT_INVALID_ARGUMENT;
  conv_fast(p, rq, input, weights, bias, output, scratch);
  return KILN_RT_OK;
}
