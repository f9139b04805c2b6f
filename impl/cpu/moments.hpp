#pragma once
// Per-block partial results and the fixed-order combination of blocks.
//
// The reduction of every channel is cut into blocks that depend only on the
// problem (never on the thread count). Each block yields a record; the records of
// a channel are combined by a pairwise tree in block order. So the result is
// bitwise the same for any number of threads, and the tree keeps the rounding
// error of the combination growing with log2(blocks), not with m.
#include <cmath>
#include <cstdint>
#include <span>

#include "double_double.hpp"
#include "isa_namespace.hpp"

namespace bnconform::cpu {
inline namespace BNCONFORM_CPU_ISA {

// Count, mean and sum of squared deviations (M2) of one block or set of blocks.
template <class Acc>
struct moments {
  double count = 0;
  Acc mean = 0;
  Acc m2 = 0;
};

// A block's moments from its shifted sums: s1 = sum (x - k), s2 = sum (x - k)^2.
// With k one of the block's own values, (mean - k)^2 <= M2, so the cancellation in
// s2 - s1^2 / n loses at most a factor (1 + n) of relative accuracy: bounded by
// the block length, not by the data's offset. That is why every block takes its
// own shift (see README.md, "Accuracy").
template <class Acc>
moments<Acc> block_moments(double count, double k, Acc s1, Acc s2) {
  moments<Acc> out;
  out.count = count;
  const Acc shift_of_mean = s1 / Acc(count);
  out.mean = Acc(k) + shift_of_mean;
  out.m2 = s2 - s1 * shift_of_mean;
  if (to_double(out.m2) < 0) out.m2 = Acc(0);  // rounding only; NaN stays NaN
  return out;
}

// Chan, Golub and LeVeque's pairwise update (the parallel form of Welford's
// algorithm): every term of the new M2 is non-negative, so the combination adds no
// cancellation of its own.
template <class Acc>
moments<Acc> combine(const moments<Acc>& a, const moments<Acc>& b) {
  if (a.count == 0) return b;
  if (b.count == 0) return a;
  moments<Acc> out;
  out.count = a.count + b.count;
  const Acc delta = b.mean - a.mean;
  if (!isfinite(delta)) {
    // An infinite or NaN block mean: the delta form would turn Inf - Inf into NaN
    // where the plain weighted mean is +-Inf (semantics.md: +Inf in a channel gives
    // mean +Inf). The M2 of such a block is NaN already.
    out.mean = a.mean * Acc(a.count / out.count) + b.mean * Acc(b.count / out.count);
    out.m2 = a.m2 + b.m2 + delta * delta;
    return out;
  }
  out.mean = a.mean + delta * Acc(b.count) / Acc(out.count);
  out.m2 = a.m2 + b.m2 + delta * delta * Acc(a.count) * Acc(b.count) / Acc(out.count);
  return out;
}

inline double plus(double a, double b) { return a + b; }
inline dd plus(const dd& a, const dd& b) { return a + b; }

// Combines records[0..n) in place by a pairwise tree in index order; returns the
// combination of all (records[0] afterwards). `join` is the binary operation.
template <class T, class Join>
T tree_reduce(std::span<T> records, const Join& join) {
  const std::size_t n = records.size();
  if (n == 0) return T{};
  for (std::size_t width = 1; width < n; width *= 2) {
    for (std::size_t i = 0; i + width < n; i += 2 * width) {
      records[i] = join(records[i], records[i + width]);
    }
  }
  return records[0];
}

}  // namespace BNCONFORM_CPU_ISA
}  // namespace bnconform::cpu
