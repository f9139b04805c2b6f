// Relations between statistics and outputs: shards merged equal the whole batch,
// eval is an affine map, and the gradient identities.
#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <string>
#include <vector>

#include "check/budget.hpp"
#include "check/compare.hpp"
#include "property_checks.hpp"

namespace bnconform::properties::detail {

namespace {

// The relative error of 1 / s^2 when s is off by at most a relative r: the worst of
// s (1 - r) and s (1 + r); unbounded when r >= 1.
double inverse_square_error(double r) {
  if (!(r < 1)) return std::numeric_limits<double>::infinity();
  return std::max(1 / ((1 - r) * (1 - r)) - 1, 1 - 1 / ((1 + r) * (1 + r)));
}

}  // namespace

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
    bool unbounded = false;
    for (const shard& s : shards) {
      const double mj = s.call.out.save_mean.get(ch), ij = s.call.out.save_invstd.get(ch);
      const double wj = 1 / (ij * ij), rel = s.model.save_invstd(s.t[k2]) / s.q[k2].invstd;
      const double dmean = s.model.save_mean(s.t[k2]) + mean_tol;
      w += s.weight * (wj + (mj - mean) * (mj - mean));
      // An unbounded invstd budget (no invstd excluded) leaves the merge unbounded;
      // 0 * inf would demand equality instead.
      if (std::isinf(inverse_square_error(rel))) unbounded = true;
      if (unbounded) continue;
      w_tol += s.weight * ((inverse_square_error(rel) + 0x1p-50) * wj +
                           2 * std::abs(mj - mean) * dmean + dmean * dmean);
    }
    const double invstd = whole.out.save_invstd.get(ch);
    const double whole_w = 1 / (invstd * invstd);
    const double whole_rel = model.save_invstd(t[k2]) / q[k2].invstd;
    const std::string at = "[" + std::to_string(ch) + "] merged from " +
                           std::to_string(shards.size()) + " shards vs whole batch";
    a.within("mean" + at, mean, whole.out.save_mean.get(ch),
             mean_tol + model.save_mean(t[k2]) + 0x1p-50 * q[k2].mean_abs, st);
    const double whole_error = inverse_square_error(whole_rel);
    const double w_bound = unbounded || std::isinf(whole_error)
                               ? std::numeric_limits<double>::infinity()
                               : w_tol + (whole_error + 0x1p-50) * whole_w;
    a.within("var + eps" + at, w, whole_w, w_bound, dtype::f64);
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
    bool unbounded = false;
    for (std::int64_t k2 = 0; k2 < p.reduction_size(); ++k2) {
      const std::int64_t i = p.offset(k2 / spatial, ch, k2 % spatial);
      const double dx = out.dx.get(i), x = in.x.get(i);
      const double xh = model.xhat(tc, x);
      const double budget = model.dx(tc, x, in.dy.get(i), dx);
      sum.add(dx);
      sum_xhat.add(dx * xh);
      // dx unbounded at this level (no invstd excluded): so are both sums (and
      // 0 * inf must not turn the tolerance into NaN, which demands equality).
      unbounded = unbounded || std::isinf(budget);
      if (unbounded) continue;
      tol += budget;
      tol_xhat +=
          budget * std::abs(xh) +
          std::abs(dx) * 0x1p-50 * (std::abs(xh) + (std::abs(x) + std::abs(tc.mean)) * tc.invstd);
      magnitude += std::abs(dx) * (1 + std::abs(xh));
    }
    if (unbounded) tol = tol_xhat = std::numeric_limits<double>::infinity();
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

}  // namespace bnconform::properties::detail
