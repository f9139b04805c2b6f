#pragma once
// How a problem is cut into thread blocks. Host-only and pure, so the ordinary
// test run checks it.
//
// Two schemes, both over the [outer][channels][inner] view (geometry.hpp):
// - rows (inner >= row_threshold = 256, channels-first with a large spatial size): a
//   block takes one channel and a slice of the outer index; its threads stride
//   along each contiguous run of `inner` elements. One partial per (slice, channel).
// - columns (inner < row_threshold: channels-last, or NCHW with tiny spatial size):
//   the tensor is a matrix outer x (channels * inner); a block takes 32 adjacent
//   columns and a slice of rows, each of its 32 x 8 threads keeps one column and
//   walks down its rows. Warps read 32 adjacent elements. One partial per
//   (slice, column); a channel owns `inner` adjacent columns.
// Slices are chosen so that about `target_blocks` blocks run at once while each
// thread still folds enough elements to amortize the merge.
#include <algorithm>
#include <cstdint>

#include "geometry.hpp"

namespace bnconform::cuda {

constexpr std::int64_t row_threshold = 256;
constexpr int row_block_threads = 256;  // rows scheme: one channel, 256 threads
constexpr int column_tile = 32;         // columns scheme: 32 columns x 8 rows of threads
constexpr int column_block_rows = 8;
// Fewest elements a thread should fold before its state is merged.
constexpr std::int64_t min_elements_per_thread = 16;

enum class scheme { rows, columns };

struct launch_plan {
  bnconform::cuda::scheme scheme = scheme::rows;
  std::int64_t slices = 1;                // parts of the outer index
  std::int64_t rows_per_slice = 0;        // outer indices per slice (the last may be short)
  std::int64_t tiles = 0;                 // columns scheme: column tiles; rows: channels
  std::int64_t per_slice = 1;             // partials per channel and slice: inner or 1
  std::int64_t partials_per_channel = 0;  // slices * per_slice
  std::int64_t channels = 0;
  BNC_HOST_DEVICE std::int64_t partial_count() const { return partials_per_channel * channels; }
  BNC_HOST_DEVICE std::int64_t blocks() const { return slices * tiles; }
};

inline std::int64_t ceil_div(std::int64_t a, std::int64_t b) { return (a + b - 1) / b; }

inline launch_plan plan_for(const geometry& g, std::int64_t target_blocks) {
  launch_plan p;
  p.channels = g.channels;
  p.scheme = g.inner >= row_threshold ? scheme::rows : scheme::columns;
  std::int64_t threads_per_slice_row = 0;  // threads that share one outer row of a block
  if (p.scheme == scheme::rows) {
    p.tiles = g.channels;
    threads_per_slice_row = row_block_threads;
  } else {
    p.tiles = ceil_div(g.channels * g.inner, column_tile);
    threads_per_slice_row = column_block_rows;
  }
  // Elements one block folds per outer row, per thread.
  const std::int64_t per_thread_per_row =
      p.scheme == scheme::rows ? ceil_div(g.inner, threads_per_slice_row) : 1;
  const std::int64_t rows = std::max<std::int64_t>(g.outer, 1);
  // Most slices that still leave each thread min_elements_per_thread elements.
  const std::int64_t rows_needed =
      std::max<std::int64_t>(1, ceil_div(min_elements_per_thread, per_thread_per_row) *
                                    (p.scheme == scheme::columns ? column_block_rows : 1));
  const std::int64_t max_slices = std::max<std::int64_t>(1, rows / rows_needed);
  const std::int64_t wanted =
      p.tiles > 0 ? std::max<std::int64_t>(1, ceil_div(target_blocks, p.tiles)) : 1;
  p.slices = std::min(max_slices, wanted);
  p.rows_per_slice = ceil_div(rows, p.slices);
  p.slices = ceil_div(rows, p.rows_per_slice);  // no empty slice
  p.per_slice = p.scheme == scheme::rows ? 1 : g.inner;
  p.partials_per_channel = p.slices * p.per_slice;
  return p;
}

// The outer indices [begin, end) of a slice.
struct row_range {
  std::int64_t begin, end;
};

BNC_HOST_DEVICE row_range rows_of(const launch_plan& p, const geometry& g, std::int64_t slice) {
  const std::int64_t begin = slice * p.rows_per_slice;
  const std::int64_t end = begin + p.rows_per_slice;
  return {begin, end < g.outer ? end : g.outer};
}

// Where the partial of (slice, channel c, inner column i) is stored: [slice][c][i]
// (i = 0 in the rows scheme). For the columns scheme this is slice * width + column.
BNC_HOST_DEVICE std::int64_t partial_index(const launch_plan& p, std::int64_t slice, std::int64_t c,
                                           std::int64_t i) {
  return (slice * p.channels + c) * p.per_slice + i;
}

// The k-th partial (0 <= k < partials_per_channel) of channel c, in merge order.
BNC_HOST_DEVICE std::int64_t channel_partial(const launch_plan& p, std::int64_t c, std::int64_t k) {
  return partial_index(p, k / p.per_slice, c, k % p.per_slice);
}

}  // namespace bnconform::cuda
