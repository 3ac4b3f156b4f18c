/*===- transpose.c - int8 transpose ------------------------------------------===
 * SPDX-License-Identifier: Apache-2.0
 *
 * kiln_transpose_s8: walks the output in row-major order and reads the
 * input through permuted strides. Used for the layout changes the compiler
 * leaves in a program (e.g. flattening an NHWC feature map that an NCHW
 * model flattens).
 *===----------------------------------------------------------------------===*/

#include "kiln_rt.h"

kiln_rt_status_t kiln_transpose_s8(const kiln_transpose_params_t *params,
                                   const int8_t *input, int8_t *output) {
  int32_t strides[KILN_RT_MAX_RANK];
  int32_t out_dims[KILN_RT_MAX_RANK];
  int32_t step[KILN_RT_MAX_RANK];
  int32_t index[KILN_RT_MAX_RANK];
  int32_t rank = params->rank, d, total = 1, i, offset = 0;
  if (rank < 1 || rank > KILN_RT_MAX_RANK)
    return KILN_RT_INVALID_ARGUMENT;
  strides[rank - 1] = 1;
  for (d = rank - 2; d >= 0; --d)
    strides[d] = strides[d + 1] * params->dims[d + 1];
  for (d = 0; d < rank; ++d) {
    int32_t p = params->perm[d];
    if (p < 0 || p >= rank)
      return KILN_RT_INVALID_ARGUMENT;
    out_dims[d] = params->dims[p];
    step[d] = strides[p];
    index[d] = 0;
    total *= out_dims[d];
  }
  for (i = 0; i < total; ++i) {
    output[i] = input[offset];
    for (d = rank - 1; d >= 0; --d) {
      if (++index[d] < out_dims[d]) {
        offset += step[d];
        break;
      }
      offset -= step[d] * (out_dims[d] - 1);
      index[d] = 0;
    }
  }
  return KILN_RT_OK;
}
