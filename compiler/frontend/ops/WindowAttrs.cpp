//===- WindowAttrs.cpp - Sliding-window attributes of ONNX ops --*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// Implements readWindowAttrs (see WindowAttrs.h).
//
//===----------------------------------------------------------------------===//

#include "compiler/frontend/ops/WindowAttrs.h"

using namespace mlir;

namespace kiln::frontend {

FailureOr<WindowAttrs> readWindowAttrs(NodeImporter &n,
                                       llvm::ArrayRef<int64_t> spatialIn,
                                       llvm::ArrayRef<int64_t> kernel) {
  size_t rank = spatialIn.size();
  WindowAttrs w;
  w.kernel.assign(kernel.begin(), kernel.end());
  auto list = [&](llvm::StringRef name, int64_t fill,
                  size_t size) -> FailureOr<SmallVector<int64_t>> {
    std::vector<int64_t> values = n.getInts(name);
    if (values.empty())
      return SmallVector<int64_t>(size, fill);
    if (values.size() != size) {
      n.emitError() << "attribute '" << name << "' has " << values.size()
                    << " values, expected " << size;
      return failure();
    }
    return SmallVector<int64_t>(values.begin(), values.end());
  };
  auto strides = list("strides", 1, rank);
  auto dilations = list("dilations", 1, rank);
  auto pads = list("pads", 0, 2 * rank);
  if (failed(strides) || failed(dilations) || failed(pads))
    return failure();
  w.strides = *strides;
  w.dilations = *dilations;
  w.pads = *pads;
  for (size_t d = 0; d < rank; ++d) {
    if (w.strides[d] <= 0 || w.dilations[d] <= 0) {
      n.emitError() << "strides and dilations must be positive";
      return failure();
    }
  }
  std::string autoPad = n.getString("auto_pad", "NOTSET");
  if (autoPad == "NOTSET")
    return w;
  if (autoPad == "VALID") {
    std::fill(w.pads.begin(), w.pads.end(), 0);
    return w;
  }
  if (autoPad != "SAME_UPPER" && autoPad != "SAME_LOWER") {
    n.emitError() << "attribute 'auto_pad' has unknown value '" << autoPad
                  << "' (expected NOTSET, SAME_UPPER, SAME_LOWER or VALID)";
    return failure();
  }
  for (size_t d = 0; d < rank; ++d) {
    int64_t out = (spatialIn[d] + w.strides[d] - 1) / w.strides[d];
    int64_t window = (w.kernel[d] - 1) * w.dilations[d] + 1;
    int64_t total =
        std::max<int64_t>((out - 1) * w.strides[d] + window - spatialIn[d], 0);
    int64_t small = total / 2, large = total - small;
    w.pads[d] = autoPad == "SAME_UPPER" ? small : large;
    w.pads[rank + d] = autoPad == "SAME_UPPER" ? large : small;
  }
  return w;
}

} // namespace kiln::frontend
