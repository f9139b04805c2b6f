#include "properties.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <numeric>

#include "check/budget.hpp"
#include "check/compare.hpp"
#include "tolerance.hpp"

namespace bnconform::properties {

namespace {

using detail::agreement;
using detail::channel_of;
using detail::estimate;
using qvec = std::vector<reference::channel_quantities>;

constexpr std::array<property_id, 11> ids{property_id::forward_matches_reference,
                                          property_id::backward_matches_reference,
                                          property_id::batch_permutation,
                                          property_id::power_of_two_scaling,
                                          property_id::shift_invariance,
                                          property_id::layout_invariance,
                                          property_id::shard_merge,
                                          property_id::eval_is_affine,
                                          property_id::momentum_none_mean,
                                          property_id::eval_between_steps,
                                          property_id::gradient_identities};

// Value kinds whose values are finite and whose squares are far from overflow and
// underflow: the metamorphic relations that rescale or combine values need them.
const std::vector<value_kind> tame_kinds{
    value_kind::normal,       value_kind::uniform,           value_kind::exact_fill,
    value_kind::large_offset, value_kind::constant_channels, value_kind::heavy_tail};

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

// A problem like p with other fields.
problem with(const problem& p, auto change) {
  problem::fields f = p.spec();
  change(f);
  return problem(f);
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
// inputs) fails any property.
bool clean(agreement& a, const std::vector<guard_finding>& guards) {
  for (const guard_finding& g : guards) {
    a.fail("guard: " + std::string(bnconform::name_of(g.kind)) + " in " + g.buffer + ": " +
           g.detail);
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

// ---- agreement with the reference ------------------------------------------------

property_result from_comparison(const check::comparison& c) {
  property_result r;
  r.worst_ratio = c.worst_ratio;
  switch (c.result) {
    case check::verdict::pass:
    case check::verdict::ill_posed: return r;
    case check::verdict::unsupported: return make(outcome::unsupported, c.reason);
    case check::verdict::mistrusted: return make(outcome::not_applicable, c.reason);
    default: break;
  }
  r.result = outcome::fail;
  r.detail = c.describe();
  return r;
}

check::options compare_options(const generated_case& c, const property_options& opt) {
  check::options o;
  o.judged_at = opt.level;
  o.reference_bits = opt.reference_bits;
  o.exact_statistics = opt.exact_fill_statistics && c.kind == value_kind::exact_fill;
  return o;
}

// A small counter from the seed (and rarely one near 2^24, where a float counter
// stops counting), so that momentum=None is exercised with a history.
std::int64_t counter_of(const generated_case& c) {
  const std::uint64_t pick = (c.seed >> 32) % 16;
  return pick == 0 ? (std::int64_t{1} << 24) + static_cast<std::int64_t>(c.seed % 3)
                   : static_cast<std::int64_t>(pick % 4);
}

// The reference vouches for inputs within about `precision_bits` binary orders of
// magnitude; wider ones (near-overflow f64 next to eps, say) are asked again at a
// higher precision rather than left unjudged.
template <class Run>
check::comparison with_enough_precision(const generated_case& c, const property_options& opt,
                                        Run run) {
  check::options o = compare_options(c, opt);
  check::comparison cmp = run(o);
  for (const int bits : {512, 1024}) {
    if (cmp.result != check::verdict::mistrusted || bits <= o.reference_bits ||
        cmp.reason.find("higher precision") == std::string::npos) {
      break;
    }
    o.reference_bits = bits;
    cmp = run(o);
  }
  return cmp;
}

property_result forward_matches_reference(const kernel& k, const generated_case& c,
                                          const property_options& opt) {
  case_inputs in = make_inputs(c);
  in.state.num_batches_tracked = counter_of(c);
  return from_comparison(with_enough_precision(c, opt, [&](const check::options& o) {
    return check::run_forward(k, c.p, in.x, in.state, o);
  }));
}

property_result backward_matches_reference(const kernel& k, const generated_case& c,
                                           const property_options& opt) {
  const case_inputs in = make_inputs(c);
  return from_comparison(with_enough_precision(c, opt, [&](const check::options& o) {
    return check::run_backward(k, c.p, in.x, in.dy, in.state, o);
  }));
}

// ---- forward comparisons between two calls ---------------------------------------

struct forward_call {
  forward_outputs out;
  module_state state;  // after the call
};

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

property_result batch_permutation(const kernel& k, const generated_case& c,
                                  const property_options& opt) {
  const problem& p = c.p;
  property_result r;
  if (unsupported(k, p, false, r)) return r;
  if (p.batch() < 2) return make(outcome::not_applicable, "N < 2");
  const case_inputs in = make_inputs(c);
  random_source rng(c.seed ^ 0x5045524dull);
  std::vector<std::int64_t> order(static_cast<std::size_t>(p.batch()));
  std::iota(order.begin(), order.end(), 0);
  for (std::size_t i = order.size(); i > 1; --i) {
    std::swap(order[i - 1],
              order[static_cast<std::size_t>(rng.below(static_cast<std::int64_t>(i)))]);
  }
  tensor xp(p.data_type(), p.element_count());
  for (std::int64_t n = 0; n < p.batch(); ++n)
    for (std::int64_t ch = 0; ch < p.channels(); ++ch)
      for (std::int64_t s = 0; s < p.spatial_size(); ++s)
        xp.set(p.offset(n, ch, s), in.x.get(p.offset(order[static_cast<std::size_t>(n)], ch, s)));
  const forward_call one = call_forward(k, p, in.x, in.state);
  const forward_call two = call_forward(k, p, xp, in.state);
  agreement a;
  if (!both_clean(a, one.out, two.out) || !same_status(a, one.out.status, two.out.status)) {
    return rejected(a, one.out.status);
  }
  const check::budget_model model(p, opt.level);
  const qvec q = estimate(p, in.x, tensor(), in.state);
  const auto t = terms_of(model, q, in.state);
  for (std::int64_t n = 0; n < p.batch(); ++n)
    for (std::int64_t ch = 0; ch < p.channels(); ++ch) {
      if (detail::ill_posed(p, q[static_cast<std::size_t>(ch)])) continue;
      for (std::int64_t s = 0; s < p.spatial_size(); ++s) {
        const std::int64_t i = p.offset(order[static_cast<std::size_t>(n)], ch, s);
        const std::int64_t j = p.offset(n, ch, s);
        const double y = one.out.y.get(i);
        a.within("y" + index_text(p, i) + " vs permuted y" + index_text(p, j), y, two.out.y.get(j),
                 2 * model.y(t[static_cast<std::size_t>(ch)], in.x.get(i), y), p.data_type());
      }
    }
  compare_statistics(a, p, model, t, q, one, two, in.state);
  return pass_with(a);
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

property_result power_of_two_scaling(const kernel& k, const generated_case& c,
                                     const property_options&) {
  const problem& p = c.p;
  property_result r;
  if (unsupported(k, p, false, r)) return r;
  random_source rng(c.seed ^ 0x5343414cull);
  const int e = static_cast<int>(rng.below(12)) - 6 + (rng.below(2) == 0 ? 0 : 1);
  const int shift = e == 0 ? 1 : e;
  const double scale = std::ldexp(1.0, shift), scale2 = std::ldexp(1.0, 2 * shift);
  const problem ps = with(p, [&](problem::fields& f) { f.eps = p.eps() * scale2; });
  const case_inputs in = make_inputs(c);
  tensor xs(p.data_type(), p.element_count());
  for (std::int64_t i = 0; i < xs.size(); ++i) {
    const double v = in.x.get(i) * scale;
    if (!exact_in(p.data_type(), v) || !exact_in(p.data_type(), in.x.get(i))) {
      return make(outcome::not_applicable, "x * 2^k is not exact");
    }
    xs.set(i, v);
  }
  module_state ss = in.state;
  for (std::int64_t ch = 0; ch < ss.running_mean.size(); ++ch) {
    ss.running_mean.set(ch, in.state.running_mean.get(ch) * scale);
    ss.running_var.set(ch, in.state.running_var.get(ch) * scale2);
    if (ss.running_mean.get(ch) != in.state.running_mean.get(ch) * scale ||
        ss.running_var.get(ch) != in.state.running_var.get(ch) * scale2) {
      return make(outcome::not_applicable, "running statistics * 2^k are not exact");
    }
  }
  const forward_call one = call_forward(k, p, in.x, in.state);
  const forward_call two = call_forward(k, ps, xs, ss);
  agreement a;
  if (!both_clean(a, one.out, two.out) || !same_status(a, one.out.status, two.out.status)) {
    return rejected(a, one.out.status);
  }
  const qvec q = estimate(p, in.x, tensor(), in.state);
  const dtype st = p.stats_type();
  for (std::int64_t i = 0; i < p.element_count(); ++i) {
    if (detail::ill_posed(p, q[static_cast<std::size_t>(channel_of(p, i))])) continue;
    a.identical("y" + index_text(p, i) + " (x) vs (x * 2^" + std::to_string(shift) + ")",
                one.out.y.get(i), two.out.y.get(i), p.data_type());
  }
  for (std::int64_t ch = 0; ch < p.channels(); ++ch) {
    if (detail::ill_posed(p, q[static_cast<std::size_t>(ch)])) continue;
    const std::string at = "[" + std::to_string(ch) + "]";
    if (p.uses_batch_statistics() && p.reduction_size() > 0) {
      a.identical("save_mean" + at + " * 2^k", one.out.save_mean.get(ch) * scale,
                  two.out.save_mean.get(ch), st);
      a.identical("save_invstd" + at + " / 2^k", one.out.save_invstd.get(ch) / scale,
                  two.out.save_invstd.get(ch), st);
    }
    if (p.track_running_stats()) {
      a.identical("running_mean" + at + " * 2^k", one.state.running_mean.get(ch) * scale,
                  two.state.running_mean.get(ch), st);
      a.identical("running_var" + at + " * 4^k", one.state.running_var.get(ch) * scale2,
                  two.state.running_var.get(ch), st);
    }
  }
  return pass_with(a);
}

// ---- exact shift: within budget ----------------------------------------------------

property_result shift_invariance(const kernel& k, const generated_case& c,
                                 const property_options& opt) {
  const problem& p = c.p;
  property_result r;
  if (unsupported(k, p, false, r)) return r;
  case_inputs in = make_inputs(c);
  if (!all_finite(in.x) || p.reduction_size() < 2) return make(outcome::not_applicable, "");
  double largest = 0, sum = 0;
  for (std::int64_t i = 0; i < in.x.size(); ++i) {
    largest = std::max(largest, std::abs(in.x.get(i)));
    sum += in.x.get(i);
  }
  if (largest == 0) return make(outcome::not_applicable, "x is zero");
  // b: a multiple of the largest value's ulp. Values near zero have finer bits than
  // x + b can hold, so the pair is made exact first: x2 = round(x + b), and the base
  // case is x1 = x2 - b, which is exact for nearly every element (checked).
  const binary_format f = format_of(p.data_type());
  const double quantum = std::ldexp(1.0, std::ilogb(largest) - (f.precision - 1));
  random_source rng(c.seed ^ 0x53484654ull);
  const double target = largest * std::exp2(rng.uniform(-6, -1));
  double b = std::round(target / quantum) * quantum;
  if (rng.below(2) == 0 || sum > 0) b = -b;  // often toward the centre
  if (b == 0) b = quantum;
  tensor xs(p.data_type(), p.element_count());
  for (std::int64_t i = 0; i < xs.size(); ++i) {
    xs.set(i, in.x.get(i) + b);
    const double base = xs.get(i) - b;
    if (!exact_in(p.data_type(), base) || !exact_in(p.data_type(), xs.get(i))) {
      return make(outcome::not_applicable, "x + b is not exact");
    }
    in.x.set(i, base);
  }
  const forward_call one = call_forward(k, p, in.x, in.state);
  const forward_call two = call_forward(k, p, xs, in.state);
  agreement a;
  if (!both_clean(a, one.out, two.out) || !same_status(a, one.out.status, two.out.status)) {
    return rejected(a, one.out.status);
  }
  const check::budget_model model(p, opt.level);
  const qvec q1 = estimate(p, in.x, tensor(), in.state), q2 = estimate(p, xs, tensor(), in.state);
  const auto t1 = terms_of(model, q1, in.state), t2 = terms_of(model, q2, in.state);
  const std::string shifted = " vs (x + " + check::exact_text(b, p.data_type()) + ")";
  for (std::int64_t i = 0; i < p.element_count(); ++i) {
    const auto ch = static_cast<std::size_t>(channel_of(p, i));
    if (detail::ill_posed(p, q1[ch])) continue;
    const double y1 = one.out.y.get(i), y2 = two.out.y.get(i);
    a.within("y" + index_text(p, i) + shifted, y1, y2,
             model.y(t1[ch], in.x.get(i), y1) + model.y(t2[ch], xs.get(i), y2), p.data_type());
  }
  for (std::int64_t ch = 0; ch < p.channels(); ++ch) {
    const auto k2 = static_cast<std::size_t>(ch);
    if (detail::ill_posed(p, q1[k2])) continue;
    const std::string at = "[" + std::to_string(ch) + "]" + shifted;
    const dtype st = p.stats_type();
    const double m1 = one.out.save_mean.get(ch), m2 = two.out.save_mean.get(ch);
    a.within("save_mean + b" + at, m1 + b, m2,
             model.save_mean(t1[k2]) + model.save_mean(t2[k2]) + 0x1p-52 * std::abs(m1 + b), st);
    a.within("save_invstd" + at, one.out.save_invstd.get(ch), two.out.save_invstd.get(ch),
             model.save_invstd(t1[k2]) + model.save_invstd(t2[k2]), st);
    if (p.track_running_stats() && p.mode() == mode::training) {
      const double factor = p.momentum()
                                ? *p.momentum()
                                : 1.0 / static_cast<double>(in.state.num_batches_tracked + 1);
      const double old = in.state.running_var.get(ch);
      const double v1 = one.state.running_var.get(ch), v2 = two.state.running_var.get(ch);
      a.within(
          "running_var" + at, v1, v2,
          model.running_var(t1[k2], old, factor, v1) + model.running_var(t2[k2], old, factor, v2),
          st);
    }
  }
  return pass_with(a);
}

// ---- layouts -----------------------------------------------------------------------

property_result layout_invariance(const kernel& k, const generated_case& c,
                                  const property_options& opt) {
  const problem& p = c.p;
  const problem other = with(p, [&](problem::fields& f) {
    f.layout =
        p.layout() == layout::channels_first ? layout::channels_last : layout::channels_first;
  });
  property_result r;
  if (unsupported(k, p, false, r) || unsupported(k, other, false, r)) return r;
  const case_inputs in = make_inputs(c);
  const tensor xo = relayout(p, other, in.x), dyo = relayout(p, other, in.dy);
  const forward_call one = call_forward(k, p, in.x, in.state);
  const forward_call two = call_forward(k, other, xo, in.state);
  agreement a;
  if (!both_clean(a, one.out, two.out) || !same_status(a, one.out.status, two.out.status)) {
    return rejected(a, one.out.status);
  }
  const check::budget_model model(p, opt.level);
  const qvec q = estimate(p, in.x, in.dy, in.state);
  const auto t = terms_of(model, q, in.state);
  const std::string vs = " vs " + std::string(name_of(other.layout()));
  for (std::int64_t n = 0; n < p.batch(); ++n)
    for (std::int64_t ch = 0; ch < p.channels(); ++ch) {
      if (detail::ill_posed(p, q[static_cast<std::size_t>(ch)])) continue;
      for (std::int64_t s = 0; s < p.spatial_size(); ++s) {
        const std::int64_t i = p.offset(n, ch, s), j = other.offset(n, ch, s);
        const double y = one.out.y.get(i);
        a.within("y" + index_text(p, i) + vs, y, two.out.y.get(j),
                 2 * model.y(t[static_cast<std::size_t>(ch)], in.x.get(i), y), p.data_type());
      }
    }
  compare_statistics(a, p, model, t, q, one, two, in.state);
  if (!a.ok() || !k.unsupported_reason(p, true).empty() ||
      !k.unsupported_reason(other, true).empty())
    return pass_with(a);
  // Backward, with the same saved statistics for both layouts.
  const backward_outputs b1 =
      k.backward(p, in.x, in.dy, in.state, one.out.save_mean, one.out.save_invstd);
  const backward_outputs b2 =
      k.backward(other, xo, dyo, in.state, one.out.save_mean, one.out.save_invstd);
  const bool guarded = clean(a, b1.guards);
  if (!clean(a, b2.guards) || !guarded || !same_status(a, b1.status, b2.status)) {
    return rejected(a, b1.status);
  }
  for (std::int64_t n = 0; n < p.batch(); ++n)
    for (std::int64_t ch = 0; ch < p.channels(); ++ch) {
      if (detail::ill_posed(p, q[static_cast<std::size_t>(ch)])) continue;
      for (std::int64_t s = 0; s < p.spatial_size(); ++s) {
        const std::int64_t i = p.offset(n, ch, s), j = other.offset(n, ch, s);
        const double dx = b1.dx.get(i);
        a.within("dx" + index_text(p, i) + vs, dx, b2.dx.get(j),
                 2 * model.dx(t[static_cast<std::size_t>(ch)], in.x.get(i), in.dy.get(i), dx),
                 p.data_type());
      }
    }
  if (p.affine()) {
    for (std::int64_t ch = 0; ch < p.channels(); ++ch) {
      const auto k2 = static_cast<std::size_t>(ch);
      if (detail::ill_posed(p, q[k2])) continue;
      const std::string at = "[" + std::to_string(ch) + "]" + vs;
      a.within("dgamma" + at, b1.dgamma.get(ch), b2.dgamma.get(ch), 2 * model.dgamma(t[k2]),
               p.stats_type());
      a.within("dbeta" + at, b1.dbeta.get(ch), b2.dbeta.get(ch), 2 * model.dbeta(t[k2]),
               p.stats_type());
    }
  }
  return pass_with(a);
}

// ---- shards ------------------------------------------------------------------------

property_result shard_merge(const kernel& k, const generated_case& c, const property_options& opt) {
  const problem& p = c.p;
  property_result r;
  if (unsupported(k, p, false, r)) return r;
  const std::int64_t spatial = p.spatial_size();
  // Every shard needs m_j >= 2.
  const std::int64_t min_rows = spatial >= 2 ? 1 : 2;
  if (!p.uses_batch_statistics() || p.batch() < 2 * min_rows || spatial == 0) {
    return make(outcome::not_applicable, "needs batch statistics and two shards with m >= 2");
  }
  const case_inputs in = make_inputs(c);
  if (!all_finite(in.x)) return make(outcome::not_applicable, "non-finite values");
  random_source rng(c.seed ^ 0x5348524415ull);
  const std::int64_t most = std::min<std::int64_t>(4, p.batch() / min_rows);
  const std::int64_t count = 2 + rng.below(most - 1);
  // Shard sizes: min_rows each, the rest spread at random.
  std::vector<std::int64_t> rows(static_cast<std::size_t>(count), min_rows);
  for (std::int64_t left = p.batch() - count * min_rows; left > 0; --left) {
    ++rows[static_cast<std::size_t>(rng.below(count))];
  }
  const forward_call whole = call_forward(k, p, in.x, in.state);
  agreement a;
  if (!clean(a, whole.out.guards)) return pass_with(a);
  if (!whole.out.status.ok()) return rejected(a, whole.out.status);
  const check::budget_model model(p, opt.level);
  const qvec q = estimate(p, in.x, tensor(), in.state);
  const auto t = terms_of(model, q, in.state);
  struct shard {
    double weight;
    forward_call call;
    qvec q;
    std::vector<check::channel_terms> t;
    check::budget_model model;
  };
  std::vector<shard> shards;
  std::int64_t first = 0;
  for (const std::int64_t n : rows) {
    const problem part = with(p, [&](problem::fields& f) { f.shape[0] = n; });
    const tensor xs = batch_slice(p, part, in.x, first);
    first += n;
    forward_call call = call_forward(k, part, xs, in.state);
    if (!clean(a, call.out.guards)) return pass_with(a);
    if (!call.out.status.ok()) return rejected(a, call.out.status);
    const check::budget_model part_model(part, opt.level);
    qvec pq = estimate(part, xs, tensor(), in.state);
    auto pt = terms_of(part_model, pq, in.state);
    shards.push_back({static_cast<double>(n) / static_cast<double>(p.batch()), std::move(call),
                      std::move(pq), std::move(pt), part_model});
  }
  const dtype st = p.stats_type();
  for (std::int64_t ch = 0; ch < p.channels(); ++ch) {
    const auto k2 = static_cast<std::size_t>(ch);
    bool skip = p.eps() == 0 && q[k2].var == 0;
    for (const shard& s : shards) skip = skip || (p.eps() == 0 && s.q[k2].var == 0);
    if (skip) continue;
    // Chan et al.'s merge, in double: mean = sum w_j mean_j and
    // var + eps = sum w_j (1 / invstd_j^2 + (mean_j - mean)^2), since the weights sum to 1.
    double mean = 0, mean_tol = 0;
    for (const shard& s : shards) {
      mean += s.weight * s.call.out.save_mean.get(ch);
      mean_tol += s.weight * s.model.save_mean(s.t[k2]);
    }
    double w = 0, w_tol = 0;
    for (const shard& s : shards) {
      const double mj = s.call.out.save_mean.get(ch), ij = s.call.out.save_invstd.get(ch);
      const double wj = 1 / (ij * ij), rel = s.model.save_invstd(s.t[k2]) / s.q[k2].invstd;
      const double dmean = s.model.save_mean(s.t[k2]) + mean_tol;
      w += s.weight * (wj + (mj - mean) * (mj - mean));
      w_tol += s.weight * ((2 * rel + 3 * rel * rel + 0x1p-50) * wj +
                           2 * std::abs(mj - mean) * dmean + dmean * dmean);
    }
    const double invstd = whole.out.save_invstd.get(ch);
    const double whole_w = 1 / (invstd * invstd);
    const double whole_rel = model.save_invstd(t[k2]) / q[k2].invstd;
    const std::string at = "[" + std::to_string(ch) + "] merged from " +
                           std::to_string(shards.size()) + " shards vs whole batch";
    a.within("mean" + at, mean, whole.out.save_mean.get(ch),
             mean_tol + model.save_mean(t[k2]) + 0x1p-50 * q[k2].mean_abs, st);
    a.within("var + eps" + at, w, whole_w,
             w_tol + (2 * whole_rel + 3 * whole_rel * whole_rel + 0x1p-50) * whole_w, dtype::f64);
  }
  return pass_with(a);
}

// ---- eval --------------------------------------------------------------------------

property_result eval_is_affine(const kernel& k, const generated_case& c,
                               const property_options& opt) {
  const problem& p = c.p;
  property_result r;
  if (unsupported(k, p, false, r)) return r;
  if (p.mode() != mode::eval || !p.track_running_stats() || p.batch() < 2) {
    return make(outcome::not_applicable, "needs eval with running statistics and N >= 2");
  }
  const case_inputs in = make_inputs(c), other = make_inputs(c, 1);
  // The second half of the batch replaced: the first half's outputs must not move.
  tensor x2 = in.x;
  const std::int64_t keep = p.batch() / 2;
  for (std::int64_t n = keep; n < p.batch(); ++n)
    for (std::int64_t ch = 0; ch < p.channels(); ++ch)
      for (std::int64_t s = 0; s < p.spatial_size(); ++s)
        x2.set(p.offset(n, ch, s), other.x.get(p.offset(n, ch, s)));
  const forward_call one = call_forward(k, p, in.x, in.state);
  const forward_call two = call_forward(k, p, x2, in.state);
  agreement a;
  if (!both_clean(a, one.out, two.out) || !same_status(a, one.out.status, two.out.status)) {
    return rejected(a, one.out.status);
  }
  for (std::int64_t n = 0; n < keep; ++n)
    for (std::int64_t ch = 0; ch < p.channels(); ++ch)
      for (std::int64_t s = 0; s < p.spatial_size(); ++s) {
        const std::int64_t i = p.offset(n, ch, s);
        a.identical("y" + index_text(p, i) + " after the rest of the batch changed",
                    one.out.y.get(i), two.out.y.get(i), p.data_type());
      }
  // Affine per channel: every (x, y) lies on the line through the channel's two
  // extreme points, within the budgets (the line's own error is at most the larger
  // of its endpoints' budgets at any point between them).
  const check::budget_model model(p, opt.level);
  const qvec q = estimate(p, in.x, tensor(), in.state);
  const auto t = terms_of(model, q, in.state);
  for (std::int64_t ch = 0; ch < p.channels(); ++ch) {
    const auto& tc = t[static_cast<std::size_t>(ch)];
    std::int64_t lo = -1, hi = -1;
    for (std::int64_t n = 0; n < p.batch(); ++n)
      for (std::int64_t s = 0; s < p.spatial_size(); ++s) {
        const std::int64_t i = p.offset(n, ch, s);
        const double x = in.x.get(i);
        if (!std::isfinite(x) || !std::isfinite(one.out.y.get(i))) continue;
        if (lo < 0 || x < in.x.get(lo)) lo = i;
        if (hi < 0 || x > in.x.get(hi)) hi = i;
      }
    if (lo < 0) continue;
    const double x0 = in.x.get(lo), x1 = in.x.get(hi);
    const double y0 = one.out.y.get(lo), y1 = one.out.y.get(hi);
    const double end = std::max(model.y(tc, x0, y0), model.y(tc, x1, y1));
    for (std::int64_t n = 0; n < p.batch(); ++n)
      for (std::int64_t s = 0; s < p.spatial_size(); ++s) {
        const std::int64_t i = p.offset(n, ch, s);
        const double x = in.x.get(i), y = one.out.y.get(i);
        if (!std::isfinite(x)) continue;
        if (x0 == x1) {
          a.identical("y" + index_text(p, i) + " (same x as " + index_text(p, lo) + ")", y, y0,
                      p.data_type());
          continue;
        }
        const double line = y0 + (y1 - y0) * ((x - x0) / (x1 - x0));
        a.within("y" + index_text(p, i) + " vs the line through the channel's extremes", y, line,
                 model.y(tc, x, y) + end + 0x1p-50 * (std::abs(y0) + std::abs(y1)), p.data_type());
      }
  }
  return pass_with(a);
}

// ---- sequences ---------------------------------------------------------------------

// Batches of a sequence: 2 to 20, from the seed.
std::uint64_t sequence_length(const generated_case& c, std::uint64_t most) {
  return 2 + (c.seed >> 40) % (most - 1);
}

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

bool same_module_state(const module_state& x, const module_state& y) {
  return x.running_mean.bitwise_equal(y.running_mean) &&
         x.running_var.bitwise_equal(y.running_var) &&
         x.num_batches_tracked == y.num_batches_tracked;
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

// ---- gradients ---------------------------------------------------------------------

property_result gradient_identities(const kernel& k, const generated_case& c,
                                    const property_options& opt) {
  const problem& p = c.p;
  property_result r;
  if (unsupported(k, p, true, r)) return r;
  if (!p.uses_batch_statistics() || p.reduction_size() < 2) {
    return make(outcome::not_applicable, "needs batch statistics and m >= 2");
  }
  case_inputs in = make_inputs(c);
  if (!all_finite(in.x) || !all_finite(in.dy)) return make(outcome::not_applicable, "non-finite");
  for (std::int64_t ch = 0; ch < in.state.gamma.size(); ++ch) in.state.gamma.set(ch, 1.0);
  const check::budget_model model(p, opt.level);
  const qvec q = estimate(p, in.x, in.dy, in.state);
  const auto t = terms_of(model, q, in.state);
  // The saved statistics the backward reads: the estimates rounded to the statistics
  // type (within the budgets' d_mean and relative invstd error, as check::run_backward's).
  tensor mean(p.stats_type(), p.channels()), invstd(p.stats_type(), p.channels());
  for (std::int64_t ch = 0; ch < p.channels(); ++ch) {
    mean.set(ch, q[static_cast<std::size_t>(ch)].mean);
    invstd.set(ch, q[static_cast<std::size_t>(ch)].invstd);
  }
  const backward_outputs out = k.backward(p, in.x, in.dy, in.state, mean, invstd);
  agreement a;
  if (!out.status.ok()) return rejected(a, out.status);
  if (!clean(a, out.guards)) return pass_with(a);
  const std::int64_t spatial = p.spatial_size();
  for (std::int64_t ch = 0; ch < p.channels(); ++ch) {
    const auto& tc = t[static_cast<std::size_t>(ch)];
    if (detail::ill_posed(p, q[static_cast<std::size_t>(ch)])) continue;
    // The exact dx sums to zero, and sum dx * xhat = gamma invstd^3 eps sum(dy xhat)
    // (zero when eps == 0: sum xhat^2 = m var / (var + eps)). What the kernel's dx
    // shows beyond that is at most the sum of its budgets (and the xhat estimate's
    // error, and our own compensated sums).
    detail::compensated_sum sum, sum_xhat;
    double tol = 0, tol_xhat = 0, magnitude = 0;
    for (std::int64_t k2 = 0; k2 < p.reduction_size(); ++k2) {
      const std::int64_t i = p.offset(k2 / spatial, ch, k2 % spatial);
      const double dx = out.dx.get(i), x = in.x.get(i);
      const double xh = model.xhat(tc, x);
      const double budget = model.dx(tc, x, in.dy.get(i), dx);
      sum.add(dx);
      sum_xhat.add(dx * xh);
      tol += budget;
      tol_xhat +=
          budget * std::abs(xh) +
          std::abs(dx) * 0x1p-50 * (std::abs(xh) + (std::abs(x) + std::abs(tc.mean)) * tc.invstd);
      magnitude += std::abs(dx) * (1 + std::abs(xh));
    }
    const std::string at = "[" + std::to_string(ch) + "]";
    a.within("sum dx" + at, sum.value(), 0.0, tol + 0x1p-50 * magnitude, dtype::f64);
    const double s3_eps = tc.invstd * tc.invstd * tc.invstd * p.eps();
    const double expected = s3_eps * q[static_cast<std::size_t>(ch)].sum_dy_xhat;
    const double expected_error =
        0x1p-40 * s3_eps * q[static_cast<std::size_t>(ch)].sum_abs_dy_xhat;
    a.within("sum dx * xhat" + at, sum_xhat.value(), expected,
             tol_xhat + expected_error + 0x1p-50 * magnitude, dtype::f64);
  }
  return pass_with(a);
}

}  // namespace

std::string_view name_of(property_id id) {
  switch (id) {
    case property_id::forward_matches_reference: return "forward-matches-reference";
    case property_id::backward_matches_reference: return "backward-matches-reference";
    case property_id::batch_permutation: return "batch-permutation";
    case property_id::power_of_two_scaling: return "power-of-two-scaling";
    case property_id::shift_invariance: return "shift-invariance";
    case property_id::layout_invariance: return "layout-invariance";
    case property_id::shard_merge: return "shard-merge";
    case property_id::eval_is_affine: return "eval-is-affine";
    case property_id::momentum_none_mean: return "momentum-none-mean";
    case property_id::eval_between_steps: return "eval-between-steps";
    case property_id::gradient_identities: return "gradient-identities";
  }
  return "unknown";
}

std::optional<property_id> parse_property(std::string_view text) {
  for (const property_id id : ids) {
    if (name_of(id) == text) return id;
  }
  return std::nullopt;
}

std::span<const property_id> all_properties() { return ids; }

std::string_view name_of(outcome o) {
  switch (o) {
    case outcome::pass: return "pass";
    case outcome::fail: return "fail";
    case outcome::unsupported: return "unsupported";
    case outcome::not_applicable: return "not-applicable";
  }
  return "unknown";
}

case_needs needs_of(property_id id) {
  case_needs n;
  switch (id) {
    case property_id::forward_matches_reference: break;
    case property_id::backward_matches_reference: n.backward = true; break;
    case property_id::batch_permutation: n.min_batch = 2; break;
    case property_id::power_of_two_scaling:
      n.kinds = {
          value_kind::normal,       value_kind::uniform,           value_kind::exact_fill,
          value_kind::large_offset, value_kind::constant_channels, value_kind::sprinkled_nonfinite};
      break;
    case property_id::shift_invariance:
      n.batch_statistics = true;
      n.kinds = tame_kinds;
      break;
    case property_id::layout_invariance: n.both_layouts = true; break;
    case property_id::shard_merge:
      n.batch_statistics = true;
      n.min_batch = 4;
      n.kinds = tame_kinds;
      break;
    case property_id::eval_is_affine:
      n.forward_eval = true;
      n.tracking = true;
      n.min_batch = 2;
      break;
    case property_id::momentum_none_mean:
      n.forward_training = true;
      n.tracking = true;
      n.momentum_none = true;
      n.kinds = tame_kinds;
      break;
    case property_id::eval_between_steps:
      n.forward_training = true;
      n.tracking = true;
      n.both_modes = true;
      break;
    case property_id::gradient_identities:
      n.batch_statistics = true;
      n.backward = true;
      n.gamma_one = true;
      n.kinds = tame_kinds;
      break;
  }
  return n;
}

std::string unsupported_reason(property_id id, const kernel& k) {
  const case_needs n = needs_of(id);
  const bnc_capabilities& caps = k.capabilities();
  const auto has = [&](std::uint32_t op) { return (caps.operations & op) != 0; };
  if ((caps.profiles & BNC_BIT(BNC_PROFILE_PYTORCH)) == 0)
    return "the pytorch profile is not declared";
  if ((caps.dtypes & 0xfu) == 0 || (caps.layouts & 0x3u) == 0) return "no dtype or layout declared";
  if (caps.max_rank < 2 || caps.min_rank > 5) return "no rank from 2 to 5 declared";
  if (n.both_layouts && (caps.layouts & 0x3u) != 0x3u) return "needs both layouts";
  if (n.both_modes && !(has(BNC_OP_FORWARD_TRAINING) && has(BNC_OP_FORWARD_EVAL))) {
    return "needs forward in training and eval";
  }
  if (n.forward_training && !has(BNC_OP_FORWARD_TRAINING)) return "needs forward training";
  if (n.forward_eval && !has(BNC_OP_FORWARD_EVAL)) return "needs forward eval";
  if (n.backward && !has(BNC_OP_BACKWARD_TRAINING) && !has(BNC_OP_BACKWARD_EVAL)) {
    return "needs a backward op";
  }
  if (n.batch_statistics && !has(BNC_OP_FORWARD_TRAINING) && !has(BNC_OP_FORWARD_EVAL)) {
    return "needs a forward op";
  }
  if (n.backward && n.batch_statistics && !has(BNC_OP_BACKWARD_TRAINING) &&
      !has(BNC_OP_BACKWARD_EVAL)) {
    return "needs backward with batch statistics";
  }
  if (!has(BNC_OP_FORWARD_TRAINING) && !has(BNC_OP_FORWARD_EVAL)) return "no forward op declared";
  return {};
}

property_result check_property(property_id id, const kernel& k, const generated_case& c,
                               const property_options& opt) {
  switch (id) {
    case property_id::forward_matches_reference: return forward_matches_reference(k, c, opt);
    case property_id::backward_matches_reference: return backward_matches_reference(k, c, opt);
    case property_id::batch_permutation: return batch_permutation(k, c, opt);
    case property_id::power_of_two_scaling: return power_of_two_scaling(k, c, opt);
    case property_id::shift_invariance: return shift_invariance(k, c, opt);
    case property_id::layout_invariance: return layout_invariance(k, c, opt);
    case property_id::shard_merge: return shard_merge(k, c, opt);
    case property_id::eval_is_affine: return eval_is_affine(k, c, opt);
    case property_id::momentum_none_mean: return momentum_none_mean(k, c, opt);
    case property_id::eval_between_steps: return eval_between_steps(k, c, opt);
    case property_id::gradient_identities: return gradient_identities(k, c, opt);
  }
  return make(outcome::unsupported, "unknown property");
}

}  // namespace bnconform::properties
