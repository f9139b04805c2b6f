#include "compare.hpp"

#include <algorithm>
#include <cmath>
#include <set>

#include "budget.hpp"
#include "reference/reference.hpp"

namespace bnconform::check {

namespace {

double parameter(const tensor& t, std::int64_t c, double absent) {
  return t.size() == 0 ? absent : t.get(c);
}

std::vector<channel_terms> all_terms(const budget_model& model, const problem& p,
                                     const std::vector<reference::channel_quantities>& q,
                                     const module_state& state) {
  std::vector<channel_terms> terms;
  terms.reserve(q.size());
  for (std::int64_t c = 0; c < p.channels(); ++c) {
    terms.push_back(model.terms(q[static_cast<std::size_t>(c)], parameter(state.gamma, c, 1.0),
                                parameter(state.beta, c, 0.0)));
  }
  return terms;
}

void report_guards(judge& j, const std::vector<guard_finding>& guards) {
  for (const guard_finding& g : guards) {
    j.fail(describe(g));
  }
}

bool same_state(const module_state& a, const module_state& b) {
  return a.running_mean.bitwise_equal(b.running_mean) &&
         a.running_var.bitwise_equal(b.running_var) &&
         a.num_batches_tracked == b.num_batches_tracked;
}

// The status rules. Returns true when both calls succeeded and outputs are to be
// judged; otherwise the verdict is already settled in `j` / `early`.
bool statuses_agree(judge& j, const call_status& expected, const call_status& got,
                    const module_state& before, const module_state& after,
                    std::optional<comparison>& early) {
  if (expected.code == BNC_STATUS_INTERNAL_ERROR) {
    comparison c = j.result();
    c.result = verdict::mistrusted;
    c.reason = "the reference could not judge this call: " + expected.message;
    early = c;
    return false;
  }
  if (got.code == BNC_STATUS_UNSUPPORTED) {
    comparison c = j.result();
    c.result = verdict::unsupported;
    c.reason = "the kernel returned unsupported: " + got.message;
    early = c;
    return false;
  }
  if (!expected.ok()) {
    if (got.code != expected.code) {
      j.fail("status: expected " + std::string(bnconform::name_of(expected.code)) + " (" +
             expected.message + "), got " + std::string(bnconform::name_of(got.code)) +
             (got.message.empty() ? "" : " (" + got.message + ")"));
    }
    if (!same_state(before, after)) j.fail("state: the module state changed in a failing call");
    if (got.code == expected.code) {
      j.result().call_rejected = true;
      j.result().reason = "invalid call rejected as it must be (" +
                          std::string(bnconform::name_of(got.code)) + ": " + expected.message + ")";
    }
    return false;
  }
  if (!got.ok()) {
    j.fail("status: the call is valid but the kernel returned " +
           std::string(bnconform::name_of(got.code)) +
           (got.message.empty() ? "" : " (" + got.message + ")"));
    return false;
  }
  return true;
}

// Most of the judged elements exactly zero: the data cannot tell a right kernel
// from a wrong one (tolerance.md, "mistrusted").
bool mostly_zero(const std::vector<double>& rounded, const std::vector<double>& residual) {
  if (rounded.empty()) return false;
  std::size_t zeros = 0;
  for (std::size_t i = 0; i < rounded.size(); ++i) zeros += rounded[i] == 0 && residual[i] == 0;
  return 2 * zeros > rounded.size();
}

verdict clean_verdict(judge& j, const std::vector<std::int64_t>& ill_posed, bool weak,
                      const char* weak_output) {
  if (!ill_posed.empty()) {
    std::string list;
    for (const std::int64_t c : ill_posed) list += (list.empty() ? "" : ",") + std::to_string(c);
    j.note("ill-posed channels (eps == 0 and zero variance; not judged): " + list);
  }
  if (weak) {
    j.result().reason = std::string("mistrusted: most expected ") + weak_output +
                        " values are exactly zero, so the data cannot judge the kernel";
    return verdict::mistrusted;
  }
  return ill_posed.empty() ? verdict::pass : verdict::ill_posed;
}

void add_nondeterminism(comparison& c, const std::string& what) {
  c.result = verdict::fail;
  c.reason = "nondeterministic: " + what;
  c.first_mismatches.insert(c.first_mismatches.begin(), c.reason);
  if (c.first_mismatches.size() > 10) c.first_mismatches.pop_back();
}

std::string first_difference(const char* name, const tensor& a, const tensor& b) {
  if (a.bitwise_equal(b)) return {};
  for (std::int64_t i = 0; i < std::min(a.size(), b.size()); ++i) {
    if (!(a.get(i) == b.get(i)) && !(std::isnan(a.get(i)) && std::isnan(b.get(i)))) {
      return std::string(name) + " differs between two runs at memory index " + std::to_string(i);
    }
  }
  return std::string(name) + " differs between two runs";
}

// Every value of channel c is the same (-0 and 0 count as the same).
bool constant_channel(const problem& p, const tensor& x, std::int64_t c) {
  const std::int64_t m = p.reduction_size(), spatial = p.spatial_size();
  if (m == 0) return false;
  const double first = x.get(p.offset(0, c, 0));
  for (std::int64_t k = 1; k < m; ++k) {
    const double v = x.get(p.offset(k / spatial, c, k % spatial));
    if (!(v == first)) return false;
  }
  return true;
}

tensor stats_tensor(const problem& p, const std::vector<double>& values) {
  return tensor::from_values(p.stats_type(), values);
}

// Channels whose parameters (gamma, beta; the running statistics an eval call reads)
// or, for a backward call, whose dy holds a non-finite value: there NaN and Inf are
// decided by the order of evaluation (inf - inf, 0 * inf), so an element whose exact
// value is non-finite may be either (docs/error-model.md, "Infinities").
std::vector<bool> nonfinite_channels(const problem& p, const module_state& state,
                                     const tensor* dy) {
  std::vector<bool> out(static_cast<std::size_t>(p.channels()), false);
  const auto mark = [&](const tensor& t) {
    for (std::int64_t c = 0; c < t.size() && c < p.channels(); ++c) {
      if (!std::isfinite(t.get(c))) out[static_cast<std::size_t>(c)] = true;
    }
  };
  if (p.affine()) {
    mark(state.gamma);
    mark(state.beta);
  }
  if (!p.uses_batch_statistics() && p.track_running_stats()) {
    mark(state.running_mean);
    mark(state.running_var);
  }
  if (dy != nullptr) {
    for (std::int64_t i = 0; i < dy->size(); ++i) {
      if (!std::isfinite(dy->get(i))) out[static_cast<std::size_t>(p.channel_of(i))] = true;
    }
  }
  return out;
}

}  // namespace

comparison compare_forward(const problem& p, const tensor& x, const module_state& state_before,
                           const reference::forward_result& expected,
                           const std::vector<reference::channel_quantities>& q,
                           const forward_outputs& got, const module_state& state_after,
                           const options& opt) {
  judge j(p, opt.judged_at);
  report_guards(j, got.guards);
  std::optional<comparison> early;
  if (!statuses_agree(j, expected.status, got.status, state_before, state_after, early)) {
    if (early) early->reference_needs_more_bits = expected.needs_more_bits;
    return early ? *early : j.finish(verdict::pass);
  }
  const budget_model model(p, opt.judged_at);
  const std::vector<channel_terms> terms = all_terms(model, p, q, state_before);
  const std::set<std::int64_t> ill_posed(expected.ill_posed_channels.begin(),
                                         expected.ill_posed_channels.end());
  const bool batch = p.uses_batch_statistics();
  const std::int64_t m = p.reduction_size();
  const std::vector<bool> loose = nonfinite_channels(p, state_before, nullptr);

  // Statistics first: the constant-channel rule depends on the kernel's mean.
  std::vector<bool> exact_constant(static_cast<std::size_t>(p.channels()), false);
  if (batch && m > 0) {
    for (std::int64_t c = 0; c < p.channels(); ++c) {
      if (ill_posed.count(c) != 0) continue;
      const auto& t = terms[static_cast<std::size_t>(c)];
      const auto k = static_cast<std::size_t>(c);
      const double mean = got.save_mean.get(c);
      // Exact fills demand the exact mean at strict; at standard, Welford-class
      // kernels (which divide at every update) are judged by the budget
      // (docs/error-model.md, "Decisions").
      if (opt.exact_statistics && opt.judged_at == level::strict) {
        j.exact("save_mean", p.stats_type(), {c}, expected.save_mean.rounded[k], mean,
                "exact-fill input");
      } else {
        j.element("save_mean", p.stats_type(), {c}, expected.save_mean.rounded[k],
                  expected.save_mean.residual[k], mean, model.save_mean(t));
      }
      j.element("save_invstd", p.stats_type(), {c}, expected.save_invstd.rounded[k],
                expected.save_invstd.residual[k], got.save_invstd.get(c), model.save_invstd(t));
      // Constant by its values, not by t.var == 0: the exact variance of tiny values
      // (f64 data near 1e-300) rounds to 0 in the double quantities.
      exact_constant[k] = t.var == 0 && constant_channel(p, x, c) && p.eps() > 0 &&
                          expected.save_mean.residual[k] == 0 &&
                          mean == expected.save_mean.rounded[k];
    }
  }
  for (std::int64_t i = 0; i < p.element_count(); ++i) {
    const std::int64_t c = p.channel_of(i);
    if (ill_posed.count(c) != 0) continue;
    const auto k = static_cast<std::size_t>(i);
    const double y = got.y.get(i);
    if (batch && exact_constant[static_cast<std::size_t>(c)]) {
      j.exact("y", p.data_type(), element_at(p, i), expected.y.rounded[k], y,
              "constant channel with an exact mean gives y == beta");
      continue;
    }
    j.element("y", p.data_type(), element_at(p, i), expected.y.rounded[k], expected.y.residual[k],
              y, model.y(terms[static_cast<std::size_t>(c)], x.get(i), expected.y.rounded[k]),
              loose[static_cast<std::size_t>(c)]);
  }
  if (p.track_running_stats()) {
    const bool training = p.mode() == mode::training;
    const double f = p.momentum() ? *p.momentum()
                                  : 1.0 / static_cast<double>(state_before.num_batches_tracked + 1);
    for (std::int64_t c = 0; c < p.channels(); ++c) {
      const auto k = static_cast<std::size_t>(c);
      const auto& t = terms[k];
      const double old_mean = state_before.running_mean.get(c);
      const double old_var = state_before.running_var.get(c);
      if (!training || ill_posed.count(c) != 0) {
        // Eval reads the running statistics; an ill-posed channel's are judged
        // against the reference anyway when finite (its mean is well defined).
        if (!training) {
          j.exact("running_mean", p.stats_type(), {c}, old_mean, state_after.running_mean.get(c),
                  "eval leaves the running statistics alone");
          j.exact("running_var", p.stats_type(), {c}, old_var, state_after.running_var.get(c),
                  "eval leaves the running statistics alone");
        }
        continue;
      }
      if (m == 0) {
        // An empty batch: the running statistics are kept (pytorch, onnx) or NaN
        // (keras, tf-fused, flax), by rule (docs/semantics.md#profiles).
        const bool kept = p.profile() == profile::pytorch || p.profile() == profile::onnx;
        const char* why = kept ? "an empty batch leaves the running statistics alone"
                               : "an empty batch makes the running statistics NaN";
        j.exact("running_mean", p.stats_type(), {c}, expected.running_mean.rounded[k],
                state_after.running_mean.get(c), why);
        j.exact("running_var", p.stats_type(), {c}, expected.running_var.rounded[k],
                state_after.running_var.get(c), why);
        continue;
      }
      j.element("running_mean", p.stats_type(), {c}, expected.running_mean.rounded[k],
                expected.running_mean.residual[k], state_after.running_mean.get(c),
                model.running_mean(t, old_mean, f, expected.running_mean.rounded[k]));
      j.element("running_var", p.stats_type(), {c}, expected.running_var.rounded[k],
                expected.running_var.residual[k], state_after.running_var.get(c),
                model.running_var(t, old_var, f, expected.running_var.rounded[k]));
    }
    if (state_after.num_batches_tracked != expected.num_batches_tracked) {
      j.fail("num_batches_tracked: expected " + std::to_string(expected.num_batches_tracked) +
             ", got " + std::to_string(state_after.num_batches_tracked));
    }
  }
  const bool weak = mostly_zero(expected.y.rounded, expected.y.residual);
  return j.finish(clean_verdict(j, expected.ill_posed_channels, weak, "y"));
}

comparison compare_backward(const problem& p, const tensor& x, const tensor& dy,
                            const module_state& state, const reference::backward_result& expected,
                            const std::vector<reference::channel_quantities>& q,
                            const backward_outputs& got, const options& opt) {
  judge j(p, opt.judged_at);
  report_guards(j, got.guards);
  std::optional<comparison> early;
  if (!statuses_agree(j, expected.status, got.status, state, state, early)) {
    if (early) early->reference_needs_more_bits = expected.needs_more_bits;
    return early ? *early : j.finish(verdict::pass);
  }
  const budget_model model(p, opt.judged_at);
  const std::vector<channel_terms> terms = all_terms(model, p, q, state);
  const std::set<std::int64_t> ill_posed(expected.ill_posed_channels.begin(),
                                         expected.ill_posed_channels.end());
  const std::vector<bool> loose = nonfinite_channels(p, state, &dy);
  for (std::int64_t i = 0; i < p.element_count(); ++i) {
    const std::int64_t c = p.channel_of(i);
    if (ill_posed.count(c) != 0) continue;
    const auto k = static_cast<std::size_t>(i);
    j.element(
        "dx", p.data_type(), element_at(p, i), expected.dx.rounded[k], expected.dx.residual[k],
        got.dx.get(i),
        model.dx(terms[static_cast<std::size_t>(c)], x.get(i), dy.get(i), expected.dx.rounded[k]),
        loose[static_cast<std::size_t>(c)]);
  }
  if (p.affine()) {
    for (std::int64_t c = 0; c < p.channels(); ++c) {
      if (ill_posed.count(c) != 0) continue;
      const auto k = static_cast<std::size_t>(c);
      j.element("dgamma", p.stats_type(), {c}, expected.dgamma.rounded[k],
                expected.dgamma.residual[k], got.dgamma.get(c), model.dgamma(terms[k]), loose[k]);
      j.element("dbeta", p.stats_type(), {c}, expected.dbeta.rounded[k], expected.dbeta.residual[k],
                got.dbeta.get(c), model.dbeta(terms[k]), loose[k]);
    }
  }
  const bool weak = mostly_zero(expected.dx.rounded, expected.dx.residual);
  return j.finish(clean_verdict(j, expected.ill_posed_channels, weak, "dx"));
}

comparison run_forward(const kernel& k, const problem& p, const tensor& x,
                       const module_state& state, const options& opt, module_state* state_after) {
  if (const std::string why = k.unsupported_reason(p, false); !why.empty()) {
    comparison c = judge(p, opt.judged_at).finish(verdict::unsupported);
    c.reason = "not called: " + why;
    return c;
  }
  const auto beat = [&] {
    if (opt.heartbeat) opt.heartbeat();
  };
  module_state after = state;
  const forward_outputs got = k.forward(p, x, after);
  beat();
  const reference::options ref{opt.reference_bits};
  const reference::call_inputs in = reference::call_inputs::from(x, tensor(), state);
  const reference::forward_result expected = reference::forward(p, in, ref);
  beat();
  const std::vector<reference::channel_quantities> q =
      expected.status.ok() ? reference::quantities(p, in, ref)
                           : std::vector<reference::channel_quantities>{};
  beat();
  comparison c = compare_forward(p, x, state, expected, q, got, after, opt);
  beat();
  if (opt.check_determinism && c.result != verdict::unsupported) {
    module_state again_state = state;
    const forward_outputs again = k.forward(p, x, again_state);
    std::string diff;
    if (again.status.code != got.status.code) diff = "the status differs between two runs";
    if (diff.empty()) diff = first_difference("y", got.y, again.y);
    if (diff.empty()) diff = first_difference("save_mean", got.save_mean, again.save_mean);
    if (diff.empty()) diff = first_difference("save_invstd", got.save_invstd, again.save_invstd);
    if (diff.empty()) {
      diff = first_difference("running_mean", after.running_mean, again_state.running_mean);
    }
    if (diff.empty()) {
      diff = first_difference("running_var", after.running_var, again_state.running_var);
    }
    if (!diff.empty()) add_nondeterminism(c, diff);
  }
  if (state_after != nullptr) *state_after = after;
  return c;
}

std::pair<tensor, tensor> reference_saved_statistics(const problem& p, const tensor& x,
                                                     const module_state& state,
                                                     int reference_bits) {
  tensor save_mean(p.stats_type(), 0), save_invstd(p.stats_type(), 0);
  if (p.uses_batch_statistics()) {
    const reference::options ref{reference_bits};
    const auto forward =
        reference::forward_statistics(p, reference::call_inputs::from(x, tensor(), state), ref);
    const std::vector<double> nan(static_cast<std::size_t>(p.channels()), std::nan(""));
    const bool have = forward.status.ok() && p.reduction_size() > 0;
    save_mean = stats_tensor(p, have ? forward.save_mean.rounded : nan);
    save_invstd = stats_tensor(p, have ? forward.save_invstd.rounded : nan);
  }
  return {std::move(save_mean), std::move(save_invstd)};
}

comparison run_backward(const kernel& k, const problem& p, const tensor& x, const tensor& dy,
                        const module_state& state, const options& opt) {
  if (const std::string why = k.unsupported_reason(p, true); !why.empty()) {
    comparison c = judge(p, opt.judged_at).finish(verdict::unsupported);
    c.reason = "not called: " + why;
    return c;
  }
  const reference::options ref{opt.reference_bits};
  const reference::call_inputs in = reference::call_inputs::from(x, dy, state);
  const auto [save_mean, save_invstd] = reference_saved_statistics(p, x, state, opt.reference_bits);
  const auto beat = [&] {
    if (opt.heartbeat) opt.heartbeat();
  };
  beat();
  const backward_outputs got = k.backward(p, x, dy, state, save_mean, save_invstd);
  beat();
  const reference::backward_result expected = reference::backward(p, in, ref);
  beat();
  const std::vector<reference::channel_quantities> q =
      expected.status.ok() ? reference::quantities(p, in, ref)
                           : std::vector<reference::channel_quantities>{};
  beat();
  comparison c = compare_backward(p, x, dy, state, expected, q, got, opt);
  beat();
  if (opt.check_determinism && c.result != verdict::unsupported) {
    const backward_outputs again = k.backward(p, x, dy, state, save_mean, save_invstd);
    std::string diff;
    if (again.status.code != got.status.code) diff = "the status differs between two runs";
    if (diff.empty()) diff = first_difference("dx", got.dx, again.dx);
    if (diff.empty()) diff = first_difference("dgamma", got.dgamma, again.dgamma);
    if (diff.empty()) diff = first_difference("dbeta", got.dbeta, again.dbeta);
    if (!diff.empty()) add_nondeterminism(c, diff);
  }
  return c;
}

}  // namespace bnconform::check
