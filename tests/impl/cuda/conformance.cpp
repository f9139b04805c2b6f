#include "conformance.hpp"

#include <cmath>
#include <limits>
#include <random>
#include <sstream>

#include "reference/reference.hpp"
#include "reference/reference_kernel.hpp"

namespace bnconform::cuda::testing {

namespace {

constexpr double compute_slack = 0x1p-40;  // see conformance.hpp

problem make(std::vector<std::int64_t> shape, layout l, dtype t, mode m, bool affine = true,
             bool track = true, std::optional<double> momentum = 0.1, double eps = 1e-5) {
  problem::fields f;
  f.shape = std::move(shape);
  f.layout = l;
  f.data_type = t;
  f.mode = m;
  f.affine = affine;
  f.track_running_stats = track;
  f.momentum = momentum;
  f.eps = eps;
  return problem(std::move(f));
}

tensor make_x(const conformance_case& c) {
  const problem& p = c.p;
  tensor x(p.data_type(), p.element_count());
  std::mt19937_64 rng(c.seed);
  std::normal_distribution<double> normal(0.0, 1.0);
  const double inf = std::numeric_limits<double>::infinity();
  for (std::int64_t n = 0; n < p.batch(); ++n) {
    for (std::int64_t ch = 0; ch < p.channels(); ++ch) {
      for (std::int64_t s = 0; s < p.spatial_size(); ++s) {
        const std::int64_t at = p.offset(n, ch, s);
        const double z = normal(rng);
        double v = 0.5 * static_cast<double>(ch) + (1.0 + 0.5 * static_cast<double>(ch)) * z;
        switch (c.values) {
          case fill::normal: break;
          case fill::offset: v = 1e4 + z; break;
          case fill::constant:
            if (ch == 0) v = 2.5;
            break;
          case fill::subnormal: v = z * 0x1p-140; break;
          case fill::huge:
            v = z * (p.data_type() == dtype::f64   ? 1e100
                     : p.data_type() == dtype::f16 ? 1e4
                                                   : 1e37);
            break;
          case fill::nan_channel:
          case fill::inf_channel:
          case fill::both_infs: break;
        }
        const bool first = n == 0 && s == 0, last = n == p.batch() - 1 && s == p.spatial_size() - 1;
        if (ch == 1 && first && c.values == fill::nan_channel) v = std::nan("");
        if (ch == 1 && first && (c.values == fill::inf_channel || c.values == fill::both_infs))
          v = inf;
        if (ch == 1 && last && !first && c.values == fill::both_infs) v = -inf;
        x.set(at, v);
      }
    }
  }
  return x;
}

tensor make_dy(const conformance_case& c) {
  tensor dy(c.p.data_type(), c.p.element_count());
  std::mt19937_64 rng(c.seed + 1000);
  std::normal_distribution<double> normal(0.0, 1.0);
  for (std::int64_t i = 0; i < dy.size(); ++i) dy.set(i, normal(rng));
  return dy;
}

module_state make_state(const problem& p) {
  module_state s = module_state::initial(p);
  for (std::int64_t c = 0; c < s.gamma.size(); ++c) {
    s.gamma.set(c, 1.25 * static_cast<double>(c % 3) - 0.75);
    s.beta.set(c, 0.25 * static_cast<double>(c) - 0.5);
  }
  for (std::int64_t c = 0; c < s.running_mean.size(); ++c) {
    s.running_mean.set(c, 0.1 * static_cast<double>(c));
    s.running_var.set(c, 1.0 + 0.5 * static_cast<double>(c));
  }
  s.num_batches_tracked = 3;
  return s;
}

double ulp(double v, dtype t) {
  const binary_format f = format_of(t);
  int e = f.min_exponent;
  if (v != 0 && std::isfinite(v)) e = std::max(std::ilogb(v), f.min_exponent);
  return std::ldexp(1.0, e - (f.precision - 1));
}

// One output: every element within ulp + compute_slack * magnitude(i).
template <class Magnitude>
void compare(std::ostringstream& out, const char* name, const tensor& got, const tensor& ref,
             Magnitude magnitude, int& reported, double slack = compute_slack) {
  if (got.size() != ref.size()) {
    out << name << ": " << got.size() << " elements, reference " << ref.size() << "\n";
    return;
  }
  for (std::int64_t i = 0; i < got.size(); ++i) {
    const double g = got.get(i), r = ref.get(i);
    bool bad = false;
    double bound = 0;
    if (std::isnan(r) || std::isinf(r)) {
      bad = std::isnan(r) ? !std::isnan(g) : g != r;
    } else {
      const double m = magnitude(i);  // NaN where the channel's statistics are (m == 0, NaN)
      bound = ulp(r, got.type()) + (std::isnan(m) ? 0.0 : slack * m);
      bad = !(std::fabs(g - r) <= bound);
    }
    if (bad && reported++ < 10) {
      out << name << "[" << i << "]: got " << g << ", reference " << r << ", bound " << bound
          << "\n";
    }
  }
}

struct run_result {
  forward_outputs forward;
  module_state after;
  backward_outputs backward;
  bool has_backward = false;
};

run_result run(const kernel& k, const conformance_case& c, const tensor& x, const tensor& dy) {
  run_result r;
  r.after = make_state(c.p);
  r.forward = k.forward(c.p, x, r.after);
  if (c.backward && r.forward.status.ok()) {
    const module_state before = make_state(c.p);
    r.backward = k.backward(c.p, x, dy, before, r.forward.save_mean, r.forward.save_invstd);
    r.has_backward = true;
  }
  return r;
}

std::string guards_of(const std::vector<guard_finding>& findings) {
  std::string s;
  for (const guard_finding& f : findings)
    s += "guard: " + std::string(name_of(f.kind)) + " in " + f.buffer + ": " + f.detail + "\n";
  return s;
}

}  // namespace

std::vector<conformance_case> conformance_cases() {
  std::vector<conformance_case> cases;
  const std::vector<std::vector<std::int64_t>> shapes = {
      {16, 3}, {4, 3, 20}, {2, 3, 5, 7}, {2, 2, 3, 2, 4}, {2, 3, 300}};
  std::uint64_t seed = 1;
  for (dtype t : {dtype::f64, dtype::f32, dtype::f16, dtype::bf16}) {
    for (layout l : {layout::channels_first, layout::channels_last}) {
      for (const auto& shape : shapes) {
        cases.push_back({"training", make(shape, l, t, mode::training), fill::normal, seed++});
        cases.push_back({"eval running", make(shape, l, t, mode::eval), fill::normal, seed++});
        cases.push_back({"eval batch, no affine", make(shape, l, t, mode::eval, false, false),
                         fill::normal, seed++});
      }
    }
  }
  for (dtype t : {dtype::f64, dtype::f32, dtype::f16, dtype::bf16}) {
    for (layout l : {layout::channels_first, layout::channels_last}) {
      const auto train = [&](std::vector<std::int64_t> s) { return make(s, l, t, mode::training); };
      cases.push_back({"m == 1", train({1, 4}), fill::normal, seed++});
      cases.push_back({"m == 1, eval without running stats",
                       make({1, 4, 1}, l, t, mode::eval, true, false), fill::normal, seed++});
      cases.push_back({"m == 2", train({2, 3}), fill::normal, seed++});
      cases.push_back({"empty batch", train({0, 3, 4}), fill::normal, seed++});
      cases.push_back({"zero spatial size", train({2, 3, 0}), fill::normal, seed++});
      cases.push_back({"no channels", train({4, 0, 3}), fill::normal, seed++});
      cases.push_back({"constant channel", train({4, 3, 5}), fill::constant, seed++});
      cases.push_back({"NaN in a channel", train({4, 3, 5}), fill::nan_channel, seed++});
      cases.push_back({"+Inf in a channel", train({4, 3, 5}), fill::inf_channel, seed++});
      cases.push_back({"+Inf and -Inf in a channel", train({4, 3, 5}), fill::both_infs, seed++});
      cases.push_back({"NaN, eval", make({4, 3, 5}, l, t, mode::eval), fill::nan_channel, seed++});
      cases.push_back({"offset 1e4", train({8, 2, 50}), fill::offset, seed++});
      cases.push_back({"subnormal inputs", train({4, 3, 5}), fill::subnormal, seed++});
      cases.push_back({"huge inputs", train({4, 3, 5}), fill::huge, seed++});
      cases.push_back({"momentum None",
                       make({4, 3, 5}, l, t, mode::training, true, true, std::nullopt),
                       fill::normal, seed++});
      cases.push_back({"momentum 0", make({4, 3, 5}, l, t, mode::training, true, true, 0.0),
                       fill::normal, seed++});
      cases.push_back({"momentum 1", make({4, 3, 5}, l, t, mode::training, true, true, 1.0),
                       fill::normal, seed++});
      cases.push_back({"eps 0", make({4, 3, 5}, l, t, mode::training, true, true, 0.1, 0.0),
                       fill::normal, seed++});
      cases.push_back({"C large, m tiny", train({2, 700}), fill::normal, seed++});
      cases.push_back({"several slices",
                       train(l == layout::channels_first ? std::vector<std::int64_t>{16, 2, 300}
                                                         : std::vector<std::int64_t>{512, 3}),
                       fill::normal, seed++});
    }
  }
  return cases;
}

std::string run_against_reference(const kernel& k, const conformance_case& test) {
  const kernel ref(reference::reference_kernel());
  const tensor x = make_x(test);
  const tensor dy = make_dy(test);
  const run_result got = run(k, test, x, dy);
  const run_result want = run(ref, test, x, dy);
  std::ostringstream out;
  const problem& p = test.p;
  if (got.forward.status.code != want.forward.status.code) {
    out << "forward status " << name_of(got.forward.status.code) << " ("
        << got.forward.status.message << "), reference " << name_of(want.forward.status.code)
        << " (" << want.forward.status.message << ")\n";
  }
  out << guards_of(got.forward.guards) << guards_of(got.backward.guards);
  const module_state before = make_state(p);
  if (!want.forward.status.ok()) {
    // A rejected call leaves the state as it was.
    if (!got.after.running_mean.bitwise_equal(before.running_mean) ||
        !got.after.running_var.bitwise_equal(before.running_var))
      out << "a rejected call changed the running statistics\n";
    return out.str();
  }
  if (got.after.num_batches_tracked != want.after.num_batches_tracked)
    out << "num_batches_tracked differs\n";
  const auto q = reference::quantities(p, reference::call_inputs::from(x, dy, before));
  const auto ch = [&](std::int64_t i) { return q[static_cast<std::size_t>(i)]; };
  const bool cl = p.layout() == layout::channels_last;
  const std::int64_t spatial = p.spatial_size();
  const auto channel_at = [&](std::int64_t i) {
    return cl ? i % p.channels() : (i / spatial) % p.channels();
  };
  const auto gamma = [&](std::int64_t c) {
    return p.affine() ? std::fabs(before.gamma.get(c)) : 1.0;
  };
  const auto beta = [&](std::int64_t c) {
    return p.affine() ? std::fabs(before.beta.get(c)) : 0.0;
  };
  // mean |x| over the finite values of each channel (the reference's is NaN in a
  // channel with a NaN, where only the non-finite outputs are judged exactly).
  std::vector<double> finite_abs(static_cast<std::size_t>(p.channels()), 0.0);
  for (std::int64_t i = 0; i < x.size(); ++i) {
    if (std::isfinite(x.get(i)))
      finite_abs[static_cast<std::size_t>(channel_at(i))] +=
          std::fabs(x.get(i)) / static_cast<double>(p.reduction_size());
  }
  const auto spread = [&](std::int64_t c) {  // invstd where finite, else 0
    return std::isfinite(ch(c).invstd) ? ch(c).invstd : 0.0;
  };
  const auto cond = [&](std::int64_t c) {
    return 1.0 + finite_abs[static_cast<std::size_t>(c)] * spread(c);
  };
  int reported = 0;
  compare(
      out, "y", got.forward.y, want.forward.y,
      [&](std::int64_t i) {
        const std::int64_t c = channel_at(i);
        return cond(c) *
               (gamma(c) * ch(c).invstd * (std::fabs(x.get(i)) + std::fabs(ch(c).mean)) + beta(c));
      },
      reported);
  compare(
      out, "save_mean", got.forward.save_mean, want.forward.save_mean,
      [&](std::int64_t c) { return ch(c).mean_abs; }, reported);
  compare(
      out, "save_invstd", got.forward.save_invstd, want.forward.save_invstd,
      [&](std::int64_t c) { return ch(c).invstd * cond(c) * cond(c); }, reported);
  if (p.track_running_stats()) {
    compare(
        out, "running_mean", got.after.running_mean, want.after.running_mean,
        [&](std::int64_t c) { return std::fabs(before.running_mean.get(c)) + ch(c).mean_abs; },
        reported);
    compare(
        out, "running_var", got.after.running_var, want.after.running_var,
        [&](std::int64_t c) {
          const double m = static_cast<double>(ch(c).m);
          return std::fabs(before.running_var.get(c)) + ch(c).var * m / (m - 1) * cond(c) * cond(c);
        },
        reported);
  }
  if (got.has_backward != want.has_backward) out << "backward ran on one side only\n";
  if (!got.has_backward || !want.has_backward) return out.str();
  if (got.backward.status.code != want.backward.status.code) {
    out << "backward status " << name_of(got.backward.status.code) << " ("
        << got.backward.status.message << "), reference " << name_of(want.backward.status.code)
        << "\n";
    return out.str();
  }
  const double m = static_cast<double>(p.reduction_size());
  // With batch statistics the kernel reads save_mean and save_invstd as the ABI
  // hands them, rounded to the stats type (unit roundoff u_s), while the reference
  // differentiates the exact forward: each perturbs xhat, dgamma and dx by at most
  // u_s times the conditioned magnitudes below, twice over (mean and invstd),
  // plus the products they enter: 4 u_s.
  const double slack =
      p.uses_batch_statistics() ? compute_slack + 4 * unit_roundoff(p.stats_type()) : compute_slack;
  compare(
      out, "dx", got.backward.dx, want.backward.dx,
      [&](std::int64_t i) {
        const std::int64_t c = channel_at(i);
        if (!p.uses_batch_statistics()) return gamma(c) * spread(c) * std::fabs(dy.get(i));
        const double xhat = std::fabs(x.get(i) - ch(c).mean) * ch(c).invstd;
        return cond(c) * gamma(c) * ch(c).invstd *
               (std::fabs(dy.get(i)) + ch(c).sum_abs_dy / m +
                (xhat + 1) * ch(c).sum_abs_dy_xhat / m);
      },
      reported, slack);
  compare(
      out, "dgamma", got.backward.dgamma, want.backward.dgamma,
      [&](std::int64_t c) { return cond(c) * (ch(c).sum_abs_dy_xhat + ch(c).sum_abs_dy); },
      reported, slack);
  compare(
      out, "dbeta", got.backward.dbeta, want.backward.dbeta,
      [&](std::int64_t c) { return ch(c).sum_abs_dy; }, reported);
  return out.str();
}

std::string run_bitwise(const kernel& a, const kernel& b, const conformance_case& c) {
  const tensor x = make_x(c);
  const tensor dy = make_dy(c);
  const run_result ra = run(a, c, x, dy);
  const run_result rb = run(b, c, x, dy);
  std::ostringstream out;
  const auto same = [&](const char* name, const tensor& u, const tensor& v) {
    if (!u.bitwise_equal(v)) out << name << " differs bitwise\n";
  };
  if (ra.forward.status.code != rb.forward.status.code) out << "forward status differs\n";
  same("y", ra.forward.y, rb.forward.y);
  same("save_mean", ra.forward.save_mean, rb.forward.save_mean);
  same("save_invstd", ra.forward.save_invstd, rb.forward.save_invstd);
  same("running_mean", ra.after.running_mean, rb.after.running_mean);
  same("running_var", ra.after.running_var, rb.after.running_var);
  if (ra.has_backward && rb.has_backward) {
    if (ra.backward.status.code != rb.backward.status.code) out << "backward status differs\n";
    same("dx", ra.backward.dx, rb.backward.dx);
    same("dgamma", ra.backward.dgamma, rb.backward.dgamma);
    same("dbeta", ra.backward.dbeta, rb.backward.dbeta);
  }
  return out.str();
}

}  // namespace bnconform::cuda::testing
