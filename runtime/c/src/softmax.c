/*===- softmax.c - Kiln's integer softmax -----------------------*- C -*-===//
 * SPDX-License-Identifier: Apache-2.0
 *
 * Integer softmax of kiln::ref::softmax: e_j = table[max - x_j], S = sum e_j,
 * out_j = clamp((e_j * 256 + S / 2) / S - 128) in uint32 arithmetic. The
 * 256-entry exp table comes from the compiler; no floating point here. Two
 * passes over the row (max and sum, then outputs), so it may run in place.
 *===----------------------------------------------------------------------===*/

#include "kiln_rt_internal.h"

kiln_rt_status_t kiln_softmax_s8(const int8_t *input, int8_t *output,
                                 int32_t rows, int32_t row_len,
                                 const int32_t *table) {
  int32_t r, j;
  if (input == NULL || output == NULL || table == NULL || rows < 0 ||
      row_len <= 0 || table[0] <= 0 || table[0] > (1 << 23) ||
      table[0] > INT32_MAX / row_len)
    return KILN_RT_INVALID_ARGUMENT;
  for (j = 1; j < 256; ++j)
    if (table[j] < 0 || table[j] > table[0])
      return KILN_RT_INVALID_ARGUMENT;
  for (r = 0; r < rows; ++r) {
    const int8_t *x = input + r * row_len;
    int8_t *y = output + r * row_len;
    int32_t max_value = x[0];
    uint32_t sum = 0, half;
    for (j = 1; j < row_len; ++j)
      if (x[j] > max_value)
        max_value = x[j];
    for (j = 0; j < row_len; ++j)
      sum += (uint32_t)table[max_value - x[j]];
    half = sum / 2u;
    for (j = 0; j < row_len; ++j) {
      const uint32_t e = (uint32_t)table[max_value - x[j]];
      const int32_t q = (int32_t)((e * 256u + half) / sum) - 128;
      y[j] = (int8_t)(q > 127 ? 127 : q);
    }
  }
  return KILN_RT_OK;
}
