// The relations between profiles (docs/semantics.md, "Relations between profiles")
// as a property of a kernel that declares two or more profiles: the same training
// call in each declared profile, with momenta that name the same factor.
#include <array>
#include <cmath>
#include <string>
#include <vector>

#include "check/budget.hpp"
#include "property_checks.hpp"

namespace bnconform::properties::detail {

namespace {

constexpr std::array<profile, 5> every_profile{profile::pytorch, profile::onnx, profile::keras,
                                               profile::tf_fused, profile::flax};

// pytorch and tf-fused: momentum is the weight of the batch value; onnx, keras and
// flax: of the old value.
bool momentum_weighs_batch(profile pf) { return pf == profile::pytorch || pf == profile::tf_fused; }
// pytorch and tf-fused store the unbiased variance (m / (m - 1) for m >= 2).
bool stores_unbiased(profile pf) { return pf == profile::pytorch || pf == profile::tf_fused; }

std::string name(profile pf) { return std::string(name_of(pf)); }

std::string momentum_rule(profile pf) {
  return name(pf) + "'s momentum is the weight of the " +
         (momentum_weighs_batch(pf) ? "batch value" : "old value");
}

// The exact running value of a profile's update with batch weight f, the old value
// and the batch's statistic (already multiplied by the variance factor).
double update(double f, double old, double batch) { return (1 - f) * old + f * batch; }

// Which convention a running value that misses its profile's follows: the other
// variance, the other momentum meaning, or both; empty when none of them fits.
std::string diagnose(profile pf, bool variance, double got, double old, double f, double stat,
                     double factor, double other_factor, double tolerance) {
  const auto near = [&](double v) { return std::abs(got - v) <= tolerance; };
  const std::string what = variance ? "running variance: " : "running mean: ";
  if (variance && near(update(f, old, other_factor * stat))) {
    return what + name(pf) + " keeps the " + (stores_unbiased(pf) ? "unbiased" : "biased") +
           " variance, the kernel returned the " + (stores_unbiased(pf) ? "biased" : "unbiased") +
           " one";
  }
  if (near(update(1 - f, old, factor * stat))) {
    return what + momentum_rule(pf) + ", the kernel used it as the weight of the " +
           (momentum_weighs_batch(pf) ? "old value" : "batch value");
  }
  if (variance && near(update(1 - f, old, other_factor * stat))) {
    return what + momentum_rule(pf) + " and " + name(pf) + " keeps the " +
           (stores_unbiased(pf) ? "unbiased" : "biased") +
           " variance; the kernel swapped both conventions";
  }
  return {};
}

}  // namespace

property_result profile_relations(const kernel& k, const generated_case& c,
                                  const property_options& opt) {
  const problem& p = c.p;
  property_result r;
  if (unsupported(k, p, false, r)) return r;
  if (p.mode() != mode::training || !p.track_running_stats() || p.reduction_size() < 2) {
    return make(outcome::not_applicable, "needs training with running statistics and m >= 2");
  }
  const case_inputs in = make_inputs(c);
  if (!all_finite(in.x) || !all_finite(in.state.running_mean) ||
      !all_finite(in.state.running_var)) {
    return make(outcome::not_applicable, "non-finite values");
  }
  // The weight of the batch value, the same in every profile: 1 - f is exact and
  // f != 1/2, so that a swapped momentum meaning shows.
  random_source rng(c.seed ^ 0x50524f46ull);
  const std::array<double, 3> weights{0.25, 0.75, 1.0};
  const double f = weights[static_cast<std::size_t>(rng.below(3))];
  const auto in_profile = [&](profile pf) {
    return with(p, [&](problem::fields& fl) {
      fl.profile = pf;
      fl.momentum = momentum_weighs_batch(pf) ? f : 1 - f;
    });
  };
  const double m = static_cast<double>(p.reduction_size());
  const problem pa = in_profile(p.profile());
  const forward_call a = call_forward(k, pa, in.x, in.state);
  agreement ag;
  if (!clean(ag, a.out.guards)) return pass_with(ag);
  if (!a.out.status.ok()) {
    ag.fail("status: the " + name(pa.profile()) + " call " + pa.to_string() + " returned " +
            status_text(a.out.status));
    return pass_with(ag);
  }
  const check::budget_model model_a(pa, opt.level);
  const qvec q = estimate(pa, in.x, tensor(), in.state);
  const auto t = terms_of(model_a, q, in.state);
  const dtype st = p.stats_type();

  // Relations 5 to 9: each profile's running statistics are its documented update
  // of the same batch statistics with the same factor f.
  const auto check_running = [&](const problem& pp, const forward_call& call) {
    const check::budget_model model(pp, opt.level);
    const profile pf = pp.profile();
    const double factor = stores_unbiased(pf) ? m / (m - 1) : 1.0;
    const double other = stores_unbiased(pf) ? 1.0 : m / (m - 1);
    for (std::int64_t ch = 0; ch < p.channels(); ++ch) {
      const auto i = static_cast<std::size_t>(ch);
      if (ill_posed(pp, q[i])) continue;
      const std::string where = "[" + std::to_string(ch) + "]";
      for (const bool variance : {false, true}) {
        const double old = variance ? in.state.running_var.get(ch) : in.state.running_mean.get(ch);
        const double stat = variance ? q[i].var : q[i].mean;
        const double fac = variance ? factor : 1.0;
        const double exact = update(f, old, fac * stat);
        const double got =
            variance ? call.state.running_var.get(ch) : call.state.running_mean.get(ch);
        const double tolerance = (variance ? model.running_var(t[i], old, *pp.momentum(), exact)
                                           : model.running_mean(t[i], old, *pp.momentum(), exact)) +
                                 0x1p-50 * std::abs(exact);
        if (std::abs(got - exact) <= tolerance) continue;
        const std::string why =
            diagnose(pf, variance, got, old, f, stat, fac, variance ? other : 1.0, tolerance);
        if (!why.empty()) {
          ag.fail(why + " (" + pp.to_string() + ", channel " + std::to_string(ch) + ")");
        }
        ag.within(std::string(variance ? "running_var" : "running_mean") + where + " in " +
                      name(pf) + " vs its update with batch weight " + std::to_string(f),
                  got, exact, tolerance, st);
      }
    }
  };
  check_running(pa, a);

  for (const profile pf : every_profile) {
    if (pf == p.profile()) continue;
    const problem pb = in_profile(pf);
    if (!k.unsupported_reason(pb, false).empty()) continue;
    const forward_call b = call_forward(k, pb, in.x, in.state);
    if (!clean(ag, b.out.guards)) return pass_with(ag);
    if (!b.out.status.ok()) {
      ag.fail("status: the same call succeeds in " + name(pa.profile()) +
              " and in every profile (m >= 2), but the " + name(pf) + " call returned " +
              status_text(b.out.status));
      continue;
    }
    // Relations 1 and 4: the same normalization (1 / sqrt(var + eps), eps as given,
    // in every profile) and the same counter.
    agreement normalization;
    for (std::int64_t n = 0; n < p.batch(); ++n)
      for (std::int64_t ch = 0; ch < p.channels(); ++ch) {
        const auto i = static_cast<std::size_t>(ch);
        if (ill_posed(p, q[i])) continue;
        for (std::int64_t s = 0; s < p.spatial_size(); ++s) {
          const std::int64_t e = p.offset(n, ch, s);
          const double y = a.out.y.get(e);
          normalization.within("y" + index_text(p, e), y, b.out.y.get(e),
                               2 * model_a.y(t[i], in.x.get(e), y), p.data_type());
        }
        normalization.within("save_mean[" + std::to_string(ch) + "]", a.out.save_mean.get(ch),
                             b.out.save_mean.get(ch), 2 * model_a.save_mean(t[i]), st);
        normalization.within("save_invstd[" + std::to_string(ch) + "]", a.out.save_invstd.get(ch),
                             b.out.save_invstd.get(ch), 2 * model_a.save_invstd(t[i]), st);
      }
    if (!normalization.ok()) {
      ag.fail(
          "normalization: every profile normalizes with 1 / sqrt(var + eps), eps as given "
          "(no floor), so y and the saved statistics agree; the kernel's " +
          name(pf) + " call differs from its " + name(pa.profile()) +
          " call: " + normalization.detail());
    }
    if (a.state.num_batches_tracked != b.state.num_batches_tracked) {
      ag.fail("num_batches_tracked: " + std::to_string(a.state.num_batches_tracked) + " in " +
              name(pa.profile()) + ", " + std::to_string(b.state.num_batches_tracked) + " in " +
              name(pf) + " (the counter is the same in every profile)");
    }
    check_running(pb, b);
  }

  // Relation 11: momentum=None exists only in pytorch.
  if (p.profile() == profile::pytorch) {
    for (const profile pf : every_profile) {
      if (pf == profile::pytorch) continue;
      const problem pn = with(p, [&](problem::fields& fl) {
        fl.profile = pf;
        fl.momentum = std::nullopt;
      });
      if ((k.capabilities().profiles & BNC_BIT(static_cast<int>(pf))) == 0) continue;
      const forward_call none = call_forward(k, pn, in.x, in.state);
      if (!clean(ag, none.out.guards)) return pass_with(ag);
      if (none.out.status.code != BNC_STATUS_UNSUPPORTED) {
        ag.fail("momentum=None: only pytorch has a cumulative average; the kernel's " + name(pf) +
                " call returned " + status_text(none.out.status) + " instead of UNSUPPORTED");
      } else if (!same_module_state(none.state, in.state)) {
        ag.fail("momentum=None: the " + name(pf) + " call was refused but changed the state");
      }
    }
  }
  return pass_with(ag);
}

}  // namespace bnconform::properties::detail
