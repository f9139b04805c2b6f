#pragma once
// Forward batch normalization for storage type S: statistics (one read of x), the
// running-statistics update, and the normalization (one more read of x, one write
// of y). Called only with a validated plan; it cannot fail after its workspace is
// allocated, so a call either completes or writes nothing.
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "call_plan.hpp"
#include "isa_namespace.hpp"
#include "normalize.hpp"
#include "reductions.hpp"
#include "storage.hpp"

namespace bnconform::cpu {
inline namespace BNCONFORM_CPU_ISA {

template <class S>
call_report forward(const forward_plan& plan) {
  using T = typename data_traits<S>::compute;
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
  std::vector<T> shift(static_cast<std::size_t>(channels)), scale(shift), offset(shift);
  call_report report;
  const double nan = std::numeric_limits<double>::quiet_NaN();

  auto coefficients = [&](std::int64_t c, double mean, double invstd) {
    const double gm = plan.affine ? static_cast<double>(gamma[c]) : 1.0;
    const double bt = plan.affine ? static_cast<double>(beta[c]) : 0.0;
    const auto i = static_cast<std::size_t>(c);
    shift[i] = static_cast<T>(mean);
    scale[i] = static_cast<T>(gm * invstd);
    offset[i] = static_cast<T>(bt);
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
      }
      return report;
    }
    const auto stats = channel_moments(g, x);
    const double m = static_cast<double>(g.m);
    for (std::int64_t c = 0; c < channels; ++c) {
      const auto& st = stats[static_cast<std::size_t>(c)];
      const auto var = st.m2 / decltype(st.m2)(m);
      const double mean = to_double(st.mean);
      // invstd from the accumulator-precision variance: one rounding of var + eps,
      // then sqrt and division (about 1.25 ulp of the compute precision).
      const double invstd = 1.0 / std::sqrt(to_double(var + decltype(var)(plan.eps)));
      if (plan.eps == 0 && to_double(var) == 0) {
        if (report.ill_posed_channels++ == 0) report.first_ill_posed = c;
      }
      save_mean[c] = static_cast<Stat>(mean);
      save_invstd[c] = static_cast<Stat>(invstd);
      coefficients(c, mean, invstd);
      if (plan.update_running) {
        const double unbiased = to_double(st.m2 / decltype(st.m2)(m - 1));
        const double f = plan.factor;
        // Written as PyTorch writes it, so non-finite values propagate alike
        // (factor 0 with an infinite mean gives NaN, as in the reference).
        running_mean[c] =
            static_cast<Stat>(f * mean + (1 - f) * static_cast<double>(running_mean[c]));
        running_var[c] =
            static_cast<Stat>(f * unbiased + (1 - f) * static_cast<double>(running_var[c]));
      }
    }
  } else {
    for (std::int64_t c = 0; c < channels; ++c) {
      const double var = static_cast<double>(running_var[c]);
      if (var + plan.eps == 0) {
        if (report.ill_posed_channels++ == 0) report.first_ill_posed = c;
      }
      coefficients(c, static_cast<double>(running_mean[c]), 1.0 / std::sqrt(var + plan.eps));
    }
  }
  normalize<S, T>(g, x, y, shift, scale, offset);
  return report;
}

}  // namespace BNCONFORM_CPU_ISA
}  // namespace bnconform::cpu
