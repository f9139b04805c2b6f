#pragma once
// Backward batch normalization for storage type S: one reduction pass over x and dy
// (sum dy, sum dy (x - mean)), then one elementwise pass writing dx.
//   batch statistics: dx = gamma invstd (dy - mean(dy) - (x - mean) invstd^2 mean(dy (x - mean)))
//   running statistics (eval): dx = dy gamma invstd
// dgamma = invstd sum dy (x - mean), dbeta = sum dy (semantics.md).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <type_traits>
#include <vector>

#include "call_plan.hpp"
#include "isa_namespace.hpp"
#include "normalize.hpp"
#include "reductions.hpp"
#include "rescaled.hpp"
#include "statistics.hpp"
#include "storage.hpp"
#include "streaming.hpp"
#include "variant_vector.hpp"

namespace bnconform::cpu {
inline namespace BNCONFORM_CPU_ISA {

// dx = scale * ((dy - mean_dy) - (x - mean) * slope), or dy * scale.
template <class S, class T>
void input_gradient(const geometry& g, bool batch, const S* x, const S* dy, S* dx,
                    std::span<const T> mean, std::span<const T> scale, std::span<const T> mean_dy,
                    std::span<const T> slope) {
  const std::int64_t channels = g.channels;
  if (g.m == 0 || channels == 0) return;
#if BNCONFORM_CPU_STREAMING
  if constexpr (streamable<S, T>) {
    // Large tensors: streaming stores (streaming.hpp), the same arithmetic.
    const std::size_t coefficients =
        std::min({mean.size(), scale.size(), mean_dy.size(), slope.size()});
    if (g.channels_innermost && streams<S>(g, coefficients, 3)) {
      const float *mu = mean.data(), *sc = scale.data(), *mdy = mean_dy.data(), *sl = slope.data();
      auto dx_of = [&](f32v xv, f32v gv, std::int64_t k) {
        return batch ? batch_input_gradient(xv, gv, load_f32v(mu + k), load_f32v(sc + k),
                                            load_f32v(mdy + k), load_f32v(sl + k))
                     : gv * load_f32v(sc + k);
      };
      stream_channels_last(
          g.m * channels, channels, dx,
          [&](std::int64_t p, std::int64_t c, f32v& lo, f32v& hi) {
            f32v x_lo{}, x_hi{}, g_hi{};
            if (batch) load_step(x + p, x_lo, x_hi);
            load_step(dy + p, lo, g_hi);
            lo = dx_of(x_lo, lo, c);
            if constexpr (std::is_same_v<S, bf16_bits>) hi = dx_of(x_hi, g_hi, c + bf16_step / 2);
          },
          [&](std::int64_t p, std::int64_t c) {
            const T gv = static_cast<T>(widen(dy[p]));
            return batch ? batch_input_gradient(static_cast<T>(widen(x[p])), gv, mu[c], sc[c],
                                                mdy[c], sl[c])
                         : gv * sc[c];
          });
      return;
    }
    if (!g.channels_innermost && streams<S>(g, 0, 3)) {
      const std::int64_t spatial = g.spatial;
      parallel_for(g.batch * channels, 2 * spatial, [&](std::int64_t row) {
        const auto c = static_cast<std::size_t>(row % channels);
        const T mu = mean[c], sc = scale[c], mdy = mean_dy[c], sl = slope[c];
        const f32v vmu = splat(mu), vsc = splat(sc), vmdy = splat(mdy), vsl = splat(sl);
        const S* px = x + row * spatial;
        const S* pd = dy + row * spatial;
        auto dx_of = [&](f32v xv, f32v gv) {
          return batch ? batch_input_gradient(xv, gv, vmu, vsc, vmdy, vsl) : gv * vsc;
        };
        stream_values(
            spatial, dx + row * spatial,
            [&](std::int64_t s, f32v& lo, f32v& hi) {
              f32v x_lo{}, x_hi{}, g_hi{};
              if (batch) load_step(px + s, x_lo, x_hi);
              load_step(pd + s, lo, g_hi);
              lo = dx_of(x_lo, lo);
              if constexpr (std::is_same_v<S, bf16_bits>) hi = dx_of(x_hi, g_hi);
            },
            [&](std::int64_t s) {
              const T gv = static_cast<T>(widen(pd[s]));
              return batch ? batch_input_gradient(static_cast<T>(widen(px[s])), gv, mu, sc, mdy, sl)
                           : gv * sc;
            });
      });
      return;
    }
  }
#endif
  if (g.channels_innermost) {
    parallel_for(g.m, 2 * channels, [&](std::int64_t r) {
      const S* px = x + r * channels;
      const S* pd = dy + r * channels;
      S* out = dx + r * channels;
      std::int64_t c = 0;
#if defined(__AVX2__)
      // bf16: a vector step at a time (storage.hpp), the same operations as the loops below.
      if constexpr (std::is_same_v<S, bf16_bits> && std::is_same_v<T, float>) {
        constexpr int half = bf16_step / 2;
        auto dx_of = [&](f32v xv, f32v gv, std::int64_t k) {
          return batch ? batch_input_gradient(xv, gv, load_f32v(&mean[k]), load_f32v(&scale[k]),
                                              load_f32v(&mean_dy[k]), load_f32v(&slope[k]))
                       : gv * load_f32v(&scale[k]);
        };
        for (; c + bf16_step <= channels; c += bf16_step) {
          f32v x0, x1, g0, g1;
          widen_step(px + c, x0, x1);
          widen_step(pd + c, g0, g1);
          narrow_step(out + c, dx_of(x0, g0, c), dx_of(x1, g1, c + half));
        }
      }
#endif
      if (batch) {
        for (; c < channels; ++c) {
          out[c] = narrow<S>(batch_input_gradient(static_cast<T>(widen(px[c])),
                                                  static_cast<T>(widen(pd[c])), mean[c], scale[c],
                                                  mean_dy[c], slope[c]));
        }
      } else {
        for (; c < channels; ++c) {
          out[c] = narrow<S>(static_cast<T>(widen(pd[c])) * scale[c]);
        }
      }
    });
  } else {
    const std::int64_t spatial = g.spatial;
    parallel_for(g.batch * channels, 2 * spatial, [&](std::int64_t row) {
      const auto c = static_cast<std::size_t>(row % channels);
      const S* px = x + row * spatial;
      const S* pd = dy + row * spatial;
      S* out = dx + row * spatial;
      const T mu = mean[c], sc = scale[c], mdy = mean_dy[c], sl = slope[c];
      std::int64_t s = 0;
#if defined(__AVX2__)
      if constexpr (std::is_same_v<S, bf16_bits> && std::is_same_v<T, float>) {
        const f32v vmu = splat(mu), vsc = splat(sc), vmdy = splat(mdy), vsl = splat(sl);
        auto dx_of = [&](f32v xv, f32v gv) {
          return batch ? batch_input_gradient(xv, gv, vmu, vsc, vmdy, vsl) : gv * vsc;
        };
        for (; s + bf16_step <= spatial; s += bf16_step) {
          f32v x0, x1, g0, g1;
          widen_step(px + s, x0, x1);
          widen_step(pd + s, g0, g1);
          narrow_step(out + s, dx_of(x0, g0), dx_of(x1, g1));
        }
        if constexpr (bf16_has_part) {
          for (; s < spatial; s += 16) {
            const std::int64_t n = spatial - s < 16 ? spatial - s : 16;
            narrow_part(out + s, n, dx_of(widen_part(px + s, n), widen_part(pd + s, n)));
          }
        }
      }
#endif
      if (batch) {
        for (; s < spatial; ++s) {
          out[s] = narrow<S>(batch_input_gradient(static_cast<T>(widen(px[s])),
                                                  static_cast<T>(widen(pd[s])), mu, sc, mdy, sl));
        }
      } else {
        for (; s < spatial; ++s) out[s] = narrow<S>(static_cast<T>(widen(pd[s])) * sc);
      }
    });
  }
}

// Whether every channel's saved mean and invstd are what the forward computed, up
// to one rounding relative to their size: invstd finite and non-zero, mean normal or
// zero. NaN statistics (a NaN in x) are usable: recomputing gives NaN again.
template <class Stat>
bool usable_saved_statistics(const bnc_backward_args& a, std::int64_t channels) {
  const auto* mean = static_cast<const Stat*>(a.save_mean);
  const auto* invstd = static_cast<const Stat*>(a.save_invstd);
  for (std::int64_t c = 0; c < channels; ++c) {
    if (std::isinf(invstd[c]) || invstd[c] == 0) return false;
    if (mean[c] != 0 && std::fpclassify(mean[c]) == FP_SUBNORMAL) return false;
  }
  return true;
}

template <class S>
call_report backward(const backward_plan& plan) {
  // dx coefficients in f64 for every data type: gamma invstd and the slope
  // invstd^2 sum / m of f32 data can exceed f32's range where dx is still finite
  // (see forward.hpp); f32 data take the f32 pass when they fit (fits_f32).
  using T = double;
  using Stat = typename data_traits<S>::stats;
  const geometry& g = plan.g;
  const bnc_backward_args& a = *plan.args;
  const std::int64_t channels = g.channels;
  const auto n = static_cast<std::size_t>(channels);
  const auto* x = static_cast<const S*>(a.x);
  const auto* dy = static_cast<const S*>(a.dy);
  const auto* gamma = static_cast<const Stat*>(a.gamma);
  const auto* mean_in =
      static_cast<const Stat*>(plan.batch_statistics ? a.save_mean : a.running_mean);

  call_report report;
  variant_vector<double> mean(n), invstd(n);
  // f64 channels whose sums and dx are computed from x 2^-k (rescaled.hpp).
  variant_vector<rescaled_channel> rescaled;
  variant_vector<T> mean_t(n), scale(n), mean_dy(n), slope(n);
  const std::size_t n_f32 = std::is_same_v<S, double> ? 0 : n;
  // (The f32 roundings carry coefficient_pad entries more for the streaming pass.)
  const std::size_t padded = n_f32 == 0 ? 0 : n_f32 + coefficient_pad;
  variant_vector<float> mean_f32(padded), scale_f32(padded), mean_dy_f32(padded), slope_f32(padded);
  // dx, in f32 when every coefficient fits it (as fast as before), else in f64.
  auto gradient = [&](bool batch) {
    if constexpr (!std::is_same_v<S, double>) {
      if (fits_f32(mean_t) && fits_f32(scale) && fits_f32(mean_dy) && fits_f32(slope) &&
          shifts_fit_f32(mean_t)) {
        round_to_f32(mean_t, mean_f32);
        round_to_f32(scale, scale_f32);
        round_to_f32(mean_dy, mean_dy_f32);
        round_to_f32(slope, slope_f32);
        input_gradient<S, float>(g, batch, x, dy, static_cast<S*>(a.dx), mean_f32, scale_f32,
                                 mean_dy_f32, slope_f32);
        return;
      }
    }
    input_gradient<S, T>(g, batch, x, dy, static_cast<S*>(a.dx), mean_t, scale, mean_dy, slope);
  };
  for (std::int64_t c = 0; c < channels; ++c) {
    const auto i = static_cast<std::size_t>(c);
    mean[i] = static_cast<double>(mean_in[c]);
    if (plan.batch_statistics) {
      invstd[i] = static_cast<double>(static_cast<const Stat*>(a.save_invstd)[c]);
    } else {
      const double var = static_cast<double>(static_cast<const Stat*>(a.running_var)[c]);
      invstd[i] = running_inverse_std(var, plan.eps);
      if (var + plan.eps == 0 && report.ill_posed_channels++ == 0) report.first_ill_posed = c;
    }
  }
  if (plan.batch_statistics && g.m > 0 && !usable_saved_statistics<Stat>(a, channels)) {
    // The saved statistics lost what dx needs: an f32 invstd rounded to Inf or 0, or
    // an f32 mean rounded to a subnormal (data near 2^-130: golden
    // degenerate.subnormal32). Recompute them from x as the forward computed them
    // (docs/reference.md: the reference differentiates the exact forward at x).
    // One more pass over x, for such calls only.
    const auto stats = channel_statistics(g, x, plan.eps);
    for (std::size_t i = 0; i < n; ++i) {
      mean[i] = stats[i].mean;
      invstd[i] = stats[i].invstd;
      if constexpr (std::is_same_v<S, double>) {
        // A rescaled channel (statistics.hpp): its invstd may be beyond f64 and its
        // mean rounded to the subnormals; the scaled ones are neither.
        if (stats[i].exponent != 0 && !stats[i].zero_variance) {
          rescaled_channel& r = rescaled.emplace_back();
          r.c = static_cast<std::int64_t>(i);
          r.k = stats[i].exponent;
          r.mean = stats[i].scaled_mean;
          r.invstd = stats[i].scaled_invstd;
        }
      }
    }
  }
  if (g.m == 0) {
    // Empty batch: empty dx, zero dgamma and dbeta (semantics.md), whatever the
    // (NaN) saved statistics of the empty forward.
    if (plan.affine) {
      for (std::int64_t c = 0; c < channels; ++c) {
        static_cast<Stat*>(a.dgamma)[c] = 0;
        static_cast<Stat*>(a.dbeta)[c] = 0;
      }
    }
    return report;
  }
  if (!plan.batch_statistics && !plan.affine) {
    // Eval without parameters: dx = dy invstd needs no reduction.
    for (std::int64_t c = 0; c < channels; ++c) {
      scale[static_cast<std::size_t>(c)] = static_cast<T>(invstd[static_cast<std::size_t>(c)]);
    }
    gradient(false);
    return report;
  }
  auto sums = channel_gradient_sums(g, x, dy, std::span<const double>(mean));
  const double m = static_cast<double>(g.m);
  if constexpr (std::is_same_v<S, double>) {
    // The products dy (x - mean) overflow where x - mean does (values of both signs
    // near 2^1023, or far from a running mean near 2^1023) and lose their low bits to
    // underflow where x - mean is below about 2^-969. Either leaves a sum that is not
    // finite or below 2^-900 (where plain data would have to cancel exactly): such a
    // channel, if its values are beyond [2^-400, 2^401) and not all dy are zero, is
    // summed again from x 2^-k (rescaled.hpp). A non-finite sum of dy is the dy's own
    // (NaN, Inf or overflow) and is kept.
    variant_vector<char> done(n, 0);
    for (const rescaled_channel& r : rescaled) done[static_cast<std::size_t>(r.c)] = 1;
    for (std::int64_t c = 0; c < channels; ++c) {
      const auto i = static_cast<std::size_t>(c);
      const double t = to_double(sums[i].dy_centered);
      if (done[i] || !std::isfinite(to_double(sums[i].dy)) ||
          (std::isfinite(t) && std::fabs(t) >= 0x1p-900)) {
        continue;
      }
      if (t == 0 && all_zero(g, dy, c)) continue;
      const int k = largest_exponent(g, x, c, mean[i]);
      if (k >= -400 && k <= 400) continue;
      rescaled_channel& r = rescaled.emplace_back();
      r.c = c;
      r.k = k;
      r.mean = std::ldexp(mean[i], -k);
      r.invstd = std::ldexp(invstd[i], k);
    }
    for (rescaled_channel& r : rescaled) {
      const auto i = static_cast<std::size_t>(r.c);
      sums[i] = rescaled_gradient_sums(g, x, dy, r);
      const dd t = sums[i].dy_centered;  // sum dy (x 2^-k - mean_s)
      const double gm = plan.affine ? static_cast<double>(gamma[r.c]) : 1.0;
      // dgamma = sum dy (x 2^-k - mean_s) invstd_s, the sums of the fast path in
      // units of 2^-k; where invstd_s is not a normal double (a running invstd far
      // from the data's scale), the product is formed with invstd and scaled after.
      const bool normal_invstd = std::isnormal(r.invstd);
      r.dgamma = normal_invstd ? to_double(t * dd(r.invstd))
                               : to_double(scale_by_power_of_two(t * dd(invstd[i]), r.k));
      if (!plan.batch_statistics) continue;  // dx = dy gamma invstd: the fast pass's
      const double slope_s =
          to_double(t) == 0 || !normal_invstd ? 0.0 : to_double(t) / m * r.invstd * r.invstd;
      // gamma invstd where it is a normal double (or zero), else gamma invstd_s and
      // the factor 2^-k at the end (invstd beyond f64: a spread of subnormals).
      const double plain = gm * invstd[i];
      r.scale = std::isnormal(plain) || plain == 0 ? plain : gm * r.invstd;
      r.post = std::isnormal(plain) || plain == 0 ? 0 : -r.k;
      rescaled_input_gradient(g, x, dy, to_double(sums[i].dy) / m, slope_s, r);
    }
  }
  for (std::int64_t c = 0; c < channels; ++c) {
    const auto i = static_cast<std::size_t>(c);
    const double gm = plan.affine ? static_cast<double>(gamma[c]) : 1.0;
    const double sum_dy = to_double(sums[i].dy);
    const double sum_dy_centered = to_double(sums[i].dy_centered);
    if (plan.affine) {
      static_cast<Stat*>(a.dgamma)[c] = static_cast<Stat>(
          to_double(sums[i].dy_centered * decltype(sums[i].dy_centered)(invstd[i])));
      static_cast<Stat*>(a.dbeta)[c] = static_cast<Stat>(sum_dy);
    }
    mean_t[i] = static_cast<T>(mean[i]);
    scale[i] = static_cast<T>(gm * invstd[i]);
    mean_dy[i] = static_cast<T>(sum_dy / m);
    slope[i] = static_cast<T>(sum_dy_centered / m * invstd[i] * invstd[i]);
  }
  gradient(plan.batch_statistics);
  if constexpr (std::is_same_v<S, double>) {
    for (const rescaled_channel& r : rescaled) {
      if (plan.affine) static_cast<double*>(a.dgamma)[r.c] = r.dgamma;
    }
    if (plan.batch_statistics) write_rescaled(g, rescaled, static_cast<double*>(a.dx));
  }
  return report;
}

}  // namespace BNCONFORM_CPU_ISA
}  // namespace bnconform::cpu
