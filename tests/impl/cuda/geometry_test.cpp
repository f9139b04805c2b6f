// The kernel's 64-bit index math against core's problem::offset and against
// 128-bit integer arithmetic past 2^31 and 2^32.
#include "impl/cuda/geometry.hpp"

#include <gtest/gtest.h>

#include <set>

#include "core/problem.hpp"
#include "impl/cuda/launch_plan.hpp"

namespace bnconform::cuda {
namespace {

problem make(std::vector<std::int64_t> shape, layout l) {
  problem::fields f;
  f.shape = std::move(shape);
  f.layout = l;
  return problem(std::move(f));
}

TEST(cuda_geometry, offsets_match_the_problem_for_every_rank_and_layout) {
  for (layout l : {layout::channels_first, layout::channels_last}) {
    for (const auto& shape : std::vector<std::vector<std::int64_t>>{
             {3, 4}, {2, 3, 5}, {2, 3, 4, 5}, {2, 2, 3, 2, 3}, {1, 2, 1, 2, 1, 3}}) {
      const problem p = make(shape, l);
      const geometry g = make_geometry(l == layout::channels_last, shape.data(), p.rank());
      ASSERT_EQ(g.element_count(), p.element_count());
      ASSERT_EQ(g.reduction_size(), p.reduction_size());
      std::set<std::int64_t> seen;
      for (std::int64_t c = 0; c < p.channels(); ++c) {
        // The reduction set of channel c is exactly its (n, s) elements, in order.
        std::int64_t j = 0;
        for (std::int64_t n = 0; n < p.batch(); ++n) {
          for (std::int64_t s = 0; s < p.spatial_size(); ++s, ++j) {
            const std::int64_t want = p.offset(n, c, s);
            EXPECT_EQ(
                logical_offset(l == layout::channels_last, p.channels(), p.spatial_size(), n, c, s),
                want);
            EXPECT_EQ(g.channel_of(want), c);
            seen.insert(g.reduction_offset(c, j));
          }
        }
      }
      EXPECT_EQ(static_cast<std::int64_t>(seen.size()), p.element_count());
      // Every reduction offset is some element of the right channel.
      for (std::int64_t c = 0; c < p.channels(); ++c)
        for (std::int64_t k = 0; k < g.reduction_size(); ++k)
          EXPECT_EQ(g.channel_of(g.reduction_offset(c, k)), c);
    }
  }
}

TEST(cuda_geometry, offsets_past_two_to_the_31_and_32_are_exact) {
  __extension__ typedef __int128 wide;  // exact reference arithmetic
  // 3 x 5 x (2^31 + 7): 3.2e10 elements, more than 2^34.
  const std::int64_t shape[] = {3, 5, (std::int64_t{1} << 31) + 7};
  const geometry cf = make_geometry(false, shape, 3);
  const geometry cl = make_geometry(true, shape, 3);
  const wide C = 5, S = shape[2];
  for (std::int64_t n : {0, 1, 2}) {
    for (std::int64_t c : {0, 3, 4}) {
      for (std::int64_t s : {std::int64_t{0}, std::int64_t{1} << 31, shape[2] - 1}) {
        const wide want_cf = (n * C + c) * S + s;
        const wide want_cl = (n * S + s) * C + c;
        EXPECT_EQ(static_cast<wide>(logical_offset(false, 5, shape[2], n, c, s)), want_cf);
        EXPECT_EQ(static_cast<wide>(logical_offset(true, 5, shape[2], n, c, s)), want_cl);
        EXPECT_EQ(static_cast<wide>(cf.offset(n, c, s)), want_cf);
        EXPECT_EQ(static_cast<wide>(cl.offset(n * shape[2] + s, c, 0)), want_cl);
        EXPECT_EQ(cf.channel_of(cf.offset(n, c, s)), c);
        EXPECT_EQ(cl.channel_of(cl.offset(n * shape[2] + s, c, 0)), c);
        // The j-th element of the reduction set.
        const std::int64_t j = n * shape[2] + s;
        EXPECT_EQ(static_cast<wide>(cf.reduction_offset(c, j)), want_cf);
        EXPECT_EQ(static_cast<wide>(cl.reduction_offset(c, j)), want_cl);
      }
    }
  }
  EXPECT_EQ(static_cast<wide>(cf.element_count()), 3 * C * S);
  EXPECT_GT(cl.reduction_size(), std::int64_t{1} << 32);
}

// Every element belongs to exactly one thread of exactly one block, for both
// schemes and any target; partial indices are distinct and in range.
TEST(cuda_launch_plan, partitions_cover_every_element_once) {
  for (const auto& shape : std::vector<std::vector<std::int64_t>>{
           {64, 2, 300}, {1024, 3}, {5, 7, 33}, {3, 2, 256}, {1, 1, 1000}, {100, 70}}) {
    for (bool cl : {false, true}) {
      const geometry g = make_geometry(cl, shape.data(), static_cast<int>(shape.size()));
      for (std::int64_t target : {1, 13, 1056, 1 << 20}) {
        const launch_plan p = plan_for(g, target);
        std::vector<int> hits(static_cast<std::size_t>(g.element_count()), 0);
        std::set<std::int64_t> partials;
        const std::int64_t width = g.channels * g.inner;
        for (std::int64_t task = 0; task < p.blocks(); ++task) {
          if (p.scheme == scheme::rows) {
            const std::int64_t c = task % g.channels, slice = task / g.channels;
            const row_range r = rows_of(p, g, slice);
            for (std::int64_t o = r.begin; o < r.end; ++o)
              for (std::int64_t i = 0; i < g.inner; ++i)
                ++hits[static_cast<std::size_t>(g.offset(o, c, i))];
            partials.insert(partial_index(p, slice, c, 0));
          } else {
            const std::int64_t tile = task % p.tiles, slice = task / p.tiles;
            const row_range r = rows_of(p, g, slice);
            for (std::int64_t col = tile * column_tile;
                 col < std::min(width, (tile + 1) * column_tile); ++col) {
              for (std::int64_t o = r.begin; o < r.end; ++o)
                ++hits[static_cast<std::size_t>(o * width + col)];
              partials.insert(partial_index(p, slice, col / g.inner, col % g.inner));
            }
          }
        }
        for (int h : hits) ASSERT_EQ(h, 1);
        EXPECT_EQ(static_cast<std::int64_t>(partials.size()), p.partial_count());
        for (std::int64_t c = 0; c < g.channels; ++c)
          for (std::int64_t k = 0; k < p.partials_per_channel; ++k)
            EXPECT_EQ(partials.count(channel_partial(p, c, k)), 1u);
        EXPECT_GE(p.slices, 1);
      }
    }
  }
}

}  // namespace
}  // namespace bnconform::cuda
