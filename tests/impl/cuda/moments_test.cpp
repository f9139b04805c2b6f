// Welford updates and Chan merges (moments.hpp) against long double two-pass
// sums, including reductions longer than 2^24 simulated by merging partial states,
// the non-finite rules, and the determinism of the fixed merge tree.
#include "impl/cuda/moments.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "impl/cuda/formulas.hpp"

namespace bnconform::cuda {
namespace {

struct exact_stats {
  long double mean, m2;
};

exact_stats two_pass(const std::vector<double>& x) {
  long double sum = 0;
  for (double v : x) sum += v;
  const long double mean = sum / static_cast<long double>(x.size());
  long double m2 = 0;
  for (double v : x) m2 += (v - mean) * (v - mean);
  return {mean, m2};
}

moments fold(const std::vector<double>& x, std::size_t begin, std::size_t end) {
  moments s{};
  for (std::size_t i = begin; i < end; ++i) accumulate(s, x[i]);
  return s;
}

TEST(cuda_moments, welford_matches_two_pass_on_offset_data) {
  std::mt19937_64 rng(3);
  std::normal_distribution<double> z(0, 1);
  for (double offset : {0.0, 1e4, 1e7, -3e8}) {
    std::vector<double> x(100000);
    for (double& v : x) v = offset + z(rng);
    const exact_stats want = two_pass(x);
    const moments got = fold(x, 0, x.size());
    EXPECT_EQ(got.count, 100000.0);
    // Worst-case bounds of the sequential update over m values: the mean is rounded
    // once per step (m u |mean|), and M2's relative error grows like
    // m u (1 + |mean| / std). A wrong update formula is off by O(1).
    const long double m = 100000, u = 0x1p-53L;
    const long double std_dev = std::sqrt(want.m2 / m);
    const long double kappa = 1 + std::fabs(want.mean) / std_dev;
    EXPECT_LE(std::fabs(got.mean - want.mean), m * u * (std::fabs(want.mean) + std_dev)) << offset;
    EXPECT_LE(std::fabs(got.m2 - want.m2) / want.m2, 2 * m * u * kappa) << offset;
  }
}

TEST(cuda_moments, merge_in_any_split_equals_the_whole) {
  std::mt19937_64 rng(5);
  std::normal_distribution<double> z(0, 1);
  std::vector<double> x(4096);
  for (double& v : x) v = 1e3 + 2 * z(rng);
  const exact_stats want = two_pass(x);
  // 256 thread-like partials merged in the fixed tree, and a sequential chain.
  std::vector<moments> parts;
  for (std::size_t t = 0; t < 256; ++t) parts.push_back(fold(x, t * 16, t * 16 + 16));
  moments chain{};
  for (const moments& p : parts) chain = merge(chain, p);
  std::vector<moments> tree_items = parts;
  const moments tree = tree_merge(tree_items.data(), 256);
  // Bounds: 16-step Welford chains, then 256 merges in a chain (or 8 levels of
  // tree), each rounding the mean by u |mean|; M2 relative errors of the same count
  // times kappa = 1 + |mean| / std = 501.
  const long double u = 0x1p-53L, kappa = 1 + want.mean / std::sqrt(want.m2 / 4096);
  for (const moments& m : {chain, tree}) {
    EXPECT_EQ(m.count, 4096.0);
    EXPECT_LE(std::fabs(m.mean - want.mean), (16 + 256) * u * want.mean);
    EXPECT_LE(std::fabs(m.m2 - want.m2) / want.m2, 2 * (16 + 256) * u * kappa);
  }
  // The tree is deterministic: the same inputs give the same bits.
  std::vector<moments> again = parts;
  const moments tree2 = tree_merge(again.data(), 256);
  EXPECT_EQ(bits_of(tree2.mean), bits_of(tree.mean));
  EXPECT_EQ(bits_of(tree2.m2), bits_of(tree.m2));
  // Merging with an empty state on either side is the identity.
  const moments empty{};
  EXPECT_EQ(bits_of(merge(empty, tree).m2), bits_of(tree.m2));
  EXPECT_EQ(bits_of(merge(tree, empty).mean), bits_of(tree.mean));
}

// A channel of 2^26 + 3 elements (beyond a float counter's 2^24), built from
// partial states whose exact moments are known: block k holds `count` values
// mean_k +- d_k (equally many of each), so M2_k = count * d_k^2 exactly.
TEST(cuda_moments, reductions_longer_than_two_to_the_24_keep_count_mean_and_m2) {
  const int blocks = 64;
  const double count = static_cast<double>(1 << 20);
  std::vector<moments> parts;
  long double total = 0, sum = 0;
  std::vector<long double> means, m2s;
  for (int k = 0; k < blocks; ++k) {
    const double mean_k = 1e4 + 0.25 * k, d = 1.0 + 0.125 * (k % 5);
    parts.push_back({count, mean_k, count * d * d, 0});
    total += count;
    sum += count * static_cast<long double>(mean_k);
    means.push_back(mean_k);
    m2s.push_back(count * d * d);
  }
  // Three single elements on top, so the count is odd.
  for (double v : {1e4, 1e4 + 1, 1e4 - 3}) {
    moments s{};
    accumulate(s, v);
    parts.push_back(s);
    total += 1;
    sum += v;
    means.push_back(v);
    m2s.push_back(0);
  }
  const long double mean = sum / total;
  long double m2 = 0;  // the parallel-axis theorem, in long double
  for (std::size_t k = 0; k < means.size(); ++k) {
    const long double weight = k < static_cast<std::size_t>(blocks) ? count : 1.0L;
    m2 += m2s[k] + weight * (means[k] - mean) * (means[k] - mean);
  }
  moments merged{};
  for (const moments& p : parts) merged = merge(merged, p);
  EXPECT_EQ(merged.count, static_cast<double>((1 << 26) + 3));  // exact: a float would not be
  EXPECT_NE(static_cast<double>(static_cast<float>(merged.count)), merged.count);
  // P = 67 chained merges each round the mean by u |mean|: |d mean| <= P u |mean|.
  // M2 is dominated by the weight * delta^2 terms (delta >= 1 here), whose relative
  // error is twice that of delta: 2 P u |mean| / 1, plus 3 P u of the sums.
  const long double u = 0x1p-53L, P = 67;
  EXPECT_LE(std::fabs(merged.mean - mean), P * u * mean);
  const long double m2_bound = 2 * P * u * mean + 3 * P * u;
  EXPECT_LE(std::fabs(merged.m2 - m2) / m2, m2_bound);
  const batch_statistics st = finish(merged, 1e-5);
  EXPECT_LE(std::fabs(st.var - m2 / total) / (m2 / total), m2_bound + 2 * u);
  EXPECT_LE(std::fabs(st.unbiased_var - m2 / (total - 1)) / (m2 / total), m2_bound + 2 * u);
}

TEST(cuda_moments, non_finite_inputs_follow_semantics) {
  const double inf = std::numeric_limits<double>::infinity();
  const auto stats_of = [](std::vector<double> x) {
    moments s{};
    for (double v : x) accumulate(s, v);
    // Split in two and merge as a block would.
    return finish(s, 1e-5);
  };
  batch_statistics st = stats_of({1, inf, 2, 3});
  EXPECT_EQ(st.mean, inf);
  EXPECT_TRUE(std::isnan(st.var));
  EXPECT_TRUE(std::isnan(st.invstd));
  st = stats_of({1, -inf, 2});
  EXPECT_EQ(st.mean, -inf);
  st = stats_of({inf, 1, -inf});
  EXPECT_TRUE(std::isnan(st.mean));
  st = stats_of({1, std::nan(""), 2});
  EXPECT_TRUE(std::isnan(st.mean));
  EXPECT_TRUE(std::isnan(st.var));
  // Merged partial states carry it too.
  moments a{}, b{};
  accumulate(a, 1.0);
  accumulate(b, inf);
  EXPECT_EQ(finish(merge(a, b), 0).mean, inf);
  // Empty: 0 / 0.
  st = finish(moments{}, 1e-5);
  EXPECT_TRUE(std::isnan(st.mean));
  EXPECT_TRUE(std::isnan(st.invstd));
  // Finite values near the double overflow threshold do not count as special.
  st = stats_of({1e300, -1e300});
  EXPECT_EQ(st.mean, 0.0);
}

TEST(cuda_moments, constant_channel_is_exact) {
  moments s{};
  for (int i = 0; i < 1000; ++i) accumulate(s, 2.5);
  const batch_statistics st = finish(s, 1e-5);
  EXPECT_EQ(st.mean, 2.5);
  EXPECT_EQ(st.var, 0.0);
  EXPECT_EQ(st.invstd, 1.0 / std::sqrt(1e-5));
}

TEST(cuda_moments, gradient_sums_match_long_double) {
  std::mt19937_64 rng(9);
  std::normal_distribution<double> z(0, 1);
  std::vector<gradient_sums> parts(256);
  long double sum_dy = 0, sum_dy_xmu = 0;
  const double mean = 3.0;
  for (int t = 0; t < 256; ++t) {
    for (int i = 0; i < 40; ++i) {
      const double x = mean + z(rng), dy = z(rng);
      accumulate(parts[static_cast<std::size_t>(t)], x, dy, mean);
      sum_dy += dy;
      sum_dy_xmu += static_cast<long double>(dy) * (x - mean);
    }
  }
  const gradient_sums s = tree_merge(parts.data(), 256);
  // 40 sequential additions then 8 tree levels: (40 + 8) u times the sum of
  // magnitudes (about 0.8 * 10240 for N(0,1) terms); 1e-11 is above that.
  EXPECT_NEAR(s.dy, static_cast<double>(sum_dy), 1e-11);
  EXPECT_NEAR(s.dy_xmu, static_cast<double>(sum_dy_xmu), 1e-11);
}

}  // namespace
}  // namespace bnconform::cuda
