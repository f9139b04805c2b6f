#pragma once
// The elementwise passes and the gradient sums of f64 channels near the ends of the
// exponent range, computed from x * 2^-k (README.md, "Extreme ranges").
//
// A spread of subnormals has invstd about 2^1070, beyond f64, although y is about 1;
// values of both signs near 2^1023 overflow x - mean; and the products dy (x - mean)
// of such channels overflow or lose their low bits to underflow. In terms of the
// scaled values x 2^-k (exact: a power of two), with mean_s = mean 2^-k and
// invstd_s = invstd 2^k:
//   y  = (x 2^-k - mean_s) (gamma invstd_s) + beta
//   sum dy (x - mean) invstd = sum dy (x 2^-k - mean_s) invstd_s       (dgamma)
//   dx = ((dy - mean(dy)) - (x 2^-k - mean_s) slope_s) (gamma invstd_s) 2^-k,
//        slope_s = invstd_s^2 sum dy (x 2^-k - mean_s) / m
// and every intermediate is in range. The normalization has the same operations as
// normalize.hpp's, on x 2^-k. Such channels are rare (the fast passes detect them,
// statistics.hpp and backward.hpp), so they run here one at a time, in scalar code:
// the outputs go to a buffer first, written over the fast pass's after it (so a
// call still allocates before its first write, and x is read before y is written).
// Each depends on its channel's data alone, so results stay the same for any thread
// count.
#include <cmath>
#include <cstdint>
#include <span>

#include "blocks.hpp"
#include "double_double.hpp"
#include "isa_namespace.hpp"
#include "normalize.hpp"
#include "reductions.hpp"
#include "statistics.hpp"
#include "variant_vector.hpp"

namespace bnconform::cpu {
inline namespace BNCONFORM_CPU_ISA {

struct rescaled_channel {
  std::int64_t c = 0;
  int k = 0;          // the channel is read as x 2^-k
  double mean = 0;    // mean 2^-k
  double invstd = 0;  // invstd 2^k
  double scale = 0;   // of the elementwise pass (gamma invstd 2^k, or gamma invstd)
  int post = 0;       // dx is multiplied by 2^post at the end (-k, or 0)
  double dgamma = 0;
  variant_vector<double> out;  // y or dx, in reduction order
};

// x 2^-k of channel c, in reduction order.
inline void gather_scaled(const geometry& g, const double* x, std::int64_t c, int k,
                          variant_vector<double>& out) {
  out.resize(static_cast<std::size_t>(g.m));
  for (std::int64_t i = 0; i < g.m; ++i) {
    out[static_cast<std::size_t>(i)] = std::ldexp(x[channel_offset(g, c, i)], -k);
  }
}

// Whether every value of channel c is zero.
inline bool all_zero(const geometry& g, const double* v, std::int64_t c) {
  for (std::int64_t i = 0; i < g.m; ++i) {
    if (v[channel_offset(g, c, i)] != 0) return false;
  }
  return true;
}

// y = (x 2^-k - mean_s) scale + offset of the channel, into r.out.
inline void rescaled_normalize(const geometry& g, const double* x, double offset,
                               rescaled_channel& r) {
  gather_scaled(g, x, r.c, r.k, r.out);
  for (double& v : r.out) v = normalized(v, r.mean, r.scale, offset);
}

// sum dy and sum dy (x 2^-k - mean_s) of the channel: the same blocks and
// double-double accumulation as the fast pass, on the gathered channel.
inline gradient_totals<dd> rescaled_gradient_sums(const geometry& g, const double* x,
                                                  const double* dy, const rescaled_channel& r) {
  variant_vector<double> xs, dys(static_cast<std::size_t>(g.m));
  gather_scaled(g, x, r.c, r.k, xs);
  for (std::int64_t i = 0; i < g.m; ++i) {
    dys[static_cast<std::size_t>(i)] = dy[channel_offset(g, r.c, i)];
  }
  geometry one;
  one.batch = 1;
  one.channels = 1;
  one.spatial = g.m;
  one.m = g.m;
  return channel_gradient_sums(one, xs.data(), dys.data(), std::span<const double>(&r.mean, 1))[0];
}

// dx = ((dy - mean_dy) - (x 2^-k - mean_s) slope) scale 2^post of the channel, into r.out.
inline void rescaled_input_gradient(const geometry& g, const double* x, const double* dy,
                                    double mean_dy, double slope, rescaled_channel& r) {
  gather_scaled(g, x, r.c, r.k, r.out);
  for (std::int64_t i = 0; i < g.m; ++i) {
    double& v = r.out[static_cast<std::size_t>(i)];
    v = batch_input_gradient(v, dy[channel_offset(g, r.c, i)], r.mean, r.scale, mean_dy, slope);
    if (r.post != 0) v = std::ldexp(v, r.post);
  }
}

// Writes the buffered outputs of the rescaled channels over the fast pass's.
inline void write_rescaled(const geometry& g, std::span<const rescaled_channel> channels,
                           double* out) {
  for (const rescaled_channel& r : channels) {
    for (std::int64_t i = 0; i < g.m; ++i) {
      out[channel_offset(g, r.c, i)] = r.out[static_cast<std::size_t>(i)];
    }
  }
}

}  // namespace BNCONFORM_CPU_ISA
}  // namespace bnconform::cpu
