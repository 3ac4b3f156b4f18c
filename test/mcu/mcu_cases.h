/*===- mcu_cases.h - Test cases run by the Cortex-M kernel test --*- C -*-===//
 * SPDX-License-Identifier: Apache-2.0
 *
 * The case table that kiln-mcu-vectors (GenerateVectors.cpp) writes as C on
 * the host, with expected outputs computed by the integer reference
 * (kiln::ref), and that kernel_test.c runs on the emulated core. One struct
 * type covers every kernel; each case fills the fields its kind uses.
 *===----------------------------------------------------------------------===*/

#ifndef KILN_TEST_MCU_MCU_CASES_H
#define KILN_TEST_MCU_MCU_CASES_H

#include "kiln_rt.h"

#include <stdint.h>

/** Which runtime entry point a case calls. */
typedef enum kiln_mcu_kind {
  KILN_MCU_CONV,           /* kiln_conv2d_s8 */
  KILN_MCU_CONV_1X1,       /* kiln_conv2d_1x1_s8 */
  KILN_MCU_CONV_3X3,       /* kiln_conv2d_3x3_s8 */
  KILN_MCU_CONV_GENERIC,   /* kiln_conv2d_generic_s8 */
  KILN_MCU_DWCONV,         /* kiln_dwconv2d_s8 */
  KILN_MCU_DWCONV_GENERIC, /* kiln_dwconv2d_generic_s8 */
  KILN_MCU_DWCONV_INPLACE, /* kiln_dwconv2d_inplace_s8 */
  KILN_MCU_FC,             /* kiln_fully_connected_s8 */
  KILN_MCU_AVGPOOL,        /* kiln_avgpool2d_s8 */
  KILN_MCU_MAXPOOL,        /* kiln_maxpool2d_s8 */
  KILN_MCU_GLOBAL_AVGPOOL, /* kiln_global_avgpool_s8 */
  KILN_MCU_ADD,            /* kiln_add_s8 */
  KILN_MCU_ADD_BROADCAST,  /* kiln_add_broadcast_s8 */
  KILN_MCU_MUL,            /* kiln_mul_s8 */
  KILN_MCU_MUL_BROADCAST,  /* kiln_mul_broadcast_s8 */
  KILN_MCU_REQUANTIZE,     /* kiln_requantize_s8 */
  KILN_MCU_CLAMP,          /* kiln_clamp_s8 */
  KILN_MCU_CONCAT,         /* kiln_concat_s8 */
  KILN_MCU_PAD,            /* kiln_pad_s8 */
  KILN_MCU_SOFTMAX,        /* kiln_softmax_s8 */
  KILN_MCU_QUANTIZE,       /* kiln_quantize_f32_s8 */
  KILN_MCU_DEQUANTIZE      /* kiln_dequantize_s8_f32 */
} kiln_mcu_kind_t;

/** One generated case. */
typedef struct kiln_mcu_case {
  const char *name;
  kiln_mcu_kind_t kind;
  kiln_conv_params_t conv;
  kiln_fc_params_t fc;
  kiln_pool_params_t pool;
  kiln_global_avgpool_params_t gap;
  kiln_add_params_t add;
  kiln_mul_params_t mul;
  kiln_requantize_params_t requantize;
  kiln_broadcast_t broadcast;
  kiln_pad_params_t pad;
  const kiln_concat_input_t *concat_inputs;
  int32_t concat_count, concat_outer, concat_zp;
  /* Element count (elementwise, quantize), or softmax rows. */
  int32_t count;
  int32_t row_len;
  int32_t act_min, act_max;
  float scale;
  int32_t zero_point;
  const int8_t *input;
  int32_t input_size;
  const int8_t *input2;
  const int8_t *weights;
  const int32_t *bias;
  const int32_t *multipliers;
  const int32_t *shifts;
  int32_t per_channel;
  const int32_t *table;
  const float *finput;
  const void *expected;
  int32_t expected_bytes;
} kiln_mcu_case_t;

/** The generated cases and their number. */
extern const kiln_mcu_case_t kiln_mcu_cases[];
extern const int32_t kiln_mcu_num_cases;

/** Buffers sized by the generator for the largest case (4-byte aligned). */
extern uint32_t kiln_mcu_output[];
extern uint32_t kiln_mcu_scratch[];
extern uint32_t kiln_mcu_inplace[];
extern const int32_t kiln_mcu_scratch_bytes;

#endif /* KILN_TEST_MCU_MCU_CASES_H */
