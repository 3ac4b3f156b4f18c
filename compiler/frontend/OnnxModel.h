//===- OnnxModel.h - Reading ONNX protobufs safely --------------*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// The boundary between Kiln and ONNX's protobuf world: reading ModelProto
// and TensorProto files with size limits and clear errors (never a crash on
// malformed, truncated or hostile input), external data confined to the
// model's folder, and calls into Debian's libonnx (checker, version
// converter), whose C++ exceptions are caught here and turned into
// diagnostics. This library is the only Kiln code built with exceptions.
//
// Why libonnx 1.12's generated messages are enough: ONNX protobufs are
// forward compatible (newer fields are kept as unknown fields, element types
// are plain int32 codes), so Kiln parses models of any IR version with them
// and implements operator semantics per opset itself (OnnxSchemas.inc lists
// the versions of every operator from the pinned PyPI onnx). The checker and
// the version converter only run on models within libonnx 1.12's range
// (IR <= 8, opset <= 17), where they are authoritative.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_COMPILER_FRONTEND_ONNXMODEL_H
#define KILN_COMPILER_FRONTEND_ONNXMODEL_H

#include "kiln/Diagnostics.h"
#include "kiln/Tensor.h"

#include <memory>
#include <optional>
#include <string>

namespace onnx {
class ModelProto;
class TensorProto;
} // namespace onnx

namespace kiln::frontend {

/// Largest model file Kiln reads (protobuf's own limit is 2 GiB).
constexpr size_t kMaxModelBytes = size_t(2) << 30;

/// Reads and parses a model file; the error says "malformed or truncated".
Result<std::shared_ptr<onnx::ModelProto>>
readModelFile(const std::string &path);

/// Parses a model held in memory; |name| names it in diagnostics.
Result<std::shared_ptr<onnx::ModelProto>>
readModelBytes(const std::string &bytes, const std::string &name);

/// Returns the host type of ONNX element type |code|, or nothing (strings,
/// complex numbers, float8e8m0, 2- and 6-bit types).
std::optional<DType> dtypeFromOnnx(int32_t code);

/// Returns the ONNX name of element type |code|, e.g. "FLOAT16".
std::string onnxTypeName(int32_t code);

/// Converts |proto| into a host tensor. External data is read from
/// |modelDir| only: absolute locations and locations leaving the folder
/// (`..`, symbolic links) are refused. |where| names the tensor in errors.
Result<Tensor> tensorFromProto(const onnx::TensorProto &proto,
                               const std::string &modelDir,
                               const std::string &where);

/// Reads a TensorProto file (`input_0.pb`).
Result<Tensor> readTensorFile(const std::string &path);

/// Runs libonnx's model checker when the model is within libonnx 1.12's
/// range (IR <= 8, every opset <= 17); otherwise does nothing.
Status checkWithLibOnnx(const onnx::ModelProto &model,
                        const std::string &path);

/// Upgrades the default-domain opset of |model| to |target| with libonnx's
/// version converter (for models older than the opsets Kiln implements).
Result<std::shared_ptr<onnx::ModelProto>>
upgradeOpset(const onnx::ModelProto &model, int64_t target,
             const std::string &path);

} // namespace kiln::frontend

#endif // KILN_COMPILER_FRONTEND_ONNXMODEL_H
