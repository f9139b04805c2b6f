#include "gradient_check.hpp"

#include <cmath>
#include <sstream>
#include <vector>

#include "check/budget.hpp"
#include "check/comparison.hpp"

namespace bnconform::battery {

namespace {

// cbrt(2^-53): the step that balances truncation (h^2) against cancellation (u / h).
const double step_unit = std::cbrt(std::ldexp(1.0, -53));

// The kernel's forward as a function: y for given x and state (the state is a copy;
// the running statistics do not affect y in training).
class loss_function {
 public:
  loss_function(const kernel& k, const problem& p, const tensor& dy, const module_state& state)
      : k_(k), p_(p), dy_(dy), state_(state) {}

  // L = sum dy * y, accumulated in long double so that its own rounding is far
  // below the forward's.
  double operator()(const tensor& x, const module_state& state) const {
    module_state s = state;
    const forward_outputs out = k_.forward(p_, x, s);
    if (!out.status.ok()) failed_ = out.status.message;
    long double sum = 0;
    for (std::int64_t i = 0; i < x.size(); ++i) {
      sum += static_cast<long double>(dy_.get(i)) * static_cast<long double>(out.y.get(i));
    }
    return static_cast<double>(sum);
  }
  const module_state& state() const { return state_; }
  const std::string& failure() const { return failed_; }

