//===- OnnxModel.cpp - Reading ONNX protobufs safely ------------*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// Implements OnnxModel.h and kiln::loadTensors (which reads TensorProto
// files besides numpy ones). Every size read from a file is checked before
// it is used; libonnx exceptions never leave this file.
//
//===----------------------------------------------------------------------===//

#include "compiler/frontend/OnnxModel.h"
#include "compiler/support/TensorFiles.h"

#include "onnx/checker.h"
#include "onnx/onnx_pb.h"
#include "onnx/version_converter/convert.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>

#include <algorithm>
#include <climits>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

namespace fs = std::filesystem;

namespace kiln::frontend {

/// Reads a whole file, refusing files larger than |limit|.
static Result<std::string> readFile(const std::string &path, size_t limit) {
  std::error_code error;
  if (!fs::exists(path, error))
    return Status::error("no such file", path);
  if (fs::is_directory(path, error))
    return Status::error("expected a file, got a directory", path);
  auto size = fs::file_size(path, error);
  if (error)
    return Status::error("cannot read: " + error.message(), path);
  if (size > limit)
    return Status::error("file of " + std::to_string(size) +
                             " bytes exceeds the limit of " +
                             std::to_string(limit),
                         path);
  std::ifstream file(path, std::ios::binary);
  if (!file)
    return Status::error("cannot open", path);
  std::string bytes(size, '\0');
  file.read(bytes.data(), static_cast<std::streamsize>(size));
  if (!file)
    return Status::error("read failed", path);
  return bytes;
}

/// Parses |bytes| as message |message|, requiring the whole input be used.
static bool parseBounded(const std::string &bytes,
                         google::protobuf::MessageLite &message) {
  // ArrayInputStream takes an int size.
  if (bytes.size() > static_cast<size_t>(INT_MAX))
    return false;
  google::protobuf::io::ArrayInputStream raw(bytes.data(),
                                             static_cast<int>(bytes.size()));
  google::protobuf::io::CodedInputStream coded(&raw);
  coded.SetTotalBytesLimit(static_cast<int>(
      std::min<size_t>(kMaxModelBytes, INT_MAX)));
  return message.ParseFromCodedStream(&coded) &&
         coded.ConsumedEntireMessage();
}

Result<std::shared_ptr<onnx::ModelProto>>
readModelBytes(const std::string &bytes, const std::string &name) {
  if (bytes.empty())
    return Status::error("empty file (not an ONNX model)", name);
  if (bytes.size() > kMaxModelBytes)
    return Status::error("model larger than 2 GiB", name);
  auto model = std::make_shared<onnx::ModelProto>();
  if (!parseBounded(bytes, *model))
    return Status::error("malformed or truncated ONNX file (protobuf parse "
                         "failed)",
                         name);
  if (!model->has_graph() || model->ir_version() <= 0)
    return Status::error("not an ONNX model (missing graph or ir_version)",
                         name);
  return model;
}

Result<std::shared_ptr<onnx::ModelProto>>
readModelFile(const std::string &path) {
  auto bytes = readFile(path, kMaxModelBytes);
  if (!bytes)
    return bytes.status();
  return readModelBytes(*bytes, path);
}

std::optional<DType> dtypeFromOnnx(int32_t code) {
  switch (code) {
  case onnx::TensorProto::FLOAT:
    return DType::F32;
  case onnx::TensorProto::UINT8:
    return DType::U8;
  case onnx::TensorProto::INT8:
    return DType::I8;
  case onnx::TensorProto::UINT16:
    return DType::U16;
  case onnx::TensorProto::INT16:
    return DType::I16;
  case onnx::TensorProto::INT32:
    return DType::I32;
  case onnx::TensorProto::INT64:
    return DType::I64;
  case onnx::TensorProto::BOOL:
    return DType::Bool;
  case onnx::TensorProto::FLOAT16:
    return DType::F16;
  case onnx::TensorProto::DOUBLE:
    return DType::F64;
  case onnx::TensorProto::UINT32:
    return DType::U32;
  case onnx::TensorProto::UINT64:
    return DType::U64;
  case onnx::TensorProto::BFLOAT16:
    return DType::BF16;
  case 17:
    return DType::F8E4M3FN;
  case 18:
    return DType::F8E4M3FNUZ;
  case 19:
    return DType::F8E5M2;
  case 20:
    return DType::F8E5M2FNUZ;
  case 21:
    return DType::U4;
  case 22:
    return DType::I4;
  case 23:
    return DType::F4E2M1;
  default:
    return std::nullopt;
  }
}

std::string onnxTypeName(int32_t code) {
  static const char *names[] = {
      "UNDEFINED",      "FLOAT",      "UINT8",      "INT8",
      "UINT16",         "INT16",      "INT32",      "INT64",
      "STRING",         "BOOL",       "FLOAT16",    "DOUBLE",
      "UINT32",         "UINT64",     "COMPLEX64",  "COMPLEX128",
      "BFLOAT16",       "FLOAT8E4M3FN", "FLOAT8E4M3FNUZ", "FLOAT8E5M2",
      "FLOAT8E5M2FNUZ", "UINT4",      "INT4",       "FLOAT4E2M1",
      "FLOAT8E8M0",     "UINT2",      "INT2"};
  if (code >= 0 && code < static_cast<int32_t>(std::size(names)))
    return names[code];
  return "type " + std::to_string(code);
}

/// Returns true for the 4-bit element types, which are packed two per byte
/// in TensorProto storage.
static bool isFourBit(DType type) {
  return type == DType::I4 || type == DType::U4 || type == DType::F4E2M1;
}

/// Unpacks two 4-bit values per byte (first element in the low nibble).
static void unpackFourBit(const uint8_t *packed, Tensor &tensor) {
  int64_t n = tensor.numElements();
  for (int64_t i = 0; i < n; ++i) {
    uint8_t nibble = (packed[i / 2] >> ((i & 1) * 4)) & 0xf;
    if (tensor.dtype == DType::I4)
      tensor.data[i] =
          static_cast<uint8_t>(static_cast<int8_t>(nibble << 4) >> 4);
    else
      tensor.data[i] = nibble;
  }
}

/// Returns true when |child| lies inside the folder |parent| (both
/// canonical).
static bool isInside(const fs::path &child, const fs::path &parent) {
  auto c = child.begin(), p = parent.begin();
  for (; p != parent.end(); ++p, ++c)
    if (c == child.end() || *c != *p)
      return false;
  return true;
}

/// Reads the external-data bytes of |proto| from |modelDir|.
static Result<std::string> readExternalData(const onnx::TensorProto &proto,
                                            const std::string &modelDir,
                                            const std::string &where,
                                            int64_t expectedBytes) {
  std::string location;
  int64_t offset = 0, length = -1;
  for (const auto &entry : proto.external_data()) {
    const std::string &key = entry.key();
    char *end = nullptr;
    if (key == "location") {
      location = entry.value();
    } else if (key == "offset" || key == "length") {
      errno = 0;
      long long value = std::strtoll(entry.value().c_str(), &end, 10);
      if (entry.value().empty() || *end || errno || value < 0)
        return Status::error("external data " + key + " '" + entry.value() +
                                 "' is not a non-negative integer",
                             where);
      (key == "offset" ? offset : length) = value;
    }
  }
  if (location.empty())
    return Status::error("external data without a location", where);
  fs::path relative(location);
  if (relative.is_absolute())
    return Status::error("external data location '" + location +
                             "' is an absolute path; Kiln reads external "
                             "data only from inside the model's folder",
                         where);
  for (const auto &part : relative)
    if (part == "..")
      return Status::error("external data location '" + location +
                               "' leaves the model's folder ('..'); refused",
                           where);
  std::error_code error;
  fs::path base = fs::canonical(modelDir.empty() ? "." : modelDir, error);
  if (error)
    return Status::error("cannot resolve the model's folder", where);
  fs::path full = base / relative;
  if (!fs::exists(full, error))
    return Status::error("external data file '" + location + "' not found",
                         where);
  fs::path resolved = fs::canonical(full, error);
  if (error || !isInside(resolved, base))
    return Status::error("external data location '" + location +
                             "' resolves outside the model's folder; refused",
                         where);
  auto size = fs::file_size(resolved, error);
  if (error || fs::is_directory(resolved))
    return Status::error("external data '" + location + "' is not a file",
                         where);
  if (offset > static_cast<int64_t>(size))
    return Status::error("external data offset " + std::to_string(offset) +
                             " is beyond the end of '" + location + "'",
                         where);
  // Without a length, read as many bytes as the tensor needs (files that
  // hold several tensors give lengths anyway).
  if (length < 0)
    length = expectedBytes >= 0 ? expectedBytes
                                : static_cast<int64_t>(size) - offset;
  // Compared as "length > size - offset": offset + length may overflow.
  if (length > static_cast<int64_t>(size) - offset)
    return Status::error("external data range [" + std::to_string(offset) +
                             ", " +
                             (length > INT64_MAX - offset
                                  ? std::string("overflow")
                                  : std::to_string(offset + length)) +
                             ") exceeds the " + std::to_string(size) +
                             " bytes of '" + location + "'",
                         where);
  if (expectedBytes >= 0 && length != expectedBytes)
    return Status::error("external data of '" + location + "' has " +
                             std::to_string(length) + " bytes, expected " +
                             std::to_string(expectedBytes),
                         where);
  std::ifstream file(resolved, std::ios::binary);
  std::string bytes(static_cast<size_t>(length), '\0');
  file.seekg(offset);
  file.read(bytes.data(), length);
  if (!file)
    return Status::error("cannot read external data '" + location + "'",
                         where);
  return bytes;
}

Result<Tensor> tensorFromProto(const onnx::TensorProto &proto,
                               const std::string &modelDir,
                               const std::string &where) {
  std::optional<DType> dtype = dtypeFromOnnx(proto.data_type());
  if (!dtype)
    return Status::error("unsupported element type " +
                             onnxTypeName(proto.data_type()) + " of tensor",
                         where);
  if (proto.has_segment())
    return Status::error("unsupported: segmented tensors", where);
  Tensor tensor;
  tensor.name = proto.name();
  tensor.dtype = *dtype;
  int64_t count = 1;
  for (int64_t dim : proto.dims()) {
    if (dim < 0)
      return Status::error("negative dimension " + std::to_string(dim),
                           where);
    // 2^34 elements (64 GiB of float) is beyond any model Kiln targets, and
    // keeps every byte count far from overflow.
    if (dim != 0 && count > (int64_t(1) << 34) / dim)
      return Status::error("absurd tensor shape (over 2^34 elements)", where);
    count *= dim;
    tensor.shape.push_back(dim);
  }
  size_t elemSize = dtypeSize(*dtype);
  size_t expectedRaw = isFourBit(*dtype) ? (count + 1) / 2
                                         : static_cast<size_t>(count) * elemSize;
  // Check that the file really holds that many values before allocating:
  // a tiny hostile file may declare 2^34 elements.
  auto countMismatch = [&](int64_t have) {
    return Status::error("tensor has " + std::to_string(have) +
                             " values for " + std::to_string(count) +
                             " elements",
                         where);
  };
  bool external = proto.data_location() == onnx::TensorProto::EXTERNAL;
  if (!external && proto.has_raw_data()) {
    if (proto.raw_data().size() != expectedRaw)
      return Status::error("tensor data has " +
                               std::to_string(proto.raw_data().size()) +
                               " bytes, expected " +
                               std::to_string(expectedRaw),
                           where);
  } else if (!external) {
    int64_t have = -1, want = count;
    switch (*dtype) {
    case DType::F32:
      have = proto.float_data_size();
      break;
    case DType::F64:
      have = proto.double_data_size();
      break;
    case DType::I64:
      have = proto.int64_data_size();
      break;
    case DType::U32:
    case DType::U64:
      have = proto.uint64_data_size();
      break;
    case DType::I4:
    case DType::U4:
    case DType::F4E2M1:
      have = proto.int32_data_size();
      want = (count + 1) / 2;
      break;
    default:
      have = proto.int32_data_size();
    }
    if (have != want)
      return countMismatch(have);
  }
  // External data is read (and its length checked against the file) before
  // the tensor is allocated.
  std::string externalBytes;
  if (external) {
    auto raw = readExternalData(proto, modelDir, where,
                                static_cast<int64_t>(expectedRaw));
    if (!raw)
      return raw.status();
    externalBytes = raw.take();
  }
  tensor.data.assign(static_cast<size_t>(count) * elemSize, 0);

  auto fromBytes = [&](const std::string &raw) -> Status {
    if (raw.size() != expectedRaw)
      return Status::error("tensor data has " + std::to_string(raw.size()) +
                               " bytes, expected " +
                               std::to_string(expectedRaw),
                           where);
    if (isFourBit(*dtype))
      unpackFourBit(reinterpret_cast<const uint8_t *>(raw.data()), tensor);
    else if (!raw.empty())
      std::memcpy(tensor.data.data(), raw.data(), raw.size());
    return Status::ok();
  };

  if (external) {
    Status status = fromBytes(externalBytes);
    if (status.failed())
      return status;
    return tensor;
  }
  if (proto.has_raw_data()) {
    Status status = fromBytes(proto.raw_data());
    if (status.failed())
      return status;
    return tensor;
  }
  switch (*dtype) {
  case DType::F32:
    if (proto.float_data_size() != count)
      return countMismatch(proto.float_data_size());
    std::copy(proto.float_data().begin(), proto.float_data().end(),
              tensor.as<float>());
    break;
  case DType::F64:
    if (proto.double_data_size() != count)
      return countMismatch(proto.double_data_size());
    std::copy(proto.double_data().begin(), proto.double_data().end(),
              tensor.as<double>());
    break;
  case DType::I64:
    if (proto.int64_data_size() != count)
      return countMismatch(proto.int64_data_size());
    std::copy(proto.int64_data().begin(), proto.int64_data().end(),
              tensor.as<int64_t>());
    break;
  case DType::U32:
  case DType::U64:
    if (proto.uint64_data_size() != count)
      return countMismatch(proto.uint64_data_size());
    for (int64_t i = 0; i < count; ++i) {
      if (*dtype == DType::U32)
        tensor.as<uint32_t>()[i] =
            static_cast<uint32_t>(proto.uint64_data(i));
      else
        tensor.as<uint64_t>()[i] = proto.uint64_data(i);
    }
    break;
  case DType::I4:
  case DType::U4:
  case DType::F4E2M1: {
    if (proto.int32_data_size() != (count + 1) / 2)
      return countMismatch(proto.int32_data_size() * 2);
    std::string packed;
    for (int32_t v : proto.int32_data())
      packed += static_cast<char>(v & 0xff);
    unpackFourBit(reinterpret_cast<const uint8_t *>(packed.data()), tensor);
    break;
  }
  default: {
    // Every other type of 8 or 16 bits travels in int32_data, one element
    // each (half types as their bit patterns).
    if (proto.int32_data_size() != count)
      return countMismatch(proto.int32_data_size());
    for (int64_t i = 0; i < count; ++i) {
      int32_t v = proto.int32_data(i);
      if (elemSize == 1)
        tensor.data[i] = static_cast<uint8_t>(*dtype == DType::Bool ? v != 0
                                                                    : v);
      else if (elemSize == 2)
        tensor.as<uint16_t>()[i] = static_cast<uint16_t>(v);
      else
        tensor.as<int32_t>()[i] = v;
    }
  }
  }
  return tensor;
}

Result<Tensor> readTensorFile(const std::string &path) {
  auto bytes = readFile(path, kMaxModelBytes);
  if (!bytes)
    return bytes.status();
  onnx::TensorProto proto;
  if (!parseBounded(*bytes, proto))
    return Status::error("malformed or truncated TensorProto file", path);
  std::string dir = fs::path(path).parent_path().string();
  return tensorFromProto(proto, dir, path);
}

Status checkWithLibOnnx(const onnx::ModelProto &model,
                        const std::string &path) {
  if (model.ir_version() > 8)
    return Status::ok();
  for (const auto &opset : model.opset_import()) {
    const std::string &domain = opset.domain();
    if ((domain.empty() || domain == "ai.onnx") && opset.version() > 17)
      return Status::ok();
    if (domain == "ai.onnx.ml" && opset.version() > 3)
      return Status::ok();
    if (!domain.empty() && domain != "ai.onnx" && domain != "ai.onnx.ml")
      return Status::ok();
  }
  try {
    if (model.ir_version() < 4) {
      // IR 3 wants every initializer listed among the graph inputs; many
      // old models (and onnxruntime) ignore that, and it changes nothing
      // for Kiln. IR 4 only relaxed it, so check as IR 4.
      onnx::ModelProto relaxed(model);
      relaxed.set_ir_version(4);
      onnx::checker::check_model(relaxed);
    } else {
      onnx::checker::check_model(model);
    }
  } catch (const std::exception &e) {
    std::string what = e.what();
    // The checker's messages span lines; the first carries the point.
    what = what.substr(0, what.find('\n'));
    return Status::error("the ONNX checker rejected the model: " + what,
                         path);
  }
  return Status::ok();
}

Result<std::shared_ptr<onnx::ModelProto>>
upgradeOpset(const onnx::ModelProto &model, int64_t target,
             const std::string &path) {
  // libonnx's converter crashes when an initializer that is not also a
  // graph input is used as a graph output (found by kiln-fuzz-importer):
  // list every initializer as an input, as IR 3 required. Kiln treats
  // inputs named like initializers as the constants, so nothing changes.
  onnx::ModelProto canonical(model);
  {
    onnx::GraphProto &graph = *canonical.mutable_graph();
    std::set<std::string> inputs;
    for (const auto &input : graph.input())
      inputs.insert(input.name());
    for (const auto &init : graph.initializer()) {
      if (inputs.count(init.name()))
        continue;
      auto *type = graph.add_input();
      type->set_name(init.name());
      auto *tensor = type->mutable_type()->mutable_tensor_type();
      tensor->set_elem_type(init.data_type());
      auto *shape = tensor->mutable_shape();
      for (int64_t d : init.dims())
        shape->add_dim()->set_dim_value(d);
    }
  }
  try {
    auto converted = std::make_shared<onnx::ModelProto>(
        onnx::version_conversion::ConvertVersion(canonical,
                                                 static_cast<int>(target)));
    return converted;
  } catch (const std::exception &e) {
    std::string what = e.what();
    what = what.substr(0, what.find('\n'));
    return Status::error("cannot upgrade the model to opset " +
                             std::to_string(target) +
                             " with the ONNX version converter: " + what,
                         path);
  }
}

} // namespace kiln::frontend

