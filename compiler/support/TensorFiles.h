//===- TensorFiles.h - numpy file reading for loadTensors -------*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// Private to the library: the .npy/.npz part of kiln::loadTensors, which
// compiler/frontend extends with ONNX TensorProto files.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_COMPILER_SUPPORT_TENSORFILES_H
#define KILN_COMPILER_SUPPORT_TENSORFILES_H

#include "kiln/Tensor.h"

namespace kiln {

/// Loads a .npy file (one tensor named after the file) or a .npz archive.
Result<std::vector<Tensor>> loadNpzOrNpyFile(const std::string &path);

} // namespace kiln

#endif // KILN_COMPILER_SUPPORT_TENSORFILES_H
