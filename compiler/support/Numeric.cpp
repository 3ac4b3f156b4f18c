//===- Numeric.cpp - Narrow float formats and rounding helpers --*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// Conversions declared in Numeric.h. The 8- and 4-bit float formats are
// described by a small table (exponent/mantissa widths, bias, how NaN and
// infinity are encoded); encoding searches the sorted finite values of the
// format, so rounding to nearest-even is exact by construction.
//
//===----------------------------------------------------------------------===//

#include "compiler/support/Numeric.h"

#include <algorithm>
#include <array>
#include <limits>
#include <vector>

namespace kiln {

float halfToFloat(uint16_t bits) {
  uint32_t sign = static_cast<uint32_t>(bits & 0x8000) << 16;
  uint32_t exponent = (bits >> 10) & 0x1f;
  uint32_t mantissa = bits & 0x3ff;
  uint32_t word;
  if (exponent == 0x1f) {
    word = sign | 0x7f800000 | (mantissa << 13);
  } else if (exponent == 0) {
    if (mantissa == 0) {
      word = sign;
    } else {
      // Subnormal half: normalise into a float.
      int shift = 0;
      while (!(mantissa & 0x400)) {
        mantissa <<= 1;
        ++shift;
      }
      mantissa &= 0x3ff;
      word = sign | (static_cast<uint32_t>(113 - shift) << 23) |
             (mantissa << 13);
    }
  } else {
    word = sign | ((exponent + 112) << 23) | (mantissa << 13);
  }
  float value;
  std::memcpy(&value, &word, 4);
  return value;
}

uint16_t floatToHalf(float value) {
  uint32_t word;
  std::memcpy(&word, &value, 4);
  uint16_t sign = static_cast<uint16_t>((word >> 16) & 0x8000);
  uint32_t absWord = word & 0x7fffffff;
  if (absWord > 0x7f800000) // NaN: keep it quiet
    return sign | 0x7e00;
  if (absWord >= 0x477ff000) // rounds to >= 65520: infinity
    return sign | 0x7c00;
  if (absWord < 0x33000001) // below half of the smallest subnormal
    return sign;
  int exponent = static_cast<int>(absWord >> 23) - 127;
  uint32_t mantissa = (absWord & 0x7fffff) | 0x800000;
  int shift;
  uint32_t base;
  if (exponent < -14) {
    // Subnormal result: mantissa shifted right by the extra amount.
    shift = 13 + (-14 - exponent);
    base = 0;
  } else {
    shift = 13;
    base = static_cast<uint32_t>(exponent + 15) << 10;
    mantissa &= 0x7fffff;
  }
  uint32_t half = mantissa >> shift;
  uint32_t remainder = mantissa & ((1u << shift) - 1);
  uint32_t halfway = 1u << (shift - 1);
  if (remainder > halfway || (remainder == halfway && (half & 1)))
    ++half; // may carry into the exponent, which is the right result
  return static_cast<uint16_t>(sign | (base + half));
}

uint16_t floatToBfloat16(float value) {
  uint32_t word;
  std::memcpy(&word, &value, 4);
  if ((word & 0x7fffffff) > 0x7f800000)
    return static_cast<uint16_t>((word >> 16) | 0x40);
  uint32_t rounding = 0x7fff + ((word >> 16) & 1);
  return static_cast<uint16_t>((word + rounding) >> 16);
}

namespace {

/// How one narrow float format encodes its values.
struct NarrowFormat {
  int exponentBits, mantissaBits, bias;
  bool hasInfinity; // E5M2: all-ones exponent, zero mantissa
  bool ieeeNaN;     // E5M2: all-ones exponent with non-zero mantissa is NaN
  bool fnNaN;       // E4M3FN: only S.1111.111 is NaN
  bool uzNaN;       // FNUZ: 0x80 is the single NaN, no negative zero
  bool hasNaN;      // FP4 E2M1 has none
};

const NarrowFormat &formatOf(DType type) {
  static const NarrowFormat e4m3fn{4, 3, 7, false, false, true, false, true};
  static const NarrowFormat e4m3fnuz{4, 3, 8, false, false, false, true, true};
  static const NarrowFormat e5m2{5, 2, 15, true, true, false, false, true};
  static const NarrowFormat e5m2fnuz{5, 2, 16, false, false, false, true,
                                     true};
  static const NarrowFormat e2m1{2, 1, 1, false, false, false, false, false};
  switch (type) {
  case DType::F8E4M3FN:
    return e4m3fn;
  case DType::F8E4M3FNUZ:
    return e4m3fnuz;
  case DType::F8E5M2:
    return e5m2;
  case DType::F8E5M2FNUZ:
    return e5m2fnuz;
  default:
    return e2m1;
  }
}

/// Returns true when |code| (sign cleared) is NaN or infinity in |f|.
bool isSpecial(const NarrowFormat &f, uint32_t code) {
  uint32_t maxExponent = (1u << f.exponentBits) - 1;
  uint32_t exponent = code >> f.mantissaBits;
  uint32_t mantissa = code & ((1u << f.mantissaBits) - 1);
  if (f.ieeeNaN || f.hasInfinity)
    return exponent == maxExponent;
  if (f.fnNaN)
    return exponent == maxExponent &&
           mantissa == (1u << f.mantissaBits) - 1;
  return false;
}

/// Returns the magnitude of the non-special positive code |code|.
double magnitude(const NarrowFormat &f, uint32_t code) {
  uint32_t exponent = code >> f.mantissaBits;
  uint32_t mantissa = code & ((1u << f.mantissaBits) - 1);
  double fraction = static_cast<double>(mantissa) / (1u << f.mantissaBits);
  if (exponent == 0)
    return std::ldexp(fraction, 1 - f.bias);
  return std::ldexp(1.0 + fraction, static_cast<int>(exponent) - f.bias);
}

/// The finite non-negative values of a format, indexed by code.
struct PositiveTable {
  std::vector<double> values; // values[code], increasing with code
};

const PositiveTable &tableOf(DType type) {
  static std::array<PositiveTable, 5> tables;
  static std::array<bool, 5> ready{};
  int index = static_cast<int>(type) - static_cast<int>(DType::F8E4M3FN);
  if (!ready[index]) {
    const NarrowFormat &f = formatOf(type);
    uint32_t count = 1u << (f.exponentBits + f.mantissaBits);
    for (uint32_t code = 0; code < count; ++code)
      if (!isSpecial(f, code))
        tables[index].values.push_back(magnitude(f, code));
    ready[index] = true;
  }
  return tables[index];
}

} // namespace

float narrowFloatToFloat(DType type, uint8_t bits) {
  const NarrowFormat &f = formatOf(type);
  int width = 1 + f.exponentBits + f.mantissaBits;
  uint32_t signBit = 1u << (width - 1);
  uint32_t code = bits & (signBit - 1);
  bool negative = bits & signBit;
  if (f.uzNaN && bits == signBit)
    return std::numeric_limits<float>::quiet_NaN();
  if (isSpecial(f, code)) {
    if (f.hasInfinity && (code & ((1u << f.mantissaBits) - 1)) == 0)
      return negative ? -std::numeric_limits<float>::infinity()
                      : std::numeric_limits<float>::infinity();
    return std::numeric_limits<float>::quiet_NaN();
  }
  double value = magnitude(f, code);
  return static_cast<float>(negative ? -value : value);
}

uint8_t floatToNarrowFloat(DType type, float value, bool saturate) {
  const NarrowFormat &f = formatOf(type);
  int width = 1 + f.exponentBits + f.mantissaBits;
  uint32_t signBit = 1u << (width - 1);
  uint32_t maxExponent = (1u << f.exponentBits) - 1;
  const std::vector<double> &table = tableOf(type).values;
  uint32_t maxCode = static_cast<uint32_t>(table.size() - 1);
  uint32_t sign = std::signbit(value) ? signBit : 0;
  auto nanCode = [&]() -> uint8_t {
    if (f.uzNaN)
      return static_cast<uint8_t>(signBit);
    if (f.fnNaN)
      return static_cast<uint8_t>(sign | (signBit - 1));
    if (f.ieeeNaN)
      return static_cast<uint8_t>(sign | (maxExponent << f.mantissaBits) |
                                  (1u << (f.mantissaBits - 1)));
    // FP4 E2M1 has no NaN; ONNX's reference encodes NaN as -0.
    return static_cast<uint8_t>(signBit);
  };
  auto overflow = [&]() -> uint8_t {
    if (saturate || !f.hasNaN)
      return static_cast<uint8_t>(sign | maxCode);
    if (f.hasInfinity)
      return static_cast<uint8_t>(sign | (maxExponent << f.mantissaBits));
    return nanCode();
  };
  if (std::isnan(value))
    return nanCode();
  if (std::isinf(value))
    return overflow();
  double a = std::fabs(static_cast<double>(value));
  double maxValue = table.back();
  // The rounding boundary above the largest value is half an ulp of the top
  // binade, as if the format continued.
  double ulp = table.back() - table[table.size() - 2];
  if (a > maxValue) {
    if (saturate || a < maxValue + ulp / 2 ||
        (a == maxValue + ulp / 2 && (maxCode & 1) == 0))
      return static_cast<uint8_t>(sign | maxCode);
    return overflow();
  }
  auto upper = std::lower_bound(table.begin(), table.end(), a);
  uint32_t code = static_cast<uint32_t>(upper - table.begin());
  if (*upper != a && code > 0) {
    double below = table[code - 1], above = *upper;
    if (a - below < above - a || (a - below == above - a && (code & 1)))
      --code;
  }
  if (code == 0 && f.uzNaN)
    return 0; // FNUZ formats have no negative zero
  return static_cast<uint8_t>(sign | code);
}

bool isSignedInt(DType type) {
  return type == DType::I8 || type == DType::I16 || type == DType::I32 ||
         type == DType::I64 || type == DType::I4;
}

bool isUnsignedInt(DType type) {
  return type == DType::U8 || type == DType::U16 || type == DType::U32 ||
         type == DType::U64 || type == DType::U4;
}

int64_t intMin(DType type) {
  switch (type) {
  case DType::I4:
    return -8;
  case DType::I8:
    return INT8_MIN;
  case DType::I16:
    return INT16_MIN;
  case DType::I32:
    return INT32_MIN;
  case DType::I64:
    return INT64_MIN;
  default:
    return 0;
  }
}

int64_t intMax(DType type) {
  switch (type) {
  case DType::I4:
    return 7;
  case DType::U4:
    return 15;
  case DType::I8:
    return INT8_MAX;
  case DType::U8:
    return UINT8_MAX;
  case DType::I16:
    return INT16_MAX;
  case DType::U16:
    return UINT16_MAX;
  case DType::I32:
    return INT32_MAX;
  case DType::U32:
    return UINT32_MAX;
  case DType::Bool:
    return 1;
  default:
    return INT64_MAX;
  }
}

double loadFloat(const Tensor &tensor, int64_t i) {
  switch (tensor.dtype) {
  case DType::F32:
    return tensor.as<float>()[i];
  case DType::F64:
    return tensor.as<double>()[i];
  case DType::F16:
    return halfToFloat(tensor.as<uint16_t>()[i]);
  case DType::BF16:
    return bfloat16ToFloat(tensor.as<uint16_t>()[i]);
  case DType::F8E4M3FN:
  case DType::F8E4M3FNUZ:
  case DType::F8E5M2:
  case DType::F8E5M2FNUZ:
  case DType::F4E2M1:
    return narrowFloatToFloat(tensor.dtype, tensor.as<uint8_t>()[i]);
  default:
    if (isUnsignedInt(tensor.dtype))
      return static_cast<double>(loadUnsigned(tensor, i));
    return static_cast<double>(loadInt(tensor, i));
  }
}

void storeFloat(Tensor &tensor, int64_t i, double value) {
  switch (tensor.dtype) {
  case DType::F32:
    tensor.as<float>()[i] = static_cast<float>(value);
    return;
  case DType::F64:
    tensor.as<double>()[i] = value;
    return;
  case DType::F16:
    tensor.as<uint16_t>()[i] = floatToHalf(static_cast<float>(value));
    return;
  case DType::BF16:
    tensor.as<uint16_t>()[i] = floatToBfloat16(static_cast<float>(value));
    return;
  case DType::F8E4M3FN:
  case DType::F8E4M3FNUZ:
  case DType::F8E5M2:
  case DType::F8E5M2FNUZ:
  case DType::F4E2M1:
    tensor.as<uint8_t>()[i] =
        floatToNarrowFloat(tensor.dtype, static_cast<float>(value), true);
    return;
  default:
    storeInt(tensor, i, static_cast<int64_t>(value));
  }
}

int64_t loadInt(const Tensor &tensor, int64_t i) {
  switch (tensor.dtype) {
  case DType::I8:
  case DType::I4:
    return tensor.as<int8_t>()[i];
  case DType::U8:
  case DType::U4:
  case DType::Bool:
    return tensor.as<uint8_t>()[i];
  case DType::I16:
    return tensor.as<int16_t>()[i];
  case DType::U16:
    return tensor.as<uint16_t>()[i];
  case DType::I32:
    return tensor.as<int32_t>()[i];
  case DType::U32:
    return tensor.as<uint32_t>()[i];
  case DType::I64:
    return tensor.as<int64_t>()[i];
  case DType::U64:
    return static_cast<int64_t>(tensor.as<uint64_t>()[i]);
  default:
    return static_cast<int64_t>(loadFloat(tensor, i));
  }
}

uint64_t loadUnsigned(const Tensor &tensor, int64_t i) {
  if (tensor.dtype == DType::U64)
    return tensor.as<uint64_t>()[i];
  return static_cast<uint64_t>(loadInt(tensor, i));
}

void storeInt(Tensor &tensor, int64_t i, int64_t value) {
  switch (tensor.dtype) {
  case DType::I8:
  case DType::I4:
    tensor.as<int8_t>()[i] = static_cast<int8_t>(value);
    return;
  case DType::U8:
  case DType::U4:
    tensor.as<uint8_t>()[i] = static_cast<uint8_t>(value);
    return;
  case DType::Bool:
    tensor.as<uint8_t>()[i] = value != 0;
    return;
  case DType::I16:
    tensor.as<int16_t>()[i] = static_cast<int16_t>(value);
    return;
  case DType::U16:
    tensor.as<uint16_t>()[i] = static_cast<uint16_t>(value);
    return;
  case DType::I32:
    tensor.as<int32_t>()[i] = static_cast<int32_t>(value);
    return;
  case DType::U32:
    tensor.as<uint32_t>()[i] = static_cast<uint32_t>(value);
    return;
  case DType::I64:
    tensor.as<int64_t>()[i] = value;
    return;
  case DType::U64:
    tensor.as<uint64_t>()[i] = static_cast<uint64_t>(value);
    return;
  default:
    storeFloat(tensor, i, static_cast<double>(value));
  }
}

} // namespace kiln
