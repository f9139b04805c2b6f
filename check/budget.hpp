#pragma once
// Per-element error budgets of a correct kernel: docs/tolerance.md states them
// (#budget-per-output-element), docs/error-model.md derives them. Every budget is a
// sum of first-order terms computed from the reference's exact per-channel
// quantities, so it follows the conditioning of the data rather than a flat tolerance.
#include <cstdint>

#include "core/problem.hpp"
#include "level.hpp"
#include "reference/call.hpp"

namespace bnconform::check {

// One channel's exact quantities and the error terms derived from them.
struct channel_terms {
  double m = 0;
  double mean = 0, var = 0, invstd = 0, mean_abs = 0;
  double sum_dy = 0, sum_abs_dy = 0, sum_dy_xhat = 0, sum_abs_dy_xhat = 0;
  double gamma = 1, beta = 0;
  bool batch_statistics = true;
  // Error of the statistics a correct kernel computes (zero when it reads the
  // running statistics, which are exact inputs).
  double d_mean = 0;        // |d mean|
  double d_var = 0;         // |d var|
  double rel_d_invstd = 0;  // relative error of invstd
};

class budget_model {
 public:
  budget_model(const problem& p, level l);

  channel_terms terms(const reference::channel_quantities& q, double gamma, double beta) const;

  // xhat_i = (x_i - mean) * invstd as the reference has it.
  double xhat(const channel_terms& c, double x) const { return (x - c.mean) * c.invstd; }
  double d_xhat(const channel_terms& c, double x) const;

  double y(const channel_terms& c, double x, double y_value) const;
  double save_mean(const channel_terms& c) const;
  double save_invstd(const channel_terms& c) const;
  // `old` is the running value before the call, f the step's factor as the ABI
  // passes it (the momentum, or 1 / k), whose meaning is the problem's profile's
  // (docs/tolerance.md#budget-per-output-element), `updated` the exact new value.
  double running_mean(const channel_terms& c, double old, double f, double updated) const;
  double running_var(const channel_terms& c, double old, double f, double updated) const;
  double dbeta(const channel_terms& c) const;
  double dgamma(const channel_terms& c) const;
  double dx(const channel_terms& c, double x, double dy, double dx_value) const;

  double compute_unit() const { return u_; }

 private:
  // Error of sum(dy) and sum(dy * xhat) before they are stored.
  double d_sum_dy(const channel_terms& c) const;
  double d_sum_dy_xhat(const channel_terms& c) const;

  level level_;
  double u_;    // compute precision
  double u_o_;  // data storage (y, dx)
  double u_s_;  // statistics storage (save_*, running_*, dgamma, dbeta)
  // Gradual underflow: rounding a result below the smallest normal number errs by up
  // to half the smallest subnormal, however small the result, so every stored
  // output carries this absolute term besides u |v| (docs/error-model.md).
  // Products and quotients in the compute type err by as much again (sums and
  // differences whose result is subnormal are exact).
  double eta_;    // compute
  double eta_o_;  // data storage
  double eta_s_;  // statistics storage
  double eps_;
  std::int64_t m_;
  bool batch_statistics_;
  bnconform::profile profile_;
};

}  // namespace bnconform::check
