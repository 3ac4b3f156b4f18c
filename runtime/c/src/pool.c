/*===- pool.c - int8 pooling kernels ----------------------------*- C -*-===//
 * SPDX-License-Identifier: Apache-2.0
 *
 * Average pooling (TFLite's rounding; optional count_include_pad), max
 * pooling and global average pooling with requantization, NHWC. Windows are
 * clipped to the input; each output position loops over its window for all
 * channels at once so that the inner loop walks contiguous channels.
 *===----------------------------------------------------------------------===*/

#include "kiln_rt_internal.h"

/** Returns the pooled size of one dim: floor division, or ceil division
 * without windows starting inside the trailing padding when |ceil_mode|. */
static int32_t pool_out_size(int32_t size, int32_t before, int32_t after,
                             int32_t kernel, int32_t stride, int ceil_mode) {
  const int32_t span = size + before + after - kernel;
  int32_t out;
  if (span < 0)
    return -1;
  out = (ceil_mode ? (span + stride - 1) / stride : span / stride) + 1;
  if (ceil_mode && (out - 1) * stride >= size + before)
    --out;
  return out;
}

/** Returns 1 when |p| is a valid pooling whose output size is the floor or
 * the ceil one and whose every window overlaps the input. */
static int pool_ok(const kiln_pool_params_t *p, const void *input,
                   const void *output) {
  int floor_h, floor_w, ceil_h, ceil_w;
  if (p == NULL || input == NULL || output == NULL)
    return 0;
  if (p->batch <= 0 || p->in_h <= 0 || p->in_w <= 0 || p->channels <= 0 ||
      p->kernel_h <= 0 || p->kernel_w <= 0 || p->stride_h <= 0 ||
      p->stride_w <= 0 || p->out_h <= 0 || p->out_w <= 0)
    return 0;
  if (p->pad_top < 0 || p->pad_left < 0 || p->pad_bottom < 0 ||
      p->pad_right < 0 || p->pad_top >= p->kernel_h ||
      p->pad_bottom >= p->kernel_h || p->pad_left >= p->kernel_w ||
      p->pad_right >= p->kernel_w)
    return 0;
  if (p->kernel_h > (1 << 23) / p->kernel_w)
    return 0;
  floor_h = pool_out_size(p->in_h, p->pad_top, p->pad_bottom, p->kernel_h,
                          p->stride_h, 0);
  ceil_h = pool_out_size(p->in_h, p->pad_top, p->pad_bottom, p->kernel_h,
                         p->stride_h, 1);
  floor_w = pool_out_size(p->in_w, p->pad_left, p->pad_right, p->kernel_w,
                          p->stride_w, 0);
  ceil_w = pool_out_size(p->in_w, p->pad_left, p->pad_right, p->kernel_w,
                         p->stride_w, 1);
  /* Both dims use the same mode. */
  if (!((p->out_h == floor_h && p->out_w == floor_w) ||
        (p->out_h == ceil_h && p->out_w == ceil_w)))
    return 0;
  return kiln_rt_valid_zp(p->zero_point) &&
         kiln_rt_valid_act(p->act_min, p->act_max);
}

/** A window along one dim: input range [begin, end) and the count of
 * positions inside [-pad_before, size + pad_after). */
typedef struct window {
  int32_t begin, end, padded;
} window_t;

/** Returns the window of output index |o| along one dim. */
static window_t make_window(int32_t o, int32_t stride, int32_t before,
                            int32_t after, int32_t kernel, int32_t size) {
  const int32_t start = o * stride - before;
  const int32_t stop = start + kernel;
  const int32_t lo = start > -before ? start : -before;
  const int32_t hi = stop < size + after ? stop : size + after;
  window_t w;
  w.begin = start > 0 ? start : 0;
  w.end = stop < size ? stop : size;
  w.padded = hi - lo;
  return w;
}

