/*===- bench_wrap.c - Instruction and stack measurement of a Kiln program -===//
 * SPDX-License-Identifier: Apache-2.0
 *
 * Linked into a Kiln Cortex-M program (the harness main.c of `kiln compile
 * --harness`) with -Wl,--wrap=<model run function> and --wrap for the
 * convolution and fully connected kernels, so the generated code is measured
 * unchanged:
 *  - executed instructions: QEMU runs with `-icount shift=0`, so virtual
 *    time advances 1 ns per executed instruction, and the CMSDK APB timer 0
 *    of the MPS2 board (0x40000000, counting down at the 25 MHz system
 *    clock) is read before and after each call: ticks * 40 = instructions,
 *    to +-40 (one tick); the few instructions of the reads are included;
 *  - peak stack of the model call: the 32 KiB below the caller's stack
 *    pointer are painted before the call and scanned after it.
 * Only the first call of the model is measured; results are printed as
 * "kiln-bench: ..." lines after it.
 *
 * KILN_BENCH_RUN must name the model's run function (kiln_<name>_run).
 *===----------------------------------------------------------------------===*/

#include "kiln_rt.h"

#include <stdint.h>
#include <stdio.h>

#ifndef KILN_BENCH_RUN
#error "define KILN_BENCH_RUN as the model's run function"
#endif

#define KILN_CAT(a, b) a##b
#define KILN_XCAT(a, b) KILN_CAT(a, b)
#define REAL_RUN KILN_XCAT(__real_, KILN_BENCH_RUN)
#define WRAP_RUN KILN_XCAT(__wrap_, KILN_BENCH_RUN)

/* CMSDK APB timer 0: CTRL, VALUE, RELOAD. */
static volatile uint32_t *const timer = (volatile uint32_t *)0x40000000u;

static uint32_t now(void) { return timer[1]; }

enum { kMaxLayers = 256, kPaintWords = 8192 };

typedef struct layer_record {
  const char *kind;
  int32_t in_h, in_w, in_c, out_h, out_w, out_c, kernel, stride;
  uint32_t ticks;
} layer_record_t;

static layer_record_t records[kMaxLayers];
static int num_records;
static int measuring;

static void record(const char *kind, const kiln_conv_params_t *p,
                   uint32_t ticks) {
  layer_record_t *r;
  if (!measuring || num_records >= kMaxLayers)
    return;
  r = &records[num_records++];
  r->kind = kind;
  r->in_h = p->in_h;
  r->in_w = p->in_w;
  r->in_c = p->in_c;
  r->out_h = p->out_h;
  r->out_w = p->out_w;
  r->out_c = p->out_c;
  r->kernel = p->kernel_h;
  r->stride = p->stride_h;
  r->ticks = ticks;
}

#define WRAP_CONV(name, kind)                                                  \
  kiln_rt_status_t __real_##name(const kiln_conv_params_t *,                   \
                                 const kiln_requant_t *, const int8_t *,       \
                                 const int8_t *, const int32_t *, int8_t *,    \
                                 void *);                                      \
  kiln_rt_status_t __wrap_##name(                                              \
      const kiln_conv_params_t *p, const kiln_requant_t *q, const int8_t *in,  \
      const int8_t *w, const int32_t *b, int8_t *out, void *scratch);          \
  kiln_rt_status_t __wrap_##name(                                              \
      const kiln_conv_params_t *p, const kiln_requant_t *q, const int8_t *in,  \
      const int8_t *w, const int32_t *b, int8_t *out, void *scratch) {         \
    uint32_t t0 = now();                                                       \
    kiln_rt_status_t s = __real_##name(p, q, in, w, b, out, scratch);          \
    record(kind, p, t0 - now());                                               \
    return s;                                                                  \
  }

WRAP_CONV(kiln_conv2d_s8, "conv")
WRAP_CONV(kiln_conv2d_1x1_s8, "conv1x1")
WRAP_CONV(kiln_conv2d_3x3_s8, "conv3x3")
WRAP_CONV(kiln_dwconv2d_s8, "dwconv")

kiln_rt_status_t __real_kiln_conv2d_generic_s8(const kiln_conv_params_t *,
                                               const kiln_requant_t *,
                                               const int8_t *, const int8_t *,
                                               const int32_t *, int8_t *);
kiln_rt_status_t __wrap_kiln_conv2d_generic_s8(
    const kiln_conv_params_t *p, const kiln_requant_t *q, const int8_t *in,
    const int8_t *w, const int32_t *b, int8_t *out);
kiln_rt_status_t __wrap_kiln_conv2d_generic_s8(
    const kiln_conv_params_t *p, const kiln_requant_t *q, const int8_t *in,
    const int8_t *w, const int32_t *b, int8_t *out) {
  uint32_t t0 = now();
  kiln_rt_status_t s = __real_kiln_conv2d_generic_s8(p, q, in, w, b, out);
  record("convgeneric", p, t0 - now());
  return s;
}

