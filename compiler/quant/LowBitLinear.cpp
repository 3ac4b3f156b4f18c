//===- LowBitLinear.cpp - Exact semantics of a low-bit linear layer -*- C++ -*-//
// SPDX-License-Identifier: Apache-2.0
//
// Format names and checks, the weight quantizers (thin wrappers over Int8.h,
// GroupInt4.h, Qoq.h and NvFp4.h that keep the stored integer form), and
// the forward pass of LowBitLinear.h with its three accumulation orders.
//
//===----------------------------------------------------------------------===//

#include "kiln/quant/LowBitLinear.h"

#include "kiln/quant/FloatFormats.h"
#include "kiln/quant/GroupInt4.h"
#include "kiln/quant/Int8.h"
#include "kiln/quant/Qoq.h"

#include <cmath>
#include <cstdlib>

namespace kiln::quant {

const char *weightFormatName(WeightFormat format) {
  switch (format) {
  case WeightFormat::Int8:
    return "int8";
  case WeightFormat::Int4Sym:
    return "int4-sym";
  case WeightFormat::Int4Asym:
    return "int4-asym";
  case WeightFormat::Qoq:
    return "qoq";
  case WeightFormat::NvFp4:
    return "nvfp4";
  case WeightFormat::NvFp4FourOverSix:
    return "nvfp4-4over6";
  }
  return "unknown";
}

const char *actFormatName(ActFormat format) {
  switch (format) {
  case ActFormat::None:
    return "none";
  case ActFormat::Int8:
    return "int8";
  case ActFormat::Int4Sym:
    return "int4-sym";
  case ActFormat::NvFp4:
    return "nvfp4";
  case ActFormat::NvFp4FourOverSix:
    return "nvfp4-4over6";
  }
  return "unknown";
}

Result<WeightFormat> parseWeightFormat(const std::string &name) {
  for (WeightFormat f :
       {WeightFormat::Int8, WeightFormat::Int4Sym, WeightFormat::Int4Asym,
        WeightFormat::Qoq, WeightFormat::NvFp4,
        WeightFormat::NvFp4FourOverSix})
    if (name == weightFormatName(f))
      return f;
  return Status::error("unknown weight format '" + name +
                       "' (expected int8, int4-sym, int4-asym, qoq, nvfp4 "
                       "or nvfp4-4over6)");
}

Result<ActFormat> parseActFormat(const std::string &name) {
  for (ActFormat f : {ActFormat::None, ActFormat::Int8, ActFormat::Int4Sym,
                      ActFormat::NvFp4, ActFormat::NvFp4FourOverSix})
    if (name == actFormatName(f))
      return f;
  return Status::error("unknown activation format '" + name +
                       "' (expected none, int8, int4-sym, nvfp4 or "
                       "nvfp4-4over6)");
}

/// Returns true for the NVFP4 weight formats.
static bool isNvFp4(WeightFormat f) {
  return f == WeightFormat::NvFp4 || f == WeightFormat::NvFp4FourOverSix;
}

/// Returns true for the NVFP4 activation formats.
static bool isNvFp4(ActFormat f) {
  return f == ActFormat::NvFp4 || f == ActFormat::NvFp4FourOverSix;
}

bool weightFormatIsGrouped(WeightFormat format) {
  return format != WeightFormat::Int8;
}

bool actFormatIsGrouped(ActFormat format) {
  return format == ActFormat::Int4Sym || isNvFp4(format);
}

Status checkLowBitFormats(WeightFormat weight, int64_t weightGroup,
                          ActFormat act, int64_t actGroup, int64_t k) {
  std::string pair = std::string("weights '") + weightFormatName(weight) +
                     "' with activations '" + actFormatName(act) + "'";
  if (k <= 0)
    return Status::error("the input feature count must be positive, got " +
                         std::to_string(k));
  if (weightFormatIsGrouped(weight)) {
    int64_t expected = isNvFp4(weight) ? kNvFp4BlockSize : weightGroup;
    if (isNvFp4(weight) && weightGroup != kNvFp4BlockSize)
      return Status::error("nvfp4 weights need group size 16, got " +
                           std::to_string(weightGroup));
    if (expected <= 0 || k % expected != 0)
      return Status::error("weight group size " + std::to_string(expected) +
                           " must be positive and divide the " +
                           std::to_string(k) + " input features");
  } else if (weightGroup != 0) {
    return Status::error("int8 weights are per channel: group size must be "
                         "0, got " +
                         std::to_string(weightGroup));
  }
  if (actFormatIsGrouped(act)) {
    if (isNvFp4(act) && actGroup != kNvFp4BlockSize)
      return Status::error("nvfp4 activations need group size 16, got " +
                           std::to_string(actGroup));
    if (actGroup <= 0 || k % actGroup != 0)
      return Status::error("activation group size " +
                           std::to_string(actGroup) +
                           " must be positive and divide the " +
                           std::to_string(k) + " input features");
  } else if (actGroup != 0) {
    return Status::error(std::string("activations '") + actFormatName(act) +
                         "' are not grouped: group size must be 0, got " +
                         std::to_string(actGroup));
  }
  switch (act) {
  case ActFormat::None:
    return Status::ok();
  case ActFormat::Int8:
    if (weight == WeightFormat::Int8 || weight == WeightFormat::Qoq)
      return Status::ok();
    break;
  case ActFormat::Int4Sym:
    if (weight == WeightFormat::Int4Sym) {
      if (weightGroup != actGroup)
        return Status::error("int4 weights and activations need the same "
                             "group size, got " +
                             std::to_string(weightGroup) + " and " +
                             std::to_string(actGroup));
      return Status::ok();
    }
    break;
  case ActFormat::NvFp4:
  case ActFormat::NvFp4FourOverSix:
    if (isNvFp4(weight))
      return Status::ok();
    break;
  }
  return Status::error(pair + " have no kernel (supported: int8 x int8, "
                              "qoq x int8, int4-sym x int4-sym, nvfp4 x "
                              "nvfp4, and any weights with float "
                              "activations)");
}

//===----------------------------------------------------------------------===//
// Weights
//===----------------------------------------------------------------------===//

int64_t LowBitWeights::storageBits() const {
  const int64_t elements = rows * cols;
  const int64_t groups = rows * groupsPerRow();
  switch (format) {
  case WeightFormat::Int8:
    return elements * 8 + rows * 32;
  case WeightFormat::Int4Sym:
    return elements * 4 + groups * 32;
  case WeightFormat::Int4Asym:
    return elements * 4 + groups * (32 + 4);
  case WeightFormat::Qoq:
    return elements * 4 + rows * 32 + groups * (8 + 8);
  case WeightFormat::NvFp4:
  case WeightFormat::NvFp4FourOverSix:
    return elements * 4 + groups * 8 + 32;
  }
  return 0;
}

std::vector<int8_t> LowBitWeights::int8Values() const {
  if (format == WeightFormat::Int8)
    return codes;
  if (format != WeightFormat::Qoq)
    return {};
  std::vector<int8_t> out(codes.size());
  const int64_t groups = groupsPerRow();
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t c = 0; c < cols; ++c) {
      int64_t g = r * groups + c / groupSize;
      QoqGroupParams p;
      p.scale = groupScales[g];
      p.scaledZero = zeros[g];
      out[r * cols + c] = dequantizeQoqValue(
          static_cast<uint8_t>(codes[r * cols + c]), p);
    }
  }
  return out;
}

