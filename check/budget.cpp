#include "budget.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace bnconform::check {

using std::abs;

namespace {

// Half the smallest subnormal number of t: the absolute error bound of rounding a
// result into the subnormal range. For f64 that is 2^-1075, below every double, so
// the smallest subnormal itself stands in for it.
double underflow_unit(dtype t) {
  const binary_format f = format_of(t);
  return std::max(std::ldexp(1.0, f.min_exponent - f.precision),
                  std::numeric_limits<double>::denorm_min());
}

// No invstd can be excluded at this level (eps == 0 and the variance's budget
// reaches the variance): every output that depends on invstd is unbounded, and only
// the exact rules (NaN and Inf patterns, the counter, ...) judge it. Returned as
// infinity, never as a product 0 * inf, which would be NaN and demand exactness.
bool unbounded(const channel_terms& c) { return std::isinf(c.rel_d_invstd); }

// The profiles whose momentum q weights the OLD value and whose running variance is
// the biased one: new = q old + (1 - q) batch (docs/semantics.md#profiles).
bool old_weighted(bnconform::profile p) {
  return p == profile::onnx || p == profile::keras || p == profile::flax;
}

}  // namespace

budget_model::budget_model(const problem& p, level l)
    : level_(l),
      u_(check::compute_unit(p)),
      u_o_(storage_unit(p.data_type())),
      u_s_(storage_unit(p.stats_type())),
      eta_(underflow_unit(stats_dtype_for(p.data_type()))),
      eta_o_(underflow_unit(p.data_type())),
      eta_s_(underflow_unit(p.stats_type())),
      eps_(p.eps()),
      m_(p.reduction_size()),
      batch_statistics_(p.uses_batch_statistics()),
      profile_(p.profile()) {}

channel_terms budget_model::terms(const reference::channel_quantities& q, double gamma,
                                  double beta) const {
  channel_terms c;
  c.m = static_cast<double>(q.m);
  c.mean = q.mean;
  c.var = q.var;
  c.invstd = q.invstd;
  c.mean_abs = q.mean_abs;
  c.sum_dy = q.sum_dy;
  c.sum_abs_dy = q.sum_abs_dy;
  c.sum_dy_xhat = q.sum_dy_xhat;
  c.sum_abs_dy_xhat = q.sum_abs_dy_xhat;
  c.gamma = gamma;
  c.beta = beta;
  c.batch_statistics = batch_statistics_;
  if (batch_statistics_) {
    const double k = reduction_factor(level_, q.m);
    // A reduction at factor K: error K u sum|x| / m, plus the division and the
    // rounding of the result.
    c.d_mean = k * u_ * c.mean_abs + u_ * abs(c.mean) + eta_;
    // Sum of squared deviations at factor K (K u var); the subtraction, squaring and
    // division (3 u var); deviations taken from a mean that is d_mean off, to first
    // order (2 d_mean sqrt(var): Welford updates, Chan merges and shifted sums do not
    // cancel it the way a two-pass sum does) and to second order (d_mean^2).
    // Squares and the division that underflow add eta each (their mean: 2 eta).
    c.d_var =
        (k + 3) * u_ * c.var + 2 * c.d_mean * std::sqrt(c.var) + c.d_mean * c.d_mean + 2 * eta_;
  }
  // invstd = 1 / sqrt(var + eps): d var propagated, plus the addition of eps, the
  // square root and the division (2 u). The propagation is the exact worst case
  // over var' in [max(var - d var, 0), var + d var]: to first order d var / (2 (var
  // + eps)), but unlike it still a bound when d var nears var + eps (a Welford f32
  // kernel on two values 1e7 from 0 and 1 apart gets var = 0 and invstd =
  // 1/sqrt(eps), 158 times the exact one: inside the budget of var, not of the
  // first-order invstd). With eps == 0 and d var >= var no invstd can be excluded.
  const double denominator = c.var + eps_;
  double propagated = 0;
  if (denominator > 0) {
    const double lowest = std::max(c.var - c.d_var, 0.0) + eps_;
    const double up =
        lowest > 0 ? std::sqrt(denominator / lowest) - 1 : std::numeric_limits<double>::infinity();
    const double down = 1 - std::sqrt(denominator / (denominator + c.d_var));
    propagated = std::max(up, down);
  } else if (c.d_var > 0) {
    // Batch statistics with eps == 0 and a variance that rounds to 0 in the double
    // quantities, but need not be 0 (f64 data of subnormal size: the exact variance
    // is near 2^-2140): d_var >= var + eps, so no invstd can be excluded, as above.
    // (Otherwise 2u (|x| + |mean|) underflows to 0 against an infinite invstd, and
    // 0 * inf makes a NaN budget that demands the correctly rounded y.) An exactly
    // zero variance is ill-posed and not judged.
    propagated = std::numeric_limits<double>::infinity();
  }
  // The roundings compose with the propagated error multiplicatively.
  c.rel_d_invstd = propagated + 2 * u_ * (1 + propagated);
  return c;
}

