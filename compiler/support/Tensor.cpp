//===- Tensor.cpp - Host tensors, .npy and .npz files -----------*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// kiln::Tensor helpers and the numpy file formats: .npy (versions 1-3,
// either byte order, C order) and .npz (a zip archive of .npy members, stored
// or deflated, zip64 sizes included). Every length read from a file is
// bounds-checked, so a truncated or hostile file yields an error, never a
// crash. ONNX TensorProto files are read in compiler/frontend.
//
//===----------------------------------------------------------------------===//

#include "kiln/Tensor.h"
#include "compiler/support/TensorFiles.h"

#include <zlib.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <sstream>

namespace kiln {

size_t dtypeSize(DType type) {
  switch (type) {
  case DType::F64:
  case DType::I64:
  case DType::U64:
    return 8;
  case DType::F32:
  case DType::I32:
  case DType::U32:
    return 4;
  case DType::F16:
  case DType::BF16:
  case DType::I16:
  case DType::U16:
    return 2;
  default:
    return 1;
  }
}

const char *dtypeName(DType type) {
  switch (type) {
  case DType::F32:
    return "float32";
  case DType::F64:
    return "float64";
  case DType::F16:
    return "float16";
  case DType::BF16:
    return "bfloat16";
  case DType::I8:
    return "int8";
  case DType::I16:
    return "int16";
  case DType::I32:
    return "int32";
  case DType::I64:
    return "int64";
  case DType::U8:
    return "uint8";
  case DType::U16:
    return "uint16";
  case DType::U32:
    return "uint32";
  case DType::U64:
    return "uint64";
  case DType::Bool:
    return "bool";
  case DType::F8E4M3FN:
    return "float8e4m3fn";
  case DType::F8E4M3FNUZ:
    return "float8e4m3fnuz";
  case DType::F8E5M2:
    return "float8e5m2";
  case DType::F8E5M2FNUZ:
    return "float8e5m2fnuz";
  case DType::F4E2M1:
    return "float4e2m1";
  case DType::I4:
    return "int4";
  case DType::U4:
    return "uint4";
  }
  return "unknown";
}

bool isFloat(DType type) {
  switch (type) {
  case DType::F32:
  case DType::F64:
  case DType::F16:
  case DType::BF16:
  case DType::F8E4M3FN:
  case DType::F8E4M3FNUZ:
  case DType::F8E5M2:
  case DType::F8E5M2FNUZ:
  case DType::F4E2M1:
    return true;
  default:
    return false;
  }
}

Tensor::Tensor(std::string name, DType dtype, std::vector<int64_t> shape)
    : name(std::move(name)), dtype(dtype), shape(std::move(shape)) {
  data.assign(static_cast<size_t>(numElements()) * dtypeSize(dtype), 0);
}

int64_t Tensor::numElements() const {
  int64_t count = 1;
  for (int64_t d : shape)
    count *= d;
  return count;
}

std::string Tensor::describe() const {
  std::string text = dtypeName(dtype);
  text += '[';
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i)
      text += 'x';
    text += std::to_string(shape[i]);
  }
  return text + ']';
}

//===----------------------------------------------------------------------===//
// .npy
//===----------------------------------------------------------------------===//

namespace {

/// numpy's type descriptors of the types Kiln reads and writes.
struct NpyType {
  const char *descr; // without the byte-order character
  DType dtype;
};

constexpr NpyType kNpyTypes[] = {
    {"f4", DType::F32}, {"f8", DType::F64}, {"f2", DType::F16},
    {"i1", DType::I8},  {"i2", DType::I16}, {"i4", DType::I32},
    {"i8", DType::I64}, {"u1", DType::U8},  {"u2", DType::U16},
    {"u4", DType::U32}, {"u8", DType::U64}, {"b1", DType::Bool},
};

/// Returns the value of |key| in a numpy header dict, e.g. "'<f4'" for
/// 'descr', or an empty string.
std::string headerField(const std::string &header, const std::string &key) {
  size_t pos = header.find("'" + key + "'");
  if (pos == std::string::npos)
    return {};
  pos = header.find(':', pos);
  if (pos == std::string::npos)
    return {};
  ++pos;
  while (pos < header.size() && header[pos] == ' ')
    ++pos;
  size_t end = pos;
  if (pos < header.size() && header[pos] == '(') {
    end = header.find(')', pos);
    return end == std::string::npos ? std::string()
                                    : header.substr(pos, end - pos + 1);
  }
  while (end < header.size() && header[end] != ',' && header[end] != '}')
    ++end;
  return header.substr(pos, end - pos);
}

} // namespace

