//===- Softmax.cpp - Reference int8 softmax ---------------------*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// Kiln's own exact integer softmax (documented in IntegerKernels.h): an exp
// table of 256 int32 entries indexed by max - x, computed once by the
// compiler from the input scale, an int32 row sum and one rounded unsigned
// division per output. The table builder lives here too so that the
// compiler, the evaluator and the tests share one definition.
//
//===----------------------------------------------------------------------===//

#include "compiler/reference/Checks.h"
#include "compiler/reference/IntegerKernels.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace kiln::ref {

using namespace detail;

/// The largest table scale exponent: e_j * 256 + S / 2 must fit in uint32.
static constexpr int kMaxTableBits = 23;

Result<SoftmaxTable> makeSoftmaxTable(double inputScale, double beta,
                                      int64_t rowLength) {
  if (!(inputScale > 0.0) || !std::isfinite(inputScale))
    return Status::error("softmax: input scale must be positive and finite");
  if (!(beta > 0.0) || !std::isfinite(beta))
    return Status::error("softmax: beta must be positive and finite");
  if (rowLength <= 0 || rowLength > std::numeric_limits<int32_t>::max())
    return Status::error("softmax: row length must be in [1, 2^31 - 1], got " +
                         std::to_string(rowLength));
  // The largest K <= 23 with rowLength * 2^K <= INT32_MAX, so that the row
  // sum cannot overflow.
  int bits = kMaxTableBits;
  while (bits > 0 && (rowLength << bits) > std::numeric_limits<int32_t>::max())
    --bits;
  SoftmaxTable table;
  for (int d = 0; d < 256; ++d)
    table[d] = static_cast<int32_t>(
        std::round(std::ldexp(std::exp(-beta * inputScale * d), bits)));
  return table;
}

Status softmax(int64_t rows, int64_t rowLength, const SoftmaxTable &table,
               Span<const int8_t> input, Span<int8_t> output) {
  const char *op = "softmax";
  if (Status s = checkPositive(op, "rows", rows); !s)
    return s;
  if (Status s = checkPositive(op, "row length", rowLength); !s)
    return s;
  if (table[0] <= 0 || table[0] > (1 << kMaxTableBits))
    return fail(op, "table[0] must be in [1, 2^23], got " +
                        std::to_string(table[0]));
  for (int32_t entry : table)
    if (entry < 0 || entry > table[0])
      return fail(op, "table entries must be in [0, table[0]], got " +
                          std::to_string(entry));
  if (static_cast<int64_t>(table[0]) * rowLength >
      std::numeric_limits<int32_t>::max())
    return fail(op, "table[0] * row length must not exceed INT32_MAX");
  if (Status s = checkSize(op, "input", input.size(), rows * rowLength); !s)
    return s;
  if (Status s = checkSize(op, "output", output.size(), rows * rowLength); !s)
    return s;
  for (int64_t r = 0; r < rows; ++r) {
    const int8_t *x = input.data() + r * rowLength;
    int8_t *y = output.data() + r * rowLength;
    const int32_t maxValue = *std::max_element(x, x + rowLength);
    int32_t sum = 0;
    for (int64_t j = 0; j < rowLength; ++j)
      sum += table[maxValue - x[j]];
    const uint32_t usum = static_cast<uint32_t>(sum);
    for (int64_t j = 0; j < rowLength; ++j) {
      const uint32_t e = static_cast<uint32_t>(table[maxValue - x[j]]);
      const int32_t q = static_cast<int32_t>((e * 256u + usum / 2u) / usum);
      y[j] = static_cast<int8_t>(std::clamp(q - 128, -128, 127));
    }
  }
  return Status::ok();
}

} // namespace kiln::ref