kiln_rt_status_t kiln_avgpool2d_s8(const kiln_pool_params_t *p,
                                   const int8_t *input, int8_t *output) {
  int32_t n, oy, ox, c, iy, ix;
  if (!pool_ok(p, input, output))
    return KILN_RT_INVALID_ARGUMENT;
  for (n = 0; n < p->batch; ++n) {
    const int8_t *in_n = input + n * p->in_h * p->in_w * p->channels;
    for (oy = 0; oy < p->out_h; ++oy) {
      const window_t wy = make_window(oy, p->stride_h, p->pad_top,
                                      p->pad_bottom, p->kernel_h, p->in_h);
      for (ox = 0; ox < p->out_w; ++ox) {
        const window_t wx = make_window(ox, p->stride_w, p->pad_left,
                                        p->pad_right, p->kernel_w, p->in_w);
        const int32_t valid = (wy.end - wy.begin) * (wx.end - wx.begin);
        const int32_t count =
            p->count_include_pad ? wy.padded * wx.padded : valid;
        const int32_t pad_sum = (count - valid) * p->zero_point;
        int8_t *out =
            output + ((n * p->out_h + oy) * p->out_w + ox) * p->channels;
        for (c = 0; c < p->channels; ++c) {
          int32_t sum = pad_sum, avg;
          for (iy = wy.begin; iy < wy.end; ++iy)
            for (ix = wx.begin; ix < wx.end; ++ix)
              sum += in_n[(iy * p->in_w + ix) * p->channels + c];
          /* TFLite: round half away from zero, truncating division. */
          avg = sum > 0 ? (sum + count / 2) / count : (sum - count / 2) / count;
          if (avg < p->act_min)
            avg = p->act_min;
          if (avg > p->act_max)
            avg = p->act_max;
          out[c] = (int8_t)avg;
        }
      }
    }
  }
  return KILN_RT_OK;
}

kiln_rt_status_t kiln_maxpool2d_s8(const kiln_pool_params_t *p,
                                   const int8_t *input, int8_t *output) {
  int32_t n, oy, ox, c, iy, ix;
  if (!pool_ok(p, input, output))
    return KILN_RT_INVALID_ARGUMENT;
  for (n = 0; n < p->batch; ++n) {
    const int8_t *in_n = input + n * p->in_h * p->in_w * p->channels;
    for (oy = 0; oy < p->out_h; ++oy) {
      const window_t wy = make_window(oy, p->stride_h, p->pad_top,
                                      p->pad_bottom, p->kernel_h, p->in_h);
      for (ox = 0; ox < p->out_w; ++ox) {
        const window_t wx = make_window(ox, p->stride_w, p->pad_left,
                                        p->pad_right, p->kernel_w, p->in_w);
        int8_t *out =
            output + ((n * p->out_h + oy) * p->out_w + ox) * p->channels;
        for (c = 0; c < p->channels; ++c)
          out[c] = (int8_t)p->act_min;
        /* Start from act_min: max(x..., act_min) clamped above equals
         * clamp(max(x...), act_min, act_max). */
        for (iy = wy.begin; iy < wy.end; ++iy)
          for (ix = wx.begin; ix < wx.end; ++ix) {
            const int8_t *x = in_n + (iy * p->in_w + ix) * p->channels;
            for (c = 0; c < p->channels; ++c)
              if (x[c] > out[c])
                out[c] = x[c];
          }
        for (c = 0; c < p->channels; ++c)
          if (out[c] > p->act_max)
            out[c] = (int8_t)p->act_max;
      }
    }
  }
  return KILN_RT_OK;
}

kiln_rt_status_t kiln_global_avgpool_s8(const kiln_global_avgpool_params_t *p,
                                        const int8_t *input, int8_t *output) {
  int32_t n, c, i, count;
  if (p == NULL || input == NULL || output == NULL || p->batch <= 0 ||
      p->height <= 0 || p->width <= 0 || p->channels <= 0 ||
      p->height > (1 << 23) / p->width || !kiln_rt_valid_zp(p->input_zp) ||
      !kiln_rt_valid_zp(p->output_zp) ||
      !kiln_rt_valid_act(p->act_min, p->act_max) ||
      !kiln_rt_valid_multiplier(p->multiplier, p->shift))
    return KILN_RT_INVALID_ARGUMENT;
  count = p->height * p->width;
  for (n = 0; n < p->batch; ++n) {
    const int8_t *in_n = input + n * count * p->channels;
    for (c = 0; c < p->channels; ++c) {
      int32_t sum = -count * p->input_zp;
      for (i = 0; i < count; ++i)
        sum += in_n[i * p->channels + c];
      output[n * p->channels + c] = kiln_rt_requant_out(
          sum, p->multiplier, p->shift, p->output_zp, p->act_min - p->output_zp,
          p->act_max - p->output_zp);
    }
  }
  return KILN_RT_OK;
}
