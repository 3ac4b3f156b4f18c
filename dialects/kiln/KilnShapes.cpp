//===- KilnShapes.cpp - Static shape rules of kiln ops ----------*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// Implements the shape functions declared in KilnShapes.h. They follow the
// ONNX operator specification; comments cite the rule where it is subtle.
//
//===----------------------------------------------------------------------===//

#include "dialects/kiln/KilnShapes.h"

#include "mlir/IR/BuiltinTypes.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/MathExtras.h"
#include "llvm/Support/raw_ostream.h"

namespace mlir::kiln {

std::string formatShape(ArrayRef<int64_t> shape) {
  if (shape.empty())
    return "scalar";
  std::string text;
  llvm::raw_string_ostream os(text);
  llvm::interleave(
      shape, os,
      [&](int64_t d) {
        if (ShapedType::isDynamic(d))
          os << '?';
        else
          os << d;
      },
      "x");
  return text;
}

FailureOr<SmallVector<int64_t>> inferBroadcastShape(ArrayRef<int64_t> lhs,
                                                    ArrayRef<int64_t> rhs,
                                                    EmitErrorFn emitError) {
  size_t rank = std::max(lhs.size(), rhs.size());
  SmallVector<int64_t> result(rank);
  for (size_t i = 0; i < rank; ++i) {
    // Align trailing dimensions; missing leading dimensions act as 1.
    int64_t l = i < rank - lhs.size() ? 1 : lhs[i - (rank - lhs.size())];
    int64_t r = i < rank - rhs.size() ? 1 : rhs[i - (rank - rhs.size())];
    if (l == r || r == 1) {
      result[i] = l;
    } else if (l == 1) {
      result[i] = r;
    } else {
      return emitError() << "operand shapes " << formatShape(lhs) << " and "
                         << formatShape(rhs) << " are not broadcastable";
    }
  }
  return result;
}

bool isUnidirectionallyBroadcastable(ArrayRef<int64_t> from,
                                     ArrayRef<int64_t> to) {
  if (from.size() > to.size())
    return false;
  size_t offset = to.size() - from.size();
  for (size_t i = 0; i < from.size(); ++i)
    if (from[i] != 1 && from[i] != to[offset + i])
      return false;
  return true;
}

/// Checks the per-spatial-axis attribute lists of conv and pooling ops.
static LogicalResult checkWindowAttrs(size_t spatial, ArrayRef<int64_t> strides,
                                      ArrayRef<int64_t> pads,
                                      ArrayRef<int64_t> dilations,
                                      EmitErrorFn emitError,
                                      bool allowNegativePads = false) {
  if (strides.size() != spatial || dilations.size() != spatial ||
      pads.size() != 2 * spatial)
    return emitError() << "expected " << spatial << " strides, " << spatial
                       << " dilations and " << 2 * spatial
                       << " pads for " << spatial
                       << " spatial dimensions, got " << strides.size()
                       << ", " << dilations.size() << " and " << pads.size();
  for (size_t i = 0; i < spatial; ++i) {
    if (strides[i] <= 0)
      return emitError() << "strides must be positive, got " << strides[i];
    if (dilations[i] <= 0)
      return emitError() << "dilations must be positive, got "
                         << dilations[i];
    if (!allowNegativePads && (pads[i] < 0 || pads[spatial + i] < 0))
      return emitError() << "pads must be non-negative";
  }
  return success();
}

/// Computes the padded input extent and the dilated kernel extent of one
/// spatial axis, failing with a diagnostic where either overflows int64
/// (hostile attributes or declared shapes).
static LogicalResult windowExtents(int64_t in, int64_t padBegin,
                                   int64_t padEnd, int64_t dilation,
                                   int64_t kernel, size_t axis,
                                   int64_t &padded, int64_t &window,
                                   EmitErrorFn emitError) {
  if (llvm::AddOverflow(in, padBegin, padded) ||
      llvm::AddOverflow(padded, padEnd, padded) ||
      llvm::MulOverflow(dilation, kernel - 1, window) ||
      llvm::AddOverflow(window, int64_t(1), window))
    return emitError() << "padded input or dilated kernel extent overflows "
                          "int64 on spatial axis "
                       << axis;
  return success();
}

FailureOr<SmallVector<int64_t>>
inferConvShape(ArrayRef<int64_t> input, ArrayRef<int64_t> weight,
               ArrayRef<int64_t> strides, ArrayRef<int64_t> pads,
               ArrayRef<int64_t> dilations, int64_t group,
               EmitErrorFn emitError) {
  if (input.size() < 3 || input.size() > 5)
    return emitError() << "expected input of rank 3 to 5 (N x C x spatial), "
                          "got rank "
                       << input.size();
  if (weight.size() != input.size())
    return emitError() << "expected weight of rank " << input.size()
                       << ", got rank " << weight.size();
  size_t spatial = input.size() - 2;
  if (failed(checkWindowAttrs(spatial, strides, pads, dilations, emitError)))
    return failure();
  if (group <= 0)
    return emitError() << "group must be positive, got " << group;
  int64_t groupedChannels;
  bool overflow = llvm::MulOverflow(weight[1], group, groupedChannels);
  if (overflow || input[1] != groupedChannels) {
    InFlightDiagnostic diag = emitError();
    diag << "input has " << input[1] << " channels but weight expects "
         << weight[1] << " x group " << group;
    if (!overflow)
      diag << " = " << groupedChannels;
    return failure();
  }
  if (weight[0] % group != 0)
    return emitError() << "output channels " << weight[0]
                       << " are not divisible by group " << group;
  SmallVector<int64_t> result = {input[0], weight[0]};
  for (size_t i = 0; i < spatial; ++i) {
    int64_t padded, window;
    if (failed(windowExtents(input[2 + i], pads[i], pads[spatial + i],
                             dilations[i], weight[2 + i], i, padded, window,
                             emitError)))
      return failure();
    if (padded < window)
      return emitError() << "kernel extent " << window << " exceeds padded "
                         << "input extent " << padded << " on spatial axis "
                         << i;
    result.push_back((padded - window) / strides[i] + 1);
  }
  return result;
}

int64_t pooledSize(int64_t in, int64_t kernel, int64_t stride,
                   int64_t padBegin, int64_t padEnd, int64_t dilation,
                   bool ceilMode) {
  int64_t window = dilation * (kernel - 1) + 1;
  int64_t span = in + padBegin + padEnd - window;
  int64_t out = span / stride + (ceilMode && span % stride != 0 ? 1 : 0) + 1;
  // ONNX (like PyTorch) drops a last window that would start in the end pad.
  int64_t lastStart;
  if (ceilMode && (llvm::MulOverflow(out - 1, stride, lastStart) ||
                   lastStart >= in + padBegin))
    --out;
  return out;
}

FailureOr<SmallVector<int64_t>>
inferPoolShape(ArrayRef<int64_t> input, ArrayRef<int64_t> kernel,
               ArrayRef<int64_t> strides, ArrayRef<int64_t> pads,
               ArrayRef<int64_t> dilations, bool ceilMode,
               EmitErrorFn emitError) {
  if (input.size() < 3)
    return emitError() << "expected input of rank >= 3 (N x C x spatial), "
                          "got rank "
                       << input.size();
  size_t spatial = input.size() - 2;
  if (kernel.size() != spatial)
    return emitError() << "expected " << spatial << " kernel dimensions, got "
                       << kernel.size();
  if (failed(checkWindowAttrs(spatial, strides, pads, dilations, emitError)))
    return failure();
  SmallVector<int64_t> result = {input[0], input[1]};
  for (size_t i = 0; i < spatial; ++i) {
    if (kernel[i] <= 0)
      return emitError() << "kernel_shape must be positive, got " << kernel[i];
    int64_t padded, window;
    if (failed(windowExtents(input[2 + i], pads[i], pads[spatial + i],
                             dilations[i], kernel[i], i, padded, window,
                             emitError)))
      return failure();
    if (padded < window)
      return emitError() << "pooling window " << window
                         << " exceeds padded input on spatial axis " << i;
    result.push_back(pooledSize(input[2 + i], kernel[i], strides[i], pads[i],
                                pads[spatial + i], dilations[i], ceilMode));
  }
  return result;
}

FailureOr<SmallVector<int64_t>> inferMatMulShape(ArrayRef<int64_t> lhs,
                                                 ArrayRef<int64_t> rhs,
                                                 EmitErrorFn emitError) {
  if (lhs.empty() || rhs.empty())
    return emitError() << "matmul operands must have rank >= 1";
  SmallVector<int64_t> a(lhs), b(rhs);
  bool lhsVector = a.size() == 1, rhsVector = b.size() == 1;
  if (lhsVector)
    a.insert(a.begin(), 1);
  if (rhsVector)
    b.push_back(1);
  int64_t k = a.back();
  if (k != b[b.size() - 2])
    return emitError() << "contracting dimensions differ: "
                       << formatShape(lhs) << " and " << formatShape(rhs);
  auto batch = inferBroadcastShape(ArrayRef(a).drop_back(2),
                                   ArrayRef(b).drop_back(2), emitError);
  if (failed(batch))
    return failure();
  SmallVector<int64_t> result = *batch;
  if (!lhsVector)
    result.push_back(a[a.size() - 2]);
  if (!rhsVector)
    result.push_back(b.back());
  return result;
}

FailureOr<SmallVector<int64_t>>
inferGemmShape(ArrayRef<int64_t> a, ArrayRef<int64_t> b,
               std::optional<ArrayRef<int64_t>> c, bool transA, bool transB,
               EmitErrorFn emitError) {
  if (a.size() != 2 || b.size() != 2)
    return emitError() << "gemm operands must be matrices, got ranks "
                       << a.size() << " and " << b.size();
  int64_t m = transA ? a[1] : a[0], ka = transA ? a[0] : a[1];
  int64_t kb = transB ? b[1] : b[0], n = transB ? b[0] : b[1];
  if (ka != kb)
    return emitError() << "contracting dimensions differ: " << ka << " vs "
                       << kb;
  SmallVector<int64_t> result = {m, n};
  if (c && !isUnidirectionallyBroadcastable(*c, result))
    return emitError() << "C of shape " << formatShape(*c)
                       << " does not broadcast to " << formatShape(result);
  return result;
}

FailureOr<SmallVector<int64_t>> inferConvTransposeShape(
    ArrayRef<int64_t> input, ArrayRef<int64_t> weight,
    ArrayRef<int64_t> strides, ArrayRef<int64_t> pads,
    ArrayRef<int64_t> dilations, ArrayRef<int64_t> outputPadding,
    int64_t group, EmitErrorFn emitError) {
  if (input.size() < 3 || weight.size() != input.size())
    return emitError() << "expected input and weight of equal rank >= 3, got "
                       << input.size() << " and " << weight.size();
  size_t spatial = input.size() - 2;
  // Negative pads extend a transposed convolution's output (ONNX
  // output_shape and SAME padding can ask for that).
  if (failed(checkWindowAttrs(spatial, strides, pads, dilations, emitError,
                              /*allowNegativePads=*/true)))
    return failure();
  if (outputPadding.size() != spatial)
    return emitError() << "expected " << spatial
                       << " output_padding values, got "
                       << outputPadding.size();
  if (group <= 0 || input[1] != weight[0] || weight[0] % group != 0)
    return emitError() << "input has " << input[1]
                       << " channels but weight expects " << weight[0]
                       << " (divisible by group " << group << ")";
  int64_t channels;
  if (llvm::MulOverflow(weight[1], group, channels))
    return emitError() << "output channels " << weight[1] << " x group "
                       << group << " overflow int64";
  SmallVector<int64_t> result = {input[0], channels};
  for (size_t i = 0; i < spatial; ++i) {
    // stride * (in - 1) + output_padding + (k - 1) * dilation + 1 - pads,
    // checked: hostile attributes must get an error, not wrap around.
    int64_t out, window;
    if (llvm::MulOverflow(strides[i], input[2 + i] - 1, out) ||
        llvm::AddOverflow(out, outputPadding[i], out) ||
        llvm::MulOverflow(weight[2 + i] - 1, dilations[i], window) ||
        llvm::AddOverflow(out, window, out) ||
        llvm::AddOverflow(out, int64_t(1), out) ||
        llvm::SubOverflow(out, pads[i], out) ||
        llvm::SubOverflow(out, pads[spatial + i], out))
      return emitError() << "output extent overflows int64 on spatial axis "
                         << i;
    if (out <= 0)
      return emitError() << "non-positive output size " << out
                         << " on spatial axis " << i;
    result.push_back(out);
  }
  return result;
}

FailureOr<SmallVector<int64_t>> inferReduceShape(ArrayRef<int64_t> input,
                                                 ArrayRef<int64_t> axes,
                                                 bool keepdims,
                                                 EmitErrorFn emitError) {
  SmallVector<bool> reduced(input.size(), false);
  int64_t previous = -1;
  for (int64_t axis : axes) {
    if (axis < 0 || axis >= static_cast<int64_t>(input.size()))
      return emitError() << "reduction axis " << axis
                         << " is out of range for rank " << input.size();
    if (axis <= previous)
      return emitError() << "reduction axes must be sorted and unique";
    previous = axis;
    reduced[axis] = true;
  }
  SmallVector<int64_t> result;
  for (size_t i = 0; i < input.size(); ++i) {
    if (!reduced[i])
      result.push_back(input[i]);
    else if (keepdims)
      result.push_back(1);
  }
  return result;
}

FailureOr<SmallVector<int64_t>>
inferConcatShape(ArrayRef<ArrayRef<int64_t>> inputs, int64_t axis,
                 EmitErrorFn emitError) {
  if (inputs.empty())
    return emitError() << "concat needs at least one input";
  ArrayRef<int64_t> first = inputs.front();
  if (axis < 0 || axis >= static_cast<int64_t>(first.size()))
    return emitError() << "axis " << axis << " is out of range for rank "
                       << first.size();
  SmallVector<int64_t> result(first);
  result[axis] = 0;
  for (ArrayRef<int64_t> shape : inputs) {
    if (shape.size() != first.size())
      return emitError() << "concat inputs must have equal ranks, got "
                         << formatShape(first) << " and "
                         << formatShape(shape);
    for (size_t i = 0; i < shape.size(); ++i)
      if (static_cast<int64_t>(i) != axis && shape[i] != first[i])
        return emitError() << "concat inputs differ outside axis " << axis
                           << ": " << formatShape(first) << " and "
                           << formatShape(shape);
    result[axis] += shape[axis];
  }
  return result;
}

FailureOr<SmallVector<int64_t>> inferGatherShape(ArrayRef<int64_t> input,
                                                 ArrayRef<int64_t> indices,
                                                 int64_t axis,
                                                 EmitErrorFn emitError) {
  if (axis < 0 || axis >= static_cast<int64_t>(input.size()))
    return emitError() << "axis " << axis << " is out of range for rank "
                       << input.size();
  SmallVector<int64_t> result(input.begin(), input.begin() + axis);
  result.append(indices.begin(), indices.end());
  result.append(input.begin() + axis + 1, input.end());
  return result;
}

FailureOr<SmallVector<int64_t>> inferGatherNDShape(ArrayRef<int64_t> input,
                                                   ArrayRef<int64_t> indices,
                                                   int64_t batchDims,
                                                   EmitErrorFn emitError) {
  int64_t rank = input.size(), indexRank = indices.size();
  if (rank < 1 || indexRank < 1)
    return emitError() << "gather_nd needs input and indices of rank >= 1";
  if (batchDims < 0 || batchDims >= std::min(rank, indexRank))
    return emitError() << "batch_dims " << batchDims
                       << " must be less than the ranks of input (" << rank
                       << ") and indices (" << indexRank << ")";
  for (int64_t d = 0; d < batchDims; ++d)
    if (input[d] != indices[d])
      return emitError() << "batch dimension " << d << " differs: input "
                         << formatShape(input) << ", indices "
                         << formatShape(indices);
  int64_t tuple = indices.back();
  if (tuple < 1 || tuple > rank - batchDims)
    return emitError() << "index tuples of length " << tuple
                       << " do not fit input rank " << rank << " after "
                       << batchDims << " batch dimensions";
  SmallVector<int64_t> result(indices.begin(), indices.end() - 1);
  result.append(input.begin() + batchDims + tuple, input.end());
  return result;
}

FailureOr<SmallVector<int64_t>> inferDepthSpaceShape(ArrayRef<int64_t> input,
                                                     int64_t blocksize,
                                                     bool toSpace,
                                                     EmitErrorFn emitError) {
  if (input.size() != 4)
    return emitError() << "expected an N x C x H x W input, got rank "
                       << input.size();
  if (blocksize <= 0)
    return emitError() << "blocksize must be positive, got " << blocksize;
  // A block can never be larger than the dimensions it splits or merges.
  int64_t limit = toSpace ? input[1] : std::min(input[2], input[3]);
  if (limit >= 0 && blocksize > limit)
    return emitError() << "blocksize " << blocksize << " exceeds the "
                       << (toSpace ? "channels " : "spatial size ") << limit;
  int64_t square = blocksize * blocksize;
  if (toSpace) {
    if (input[1] % square != 0)
      return emitError() << "channels " << input[1]
                         << " are not divisible by blocksize^2 = " << square;
    return SmallVector<int64_t>{input[0], input[1] / square,
                                input[2] * blocksize, input[3] * blocksize};
  }
  if (input[2] % blocksize != 0 || input[3] % blocksize != 0)
    return emitError() << "spatial dimensions " << input[2] << "x" << input[3]
                       << " are not divisible by blocksize " << blocksize;
  return SmallVector<int64_t>{input[0], input[1] * square, input[2] / blocksize,
                              input[3] / blocksize};
}

FailureOr<SmallVector<int64_t>> inferOneHotShape(ArrayRef<int64_t> indices,
                                                 int64_t depth, int64_t axis,
                                                 EmitErrorFn emitError) {
  if (depth <= 0)
    return emitError() << "depth must be positive, got " << depth;
  if (axis < 0 || axis > static_cast<int64_t>(indices.size()))
    return emitError() << "axis " << axis << " is out of range for rank "
                       << indices.size() + 1;
  SmallVector<int64_t> result(indices);
  result.insert(result.begin() + axis, depth);
  return result;
}

FailureOr<std::string> normalizeEinsumEquation(StringRef equation,
                                               ArrayRef<int64_t> ranks,
                                               EmitErrorFn emitError) {
  std::string text;
  for (char c : equation)
    if (c != ' ')
      text += c;
  StringRef eq(text);
  auto arrow = eq.find("->");
  StringRef lhs = eq.substr(0, arrow);
  SmallVector<StringRef> terms;
  lhs.split(terms, ',');
  if (terms.size() != ranks.size())
    return emitError() << "einsum equation '" << equation << "' has "
                       << terms.size() << " operands but " << ranks.size()
                       << " inputs were given";
  // Letters are case-sensitive symbols; a '.' may only appear in "...".
  bool used[128] = {};
  auto checkTerm = [&](StringRef term) -> LogicalResult {
    size_t dots = term.find("...");
    for (size_t j = 0; j < term.size(); ++j) {
      char c = term[j];
      if (dots != StringRef::npos && j >= dots && j < dots + 3)
        continue;
      if (!llvm::isAlpha(c))
        return emitError() << "einsum equation '" << equation
                           << "' has invalid character '" << c << "'";
      used[static_cast<unsigned char>(c)] = true;
    }
    return success();
  };
  // The ellipsis stands for the same number of dimensions in every term
  // that has one: the largest rank left over by its letters.
  int64_t ellipsisRank = 0;
  for (size_t i = 0; i < terms.size(); ++i) {
    if (failed(checkTerm(terms[i])))
      return failure();
    bool hasEllipsis = terms[i].contains("...");
    int64_t letters =
        static_cast<int64_t>(terms[i].size()) - (hasEllipsis ? 3 : 0);
    if (hasEllipsis) {
      if (ranks[i] < letters)
        return emitError() << "einsum term '" << terms[i]
                           << "' has more letters than input rank "
                           << ranks[i];
      ellipsisRank = std::max(ellipsisRank, ranks[i] - letters);
    } else if (letters != ranks[i]) {
      return emitError() << "einsum term '" << terms[i] << "' has " << letters
                         << " letters but the input has rank " << ranks[i];
    }
  }
  StringRef rhs = arrow == StringRef::npos ? StringRef() : eq.substr(arrow + 2);
  if (arrow != StringRef::npos && failed(checkTerm(rhs)))
    return failure();
  // Ellipsis dimensions get letters the equation does not use.
  std::string ellipsis;
  for (char c = 'A';
       c <= 'z' && static_cast<int64_t>(ellipsis.size()) < ellipsisRank; ++c)
    if (llvm::isAlpha(c) && !used[static_cast<unsigned char>(c)])
      ellipsis += c;
  if (static_cast<int64_t>(ellipsis.size()) < ellipsisRank)
    return emitError() << "einsum ellipsis covers too many dimensions";
  auto expand = [&](StringRef term, int64_t rank) {
    size_t dots = term.find("...");
    if (dots == StringRef::npos)
      return term.str();
    int64_t count = rank - (static_cast<int64_t>(term.size()) - 3);
    // Dimensions covered by a shorter ellipsis align to the right.
    return term.substr(0, dots).str() + ellipsis.substr(ellipsisRank - count) +
           term.substr(dots + 3).str();
  };
  std::string result;
  for (size_t i = 0; i < terms.size(); ++i) {
    if (i)
      result += ',';
    result += expand(terms[i], ranks[i]);
  }
  result += "->";
  if (arrow != StringRef::npos) {
    result += expand(rhs, ellipsisRank + static_cast<int64_t>(rhs.size()) -
                              (rhs.contains("...") ? 3 : 0));
  } else {
    // Implicit output: the ellipsis dimensions, then the letters that
    // appear exactly once, in increasing ASCII order (upper case first).
    result += ellipsis;
    int counts[128] = {};
    for (char c : lhs)
      if (llvm::isAlpha(c))
        ++counts[static_cast<unsigned char>(c)];
    for (int c = 'A'; c <= 'z'; ++c)
      if (llvm::isAlpha(static_cast<char>(c)) && counts[c] == 1)
        result += static_cast<char>(c);
  }
  return result;
}

FailureOr<SmallVector<int64_t>>
inferEinsumShape(StringRef equation, ArrayRef<ArrayRef<int64_t>> inputs,
                 EmitErrorFn emitError) {
  auto arrow = equation.find("->");
  if (arrow == StringRef::npos || equation.contains("...") ||
      llvm::any_of(equation, [](char c) {
        return !llvm::isAlpha(c) && c != ',' && c != '-' && c != '>';
      }))
    return emitError() << "einsum equation '" << equation
                       << "' is not in normalized explicit form";
  SmallVector<StringRef> terms;
  equation.substr(0, arrow).split(terms, ',');
  if (terms.size() != inputs.size())
    return emitError() << "einsum equation has " << terms.size()
                       << " operands, got " << inputs.size();
  int64_t sizes[128];
  std::fill(std::begin(sizes), std::end(sizes), -1);
  for (size_t i = 0; i < terms.size(); ++i) {
    if (terms[i].size() != inputs[i].size())
      return emitError() << "einsum term '" << terms[i]
                         << "' does not match rank " << inputs[i].size();
    for (size_t j = 0; j < terms[i].size(); ++j) {
      int64_t &size = sizes[static_cast<unsigned char>(terms[i][j])];
      int64_t dim = inputs[i][j];
      if (size == -1 || size == 1)
        size = dim;
      else if (dim != 1 && dim != size)
        return emitError() << "einsum letter '" << terms[i][j]
                           << "' has sizes " << size << " and " << dim;
    }
  }
  SmallVector<int64_t> result;
  bool seen[128] = {};
  for (char c : equation.substr(arrow + 2)) {
    int64_t size = sizes[static_cast<unsigned char>(c)];
    if (size == -1)
      return emitError() << "einsum output letter '" << c
                         << "' does not appear in any input";
    if (seen[static_cast<unsigned char>(c)])
      return emitError() << "einsum output letter '" << c << "' is repeated";
    seen[static_cast<unsigned char>(c)] = true;
    result.push_back(size);
  }
  return result;
}

} // namespace mlir::kiln
