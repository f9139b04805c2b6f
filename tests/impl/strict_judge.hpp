#pragma once
// An interim judge at tolerance.md's strict level (K = 4), used until the error
// model (check/) lands on main. It runs the reference at 128 bits on the same
// inputs and bounds every output element by the first-order budgets of
// ../shared/tolerance.md, term by term:
//   |d mean|     <= K u A + u |mu|
//   |d var|      <= (K + 3) u var + (K u A)^2
//   rel d invstd <= |d var| / (2 (var + eps)) + 2 u
//   |d xhat_i|   <= |d mean| / s + |xhat_i| (rel d invstd + 2 u)
//   |d y_i|      <= |gamma| |d xhat_i| + u (|gamma xhat_i| + |beta|) + u_o |y_i|
//   running_mean <= 2 u (|1-f| |rm| + f |mu|) + f |d mean|      (+ u_s |new|, its storage)
//   running_var  <= 2 u (|1-f| |rv| + f |var_u|) + f m/(m-1) |d var|   (+ u_s |new|)
//   dbeta        <= K u sum |dy|                                 (+ u_s |dbeta|)
//   dgamma       <= K u sum |dy xhat| + sum |dy| |d xhat|        (+ u_s |dgamma|)
//   dx_i         <= |gamma| invstd / m (|d dbeta| + |xhat_i| |d dgamma| + |dgamma| |d xhat_i|
//                   + 2 m u |dy_i|) + |dx_i| (rel d invstd + 2 u) + u_o |dx_i|
// save_mean and save_invstd get |d mean| and invstd * rel d invstd, plus their
// storage rounding u_s. u = 2^-53 for f64 data, else 2^-24 (f32 compute); u_o and
// u_s are the unit roundoffs of the data and statistics dtypes. The exact value is
// the reference's rounded + residual. NaN must match NaN and Inf the same Inf.
// In eval with running statistics, the "exact" mean/var are the running ones and
// |d mean|, |d var| are taken from the same formulas (a kernel's own rounding of
// them). Channels the reference reports ill-posed are not judged.
// Two facts of the output formats complete the budgets: the correctly rounded value
// (the reference's) always passes, and the output rounding in the subnormal range
// is absolute, half the format's smallest quantum, not u_o |value|.
#include <cmath>
#include <cstdint>
#include <sstream>
#include <string>
#include <vector>

#include "core/kernel.hpp"
#include "reference/reference.hpp"

namespace bnconform::testing {

struct judgement {
  bool passed = true;
  double worst_ratio = 0;
  std::string report;  // the first failures, one a line
  void fail(const std::string& line) {
    if (passed || report.size() < 2000) report += line + "\n";
    passed = false;
  }
};

class strict_judge {
 public:
  strict_judge(const problem& p, const tensor& x, const tensor& dy, const module_state& state)
      : p_(p), in_(reference::call_inputs::from(x, dy, state)) {
    q_ = reference::quantities(p, in_, {128});
    u_ = p.data_type() == dtype::f64 ? 0x1p-53 : 0x1p-24;
    u_o_ = unit_roundoff(p.data_type());
    u_s_ = unit_roundoff(p.stats_type());
    const binary_format f = format_of(p.data_type());
    floor_o_ = std::ldexp(0.5, f.min_exponent - f.precision + 1);
    const auto channels = static_cast<std::size_t>(p.channels());
    dmean_.resize(channels);
    dvar_.resize(channels);
    rel_invstd_.resize(channels);
    for (std::size_t c = 0; c < channels; ++c) {
      const auto& q = q_[c];
      // In eval with running statistics nothing is reduced over x, and a NaN or Inf
      // element (which must stay confined to itself) would make A non-finite and the
      // whole channel's budget NaN: A is then taken as |mu|.
      const double a =
          !p.uses_batch_statistics() && !std::isfinite(q.mean_abs) ? std::fabs(q.mean) : q.mean_abs;
      dmean_[c] = K * u_ * a + u_ * std::fabs(q.mean);
      dvar_[c] = (K + 3) * u_ * q.var + std::pow(K * u_ * a, 2);
      rel_invstd_[c] = dvar_[c] / (2 * (q.var + p.eps())) + 2 * u_;
    }
  }

