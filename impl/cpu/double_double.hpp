#pragma once
// Double-double arithmetic (an unevaluated sum hi + lo, about 106 significand
// bits) for the f64 data path: tolerance.md's strict level allows an f64 kernel
// only 4 u of error on the mean and 7 u on the variance (u = 2^-53) whatever the
// offset |mean| / std, which plain f64 sums cannot give on offset data. The
// error-free transformations are the classical ones (Knuth's TwoSum, TwoProduct
// with a fused multiply-add; see Muller et al., Handbook of Floating-Point
// Arithmetic, ch. 4); they require that the compiler does not contract or
// reassociate, which the target's -ffp-contract=off and the absence of
// -ffast-math guarantee.
#include <cmath>

#include "isa_namespace.hpp"

namespace bnconform::cpu {
inline namespace BNCONFORM_CPU_ISA {

// a + b = s + e exactly.
inline void two_sum(double a, double b, double& s, double& e) {
  s = a + b;
  const double bb = s - a;
  e = (a - (s - bb)) + (b - bb);
}

// a * b = p + e exactly (barring underflow).
inline void two_product(double a, double b, double& p, double& e) {
  p = a * b;
  e = std::fma(a, b, -p);
}

struct dd {
  double hi = 0;
  double lo = 0;

  dd() = default;
  // Implicit on purpose: a double is an exact double-double.
  dd(double v) : hi(v), lo(0) {}  // NOLINT(google-explicit-constructor)
  dd(double h, double l) : hi(h), lo(l) {}

  double value() const { return hi + lo; }
};

// Renormalizes s + e (|e| small against s, or s non-finite) into a double-double.
// A non-finite s is kept as it is: the error terms of Inf arithmetic are NaN and
// must not leak into an Inf result.
inline dd renormalize(double s, double e) {
  if (!std::isfinite(s)) return {s, 0};
  const double h = s + e;
  return {h, e - (h - s)};
}

inline dd operator+(dd a, dd b) {
  double s, e;
  two_sum(a.hi, b.hi, s, e);
  return renormalize(s, e + (a.lo + b.lo));
}
inline dd operator-(dd a) { return {-a.hi, -a.lo}; }
inline dd operator-(dd a, dd b) { return a + (-b); }

inline dd operator*(dd a, dd b) {
  double p, e;
  two_product(a.hi, b.hi, p, e);
  return renormalize(p, e + (a.hi * b.lo + a.lo * b.hi));
}

inline dd operator/(dd a, dd b) {
  const double q1 = a.hi / b.hi;
  if (!std::isfinite(q1)) return {q1, 0};
  const dd r = a - b * dd(q1);
  const double q2 = r.hi / b.hi;
  return renormalize(q1, q2);
}

inline bool isfinite(dd a) { return std::isfinite(a.hi); }

// Rounds to the nearest double (up to the last bit's tie, which does not matter
// for the error budgets).
inline double to_double(dd a) { return a.value(); }
inline double to_double(double a) { return a; }
inline bool isfinite(double a) { return std::isfinite(a); }

}  // namespace BNCONFORM_CPU_ISA
}  // namespace bnconform::cpu
