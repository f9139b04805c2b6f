#pragma once
// Per-channel batch statistics (mean, invstd, unbiased variance) in f64, valid over
// the whole range of the data type.
//
// The moments of channel_moments() are exact-range for f32, f16 and bf16 data
// (squares of f32 differences lie in [2^-298, 2^258], well inside f64). For f64 data
// they are not: squares of differences above about 2^512 overflow and below about
// 2^-537 underflow, so a channel of values near 2^511 gets a NaN variance and one
// near 2^-540 a zero variance, although both exact answers are doubles
// (golden degenerate.overflow64 and .underflow64). Such a channel is detected after
// the fast pass (finite mean, and a variance that is not finite or below 2^-900) and
// its moments are recomputed from x * 2^-k, k the exponent of its largest |x|: a
// power-of-two scaling is exact (bar values that become subnormal, which lie 2^-1022
// below the channel's largest and cannot matter), and the scaled squares are in
// range. The scale is folded back where nothing overflows: mean = mean_s 2^k and
// invstd = 2^-j / sqrt(var_s 2^(2k - 2j) + eps 2^-2j), j half the exponent of the
// larger of the two terms, so the sum under the root is near 1 and the smaller term
// can only underflow (negligibly), never overflow. Every step of this is a function
// of the data alone, so the results stay the same for any thread count.
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
  bool zero_variance = false;
};

inline dd scale_by_power_of_two(const dd& v, int e) {
  return {std::ldexp(v.hi, e), std::ldexp(v.lo, e)};
}
inline double scale_by_power_of_two(double v, int e) { return std::ldexp(v, e); }

// floor(e / 2) for any int e.
inline int half_floor(int e) { return e >= 0 ? e / 2 : -((1 - e) / 2); }

// 1 / sqrt(var_s 2^2k + eps) without forming var_s 2^2k (see the top of the file).
// With k == 0 it is the plain formula: one rounding of var + eps, sqrt, division.
template <class Acc>
double inverse_std(const Acc& var_s, int k, double eps) {
  if (k == 0) return 1.0 / std::sqrt(to_double(var_s + Acc(eps)));
  const double v = to_double(var_s);
  int e = (v > 0 && std::isfinite(v)) ? std::ilogb(v) + 2 * k : INT_MIN;
  if (eps > 0 && std::isfinite(eps) && std::ilogb(eps) > e) e = std::ilogb(eps);
  const int j = e == INT_MIN ? k : half_floor(e);
  const Acc t = scale_by_power_of_two(var_s, 2 * k - 2 * j) + Acc(std::ldexp(eps, -2 * j));
  return std::ldexp(1.0 / std::sqrt(to_double(t)), -j);
}

// The values of channel c in reduction order, times 2^-k where k is the exponent of
// their largest magnitude; k = 0 (and nothing written) when that exponent is within
// [-400, 400], where the fast pass is accurate.
inline int scaled_channel(const geometry& g, const double* x, std::int64_t c,
                          variant_vector<double>& out) {
  auto at = [&](std::int64_t i) {
    return g.channels_innermost ? x[i * g.channels + c]
                                : x[((i / g.spatial) * g.channels + c) * g.spatial + i % g.spatial];
  };
  double largest = 0;
  for (std::int64_t i = 0; i < g.m; ++i) largest = std::fmax(largest, std::fabs(at(i)));
  if (largest == 0) return 0;
  const int k = std::ilogb(largest);
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
      const bool out_of_range = !std::isfinite(m2) || m2 < 0x1p-900;
      if (!std::isfinite(mean) || !out_of_range) continue;
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
    out[c].mean = std::ldexp(to_double(st.mean), k);
    out[c].invstd = inverse_std(var_s, k, eps);
    out[c].unbiased_var = std::ldexp(to_double(st.m2 / Acc(m - 1)), 2 * k);
    out[c].zero_variance = to_double(var_s) == 0;
  }
  return out;
}

}  // namespace BNCONFORM_CPU_ISA
}  // namespace bnconform::cpu
