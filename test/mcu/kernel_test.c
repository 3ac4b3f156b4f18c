/*===- kernel_test.c - Runtime kernels vs reference on Cortex-M --*- C -*-===//
 * SPDX-License-Identifier: Apache-2.0
 *
 * Runs every generated case (mcu_vectors.c, from kiln-mcu-vectors) through
 * the runtime kernel it names on the emulated core and compares the output
 * with the reference's bytes. Prints one line per failing case and a
 * summary; exits 0 when every case matches, 1 otherwise. Built for each
 * core (M4, M7, M55) in the DSP and the portable configuration.
 *===----------------------------------------------------------------------===*/

#include "kiln_mps2.h"
#include "kiln_rt.h"
#include "mcu_cases.h"

#include <stdio.h>
#include <string.h>

/** Returns the requantization of case |c|. */
static kiln_requant_t requant_of(const kiln_mcu_case_t *c) {
  kiln_requant_t rq;
  rq.multiplier = c->multipliers;
  rq.shift = c->shifts;
  rq.per_channel = c->per_channel;
  return rq;
}

/** Runs case |c| into kiln_mcu_output (or in place); returns the kernel's
 * status and sets |*result| to where its output is. */
static kiln_rt_status_t run_case(const kiln_mcu_case_t *c,
                                 const void **result) {
  const kiln_requant_t rq = requant_of(c);
  int8_t *out = (int8_t *)kiln_mcu_output;
  int8_t *inplace = (int8_t *)kiln_mcu_inplace;
  void *scratch = kiln_mcu_scratch;
  *result = out;
  switch (c->kind) {
  case KILN_MCU_CONV:
    return kiln_conv2d_s8(&c->conv, &rq, c->input, c->weights, c->bias, out,
                          scratch);
  case KILN_MCU_CONV_1X1:
    return kiln_conv2d_1x1_s8(&c->conv, &rq, c->input, c->weights, c->bias, out,
                              scratch);
  case KILN_MCU_CONV_3X3:
    return kiln_conv2d_3x3_s8(&c->conv, &rq, c->input, c->weights, c->bias, out,
                              scratch);
  case KILN_MCU_CONV_GENERIC:
    return kiln_conv2d_generic_s8(&c->conv, &rq, c->input, c->weights, c->bias,
                                  out);
  case KILN_MCU_DWCONV:
    return kiln_dwconv2d_s8(&c->conv, &rq, c->input, c->weights, c->bias, out,
                            scratch);
  case KILN_MCU_DWCONV_GENERIC:
    return kiln_dwconv2d_generic_s8(&c->conv, &rq, c->input, c->weights,
                                    c->bias, out);
  case KILN_MCU_DWCONV_INPLACE:
    memcpy(inplace, c->input, (size_t)c->input_size);
    *result = inplace;
    return kiln_dwconv2d_inplace_s8(&c->conv, &rq, c->weights, c->bias, inplace,
                                    scratch);
  case KILN_MCU_FC:
    return kiln_fully_connected_s8(&c->fc, &rq, c->input, c->weights, c->bias,
                                   out);
  case KILN_MCU_AVGPOOL:
    return kiln_avgpool2d_s8(&c->pool, c->input, out);
  case KILN_MCU_MAXPOOL:
    return kiln_maxpool2d_s8(&c->pool, c->input, out);
  case KILN_MCU_GLOBAL_AVGPOOL:
    return kiln_global_avgpool_s8(&c->gap, c->input, out);
  case KILN_MCU_ADD:
    return kiln_add_s8(&c->add, c->input, c->input2, out, c->count);
  case KILN_MCU_ADD_BROADCAST:
    return kiln_add_broadcast_s8(&c->add, &c->broadcast, c->input, c->input2,
                                 out);
  case KILN_MCU_MUL:
    return kiln_mul_s8(&c->mul, c->input, c->input2, out, c->count);
  case KILN_MCU_MUL_BROADCAST:
    return kiln_mul_broadcast_s8(&c->mul, &c->broadcast, c->input, c->input2,
                                 out);
  case KILN_MCU_REQUANTIZE:
    return kiln_requantize_s8(&c->requantize, c->input, out, c->count);
  case KILN_MCU_CLAMP:
    return kiln_clamp_s8(c->input, out, c->count, c->act_min, c->act_max);
  case KILN_MCU_CONCAT:
    return kiln_concat_s8(c->concat_inputs, c->concat_count, c->concat_outer,
                          c->concat_zp, out);
  case KILN_MCU_PAD:
    return kiln_pad_s8(&c->pad, c->input, out);
  case KILN_MCU_SOFTMAX:
    /* In place, as generated programs may run it. */
    memcpy(inplace, c->input, (size_t)c->input_size);
    *result = inplace;
    return kiln_softmax_s8(inplace, inplace, c->count, c->row_len, c->table);
  case KILN_MCU_QUANTIZE:
    return kiln_quantize_f32_s8(c->finput, out, c->count, c->scale,
                                c->zero_point);
  case KILN_MCU_DEQUANTIZE:
    return kiln_dequantize_s8_f32(c->input, (float *)kiln_mcu_output, c->count,
                                  c->scale, c->zero_point);
  }
  return KILN_RT_INVALID_ARGUMENT;
}

/** Returns the scratch bytes case |c| needs, as the runtime computes them. */
static size_t scratch_needed(const kiln_mcu_case_t *c) {
  switch (c->kind) {
  case KILN_MCU_CONV:
  case KILN_MCU_CONV_1X1:
  case KILN_MCU_CONV_3X3:
    return kiln_conv2d_s8_scratch_bytes(&c->conv);
  case KILN_MCU_DWCONV:
    return kiln_dwconv2d_s8_scratch_bytes(&c->conv);
  case KILN_MCU_DWCONV_INPLACE:
    return kiln_dwconv2d_inplace_s8_scratch_bytes(&c->conv);
  default:
    return 0;
  }
}

int main(void) {
  int32_t i, failures = 0;
  printf("kiln mcu kernel test: runtime path %s, %ld cases\n", kiln_rt_path(),
         (long)kiln_mcu_num_cases);
  for (i = 0; i < kiln_mcu_num_cases; ++i) {
    const kiln_mcu_case_t *c = &kiln_mcu_cases[i];
    const void *result;
    kiln_rt_status_t status;
    if (scratch_needed(c) > (size_t)kiln_mcu_scratch_bytes) {
      printf("FAIL case %ld (%s): needs %lu scratch bytes, have %ld\n", (long)i,
             c->name, (unsigned long)scratch_needed(c),
             (long)kiln_mcu_scratch_bytes);
      ++failures;
      continue;
    }
    /* Poison the output so that unwritten bytes cannot match by luck. */
    memset(kiln_mcu_output, 0x5A, (size_t)c->expected_bytes);
    status = run_case(c, &result);
    if (status != KILN_RT_OK) {
      printf("FAIL case %ld (%s): status %d\n", (long)i, c->name, (int)status);
      ++failures;
    } else if (memcmp(result, c->expected, (size_t)c->expected_bytes) != 0) {
      int32_t j = 0;
      const uint8_t *got = (const uint8_t *)result;
      const uint8_t *want = (const uint8_t *)c->expected;
      while (got[j] == want[j])
        ++j;
      printf("FAIL case %ld (%s): byte %ld is %u, expected %u\n", (long)i,
             c->name, (long)j, got[j], want[j]);
      ++failures;
    }
  }
  printf("%ld of %ld cases match the reference\n",
         (long)(kiln_mcu_num_cases - failures), (long)kiln_mcu_num_cases);
  return failures == 0 ? 0 : 1;
}