Matrix LowBitWeights::dequantize() const {
  Matrix m(rows, cols);
  const int64_t groups = groupsPerRow();
  switch (format) {
  case WeightFormat::Int8:
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t c = 0; c < cols; ++c)
        m.at(r, c) = static_cast<float>(codes[r * cols + c]) * scales[r];
    break;
  case WeightFormat::Int4Sym:
  case WeightFormat::Int4Asym:
    for (int64_t r = 0; r < rows; ++r) {
      for (int64_t c = 0; c < cols; ++c) {
        int64_t g = r * groups + c / groupSize;
        int32_t q = codes[r * cols + c];
        if (format == WeightFormat::Int4Asym)
          q -= zeros[g];
        m.at(r, c) = static_cast<float>(q) * scales[g];
      }
    }
    break;
  case WeightFormat::Qoq: {
    std::vector<int8_t> q8 = int8Values();
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t c = 0; c < cols; ++c)
        m.at(r, c) = static_cast<float>(q8[r * cols + c]) * scales[r];
    break;
  }
  case WeightFormat::NvFp4:
  case WeightFormat::NvFp4FourOverSix: {
    NvFp4Tensor t;
    t.rows = rows;
    t.cols = cols;
    t.codes.assign(codes.begin(), codes.end());
    t.blockScales = blockScales;
    t.tensorScale = tensorScale;
    return t.dequantize();
  }
  }
  return m;
}

