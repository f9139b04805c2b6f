#pragma once
// Ziv's strategy for one output element: a double-word approximation v with an
// error bound e is rounded to the output's format only when every value in
// [v - e, v + e] rounds to the same result; the residual (exact - rounded) is
// settled the same way in the residual format. Otherwise the element is not
// settled here and the caller computes it in multiprecision.
#include <cmath>
#include <optional>

#include "core/dtype.hpp"
#include "core/rounding.hpp"
#include "double_word.hpp"
#include "reference/call.hpp"

namespace bnconform::reference::exact {

// Correct rounding of hi + lo (normalized, hi = RN(hi + lo)) to format f, for
// formats of at most 53 bits. Returns a double; infinity on overflow.
inline double round_word(word2 v, binary_format f) {
  if (f.precision >= 53 && f.min_exponent <= -1022) return v.hi;  // f64: hi is RN(v)
  const double hi = v.hi;
  if (hi == 0 || !std::isfinite(hi)) return round_to_format(hi, f);
  const double magnitude = std::fabs(hi);
  const int exponent = std::ilogb(magnitude);
  const int quantum = std::max(exponent, f.min_exponent) - (f.precision - 1);
  const double scaled = std::ldexp(magnitude, -quantum);  // exact
  const double integral = std::floor(scaled);
  const double fraction = scaled - integral;  // exact
  const double lo = hi < 0 ? -v.lo : v.lo;    // lo in the direction of the magnitude
  // |lo| is below half an ulp of hi, and every midpoint of f is a double, so lo
  // decides only when hi is exactly a midpoint.
  const bool up =
      fraction > 0.5 || (fraction == 0.5 && (lo > 0 || (lo == 0 && std::fmod(integral, 2) != 0)));
  const double rounded_magnitude = std::ldexp(integral + (up ? 1 : 0), quantum);
  const double rounded = round_to_format(rounded_magnitude, f);  // overflow to infinity
  return hi < 0 ? -rounded : rounded;
}

// v + delta as a normalized word (delta a double); the addition of delta to lo is
// rounded, which the caller's margin covers.
inline word2 shifted(word2 v, double delta) {
  const word2 s = two_sum(v.hi, delta);
  return fast_two_sum(s.hi, s.lo + v.lo);
}

// The rounding of v to f when [v - e, v + e] settles it.
inline std::optional<double> settled_rounding(const bounded& b, binary_format f) {
  if (!b.trusted || !std::isfinite(b.value.hi)) return std::nullopt;
  // Twice the bound, and at least 2^-100 |v|: the rounding of the shifted
  // low words (at most 2^-53 of them) then stays inside the margin.
  const double margin = 2 * std::max(b.error, 0x1p-100 * std::fabs(b.value.hi));
  const double down = round_word(shifted(b.value, -margin), f);
  const double up = round_word(shifted(b.value, margin), f);
  if (!same_value(down, up) || std::isinf(down)) return std::nullopt;
  return down;
}

struct settled_element {
  double rounded;
  double residual;
};

// Both the output and its residual, or nothing (fall back). A value that is
// exactly zero is left to the multiprecision computation, which alone decides the
// sign of a zero the same way in both engines.
inline std::optional<settled_element> settle_element(const bounded& b, binary_format f) {
  if (b.value.hi == 0) return std::nullopt;
  const std::optional<double> rounded = settled_rounding(b, f);
  if (!rounded || *rounded == 0) return std::nullopt;
  // v - rounded: hi - rounded is exact (Sterbenz: they are within a factor 2).
  const word2 residual = two_sum(b.value.hi - *rounded, b.value.lo);
  const bounded r{fast_two_sum(residual.hi, residual.lo), b.error, true};
  if (r.value.hi == 0) {
    if (b.error != 0) return std::nullopt;
    return settled_element{*rounded, 0.0};
  }
  const std::optional<double> residual_rounded = settled_rounding(r, residual_format);
  if (!residual_rounded) return std::nullopt;
  return settled_element{*rounded, *residual_rounded};
}

}  // namespace bnconform::reference::exact
