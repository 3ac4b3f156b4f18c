//===- Elementwise.cpp - Reference int8 elementwise ops ---------*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// Integer reference semantics of TFLite's int8 Add and Mul (with NumPy
// broadcasting), int8 -> int8 requantization, ReLU/ReLU6 clamps, concat with
// per-input requantization and constant padding.
//
//===----------------------------------------------------------------------===//

#include "compiler/reference/Checks.h"
#include "compiler/reference/IntegerKernels.h"

#include <algorithm>
#include <cmath>

namespace kiln::ref {

using namespace detail;

/// Returns ok when every scale is positive and finite.
static Status checkScales(const char *op,
                          std::initializer_list<double> scales) {
  for (double scale : scales)
    if (!(scale > 0.0) || !std::isfinite(scale))
      return fail(op, "scales must be positive and finite, got " +
                          std::to_string(scale));
  return Status::ok();
}

/// Returns |result|'s value, or moves its error (prefixed by |op|) into
/// |error| and returns a zero multiplier.
static QuantizedMultiplier
take(const char *op, Result<QuantizedMultiplier> result, Status &error) {
  if (result)
    return *result;
  if (error)
    error = fail(op, result.status().diagnostics()[0].message);
  return {};
}

Result<AddParams> makeAddParams(double scale1, int32_t zeroPoint1,
                                double scale2, int32_t zeroPoint2,
                                double outputScale, int32_t outputZeroPoint,
                                ActivationRange activation) {
  const char *op = "add";
  if (Status s = checkScales(op, {scale1, scale2, outputScale}); !s)
    return s;
  AddParams p;
  p.input1ZeroPoint = zeroPoint1;
  p.input2ZeroPoint = zeroPoint2;
  p.outputZeroPoint = outputZeroPoint;
  p.leftShift = 20;
  p.activation = activation;
  const double twiceMaxInputScale = 2.0 * std::max(scale1, scale2);
  Status error = Status::ok();
  p.input1 = take(op, quantizeMultiplier(scale1 / twiceMaxInputScale), error);
  p.input2 = take(op, quantizeMultiplier(scale2 / twiceMaxInputScale), error);
  p.output = take(op,
                  quantizeMultiplier(twiceMaxInputScale /
                                     (double(1 << p.leftShift) * outputScale)),
                  error);
  if (!error)
    return error;
  return p;
}

Result<MulParams> makeMulParams(double scale1, int32_t zeroPoint1,
                                double scale2, int32_t zeroPoint2,
                                double outputScale, int32_t outputZeroPoint,
                                ActivationRange activation) {
  const char *op = "mul";
  if (Status s = checkScales(op, {scale1, scale2, outputScale}); !s)
    return s;
  MulParams p;
  p.input1ZeroPoint = zeroPoint1;
  p.input2ZeroPoint = zeroPoint2;
  p.outputZeroPoint = outputZeroPoint;
  p.activation = activation;
  Status error = Status::ok();
  p.output = take(op, quantizeMultiplier(scale1 * scale2 / outputScale), error);
  if (!error)
    return error;
  return p;
}

Result<QuantizedMultiplier> makeRequantizeMultiplier(double inputScale,
                                                     double outputScale) {
  if (Status s = checkScales("requantize", {inputScale, outputScale}); !s)
    return s;
  return quantizeMultiplier(inputScale / outputScale);
}

Result<std::vector<int64_t>> broadcastShapes(Span<const int64_t> shape1,
                                             Span<const int64_t> shape2) {
  const size_t rank = std::max(shape1.size(), shape2.size());
  std::vector<int64_t> result(rank);
  for (size_t i = 0; i < rank; ++i) {
    // Right-aligned: missing leading dims are 1.
    const int64_t d1 =
        i < rank - shape1.size() ? 1 : shape1[i - (rank - shape1.size())];
    const int64_t d2 =
        i < rank - shape2.size() ? 1 : shape2[i - (rank - shape2.size())];
    if (d1 < 0 || d2 < 0 || (d1 != d2 && d1 != 1 && d2 != 1))
      return Status::error("shapes " + shapeString(shape1) + " and " +
                           shapeString(shape2) + " do not broadcast");
    result[i] = d1 == 1 ? d2 : d1;
  }
  return result;
}

/// Returns the element strides of |shape| seen with the broadcast |outShape|
/// (right-aligned; 0 along broadcast dims).
static std::vector<int64_t> broadcastStrides(Span<const int64_t> shape,
                                             const std::vector<int64_t> &out) {
  std::vector<int64_t> strides(out.size(), 0);
  int64_t stride = 1;
  for (size_t i = 0; i < shape.size(); ++i) {
    const size_t dim = shape.size() - 1 - i;
    const size_t outDim = out.size() - 1 - i;
    strides[outDim] = shape[dim] == 1 ? 0 : stride;
    stride *= shape[dim];
  }
  return strides;
}

/// Applies |fn|(x1, x2) over the NumPy broadcast of the two inputs, writing
/// the results to |output|; checks every size first.
template <typename Fn>
static Status
broadcastBinary(const char *op, Span<const int64_t> shape1,
                Span<const int8_t> input1, Span<const int64_t> shape2,
                Span<const int8_t> input2, Span<int8_t> output, Fn fn) {
  Result<std::vector<int64_t>> outShape = broadcastShapes(shape1, shape2);
  if (!outShape)
    return fail(op, outShape.status().diagnostics()[0].message);
  if (Status s =
          checkSize(op, "first input", input1.size(), numElements(shape1));
      !s)
    return s;
  if (Status s =
          checkSize(op, "second input", input2.size(), numElements(shape2));
      !s)
    return s;
  const int64_t count = numElements(*outShape);
  if (Status s = checkSize(op, "output", output.size(), count); !s)
    return s;
  const std::vector<int64_t> strides1 = broadcastStrides(shape1, *outShape);
  const std::vector<int64_t> strides2 = broadcastStrides(shape2, *outShape);
  const size_t rank = outShape->size();
  std::vector<int64_t> index(rank, 0);
  for (int64_t flat = 0; flat < count; ++flat) {
    int64_t offset1 = 0;
    int64_t offset2 = 0;
    for (size_t d = 0; d < rank; ++d) {
      offset1 += index[d] * strides1[d];
      offset2 += index[d] * strides2[d];
    }
    output[flat] = fn(input1[offset1], input2[offset2]);
    // Advance the row-major odometer.
    for (size_t d = rank; d-- > 0;) {
      if (++index[d] < (*outShape)[d])
        break;
      index[d] = 0;
    }
  }
  return Status::ok();
}

Status add(const AddParams &p, Span<const int64_t> shape1,
           Span<const int8_t> input1, Span<const int64_t> shape2,
           Span<const int8_t> input2, Span<int8_t> output) {
  const char *op = "add";
  for (int32_t zp : {p.input1ZeroPoint, p.input2ZeroPoint, p.outputZeroPoint})
    if (Status s = checkZeroPoint(op, "zero point", zp); !s)
      return s;
  if (p.leftShift < 0 || p.leftShift > 23)
    return fail(op, "left shift must be in [0, 23], got " +
                        std::to_string(p.leftShift));
  for (QuantizedMultiplier qm : {p.input1, p.input2, p.output})
    if (Status s = checkMultiplier(op, qm); !s)
      return s;
  if (Status s = checkActivation(op, p.activation); !s)
    return s;
  return broadcastBinary(
      op, shape1, input1, shape2, input2, output, [&](int8_t x1, int8_t x2) {
        // |x - zp| <= 255 and leftShift <= 23: no int32 overflow.
        const int32_t shifted1 = (x1 - p.input1ZeroPoint) * (1 << p.leftShift);
        const int32_t shifted2 = (x2 - p.input2ZeroPoint) * (1 << p.leftShift);
        const int32_t scaled1 = multiplyByQuantizedMultiplier(
            shifted1, p.input1.multiplier, p.input1.shift);
        const int32_t scaled2 = multiplyByQuantizedMultiplier(
            shifted2, p.input2.multiplier, p.input2.shift);
        return requantizeOutput(scaled1 + scaled2, p.output, p.outputZeroPoint,
                                p.activation);
      });
}

Status mul(const MulParams &p, Span<const int64_t> shape1,
           Span<const int8_t> input1, Span<const int64_t> shape2,
           Span<const int8_t> input2, Span<int8_t> output) {
  const char *op = "mul";
  for (int32_t zp : {p.input1ZeroPoint, p.input2ZeroPoint, p.outputZeroPoint})
    if (Status s = checkZeroPoint(op, "zero point", zp); !s)
      return s;
  if (Status s = checkMultiplier(op, p.output); !s)
    return s;
  if (Status s = checkActivation(op, p.activation); !s)
    return s;
  return broadcastBinary(
      op, shape1, input1, shape2, input2, output, [&](int8_t x1, int8_t x2) {
        const int32_t product =
            (x1 - p.input1ZeroPoint) * (x2 - p.input2ZeroPoint);
        return requantizeOutput(product, p.output, p.outputZeroPoint,
                                p.activation);
      });
}

Status requantize(const RequantizeParams &p, Span<const int8_t> input,
                  Span<int8_t> output) {
  const char *op = "requantize";
  if (Status s = checkZeroPoint(op, "input zero point", p.inputZeroPoint); !s)
    return s;
  if (Status s = checkZeroPoint(op, "output zero point", p.outputZeroPoint); !s)
    return s;
  if (Status s = checkMultiplier(op, p.multiplier); !s)
    return s;
  if (Status s = checkActivation(op, p.activation); !s)
    return s;
  if (Status s = checkSize(op, "output", output.size(),
                           static_cast<int64_t>(input.size()));
      !s)
    return s;
  for (size_t i = 0; i < input.size(); ++i)
    output[i] = requantizeOutput(input[i] - p.inputZeroPoint, p.multiplier,
                                 p.outputZeroPoint, p.activation);
  return Status::ok();
}

Status clampToActivation(ActivationRange activation, Span<const int8_t> input,
                         Span<int8_t> output) {
  const char *op = "clamp";
  if (Status s = checkActivation(op, activation); !s)
    return s;
  if (Status s = checkSize(op, "output", output.size(),
                           static_cast<int64_t>(input.size()));
      !s)
    return s;
  for (size_t i = 0; i < input.size(); ++i)
    output[i] = static_cast<int8_t>(
        std::clamp<int32_t>(input[i], activation.min, activation.max));
  return Status::ok();
}

Status concat(Span<const ConcatInput> inputs, int64_t axis,
              int32_t outputZeroPoint, Span<int8_t> output) {
  const char *op = "concat";
  if (inputs.empty())
    return fail(op, "expected at least one input");
  if (Status s = checkZeroPoint(op, "output zero point", outputZeroPoint); !s)
    return s;
  const int64_t rank = static_cast<int64_t>(inputs[0].shape.size());
  if (axis < -rank || axis >= rank)
    return fail(op, "axis " + std::to_string(axis) +
                        " is out of range for "
                        "rank " +
                        std::to_string(rank));
  if (axis < 0)
    axis += rank;
  int64_t outer = 1;
  int64_t inner = 1;
  for (int64_t d = 0; d < axis; ++d)
    outer *= inputs[0].shape[d];
  for (int64_t d = axis + 1; d < rank; ++d)
    inner *= inputs[0].shape[d];
  int64_t total = 0;
  for (size_t i = 0; i < inputs.size(); ++i) {
    const ConcatInput &in = inputs[i];
    bool compatible = static_cast<int64_t>(in.shape.size()) == rank;
    for (int64_t d = 0; compatible && d < rank; ++d)
      compatible =
          in.shape[d] >= 0 && (d == axis || in.shape[d] == inputs[0].shape[d]);
    if (!compatible)
      return fail(op, "input " + std::to_string(i) + " has shape " +
                          shapeString(in.shape) + ", which does not match " +
                          shapeString(inputs[0].shape) + " outside axis " +
                          std::to_string(axis));
    if (Status s =
            checkSize(op, "an input", in.data.size(), numElements(in.shape));
        !s)
      return s;
    if (Status s = checkZeroPoint(op, "input zero point", in.zeroPoint); !s)
      return s;
    if (Status s = checkMultiplier(op, in.multiplier); !s)
      return s;
    total += in.data.size();
  }
  if (Status s = checkSize(op, "output", output.size(), total); !s)
    return s;
  int64_t written = 0;
  for (int64_t o = 0; o < outer; ++o) {
    for (const ConcatInput &in : inputs) {
      const int64_t block = in.shape[axis] * inner;
      for (int64_t j = 0; j < block; ++j)
        output[written++] =
            requantizeOutput(in.data[o * block + j] - in.zeroPoint,
                             in.multiplier, outputZeroPoint, ActivationRange{});
    }
  }
  return Status::ok();
}

Status pad(Span<const int64_t> shape, Span<const int8_t> input,
           Span<const int64_t> padsBefore, Span<const int64_t> padsAfter,
           int8_t value, Span<int8_t> output) {
  const char *op = "pad";
  const size_t rank = shape.size();
  if (padsBefore.size() != rank || padsAfter.size() != rank)
    return fail(op, "expected " + std::to_string(rank) +
                        " pads before and after, got " +
                        std::to_string(padsBefore.size()) + " and " +
                        std::to_string(padsAfter.size()));
  std::vector<int64_t> outShape(rank);
  for (size_t d = 0; d < rank; ++d) {
    if (padsBefore[d] < 0 || padsAfter[d] < 0)
      return fail(op, "pads must be non-negative, got " +
                          shapeString(padsBefore) + " and " +
                          shapeString(padsAfter));
    outShape[d] = padsBefore[d] + shape[d] + padsAfter[d];
  }
  if (Status s = checkSize(op, "input", input.size(), numElements(shape)); !s)
    return s;
  const int64_t count = numElements(outShape);
  if (Status s = checkSize(op, "output", output.size(), count); !s)
    return s;
  std::vector<int64_t> index(rank, 0);
  for (int64_t flat = 0; flat < count; ++flat) {
    bool inside = true;
    int64_t source = 0;
    for (size_t d = 0; d < rank; ++d) {
      const int64_t i = index[d] - padsBefore[d];
      inside = inside && i >= 0 && i < shape[d];
      source = source * shape[d] + i;
    }
    output[flat] = inside ? input[source] : value;
    for (size_t d = rank; d-- > 0;) {
      if (++index[d] < outShape[d])
        break;
      index[d] = 0;
    }
  }
  return Status::ok();
}

} // namespace kiln::ref
