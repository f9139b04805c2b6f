// Invariances of one call: batch permutation, power-of-two scaling (exact), an
// exact shift, and the two layouts.
#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>
#include <vector>

#include "check/budget.hpp"
#include "check/compare.hpp"
#include "property_checks.hpp"

namespace bnconform::properties::detail {

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
    if (detail::ill_posed(p, q[static_cast<std::size_t>(p.channel_of(i))])) continue;
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
    const auto ch = static_cast<std::size_t>(p.channel_of(i));
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

}  // namespace bnconform::properties::detail
