#pragma once
// Correct rounding (to nearest, ties to even) of a real number to a binary format,
// with subnormals and overflow to infinity, for any number type with frexp, ldexp
// and floor: double, or a Boost.Multiprecision float. This is the one place where
// the reference's result meets the target dtype, so it is written out in full
// rather than trusting a library conversion (Boost 1.74's own conversion of
// cpp_bin_float to double was not checked for subnormal results).
#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>

#include "dtype.hpp"

namespace bnconform {

// Rounds v to format f; the result is returned as a double, which holds every value
// of every supported format exactly.
template <class Real>
double round_to_format(const Real& v, binary_format f) {
  using std::floor;
  using std::frexp;
  using std::isinf;
  using std::isnan;
  using std::ldexp;
  using std::signbit;
  if (isnan(v)) return std::numeric_limits<double>::quiet_NaN();
  const bool negative = signbit(v);
  if (isinf(v))
    return negative ? -std::numeric_limits<double>::infinity()
                    : std::numeric_limits<double>::infinity();
  if (v == 0) return negative ? -0.0 : 0.0;
  const Real magnitude = negative ? Real(-v) : v;
  int k = 0;
  (void)frexp(magnitude, &k);  // magnitude = fraction * 2^k, fraction in [0.5, 1)
  const int exponent = k - 1;  // magnitude in [2^exponent, 2^(exponent+1))
  // The quantum: the weight of the last significand bit, fixed at its subnormal
  // value below the normal range.
  const int quantum = std::max(exponent, f.min_exponent) - (f.precision - 1);
  const Real scaled = ldexp(magnitude, -quantum);  // exact: a change of exponent only
  const Real integral = floor(scaled);
  const Real remainder = Real(scaled - integral);
  auto significand = static_cast<std::uint64_t>(integral);  // < 2^precision: exact
  const Real half = Real(0.5);
  if (remainder > half || (remainder == half && (significand & 1u) != 0)) ++significand;
  if (significand == 0) return negative ? -0.0 : 0.0;
  const int top_exponent = quantum + static_cast<int>(std::bit_width(significand)) - 1;
  if (top_exponent > f.max_exponent) {
    return negative ? -std::numeric_limits<double>::infinity()
                    : std::numeric_limits<double>::infinity();
  }
  const double rounded = std::ldexp(static_cast<double>(significand), quantum);
  return negative ? -rounded : rounded;
}

template <class Real>
double round_to(const Real& v, dtype t) {
  return round_to_format(v, format_of(t));
}

// True when a and b are the same value of a format: bitwise for doubles holding
// format values, so +0 and -0 differ and NaN equals NaN.
inline bool same_value(double a, double b) {
  return std::bit_cast<std::uint64_t>(a) == std::bit_cast<std::uint64_t>(b) ||
         (std::isnan(a) && std::isnan(b));
}

}  // namespace bnconform