Result<Tensor> parseNpy(const std::string &bytes, const std::string &name) {
  auto fail = [&](const std::string &why) {
    return Status::error("not a valid .npy file: " + why, name);
  };
  if (bytes.size() < 10 || bytes.compare(0, 6, "\x93NUMPY") != 0)
    return fail("bad magic");
  unsigned major = static_cast<unsigned char>(bytes[6]);
  size_t headerLen, headerStart;
  if (major == 1) {
    headerLen = static_cast<unsigned char>(bytes[8]) |
                (static_cast<unsigned char>(bytes[9]) << 8);
    headerStart = 10;
  } else if (major == 2 || major == 3) {
    if (bytes.size() < 12)
      return fail("truncated header");
    headerLen = 0;
    for (int i = 3; i >= 0; --i)
      headerLen = (headerLen << 8) | static_cast<unsigned char>(bytes[8 + i]);
    headerStart = 12;
  } else {
    return fail("unsupported version " + std::to_string(major));
  }
  if (headerLen > bytes.size() - headerStart)
    return fail("truncated header");
  std::string header = bytes.substr(headerStart, headerLen);

  std::string descr = headerField(header, "descr");
  if (descr.size() < 4 || descr.front() != '\'' || descr.back() != '\'')
    return fail("missing descr");
  descr = descr.substr(1, descr.size() - 2);
  char order = descr[0];
  std::string code = descr.substr(1);
  const NpyType *type = nullptr;
  for (const NpyType &candidate : kNpyTypes)
    if (code == candidate.descr)
      type = &candidate;
  if (!type || (order != '<' && order != '>' && order != '|' && order != '='))
    return Status::error("unsupported numpy dtype '" + descr +
                             "' (expected bool, int8-64, uint8-64, float16, "
                             "float32 or float64)",
                         name);
  if (headerField(header, "fortran_order").find("True") != std::string::npos)
    return Status::error("Fortran-ordered arrays are not supported (save "
                         "with numpy.ascontiguousarray)",
                         name);

  std::string shapeText = headerField(header, "shape");
  if (shapeText.empty() || shapeText.front() != '(')
    return fail("missing shape");
  Tensor tensor;
  tensor.name = name;
  tensor.dtype = type->dtype;
  std::string digits;
  int64_t count = 1;
  for (char c : shapeText.substr(1)) {
    if (c >= '0' && c <= '9') {
      digits += c;
      if (digits.size() > 12)
        return fail("absurd dimension");
    } else if (c == ',' || c == ')') {
      if (!digits.empty()) {
        int64_t dim = std::stoll(digits);
        tensor.shape.push_back(dim);
        if (dim != 0 && count > (int64_t(1) << 40) / dim)
          return fail("absurd shape");
        count *= dim;
        digits.clear();
      }
    } else if (c != ' ') {
      return fail("malformed shape");
    }
  }
  size_t elemSize = dtypeSize(type->dtype);
  size_t payload = static_cast<size_t>(count) * elemSize;
  size_t dataStart = headerStart + headerLen;
  if (bytes.size() - dataStart < payload)
    return fail("truncated data (expected " + std::to_string(payload) +
                " bytes, found " + std::to_string(bytes.size() - dataStart) +
                ")");
  tensor.data.assign(bytes.begin() + dataStart,
                     bytes.begin() + dataStart + payload);
  if (order == '>' && elemSize > 1)
    for (size_t i = 0; i < payload; i += elemSize)
      std::reverse(tensor.data.begin() + i, tensor.data.begin() + i + elemSize);
  return tensor;
}

Result<std::string> encodeNpy(const Tensor &tensor) {
  const char *code = nullptr;
  for (const NpyType &candidate : kNpyTypes)
    if (candidate.dtype == tensor.dtype)
      code = candidate.descr;
  if (!code)
    return Status::error(std::string("cannot write element type '") +
                             dtypeName(tensor.dtype) + "' to .npy",
                         tensor.name);
  std::string shape = "(";
  for (int64_t d : tensor.shape)
    shape += std::to_string(d) + ",";
  if (tensor.shape.size() > 1)
    shape.pop_back();
  shape += ")";
  char order = dtypeSize(tensor.dtype) == 1 ? '|' : '<';
  std::string header = std::string("{'descr': '") + order + code +
                       "', 'fortran_order': False, 'shape': " + shape + ", }";
  // Pad so that the data starts on a 64-byte boundary, ending with '\n'.
  size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header += '\n';
  std::string bytes = "\x93NUMPY";
  bytes += '\x01';
  bytes += '\x00';
  bytes += static_cast<char>(header.size() & 0xff);
  bytes += static_cast<char>(header.size() >> 8);
  bytes += header;
  bytes.append(reinterpret_cast<const char *>(tensor.data.data()),
               tensor.data.size());
  return bytes;
}

