/*===- bench.c - Kernel layers for instruction counting ---------*- C -*-===//
 * SPDX-License-Identifier: Apache-2.0
 *
 * Runs one call of each benchmarked kernel on a realistic layer, each
 * between two marker functions, kiln_bench_begin_<layer> and
 * kiln_bench_end, that count_instructions.sh finds in QEMU's
 * `-singlestep -d exec,nochain` trace. Layers (int8, NHWC, per-channel
 * requantization, random data from a fixed seed):
 *   conv1x1  16x16x32 -> 32, stride 1             (kiln_conv2d_s8)
 *   conv3x3  16x16x32 -> 32, stride 1, pad 1      (kiln_conv2d_s8)
 *   dw3x3    16x16x32, multiplier 1, stride 1, pad 1 (kiln_dwconv2d_s8)
 *   dw3x3s2  16x16x32, stride 2, pad 1             (kiln_dwconv2d_s8)
 *   fc       512 -> 64                              (kiln_fully_connected_s8)
 * After each layer it prints "<layer> checksum <sum>" so that the DSP and
 * portable builds can be checked to compute the same outputs. Exits
 * non-zero if a kernel reports an error.
 *===----------------------------------------------------------------------===*/

#include "kiln_mps2.h"
#include "kiln_rt.h"

#include <stdint.h>
#include <stdio.h>

#define H 16
#define W 16
#define C 32
#define FC_IN 512
#define FC_OUT 64

/* Markers: never inlined, so each shows up in the trace under its name. */
#define KILN_BENCH_MARKER(name)                                                \
  __attribute__((noinline)) void kiln_bench_begin_##name(void);                \
  __attribute__((noinline)) void kiln_bench_begin_##name(void) {               \
    __asm__ volatile("" ::: "memory");                                         \
  }
KILN_BENCH_MARKER(conv1x1)
KILN_BENCH_MARKER(conv3x3)
KILN_BENCH_MARKER(dw3x3)
KILN_BENCH_MARKER(dw3x3s2)
KILN_BENCH_MARKER(fc)
__attribute__((noinline)) void kiln_bench_end(void);
__attribute__((noinline)) void kiln_bench_end(void) {
  __asm__ volatile("" ::: "memory");
}

static int8_t input[H * W * C];
static int8_t output[H * W * C];
static int8_t weights[C * 3 * 3 * C];
static int8_t fc_weights[FC_OUT * FC_IN];
static int32_t bias[FC_OUT];
static int32_t multipliers[FC_OUT];
static int32_t shifts[FC_OUT];
/* Scratch for the im2col buffer (16 * 3 * 3 * C / 4 bytes) and the
 * depthwise plane ((H + 2) * (W + 2) + 4); 4-byte aligned. */
static uint32_t scratch[16 * 3 * 3 * C / 4 / 4];

static uint32_t rng_state = 12345u;

/** Returns the next value of a 32-bit LCG. */
static uint32_t next_random(void) {
  rng_state = rng_state * 1664525u + 1013904223u;
  return rng_state;
}

/** Fills |data| with random int8 values in [-127, 127]. */
static void fill(int8_t *data, int32_t count) {
  int32_t i;
  for (i = 0; i < count; ++i)
    data[i] = (int8_t)((int32_t)(next_random() >> 24) % 255 - 127);
}

/** Prints the checksum of |count| output bytes for |layer|. */
static void report(const char *layer, kiln_rt_status_t status, int32_t count) {
  uint32_t sum = 0;
  int32_t i;
  if (status != KILN_RT_OK) {
    printf("%s failed with status %d\n", layer, (int)status);
    kiln_mps2_exit(2);
  }
  for (i = 0; i < count; ++i)
    sum = sum * 31u + (uint8_t)output[i];
  printf("%s checksum %lu\n", layer, (unsigned long)sum);
}

/** Returns convolution parameters of the 16x16x32 layers. */
static kiln_conv_params_t layer(int32_t kernel, int32_t stride, int32_t pad,
                                int32_t groups) {
  kiln_conv_params_t p;
  p.batch = 1;
  p.in_h = H;
  p.in_w = W;
  p.in_c = C;
  p.out_c = C;
  p.kernel_h = p.kernel_w = kernel;
  p.stride_h = p.stride_w = stride;
  p.dilation_h = p.dilation_w = 1;
  p.pad_top = p.pad_left = p.pad_bottom = p.pad_right = pad;
  p.out_h = (H + 2 * pad - kernel) / stride + 1;
  p.out_w = (W + 2 * pad - kernel) / stride + 1;
  p.groups = groups;
  p.input_zp = -3;
  p.output_zp = 5;
  p.act_min = -128;
  p.act_max = 127;
  return p;
}

int main(void) {
  kiln_requant_t rq;
  kiln_conv_params_t p;
  kiln_fc_params_t fc;
  kiln_rt_status_t status;
  int32_t i;
  fill(input, H * W * C);
  fill(weights, C * 3 * 3 * C);
  fill(fc_weights, FC_OUT * FC_IN);
  for (i = 0; i < FC_OUT; ++i) {
    bias[i] = (int32_t)(next_random() >> 20) - 2048;
    /* Real multipliers around 2^-13 .. 2^-12: outputs spread over int8. */
    multipliers[i] = (int32_t)(0x40000000u + (next_random() >> 2));
    shifts[i] = -12;
  }
  rq.multiplier = multipliers;
  rq.shift = shifts;
  rq.per_channel = 1;
  printf("kiln bench: runtime path %s\n", kiln_rt_path());

  p = layer(1, 1, 0, 1);
  if (kiln_conv2d_s8_scratch_bytes(&p) > sizeof(scratch))
    kiln_mps2_exit(3);
  kiln_bench_begin_conv1x1();
  status = kiln_conv2d_s8(&p, &rq, input, weights, bias, output, scratch);
  kiln_bench_end();
  report("conv1x1", status, p.out_h * p.out_w * C);

  p = layer(3, 1, 1, 1);
  if (kiln_conv2d_s8_scratch_bytes(&p) > sizeof(scratch))
    kiln_mps2_exit(3);
  kiln_bench_begin_conv3x3();
  status = kiln_conv2d_s8(&p, &rq, input, weights, bias, output, scratch);
  kiln_bench_end();
  report("conv3x3", status, p.out_h * p.out_w * C);

  p = layer(3, 1, 1, C);
  if (kiln_dwconv2d_s8_scratch_bytes(&p) > sizeof(scratch))
    kiln_mps2_exit(3);
  kiln_bench_begin_dw3x3();
  status = kiln_dwconv2d_s8(&p, &rq, input, weights, bias, output, scratch);
  kiln_bench_end();
  report("dw3x3", status, p.out_h * p.out_w * C);

  p = layer(3, 2, 1, C);
  kiln_bench_begin_dw3x3s2();
  status = kiln_dwconv2d_s8(&p, &rq, input, weights, bias, output, scratch);
  kiln_bench_end();
  report("dw3x3s2", status, p.out_h * p.out_w * C);

  fc.batch = 1;
  fc.in_features = FC_IN;
  fc.out_features = FC_OUT;
  fc.input_zp = -3;
  fc.output_zp = 5;
  fc.act_min = -128;
  fc.act_max = 127;
  kiln_bench_begin_fc();
  status = kiln_fully_connected_s8(&fc, &rq, input, fc_weights, bias, output);
  kiln_bench_end();
  report("fc", status, FC_OUT);
  return 0;
}
