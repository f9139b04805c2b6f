#pragma once
// Double-word arithmetic (a value hi + lo of two doubles, |lo| <= ulp(hi) / 2) with
// a rigorous bound on the absolute error carried beside each value. The relative
// error bounds of the building blocks are those proved by Joldes, Muller and
// Popescu, "Tight and rigorous error bounds for basic building blocks of
// double-word arithmetic", ACM TOMS 44(2), 2017 (u = 2^-53):
//   DWPlusFP  (their Algorithm 4)  2 u^2
//   DWPlusDW  (Algorithm 6)        3 u^2 + 13 u^3
//   DWTimesFP (Algorithm 9)        2 u^2
//   DWTimesDW (Algorithm 12)       5 u^2
// valid when no intermediate underflows or overflows. elements.hpp folds them
// into per-channel coefficients of each element's formula. A value whose magnitude
// leaves [2^-600, 2^600] is untrusted: there a step's rounding error could fall
// below the normal range (where the relative bounds would not hold) or overflow.
// An untrusted value is never rounded; the caller falls back.
#include <cmath>

#include "fault.hpp"

namespace bnconform::reference::exact {

struct word2 {
  double hi = 0;
  double lo = 0;
};

inline word2 two_sum(double a, double b) {
  const double s = a + b;
  const double bb = s - a;
  const double e = (a - (s - bb)) + (b - bb);
  return {s, e};
}

inline word2 fast_two_sum(double a, double b) {  // |a| >= |b| or a == 0
  const double s = a + b;
  return {s, b - (s - a)};
}

inline word2 two_prod(double a, double b) {
  const double p = a * b;
  return {p, std::fma(a, b, -p)};
}

inline word2 dw_plus_fp(word2 x, double y) {
  const word2 s = two_sum(x.hi, y);
  return fast_two_sum(s.hi, x.lo + s.lo);
}

inline word2 dw_plus_dw(word2 x, word2 y) {
  const word2 s = two_sum(x.hi, y.hi);
  const word2 t = two_sum(x.lo, y.lo);
  const word2 v = fast_two_sum(s.hi, s.lo + t.hi);
  return fast_two_sum(v.hi, t.lo + v.lo);
}

inline word2 dw_times_fp(word2 x, double y) {
  const word2 c = two_prod(x.hi, y);
  return fast_two_sum(c.hi, std::fma(x.lo, y, c.lo));
}

inline word2 dw_times_dw(word2 x, word2 y) {
  const word2 c = two_prod(x.hi, y.hi);
  const double t = std::fma(x.hi, y.lo, x.lo * y.lo);
  return fast_two_sum(c.hi, c.lo + std::fma(x.lo, y.hi, t));
}

inline word2 negate(word2 x) { return {-x.hi, -x.lo}; }

// A double-word value and a bound on its absolute error.
struct bounded {
  word2 value;
  double error = 0;
  bool trusted = true;
  // The value is exactly zero, and value.hi carries the sign that the multiprecision
  // engine's arithmetic gives it (IEEE's rules for signed zeros, which Boost's
  // cpp_bin_float follows). Other zeros are handed back to that engine.
  bool exact_zero = false;
};

namespace detail {
// Whether a value lies where the bounds above hold: 0, or within [2^-600, 2^600].
inline bool in_range(double v) {
  const double a = std::fabs(v);
  return a == 0 || (a >= 0x1p-600 && a <= 0x1p600);
}
}  // namespace detail

// An exact double (untrusted outside detail::in_range).
inline bounded exact_value(double v) { return {{v, 0}, 0, detail::in_range(v)}; }

// An exact zero of the given sign (bounded::exact_zero).
inline bounded exact_zero(bool negative) {
  if (fault_is(fault::zero_sign_lost)) negative = false;
  return {{negative ? -0.0 : 0.0, 0}, 0, true, true};
}

}  // namespace bnconform::reference::exact
