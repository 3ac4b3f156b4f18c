//===- FakeQuant.cpp - Quantize-dequantize by scheme name -------*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// Dispatch from a QuantSpec to the quantizers of Int8.h, GroupInt4.h and
// NvFp4.h.
//
//===----------------------------------------------------------------------===//

#include "kiln/quant/FakeQuant.h"

#include "kiln/quant/GroupInt4.h"
#include "kiln/quant/Int8.h"
#include "kiln/quant/NvFp4.h"

namespace kiln::quant {

std::string str(const QuantSpec &spec) {
  switch (spec.scheme) {
  case QuantScheme::None:
    return "none";
  case QuantScheme::Int8PerRow:
    return "int8-per-row";
  case QuantScheme::Int4GroupAsym:
    return "int4-asym-g" + std::to_string(spec.groupSize);
  case QuantScheme::Int4GroupSym:
    return "int4-sym-g" + std::to_string(spec.groupSize);
  case QuantScheme::NvFp4:
    return "nvfp4";
  case QuantScheme::NvFp4FourOverSix:
    return "nvfp4-4/6";
  }
  return "unknown";
}

Status checkSpec(const QuantSpec &spec, int64_t cols) {
  switch (spec.scheme) {
  case QuantScheme::None:
  case QuantScheme::Int8PerRow:
    return Status::ok();
  case QuantScheme::Int4GroupAsym:
  case QuantScheme::Int4GroupSym:
    return checkGroupSize(cols, spec.groupSize);
  case QuantScheme::NvFp4:
  case QuantScheme::NvFp4FourOverSix:
    if (cols % kNvFp4BlockSize != 0)
      return Status::error("nvfp4 needs a column count divisible by 16, "
                           "got " +
                           std::to_string(cols));
    return Status::ok();
  }
  return Status::error("unknown quantization scheme");
}

Result<Matrix> fakeQuantize(MatrixRef m, const QuantSpec &spec) {
  if (Status st = checkSpec(spec, m.cols); !st)
    return st;
  switch (spec.scheme) {
  case QuantScheme::None:
    if (Status st = checkMatrix(m, "input"); !st)
      return st;
    return copyOf(m);
  case QuantScheme::Int8PerRow: {
    Result<Int8PerRow> q = quantizeInt8PerRow(m, 127);
    if (!q)
      return q.status();
    return q->dequantize();
  }
  case QuantScheme::Int4GroupAsym:
    return fakeQuantGroupInt4(m, spec.groupSize, Int4Kind::Asymmetric);
  case QuantScheme::Int4GroupSym:
    return fakeQuantGroupInt4(m, spec.groupSize, Int4Kind::Symmetric);
  case QuantScheme::NvFp4: {
    NvFp4Options options;
    options.scaling = NvFp4Scaling::Standard;
    return fakeQuantNvFp4(m, options);
  }
  case QuantScheme::NvFp4FourOverSix: {
    NvFp4Options options;
    options.scaling = NvFp4Scaling::FourOverSix;
    return fakeQuantNvFp4(m, options);
  }
  }
  return Status::error("unknown quantization scheme");
}

} // namespace kiln::quant
