//===- Pooling.cpp - Reference int8 pooling ---------------------*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// Integer reference semantics of average pooling (TFLite's rounding, with
// ONNX's optional count_include_pad), max pooling and global average
// pooling with requantization, on NHWC int8 tensors.
//
//===----------------------------------------------------------------------===//

#include "compiler/reference/Checks.h"
#include "compiler/reference/IntegerKernels.h"

#include <algorithm>

namespace kiln::ref {

using namespace detail;

/// Returns the pooled output size of one dim: floor division, or ceil
/// division without windows that start inside the trailing padding (the
/// PyTorch / onnxruntime rule).
static int64_t poolOutputSize(int64_t size, int64_t padBefore, int64_t padAfter,
                              int64_t kernel, int64_t stride, bool ceilMode) {
  const int64_t span = size + padBefore + padAfter - kernel;
  if (span < 0 || stride <= 0)
    return 0;
  int64_t out = (ceilMode ? (span + stride - 1) / stride : span / stride) + 1;
  if (ceilMode && (out - 1) * stride >= size + padBefore)
    --out;
  return out;
}

int64_t Pool2DParams::outputHeight() const {
  return poolOutputSize(inputHeight, padTop, padBottom, kernelHeight,
                        strideHeight, ceilMode);
}

int64_t Pool2DParams::outputWidth() const {
  return poolOutputSize(inputWidth, padLeft, padRight, kernelWidth, strideWidth,
                        ceilMode);
}

/// Returns ok when |p| describes a valid pooling whose every window overlaps
/// the input, and checks the buffer sizes.
static Status checkPoolParams(const char *op, const Pool2DParams &p,
                              size_t inputSize, size_t outputSize) {
  const std::pair<const char *, int64_t> positives[] = {
      {"batch", p.batch},
      {"input height", p.inputHeight},
      {"input width", p.inputWidth},
      {"channels", p.channels},
      {"kernel height", p.kernelHeight},
      {"kernel width", p.kernelWidth},
      {"stride height", p.strideHeight},
      {"stride width", p.strideWidth}};
  for (const auto &[name, value] : positives)
    if (Status s = checkPositive(op, name, value); !s)
      return s;
  const std::pair<const char *, int64_t> pads[] = {{"pad top", p.padTop},
                                                   {"pad bottom", p.padBottom},
                                                   {"pad left", p.padLeft},
                                                   {"pad right", p.padRight}};
  for (const auto &[name, value] : pads)
    if (Status s = checkNonNegative(op, name, value); !s)
      return s;
  if (p.kernelHeight <= p.padTop || p.kernelHeight <= p.padBottom ||
      p.kernelWidth <= p.padLeft || p.kernelWidth <= p.padRight)
    return fail(op, "padding must be smaller than the kernel so that every "
                    "window overlaps the input");
  // The int32 window sum must not overflow.
  if (p.kernelHeight * p.kernelWidth > (int64_t(1) << 23))
    return fail(op, "kernel height * kernel width must be at most 2^23");
  const int64_t outH = p.outputHeight();
  const int64_t outW = p.outputWidth();
  if (outH <= 0 || outW <= 0)
    return fail(op, "the kernel does not fit the padded input");
  if (Status s = checkZeroPoint(op, "zero point", p.zeroPoint); !s)
    return s;
  if (Status s = checkActivation(op, p.activation); !s)
    return s;
  if (Status s = checkSize(op, "input", inputSize,
                           p.batch * p.inputHeight * p.inputWidth * p.channels);
      !s)
    return s;
  return checkSize(op, "output", outputSize,
                   p.batch * outH * outW * p.channels);
}

/// A window of one output position along one dim: [begin, end) clipped to
/// the input, and the number of positions counted with count_include_pad.
struct Window {
  int64_t begin;
  int64_t end;
  int64_t paddedCount;
};

/// Returns the window of output index |o| along a dim of |size| elements.
static Window window(int64_t o, int64_t stride, int64_t padBefore,
                     int64_t padAfter, int64_t kernel, int64_t size) {
  const int64_t start = o * stride - padBefore;
  const int64_t stop = start + kernel;
  Window w;
  w.begin = std::max<int64_t>(start, 0);
  w.end = std::min(stop, size);
  w.paddedCount = std::min(stop, size + padAfter) - std::max(start, -padBefore);
  return w;
}

Status averagePool2d(const Pool2DParams &p, Span<const int8_t> input,
                     Span<int8_t> output) {
  if (Status s =
          checkPoolParams("average_pool", p, input.size(), output.size());
      !s)
    return s;
  const int64_t outH = p.outputHeight();
  const int64_t outW = p.outputWidth();
  for (int64_t n = 0; n < p.batch; ++n) {
    for (int64_t oy = 0; oy < outH; ++oy) {
      const Window wy = window(oy, p.strideHeight, p.padTop, p.padBottom,
                               p.kernelHeight, p.inputHeight);
      for (int64_t ox = 0; ox < outW; ++ox) {
        const Window wx = window(ox, p.strideWidth, p.padLeft, p.padRight,
                                 p.kernelWidth, p.inputWidth);
        for (int64_t c = 0; c < p.channels; ++c) {
          int32_t sum = 0;
          for (int64_t iy = wy.begin; iy < wy.end; ++iy)
            for (int64_t ix = wx.begin; ix < wx.end; ++ix)
              sum += input[((n * p.inputHeight + iy) * p.inputWidth + ix) *
                               p.channels +
                           c];
          const int32_t valid =
              static_cast<int32_t>((wy.end - wy.begin) * (wx.end - wx.begin));
          int32_t count = valid;
          if (p.countIncludePad) {
            count = static_cast<int32_t>(wy.paddedCount * wx.paddedCount);
            sum += (count - valid) * p.zeroPoint;
          }
          // TFLite rounds the average half away from zero with truncating
          // division.
          const int32_t average =
              sum > 0 ? (sum + count / 2) / count : (sum - count / 2) / count;
          output[((n * outH + oy) * outW + ox) * p.channels + c] =
              static_cast<int8_t>(
                  std::clamp(average, p.activation.min, p.activation.max));
        }
      }
    }
  }
  return Status::ok();
}

Status maxPool2d(const Pool2DParams &p, Span<const int8_t> input,
                 Span<int8_t> output) {
  if (Status s = checkPoolParams("max_pool", p, input.size(), output.size());
      !s)
    return s;
  const int64_t outH = p.outputHeight();
  const int64_t outW = p.outputWidth();
  for (int64_t n = 0; n < p.batch; ++n) {
    for (int64_t oy = 0; oy < outH; ++oy) {
      const Window wy = window(oy, p.strideHeight, p.padTop, p.padBottom,
                               p.kernelHeight, p.inputHeight);
      for (int64_t ox = 0; ox < outW; ++ox) {
        const Window wx = window(ox, p.strideWidth, p.padLeft, p.padRight,
                                 p.kernelWidth, p.inputWidth);
        for (int64_t c = 0; c < p.channels; ++c) {
          int32_t best = -128;
          for (int64_t iy = wy.begin; iy < wy.end; ++iy)
            for (int64_t ix = wx.begin; ix < wx.end; ++ix)
              best = std::max<int32_t>(
                  best, input[((n * p.inputHeight + iy) * p.inputWidth + ix) *
                                  p.channels +
                              c]);
          output[((n * outH + oy) * outW + ox) * p.channels + c] =
              static_cast<int8_t>(
                  std::clamp(best, p.activation.min, p.activation.max));
        }
      }
    }
  }
  return Status::ok();
}

Result<QuantizedMultiplier> makeGlobalAveragePoolMultiplier(double inputScale,
                                                            double outputScale,
                                                            int64_t count) {
  if (count <= 0)
    return Status::error("global_average_pool: count must be positive, got " +
                         std::to_string(count));
  if (!(outputScale > 0.0))
    return Status::error("global_average_pool: output scale must be "
                         "positive");
  return quantizeMultiplier(inputScale /
                            (outputScale * static_cast<double>(count)));
}

Status globalAveragePool(const GlobalAveragePoolParams &p,
                         Span<const int8_t> input, Span<int8_t> output) {
  const char *op = "global_average_pool";
  const std::pair<const char *, int64_t> positives[] = {
      {"batch", p.batch},
      {"height", p.height},
      {"width", p.width},
      {"channels", p.channels}};
  for (const auto &[name, value] : positives)
    if (Status s = checkPositive(op, name, value); !s)
      return s;
  // The int32 sum must not overflow: |x - zp| <= 255 per element.
  if (p.height * p.width > (int64_t(1) << 23))
    return fail(op, "height * width must be at most 2^23");
  if (Status s = checkZeroPoint(op, "input zero point", p.inputZeroPoint); !s)
    return s;
  if (Status s = checkZeroPoint(op, "output zero point", p.outputZeroPoint); !s)
    return s;
  if (Status s = checkActivation(op, p.activation); !s)
    return s;
  if (Status s = checkMultiplier(op, p.multiplier); !s)
    return s;
  if (Status s = checkSize(op, "input", input.size(),
                           p.batch * p.height * p.width * p.channels);
      !s)
    return s;
  if (Status s = checkSize(op, "output", output.size(), p.batch * p.channels);
      !s)
    return s;
  const int64_t count = p.height * p.width;
  for (int64_t n = 0; n < p.batch; ++n) {
    for (int64_t c = 0; c < p.channels; ++c) {
      int32_t sum = 0;
      for (int64_t i = 0; i < count; ++i)
        sum += input[(n * count + i) * p.channels + c];
      sum -= static_cast<int32_t>(count) * p.inputZeroPoint;
      output[n * p.channels + c] =
          requantizeOutput(sum, p.multiplier, p.outputZeroPoint, p.activation);
    }
  }
  return Status::ok();
}

} // namespace kiln::ref
