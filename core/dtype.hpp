#pragma once
// Element types of tensors and the IEEE binary formats behind them.
#include <cstdint>
#include <string_view>

#include "bnconform/kernel.h"

namespace bnconform {

enum class dtype : std::uint8_t { f64, f32, f16, bf16 };

// An IEEE-style binary format: `precision` significand bits (hidden bit included),
// normal exponents in [min_exponent, max_exponent] (value = 1.f * 2^e).
struct binary_format {
  int precision;
  int min_exponent;
  int max_exponent;
};

constexpr binary_format format_of(dtype t) {
  switch (t) {
    case dtype::f64: return {53, -1022, 1023};
    case dtype::f32: return {24, -126, 127};
    case dtype::f16: return {11, -14, 15};
    case dtype::bf16: return {8, -126, 127};
  }
  return {53, -1022, 1023};
}

constexpr std::size_t size_of(dtype t) { return t == dtype::f64 ? 8 : t == dtype::f32 ? 4 : 2; }

// semantics.md: parameters and statistics are f64 when the data is f64, else f32.
constexpr dtype stats_dtype_for(dtype data) { return data == dtype::f64 ? dtype::f64 : dtype::f32; }

// Unit roundoff 2^-precision.
double unit_roundoff(dtype t);

std::string_view name_of(dtype t);
dtype parse_dtype(std::string_view text);  // throws bnconform::error

bnc_dtype to_abi(dtype t);
dtype from_abi(bnc_dtype t);  // throws bnconform::error on an unknown value

}  // namespace bnconform
