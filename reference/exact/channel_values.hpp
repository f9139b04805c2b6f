#pragma once
// A channel's statistics and backward sums in a multiprecision type, derived from
// the exact integer sums of channel_sums.hpp, with no cancellation: the variance is
// (m sum x^2 - (sum x)^2) / m^2 formed exactly in integers before any rounding.
// The same quantities the multiprecision engine computes by two passes over the
// data (engine.hpp), here from O(1) numbers per channel.
#include <boost/multiprecision/cpp_int.hpp>
#include <cmath>
#include <cstdint>

#include "channel_sums.hpp"
#include "reference/call.hpp"
#include "reference/engine.hpp"

namespace bnconform::reference::exact {

using boost::multiprecision::cpp_int;

// The exact integers of one channel (value = integer * 2^-1074 for linear sums,
// * 2^-2148 for quadratic ones).
struct channel_integers {
  std::int64_t m = 0;
  cpp_int x, x2, dy, dy_x, abs_x, abs_dy, signed_abs_dy, signed_abs_dy_x;
};

inline channel_integers integers_of(const channel_sums& s, std::int64_t m) {
  channel_integers k;
  k.m = m;
  k.x = s.x.integer();
  k.x2 = s.x2.integer();
  k.dy = s.dy.integer();
  k.dy_x = s.dy_x.integer();
  k.abs_x = s.abs_x.integer();
  k.abs_dy = s.abs_dy.integer();
  k.signed_abs_dy = s.signed_abs_dy.integer();
  k.signed_abs_dy_x = s.signed_abs_dy_x.integer();
  return k;
}

// A double as an integer times 2^-1074.
inline cpp_int linear_integer(double v) {
  const decomposed d = decompose(v);
  cpp_int k = d.significand;
  k <<= d.exponent + 1074;
  return d.negative ? cpp_int(-k) : k;
}

template <class Real>
Real from_linear(const cpp_int& k) {
  return ldexp(Real(k), -1074);
}
template <class Real>
Real from_quadratic(const cpp_int& k) {
  return ldexp(Real(k), -2148);
}

// sum (x - mean) * w where mean is the batch mean (sum x / m) or a given value:
// for batch statistics (m * sum w x - sum x * sum w) / m, else sum w x - mean sum w,
// returned as the integer numerator (times 2^-2148) and the divisor.
struct centered {
  cpp_int numerator;
  std::int64_t divisor = 1;
};

inline centered centered_sum(const channel_integers& k, const cpp_int& w, const cpp_int& w_x,
                             bool batch, double given_mean) {
  if (batch) return {cpp_int(k.m) * w_x - k.x * w, k.m};
  return {w_x - linear_integer(given_mean) * w, 1};
}

template <class Real>
struct channel_values {
  channel_statistics<Real> st;
  backward_sums<Real> sums;
};

// The statistics of channel c at the precision of Real: batch statistics from the
// integers, or the running statistics.
template <class Real>
channel_statistics<Real> statistics_from(const problem& p, const channel_integers& k,
                                         double running_mean, double running_var) {
  channel_statistics<Real> st;
  const Real eps = Real(p.eps());
  if (!p.uses_batch_statistics()) {
    st.mean = Real(running_mean);
    st.var = Real(running_var);
    st.invstd = Real(1) / sqrt(Real(st.var + eps));
    st.ill_posed = st.var + eps == 0;
    return st;
  }
  const Real m = Real(k.m);
  st.mean = from_linear<Real>(k.x) / m;
  const cpp_int spread = cpp_int(k.m) * k.x2 - k.x * k.x;  // m^2 var, exact
  const Real squares = from_quadratic<Real>(spread) / m;   // sum (x - mean)^2
  st.var = squares / m;
  st.unbiased_var = k.m > 1 ? Real(squares / Real(k.m - 1)) : Real(0);
  st.invstd = Real(1) / sqrt(Real(st.var + eps));
  st.ill_posed = k.m > 0 && st.var + eps == 0;
  return st;
}

template <class Real>
backward_sums<Real> backward_sums_from(const problem& p, const channel_integers& k,
                                       const channel_statistics<Real>& st, double running_mean) {
  backward_sums<Real> s;
  s.sum_dy = from_linear<Real>(k.dy);
  const centered g = centered_sum(k, k.dy, k.dy_x, p.uses_batch_statistics(), running_mean);
  s.sum_dy_xhat = from_quadratic<Real>(g.numerator) / Real(g.divisor) * st.invstd;
  return s;
}

}  // namespace bnconform::reference::exact
