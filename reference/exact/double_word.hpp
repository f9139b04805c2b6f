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
// valid when no intermediate underflows or overflows. Each operation here charges
// 16 u^2 of its result (twice every bound listed, which also covers the rounding
// of the error arithmetic itself) and marks the value untrusted when its magnitude
// leaves [2^-600, 2^600]: there no rounding error of a step can fall below the
// normal range (where the relative bounds would not hold) and nothing overflows.
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
};

namespace detail {
constexpr double op_error = 0x1p-103;  // 8 u^2
constexpr double low_limit = 0x1p-600;
constexpr double high_limit = 0x1p600;

inline bool in_range(double v) {
  const double a = std::fabs(v);
  return a == 0 || (a >= low_limit && a <= high_limit);
}
inline double magnitude(const bounded& b) { return std::fabs(b.value.hi) * (1 + 0x1p-50); }

inline bounded finish(word2 v, double propagated, bool trusted) {
  const double error = propagated + op_error * std::fabs(v.hi) * 2;
  return {v, error, trusted && in_range(v.hi) && std::isfinite(error)};
}
}  // namespace detail

// An exact double.
inline bounded exact_value(double v) { return {{v, 0}, 0, detail::in_range(v)}; }

// Adding or multiplying by an exact zero is exact: no rounding error is charged,
// so that a result known exactly (a constant channel's y == beta) settles.
inline bool exact_zero(const bounded& a) { return a.value.hi == 0 && a.error == 0; }

inline bounded sum(const bounded& a, double b) {
  if (exact_zero(a)) return exact_value(b);
  return detail::finish(dw_plus_fp(a.value, b), a.error, a.trusted && detail::in_range(b));
}

inline bounded sum(const bounded& a, const bounded& b) {
  if (exact_zero(a)) return b;
  if (exact_zero(b)) return a;
  return detail::finish(dw_plus_dw(a.value, b.value), a.error + b.error, a.trusted && b.trusted);
}

inline bounded product(const bounded& a, double b) {
  if (exact_zero(a) || b == 0) return exact_value(a.value.hi * b);
  const double propagated = a.error * std::fabs(b);
  return detail::finish(dw_times_fp(a.value, b), propagated, a.trusted && detail::in_range(b));
}

inline bounded product(const bounded& a, const bounded& b) {
  if (exact_zero(a) || exact_zero(b)) return exact_value(a.value.hi * b.value.hi);
  const double ma = detail::magnitude(a) + a.error;
  const double mb = detail::magnitude(b);
  const double propagated = ma * b.error + mb * a.error;
  const word2 v = dw_times_dw(a.value, b.value);
  if (fault_is(fault::no_product_error)) return {v, 0, a.trusted && b.trusted};
  return detail::finish(v, propagated, a.trusted && b.trusted);
}

inline bounded negated(const bounded& a) { return {negate(a.value), a.error, a.trusted}; }

}  // namespace bnconform::reference::exact
