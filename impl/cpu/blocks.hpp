#pragma once
// How a problem is cut into blocks of work. Everything here is a function of the
// geometry alone, which is what makes the results independent of the thread count.
#include <cstdint>

#include "call_plan.hpp"
#include "isa_namespace.hpp"

namespace bnconform::cpu {
inline namespace BNCONFORM_CPU_ISA {

// About this many values per block: long enough that per-block work (a shift, one
// record, one combination) is noise; short enough that the shifted-sum bound
// (1 + n) n u_acc stays tiny (README.md, "Accuracy").
inline constexpr std::int64_t block_elements = 4096;
// Channels-first: SIMD lanes of one block's partial sums.
inline constexpr int channel_lanes = 8;
// Channels-last: channels per tile (the lanes of a block), and about this many
// values per tile block (its rows stay <= block_elements): the per-block work
// (C shifts, C records) is amortized over more rows than in channels-first.
// 32 x 4096 values rather than 8 x 4096: measured in one process, interleaved
// call by call (2 threads, x86-64-v4, ab_variants, time with 32 / time with 8),
// forward training 0.80-0.88 (32x512x14x14 bf16 0.81, 32x128x28x28 bf16 0.87,
// 32x256x14x14 f32 0.86) and backward 0.92-0.99; 64 x 4096 gained a little more at
// 256 and 512 channels but lost at 32x2048x7x7 (16 work items for two threads).
inline constexpr int tile_channels = 256;
inline constexpr std::int64_t tile_elements = 32 * block_elements;

inline std::int64_t smaller(std::int64_t a, std::int64_t b) { return a < b ? a : b; }
inline std::int64_t larger(std::int64_t a, std::int64_t b) { return a < b ? b : a; }
inline std::int64_t ceil_div(std::int64_t a, std::int64_t b) { return (a + b - 1) / b; }

// The blocks of every channel's reduction.
//  Channels-last: block j is the rows (reduction indices) [j R, (j + 1) R) of a tile
//  of up to tile_channels channels.
//  Channels-first: block j is whole rows (n, c) for n in a range of batch_per_block
//  values when S <= block_elements, else one of chunks_per_row pieces of one row.
//  Work items run in memory order (block-major, channel-minor), so each thread
//  streams through memory.
struct block_grid {
  std::int64_t blocks = 0;  // per channel
  // channels-last
  std::int64_t rows_per_block = 0;
  std::int64_t tiles = 1;
  // channels-first
  std::int64_t batch_per_block = 1;
  std::int64_t chunks_per_row = 1;
  std::int64_t chunk_length = 0;
};

inline block_grid grid_of(const geometry& g) {
  block_grid b;
  if (g.channels_innermost) {
    const std::int64_t width = larger(1, smaller(g.channels, tile_channels));
    b.rows_per_block = larger(16, smaller(block_elements, tile_elements / width));
    b.tiles = ceil_div(g.channels, tile_channels);
    b.blocks = ceil_div(g.m, b.rows_per_block);
  } else if (g.spatial <= block_elements) {
    b.batch_per_block = larger(1, block_elements / larger(g.spatial, 1));
    b.chunk_length = g.spatial;
    b.blocks = ceil_div(g.batch, b.batch_per_block);
  } else {
    b.chunks_per_row = ceil_div(g.spatial, block_elements);
    b.chunk_length = ceil_div(g.spatial, b.chunks_per_row);
    b.blocks = g.batch * b.chunks_per_row;
  }
  return b;
}

// A channels-first block of channel c: its runs, each contiguous in memory.
struct block_runs {
  std::int64_t first_offset;  // of the block's first value
  std::int64_t n0, n1;        // batch range
  std::int64_t s0, length;    // spatial start and run length
  std::int64_t count() const { return (n1 - n0) * length; }
};

inline block_runs runs_of(const geometry& g, const block_grid& b, std::int64_t c, std::int64_t j) {
  const std::int64_t row_block = j / b.chunks_per_row;
  const std::int64_t chunk = j - row_block * b.chunks_per_row;
  block_runs r;
  r.n0 = row_block * b.batch_per_block;
  r.n1 = smaller(g.batch, r.n0 + b.batch_per_block);
  r.s0 = chunk * b.chunk_length;
  r.length = smaller(g.spatial, r.s0 + b.chunk_length) - r.s0;
  r.first_offset = (r.n0 * g.channels + c) * g.spatial + r.s0;
  return r;
}

// Calls run(offset) for the start of each run of the block (each `length` long).
template <class Run>
void for_each_run(const geometry& g, const block_runs& r, const Run& run) {
  const std::int64_t stride = g.channels * g.spatial;
  for (std::int64_t n = r.n0, offset = r.first_offset; n < r.n1; ++n, offset += stride) run(offset);
}

}  // namespace BNCONFORM_CPU_ISA
}  // namespace bnconform::cpu
