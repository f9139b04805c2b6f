#pragma once
// Per-channel batch statistics (mean, invstd, unbiased variance) in f64, valid over
// the whole range of the data type.
//
// The moments of channel_moments() are exact-range for f32, f16 and bf16 data
// (squares of f32 differences lie in [2^-298, 2^258], well inside f64). For f64 data
// they are not: squares of differences above about 2^512 overflow and below about
// 2^-537 underflow, so a channel of values near 2^511 gets a NaN variance and one
// near 2^-540 a zero variance, and values of both signs near 2^1023 overflow x - k
// (a non-finite mean), although the exact answers are doubles (golden
// degenerate.overflow64 and .underflow64). Such a channel is detected after the fast
// pass (a finite variance of at least 2^-900 and a finite mean need nothing) and, when
// its data are finite, its moments are recomputed from x * 2^-k, k the exponent of
// its largest |x|: a power-of-two scaling is exact (bar values that become subnormal,
// which lie 2^-1022 below the channel's largest and cannot matter), and the scaled
// squares are in range. The scale is folded back where nothing overflows: mean =
// mean_s 2^k and invstd = 2^-j / sqrt(var_s 2^(2k - 2j) + eps 2^-2j), j half the
// exponent of the larger of the two terms, so the sum under the root is near 1 and
// the smaller term can only underflow (negligibly), never overflow. invstd itself
// may still be beyond f64 (a spread of subnormals: about 2^1070), so such a channel
// also keeps its scaled statistics, mean_s and invstd 2^k (near 1 / std of the scaled
// data), for the elementwise passes (rescaled.hpp). Every step of this is a function
// of the data alone, so the results stay the same for any thread count.
#include <cfloat>
#include <climits>
#include <cmath>
#include <cstdint>
#include <type_traits>
#include <vector>

#include "blocks.hpp"
#include "double_double.hpp"
#include "isa_namespace.hpp"
#include "moments.hpp"
#include "reductions.hpp"
#include "variant_vector.hpp"