  judgement forward(const forward_outputs& got, const module_state& before,
                    const module_state& after) {
    judgement j;
    const reference::forward_result r = reference::forward(p_, in_, {128});
    if (!got.guards.empty()) j.fail("harness guard: " + got.guards.front().detail);
    if (got.status.code != r.status.code) {
      j.fail("status " + std::string(name_of(got.status.code)) + ", reference " +
             std::string(name_of(r.status.code)) + ": " + got.status.message);
      return j;
    }
    if (!r.status.ok()) {
      expect_same_state(j, before, after, true);
      return j;
    }
    const bool batch = p_.uses_batch_statistics();
    for_each_element([&](std::int64_t i, std::size_t c) {
      const double xh = xhat(i, c);
      const double dxh = dxhat(c, xh);
      const double g = gamma(c), b = beta(c);
      const double exact = r.y.rounded[index(i)] + r.y.residual[index(i)];
      const double budget = std::fabs(g) * dxh + u_ * (std::fabs(g * xh) + std::fabs(b)) +
                            u_o_ * std::fabs(exact) + floor_o_;
      judge(j, "y", i, got.y.get(i), r.y.rounded[index(i)], exact, budget, c);
    });
    if (batch) {
      for (std::size_t c = 0; c < q_.size(); ++c) {
        const auto ci = static_cast<std::int64_t>(c);
        const double em = r.save_mean.rounded[c] + r.save_mean.residual[c];
        judge(j, "save_mean", ci, got.save_mean.get(ci), r.save_mean.rounded[c], em,
              dmean_[c] + u_s_ * std::fabs(em), c);
        const double ei = r.save_invstd.rounded[c] + r.save_invstd.residual[c];
        judge(j, "save_invstd", ci, got.save_invstd.get(ci), r.save_invstd.rounded[c], ei,
              std::fabs(ei) * (rel_invstd_[c] + u_s_), c);
      }
    }
    const bool update = p_.mode() == mode::training && p_.track_running_stats();
    if (update && p_.reduction_size() > 0) {
      const double f = p_.momentum() ? *p_.momentum()
                                     : 1.0 / static_cast<double>(before.num_batches_tracked + 1);
      const double m = static_cast<double>(p_.reduction_size());
      for (std::size_t c = 0; c < q_.size(); ++c) {
        const auto ci = static_cast<std::int64_t>(c);
        const double rm = before.running_mean.get(ci), rv = before.running_var.get(ci);
        const double var_u = q_[c].var * m / (m - 1);
        const double em = r.running_mean.rounded[c] + r.running_mean.residual[c];
        judge(j, "running_mean", ci, after.running_mean.get(ci), r.running_mean.rounded[c], em,
              2 * u_ * (std::fabs(1 - f) * std::fabs(rm) + f * std::fabs(q_[c].mean)) +
                  f * dmean_[c] + u_s_ * std::fabs(em),
              c);
        const double ev = r.running_var.rounded[c] + r.running_var.residual[c];
        judge(j, "running_var", ci, after.running_var.get(ci), r.running_var.rounded[c], ev,
              2 * u_ * (std::fabs(1 - f) * std::fabs(rv) + f * std::fabs(var_u)) +
                  f * m / (m - 1) * dvar_[c] + u_s_ * std::fabs(ev),
              c);
      }
    } else {
      expect_same_state(j, before, after, false);
    }
    if (after.num_batches_tracked != r.num_batches_tracked) {
      j.fail("num_batches_tracked " + std::to_string(after.num_batches_tracked) + ", reference " +
             std::to_string(r.num_batches_tracked));
    }
    return j;
  }

