//===- NvFp4.cpp - NVFP4 quantization with 4/6 block scaling ----*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// Standard NVFP4 and Four Over Six block scaling, following the recipe in
// NvFp4.h step by step (each step one float32 operation, so that kernels and
// the reference evaluator can reproduce it bit for bit).
//
//===----------------------------------------------------------------------===//

#include "kiln/quant/NvFp4.h"

#include "kiln/quant/FloatFormats.h"

#include <cmath>

namespace kiln::quant {

namespace {

/// One candidate encoding of a 16-value block.
struct BlockCandidate {
  uint8_t scaleBits = 0;
  uint8_t codes[kNvFp4BlockSize] = {};
  double error = 0.0;
};

} // namespace

/// Returns the decode scale e4m3(scaleBits) * g, or 0 when it is not a
/// usable positive finite number.
static float decodeScale(uint8_t scaleBits, float g) {
  float d = e4m3ToFloat(scaleBits) * g;
  return std::isfinite(d) && d > 0.0f ? d : 0.0f;
}

/// Encodes the block |x| with target maximum |target| (6 or 4) under tensor
/// scale |g|, and measures its error with |metric|.
static BlockCandidate encodeBlock(const float *x, float blockMax, float target,
                                  float g, BlockErrorMetric metric) {
  BlockCandidate c;
  c.scaleBits = floatToE4M3(blockMax / (target * g));
  float d = decodeScale(c.scaleBits, g);
  for (int64_t i = 0; i < kNvFp4BlockSize; ++i) {
    c.codes[i] = d > 0.0f ? floatToE2M1(x[i] / d) : 0;
    float deq = d > 0.0f ? e2m1ToFloat(c.codes[i]) * d : 0.0f;
    double err = static_cast<double>(x[i]) - static_cast<double>(deq);
    c.error += metric == BlockErrorMetric::Mse ? err * err : std::fabs(err);
  }
  return c;
}

float NvFp4Tensor::blockDecodeScale(int64_t r, int64_t b) const {
  return decodeScale(blockScales[r * blocksPerRow() + b], tensorScale);
}

Matrix NvFp4Tensor::dequantize() const {
  Matrix m(rows, cols);
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t c = 0; c < cols; ++c) {
      float d = blockDecodeScale(r, c / kNvFp4BlockSize);
      m.at(r, c) = d > 0.0f ? e2m1ToFloat(codes[r * cols + c]) * d : 0.0f;
    }
  }
  return m;
}

Result<NvFp4Tensor> quantizeNvFp4(MatrixRef m, const NvFp4Options &options) {
  if (Status st = checkMatrix(m, "nvfp4 input"); !st)
    return st;
  if (m.cols % kNvFp4BlockSize != 0)
    return Status::error("nvfp4 needs a column count divisible by 16, got " +
                         std::to_string(m.cols));
  float scaleMax = options.scaleE4M3Max;
  if (scaleMax == 0.0f)
    scaleMax = options.scaling == NvFp4Scaling::FourOverSix
                   ? kNvFp4FourOverSixScaleMax
                   : kNvFp4StandardScaleMax;
  if (!(scaleMax > 0.0f && scaleMax <= kE4M3Max))
    return Status::error("nvfp4 scaleE4M3Max must be in (0, 448], got " +
                         std::to_string(scaleMax));
  float amax = 0.0f;
  if (options.tensorAmax) {
    amax = *options.tensorAmax;
    if (!(std::isfinite(amax) && amax > 0.0f))
      return Status::error("nvfp4 tensor amax must be positive and finite, "
                           "got " +
                           std::to_string(amax));
  } else {
    for (int64_t i = 0; i < m.size(); ++i)
      amax = std::fmax(amax, std::fabs(m.data[i]));
  }

  NvFp4Tensor t;
  t.rows = m.rows;
  t.cols = m.cols;
  float g = amax / (kE2M1Max * scaleMax);
  t.tensorScale = g > 0.0f ? g : 1.0f;
  const int64_t blocks = t.blocksPerRow();
  t.codes.resize(static_cast<size_t>(m.size()));
  t.blockScales.resize(static_cast<size_t>(m.rows * blocks));
  t.blockUsesFour.assign(static_cast<size_t>(m.rows * blocks), 0);

  for (int64_t r = 0; r < m.rows; ++r) {
    for (int64_t b = 0; b < blocks; ++b) {
      const float *x = m.row(r) + b * kNvFp4BlockSize;
      float blockMax = 0.0f;
      for (int64_t i = 0; i < kNvFp4BlockSize; ++i)
        blockMax = std::fmax(blockMax, std::fabs(x[i]));
      BlockCandidate best =
          encodeBlock(x, blockMax, 6.0f, t.tensorScale, options.metric);
      if (options.scaling == NvFp4Scaling::FourOverSix) {
        BlockCandidate four =
            encodeBlock(x, blockMax, 4.0f, t.tensorScale, options.metric);
        // Strictly lower only: a tie keeps the standard scale.
        if (four.error < best.error) {
          best = four;
          t.blockUsesFour[r * blocks + b] = 1;
        }
      }
      t.blockScales[r * blocks + b] = best.scaleBits;
      for (int64_t i = 0; i < kNvFp4BlockSize; ++i)
        t.codes[r * m.cols + b * kNvFp4BlockSize + i] = best.codes[i];
    }
  }
  return t;
}

Result<Matrix> fakeQuantNvFp4(MatrixRef m, const NvFp4Options &options) {
  Result<NvFp4Tensor> t = quantizeNvFp4(m, options);
  if (!t)
    return t.status();
  return t->dequantize();
}

} // namespace kiln::quant