Result<LowBitWeights> quantizeLowBitWeights(MatrixRef w, WeightFormat format,
                                            int64_t groupSize,
                                            BlockErrorMetric metric) {
  if (Status st = checkMatrix(w, "weights"); !st)
    return st;
  LowBitWeights q;
  q.format = format;
  q.rows = w.rows;
  q.cols = w.cols;
  switch (format) {
  case WeightFormat::Int8: {
    Result<Int8PerRow> r = quantizeInt8PerRow(w, 127);
    if (!r)
      return r.status();
    q.groupSize = 0;
    q.codes = std::move(r->values);
    q.scales = std::move(r->scales);
    return q;
  }
  case WeightFormat::Int4Sym:
  case WeightFormat::Int4Asym: {
    Result<GroupInt4> r = quantizeGroupInt4(
        w, groupSize,
        format == WeightFormat::Int4Sym ? Int4Kind::Symmetric
                                        : Int4Kind::Asymmetric);
    if (!r)
      return r.status();
    q.groupSize = groupSize;
    q.codes = std::move(r->values);
    q.scales = std::move(r->scales);
    q.zeros = std::move(r->zeros);
    return q;
  }
  case WeightFormat::Qoq: {
    Result<QoqWeights> r = quantizeQoqWeights(w, groupSize);
    if (!r)
      return r.status();
    q.groupSize = groupSize;
    q.codes.assign(r->values.begin(), r->values.end());
    q.scales = std::move(r->channelScales);
    for (const QoqGroupParams &p : r->groups) {
      q.groupScales.push_back(p.scale);
      q.zeros.push_back(p.scaledZero);
    }
    return q;
  }
  case WeightFormat::NvFp4:
  case WeightFormat::NvFp4FourOverSix: {
    if (groupSize != 0 && groupSize != kNvFp4BlockSize)
      return Status::error("nvfp4 blocks have 16 values, got group size " +
                           std::to_string(groupSize));
    NvFp4Options options;
    options.scaling = format == WeightFormat::NvFp4
                          ? NvFp4Scaling::Standard
                          : NvFp4Scaling::FourOverSix;
    options.metric = metric;
    if (getenv("KILN_46_E")) options.scaleE4M3Max = atof(getenv("KILN_46_E")); // HACK
    Result<NvFp4Tensor> r = quantizeNvFp4(w, options);
    if (!r)
      return r.status();
    q.groupSize = kNvFp4BlockSize;
    q.codes.assign(r->codes.begin(), r->codes.end());
    q.blockScales = std::move(r->blockScales);
    q.tensorScale = r->tensorScale;
    return q;
  }
  }
  return Status::error("unknown weight format");
}

/// Returns an error naming |what| unless every value of |v| is a positive
/// finite float.
static Status checkPositive(const std::vector<float> &v,
                            const std::string &what) {
  for (size_t i = 0; i < v.size(); ++i)
    if (!(std::isfinite(v[i]) && v[i] > 0.0f))
      return Status::error(what + " " + std::to_string(i) +
                           " must be positive and finite, got " +
                           std::to_string(v[i]));
  return Status::ok();
}