  judgement backward(const backward_outputs& got) {
    judgement j;
    const reference::backward_result r = reference::backward(p_, in_, {128});
    if (!got.guards.empty()) j.fail("harness guard: " + got.guards.front().detail);
    if (got.status.code != r.status.code) {
      j.fail("status " + std::string(name_of(got.status.code)) + ", reference " +
             std::string(name_of(r.status.code)) + ": " + got.status.message);
      return j;
    }
    if (!r.status.ok()) return j;
    const auto channels = q_.size();
    std::vector<double> ddbeta(channels), ddgamma(channels);
    std::vector<double> sum_abs_dy_dxhat(channels, 0.0);
    for_each_element([&](std::int64_t i, std::size_t c) {
      sum_abs_dy_dxhat[c] += std::fabs(in_.dy[index(i)]) * dxhat(c, xhat(i, c));
    });
    for (std::size_t c = 0; c < channels; ++c) {
      ddbeta[c] = K * u_ * q_[c].sum_abs_dy;
      ddgamma[c] = K * u_ * q_[c].sum_abs_dy_xhat + sum_abs_dy_dxhat[c];
      if (p_.affine()) {
        const auto ci = static_cast<std::int64_t>(c);
        const double eb = r.dbeta.rounded[c] + r.dbeta.residual[c];
        judge(j, "dbeta", ci, got.dbeta.get(ci), r.dbeta.rounded[c], eb,
              ddbeta[c] + u_s_ * std::fabs(eb), c);
        const double eg = r.dgamma.rounded[c] + r.dgamma.residual[c];
        judge(j, "dgamma", ci, got.dgamma.get(ci), r.dgamma.rounded[c], eg,
              ddgamma[c] + u_s_ * std::fabs(eg), c);
      }
    }
    const bool batch = p_.uses_batch_statistics();
    const double m = static_cast<double>(p_.reduction_size());
    for_each_element([&](std::int64_t i, std::size_t c) {
      const double xh = xhat(i, c);
      const double exact = r.dx.rounded[index(i)] + r.dx.residual[index(i)];
      const double dy = std::fabs(in_.dy[index(i)]);
      const double scale = std::fabs(gamma(c)) * q_[c].invstd;
      double budget =
          std::fabs(exact) * (rel_invstd_[c] + 2 * u_) + u_o_ * std::fabs(exact) + floor_o_;
      if (batch) {
        budget += scale / m *
                  (ddbeta[c] + std::fabs(xh) * ddgamma[c] +
                   std::fabs(q_[c].sum_dy_xhat) * dxhat(c, xh) + 2 * m * u_ * dy);
      } else {
        budget += scale * 2 * u_ * dy;
      }
      judge(j, "dx", i, got.dx.get(i), r.dx.rounded[index(i)], exact, budget, c);
    });
    return j;
  }

  const std::vector<reference::channel_quantities>& quantities() const { return q_; }

 private:
  static constexpr double K = 4;
  static std::size_t index(std::int64_t i) { return static_cast<std::size_t>(i); }

  template <class F>
  void for_each_element(const F& f) const {
    for (std::int64_t n = 0; n < p_.batch(); ++n)
      for (std::int64_t c = 0; c < p_.channels(); ++c)
        for (std::int64_t s = 0; s < p_.spatial_size(); ++s)
          f(p_.offset(n, c, s), static_cast<std::size_t>(c));
  }
  double xhat(std::int64_t i, std::size_t c) const {
    return (in_.x[index(i)] - q_[c].mean) * q_[c].invstd;
  }
  double dxhat(std::size_t c, double xh) const {
    return dmean_[c] * q_[c].invstd + std::fabs(xh) * (rel_invstd_[c] + 2 * u_);
  }
  double gamma(std::size_t c) const { return p_.affine() ? in_.gamma[c] : 1.0; }
  double beta(std::size_t c) const { return p_.affine() ? in_.beta[c] : 0.0; }
  bool ill_posed(std::size_t c) const { return q_[c].var + p_.eps() == 0; }

  void judge(judgement& j, const char* what, std::int64_t i, double got, double rounded,
             double exact, double budget, std::size_t c) {
    if (ill_posed(c)) return;
    std::ostringstream line;
    line.precision(17);
    line << what << "[" << i << "] (channel " << c << "): got " << got << ", reference " << rounded;
    if (std::isnan(rounded) || std::isnan(got)) {
      if (std::isnan(rounded) != std::isnan(got)) j.fail(line.str() + " (NaN pattern)");
      return;
    }
    if (std::isinf(rounded) || std::isinf(got)) {
      if (got != rounded) j.fail(line.str() + " (Inf pattern)");
      return;
    }
    if (got == rounded) return;  // correctly rounded: nothing can do better
    const double error = std::fabs(got - exact);
    const double ratio = budget > 0 ? error / budget : (error == 0 ? 0 : INFINITY);
    j.worst_ratio = std::max(j.worst_ratio, ratio);
    if (ratio > 1) {
      line << ", error " << error << " > budget " << budget << " (ratio " << ratio << ")";
      j.fail(line.str());
    }
  }

  void expect_same_state(judgement& j, const module_state& before, const module_state& after,
                         bool counter_too) {
    if (!before.running_mean.bitwise_equal(after.running_mean) ||
        !before.running_var.bitwise_equal(after.running_var)) {
      j.fail("running statistics changed where they must not");
    }
    if (counter_too && before.num_batches_tracked != after.num_batches_tracked) {
      j.fail("num_batches_tracked changed on a rejected call");
    }
  }

  problem p_;
  reference::call_inputs in_;
  std::vector<reference::channel_quantities> q_;
  double u_ = 0, u_o_ = 0, u_s_ = 0, floor_o_ = 0;
  std::vector<double> dmean_, dvar_, rel_invstd_;
};

}  // namespace bnconform::testing
