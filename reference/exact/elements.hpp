#pragma once
// The per-element formulas of the exact engine in double-word arithmetic, with
// their error bounds folded into per-channel coefficients (so the inner loop pays
// a few multiply-adds for the bound, not a bound per operation). The bounds follow
// from the building blocks' relative errors (double_word.hpp: 2 u^2 for a word
// plus a double, 4 u^2 for two words, 5 u^2 for a product of words) and the
// absolute errors eX of the per-channel words; each is then doubled, which also
// covers the second-order terms and the rounding of the bound's own arithmetic.
#include <cmath>

#include "double_word.hpp"
#include "fault.hpp"

namespace bnconform::reference::exact {

constexpr double u2 = 0x1p-106;
constexpr double wide = 1 + 0x1p-50;  // |word| <= |hi| * wide

// A word with the absolute error of the multiprecision value it was rounded from.
struct channel_word {
  word2 value;
  double error = 0;
};

// d = x - mean (exact when x equals a mean that is exactly a word), error
// <= 2 u^2 |d| + e_mean.
inline word2 deviation(double x, const channel_word& mean) {
  return dw_plus_fp(two_sum(x, -mean.value.hi), -mean.value.lo);
}

inline bool in_safe_range(double v) {
  const double a = std::fabs(v);
  return a >= 0x1p-500 && a <= 0x1p500;
}

// y = scale * (x - mean) + shift.
//   err <= 2u^2|y| + 5u^2|p| + |scale| err_d + |d| e_scale,  p = scale d
//       <= 2u^2|y| + |d| (7u^2 |scale| + e_scale) + |scale| e_mean
struct affine_constants {
  channel_word mean, scale;
  double shift = 0;
  int shift_exponent = 0;          // x enters as x 2^shift_exponent (exact_engine_impl.hpp)
  double per_d = 0, constant = 0;  // the bound's coefficients

  void prepare() {
    const double s = std::fabs(scale.value.hi) * wide;
    per_d = 2 * (7 * u2 * s + scale.error);
    constant = 2 * (s + scale.error) * mean.error;
  }
};

// Whether |v| exceeds its error bound, so that the sign of v is the sign of the value
// it approximates.
inline bool sign_settled(double v, double error) { return std::fabs(v) > error; }

inline bounded affine_element(double x, const affine_constants& k) {
  const word2 d = deviation(x, k.mean);
  const bool x_is_mean = d.hi == 0 && k.mean.error == 0;
  if (x_is_mean || (k.scale.value.hi == 0 && k.scale.error == 0 && std::isfinite(d.hi))) {
    // A zero product (x is the mean, or gamma is a zero and x finite): y is the shift exactly. A
    // zero y takes the sign of IEEE arithmetic, as the multiprecision engine computes
    // gamma * ((x - mean) invstd) + beta: x - mean is +0 when x is a nonzero mean
    // (a zero x and mean give -0 - +0 = -0: left to that engine), the product's sign
    // is the exclusive or of its factors', and only -0 + -0 is -0.
    if (k.shift != 0) return exact_value(k.shift);
    bool deviation_negative = false;
    if (x_is_mean) {
      if (x == 0) return {d, 0, false};
    } else {
      if (!in_safe_range(d.hi) ||
          !sign_settled(d.hi, 2 * (2 * u2 * std::fabs(d.hi) * wide + k.mean.error))) {
        return {d, 0, false};
      }
      deviation_negative = std::signbit(d.hi);
    }
    const bool product_negative = std::signbit(k.scale.value.hi) != deviation_negative;
    return exact_zero(product_negative && std::signbit(k.shift));
  }
  const word2 p = dw_times_dw(k.scale.value, d);
  const word2 y = dw_plus_fp(p, k.shift);
  const bool dropped = fault_is(fault::no_product_error);
  const double error = 4 * u2 * std::fabs(y.hi) * wide +
                       (dropped ? 0 : k.per_d * std::fabs(d.hi) * wide + k.constant);
  const bool trusted = in_safe_range(d.hi) && in_safe_range(y.hi) && in_safe_range(p.hi);
  return {y, error, trusted};
}

// dx = scale * (dy - a - (x - mean) b), the batch-statistics backward.
//   err <= 5u^2|dx| + (e_scale + 4u^2|scale|) |t3| + 2u^2 |scale| |t1|
//          + |scale| (7u^2 |b| + e_b) |d| + |scale| (e_a + |b| e_mean),
//   t1 = dy - a, t3 = t1 - d b.
struct gradient_constants {
  channel_word mean, scale, a, b;
  int shift_exponent = 0;  // x enters as x 2^shift_exponent; mean and b are scaled to match
  double per_t3 = 0, per_t1 = 0, per_d = 0, constant = 0;