Status checkLowBitWeights(const LowBitWeights &w) {
  if (w.rows <= 0 || w.cols <= 0)
    return Status::error("weight dimensions must be positive");
  if (static_cast<int64_t>(w.codes.size()) != w.rows * w.cols)
    return Status::error("expected " + std::to_string(w.rows * w.cols) +
                         " weight codes, got " +
                         std::to_string(w.codes.size()));
  if (weightFormatIsGrouped(w.format) &&
      (w.groupSize <= 0 || w.cols % w.groupSize != 0))
    return Status::error("group size " + std::to_string(w.groupSize) +
                         " does not divide the " + std::to_string(w.cols) +
                         " input features");
  const size_t groups = static_cast<size_t>(w.rows * w.groupsPerRow());
  auto expect = [](size_t actual, size_t expected, const char *what) {
    if (actual != expected)
      return Status::error(std::string("expected ") +
                           std::to_string(expected) + " " + what + ", got " +
                           std::to_string(actual));
    return Status::ok();
  };
  int lo = 0, hi = 0;
  Status st;
  switch (w.format) {
  case WeightFormat::Int8:
    lo = -127, hi = 127;
    st = expect(w.scales.size(), static_cast<size_t>(w.rows), "scales");
    break;
  case WeightFormat::Int4Sym:
    lo = -7, hi = 7;
    st = expect(w.scales.size(), groups, "scales");
    break;
  case WeightFormat::Int4Asym:
    lo = 0, hi = 15;
    st = expect(w.scales.size(), groups, "scales");
    if (st)
      st = expect(w.zeros.size(), groups, "zero points");
    for (uint8_t z : w.zeros)
      if (st && z > 15)
        st = Status::error("int4 zero points must be in [0, 15], got " +
                           std::to_string(z));
    break;
  case WeightFormat::Qoq:
    lo = 0, hi = 15;
    st = expect(w.scales.size(), static_cast<size_t>(w.rows), "scales");
    if (st)
      st = expect(w.zeros.size(), groups, "scaled zeros");
    if (st)
      st = expect(w.groupScales.size(), groups, "group scales");
    for (size_t g = 0; st && g < w.groupScales.size(); ++g) {
      int s2 = w.groupScales[g], zs = w.zeros[g];
      if (s2 < 1 || s2 > 16 || zs % s2 != 0 || zs / s2 > 15)
        st = Status::error("qoq group " + std::to_string(g) +
                           " needs a scale in [1, 16] and a scaled zero "
                           "z*s2 with z in [0, 15], got scale " +
                           std::to_string(s2) + " and scaled zero " +
                           std::to_string(zs));
    }
    break;
  case WeightFormat::NvFp4:
  case WeightFormat::NvFp4FourOverSix:
    lo = 0, hi = 15;
    st = expect(w.blockScales.size(), groups, "block scales");
    if (st && !(std::isfinite(w.tensorScale) && w.tensorScale > 0.0f))
      st = Status::error("the nvfp4 tensor scale must be positive and "
                         "finite, got " +
                         std::to_string(w.tensorScale));
    break;
  }
  if (!st)
    return st;
  if (Status s = checkPositive(w.scales, "weight scale"); !s)
    return s;
  for (size_t i = 0; i < w.codes.size(); ++i)
    if (w.codes[i] < lo || w.codes[i] > hi)
      return Status::error("weight code " + std::to_string(i) + " is " +
                           std::to_string(w.codes[i]) + ", outside [" +
                           std::to_string(lo) + ", " + std::to_string(hi) +
                           "] of '" + weightFormatName(w.format) + "'");
  return Status::ok();
}

//===----------------------------------------------------------------------===//
// Forward
//===----------------------------------------------------------------------===//

/// int8 activations per token times int8 weight values (Int8 or QoQ).
static Result<Matrix> forwardInt8(MatrixRef x, const LowBitWeights &w) {
  Result<Int8PerRow> qa = quantizeInt8PerRow(x, 127);
  if (!qa)
    return qa.status();
  std::vector<int8_t> w8 = w.int8Values();
  Matrix y(x.rows, w.rows);
  const int64_t k = x.cols;
  for (int64_t m = 0; m < x.rows; ++m) {
    const int8_t *a = qa->values.data() + m * k;
    for (int64_t n = 0; n < w.rows; ++n) {
      const int8_t *b = w8.data() + n * k;
      int32_t acc = 0;
      for (int64_t i = 0; i < k; ++i)
        acc += static_cast<int32_t>(a[i]) * static_cast<int32_t>(b[i]);
      y.at(m, n) = static_cast<float>(acc) * (qa->scales[m] * w.scales[n]);
    }
  }
  return y;
}