 private:
  const kernel& k_;
  const problem& p_;
  const tensor& dy_;
  const module_state& state_;
  mutable std::string failed_;
};

// Per-channel statistics from x itself (long double), for the error bounds only.
std::vector<reference::channel_quantities> own_quantities(const problem& p, const tensor& x,
                                                          const tensor& dy,
                                                          const module_state& state) {
  const auto c_count = static_cast<std::size_t>(p.channels());
  std::vector<long double> sum(c_count), sum_abs(c_count), sq(c_count);
  for (std::int64_t i = 0; i < x.size(); ++i) {
    const auto c = static_cast<std::size_t>(p.channel_of(i));
    sum[c] += x.get(i);
    sum_abs[c] += std::fabs(static_cast<long double>(x.get(i)));
  }
  const auto m = static_cast<long double>(p.reduction_size());
  std::vector<reference::channel_quantities> q(c_count);
  for (std::size_t c = 0; c < c_count; ++c) {
    q[c].m = p.reduction_size();
    q[c].mean = static_cast<double>(sum[c] / m);
    q[c].mean_abs = static_cast<double>(sum_abs[c] / m);
  }
  for (std::int64_t i = 0; i < x.size(); ++i) {
    const auto c = static_cast<std::size_t>(p.channel_of(i));
    const long double d = x.get(i) - static_cast<long double>(q[c].mean);
    sq[c] += d * d;
  }
  for (std::size_t c = 0; c < c_count; ++c) {
    const bool batch = p.uses_batch_statistics();
    const auto ic = static_cast<std::int64_t>(c);
    if (!batch) {
      q[c].mean = state.running_mean.get(ic);
      q[c].var = state.running_var.get(ic);
    } else {
      q[c].var = static_cast<double>(sq[c] / m);
    }
    q[c].invstd = 1.0 / std::sqrt(q[c].var + p.eps());
  }
  for (std::int64_t i = 0; i < x.size(); ++i) {
    const auto c = static_cast<std::size_t>(p.channel_of(i));
    const double xhat = (x.get(i) - q[c].mean) * q[c].invstd;
    q[c].sum_dy += dy.get(i);
    q[c].sum_abs_dy += std::fabs(dy.get(i));
    q[c].sum_dy_xhat += dy.get(i) * xhat;
    q[c].sum_abs_dy_xhat += std::fabs(dy.get(i) * xhat);
  }
  return q;
}

std::string index_text(const problem& p, std::int64_t memory_index) {
  std::string s = "[";
  const auto index = check::full_index(p, memory_index);
  for (std::size_t d = 0; d < index.size(); ++d) s += (d ? "," : "") + std::to_string(index[d]);
  return s + "]";
}

// A central difference along `direction` with the actual (rounded) steps.
struct difference {
  double value;
  double step;
};

template <class Perturb>
difference central(const loss_function& loss, double h, Perturb perturb) {
  tensor x_up, x_down;
  module_state s_up = loss.state(), s_down = loss.state();
  const double up_step = perturb(+h, x_up, s_up);
  const double down_step = -perturb(-h, x_down, s_down);
  const double total = up_step + down_step;
  return {(loss(x_up, s_up) - loss(x_down, s_down)) / total, total / 2};
}

}  // namespace

std::string gradient_report::describe() const {
  std::ostringstream out;
  out << "gradcheck: " << check::name_of(result) << " (" << reason << ")\n"
      << "worst ratio " << worst_ratio << " at " << worst_where << " over " << components
      << " components\nrepro: " << repro;
  return out.str();
}

gradient_report gradcheck(const kernel& k, const problem& p, const tensor& x, const tensor& dy,
                          const module_state& state, const gradcheck_options& opt) {
  gradient_report r;
  r.repro = "bnconform run --problem '" + p.to_string() + "'";
  if (p.data_type() != dtype::f64) {
    r.result = check::verdict::unsupported;
    r.reason = "the gradcheck needs f64 data (the forward's own rounding would swamp it)";
    return r;
  }
  for (const bool backward : {false, true}) {
    if (const std::string why = k.unsupported_reason(p, backward); !why.empty()) {
      r.result = check::verdict::unsupported;
      r.reason = "not called: " + why;
      return r;
    }
  }
  if (p.reduction_size() < 2 && p.uses_batch_statistics()) {
    r.result = check::verdict::unsupported;
    r.reason = "no gradient: the call is invalid (m < 2 with batch statistics)";
    return r;
  }
  // Analytic gradients from the kernel's own forward and backward.
  module_state after = state;
  const forward_outputs forward = k.forward(p, x, after);
  const backward_outputs analytic =
      k.backward(p, x, dy, state, forward.save_mean, forward.save_invstd);
  if (!forward.status.ok() || !analytic.status.ok()) {
    r.result = check::verdict::fail;
    r.reason =
        "the kernel failed a valid call: " + forward.status.message + " " + analytic.status.message;
    return r;
  }

  // Error bounds (docs/battery.md): the loss's rounding from the forward's budget at
  // `standard`, the analytic gradient's budget, and a Richardson estimate of the
  // truncation error from steps h and h/2.
  const check::budget_model model(p, check::level::standard);
  const auto q = own_quantities(p, x, dy, state);
  std::vector<check::channel_terms> terms;
  for (std::int64_t c = 0; c < p.channels(); ++c) {
    terms.push_back(model.terms(q[static_cast<std::size_t>(c)],
                                p.affine() ? state.gamma.get(c) : 1.0,
                                p.affine() ? state.beta.get(c) : 0.0));
  }
  long double loss_error = 0;
  for (std::int64_t i = 0; i < x.size(); ++i) {
    const auto& t = terms[static_cast<std::size_t>(p.channel_of(i))];
    loss_error += std::fabs(dy.get(i)) * model.y(t, x.get(i), forward.y.get(i));
  }
  const double e_loss = static_cast<double>(loss_error);
  const loss_function loss(k, p, dy, state);

  const auto judge = [&](const std::string& where, const difference& big, const difference& small,
                         double analytic_value, double analytic_bound) {
    ++r.components;
    const double truncation = 4.0 / 3.0 * std::fabs(big.value - small.value);
    const double bound = 2 * e_loss / small.step + truncation + analytic_bound;
    const double error = std::fabs(big.value - analytic_value);
    const double ratio = error == 0 ? 0 : (bound > 0 ? error / bound : HUGE_VAL);
    if (!(ratio <= r.worst_ratio)) {
      r.worst_ratio = ratio;
      r.worst_where = where;
    }
  };
  const auto along_x = [&](std::int64_t i, double scale) {
    return [&x, i, scale](double h, tensor& out, module_state&) {
      out = x;
      const double moved = x.get(i) + h * scale;
      out.set(i, moved);
      return out.get(i) - x.get(i);
    };
  };

  if (x.size() <= opt.full_limit) {
    for (std::int64_t i = 0; i < x.size(); ++i) {
      const auto& t = terms[static_cast<std::size_t>(p.channel_of(i))];
      const double scale = 1.0 / t.invstd;  // the channel's natural length
      judge("dx" + index_text(p, i), central(loss, step_unit, along_x(i, scale)),
            central(loss, step_unit / 2, along_x(i, scale)), analytic.dx.get(i),
            model.dx(t, x.get(i), dy.get(i), analytic.dx.get(i)));
    }
  } else {
    std::uint64_t state_bits = opt.seed * 0x9e3779b97f4a7c15ull + 1;
    for (int d = 0; d < opt.directions; ++d) {
      std::vector<double> direction(static_cast<std::size_t>(x.size()));
      double analytic_value = 0, analytic_bound = 0;
      for (std::int64_t i = 0; i < x.size(); ++i) {
        state_bits ^= state_bits << 13;
        state_bits ^= state_bits >> 7;
        state_bits ^= state_bits << 17;
        const auto& t = terms[static_cast<std::size_t>(p.channel_of(i))];
        const double v = ((state_bits >> 63) != 0 ? 1.0 : -1.0) / t.invstd;
        direction[static_cast<std::size_t>(i)] = v;
        analytic_value += v * analytic.dx.get(i);
        analytic_bound += std::fabs(v) * model.dx(t, x.get(i), dy.get(i), analytic.dx.get(i));
      }
      const auto along = [&](double h, tensor& out, module_state&) {
        out = x;
        for (std::int64_t i = 0; i < x.size(); ++i) {
          out.set(i, x.get(i) + h * direction[static_cast<std::size_t>(i)]);
        }
        return h;  // the per-element steps round; their effect is in the loss bound
      };
      judge("direction " + std::to_string(d), central(loss, step_unit, along),
            central(loss, step_unit / 2, along), analytic_value, analytic_bound);
    }
  }
  if (p.affine()) {
    for (std::int64_t c = 0; c < p.channels(); ++c) {
      const auto& t = terms[static_cast<std::size_t>(c)];
      for (const bool is_gamma : {true, false}) {
        const auto along = [&, c, is_gamma](double h, tensor& out, module_state& s) {
          out = x;
          tensor& param = is_gamma ? s.gamma : s.beta;
          const double before = param.get(c);
          const double step = h * std::max(1.0, std::fabs(before));
          param.set(c, before + step);
          return param.get(c) - before;
        };
        const double value = is_gamma ? analytic.dgamma.get(c) : analytic.dbeta.get(c);
        const double bound = is_gamma ? model.dgamma(t) : model.dbeta(t);
        judge(std::string(is_gamma ? "dgamma[" : "dbeta[") + std::to_string(c) + "]",
              central(loss, step_unit, along), central(loss, step_unit / 2, along), value, bound);
      }
    }
  }
  if (!loss.failure().empty()) {
    r.result = check::verdict::fail;
    r.reason = "a perturbed forward call failed: " + loss.failure();
    return r;
  }
  r.result = r.worst_ratio <= 1 ? check::verdict::pass : check::verdict::fail;
  std::ostringstream why;
  why << "worst |finite difference - backward| / bound = " << r.worst_ratio;
  r.reason = why.str();
  return r;
}

}  // namespace bnconform::battery