namespace bnconform::cpu {
inline namespace BNCONFORM_CPU_ISA {

struct channel_statistic {
  double mean = 0;
  double invstd = 0;
  double unbiased_var = 0;  // M2 / (m - 1)
  double biased_var = 0;    // M2 / m
  bool zero_variance = false;
  // Rescaled channels (f64 data only): exponent k != 0, and the statistics of
  // x * 2^-k: scaled_mean = mean 2^-k (before rounding mean), scaled_invstd =
  // invstd 2^k. k == 0 otherwise.
  int exponent = 0;
  double scaled_mean = 0;
  double scaled_invstd = 0;
};

inline dd scale_by_power_of_two(const dd& v, int e) {
  return {std::ldexp(v.hi, e), std::ldexp(v.lo, e)};
}
inline double scale_by_power_of_two(double v, int e) { return std::ldexp(v, e); }

// floor(e / 2) for any int e.
inline int half_floor(int e) { return e >= 0 ? e / 2 : -((1 - e) / 2); }

// 1 / sqrt(var_s 2^2k + eps) = r 2^-j without forming var_s 2^2k (see the top of the
// file). With k == 0 it is the plain formula (j = 0): one rounding of var + eps,
// sqrt, division.
struct scaled_inverse {
  double r = 0;
  int j = 0;
};
template <class Acc>
scaled_inverse inverse_std(const Acc& var_s, int k, double eps) {
  if (k == 0) return {1.0 / std::sqrt(to_double(var_s + Acc(eps))), 0};
  const double v = to_double(var_s);
  int e = (v > 0 && std::isfinite(v)) ? std::ilogb(v) + 2 * k : INT_MIN;
  if (eps > 0 && std::isfinite(eps) && std::ilogb(eps) > e) e = std::ilogb(eps);
  const int j = e == INT_MIN ? k : half_floor(e);
  const Acc t = scale_by_power_of_two(var_s, 2 * k - 2 * j) + Acc(std::ldexp(eps, -2 * j));
  return {1.0 / std::sqrt(to_double(t)), j};
}

// 1 / sqrt(var + eps) of running statistics (exact inputs). Where var + eps
// overflows, although both are finite, it is 2^-1 / sqrt(var / 4 + eps / 4).
inline double running_inverse_std(double var, double eps) {
  const double d = var + eps;
  if (std::isinf(d) && std::isfinite(var) && std::isfinite(eps)) {
    return 0.5 / std::sqrt(0.25 * var + 0.25 * eps);
  }
  return 1.0 / std::sqrt(d);
}

// Memory offset of the i-th value (reduction order) of channel c.
inline std::int64_t channel_offset(const geometry& g, std::int64_t c, std::int64_t i) {
  return g.channels_innermost ? i * g.channels + c
                              : ((i / g.spatial) * g.channels + c) * g.spatial + i % g.spatial;
}

// The exponent of the largest |x| of channel c (and of `also`), or 0 when that is 0
// or a value is not finite (NaN and Inf are not rescaled: they propagate as they do
// unscaled).
inline int largest_exponent(const geometry& g, const double* x, std::int64_t c, double also = 0) {
  double largest = std::fabs(also);
  if (!(largest <= DBL_MAX)) return 0;
  for (std::int64_t i = 0; i < g.m; ++i) {
    const double a = std::fabs(x[channel_offset(g, c, i)]);
    if (!(a <= DBL_MAX)) return 0;
    largest = a > largest ? a : largest;
  }
  return largest == 0 ? 0 : std::ilogb(largest);
}

// The values of channel c in reduction order, times 2^-k where k is the exponent of
// their largest magnitude; k = 0 (and nothing written) when that exponent is within
// [-400, 400], where the fast pass is accurate, or a value is not finite.
inline int scaled_channel(const geometry& g, const double* x, std::int64_t c,
                          variant_vector<double>& out) {
  auto at = [&](std::int64_t i) { return x[channel_offset(g, c, i)]; };
  const int k = largest_exponent(g, x, c);
  if (k >= -400 && k <= 400) return 0;
  out.resize(static_cast<std::size_t>(g.m));
  for (std::int64_t i = 0; i < g.m; ++i) out[static_cast<std::size_t>(i)] = std::ldexp(at(i), -k);
  return k;
}

template <class S>
std::vector<channel_statistic> channel_statistics(const geometry& g, const S* x, double eps) {
  using Acc = accumulator_for<S>;
  auto moments_of = channel_moments(g, x);
  variant_vector<int> exponent(moments_of.size(), 0);
  if constexpr (std::is_same_v<S, double>) {
    variant_vector<double> scaled;
    geometry one = g;
    one.channels = 1;
    one.batch = 1;
    one.spatial = g.m;
    one.channels_innermost = false;
    for (std::size_t c = 0; c < moments_of.size(); ++c) {
      const double mean = to_double(moments_of[c].mean);
      const double m2 = to_double(moments_of[c].m2);
      const bool out_of_range = !std::isfinite(m2) || m2 < 0x1p-900 || !std::isfinite(mean);
      if (!out_of_range) continue;
      const int k = scaled_channel(g, x, static_cast<std::int64_t>(c), scaled);
      if (k == 0) continue;
      moments_of[c] = channel_moments(one, scaled.data())[0];
      exponent[c] = k;
    }
  }
  std::vector<channel_statistic> out(moments_of.size());
  const double m = static_cast<double>(g.m);
  for (std::size_t c = 0; c < out.size(); ++c) {
    const auto& st = moments_of[c];
    const int k = exponent[c];
    const Acc var_s = st.m2 / Acc(m);
    const scaled_inverse inv = inverse_std(var_s, k, eps);
    out[c].mean = std::ldexp(to_double(st.mean), k);
    out[c].invstd = std::ldexp(inv.r, -inv.j);
    out[c].unbiased_var = std::ldexp(to_double(st.m2 / Acc(m - 1)), 2 * k);
    out[c].biased_var = std::ldexp(to_double(var_s), 2 * k);
    out[c].zero_variance = to_double(var_s) == 0;
    if (k != 0) {
      out[c].exponent = k;
      out[c].scaled_mean = to_double(st.mean);
      out[c].scaled_invstd = std::ldexp(inv.r, k - inv.j);
    }
  }
  return out;
}

}  // namespace BNCONFORM_CPU_ISA
}  // namespace bnconform::cpu
