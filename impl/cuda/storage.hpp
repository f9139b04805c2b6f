#pragma once
// Storage formats of the data tensors and their exact conversions to and from the
// double the kernels compute in. Reading is exact for every format. Writing rounds
// once, to nearest with ties to even, straight from double (never through float,
// which would round twice), with subnormals and overflow to infinity; NaN becomes
// the canonical quiet NaN of the format (core/float_bits: 0x7e00, 0x7fc0).
#include <cstdint>
#include <cstring>

#include "host_device.hpp"

namespace bnconform::cuda {

BNC_HOST_DEVICE std::uint64_t bits_of(double v) {
  std::uint64_t b;
  std::memcpy(&b, &v, sizeof b);
  return b;
}

BNC_HOST_DEVICE double double_of(std::uint64_t b) {
  double v;
  std::memcpy(&v, &b, sizeof v);
  return v;
}

// A binary16-like format with `mantissa_bits` stored significand bits and
// normal exponents in [min_exponent, max_exponent] (f16: 10, -14, 15; bf16: 7, -126, 127).
struct narrow_format {
  int mantissa_bits;
  int min_exponent;
  int max_exponent;
  std::uint16_t quiet_nan;
};

constexpr narrow_format f16_format = {10, -14, 15, 0x7e00u};
constexpr narrow_format bf16_format = {7, -126, 127, 0x7fc0u};

BNC_HOST_DEVICE double decode_narrow(std::uint16_t h, narrow_format f) {
  const std::uint64_t sign = static_cast<std::uint64_t>(h >> 15) << 63;
  const int exponent_bits = 15 - f.mantissa_bits;
  const unsigned exponent_field = (h >> f.mantissa_bits) & ((1u << exponent_bits) - 1u);
  const std::uint64_t mantissa = h & ((1u << f.mantissa_bits) - 1u);
  const unsigned all_ones = (1u << exponent_bits) - 1u;
  const int bias = f.max_exponent;
  if (exponent_field == all_ones) {  // Inf, or NaN with its payload kept and quieted
    const std::uint64_t payload = mantissa << (52 - f.mantissa_bits);
    return double_of(sign | (0x7ffull << 52) | payload | (mantissa ? (1ull << 51) : 0));
  }
  if (exponent_field == 0) {  // zero or subnormal: mantissa * 2^(min_exponent - mantissa_bits)
    const double magnitude =
        static_cast<double>(mantissa) *
        double_of(static_cast<std::uint64_t>(1023 + f.min_exponent - f.mantissa_bits) << 52);
    return double_of(sign | bits_of(magnitude));
  }
  const std::uint64_t exponent =
      static_cast<std::uint64_t>(static_cast<int>(exponent_field) - bias + 1023);
  return double_of(sign | (exponent << 52) | (mantissa << (52 - f.mantissa_bits)));
}

BNC_HOST_DEVICE std::uint16_t encode_narrow(double v, narrow_format f) {
  const std::uint64_t b = bits_of(v);
  const std::uint16_t sign = static_cast<std::uint16_t>((b >> 63) << 15);
  const std::uint64_t magnitude = b & ~(1ull << 63);
  const int exponent_bits = 15 - f.mantissa_bits;
  const std::uint16_t infinity =
      static_cast<std::uint16_t>(((1u << exponent_bits) - 1u) << f.mantissa_bits);
  if (magnitude >= (0x7ffull << 52)) {
    return magnitude == (0x7ffull << 52) ? static_cast<std::uint16_t>(sign | infinity)
                                         : f.quiet_nan;
  }
  if (magnitude == 0) return sign;
  // Significand with the hidden bit (doubles' subnormals are far below every
  // narrow format's range and round to zero through the shift cap below).
  const int exponent = static_cast<int>(magnitude >> 52) - 1023;
  const std::uint64_t significand =
      (magnitude & ((1ull << 52) - 1)) | ((magnitude >> 52) != 0 ? (1ull << 52) : 0);
  // Bits to drop: 52 - mantissa_bits, more below the normal range.
  int shift = 52 - f.mantissa_bits;
  if (exponent < f.min_exponent) shift += f.min_exponent - exponent;
  if (shift > 54) shift = 54;  // below half the smallest subnormal: rounds to zero
  std::uint64_t q = significand >> shift;
  const std::uint64_t rest = significand & ((1ull << shift) - 1);
  const std::uint64_t half = 1ull << (shift - 1);
  if (rest > half || (rest == half && (q & 1u))) ++q;  // ties to even
  // Normal: the hidden bit in q adds one to the exponent field, and a carry out of
  // the significand moves to the next binade by itself. Subnormal: q is the field.
  const std::uint64_t field =
      exponent < f.min_exponent
          ? q
          : (static_cast<std::uint64_t>(exponent - f.min_exponent) << f.mantissa_bits) + q;
  if (field >= infinity) return static_cast<std::uint16_t>(sign | infinity);
  return static_cast<std::uint16_t>(sign | field);
}

// The four storage types, as the kernels are templated on them.
struct f64_storage {
  using value_type = double;
  static BNC_HOST_DEVICE double load(value_type v) { return v; }
  static BNC_HOST_DEVICE value_type store(double v) { return v; }
};
struct f32_storage {
  using value_type = float;
  static BNC_HOST_DEVICE double load(value_type v) { return static_cast<double>(v); }
  // One correctly rounded conversion (round to nearest even, IEEE).
  static BNC_HOST_DEVICE value_type store(double v) { return static_cast<float>(v); }
};
struct f16_storage {
  using value_type = std::uint16_t;
  static BNC_HOST_DEVICE double load(value_type v) { return decode_narrow(v, f16_format); }
  static BNC_HOST_DEVICE value_type store(double v) { return encode_narrow(v, f16_format); }
};
struct bf16_storage {
  using value_type = std::uint16_t;
  static BNC_HOST_DEVICE double load(value_type v) { return decode_narrow(v, bf16_format); }
  static BNC_HOST_DEVICE value_type store(double v) { return encode_narrow(v, bf16_format); }
};

}  // namespace bnconform::cuda
