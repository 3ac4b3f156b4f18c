//===- WindowAttrs.h - Sliding-window attributes of ONNX ops ----*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// Reads kernel_shape / strides / dilations / pads / auto_pad of Conv-like
// and pooling nodes into explicit per-axis lists, resolving auto_pad
// (SAME_UPPER, SAME_LOWER, VALID) against the static input shape.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_COMPILER_FRONTEND_OPS_WINDOWATTRS_H
#define KILN_COMPILER_FRONTEND_OPS_WINDOWATTRS_H

#include "compiler/frontend/ImportContext.h"

namespace kiln::frontend {

/// Explicit window geometry for |spatial| axes.
struct WindowAttrs {
  llvm::SmallVector<int64_t> kernel, strides, dilations, pads;
};

/// Reads the window attributes of node |n| whose spatial input extents are
/// |spatialIn| and kernel extents |kernel| (from the weight, or the
/// kernel_shape attribute for pools). With |ceilMode| the SAME padding
/// computation is unchanged (ONNX defines it from ceil(in / stride)).
mlir::FailureOr<WindowAttrs> readWindowAttrs(NodeImporter &n,
                                             llvm::ArrayRef<int64_t> spatialIn,
                                             llvm::ArrayRef<int64_t> kernel);

} // namespace kiln::frontend

#endif // KILN_COMPILER_FRONTEND_OPS_WINDOWATTRS_H
