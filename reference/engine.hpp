#pragma once
// Batch normalization in a multiprecision type, written to read like
// docs/semantics.md (the pytorch profile, and every profile's running statistics
// in update_running). No rounding to a target dtype happens here: the engine
// returns values of `Real`; checked.hpp rounds them once.
// Validation (status codes, sizes) happens before the engine is called.
#include <cstdint>
#include <limits>
#include <span>
#include <vector>

#include "call.hpp"
#include "core/rounding.hpp"

namespace bnconform::reference {

template <class Real>
struct forward_values {
  std::vector<Real> y, save_mean, save_invstd, running_mean, running_var;
  std::int64_t num_batches_tracked = 0;
  std::vector<std::int64_t> ill_posed_channels;
};

template <class Real>
struct backward_values {
  std::vector<Real> dx, dgamma, dbeta;
  std::vector<std::int64_t> ill_posed_channels;
};

// The statistics one channel is normalized with.
template <class Real>
struct channel_statistics {
  Real mean;
  Real var;  // biased batch variance, or the running variance
  Real invstd;
  Real unbiased_var;  // batch statistics with m >= 2 only
  bool ill_posed = false;
};

// The per-channel sums of the backward.
template <class Real>
struct backward_sums {
  Real sum_dy = 0;
  Real sum_dy_xhat = 0;
};

template <class Real, class Inputs = call_inputs>
class engine {
 public:
  engine(const problem& p, const Inputs& in) : p_(p), in_(in) {}

  forward_values<Real> forward() const {
    forward_values<Real> out;
    const std::int64_t channels = p_.channels();
    const bool batch = p_.uses_batch_statistics();
    out.y.resize(static_cast<std::size_t>(p_.element_count()));
    if (batch) {
      out.save_mean.resize(static_cast<std::size_t>(channels));
      out.save_invstd.resize(static_cast<std::size_t>(channels));
    }
    if (p_.track_running_stats()) {
      for (std::int64_t c = 0; c < channels; ++c) {
        out.running_mean.push_back(Real(in_.running_mean[index(c)]));
        out.running_var.push_back(Real(in_.running_var[index(c)]));
      }
    }
    out.num_batches_tracked = counter_after();
    const Real f = factor();
    for (std::int64_t c = 0; c < channels; ++c) {
      const channel_statistics<Real> st = statistics(c);
      if (st.ill_posed) out.ill_posed_channels.push_back(c);
      const Real g = gamma(c);
      const Real b = beta(c);
      for_each_element(c, [&](std::int64_t i) { out.y[index(i)] = y(i, st, g, b); });
      if (batch) {
        out.save_mean[index(c)] = st.mean;
        out.save_invstd[index(c)] = st.invstd;
      }
      if (p_.track_running_stats()) {
        update_running(out.running_mean[index(c)], out.running_var[index(c)], st, f);
      }
    }
    return out;
  }

  backward_values<Real> backward() const {
    backward_values<Real> out;
    const std::int64_t channels = p_.channels();
    out.dx.resize(static_cast<std::size_t>(p_.element_count()));
    for (std::int64_t c = 0; c < channels; ++c) {
      const channel_statistics<Real> st = statistics(c);
      if (st.ill_posed) out.ill_posed_channels.push_back(c);
      const Real g = gamma(c);
      const backward_sums<Real> s = sums(c, st);
      for_each_element(c, [&](std::int64_t i) { out.dx[index(i)] = dx(i, st, g, s); });
      if (p_.affine()) {
        out.dgamma.push_back(s.sum_dy_xhat);
        out.dbeta.push_back(s.sum_dy);
      }
    }
    return out;
  }

  // The building blocks below are each written once; the exact engine
  // (exact_engine.hpp) calls them for the elements and channels it hands back.

  // PyTorch's module increments the counter first, then uses 1 / counter as the
  // factor when momentum is None; an empty batch still counts.
  std::int64_t counter_after() const {
    const bool update = p_.mode() == mode::training && p_.track_running_stats();
    return in_.num_batches_tracked + (update ? 1 : 0);
  }
  Real factor() const {
    return p_.momentum() ? Real(*p_.momentum()) : Real(1) / Real(counter_after());
  }
  Real gamma(std::int64_t c) const { return p_.affine() ? Real(in_.gamma[index(c)]) : Real(1); }
  Real beta(std::int64_t c) const { return p_.affine() ? Real(in_.beta[index(c)]) : Real(0); }

  Real y(std::int64_t i, const channel_statistics<Real>& st, const Real& g, const Real& b) const {
    return g * xhat(i, st) + b;
  }

