//===- Tensor.h - Host tensors and the data files that hold them -*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// kiln::Tensor is the plain host-side tensor that crosses the API: model
// inputs and outputs of `kiln run`, calibration samples, expected outputs of
// tests. It owns a contiguous, row-major, little-endian byte buffer.
//
// Data files (loadTensors): a `.npz` archive (stored or deflated), a `.npy`
// file, a folder of `.npy` files, or an ONNX `test_data_set_N` folder of
// `input_N.pb` / `output_N.pb` TensorProto files. saveNpz writes a `.npz`.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_COMPILER_INCLUDE_KILN_TENSOR_H
#define KILN_COMPILER_INCLUDE_KILN_TENSOR_H

#include "kiln/Diagnostics.h"

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

namespace kiln {

/// Element types of host tensors. The numbering is Kiln's own.
enum class DType : uint8_t {
  F32,
  F64,
  F16,
  BF16,
  I8,
  I16,
  I32,
  I64,
  U8,
  U16,
  U32,
  U64,
  Bool,
  // Narrow types of ONNX (IR 9+); one element per byte in host tensors
  // (values, not packed), except in TensorProto raw_data.
  F8E4M3FN,
  F8E4M3FNUZ,
  F8E5M2,
  F8E5M2FNUZ,
  F4E2M1,
  I4,
  U4,
};

/// Returns the size in bytes of one element of |type| in a host tensor.
size_t dtypeSize(DType type);
/// Returns the numpy-style name of |type|, e.g. "float32", "int8".
const char *dtypeName(DType type);
/// Returns true for the floating-point types.
bool isFloat(DType type);

/// A dense host tensor.
struct Tensor {
  std::string name;
  DType dtype = DType::F32;
  std::vector<int64_t> shape;
  std::vector<uint8_t> data;

  Tensor() = default;
  /// Makes a zero-filled tensor.
  Tensor(std::string name, DType dtype, std::vector<int64_t> shape);

  /// Returns the number of elements (1 for a scalar).
  int64_t numElements() const;
  /// Returns the payload as an array of T (the caller checks dtype).
  template <typename T> T *as() { return reinterpret_cast<T *>(data.data()); }
  template <typename T> const T *as() const {
    return reinterpret_cast<const T *>(data.data());
  }
  /// Returns "float32[1x3x8x8]".
  std::string describe() const;
};

/// Loads every tensor of a data file or folder (see the file comment). The
/// tensors keep the order of the archive (npz), of input_N numbering
/// (test_data_set) or of sorted file names (npy folder).
Result<std::vector<Tensor>> loadTensors(const std::string &path);

/// Loads one `.npy` file from memory; |name| names the result.
Result<Tensor> parseNpy(const std::string &bytes, const std::string &name);

/// Writes |tensors| to a `.npz` archive (stored, uncompressed) that numpy
/// reads with `numpy.load`. Bool, integer and IEEE float types only.
Status saveNpz(const std::string &path, const std::vector<Tensor> &tensors);

/// Returns the `.npy` encoding of |tensor|.
Result<std::string> encodeNpy(const Tensor &tensor);

} // namespace kiln

#endif // KILN_COMPILER_INCLUDE_KILN_TENSOR_H
