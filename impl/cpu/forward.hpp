#pragma once
// Forward batch normalization for storage type S: statistics (one read of x), the
// running-statistics update, and the normalization (one more read of x, one write
// of y). Called only with a validated plan; it cannot fail after its workspace is
// allocated, so a call either completes or writes nothing.
#include <cmath>
#include <cstdint>
#include <limits>
#include <type_traits>
#include <vector>

#include "call_plan.hpp"
#include "isa_namespace.hpp"
#include "normalize.hpp"
#include "rescaled.hpp"
#include "statistics.hpp"
#include "storage.hpp"
#include "streaming.hpp"
#include "variant_vector.hpp"

namespace bnconform::cpu {
inline namespace BNCONFORM_CPU_ISA {

template <class S>
call_report forward(const forward_plan& plan) {
  using Stat = typename data_traits<S>::stats;
  const geometry& g = plan.g;
  const bnc_forward_args& a = *plan.args;
  const std::int64_t channels = g.channels;
  const auto* x = static_cast<const S*>(a.x);
  auto* y = static_cast<S*>(a.y);
  const auto* gamma = static_cast<const Stat*>(a.gamma);
  const auto* beta = static_cast<const Stat*>(a.beta);
  auto* running_mean = static_cast<Stat*>(a.running_mean);
  auto* running_var = static_cast<Stat*>(a.running_var);

  // Workspace first: after this point nothing can fail.
  // The coefficients are f64 for every data type: gamma * invstd of f32 data can
  // exceed f32's range while y is finite (x about 2^-130: invstd about 2^130, golden
  // degenerate.subnormal32), and f64 holds the mean of subnormal f32 data exactly
  // enough (its f32 rounding would be off by 2^-150, 2^-20 of the spread). Their f32
  // roundings serve the fast f32 pass when they fit (normalize.hpp, fits_f32).
  const auto n = static_cast<std::size_t>(channels);
  variant_vector<double> shift(n), scale(n), offset(n);
  // (Their f32 roundings carry coefficient_pad entries more for the streaming pass.)
  variant_vector<float> shift_f32(std::is_same_v<S, double> ? 0 : n + coefficient_pad),
      scale_f32(shift_f32), offset_f32(shift_f32);
  call_report report;
  const double nan = std::numeric_limits<double>::quiet_NaN();
  // f64 channels whose y is computed from x 2^-k (rescaled.hpp), filled before the
  // first write and written over the fast pass's y at the end.
  variant_vector<rescaled_channel> rescaled;

  auto coefficients = [&](std::int64_t c, double mean, double invstd) {
    const double gm = plan.affine ? static_cast<double>(gamma[c]) : 1.0;
    const double bt = plan.affine ? static_cast<double>(beta[c]) : 0.0;
    const auto i = static_cast<std::size_t>(c);
    shift[i] = mean;
    scale[i] = gm * invstd;
    offset[i] = bt;
  };

  if (plan.batch_statistics) {
    auto* save_mean = static_cast<Stat*>(a.save_mean);
    auto* save_invstd = static_cast<Stat*>(a.save_invstd);
    if (g.m == 0) {
      // Empty batch: no statistics (0 / 0, as the reference), nothing to normalize,
      // running statistics unchanged (semantics.md).
      for (std::int64_t c = 0; c < channels; ++c) {
        save_mean[c] = static_cast<Stat>(nan);
        save_invstd[c] = static_cast<Stat>(nan);
        // keras, tf-fused, flax: the mean and variance of no values are NaN.
        if (plan.update_running && plan.empty_batch_gives_nan) {
          running_mean[c] = static_cast<Stat>(nan);
          running_var[c] = static_cast<Stat>(nan);
        }
      }
      return report;
    }
    // Statistics over the whole range of the data type (statistics.hpp); invstd
    // from the accumulator-precision variance: one rounding of var + eps, then sqrt
    // and division (about 1.25 ulp of the compute precision).
    const auto stats = channel_statistics(g, x, plan.eps);
    if constexpr (std::is_same_v<S, double>) {
      // Rescaled channels (statistics.hpp) of non-zero variance: gamma invstd may be
      // beyond f64 (a spread of subnormals) and x - mean may overflow (both signs near
      // 2^1023). (A constant channel keeps the plain pass: x - mean is exactly 0.)
      for (std::int64_t c = 0; c < channels; ++c) {
        const auto& st = stats[static_cast<std::size_t>(c)];
        if (st.exponent == 0 || st.zero_variance) continue;
        rescaled_channel& r = rescaled.emplace_back();
        r.c = c;
        r.k = st.exponent;
        r.mean = st.scaled_mean;
        r.invstd = st.scaled_invstd;
        r.scale = (plan.affine ? static_cast<double>(gamma[c]) : 1.0) * st.scaled_invstd;
        rescaled_normalize(g, x, plan.affine ? static_cast<double>(beta[c]) : 0.0, r);
      }
    }
    for (std::int64_t c = 0; c < channels; ++c) {
      const auto& st = stats[static_cast<std::size_t>(c)];
      const double mean = st.mean;
      const double invstd = st.invstd;
      if (plan.eps == 0 && st.zero_variance) {
        if (report.ill_posed_channels++ == 0) report.first_ill_posed = c;
      }
      save_mean[c] = static_cast<Stat>(mean);
      save_invstd[c] = static_cast<Stat>(invstd);
      coefficients(c, mean, invstd);
      if (plan.update_running) {
        const double batch_var = plan.biased_running_var ? st.biased_var : st.unbiased_var;
        if (plan.replace) {
          running_mean[c] = static_cast<Stat>(mean);
          running_var[c] = static_cast<Stat>(batch_var);
        } else {
          // Written as the frameworks write it, so non-finite values propagate alike
          // (weight 0 with an infinite mean gives NaN, as in the reference).
          running_mean[c] = static_cast<Stat>(plan.take * mean +
                                              plan.keep * static_cast<double>(running_mean[c]));
          running_var[c] = static_cast<Stat>(plan.take * batch_var +
                                             plan.keep * static_cast<double>(running_var[c]));
        }
      }
    }
  } else {
    for (std::int64_t c = 0; c < channels; ++c) {
      const double var = static_cast<double>(running_var[c]);
      if (var + plan.eps == 0) {
        if (report.ill_posed_channels++ == 0) report.first_ill_posed = c;
      }
      const double mean = static_cast<double>(running_mean[c]);
      const double invstd = running_inverse_std(var, plan.eps);
      coefficients(c, mean, invstd);
      if constexpr (std::is_same_v<S, double>) {
        // x - mean overflows only where |mean| > 2^970 (and |x| > 2^1022): such a
        // channel is computed from x / 2, exactly, with gamma invstd 2.
        if (std::fabs(mean) >= 0x1p969 && std::isfinite(mean)) {
          rescaled_channel& r = rescaled.emplace_back();
          r.c = c;
          r.k = 1;
          r.mean = mean / 2;
          r.invstd = invstd * 2;
          r.scale = (plan.affine ? static_cast<double>(gamma[c]) : 1.0) * r.invstd;
          rescaled_normalize(g, x, plan.affine ? static_cast<double>(beta[c]) : 0.0, r);
        }
      }
    }
  }
  if constexpr (!std::is_same_v<S, double>) {
    if (fits_f32(shift) && fits_f32(scale) && fits_f32(offset) && shifts_fit_f32(shift)) {
      round_to_f32(shift, shift_f32);
      round_to_f32(scale, scale_f32);
      round_to_f32(offset, offset_f32);
      normalize<S, float>(g, x, y, shift_f32, scale_f32, offset_f32);
      return report;
    }
  }
  normalize<S, double>(g, x, y, shift, scale, offset);
  if constexpr (std::is_same_v<S, double>) write_rescaled(g, rescaled, y);
  return report;
}

}  // namespace BNCONFORM_CPU_ISA
}  // namespace bnconform::cpu