double budget_model::d_xhat(const channel_terms& c, double x) const {
  if (unbounded(c)) return std::numeric_limits<double>::infinity();
  // The mean error, scaled; the relative errors of invstd and of the product; and
  // the rounding of x - mean (or of the fused x * scale + shift form, which rounds
  // relative to |x| and |mean| rather than to |x - mean|). The terms scaled by the
  // kernel's invstd carry (1 + rel_d_invstd): (x - mean') invstd' - (x - mean) invstd
  // = (x - mean)(invstd' - invstd) + (mean - mean') invstd'.
  const double scale = c.invstd * (1 + c.rel_d_invstd);
  return c.d_mean * scale + abs(xhat(c, x)) * (c.rel_d_invstd + 2 * u_) +
         2 * u_ * (abs(x) + abs(c.mean)) * scale;
}

double budget_model::y(const channel_terms& c, double x, double y_value) const {
  if (unbounded(c)) return std::numeric_limits<double>::infinity();
  return abs(c.gamma) * d_xhat(c, x) + u_ * (abs(c.gamma * xhat(c, x)) + abs(c.beta)) +
         u_o_ * abs(y_value) + eta_o_ + 2 * eta_ * (1 + abs(c.gamma));
}

double budget_model::save_mean(const channel_terms& c) const {
  return c.d_mean + u_s_ * abs(c.mean) + eta_s_;
}

double budget_model::save_invstd(const channel_terms& c) const {
  if (unbounded(c)) return std::numeric_limits<double>::infinity();
  return c.invstd * (c.rel_d_invstd + u_s_ * (1 + c.rel_d_invstd)) + eta_s_;
}

double budget_model::running_mean(const channel_terms& c, double old, double f,
                                  double updated) const {
  if (old_weighted(profile_)) {
    // q old + (1 - q) mean with q = f: two products and a sum; q rounded to the
    // compute type moves the result by d q (old - mean), |d| <= u; 1 - q rounded
    // adds u (1 - q) |mean|; then storage.
    const double q = f, w = 1 - f;
    return 2 * u_ * (q * abs(old) + w * abs(c.mean)) + u_ * q * (abs(old) + abs(c.mean)) +
           u_ * w * abs(c.mean) + w * c.d_mean + u_s_ * abs(updated) + eta_s_;
  }
  // tf-fused with f == 1 stores the batch mean and never reads the old value (which
  // may be NaN or infinite): save_mean's budget.
  if (profile_ == profile::tf_fused && f == 1) return c.d_mean + u_s_ * abs(updated) + eta_s_;
  // (1 - f) old + f mean: two products and a sum, then storage. The factor itself
  // (a double in the ABI) rounded to the compute type moves the result by
  // f d (mean - old), |d| <= u: with f near 1, far more than u |1 - f| |old|.
  return 2 * u_ * (abs(1 - f) * abs(old) + f * abs(c.mean)) + u_ * f * (abs(old) + abs(c.mean)) +
         f * c.d_mean + u_s_ * abs(updated) + eta_s_;
}

