#include "degenerate_catalog.hpp"

#include <array>
#include <cmath>
#include <cstdint>
#include <limits>

namespace bnconform::battery {

namespace {

// splitmix64, seeded per case: the same data everywhere.
class numbers {
 public:
  explicit numbers(std::uint64_t seed) : state_(seed) {}
  double uniform(double lo, double hi) {
    std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    z ^= z >> 31;
    return lo + (hi - lo) * static_cast<double>(z >> 11) * 0x1p-53;
  }
  double normal() {
    const double u1 = uniform(0x1p-53, 1.0), u2 = uniform(0.0, 1.0);
    return std::sqrt(-2 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  }

 private:
  std::uint64_t state_;
};

std::int64_t channel_of(const problem& p, std::int64_t i) {
  if (p.layout() == layout::channels_last) return i % p.channels();
  return (i / p.spatial_size()) % p.channels();
}

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
    if (channel_of(p, i) != channel) continue;
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
void gamma_zero(const problem& p, call_data& d) {
  standard(p, d);
  d.state.gamma.set(1, 0.0);
}
void gamma_negative(const problem& p, call_data& d) {
  standard(p, d);
  for (std::int64_t c = 0; c < d.state.gamma.size(); ++c)
    d.state.gamma.set(c, -1.5 - static_cast<double>(c));
}
void long_reduction(const problem& p, call_data& d) { normal_data(p, d, 3, 1); }

using r = expected_rule;
const std::array<degenerate_case, 28> cases{{
    {"m1-training", "m == 1 in training: error, all state untouched", "shape=1x3", r::error},
    {"m1-training-backward", "m == 1 in training: backward is an error too", "shape=1x3", r::error,
     true},
    {"m1-eval-without-running-stats", "m == 1 with batch statistics in eval: error",
     "shape=1x3x1,track=false", r::error, false, "E"},
    {"m1-eval-with-running-stats", "m == 1 in eval with running statistics: valid", "shape=1x3",
     r::budget, false, "E"},
    {"m2-unbiased-factor", "m == 2: the unbiased factor is 2", "shape=2x3", r::budget},
    {"empty-batch", "N == 0: no error, empty output, running statistics kept, counter +1",
     "shape=0x3x4", r::exact, false, "TT"},
    {"empty-batch-backward", "N == 0: empty dx, zero dgamma and dbeta", "shape=0x3x4", r::exact,
     true},
    {"zero-spatial-size", "a zero spatial extent is an empty batch too", "shape=4x3x0", r::exact},
    {"empty-batch-eval", "N == 0 in eval", "shape=0x3x4", r::exact, false, "E"},
    {"constant-channel", "var == 0, eps > 0: mean exact, y == beta", "shape=4x3x5", r::exact},
    {"constant-channel-channels-last", "the same in channels_last",
     "shape=4x3x5,layout=channels_last", r::exact},
    {"constant-channel-backward", "var == 0, eps > 0: gradients finite", "shape=4x3x5", r::budget,
     true},
    {"eps0-zero-variance", "eps == 0 and zero variance: ill-posed, other channels judged",
     "shape=4x3x5,eps=0", r::ill_posed},
    {"nan-in-channel", "NaN confined to its channel (statistics, outputs, running stats)",
     "shape=4x3x5", r::exact},
    {"nan-in-channel-eval", "NaN in eval: only the affected element", "shape=4x3x5", r::exact,
     false, "E"},
    {"inf-in-channel", "+Inf: mean and running mean +Inf, variance and outputs NaN", "shape=4x3x5",
     r::exact},
    {"negative-inf-in-channel", "-Inf, confined to its channel", "shape=4x3x5", r::exact},
    {"subnormal-inputs", "subnormal inputs are not flushed to zero", "shape=4x3x5", r::budget},
    {"large-offset", "|mean| / std = 1e7 in f32: cancellation, still well defined", "shape=64x2x8",
     r::budget},
    {"near-overflow", "x^2 overflows f32", "shape=8x3x5", r::budget},
    {"near-underflow", "x^2 underflows f32", "shape=8x3x5", r::budget},
    {"momentum-zero", "momentum 0 keeps the running statistics", "shape=4x3x5,momentum=0",
     r::budget, false, "TT"},
    {"momentum-one", "momentum 1 takes the batch statistics", "shape=4x3x5,momentum=1", r::budget},
    {"momentum-none-sequence", "momentum=None: cumulative average over 12 batches",
     "shape=4x3x5,momentum=none", r::budget, false, "TTTTTTTTTTTT"},
    {"eval-between-training", "eval calls between training steps use the running values",
     "shape=4x3x5", r::budget, false, "TETTET"},
    {"gamma-zero-and-negative", "gamma 0 gives y == beta; negative gamma flips", "shape=4x3x5",
     r::budget, true},
    {"single-channel-and-many-channels", "C == 1, and C large with tiny m", "shape=2x256",
     r::budget},
    {"reduction-longer-than-2^24", "a float counter or float sum loses integers",
     "shape=16777217x1", r::budget, false, "T", nullptr, true},
}};

// Fill rules by name; kept beside the table so each case reads as one line.
void (*fill_for(std::string_view name))(const problem&, call_data&) {
  if (name.starts_with("constant-channel") || name == "eps0-zero-variance") return constant_channel;
  if (name.starts_with("nan-in-channel")) return nan_in_channel;
  if (name == "inf-in-channel") return inf_in_channel;
  if (name == "negative-inf-in-channel") return negative_inf_in_channel;
  if (name == "subnormal-inputs") return subnormal;
  if (name == "large-offset") return large_offset;
  if (name == "near-overflow") return near_overflow;
  if (name == "near-underflow") return near_underflow;
  if (name == "gamma-zero-and-negative") return gamma_negative;
  if (name == "reduction-longer-than-2^24") return long_reduction;
  return standard;
}

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

std::span<const degenerate_case> degenerate_catalog() {
  static const std::vector<degenerate_case> filled = [] {
    std::vector<degenerate_case> v(cases.begin(), cases.end());
    for (auto& dc : v) {
      if (dc.fill == nullptr) dc.fill = fill_for(dc.name);
    }
    return v;
  }();
  return filled;
}

degenerate_result run_degenerate(const kernel& k, const degenerate_case& dc, check::level l) {
  degenerate_result out;
  out.name = dc.name;
  const problem base = problem::parse(dc.problem_text);
  call_data d;
  dc.fill(base, d);
  if (dc.name == "gamma-zero-and-negative") gamma_zero(base, d);  // both in one case
  check::options opt;
  opt.judged_at = l;
  for (const char step : dc.steps) {
    const problem p = base.with_mode(step == 'E' ? mode::eval : mode::training);
    check::comparison c = dc.backward ? check::run_backward(k, p, d.x, d.dy, d.state, opt)
                                      : check::run_forward(k, p, d.x, d.state, opt);
    c.repro = "bnconform degenerate " + std::string(dc.name) + " --kernel " + k.name() + "   # " +
              p.to_string();
    const check::verdict v = c.result;
    out.calls.push_back(c);
    if (v == check::verdict::unsupported || v == check::verdict::fail ||
        v == check::verdict::mistrusted) {
      out.result = v;
      out.reason = c.reason;
      return out;
    }
    const bool as_expected = dc.rule == expected_rule::error       ? c.call_rejected
                             : dc.rule == expected_rule::ill_posed ? v == check::verdict::ill_posed
                                                                   : v == check::verdict::pass;
    if (!as_expected) {
      out.result = check::verdict::fail;
      out.reason = "expected '" + std::string(name_of(dc.rule)) + "', got " +
                   std::string(check::name_of(v)) + ": " + c.reason;
      return out;
    }
    if (!dc.backward && !c.call_rejected) {
      // The next step starts from the state the kernel left.
      module_state next = d.state;
      (void)k.forward(p, d.x, next);
      d.state = next;
    }
  }
  out.result =
      dc.rule == expected_rule::ill_posed ? check::verdict::ill_posed : check::verdict::pass;
  out.reason = out.calls.back().reason;
  return out;
}

}  // namespace bnconform::battery