/// Symmetric int4 activations per group times symmetric int4 weights with
/// the same groups.
static Result<Matrix> forwardInt4(MatrixRef x, const LowBitWeights &w,
                                  int64_t group) {
  Result<GroupInt4> qa = quantizeGroupInt4(x, group, Int4Kind::Symmetric);
  if (!qa)
    return qa.status();
  Matrix y(x.rows, w.rows);
  const int64_t k = x.cols, groups = k / group;
  for (int64_t m = 0; m < x.rows; ++m) {
    const int8_t *a = qa->values.data() + m * k;
    const float *sa = qa->scales.data() + m * groups;
    for (int64_t n = 0; n < w.rows; ++n) {
      const int8_t *b = w.codes.data() + n * k;
      const float *sw = w.scales.data() + n * groups;
      float sum = 0.0f;
      for (int64_t g = 0; g < groups; ++g) {
        int32_t acc = 0;
        for (int64_t i = g * group; i < (g + 1) * group; ++i)
          acc += static_cast<int32_t>(a[i]) * static_cast<int32_t>(b[i]);
        float partial = static_cast<float>(acc) * (sa[g] * sw[g]);
        sum = sum + partial;
      }
      y.at(m, n) = sum;
    }
  }
  return y;
}

/// Dequantized (or float) activations times the dequantized weights, in
/// double, k ascending.
static Result<Matrix> forwardFloat(MatrixRef x, const LowBitWeights &w,
                                   const ActQuant &act) {
  Matrix xq;
  MatrixRef xin = x;
  if (isNvFp4(act.format)) {
    NvFp4Options options;
    options.scaling = act.format == ActFormat::NvFp4
                          ? NvFp4Scaling::Standard
                          : NvFp4Scaling::FourOverSix;
    options.metric = act.metric;
    if (getenv("KILN_46_E")) options.scaleE4M3Max = atof(getenv("KILN_46_E")); // HACK
    if (getenv("KILN_46_ACTSTD")) options.scaling = NvFp4Scaling::Standard; // HACK
    Result<Matrix> r = fakeQuantNvFp4(x, options);
    if (!r)
      return r.status();
    xq = r.take();
    xin = xq;
  } else if (act.format != ActFormat::None) {
    return Status::error(std::string("activations '") +
                         actFormatName(act.format) +
                         "' have no float-path kernel");
  }
  Matrix wq = w.dequantize();
  return matmulTransposed(xin, wq);
}

Result<Matrix> lowBitLinearForward(MatrixRef x, const LowBitWeights &w,
                                   const ActQuant &act, const float *bias) {
  if (Status st = checkMatrix(x, "activations"); !st)
    return st;
  if (x.cols != w.cols)
    return Status::error("activations have " + std::to_string(x.cols) +
                         " features, the weight " + std::to_string(w.cols));
  if (Status st = checkLowBitFormats(w.format, w.groupSize, act.format,
                                     act.groupSize, w.cols);
      !st)
    return st;
  if (Status st = checkLowBitWeights(w); !st)
    return st;
  Result<Matrix> y = Status::error("unreachable");
  if (act.format == ActFormat::Int8)
    y = forwardInt8(x, w);
  else if (act.format == ActFormat::Int4Sym)
    y = forwardInt4(x, w, act.groupSize);
  else
    y = forwardFloat(x, w, act);
  if (!y || !bias)
    return y;
  for (int64_t m = 0; m < y->rows; ++m)
    for (int64_t n = 0; n < y->cols; ++n)
      y->at(m, n) = y->at(m, n) + bias[n];
  return y;
}

} // namespace kiln::quant
