#pragma once
// The exact per-channel sums the exact engine derives every statistic from, and
// the passes that accumulate them: each pass is cut into pieces (a block of
// channels times a range of rows) that threads run in any order; the pieces'
// sums are merged exactly, so the result never depends on the thread count.
#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <vector>

#include "core/problem.hpp"
#include "superaccumulator.hpp"

namespace bnconform::reference::exact {

// Which sums a pass accumulates.
struct sum_request {
  bool x = false;                                // sum x and sum x^2
  bool abs_x = false;                            // sum |x|
  bool dy = false;                               // sum dy and sum dy * x
  bool abs_dy = false;                           // sum |dy|, and the signed sums below
  const std::vector<double>* pivot = nullptr;    // per channel: sign(x - pivot) weights
  const std::vector<int>* pivot_sign = nullptr;  // sign(pivot - mean) where x == pivot
};

struct channel_sums {
  linear_sum x, abs_x, dy, abs_dy;
  quadratic_sum x2, dy_x;
  // sum s_i |dy_i| and sum s_i |dy_i| x_i, s_i = sign(x_i - mean): with them,
  // sum |dy_i (x_i - mean)| is exact without knowing the mean to the last bit.
  linear_sum signed_abs_dy;
  quadratic_sum signed_abs_dy_x;
  bool nonfinite = false;    // a NaN or infinity among the values read
  int top_exponent = -1023;  // of the largest |x| read (subnormals count as -1023)

  void merge(const channel_sums& o) {
    top_exponent = std::max(top_exponent, o.top_exponent);
    x.add(o.x);
    abs_x.add(o.abs_x);
    dy.add(o.dy);
    abs_dy.add(o.abs_dy);
    x2.add(o.x2);
    dy_x.add(o.dy_x);
    signed_abs_dy.add(o.signed_abs_dy);
    signed_abs_dy_x.add(o.signed_abs_dy_x);
    nonfinite = nonfinite || o.nonfinite;
  }
};

// One piece of work: channels [c0, c1) times rows [r0, r1) (a row is one (n, s)).
struct piece {
  std::int64_t c0, c1, r0, r1;
};

// Pieces covering the whole problem, enough of them for `threads` threads, each
// channels-last piece a block of adjacent channels so that it reads whole lines.
std::vector<piece> make_pieces(const problem& p, int threads);

// Calls f(channel, memory offset) for every element of a piece, in memory order
// within each channel's run.
template <class F>
void for_each_in_piece(const problem& p, const piece& w, F&& f) {
  const std::int64_t spatial = p.spatial_size();
  const std::int64_t channels = p.channels();
  if (p.layout() == layout::channels_last) {
    for (std::int64_t r = w.r0; r < w.r1; ++r) {
      for (std::int64_t c = w.c0; c < w.c1; ++c) f(c, r * channels + c);
    }
    return;
  }
  for (std::int64_t c = w.c0; c < w.c1; ++c) {
    std::int64_t r = w.r0;
    while (r < w.r1) {
      const std::int64_t n = r / spatial;
      const std::int64_t s = r % spatial;
      const std::int64_t run = std::min(spatial - s, w.r1 - r);
      const std::int64_t base = (n * channels + c) * spatial + s;
      for (std::int64_t k = 0; k < run; ++k) f(c, base + k);
      r += run;
    }
  }
}

// The sums of every channel, accumulated over all pieces in parallel.
std::vector<channel_sums> accumulate(const problem& p, const std::vector<double>& x,
                                     const std::vector<double>& dy, const sum_request& what);

}  // namespace bnconform::reference::exact
