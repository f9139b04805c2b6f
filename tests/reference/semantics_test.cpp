// The rules of docs/semantics.md that the seeds quote, each checked on data where
// the rule and its usual misreading give different answers. Sections:
// docs/semantics.md#forward-training-mode and docs/semantics.md#running-statistics.
#include <gtest/gtest.h>

#include <cmath>
#include <numeric>

#include "support.hpp"

namespace bnconform {
namespace {

using testing::reference_256;
using testing::values;

// Per-batch mean and unbiased variance of one channel, in plain f64 on data whose
// sums are exact (small integers), so these expectations are exact too.
struct batch_stats {
  double mean, unbiased_var;
};
batch_stats stats_of(const std::vector<double>& x) {
  const double m = static_cast<double>(x.size());
  const double mean = std::accumulate(x.begin(), x.end(), 0.0) / m;
  double squares = 0;
  for (double v : x) squares += (v - mean) * (v - mean);
  return {mean, squares / (m - 1)};
}

// docs/semantics.md#forward-training-mode (biased) and #running-statistics (unbiased).
TEST(ReferenceSemantics, NormalizesWithBiasedAndStoresUnbiasedVariance) {
  // x = [1, 2, 3, 6]: mean 3, squares 4 + 1 + 0 + 9 = 14, biased var 3.5, unbiased
  // 14/3. With eps 0.5, var + eps = 4 exactly: invstd 1/2 only for the biased one.
  const problem p = problem::parse("shape=4x1,dtype=f64,eps=0.5,momentum=1");
  module_state s = module_state::initial(p);
  const forward_outputs out = reference_256().forward(p, values(dtype::f64, {1, 2, 3, 6}), s);
  ASSERT_TRUE(out.status.ok());
  EXPECT_EQ(out.save_invstd.values(), (std::vector<double>{0.5}));
  EXPECT_EQ(out.y.values(), (std::vector<double>{-1, -0.5, 0, 1.5}));
  // momentum 1: the running variance is exactly this batch's unbiased variance.
  EXPECT_EQ(s.running_var.values(), (std::vector<double>{14.0 / 3.0}));
}

// docs/semantics.md#running-statistics: momentum=none.
TEST(ReferenceSemantics, MomentumNoneIsTheArithmeticMeanExactly) {
  // Five batches whose per-batch means (1, 3, 2, 6, 3) and unbiased variances
  // (2, 8, 2, 8, 0) have exact running averages: means 1, 2, 2, 3, 3 and
  // variances 2, 5, 4, 5, 4. Every step then rounds nothing, so the final running
  // statistics equal the arithmetic means bit for bit; whatever they held before
  // the first batch is overwritten.
  const std::vector<std::vector<double>> batches = {{0, 2}, {1, 5}, {1, 3}, {4, 8}, {3, 3}};
  const problem p = problem::parse("shape=2x1,dtype=f64,momentum=none");
  module_state s = module_state::initial(p);
  s.running_mean = values(dtype::f64, {123});
  s.running_var = values(dtype::f64, {456});
  double mean_sum = 0, var_sum = 0;
  for (const auto& batch : batches) {
    ASSERT_TRUE(reference_256().forward(p, values(dtype::f64, batch), s).status.ok());
    mean_sum += stats_of(batch).mean;
    var_sum += stats_of(batch).unbiased_var;
  }
  EXPECT_EQ(s.num_batches_tracked, 5);
  EXPECT_EQ(s.running_mean.values(), (std::vector<double>{mean_sum / 5}));
  EXPECT_EQ(s.running_var.values(), (std::vector<double>{var_sum / 5}));
  EXPECT_EQ(mean_sum / 5, 3.0);  // the derivation above
  EXPECT_EQ(var_sum / 5, 4.0);
}

// docs/semantics.md#running-statistics: momentum=none.
TEST(ReferenceSemantics, MomentumNoneOnRandomBatchesWithinRounding) {
  // On random data each of the k steps rounds the stored value once (0.5 ulp of
  // a value at most max|stat|) and later steps scale that error by (1 - 1/j) <= 1,
  // so after k steps |running - mean| <= k * 2^-53 * max|stat| in f64.
  testing::random_source rng(5);
  const problem p = problem::parse("shape=7x1,dtype=f64,momentum=none");
  module_state s = module_state::initial(p);
  double mean_sum = 0, var_sum = 0, largest = 0;
  const int k = 12;
  for (int step = 0; step < k; ++step) {
    const tensor x = testing::random_tensor(rng, dtype::f64, 7, -10, 10);
    ASSERT_TRUE(reference_256().forward(p, x, s).status.ok());
    const batch_stats b = stats_of(x.values());  // f64 error ~1e-15, far below the bound's slack
    mean_sum += b.mean;
    var_sum += b.unbiased_var;
    largest = std::max({largest, std::fabs(b.mean), b.unbiased_var});
  }
  const double bound = k * std::ldexp(largest, -53) + 1e-13 * largest;  // + f64 error of stats_of
  EXPECT_NEAR(s.running_mean.get(0), mean_sum / k, bound);
  EXPECT_NEAR(s.running_var.get(0), var_sum / k, bound);
}

// docs/semantics.md#running-statistics (the counter), #errors-and-status-codes (a
// rejected call changes nothing) and #degenerate-and-special-inputs (the empty batch).
TEST(ReferenceSemantics, CounterCountsTrainingCallsOnly) {
  const problem train = problem::parse("shape=2x2,dtype=f32");
  const problem eval = train.with_mode(mode::eval);
  module_state s = module_state::initial(train);
  const tensor x = values(dtype::f32, {1, 2, 3, 5});
  const tensor single = values(dtype::f32, {1, 2});
  ASSERT_TRUE(reference_256().forward(train, x, s).status.ok());
  ASSERT_TRUE(reference_256().forward(eval, x, s).status.ok());
  ASSERT_TRUE(reference_256().forward(train, x, s).status.ok());
  // A rejected call (one value per channel) does not count.
  EXPECT_EQ(reference_256().forward(train.with_shape({1, 2}), single, s).status.code,
            BNC_STATUS_INVALID_PROBLEM);
  // An empty batch does (PyTorch's module increments before it calls the op).
  ASSERT_TRUE(
      reference_256().forward(train.with_shape({0, 2}), tensor(dtype::f32, 0), s).status.ok());
  EXPECT_EQ(s.num_batches_tracked, 3);
}

// docs/semantics.md#running-statistics: the momentum convention.
TEST(ReferenceSemantics, MomentumWeighsTheNewBatch) {
  // PyTorch: running = (1 - momentum) * running + momentum * batch. With momentum
  // 0.25, running_mean 8 and a batch of mean 0: 6 (the flipped convention gives 2).
  const problem p = problem::parse("shape=2x1,dtype=f32,momentum=0.25");
  module_state s = module_state::initial(p);
  s.running_mean = values(dtype::f32, {8});
  ASSERT_TRUE(reference_256().forward(p, values(dtype::f32, {-1, 1}), s).status.ok());
  EXPECT_EQ(s.running_mean.values(), (std::vector<double>{6}));
}

}  // namespace
}  // namespace bnconform
