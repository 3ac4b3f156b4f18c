//===- Conv.cpp - Reference int8 convolution and fully connected -*- C++
//-*-===//
// SPDX-License-Identifier: Apache-2.0
//
// Integer reference semantics of 2-D convolution (groups, depthwise with
// channel multiplier, strides, dilations, asymmetric padding, per-channel
// requantization) and of fully connected layers, as TFLite's
// reference_integer_ops compute them. Plain nested loops over the
// definition in IntegerKernels.h.
//
//===----------------------------------------------------------------------===//

#include "compiler/reference/Checks.h"
#include "compiler/reference/IntegerKernels.h"

namespace kiln::ref {

using namespace detail;

/// Returns the output size of one spatial dim of a convolution (floor
/// division); not positive when the dilated kernel does not fit.
static int64_t convOutputSize(int64_t size, int64_t padBefore, int64_t padAfter,
                              int64_t kernel, int64_t stride,
                              int64_t dilation) {
  const int64_t effectiveKernel = dilation * (kernel - 1) + 1;
  const int64_t span = size + padBefore + padAfter - effectiveKernel;
  if (span < 0 || stride <= 0)
    return 0;
  return span / stride + 1;
}

int64_t Conv2DParams::outputHeight() const {
  return convOutputSize(inputHeight, padTop, padBottom, kernelHeight,
                        strideHeight, dilationHeight);
}

int64_t Conv2DParams::outputWidth() const {
  return convOutputSize(inputWidth, padLeft, padRight, kernelWidth, strideWidth,
                        dilationWidth);
}

/// Returns ok when |p| describes a valid convolution.
static Status checkConvParams(const Conv2DParams &p) {
  const char *op = "conv2d";
  const std::pair<const char *, int64_t> positives[] = {
      {"batch", p.batch},
      {"input height", p.inputHeight},
      {"input width", p.inputWidth},
      {"input channels", p.inputChannels},
      {"output channels", p.outputChannels},
      {"kernel height", p.kernelHeight},
      {"kernel width", p.kernelWidth},
      {"stride height", p.strideHeight},
      {"stride width", p.strideWidth},
      {"dilation height", p.dilationHeight},
      {"dilation width", p.dilationWidth},
      {"groups", p.groups}};
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
  if (p.inputChannels % p.groups != 0 || p.outputChannels % p.groups != 0)
    return fail(op,
                "input channels " + std::to_string(p.inputChannels) +
                    " and output channels " + std::to_string(p.outputChannels) +
                    " must be multiples of groups " + std::to_string(p.groups));
  if (p.outputHeight() <= 0 || p.outputWidth() <= 0)
    return fail(op, "the dilated kernel does not fit the padded input");
  if (Status s = checkZeroPoint(op, "input zero point", p.inputZeroPoint); !s)
    return s;
  if (Status s = checkZeroPoint(op, "output zero point", p.outputZeroPoint); !s)
    return s;
  return checkActivation(op, p.activation);
}

Status conv2d(const Conv2DParams &p, Span<const int8_t> input,
              Span<const int8_t> weights, Span<const int32_t> bias,
              const Requantization &rq, Span<int8_t> output) {
  const char *op = "conv2d";
  if (Status s = checkConvParams(p); !s)
    return s;
  const int64_t outH = p.outputHeight();
  const int64_t outW = p.outputWidth();
  const int64_t inPerGroup = p.inputChannels / p.groups;
  const int64_t outPerGroup = p.outputChannels / p.groups;
  if (Status s =
          checkSize(op, "input", input.size(),
                    p.batch * p.inputHeight * p.inputWidth * p.inputChannels);
      !s)
    return s;
  if (Status s = checkSize(op, "weights", weights.size(),
                           p.outputChannels * p.kernelHeight * p.kernelWidth *
                               inPerGroup);
      !s)
    return s;
  if (!bias.empty())
    if (Status s = checkSize(op, "bias", bias.size(), p.outputChannels); !s)
      return s;
  if (Status s = checkSize(op, "output", output.size(),
                           p.batch * outH * outW * p.outputChannels);
      !s)
    return s;
  if (Status s = checkRequantization(op, rq, p.outputChannels); !s)
    return s;

  for (int64_t n = 0; n < p.batch; ++n) {
    for (int64_t oy = 0; oy < outH; ++oy) {
      for (int64_t ox = 0; ox < outW; ++ox) {
        for (int64_t oc = 0; oc < p.outputChannels; ++oc) {
          const int64_t group = oc / outPerGroup;
          int32_t acc = bias.empty() ? 0 : bias[oc];
          for (int64_t ky = 0; ky < p.kernelHeight; ++ky) {
            const int64_t iy =
                oy * p.strideHeight - p.padTop + ky * p.dilationHeight;
            if (iy < 0 || iy >= p.inputHeight)
              continue; // Padding reads the zero point: contributes 0.
            for (int64_t kx = 0; kx < p.kernelWidth; ++kx) {
              const int64_t ix =
                  ox * p.strideWidth - p.padLeft + kx * p.dilationWidth;
              if (ix < 0 || ix >= p.inputWidth)
                continue;
              for (int64_t i = 0; i < inPerGroup; ++i) {
                const int64_t ic = group * inPerGroup + i;
                const int32_t x =
                    input[((n * p.inputHeight + iy) * p.inputWidth + ix) *
                              p.inputChannels +
                          ic];
                const int32_t w =
                    weights[((oc * p.kernelHeight + ky) * p.kernelWidth + kx) *
                                inPerGroup +
                            i];
                acc = wrappingMac(acc, x - p.inputZeroPoint, w);
              }
            }
          }
          output[((n * outH + oy) * outW + ox) * p.outputChannels + oc] =
              requantizeOutput(acc, channelMultiplier(rq, oc),
                               p.outputZeroPoint, p.activation);
        }
      }
    }
  }
  return Status::ok();
}

Status fullyConnected(const FullyConnectedParams &p, Span<const int8_t> input,
                      Span<const int8_t> weights, Span<const int32_t> bias,
                      const Requantization &rq, Span<int8_t> output) {
  const char *op = "fully_connected";
  if (Status s = checkPositive(op, "batch", p.batch); !s)
    return s;
  if (Status s = checkPositive(op, "input features", p.inputFeatures); !s)
    return s;
  if (Status s = checkPositive(op, "output features", p.outputFeatures); !s)
    return s;
  if (Status s = checkZeroPoint(op, "input zero point", p.inputZeroPoint); !s)
    return s;
  if (Status s = checkZeroPoint(op, "output zero point", p.outputZeroPoint); !s)
    return s;
  if (Status s = checkActivation(op, p.activation); !s)
    return s;
  if (Status s =
          checkSize(op, "input", input.size(), p.batch * p.inputFeatures);
      !s)
    return s;
  if (Status s = checkSize(op, "weights", weights.size(),
                           p.outputFeatures * p.inputFeatures);
      !s)
    return s;
  if (!bias.empty())
    if (Status s = checkSize(op, "bias", bias.size(), p.outputFeatures); !s)
      return s;
  if (Status s =
          checkSize(op, "output", output.size(), p.batch * p.outputFeatures);
      !s)
    return s;
  if (Status s = checkRequantization(op, rq, p.outputFeatures); !s)
    return s;

  for (int64_t b = 0; b < p.batch; ++b) {
    for (int64_t o = 0; o < p.outputFeatures; ++o) {
      int32_t acc = bias.empty() ? 0 : bias[o];
      for (int64_t i = 0; i < p.inputFeatures; ++i) {
        const int32_t x = input[b * p.inputFeatures + i];
        const int32_t w = weights[o * p.inputFeatures + i];
        acc = wrappingMac(acc, x - p.inputZeroPoint, w);
      }
      output[b * p.outputFeatures + o] = requantizeOutput(
          acc, channelMultiplier(rq, o), p.outputZeroPoint, p.activation);
    }
  }
  return Status::ok();
}

} // namespace kiln::ref