  // The running statistics after a training call (in place); unchanged otherwise.
  // f is factor(): the problem's momentum, whose meaning is the profile's
  // (docs/semantics.md#conventions-by-profile), or 1 / counter (pytorch only).
  void update_running(Real& rm, Real& rv, const channel_statistics<Real>& st, const Real& f) const {
    if (p_.mode() != mode::training) return;
    const std::int64_t m = p_.reduction_size();
    const profile pr = p_.profile();
    if (m == 0) {
      // pytorch and onnx keep the running statistics (no batch statistic to blend
      // in); keras and flax blend in the mean of no values, 0 / 0, and tf-fused's
      // op writes NaN: NaN whatever the momentum is.
      if (pr == profile::pytorch || pr == profile::onnx) return;
      rm = rv = Real(std::numeric_limits<double>::quiet_NaN());
      return;
    }
    // m == 1 reaches here only where it is no error (keras, tf-fused, flax): the
    // biased variance is 0.
    switch (pr) {
      case profile::onnx:
      case profile::keras:
      case profile::flax:
        // The momentum weights the OLD value and the stored variance is the biased
        // one, products as written (momentum 1 with a NaN mean gives NaN).
        rm = rm * f + st.mean * Real(Real(1) - f);
        rv = rv * f + st.var * Real(Real(1) - f);
        return;
      case profile::tf_fused: {
        // FusedBatchNormV3: f weights the batch value, the stored variance is
        // b * var with b = m / max(m - 1, 1), and f == 1 does not read the old values.
        const Real unbiased = m > 1 ? st.unbiased_var : st.var;  // b = 1 when m == 1
        if (f == Real(1)) {
          rm = st.mean;
          rv = unbiased;
          return;
        }
        rm = Real(Real(1) - f) * rm + f * st.mean;
        rv = Real(Real(1) - f) * rv + f * unbiased;
        return;
      }
      case profile::pytorch: break;
    }
    // Written as PyTorch writes it, so that non-finite values propagate alike
    // (e.g. factor 0 with an infinite mean gives NaN).
    rm = f * st.mean + Real(Real(1) - f) * rm;
    rv = f * st.unbiased_var + Real(Real(1) - f) * rv;
  }

  backward_sums<Real> sums(std::int64_t c, const channel_statistics<Real>& st) const {
    backward_sums<Real> s;
    for_each_element(c, [&](std::int64_t i) {
      const Real dy = Real(in_.dy[index(i)]);
      s.sum_dy += dy;
      s.sum_dy_xhat += dy * xhat(i, st);
    });
    return s;
  }

  Real dx(std::int64_t i, const channel_statistics<Real>& st, const Real& g,
          const backward_sums<Real>& s) const {
    const Real dy = Real(in_.dy[index(i)]);
    if (p_.uses_batch_statistics()) {
      // dx = gamma * invstd / m * (m * dy - sum dy - xhat * sum dy * xhat)
      const Real m = Real(p_.reduction_size());
      const Real scale = g * st.invstd / m;
      return scale * Real(m * dy - s.sum_dy - xhat(i, st) * s.sum_dy_xhat);
    }
    // Eval with running statistics: y is an affine map of x.
    return dy * Real(g * st.invstd);
  }

  channel_quantities quantities(std::int64_t c) const {
    const channel_statistics<Real> st = statistics(c);
    Real sum_abs_x = 0, sum_dy = 0, sum_abs_dy = 0, sum_dy_xhat = 0, sum_abs_dy_xhat = 0;
    const bool has_dy = !in_.dy.empty();
    for_each_element(c, [&](std::int64_t i) {
      sum_abs_x += abs(Real(in_.x[index(i)]));
      if (has_dy) {
        const Real dy = Real(in_.dy[index(i)]);
        const Real product = dy * xhat(i, st);
        sum_dy += dy;
        sum_abs_dy += abs(dy);
        sum_dy_xhat += product;
        sum_abs_dy_xhat += abs(product);
      }
    });
    channel_quantities q;
    q.m = p_.reduction_size();
    // Correctly rounded from Real, as the exact engine rounds its own.
    q.mean = round_to(st.mean, dtype::f64);
    q.var = round_to(st.var, dtype::f64);
    q.invstd = round_to(st.invstd, dtype::f64);
    q.mean_abs = round_to(Real(sum_abs_x / Real(q.m)), dtype::f64);
    q.sum_dy = round_to(sum_dy, dtype::f64);
    q.sum_abs_dy = round_to(sum_abs_dy, dtype::f64);
    q.sum_dy_xhat = round_to(sum_dy_xhat, dtype::f64);
    q.sum_abs_dy_xhat = round_to(sum_abs_dy_xhat, dtype::f64);
    return q;
  }

  static std::size_t index(std::int64_t i) { return static_cast<std::size_t>(i); }

  template <class F>
  void for_each_element(std::int64_t c, F&& f) const {
    const std::int64_t spatial = p_.spatial_size();
    for (std::int64_t n = 0; n < p_.batch(); ++n) {
      for (std::int64_t s = 0; s < spatial; ++s) f(p_.offset(n, c, s));
    }
  }

  Real xhat(std::int64_t i, const channel_statistics<Real>& st) const {
    return Real(Real(in_.x[index(i)]) - st.mean) * st.invstd;
  }

  // Two passes: the mean, then the sum of squared deviations from it, so the
  // variance suffers no cancellation beyond the precision of Real.
  channel_statistics<Real> statistics(std::int64_t c) const {
    channel_statistics<Real> st;
    const Real eps = Real(p_.eps());
    if (!p_.uses_batch_statistics()) {
      st.mean = Real(in_.running_mean[index(c)]);
      st.var = Real(in_.running_var[index(c)]);
      st.invstd = Real(1) / sqrt(Real(st.var + eps));
      st.ill_posed = st.var + eps == 0;
      return st;
    }
    const std::int64_t m = p_.reduction_size();
    Real sum = 0;
    for_each_element(c, [&](std::int64_t i) { sum += Real(in_.x[index(i)]); });
    st.mean = sum / Real(m);  // 0 / 0 = NaN for an empty batch
    Real squares = 0;
    for_each_element(c, [&](std::int64_t i) {
      const Real deviation = Real(in_.x[index(i)]) - st.mean;
      squares += deviation * deviation;
    });
    st.var = squares / Real(m);
    st.unbiased_var = m > 1 ? Real(squares / Real(m - 1)) : Real(0);
    st.invstd = Real(1) / sqrt(Real(st.var + eps));
    st.ill_posed = m > 0 && st.var + eps == 0;
    return st;
  }

 private:
  const problem& p_;
  const Inputs& in_;
};

}  // namespace bnconform::reference
