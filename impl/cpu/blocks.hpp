#pragma once
// How a problem is cut into blocks of work. Everything here is a function of the
// geometry alone, which is what makes the results independent of the thread count.
#include <algorithm>
#include <cstdint>

#include "call_plan.hpp"

namespace bnconform::cpu {

// Channels-first: each channel's reduction [0, m) in blocks of this many elements.
// Long enough that per-block work (a shift, one record) is noise; short enough
// that the shifted-sum bound (1 + n) n u_acc stays tiny (README.md, "Accuracy").
inline constexpr std::int64_t block_elements = 4096;
// Channels-first: SIMD lanes of one block's partial sums.
inline constexpr int channel_lanes = 8;
// Channels-last: channels per tile (the lanes of a block), and the row range of a
// block, chosen so that a block holds about block_elements values.
inline constexpr int tile_channels = 256;

struct block_grid {
  std::int64_t rows_per_block = 0;  // reduction indices per block
  std::int64_t blocks = 0;          // per channel
  std::int64_t tiles = 1;           // channels-last only
};

inline block_grid grid_of(const geometry& g) {
  block_grid b;
  if (g.channels_innermost) {
    const std::int64_t width =
        std::max<std::int64_t>(1, std::min<std::int64_t>(g.channels, tile_channels));
    b.rows_per_block = std::clamp<std::int64_t>(block_elements / width, 16, block_elements);
    b.tiles = (g.channels + tile_channels - 1) / tile_channels;
  } else {
    b.rows_per_block = block_elements;
  }
  b.blocks = (g.m + b.rows_per_block - 1) / b.rows_per_block;
  return b;
}

// Memory offset of element (r, c), r = n * S + s.
inline std::int64_t offset_of(const geometry& g, std::int64_t r, std::int64_t c) {
  if (g.channels_innermost) return r * g.channels + c;
  const std::int64_t n = r / g.spatial;
  const std::int64_t s = r - n * g.spatial;
  return (n * g.channels + c) * g.spatial + s;
}

// Calls run(offset, length) for the contiguous runs of channel c's reduction
// indices [r0, r1) in a channels-first tensor (each run lies within one row (n, c)).
template <class Run>
void for_each_run(const geometry& g, std::int64_t c, std::int64_t r0, std::int64_t r1,
                  const Run& run) {
  std::int64_t r = r0;
  while (r < r1) {
    const std::int64_t n = r / g.spatial;
    const std::int64_t s = r - n * g.spatial;
    const std::int64_t length = std::min(g.spatial - s, r1 - r);
    run((n * g.channels + c) * g.spatial + s, length);
    r += length;
  }
}

}  // namespace bnconform::cpu