  void prepare() {
    const double s = std::fabs(scale.value.hi) * wide + scale.error;
    const double bb = std::fabs(b.value.hi) * wide + b.error;
    per_t3 = 2 * (scale.error + 4 * u2 * s);
    per_t1 = 2 * (2 * u2 * s);
    per_d = 2 * s * (7 * u2 * bb + b.error);
    constant = 2 * s * (a.error + bb * mean.error);
  }
};

inline bounded gradient_element(double x, double dy, const gradient_constants& k) {
  const word2 d = deviation(x, k.mean);
  const word2 t1 = dw_plus_fp(negate(k.a.value), dy);
  const word2 t2 = dw_times_dw(d, k.b.value);
  const word2 t3 = dw_plus_dw(t1, negate(t2));
  if (k.scale.value.hi == 0 && k.scale.error == 0 && std::isfinite(t3.hi)) {
    // gamma is a zero: dx is a zero whose sign is the exclusive or of gamma's and the
    // bracket's (m dy - sum dy - xhat sum dy xhat = m t3), where t3's bound settles it:
    //   err(t3) <= e_a + 2u^2|t1| + |d| (e_b + 7u^2 |b|) + |b| e_mean + 4u^2|t3|.
    const double bb = std::fabs(k.b.value.hi) * wide + k.b.error;
    const double t3_error = 2 * (k.a.error + 2 * u2 * std::fabs(t1.hi) * wide +
                                 std::fabs(d.hi) * wide * (k.b.error + 7 * u2 * bb) +
                                 bb * k.mean.error + 4 * u2 * std::fabs(t3.hi) * wide);
    const bool in_range = in_safe_range(t3.hi) && (t1.hi == 0 || in_safe_range(t1.hi)) &&
                          (d.hi == 0 || in_safe_range(d.hi)) &&
                          (t2.hi == 0 || in_safe_range(t2.hi));
    if (!in_range || !sign_settled(t3.hi, t3_error)) return {t3, 0, false};
    return exact_zero(std::signbit(k.scale.value.hi) != std::signbit(t3.hi));
  }
  const word2 dx = dw_times_dw(k.scale.value, t3);
  const bool dropped = fault_is(fault::no_product_error);
  const double error =
      10 * u2 * std::fabs(dx.hi) * wide +
      (dropped ? 0
               : k.per_t3 * std::fabs(t3.hi) * wide + k.per_t1 * std::fabs(t1.hi) * wide +
                     k.per_d * std::fabs(d.hi) * wide + k.constant);
  const bool trusted = in_safe_range(dx.hi) && in_safe_range(t3.hi) &&
                       (t1.hi == 0 || in_safe_range(t1.hi)) && (d.hi == 0 || in_safe_range(d.hi)) &&
                       (t2.hi == 0 || in_safe_range(t2.hi));
  return {dx, error, trusted};
}

// dx = scale * dy, the backward with running statistics: err <= 2u^2|dx| + |dy| e_scale.
inline bounded scaled_element(double dy, const channel_word& scale) {
  // A zero factor (and a finite other: 0 * inf is NaN): dy * (gamma invstd) is a zero
  // with the exclusive or of the signs.
  if (std::isfinite(dy) && (dy == 0 || (scale.value.hi == 0 && scale.error == 0))) {
    return exact_zero(std::signbit(dy) != std::signbit(scale.value.hi));
  }
  const word2 dx = dw_times_fp(scale.value, dy);
  const double error = 4 * u2 * std::fabs(dx.hi) * wide + 2 * std::fabs(dy) * scale.error;
  return {dx, error, in_safe_range(dx.hi) && in_safe_range(dy)};
}

}  // namespace bnconform::reference::exact
