//===- KilnShapes.h - Static shape rules of kiln ops ------------*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// Shape functions shared by the op verifiers and the ONNX importer: the
// importer calls them to compute each result type, the verifiers call them to
// check a result type, so the two can never disagree. Each function returns
// the result shape or emits a precise error through |emitError| and fails.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_DIALECTS_KILN_KILNSHAPES_H
#define KILN_DIALECTS_KILN_KILNSHAPES_H

#include "mlir/IR/Diagnostics.h"
#include "mlir/Support/LLVM.h"
#include "llvm/ADT/SmallVector.h"

namespace mlir::kiln {

/// Callback that starts an error diagnostic at the caller's location.
using EmitErrorFn = llvm::function_ref<InFlightDiagnostic()>;

/// Returns "AxBxC" for a static shape (and "?" for dynamic dimensions).
std::string formatShape(ArrayRef<int64_t> shape);

/// Returns the numpy (multidirectional) broadcast of |lhs| and |rhs|.
FailureOr<SmallVector<int64_t>> inferBroadcastShape(ArrayRef<int64_t> lhs,
                                                    ArrayRef<int64_t> rhs,
                                                    EmitErrorFn emitError);

/// Returns true when |from| broadcasts unidirectionally to |to|.
bool isUnidirectionallyBroadcastable(ArrayRef<int64_t> from,
                                     ArrayRef<int64_t> to);

/// Returns the output shape of an N-d convolution (ONNX Conv). |pads| holds
/// the begin pads of every spatial axis, then the end pads.
FailureOr<SmallVector<int64_t>>
inferConvShape(ArrayRef<int64_t> input, ArrayRef<int64_t> weight,
               ArrayRef<int64_t> strides, ArrayRef<int64_t> pads,
               ArrayRef<int64_t> dilations, int64_t group,
               EmitErrorFn emitError);

/// Returns the output shape of a sliding-window pooling op (ONNX MaxPool /
/// AveragePool / LpPool).
FailureOr<SmallVector<int64_t>>
inferPoolShape(ArrayRef<int64_t> input, ArrayRef<int64_t> kernel,
               ArrayRef<int64_t> strides, ArrayRef<int64_t> pads,
               ArrayRef<int64_t> dilations, bool ceilMode,
               EmitErrorFn emitError);

/// Returns the output size of one pooled axis (ONNX rules, ceil_mode
/// included: a window starting inside the end padding is dropped).
int64_t pooledSize(int64_t in, int64_t kernel, int64_t stride,
                   int64_t padBegin, int64_t padEnd, int64_t dilation,
                   bool ceilMode);

/// Returns the shape of numpy.matmul(lhs, rhs).
FailureOr<SmallVector<int64_t>> inferMatMulShape(ArrayRef<int64_t> lhs,
                                                 ArrayRef<int64_t> rhs,
                                                 EmitErrorFn emitError);

/// Returns the M x N shape of ONNX Gemm and checks that |c| (when given)
/// broadcasts to it.
FailureOr<SmallVector<int64_t>>
inferGemmShape(ArrayRef<int64_t> a, ArrayRef<int64_t> b,
               std::optional<ArrayRef<int64_t>> c, bool transA, bool transB,
               EmitErrorFn emitError);

/// Returns the output shape of ONNX ConvTranspose with explicit pads (which
/// may be negative: the output then extends past the inputs' reach).
FailureOr<SmallVector<int64_t>> inferConvTransposeShape(
    ArrayRef<int64_t> input, ArrayRef<int64_t> weight,
    ArrayRef<int64_t> strides, ArrayRef<int64_t> pads,
    ArrayRef<int64_t> dilations, ArrayRef<int64_t> outputPadding,
    int64_t group, EmitErrorFn emitError);

/// Returns the shape of a reduction of |input| over |axes| (sorted, unique,
/// non-negative).
FailureOr<SmallVector<int64_t>> inferReduceShape(ArrayRef<int64_t> input,
                                                 ArrayRef<int64_t> axes,
                                                 bool keepdims,
                                                 EmitErrorFn emitError);

/// Returns the shape of concatenating |inputs| along |axis|.
FailureOr<SmallVector<int64_t>>
inferConcatShape(ArrayRef<ArrayRef<int64_t>> inputs, int64_t axis,
                 EmitErrorFn emitError);

/// Returns the shape of ONNX Gather: input[:axis] + indices + input[axis+1:].
FailureOr<SmallVector<int64_t>> inferGatherShape(ArrayRef<int64_t> input,
                                                 ArrayRef<int64_t> indices,
                                                 int64_t axis,
                                                 EmitErrorFn emitError);

/// Returns the shape of ONNX GatherND: indices.shape[:-1] +
/// input.shape[batchDims + indices.shape[-1]:]; checks the batch dimensions
/// and the index tuple length.
FailureOr<SmallVector<int64_t>> inferGatherNDShape(ArrayRef<int64_t> input,
                                                   ArrayRef<int64_t> indices,
                                                   int64_t batchDims,
                                                   EmitErrorFn emitError);

/// Returns the shape of ONNX DepthToSpace (|toSpace|) or SpaceToDepth on an
/// N x C x H x W |input| with block size |blocksize|.
FailureOr<SmallVector<int64_t>> inferDepthSpaceShape(ArrayRef<int64_t> input,
                                                     int64_t blocksize,
                                                     bool toSpace,
                                                     EmitErrorFn emitError);

/// Returns the shape of ONNX OneHot: |indices| with a dimension of size
/// |depth| inserted at |axis| (in [0, rank(indices)]).
FailureOr<SmallVector<int64_t>> inferOneHotShape(ArrayRef<int64_t> indices,
                                                 int64_t depth, int64_t axis,
                                                 EmitErrorFn emitError);

/// Rewrites an ONNX einsum equation into explicit form without ellipsis,
/// e.g. "...ij,...jk" with ranks {3, 3} becomes "Aij,Ajk->Aik" (ellipsis
/// dimensions get letters the equation does not use, from 'A' on; an
/// implicit output lists the single-use letters in ASCII order, as ONNX
/// specifies). Spaces are removed.
FailureOr<std::string> normalizeEinsumEquation(StringRef equation,
                                               ArrayRef<int64_t> ranks,
                                               EmitErrorFn emitError);

/// Returns the result shape of a normalized (explicit, ellipsis-free)
/// einsum equation; checks that every letter has one size (or 1, which
/// broadcasts).
FailureOr<SmallVector<int64_t>>
inferEinsumShape(StringRef equation, ArrayRef<ArrayRef<int64_t>> inputs,
                 EmitErrorFn emitError);

} // namespace mlir::kiln

#endif // KILN_DIALECTS_KILN_KILNSHAPES_H