kiln_rt_status_t __real_kiln_dwconv2d_inplace_s8(const kiln_conv_params_t *,
                                                 const kiln_requant_t *,
                                                 const int8_t *,
                                                 const int32_t *, int8_t *,
                                                 void *);
kiln_rt_status_t __wrap_kiln_dwconv2d_inplace_s8(const kiln_conv_params_t *p,
                                                 const kiln_requant_t *q,
                                                 const int8_t *w,
                                                 const int32_t *b,
                                                 int8_t *inout, void *scratch);
kiln_rt_status_t __wrap_kiln_dwconv2d_inplace_s8(const kiln_conv_params_t *p,
                                                 const kiln_requant_t *q,
                                                 const int8_t *w,
                                                 const int32_t *b,
                                                 int8_t *inout, void *scratch) {
  uint32_t t0 = now();
  kiln_rt_status_t s = __real_kiln_dwconv2d_inplace_s8(p, q, w, b, inout,
                                                       scratch);
  record("dwinplace", p, t0 - now());
  return s;
}

kiln_rt_status_t __real_kiln_fully_connected_s8(const kiln_fc_params_t *,
                                                const kiln_requant_t *,
                                                const int8_t *, const int8_t *,
                                                const int32_t *, int8_t *);
kiln_rt_status_t __wrap_kiln_fully_connected_s8(
    const kiln_fc_params_t *p, const kiln_requant_t *q, const int8_t *in,
    const int8_t *w, const int32_t *b, int8_t *out);
kiln_rt_status_t __wrap_kiln_fully_connected_s8(
    const kiln_fc_params_t *p, const kiln_requant_t *q, const int8_t *in,
    const int8_t *w, const int32_t *b, int8_t *out) {
  uint32_t t0 = now();
  kiln_rt_status_t s = __real_kiln_fully_connected_s8(p, q, in, w, b, out);
  if (measuring && num_records < kMaxLayers) {
    layer_record_t *r = &records[num_records++];
    r->kind = "fc";
    r->in_h = r->in_w = r->out_h = r->out_w = r->kernel = r->stride = 1;
    r->in_c = p->in_features;
    r->out_c = p->out_features;
    r->ticks = t0 - now();
  }
  return s;
}

int REAL_RUN(void *arena, const int8_t *const *inputs, int8_t *const *outputs);
int WRAP_RUN(void *arena, const int8_t *const *inputs, int8_t *const *outputs);

/* Paints kPaintWords words below the current stack pointer, calls the
 * model, and returns the bytes of the painted region it used. Kept out of
 * line so the painted region starts below this function's own frame. */
static __attribute__((noinline)) int measured_call(void *arena,
                                                   const int8_t *const *in,
                                                   int8_t *const *out,
                                                   uint32_t *ticks,
                                                   uint32_t *stack) {
  uint32_t sp, t0, i;
  volatile uint32_t *bottom;
  int status;
  __asm__ volatile("mov %0, sp" : "=r"(sp));
  bottom = (volatile uint32_t *)(sp - 64 - 4 * kPaintWords);
  for (i = 0; i < kPaintWords; ++i)
    bottom[i] = 0xA5A5A5A5u;
  t0 = now();
  status = REAL_RUN(arena, in, out);
  *ticks = t0 - now();
  for (i = 0; i < kPaintWords && bottom[i] == 0xA5A5A5A5u; ++i)
    ;
  /* Used bytes, counted from this function's stack pointer. */
  *stack = (kPaintWords - i) * 4 + 64;
  return status;
}

int WRAP_RUN(void *arena, const int8_t *const *inputs, int8_t *const *outputs) {
  static int calls;
  uint32_t ticks, stack;
  int status, n;
  if (calls++ > 0)
    return REAL_RUN(arena, inputs, outputs);
  timer[0] = 0;
  timer[2] = 0xFFFFFFFFu;
  timer[1] = 0xFFFFFFFFu;
  timer[0] = 1;
  measuring = 1;
  status = measured_call(arena, inputs, outputs, &ticks, &stack);
  measuring = 0;
  printf("kiln-bench: run_ticks %lu stack_bytes %lu status %d\n",
         (unsigned long)ticks, (unsigned long)stack, status);
  for (n = 0; n < num_records; ++n) {
    const layer_record_t *r = &records[n];
    printf("kiln-bench: layer %d %s %ldx%ldx%ld %ldx%ldx%ld k%ld s%ld %lu\n",
           n, r->kind, (long)r->in_h, (long)r->in_w, (long)r->in_c,
           (long)r->out_h, (long)r->out_w, (long)r->out_c, (long)r->kernel,
           (long)r->stride, (unsigned long)r->ticks);
  }
  return status;
}