//===----------------------------------------------------------------------===//
// .npz (zip)
//===----------------------------------------------------------------------===//

namespace {

/// Little-endian reads with bounds checks over a byte string.
struct ByteReader {
  const std::string &bytes;
  bool ok = true;

  uint64_t read(size_t offset, int width) {
    if (offset > bytes.size() || bytes.size() - offset < size_t(width)) {
      ok = false;
      return 0;
    }
    uint64_t value = 0;
    for (int i = width - 1; i >= 0; --i)
      value = (value << 8) | static_cast<unsigned char>(bytes[offset + i]);
    return value;
  }
};

/// Inflates a raw deflate stream of |compressed| into exactly |size| bytes.
bool inflateRaw(const char *compressed, size_t compressedSize, size_t size,
                std::string &out) {
  out.assign(size, '\0');
  z_stream stream{};
  if (inflateInit2(&stream, -MAX_WBITS) != Z_OK)
    return false;
  stream.next_in =
      reinterpret_cast<Bytef *>(const_cast<char *>(compressed));
  stream.avail_in = static_cast<uInt>(compressedSize);
  stream.next_out = reinterpret_cast<Bytef *>(out.data());
  stream.avail_out = static_cast<uInt>(size);
  int result = inflate(&stream, Z_FINISH);
  bool ok = result == Z_STREAM_END && stream.total_out == size;
  inflateEnd(&stream);
  return ok;
}

void put16(std::string &out, uint32_t v) {
  out += static_cast<char>(v & 0xff);
  out += static_cast<char>((v >> 8) & 0xff);
}
void put32(std::string &out, uint32_t v) {
  put16(out, v & 0xffff);
  put16(out, v >> 16);
}

} // namespace

/// Parses every member of a .npz archive held in |bytes|.
static Result<std::vector<Tensor>> parseNpz(const std::string &bytes,
                                            const std::string &path) {
  auto fail = [&](const std::string &why) {
    return Status::error("not a valid .npz archive: " + why, path);
  };
  ByteReader reader{bytes};
  // The end-of-central-directory record sits in the last 64 KiB + 22 bytes.
  if (bytes.size() < 22)
    return fail("too short");
  size_t eocd = std::string::npos;
  size_t lowest = bytes.size() > 65557 ? bytes.size() - 65557 : 0;
  for (size_t pos = bytes.size() - 22;; --pos) {
    if (reader.read(pos, 4) == 0x06054b50) {
      eocd = pos;
      break;
    }
    if (pos == lowest)
      break;
  }
  if (eocd == std::string::npos)
    return fail("no end-of-central-directory record");
  uint64_t entries = reader.read(eocd + 10, 2);
  uint64_t dirOffset = reader.read(eocd + 16, 4);
  if (dirOffset == 0xffffffffu || entries == 0xffffu) {
    // zip64: the locator precedes the EOCD record.
    if (eocd < 20 || reader.read(eocd - 20, 4) != 0x07064b50)
      return fail("missing zip64 locator");
    uint64_t eocd64 = reader.read(eocd - 12, 8);
    if (reader.read(eocd64, 4) != 0x06064b50)
      return fail("bad zip64 record");
    entries = reader.read(eocd64 + 32, 8);
    dirOffset = reader.read(eocd64 + 48, 8);
  }
  std::vector<Tensor> tensors;
  size_t pos = dirOffset;
  for (uint64_t i = 0; i < entries; ++i) {
    if (reader.read(pos, 4) != 0x02014b50)
      return fail("bad central directory entry");
    uint64_t method = reader.read(pos + 10, 2);
    uint64_t compressedSize = reader.read(pos + 20, 4);
    uint64_t size = reader.read(pos + 24, 4);
    uint64_t nameLen = reader.read(pos + 28, 2);
    uint64_t extraLen = reader.read(pos + 30, 2);
    uint64_t commentLen = reader.read(pos + 32, 2);
    uint64_t localOffset = reader.read(pos + 42, 4);
    if (!reader.ok || pos + 46 + nameLen > bytes.size())
      return fail("truncated central directory");
    std::string member = bytes.substr(pos + 46, nameLen);
    // zip64 extra field: sizes and offset that overflowed 32 bits, in order.
    size_t extra = pos + 46 + nameLen;
    for (size_t e = extra; e + 4 <= extra + extraLen;) {
      uint64_t id = reader.read(e, 2), len = reader.read(e + 2, 2);
      if (id == 1) {
        size_t field = e + 4;
        if (size == 0xffffffffu) {
          size = reader.read(field, 8);
          field += 8;
        }
        if (compressedSize == 0xffffffffu) {
          compressedSize = reader.read(field, 8);
          field += 8;
        }
        if (localOffset == 0xffffffffu)
          localOffset = reader.read(field, 8);
      }
      e += 4 + len;
    }
    pos += 46 + nameLen + extraLen + commentLen;
    if (!reader.ok)
      return fail("truncated central directory");

    if (reader.read(localOffset, 4) != 0x04034b50)
      return fail("bad local header of '" + member + "'");
    uint64_t dataStart = localOffset + 30 + reader.read(localOffset + 26, 2) +
                         reader.read(localOffset + 28, 2);
    if (!reader.ok || dataStart > bytes.size() ||
        bytes.size() - dataStart < compressedSize)
      return fail("truncated member '" + member + "'");
    if (size > (uint64_t(1) << 40))
      return fail("absurd member size");
    std::string payload;
    if (method == 0) {
      payload = bytes.substr(dataStart, compressedSize);
    } else if (method == 8) {
      if (!inflateRaw(bytes.data() + dataStart, compressedSize, size, payload))
        return fail("corrupt deflate data in '" + member + "'");
    } else {
      return fail("unsupported compression method " + std::to_string(method));
    }
    std::string tensorName = member;
    if (tensorName.size() > 4 &&
        tensorName.compare(tensorName.size() - 4, 4, ".npy") == 0)
      tensorName.resize(tensorName.size() - 4);
    auto tensor = parseNpy(payload, tensorName);
    if (!tensor)
      return Status::error(tensor.status().diagnostics()[0].message,
                           path + ": '" + member + "'");
    tensors.push_back(tensor.take());
  }
  return tensors;
}

