#include "degenerate_catalog.hpp"

#include <array>
#include <cmath>
#include <cstdint>
#include <limits>

#include "core/splitmix64.hpp"

namespace bnconform::battery {

namespace {

// core's splitmix64, seeded per case: the same data everywhere.
class numbers {
 public:
  explicit numbers(std::uint64_t seed) : bits_(seed) {}
  double uniform(double lo, double hi) {
    return lo + (hi - lo) * static_cast<double>(bits_.next() >> 11) * 0x1p-53;
  }
  double normal() {
    const double u1 = uniform(0x1p-53, 1.0), u2 = uniform(0.0, 1.0);
    return std::sqrt(-2 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  }

 private:
  splitmix64 bits_;
};

// x = offset + scale * N(0, 1); dy = N(0, 1); the module's initial state with
// gamma, beta and the running statistics away from their defaults.
void normal_data(const problem& p, call_data& d, double offset, double scale) {
  numbers n(0xbadc0ffee + static_cast<std::uint64_t>(p.element_count()));
  d.x = tensor(p.data_type(), p.element_count());
  d.dy = tensor(p.data_type(), p.element_count());
  for (std::int64_t i = 0; i < p.element_count(); ++i) {
    d.x.set(i, offset + scale * n.normal());
    d.dy.set(i, n.normal());
  }
  d.state = module_state::initial(p);
  for (std::int64_t c = 0; c < d.state.gamma.size(); ++c) {
    d.state.gamma.set(c, n.uniform(0.5, 2));
    d.state.beta.set(c, n.uniform(-1, 1));
  }
  for (std::int64_t c = 0; c < d.state.running_mean.size(); ++c) {
    d.state.running_mean.set(c, n.uniform(-1, 1));
    d.state.running_var.set(c, n.uniform(0.5, 2));
  }
}

void set_channel(const problem& p, tensor& t, std::int64_t channel, double v, bool first_only) {
  for (std::int64_t i = 0; i < t.size(); ++i) {
    if (p.channel_of(i) != channel) continue;
    t.set(i, v);
    if (first_only) return;
  }
}

void standard(const problem& p, call_data& d) { normal_data(p, d, 0.5, 1.5); }
void constant_channel(const problem& p, call_data& d) {
  standard(p, d);
  set_channel(p, d.x, 1, 0.7, false);
}
void nan_in_channel(const problem& p, call_data& d) {
  standard(p, d);
  set_channel(p, d.x, 0, std::nan(""), true);
}
void inf_in_channel(const problem& p, call_data& d) {
  standard(p, d);
  set_channel(p, d.x, 1, HUGE_VAL, true);
}
void negative_inf_in_channel(const problem& p, call_data& d) {
  standard(p, d);
  set_channel(p, d.x, 2, -HUGE_VAL, true);
}
void subnormal(const problem& p, call_data& d) { normal_data(p, d, 2e-40, 1e-40); }
void large_offset(const problem& p, call_data& d) { normal_data(p, d, 1e7, 1); }
// std 1e19: the variance (1e38) is an f32 number, the squares of the larger x are not.
void near_overflow(const problem& p, call_data& d) { normal_data(p, d, 0, 1e19); }
void near_underflow(const problem& p, call_data& d) { normal_data(p, d, 0, 1e-25); }
// Negative gamma in every channel but channel 1, where it is zero.
void gamma_zero_and_negative(const problem& p, call_data& d) {
  standard(p, d);
  for (std::int64_t c = 0; c < d.state.gamma.size(); ++c)
    d.state.gamma.set(c, -1.5 - static_cast<double>(c));
  d.state.gamma.set(1, 0.0);
}
void long_reduction(const problem& p, call_data& d) { normal_data(p, d, 3, 1); }
// 2^24 + 1 batches seen: the next count (and momentum=None's 1/k) is no f32 number.
void counter_past_float(const problem& p, call_data& d) {
  standard(p, d);
  d.state.num_batches_tracked = (std::int64_t{1} << 24) + 1;
}

using r = expected_rule;
const std::array<degenerate_case, 29> cases{{
    {"m1-training", "m == 1 in training: error, all state untouched", "shape=1x3", r::error,
     standard},
    {"m1-training-backward", "m == 1 in training: backward is an error too", "shape=1x3", r::error,
     standard, true},
    {"m1-eval-without-running-stats", "m == 1 with batch statistics in eval: error",
     "shape=1x3x1,track=false", r::error, standard, false, "E"},
    {"m1-eval-with-running-stats", "m == 1 in eval with running statistics: valid", "shape=1x3",
     r::budget, standard, false, "E"},
    {"m2-unbiased-factor", "m == 2: the unbiased factor is 2", "shape=2x3", r::budget, standard},
    {"empty-batch", "N == 0: no error, empty output, running statistics kept, counter +1",
     "shape=0x3x4", r::exact, standard, false, "TT"},
    {"empty-batch-backward", "N == 0: empty dx, zero dgamma and dbeta", "shape=0x3x4", r::exact,
     standard, true},
    {"zero-spatial-size", "a zero spatial extent is an empty batch too", "shape=4x3x0", r::exact,
     standard},
    {"empty-batch-eval", "N == 0 in eval", "shape=0x3x4", r::exact, standard, false, "E"},
    {"constant-channel", "var == 0, eps > 0: mean exact, y == beta", "shape=4x3x5", r::exact,
     constant_channel},
    {"constant-channel-channels-last", "the same in channels_last",
     "shape=4x3x5,layout=channels_last", r::exact, constant_channel},
    {"constant-channel-backward", "var == 0, eps > 0: gradients finite", "shape=4x3x5", r::budget,
     constant_channel, true},
    {"eps0-zero-variance", "eps == 0 and zero variance: ill-posed, other channels judged",
     "shape=4x3x5,eps=0", r::ill_posed, constant_channel},
    {"nan-in-channel", "NaN confined to its channel (statistics, outputs, running stats)",
     "shape=4x3x5", r::exact, nan_in_channel},
    {"nan-in-channel-eval", "NaN in eval: only the affected element", "shape=4x3x5", r::exact,
     nan_in_channel, false, "E"},
    {"inf-in-channel", "+Inf: mean and running mean +Inf, variance and outputs NaN", "shape=4x3x5",
     r::exact, inf_in_channel},
    {"negative-inf-in-channel", "-Inf, confined to its channel", "shape=4x3x5", r::exact,
     negative_inf_in_channel},
    {"subnormal-inputs", "subnormal inputs are not flushed to zero", "shape=4x3x5", r::budget,
     subnormal},
    {"large-offset", "|mean| / std = 1e7 in f32: cancellation, still well defined", "shape=64x2x8",
     r::budget, large_offset},
    {"near-overflow", "x^2 overflows f32", "shape=8x3x5", r::budget, near_overflow},
    {"near-underflow", "x^2 underflows f32", "shape=8x3x5", r::budget, near_underflow},
    {"momentum-zero", "momentum 0 keeps the running statistics", "shape=4x3x5,momentum=0",
     r::budget, standard, false, "TT"},
    {"momentum-one", "momentum 1 takes the batch statistics", "shape=4x3x5,momentum=1", r::budget,
     standard},
    {"momentum-none-sequence", "momentum=None: cumulative average over 12 batches",
     "shape=4x3x5,momentum=none", r::budget, standard, false, "TTTTTTTTTTTT"},
    {"eval-between-training", "eval calls between training steps use the running values",
     "shape=4x3x5", r::budget, standard, false, "TETTET"},
    {"gamma-zero-and-negative", "gamma 0 gives y == beta; negative gamma flips", "shape=4x3x5",
     r::budget, gamma_zero_and_negative, true},
    {"single-channel-and-many-channels", "C == 1, and C large with tiny m", "shape=2x256",
     r::budget, standard},
    {"counter-past-2^24", "num_batches_tracked past 2^24 is an integer: a float counter loses it",
     "shape=4x3x5,momentum=none", r::budget, counter_past_float, false, "TT"},
    {"reduction-longer-than-2^24", "a float counter or float sum loses integers",
     "shape=16777217x1", r::budget, long_reduction, false, "T", true},
}};

}  // namespace

std::string_view name_of(expected_rule rule) {
  switch (rule) {
    case expected_rule::exact: return "exact";
    case expected_rule::budget: return "budget";
    case expected_rule::error: return "error expected";
    case expected_rule::ill_posed: return "ill-posed";
  }
  return "unknown";
}

std::span<const degenerate_case> degenerate_catalog() { return cases; }

problem problem_in(const degenerate_case& dc, profile pf) {
  if (pf == profile::pytorch) return problem::parse(dc.problem_text);
  return problem::parse(std::string(dc.problem_text) + ",profile=" + std::string(name_of(pf)));
}

expected_rule rule_in(const degenerate_case& dc, profile pf) {
  const bool m1_allowed = pf == profile::keras || pf == profile::tf_fused || pf == profile::flax;
  if (dc.rule == expected_rule::error && m1_allowed) return expected_rule::budget;
  return dc.rule;
}

degenerate_result run_degenerate(const kernel& k, const degenerate_case& dc,
                                 const check::options& opt) {
  return run_degenerate(k, dc, opt, profile::pytorch);
}

degenerate_result run_degenerate(const kernel& k, const degenerate_case& dc,
                                 const check::options& opt, profile pf) {
  degenerate_result out;
  out.name = dc.name;
  const problem base = problem_in(dc, pf);
  const expected_rule rule = rule_in(dc, pf);
  call_data d;
  dc.fill(base, d);
  for (const char step : dc.steps) {
    const problem p = base.with_mode(step == 'E' ? mode::eval : mode::training);
    module_state next = d.state;
    check::comparison c = dc.backward ? check::run_backward(k, p, d.x, d.dy, d.state, opt)
                                      : check::run_forward(k, p, d.x, d.state, opt, &next);
    c.repro = "bnconform degenerate " + std::string(dc.name) + " --kernel " + k.name() + "   # " +
              p.to_string();
    const check::verdict v = c.result;
    out.calls.push_back(c);
    // A case whose error is none in this profile says so when it fails.
    const std::string convention = rule != dc.rule ? "in the " + std::string(name_of(pf)) +
                                                         " profile m == 1 is no error (var = 0): "
                                                   : "";
    if (v == check::verdict::unsupported || v == check::verdict::fail ||
        v == check::verdict::mistrusted) {
      out.result = v;
      out.reason = (v == check::verdict::fail ? convention : "") + c.reason;
      return out;
    }
    const bool as_expected = rule == expected_rule::error       ? c.call_rejected
                             : rule == expected_rule::ill_posed ? v == check::verdict::ill_posed
                                                                : v == check::verdict::pass;
    if (!as_expected) {
      out.result = check::verdict::fail;
      out.reason = convention + "expected '" + std::string(name_of(rule)) + "', got " +
                   std::string(check::name_of(v)) + ": " + c.reason;
      return out;
    }
    d.state = next;  // the next step starts from the state the kernel left
  }
  out.result = rule == expected_rule::ill_posed ? check::verdict::ill_posed : check::verdict::pass;
  out.reason = out.calls.back().reason;
  return out;
}

}  // namespace bnconform::battery
