#pragma once
// The reduction and merge steps of the statistics, all in double.
//
// moments is a partial state (count, mean, M2) of Welford's update, merged with
// Chan, Golub and LeVeque's pairwise formula: no E[x^2] - E[x]^2 cancellation,
// so large offsets (|mean| / std up to 1e7 and beyond) keep their accuracy. The
// count is a double: exact to 2^53, where a float counter stops at 2^24.
// Non-finite inputs bypass the update and are summed into `special` (+Inf and
// -Inf give NaN, NaN stays NaN), so a channel with an Inf has mean +-Inf and
// variance NaN, as semantics.md requires, instead of Welford's NaN mean.
//
// gradient_sums are the backward reductions: sum dy and sum dy * (x - mean).
//
// Determinism: every thread folds its elements in a fixed order and partial states
// are merged in a fixed tree (tree_merge), never with atomics, so a result depends
// only on the problem and the launch plan, not on scheduling.
#include "host_device.hpp"

namespace bnconform::cuda {

// Plain aggregates (no member initializers) so that they can live in __shared__
// memory; value-initialize them (moments s{}) for the empty state.
struct moments {
  double count;
  double mean;
  double m2;       // sum of squared deviations from mean
  double special;  // sum of the non-finite inputs (0 when there are none)
};

BNC_HOST_DEVICE void accumulate(moments& s, double x) {
  if (!(x - x == 0)) {  // Inf or NaN: x - x is NaN exactly then
    s.special += x;
    return;
  }
  s.count += 1;
  const double delta = x - s.mean;
  s.mean += delta / s.count;
  s.m2 += delta * (x - s.mean);
}

BNC_HOST_DEVICE moments merge(const moments& a, const moments& b) {
  moments r{};
  r.special = a.special + b.special;
  r.count = a.count + b.count;
  if (b.count == 0) {
    r.mean = a.mean;
    r.m2 = a.m2;
  } else if (a.count == 0) {
    r.mean = b.mean;
    r.m2 = b.m2;
  } else {
    const double delta = b.mean - a.mean;
    const double weight_b = b.count / r.count;
    r.mean = a.mean + delta * weight_b;
    r.m2 = a.m2 + b.m2 + delta * delta * (a.count * weight_b);
  }
  return r;
}

struct gradient_sums {
  double dy;      // sum dy
  double dy_xmu;  // sum dy * (x - mean)
};

BNC_HOST_DEVICE void accumulate(gradient_sums& s, double x, double dy, double mean) {
  s.dy += dy;
  s.dy_xmu += dy * (x - mean);
}

BNC_HOST_DEVICE gradient_sums merge(const gradient_sums& a, const gradient_sums& b) {
  return {a.dy + b.dy, a.dy_xmu + b.dy_xmu};
}

// One level of the fixed merge tree over items[0, 2 * half): item t absorbs item
// t + half. On the device thread t runs it for its own t between barriers; on the
// host tree_merge runs the levels in turn. Width must be a power of two.
template <class T>
BNC_HOST_DEVICE void tree_level(T* items, int half, int t) {
  if (t < half) items[t] = merge(items[t], items[t + half]);
}

template <class T>
T tree_merge(T* items, int width) {
  for (int half = width / 2; half > 0; half /= 2) {
    for (int t = 0; t < half; ++t) tree_level(items, half, t);
  }
  return items[0];
}

}  // namespace bnconform::cuda