double budget_model::running_var(const channel_terms& c, double old, double f,
                                 double updated) const {
  if (old_weighted(profile_)) {
    // As running_mean, with the biased variance and no correction factor.
    const double q = f, w = 1 - f;
    return 2 * u_ * (q * abs(old) + w * c.var) + u_ * q * (abs(old) + c.var) + u_ * w * c.var +
           w * c.d_var + u_s_ * abs(updated) + eta_s_;
  }
  // pytorch and tf-fused store b var, b = m / (m - 1), and 1 when m <= 1 (tf-fused's
  // m / max(m - 1, 1); pytorch rejects m == 1 and keeps the old values when m == 0).
  const double bessel = c.m > 1 ? c.m / (c.m - 1) : 1.0;
  const double unbiased = c.var * bessel;
  // tf-fused with f == 1 stores b var alone, the old value unread: b's rounding and
  // the product (2 u), the variance's error scaled by b, storage.
  if (profile_ == profile::tf_fused && f == 1) {
    return bessel * c.d_var + 2 * u_ * unbiased + u_s_ * abs(updated) + eta_s_;
  }
  // As running_mean, with the unbiased variance and its correction factor (m/(m-1)
  // is one more rounded product).
  return 2 * u_ * (abs(1 - f) * abs(old) + f * unbiased) + u_ * f * (abs(old) + unbiased) +
         f * bessel * c.d_var + f * u_ * unbiased + u_s_ * abs(updated) + eta_s_;
}

double budget_model::d_sum_dy(const channel_terms& c) const {
  return reduction_factor(level_, m_) * u_ * c.sum_abs_dy;
}

double budget_model::d_sum_dy_xhat(const channel_terms& c) const {
  // The reduction error, and sum |dy_i| |d xhat_i| with d xhat_i bounded as in
  // d_xhat(), whose |x_i| term is bounded by |x_i - mean| + |mean|.
  const double s = c.invstd;
  const double spread_of_xhat = c.sum_abs_dy * c.d_mean * s +
                                c.sum_abs_dy_xhat * (c.rel_d_invstd + 2 * u_) +
                                2 * u_ * (c.sum_abs_dy_xhat + 2 * abs(c.mean) * c.sum_abs_dy * s);
  // Each product dy * xhat that underflows adds eta.
  return reduction_factor(level_, m_) * u_ * c.sum_abs_dy_xhat + spread_of_xhat + c.m * eta_;
}

double budget_model::dbeta(const channel_terms& c) const {
  return d_sum_dy(c) + u_s_ * abs(c.sum_dy) + eta_s_;
}

double budget_model::dgamma(const channel_terms& c) const {
  if (unbounded(c)) return std::numeric_limits<double>::infinity();
  return d_sum_dy_xhat(c) + u_s_ * abs(c.sum_dy_xhat) + eta_s_;
}

double budget_model::dx(const channel_terms& c, double x, double dy, double dx_value) const {
  if (unbounded(c)) return std::numeric_limits<double>::infinity();
  const double g = abs(c.gamma);
  if (!c.batch_statistics) {
    // dx = dy * gamma * invstd with exact running statistics.
    return abs(dx_value) * (c.rel_d_invstd + 2 * u_) + g * c.invstd * 2 * u_ * abs(dy) +
           u_o_ * abs(dx_value) + eta_o_ + 2 * eta_;
  }
  // dx = gamma invstd (dy - sum(dy)/m - xhat sum(dy xhat)/m): the errors of the two
  // sums and of xhat propagate through the bracket; each of its three terms and
  // their differences round (3 u); invstd carries its relative error; then storage.
  const double xh = abs(xhat(c, x));
  const double bracket_error =
      (d_sum_dy(c) + xh * d_sum_dy_xhat(c) + abs(c.sum_dy_xhat) * d_xhat(c, x)) / c.m;
  const double rounding = 3 * u_ * (abs(dy) + abs(c.sum_dy) / c.m + xh * abs(c.sum_dy_xhat) / c.m);
  // As in d_xhat, the bracket's errors are scaled by the kernel's invstd.
  return g * c.invstd * (1 + c.rel_d_invstd) * (bracket_error + rounding) +
         abs(dx_value) * (c.rel_d_invstd + 2 * u_) + u_o_ * abs(dx_value) + eta_o_ +
         4 * eta_ * (1 + g * c.invstd);
}

}  // namespace bnconform::check