namespace kiln {

/// Returns N for "input_N.pb" style names, or -1.
static int64_t dataIndex(const std::string &name, const std::string &prefix) {
  if (name.rfind(prefix, 0) != 0 || name.size() < prefix.size() + 4 ||
      name.compare(name.size() - 3, 3, ".pb") != 0)
    return -1;
  std::string digits = name.substr(prefix.size(), name.size() -
                                                      prefix.size() - 3);
  if (digits.empty() || digits.size() > 6 ||
      !std::all_of(digits.begin(), digits.end(), ::isdigit))
    return -1;
  return std::stoll(digits);
}

Result<std::vector<Tensor>> loadTensors(const std::string &path) {
  std::error_code error;
  if (!fs::exists(path, error))
    return Status::error("no such file or folder", path);
  if (!fs::is_directory(path, error)) {
    if (fs::path(path).extension() == ".pb") {
      auto tensor = frontend::readTensorFile(path);
      if (!tensor)
        return tensor.status();
      return std::vector<Tensor>{tensor.take()};
    }
    return loadNpzOrNpyFile(path);
  }
  // A test_data_set folder (input_N.pb) or a folder of .npy files.
  std::vector<std::pair<int64_t, std::string>> pbFiles;
  std::vector<std::string> npyFiles;
  for (const auto &entry : fs::directory_iterator(path, error)) {
    std::string name = entry.path().filename().string();
    int64_t index = dataIndex(name, "input_");
    if (index >= 0)
      pbFiles.emplace_back(index, entry.path().string());
    else if (entry.path().extension() == ".npy")
      npyFiles.push_back(entry.path().string());
  }
  std::vector<Tensor> tensors;
  if (!pbFiles.empty()) {
    std::sort(pbFiles.begin(), pbFiles.end());
    for (auto &[index, file] : pbFiles) {
      auto tensor = frontend::readTensorFile(file);
      if (!tensor)
        return tensor.status();
      tensors.push_back(tensor.take());
    }
    return tensors;
  }
  if (npyFiles.empty()) {
    // A test_data_set of a model without inputs holds only outputs.
    if (fs::exists(fs::path(path) / "output_0.pb"))
      return tensors;
    return Status::error("folder holds no input_N.pb or .npy files", path);
  }
  std::sort(npyFiles.begin(), npyFiles.end());
  for (const std::string &file : npyFiles) {
    auto loaded = loadNpzOrNpyFile(file);
    if (!loaded)
      return loaded.status();
    for (Tensor &tensor : *loaded)
      tensors.push_back(std::move(tensor));
  }
  return tensors;
}

} // namespace kiln
