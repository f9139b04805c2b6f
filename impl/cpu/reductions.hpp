#pragma once
// The two reductions over memory: per-channel moments of x (forward), and per-channel
// sum dy and sum dy (x - mean) (backward). One read of the inputs each; blocks run in
// parallel, each writing its own record; records combine in a fixed tree per channel.
#include <cstdint>
#include <span>
#include <type_traits>
#include <vector>

#include "blocks.hpp"
#include "isa_namespace.hpp"
#include "lane_sums.hpp"
#include "moments.hpp"
#include "threading.hpp"

namespace bnconform::cpu {
inline namespace BNCONFORM_CPU_ISA {

// Channels-first blocks read a run of each of several rows of one channel (batch
// items n0..n1), the next block the same rows' runs of the next channel, which lie
// just after them: several interleaved streams, each a few KiB between jumps, which
// the hardware prefetchers follow poorly. Prefetching this many bytes ahead in the
// run (past its end: the next channel's run, which the same thread usually reads
// next) took the forward 0.70-0.75x the time at 32x512x28x28 f32 and bf16 and the
// backward 0.78-0.9x; 32x64x112x112 f32 forward 0.82-0.87x, 32x64x56x56 0.95x;
// in-cache shapes the same (ab_variants, 2 threads, x86-64-v4-bf16, in one process
// against the same build without it, 2-3 runs: impl/cpu/RESULTS.md).
inline constexpr std::int64_t prefetch_distance = 1024;

// Per-channel moments (count, mean, M2) of x.
template <class S>
std::vector<moments<accumulator_for<S>>> channel_moments(const geometry& g, const S* x) {
  using Acc = accumulator_for<S>;
  const block_grid grid = grid_of(g);
  const std::int64_t channels = g.channels;
  std::vector<moments<Acc>> records(static_cast<std::size_t>(channels * grid.blocks));
  auto record = [&](std::int64_t c, std::int64_t j) -> moments<Acc>& {
    return records[static_cast<std::size_t>(c * grid.blocks + j)];
  };

  if (g.channels_innermost) {
    parallel_for(
        grid.blocks * grid.tiles, grid.rows_per_block * tile_channels, [&](std::int64_t item) {
          const std::int64_t j = item / grid.tiles;
          const std::int64_t c0 = (item % grid.tiles) * tile_channels;
          const int width = static_cast<int>(smaller(tile_channels, channels - c0));
          const std::int64_t r0 = j * grid.rows_per_block;
          const std::int64_t r1 = smaller(g.m, r0 + grid.rows_per_block);
          double shift[tile_channels];
          const S* first = x + r0 * channels + c0;
          for (int l = 0; l < width; ++l)
            shift[l] = usable_shift(static_cast<double>(widen(first[l])));
          const auto count = static_cast<double>(r1 - r0);
          if constexpr (std::is_same_v<Acc, double>) {
            tile_sums<tile_channels> sums;
            sums.start(shift, width);
            sums.add_rows(x + r0 * channels + c0, channels, r1 - r0);
            for (int l = 0; l < width; ++l) {
              record(c0 + l, j) = block_moments<Acc>(count, shift[l], sums.sum1(l), sums.sum2(l));
            }
          } else {
            shifted_sums<Acc, tile_channels> sums;
            for (int l = 0; l < width; ++l) sums.shift[l] = shift[l];
            sums.reset(width);
            for (std::int64_t r = r0; r < r1; ++r) sums.add_run(x + r * channels + c0, width, 0);
            for (int l = 0; l < width; ++l) {
              record(c0 + l, j) = block_moments<Acc>(count, shift[l], sums.sum1(l), sums.sum2(l));
            }
          }
        });
  } else {
    parallel_for(channels * grid.blocks, block_elements, [&](std::int64_t item) {
      const std::int64_t j = item / channels;
      const std::int64_t c = item - j * channels;
      const block_runs runs = runs_of(g, grid, c, j);
      const double shift = usable_shift(static_cast<double>(widen(x[runs.first_offset])));
      Acc s1[channel_lanes], s2[channel_lanes];
      if constexpr (std::is_same_v<Acc, double>) {
        shifted_sums_x8 sums(shift);
        for_each_run(g, runs, [&](std::int64_t offset) {
          const S* p = x + offset;
          std::int64_t i = 0;
          for (; i + channel_lanes <= runs.length; i += channel_lanes) {
            prefetch_ahead(p + i, prefetch_distance);
            sums.add8(p + i);
          }
          for (; i < runs.length; ++i) sums.add1(p + i);
        });
        for (int l = 0; l < channel_lanes; ++l) {
          s1[l] = sums.sum1(l);
          s2[l] = sums.sum2(l);
        }
      } else {
        shifted_sums<Acc, channel_lanes> sums;
        for (double& s : sums.shift) s = shift;
        sums.reset(channel_lanes);
        for_each_run(g, runs, [&](std::int64_t offset) {
          const S* p = x + offset;
          std::int64_t i = 0;
          for (; i + channel_lanes <= runs.length; i += channel_lanes) {
            sums.add_run(p + i, channel_lanes, 0);
          }
          for (; i < runs.length; ++i) sums.add_run(p + i, 1, 0);
        });
        for (int l = 0; l < channel_lanes; ++l) {
          s1[l] = sums.sum1(l);
          s2[l] = sums.sum2(l);
        }
      }
      const auto add = [](const Acc& a, const Acc& b) { return plus(a, b); };
      record(c, j) = block_moments<Acc>(static_cast<double>(runs.count()), shift,
                                        tree_reduce(std::span<Acc>(s1), add),
                                        tree_reduce(std::span<Acc>(s2), add));
    });
  }

  std::vector<moments<Acc>> out(static_cast<std::size_t>(channels));
  parallel_for(channels, 4 * grid.blocks, [&](std::int64_t c) {
    const std::span<moments<Acc>> blocks(records.data() + c * grid.blocks,
                                         static_cast<std::size_t>(grid.blocks));
    out[static_cast<std::size_t>(c)] = tree_reduce(
        blocks, [](const moments<Acc>& a, const moments<Acc>& b) { return combine(a, b); });
  });
  return out;
}

// sum dy and sum dy * (x - mean_c) of one channel.
template <class Acc>
struct gradient_totals {
  Acc dy = 0;
  Acc dy_centered = 0;
};

template <class Acc>
gradient_totals<Acc> add(const gradient_totals<Acc>& a, const gradient_totals<Acc>& b) {
  return {plus(a.dy, b.dy), plus(a.dy_centered, b.dy_centered)};
}

template <class S>
std::vector<gradient_totals<accumulator_for<S>>> channel_gradient_sums(
    const geometry& g, const S* x, const S* dy, std::span<const double> mean) {
  using Acc = accumulator_for<S>;
  const block_grid grid = grid_of(g);
  const std::int64_t channels = g.channels;
  std::vector<gradient_totals<Acc>> records(static_cast<std::size_t>(channels * grid.blocks));
  auto record = [&](std::int64_t c, std::int64_t j) -> gradient_totals<Acc>& {
    return records[static_cast<std::size_t>(c * grid.blocks + j)];
  };

  if (g.channels_innermost) {
    parallel_for(
        grid.blocks * grid.tiles, 2 * grid.rows_per_block * tile_channels, [&](std::int64_t item) {
          const std::int64_t j = item / grid.tiles;
          const std::int64_t c0 = (item % grid.tiles) * tile_channels;
          const int width = static_cast<int>(smaller(tile_channels, channels - c0));
          const std::int64_t r0 = j * grid.rows_per_block;
          const std::int64_t r1 = smaller(g.m, r0 + grid.rows_per_block);
          if constexpr (std::is_same_v<Acc, double>) {
            tile_sums<tile_channels> sums;
            sums.start(mean.data() + c0, width);
            sums.add_rows(x + r0 * channels + c0, dy + r0 * channels + c0, channels, r1 - r0);
            for (int l = 0; l < width; ++l) record(c0 + l, j) = {sums.sum1(l), sums.sum2(l)};
          } else {
            gradient_sums<Acc, tile_channels> sums;
            for (int l = 0; l < width; ++l) sums.mean[l] = mean[static_cast<std::size_t>(c0 + l)];
            sums.reset(width);
            for (std::int64_t r = r0; r < r1; ++r) {
              sums.add_run(x + r * channels + c0, dy + r * channels + c0, width, 0);
            }
            for (int l = 0; l < width; ++l) record(c0 + l, j) = {sums.sum1(l), sums.sum2(l)};
          }
        });
  } else {
    parallel_for(channels * grid.blocks, 2 * block_elements, [&](std::int64_t item) {
      const std::int64_t j = item / channels;
      const std::int64_t c = item - j * channels;
      const block_runs runs = runs_of(g, grid, c, j);
      const double mu = mean[static_cast<std::size_t>(c)];
      gradient_totals<Acc> lanes[channel_lanes];
      if constexpr (std::is_same_v<Acc, double>) {
        gradient_sums_x8 sums(mu);
        for_each_run(g, runs, [&](std::int64_t offset) {
          const S* px = x + offset;
          const S* pd = dy + offset;
          std::int64_t i = 0;
          for (; i + channel_lanes <= runs.length; i += channel_lanes) {
            prefetch_ahead(px + i, prefetch_distance);
            prefetch_ahead(pd + i, prefetch_distance);
            sums.add8(px + i, pd + i);
          }
          for (; i < runs.length; ++i) sums.add1(px + i, pd + i);
        });
        for (int l = 0; l < channel_lanes; ++l) lanes[l] = {sums.sum1(l), sums.sum2(l)};
      } else {
        gradient_sums<Acc, channel_lanes> sums;
        for (double& v : sums.mean) v = mu;
        sums.reset(channel_lanes);
        for_each_run(g, runs, [&](std::int64_t offset) {
          const S* px = x + offset;
          const S* pd = dy + offset;
          std::int64_t i = 0;
          for (; i + channel_lanes <= runs.length; i += channel_lanes) {
            sums.add_run(px + i, pd + i, channel_lanes, 0);
          }
          for (; i < runs.length; ++i) sums.add_run(px + i, pd + i, 1, 0);
        });
        for (int l = 0; l < channel_lanes; ++l) lanes[l] = {sums.sum1(l), sums.sum2(l)};
      }
      record(c, j) = tree_reduce(std::span<gradient_totals<Acc>>(lanes),
                                 [](const auto& a, const auto& b) { return add(a, b); });
    });
  }

  std::vector<gradient_totals<Acc>> out(static_cast<std::size_t>(channels));
  parallel_for(channels, 2 * grid.blocks, [&](std::int64_t c) {
    const std::span<gradient_totals<Acc>> blocks(records.data() + c * grid.blocks,
                                                 static_cast<std::size_t>(grid.blocks));
    out[static_cast<std::size_t>(c)] =
        tree_reduce(blocks, [](const auto& a, const auto& b) { return add(a, b); });
  });
  return out;
}

}  // namespace BNCONFORM_CPU_ISA
}  // namespace bnconform::cpu
