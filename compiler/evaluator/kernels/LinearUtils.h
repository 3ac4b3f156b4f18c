//===- LinearUtils.h - Shared GEMM / conv building blocks -------*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// The float GEMM, im2col and convolution routines of Linear.cpp, shared with
// other kernels that reduce to them (conv_transpose, the integer and QLinear
// forms, attention).
//
//===----------------------------------------------------------------------===//

#ifndef KILN_COMPILER_EVALUATOR_KERNELS_LINEARUTILS_H
#define KILN_COMPILER_EVALUATOR_KERNELS_LINEARUTILS_H

#include "kiln/Tensor.h"

#include "llvm/ADT/ArrayRef.h"

namespace kiln::eval {

/// C (m x n) = op(A) * op(B) (+ C when |accumulate|), row-major float32.
/// op transposes when the flag is set: A is stored k x m, B n x k.
void gemmFloat(const float *a, const float *b, float *c, int64_t m,
               int64_t k, int64_t n, bool transA, bool transB,
               bool accumulate);

/// C (m x n) = A (m x k) * B (k x n), row-major float64.
void gemmDouble(const double *a, const double *b, double *c, int64_t m,
                int64_t k, int64_t n);

/// Unfolds |channels| planes of an N-d input into a
/// (channels * kernel volume) x (output volume) matrix; positions in the
/// padding read |padValue|.
void im2col(const float *input, llvm::ArrayRef<int64_t> spatialIn,
            int64_t channels, llvm::ArrayRef<int64_t> kernel,
            llvm::ArrayRef<int64_t> spatialOut, llvm::ArrayRef<int64_t> strides,
            llvm::ArrayRef<int64_t> pads, llvm::ArrayRef<int64_t> dilations,
            float padValue, float *columns);

/// Float32 N-d grouped convolution (ONNX Conv) via im2col + GEMM.
void convFloat(const float *input, llvm::ArrayRef<int64_t> inShape,
               const float *weight, llvm::ArrayRef<int64_t> wShape,
               const float *bias, float *output,
               llvm::ArrayRef<int64_t> outShape,
               llvm::ArrayRef<int64_t> strides, llvm::ArrayRef<int64_t> pads,
               llvm::ArrayRef<int64_t> dilations, int64_t group);

/// Convolution straight from the definition, accumulating in double (for
/// float64 tensors).
bool convDirect(const Tensor &input, const Tensor &weight, const Tensor *bias,
                Tensor &out, llvm::ArrayRef<int64_t> strides,
                llvm::ArrayRef<int64_t> pads,
                llvm::ArrayRef<int64_t> dilations, int64_t group);

} // namespace kiln::eval

#endif // KILN_COMPILER_EVALUATOR_KERNELS_LINEARUTILS_H
