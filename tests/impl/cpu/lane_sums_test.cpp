// The channels-last sums two ways: tile_sums::add_rows (runs of channels walking all
// the rows of a block with their sums in registers, used when rows are wider than a
// tile or a tile is one run) against add_row row after row. Every channel adds its rows in row
// order both ways, so the sums must be the same bits; widths leave vectors past the last full run
// and a scalar tail. (This is the portable compilation; variant_test.cpp checks that the
// instruction-set variants give the same bits, on a shape with two tiles.)
#include "impl/cpu/lane_sums.hpp"

#include <gtest/gtest.h>

#include <bit>
#include <cstdint>
#include <vector>

#include "tests/reference/support.hpp"

namespace bnconform::cpu {
namespace {

constexpr int lanes = 256;

template <class S>
std::vector<S> values(testing::random_source& rng, std::size_t n) {
  std::vector<S> v(n);
  for (auto& e : v) {
    const double d = rng.uniform(-3.0, 5.0) * (rng.next() % 4 == 0 ? 1e3 : 1.0);
    if constexpr (std::is_same_v<S, bf16_bits>) {
      e = narrow_bf16(static_cast<float>(d));
    } else {
      e = static_cast<S>(d);
    }
  }
  return v;
}

template <class S>
void expect_same_sums(int width, std::int64_t rows, std::int64_t stride) {
  testing::random_source rng(static_cast<std::uint64_t>(width * 1000 + rows));
  const std::vector<S> x = values<S>(rng, static_cast<std::size_t>(rows * stride));
  const std::vector<S> dy = values<S>(rng, static_cast<std::size_t>(rows * stride));
  std::vector<double> shift(static_cast<std::size_t>(width));
  for (double& s : shift) s = rng.uniform(-1.0, 2.0);
  tile_sums<lanes> by_row, by_run, by_row_bwd, by_run_bwd;
  by_row.start(shift.data(), width);
  by_run.start(shift.data(), width);
  by_row_bwd.start(shift.data(), width);
  by_run_bwd.start(shift.data(), width);
  for (std::int64_t r = 0; r < rows; ++r) {
    by_row.add_row(x.data() + r * stride);
    by_row_bwd.add_row(x.data() + r * stride, dy.data() + r * stride);
  }
  by_run.add_rows(x.data(), stride, rows);
  by_run_bwd.add_rows(x.data(), dy.data(), stride, rows);
  for (int l = 0; l < width; ++l) {
    ASSERT_EQ(std::bit_cast<std::uint64_t>(by_row.sum1(l)),
              std::bit_cast<std::uint64_t>(by_run.sum1(l)))
        << "width " << width << " lane " << l;
    ASSERT_EQ(std::bit_cast<std::uint64_t>(by_row.sum2(l)),
              std::bit_cast<std::uint64_t>(by_run.sum2(l)))
        << "width " << width << " lane " << l;
    ASSERT_EQ(std::bit_cast<std::uint64_t>(by_row_bwd.sum1(l)),
              std::bit_cast<std::uint64_t>(by_run_bwd.sum1(l)))
        << "width " << width << " lane " << l;
    ASSERT_EQ(std::bit_cast<std::uint64_t>(by_row_bwd.sum2(l)),
              std::bit_cast<std::uint64_t>(by_run_bwd.sum2(l)))
        << "width " << width << " lane " << l;
  }
}

TEST(CpuTileSums, RunsOfChannelsGiveTheRowByRowBits) {
  for (const int width : {256, 200, 203, 44, 3, 1}) {
    for (const std::int64_t rows : {1, 7, 128}) {
      expect_same_sums<float>(width, rows, 300);
      expect_same_sums<bf16_bits>(width, rows, 300);
    }
  }
}

// A tile that is the whole row: one run of channels (8 channels in this portable
// compilation, 64 in x86-64-v4, with a tail or not) walks the rows in registers,
// wider tiles go row by row.
TEST(CpuTileSums, WholeRowTilesGiveTheRowByRowBits) {
  for (const int width : {8, 11, 16, 64, 67, 128}) {
    for (const std::int64_t rows : {1, 7, 128}) {
      expect_same_sums<float>(width, rows, width);
      expect_same_sums<bf16_bits>(width, rows, width);
    }
  }
}

}  // namespace
}  // namespace bnconform::cpu
