// Helpers the property checks share: tolerances from budgets, paired calls,
// status and guard handling, reshaping tensors.
#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>
#include <vector>

#include "check/budget.hpp"
#include "check/compare.hpp"
#include "property_checks.hpp"

namespace bnconform::properties::detail {
property_result pass_with(const agreement& a) {
  property_result r;
  r.worst_ratio = a.worst_ratio();
  if (!a.ok()) {
    r.result = outcome::fail;
    r.detail = a.detail();
  }
  return r;
}

property_result make(outcome o, std::string detail) {
  property_result r;
  r.result = o;
  r.detail = std::move(detail);
  return r;
}

std::string index_text(const problem& p, std::int64_t i) {
  const std::vector<std::int64_t> idx = check::full_index(p, i);
  std::string s = "(";
  for (std::size_t k = 0; k < idx.size(); ++k) s += (k ? "," : "") + std::to_string(idx[k]);
  return s + ")";
}

double parameter(const tensor& t, std::int64_t c, double absent) {
  return t.size() == 0 ? absent : t.get(c);
}

std::vector<check::channel_terms> terms_of(const check::budget_model& model, const qvec& q,
                                           const module_state& s) {
  std::vector<check::channel_terms> t;
  for (std::size_t c = 0; c < q.size(); ++c) {
    const auto ci = static_cast<std::int64_t>(c);
    t.push_back(model.terms(q[c], parameter(s.gamma, ci, 1.0), parameter(s.beta, ci, 0.0)));
  }
  return t;
}

bool all_finite(const tensor& t) {
  for (std::int64_t i = 0; i < t.size(); ++i) {
    if (!std::isfinite(t.get(i))) return false;
  }
  return true;
}

// The same logical tensor stored in problem `to`'s layout.
tensor relayout(const problem& from, const problem& to, const tensor& t) {
  tensor out(t.type(), t.size());
  for (std::int64_t n = 0; n < from.batch(); ++n)
    for (std::int64_t c = 0; c < from.channels(); ++c)
      for (std::int64_t s = 0; s < from.spatial_size(); ++s)
        out.set(to.offset(n, c, s), t.get(from.offset(n, c, s)));
  return out;
}

// Batch entries [first, first + count) of a data tensor as a tensor of problem `part`.
tensor batch_slice(const problem& whole, const problem& part, const tensor& t, std::int64_t first) {
  tensor out(t.type(), part.element_count());
  for (std::int64_t n = 0; n < part.batch(); ++n)
    for (std::int64_t c = 0; c < part.channels(); ++c)
      for (std::int64_t s = 0; s < part.spatial_size(); ++s)
        out.set(part.offset(n, c, s), t.get(whole.offset(first + n, c, s)));
  return out;
}

std::string status_text(const call_status& s) {
  return std::string(bnconform::name_of(s.code)) +
         (s.message.empty() ? "" : " (" + s.message + ")");
}

// What the harness guards caught (out-of-bounds writes, unwritten outputs, changed
// inputs, a changed floating-point environment) fails any property.
bool clean(agreement& a, const std::vector<guard_finding>& guards) {
  for (const guard_finding& g : guards) {
    a.fail(describe(g));
  }
  return guards.empty();
}

bool both_clean(agreement& a, const forward_outputs& x, const forward_outputs& y) {
  const bool one = clean(a, x.guards);
  return clean(a, y.guards) && one;
}

// Both calls must have the same status; true when both succeeded. Whether a
// status is right is the reference properties' question; a pair the kernel rejects
// alike cannot exercise a relation (see `rejected`).
bool same_status(agreement& a, const call_status& x, const call_status& y) {
  if (x.code != y.code) {
    a.fail("status differs: " + status_text(x) + " vs " + status_text(y));
    return false;
  }
  return x.ok();
}

// The outcome of a property whose calls did not all succeed: a failure already
// recorded, or a case the relation cannot judge.
property_result rejected(const agreement& a, const call_status& s) {
  if (!a.ok()) return pass_with(a);
  return make(outcome::not_applicable, "the kernel rejected the call alike: " + status_text(s));
}

bool unsupported(const kernel& k, const problem& p, bool backward, property_result& out) {
  const std::string why = k.unsupported_reason(p, backward);
  if (why.empty()) return false;
  out = make(outcome::unsupported, why);
  return true;
}

// A small counter from the seed (and rarely one near 2^24, where a float counter
// stops counting), so that momentum=None is exercised with a history.
std::int64_t counter_of(const generated_case& c) {
  const std::uint64_t pick = (c.seed >> 32) % 16;
  return pick == 0 ? (std::int64_t{1} << 24) + static_cast<std::int64_t>(c.seed % 3)
                   : static_cast<std::int64_t>(pick % 4);
}

forward_call call_forward(const kernel& k, const problem& p, const tensor& x, module_state s) {
  forward_call r;
  r.out = k.forward(p, x, s);
  r.state = std::move(s);
  return r;
}

// Statistics outputs of two calls on the same exact data, each within its budget of
// the same exact value: they agree within the sum of the budgets.
void compare_statistics(agreement& a, const problem& p, const check::budget_model& model,
                        const std::vector<check::channel_terms>& t, const qvec& q,
                        const forward_call& one, const forward_call& two,
                        const module_state& before) {
  const dtype st = p.stats_type();
  for (std::int64_t c = 0; c < p.channels(); ++c) {
    const auto k = static_cast<std::size_t>(c);
    if (detail::ill_posed(p, q[k])) continue;
    const std::string ch = "[" + std::to_string(c) + "]";
    if (p.uses_batch_statistics() && p.reduction_size() > 0) {
      a.within("save_mean" + ch, one.out.save_mean.get(c), two.out.save_mean.get(c),
               2 * model.save_mean(t[k]), st);
      a.within("save_invstd" + ch, one.out.save_invstd.get(c), two.out.save_invstd.get(c),
               2 * model.save_invstd(t[k]), st);
    }
    if (p.track_running_stats() && p.mode() == mode::training) {
      const double f =
          p.momentum() ? *p.momentum() : 1.0 / static_cast<double>(before.num_batches_tracked + 1);
      const double rm = one.state.running_mean.get(c), rv = one.state.running_var.get(c);
      a.within("running_mean" + ch, rm, two.state.running_mean.get(c),
               2 * model.running_mean(t[k], before.running_mean.get(c), f, rm), st);
      a.within("running_var" + ch, rv, two.state.running_var.get(c),
               2 * model.running_var(t[k], before.running_var.get(c), f, rv), st);
    }
  }
  if (one.state.num_batches_tracked != two.state.num_batches_tracked) {
    a.fail("num_batches_tracked differs: " + std::to_string(one.state.num_batches_tracked) +
           " vs " + std::to_string(two.state.num_batches_tracked));
  }
}

// ---- power-of-two scaling: exact ---------------------------------------------------

bool exact_in(dtype t, double v) {
  tensor probe(t, 1);
  probe.set(0, v);
  const binary_format f = format_of(t);
  // Subnormal results are exact or not depending on the bits; demand normal numbers.
  if (std::isnan(v)) return true;
  return probe.get(0) == v && (v == 0 || !std::isfinite(v) ||
                               std::abs(v) >= std::ldexp(1.0, f.min_exponent + f.precision));
}

// ---- sequences ---------------------------------------------------------------------

// Batches of a sequence: 2 to 20, from the seed.
std::uint64_t sequence_length(const generated_case& c, std::uint64_t most) {
  return 2 + (c.seed >> 40) % (most - 1);
}

bool same_module_state(const module_state& x, const module_state& y) {
  return x.running_mean.bitwise_equal(y.running_mean) &&
         x.running_var.bitwise_equal(y.running_var) &&
         x.num_batches_tracked == y.num_batches_tracked;
}

}  // namespace bnconform::properties::detail
