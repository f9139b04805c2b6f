#include "channel_sums.hpp"

#include <algorithm>
#include <bit>
#include <memory>

#include "parallel.hpp"

namespace bnconform::reference::exact {

std::vector<piece> make_pieces(const problem& p, int threads) {
  const std::int64_t channels = p.channels();
  const std::int64_t rows = p.reduction_size();
  const std::int64_t block = p.layout() == layout::channels_last ? 8 : 1;
  const std::int64_t blocks = (channels + block - 1) / block;
  if (blocks == 0) return {};
  // Split rows only when there are too few channel blocks to keep every thread
  // busy, and never below 4096 rows a piece.
  std::int64_t splits = 1;
  const std::int64_t wanted = 4 * static_cast<std::int64_t>(threads);
  if (blocks < wanted) splits = std::max<std::int64_t>(1, std::min(wanted / blocks, rows / 4096));
  std::vector<piece> pieces;
  for (std::int64_t b = 0; b < blocks; ++b) {
    const std::int64_t c0 = b * block;
    const std::int64_t c1 = std::min(channels, c0 + block);
    for (std::int64_t k = 0; k < splits; ++k) {
      pieces.push_back({c0, c1, rows * k / splits, rows * (k + 1) / splits});
    }
  }
  return pieces;
}

namespace {

void accumulate_piece(const problem& p, const piece& w, const std::vector<double>& x,
                      const std::vector<double>& dy, const sum_request& what, channel_sums* sums) {
  for_each_in_piece(p, w, [&](std::int64_t c, std::int64_t i) {
    channel_sums& s = sums[c - w.c0];
    const double xv = x[static_cast<std::size_t>(i)];
    if (!std::isfinite(xv)) {
      s.nonfinite = true;
      return;
    }
    if (what.x) {
      const int biased = static_cast<int>((std::bit_cast<std::uint64_t>(xv) >> 52) & 0x7ff);
      s.top_exponent = std::max(s.top_exponent, std::max(biased, 1) - 1023);
      s.x.add(xv);
      s.x2.add_product(xv, xv);
    }
    if (what.abs_x) s.abs_x.add_magnitude(xv);
    if (!what.dy && !what.abs_dy) return;
    const double d = dy[static_cast<std::size_t>(i)];
    if (!std::isfinite(d)) {
      s.nonfinite = true;
      return;
    }
    if (what.dy) {
      s.dy.add(d);
      s.dy_x.add_product(d, xv);
    }
    if (what.abs_dy) {
      s.abs_dy.add_magnitude(d);
      const double pivot = (*what.pivot)[static_cast<std::size_t>(c)];
      const int sign = xv > pivot   ? 1
                       : xv < pivot ? -1
                                    : (*what.pivot_sign)[static_cast<std::size_t>(c)];
      if (sign != 0) {
        const double weighted = sign > 0 ? std::fabs(d) : -std::fabs(d);
        s.signed_abs_dy.add(weighted);
        s.signed_abs_dy_x.add_product(weighted, xv);
      }
    }
  });
}

}  // namespace

std::vector<channel_sums> accumulate(const problem& p, const std::vector<double>& x,
                                     const std::vector<double>& dy, const sum_request& what) {
  const std::vector<piece> pieces = make_pieces(p, worker_count());
  std::vector<std::unique_ptr<channel_sums[]>> partial(pieces.size());
  parallel_for(static_cast<std::int64_t>(pieces.size()), p.element_count(), [&](std::int64_t k) {
    const piece& w = pieces[static_cast<std::size_t>(k)];
    partial[static_cast<std::size_t>(k)] =
        std::make_unique<channel_sums[]>(static_cast<std::size_t>(w.c1 - w.c0));
    accumulate_piece(p, w, x, dy, what, partial[static_cast<std::size_t>(k)].get());
  });
  std::vector<channel_sums> total(static_cast<std::size_t>(p.channels()));
  for (std::size_t k = 0; k < pieces.size(); ++k) {
    for (std::int64_t c = pieces[k].c0; c < pieces[k].c1; ++c) {
      total[static_cast<std::size_t>(c)].merge(partial[k][c - pieces[k].c0]);
    }
  }
  return total;
}

}  // namespace bnconform::reference::exact
