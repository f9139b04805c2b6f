#include "float_bits.hpp"

#include <cctype>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <string>

#include "error.hpp"
#include "rounding.hpp"

namespace bnconform {

std::uint16_t encode_f16(double v) {
  const std::uint16_t sign = std::signbit(v) ? 0x8000u : 0u;
  if (std::isnan(v)) return 0x7e00u;
  const double a = std::fabs(v);
  if (std::isinf(a)) return static_cast<std::uint16_t>(sign | 0x7c00u);
  if (a < std::ldexp(1.0, -14)) {  // subnormal or zero: a = n * 2^-24
    return static_cast<std::uint16_t>(sign | static_cast<std::uint16_t>(std::ldexp(a, 24)));
  }
  int k = 0;
  const double fraction = std::frexp(a, &k);  // a = fraction * 2^k
  const int exponent = k - 1;
  const auto mantissa = static_cast<std::uint16_t>(std::ldexp(fraction, 11) - 1024.0);
  return static_cast<std::uint16_t>(sign | ((exponent + 15) << 10) | mantissa);
}

double decode_f16(std::uint16_t bits) {
  const double sign = (bits & 0x8000u) != 0 ? -1.0 : 1.0;
  const int exponent_bits = (bits >> 10) & 0x1f;
  const int mantissa = bits & 0x3ff;
  if (exponent_bits == 0x1f) {
    return mantissa != 0 ? std::numeric_limits<double>::quiet_NaN()
                         : sign * std::numeric_limits<double>::infinity();
  }
  if (exponent_bits == 0) return sign * std::ldexp(static_cast<double>(mantissa), -24);
  return sign * std::ldexp(static_cast<double>(mantissa + 1024), exponent_bits - 25);
}

std::uint16_t encode_bf16(double v) {
  if (std::isnan(v)) return 0x7fc0u;
  const auto f = static_cast<float>(v);  // exact: v is a bf16 value
  return static_cast<std::uint16_t>(std::bit_cast<std::uint32_t>(f) >> 16);
}

double decode_bf16(std::uint16_t bits) {
  return static_cast<double>(std::bit_cast<float>(static_cast<std::uint32_t>(bits) << 16));
}

namespace {
std::string non_finite_name(double v) {
  if (std::isnan(v)) return "nan";
  return v > 0 ? "inf" : "-inf";
}
}  // namespace

std::string shortest_decimal(double v, dtype t) {
  if (!std::isfinite(v)) return non_finite_name(v);
  char buffer[64];
  if (t == dtype::f64) {
    const auto result = std::to_chars(buffer, buffer + sizeof buffer, v);
    return {buffer, result.ptr};
  }
  // The f32 shortest form reads back as v when read as a float, but our readers go
  // through a double first; for one float (0x1.5c87fap-84) that double lands on a
  // midpoint and rounds away. So every non-f64 form is checked the way it is read.
  for (int digits = 1; digits <= 17; ++digits) {
    const auto result =
        std::to_chars(buffer, buffer + sizeof buffer, v, std::chars_format::general, digits);
    double back = 0;
    std::from_chars(buffer, result.ptr, back);
    if (same_value(round_to(back, t), v)) return {buffer, result.ptr};
  }
  const auto result = std::to_chars(buffer, buffer + sizeof buffer, v);
  return {buffer, result.ptr};
}

std::string hex_float(double v) {
  if (!std::isfinite(v)) return non_finite_name(v);
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%a", v);
  return buffer;
}

double parse_real(std::string_view text, std::string_view what) {
  const std::string s(text);
  // strtod reads hex floats, decimals, nan and inf alike and rounds correctly;
  // reject what it would silently accept beyond a plain number (leading space,
  // trailing text) and a finite text that overflows.
  if (!s.empty() && !std::isspace(static_cast<unsigned char>(s.front()))) {
    char* end = nullptr;
    errno = 0;
    const double value = std::strtod(s.c_str(), &end);
    if (end == s.c_str() + s.size()) {
      if (errno == ERANGE && std::isinf(value)) {
        report_error(std::string(what) + ": '" + s + "' is out of the range of f64");
      }
      return value;
    }
  }
  report_error(std::string(what) + ": '" + s +
               "' is not a number (expected decimal, hex float, nan, inf or -inf)");
}

}  // namespace bnconform