Result<std::vector<Tensor>> loadNpzOrNpyFile(const std::string &path) {
  std::ifstream file(path, std::ios::binary);
  if (!file)
    return Status::error("cannot open", path);
  std::stringstream buffer;
  buffer << file.rdbuf();
  std::string bytes = buffer.str();
  if (bytes.compare(0, 6, "\x93NUMPY") == 0) {
    std::string base = path.substr(path.find_last_of('/') + 1);
    if (base.size() > 4 && base.compare(base.size() - 4, 4, ".npy") == 0)
      base.resize(base.size() - 4);
    auto tensor = parseNpy(bytes, base);
    if (!tensor)
      return Status::error(tensor.status().diagnostics()[0].message, path);
    return std::vector<Tensor>{tensor.take()};
  }
  return parseNpz(bytes, path);
}

Status saveNpz(const std::string &path, const std::vector<Tensor> &tensors) {
  std::string archive, directory;
  for (const Tensor &tensor : tensors) {
    auto npy = encodeNpy(tensor);
    if (!npy)
      return npy.status();
    if (npy->size() >= 0xffffffffu || archive.size() >= 0xffffffffu)
      return Status::error("tensor too large for a .npz written by Kiln",
                           tensor.name);
    std::string member = tensor.name + ".npy";
    uint32_t crc = crc32(0L, reinterpret_cast<const Bytef *>(npy->data()),
                         static_cast<uInt>(npy->size()));
    uint32_t offset = static_cast<uint32_t>(archive.size());
    auto header = [&](std::string &out, bool central) {
      put32(out, central ? 0x02014b50 : 0x04034b50);
      if (central)
        put16(out, 20); // version made by
      put16(out, 20);   // version needed
      put16(out, 0);    // flags
      put16(out, 0);    // method: stored
      put16(out, 0);    // time
      put16(out, 0x21); // date (1980-01-01)
      put32(out, crc);
      put32(out, static_cast<uint32_t>(npy->size()));
      put32(out, static_cast<uint32_t>(npy->size()));
      put16(out, static_cast<uint32_t>(member.size()));
      put16(out, 0); // extra length
      if (central) {
        put16(out, 0); // comment length
        put16(out, 0); // disk
        put16(out, 0); // internal attributes
        put32(out, 0); // external attributes
        put32(out, offset);
      }
      out += member;
    };
    header(archive, false);
    archive += *npy;
    header(directory, true);
  }
  uint32_t dirOffset = static_cast<uint32_t>(archive.size());
  archive += directory;
  put32(archive, 0x06054b50);
  put16(archive, 0);
  put16(archive, 0);
  put16(archive, static_cast<uint32_t>(tensors.size()));
  put16(archive, static_cast<uint32_t>(tensors.size()));
  put32(archive, static_cast<uint32_t>(directory.size()));
  put32(archive, dirOffset);
  put16(archive, 0);
  std::ofstream file(path, std::ios::binary);
  if (!file)
    return Status::error("cannot write", path);
  file.write(archive.data(), static_cast<std::streamsize>(archive.size()));
  if (!file)
    return Status::error("write failed", path);
  return Status::ok();
}

} // namespace kiln
