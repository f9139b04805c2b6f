// Sequences of calls sharing module state: momentum=None as the arithmetic mean,
// and eval calls between training steps.
#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>
#include <vector>

#include "check/budget.hpp"
#include "check/compare.hpp"
#include "property_checks.hpp"

namespace bnconform::properties::detail {

property_result momentum_none_mean(const kernel& k, const generated_case& c,
                                   const property_options& opt) {
  const problem& p = c.p;
  property_result r;
  if (unsupported(k, p, false, r)) return r;
  if (p.mode() != mode::training || !p.track_running_stats() || p.momentum() ||
      p.reduction_size() < 2) {
    return make(outcome::not_applicable, "needs training, tracking, momentum=None and m >= 2");
  }
  const std::uint64_t batches = sequence_length(c, 20);
  module_state state =
      make_inputs(c).state;  // arbitrary running values: the first batch replaces them
  state.num_batches_tracked = 0;
  const check::budget_model model(p, opt.level);
  const auto m = static_cast<double>(p.reduction_size());
  const std::size_t channels = static_cast<std::size_t>(p.channels());
  std::vector<double> exact_mean(channels, 0), exact_var(channels, 0);
  std::vector<double> tol_mean(channels, 0), tol_var(channels, 0);
  agreement a;
  for (std::uint64_t b = 0; b < batches; ++b) {
    const tensor x = make_inputs(c, b).x;
    if (!all_finite(x)) return make(outcome::not_applicable, "non-finite values");
    const qvec q = estimate(p, x, tensor(), state);
    const auto t = terms_of(model, q, state);
    const double f = 1.0 / static_cast<double>(b + 1);
    for (std::size_t ch = 0; ch < channels; ++ch) {
      if (detail::ill_posed(p, q[ch])) return make(outcome::not_applicable, "ill-posed");
      // The exact running values: arithmetic means of the batches so far. A step
      // adds its budget (given the exact old value) to the error carried in, which
      // (1 - f) <= 1 does not amplify.
      const double old_mean = b == 0 ? 0.0 : exact_mean[ch], old_var = b == 0 ? 0.0 : exact_var[ch];
      exact_mean[ch] += (q[ch].mean - exact_mean[ch]) * f;
      exact_var[ch] += (q[ch].var * m / (m - 1) - exact_var[ch]) * f;
      tol_mean[ch] += model.running_mean(t[ch], old_mean, f, exact_mean[ch]) +
                      0x1p-50 * std::abs(exact_mean[ch]);
      tol_var[ch] +=
          model.running_var(t[ch], old_var, f, exact_var[ch]) + 0x1p-50 * std::abs(exact_var[ch]);
    }
    const forward_outputs out = k.forward(p, x, state);
    if (!clean(a, out.guards)) return pass_with(a);
    if (!out.status.ok()) return rejected(a, out.status);
  }
  const std::string after = " after " + std::to_string(batches) + " batches";
  for (std::size_t ch = 0; ch < channels; ++ch) {
    const auto ci = static_cast<std::int64_t>(ch);
    a.within("running_mean[" + std::to_string(ch) + "] vs the mean of the batch means" + after,
             state.running_mean.get(ci), exact_mean[ch], tol_mean[ch], p.stats_type());
    a.within(
        "running_var[" + std::to_string(ch) + "] vs the mean of the unbiased variances" + after,
        state.running_var.get(ci), exact_var[ch], tol_var[ch], p.stats_type());
  }
  if (state.num_batches_tracked != static_cast<std::int64_t>(batches)) {
    a.fail("num_batches_tracked: " + std::to_string(state.num_batches_tracked) + after);
  }
  return pass_with(a);
}

property_result eval_between_steps(const kernel& k, const generated_case& c,
                                   const property_options& opt) {
  const problem& p = c.p;
  const problem eval = p.with_mode(mode::eval);
  property_result r;
  if (unsupported(k, p, false, r) || unsupported(k, eval, false, r)) return r;
  if (p.mode() != mode::training || !p.track_running_stats() || p.reduction_size() < 2) {
    return make(outcome::not_applicable, "needs training with running statistics and m >= 2");
  }
  const std::uint64_t steps = sequence_length(c, 6);
  module_state with_eval = make_inputs(c).state, plain = with_eval;
  with_eval.num_batches_tracked = plain.num_batches_tracked = counter_of(c);
  agreement a;
  for (std::uint64_t b = 0; b < steps; ++b) {
    const case_inputs in = make_inputs(c, b);
    const forward_outputs t1 = k.forward(p, in.x, with_eval);
    const forward_outputs t2 = k.forward(p, in.x, plain);
    if (!both_clean(a, t1, t2) || !same_status(a, t1.status, t2.status)) {
      return rejected(a, t1.status);
    }
    const case_inputs probe = make_inputs(c, 1000 + b);
    const module_state before = with_eval;
    if (b + 1 == steps) {
      // The last eval call is also judged against the reference: it must use the
      // running statistics the training steps left.
      check::options o;
      o.judged_at = opt.level;
      o.reference_bits = opt.reference_bits;
      const check::comparison cmp = check::run_forward(k, eval, probe.x, with_eval, o);
      if (!cmp.passed() && cmp.result != check::verdict::mistrusted) {
        a.fail("eval after step " + std::to_string(b) + ": " + cmp.describe());
      }
    }
    const forward_outputs e = k.forward(eval, probe.x, with_eval);
    if (!clean(a, e.guards)) return pass_with(a);
    if (!e.status.ok()) return rejected(a, e.status);
    if (!same_module_state(before, with_eval)) {
      a.fail("the eval call after training step " + std::to_string(b) +
             " changed the module state");
      return pass_with(a);
    }
  }
  if (!same_module_state(with_eval, plain)) {
    a.fail("after " + std::to_string(steps) +
           " training steps the state differs with and without eval calls between them");
  }
  return pass_with(a);
}

}  // namespace bnconform::properties::detail
