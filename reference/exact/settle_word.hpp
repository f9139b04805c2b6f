#pragma once
// Ziv's strategy for one output element: a double-word approximation v with an
// error bound e is rounded to the output's format only when every value in
// [v - e, v + e] rounds to the same result; the residual (exact - rounded) is
// settled the same way in the residual format. Otherwise the element is not
// settled here and the caller computes it in multiprecision.
#include <bit>
#include <cmath>
#include <cstdint>
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

// The fast form of settled_rounding for the common case, by bit operations on hi:
// hi in the normal range of f (and far from double's subnormals), the result
// finite. Rounds hi + lo to f and settles it when both rounding boundaries (the
// midpoints around the result, doubles themselves) lie farther from v than the
// margin. Returns nothing when it does not apply (`applies` false) or when the
// margin reaches a boundary (`applies` true): then the element is not settled.
struct grid_answer {
  bool applies = false;
  std::optional<double> rounded;
};

[[gnu::always_inline]] inline double power_of_two(int e) {
  return std::bit_cast<double>(static_cast<std::uint64_t>(e + 1023) << 52);
}

[[gnu::always_inline]] inline grid_answer round_on_grid(const bounded& b, binary_format f) {
  const double hi = b.value.hi;
  const auto bits = std::bit_cast<std::uint64_t>(hi);
  const std::uint64_t sign = bits & (std::uint64_t{1} << 63);
  const std::uint64_t magnitude_bits = bits ^ sign;
  const int exponent = static_cast<int>(magnitude_bits >> 52) - 1023;
  const bool inside = exponent >= f.min_exponent && exponent <= f.max_exponent - 1 &&
                      exponent - f.precision >= -1000 && exponent <= 1000;
  if (!inside) return {};
  const double lo = sign != 0 ? -b.value.lo : b.value.lo;  // toward the magnitude
  const double magnitude = std::bit_cast<double>(magnitude_bits);
  const int drop = 53 - f.precision;
  // drop == 0 (f64): the result is hi itself (hi = RN(hi + lo)).
  const std::uint64_t one = std::uint64_t{1} << drop;
  const std::uint64_t rest = magnitude_bits & (one - 1);
  const std::uint64_t half = one >> 1;
  const std::uint64_t truncated = magnitude_bits - rest;
  const bool odd = ((truncated >> drop) & 1) != 0;
  const bool up = drop != 0 && ((rest > half) | ((rest == half) & ((lo > 0) | ((lo == 0) & odd))));
  const std::uint64_t r = truncated + (up ? one : 0);
  const int r_exponent = static_cast<int>(r >> 52) - 1023;
  if (r_exponent > f.max_exponent) return {};  // overflow: the slow path decides
  const double rounded_magnitude = std::bit_cast<double>(r);
  const double rounded = sign != 0 ? -rounded_magnitude : rounded_magnitude;
  if (b.error == 0) return {true, rounded};  // v is exact: its rounding is settled
  // The rounding boundaries around the result: half a quantum above, and below
  // half a quantum, or a quarter where the result is a power of two whose lower
  // neighbour has half its quantum. Their distances to `magnitude` are formed
  // exactly (rounded - magnitude is a multiple of magnitude's ulp no larger than
  // half a quantum; for f64 it is 0, and the boundaries themselves are no
  // doubles); subtracting lo rounds by 2^-53 of the gap at most.
  const double quantum = power_of_two(r_exponent - f.precision + 1);
  const bool bottom = (r & ((std::uint64_t{1} << 52) - 1)) == 0 && r_exponent > f.min_exponent;
  const double gap_up = ((rounded_magnitude - magnitude) + quantum / 2) - lo;
  const double gap_down =
      ((magnitude - rounded_magnitude) + (bottom ? quantum / 4 : quantum / 2)) + lo;
  const double margin = 2 * b.error * (1 + 0x1p-50);
  if (!((gap_up > margin) & (gap_down > margin))) return {true, std::nullopt};
  return {true, rounded};
}

[[gnu::always_inline]] inline std::optional<double> settle_rounding(const bounded& b,
                                                                    binary_format f) {
  if (!b.trusted) return std::nullopt;
  const grid_answer fast = round_on_grid(b, f);
  if (fast.applies) return fast.rounded;
  return settled_rounding(b, f);
}

// Both the output and its residual, or nothing (fall back). A value that is
// exactly zero is left to the multiprecision computation, which alone decides the
// sign of a zero the same way in both engines.
inline std::optional<settled_element> settle_element(const bounded& b, binary_format f) {
  if (b.value.hi == 0) {
    // A zero in every format, with a +0 residual (as the multiprecision engine settles it).
    if (b.exact_zero && b.trusted && b.error == 0) return settled_element{b.value.hi, 0.0};
    return std::nullopt;
  }
  const std::optional<double> rounded = settle_rounding(b, f);
  if (!rounded || *rounded == 0) return std::nullopt;
  // v - rounded: hi - rounded is exact (Sterbenz: they are within a factor 2).
  const word2 residual = two_sum(b.value.hi - *rounded, b.value.lo);
  const bounded r{fast_two_sum(residual.hi, residual.lo), b.error, true};
  if (r.value.hi == 0) {
    if (b.error != 0) return std::nullopt;
    return settled_element{*rounded, 0.0};
  }
  const std::optional<double> residual_rounded = settle_rounding(r, residual_format);
  if (!residual_rounded) return std::nullopt;
  return settled_element{*rounded, *residual_rounded};
}

}  // namespace bnconform::reference::exact
