// The running-statistics budgets of each profile (docs/tolerance.md,
// #budget-per-output-element) and the empty batch's exact rule. Each expected
// budget is the documented formula written out for the numbers below.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "check/budget.hpp"
#include "check/compare.hpp"
#include "reference/reference.hpp"

namespace bnconform {
namespace {

using check::level;

// f64 data: u = u_s = 2^-53, eta_s = 2^-1074.
constexpr double u = 0x1p-53;
constexpr double eta = 0x1p-1074;

check::channel_terms terms_with(double m, double mean, double var, double d_mean, double d_var) {
  check::channel_terms t;
  t.m = m;
  t.mean = mean;
  t.var = var;
  t.d_mean = d_mean;
  t.d_var = d_var;
  return t;
}

TEST(ProfileBudget, OldWeightedProfilesWeighTheBatchErrorByOneMinusMomentum) {
  // q = 0.75 weights the old value, w = 0.25 the batch; old 2, mean 3, new 2.25:
  //   2u (q |old| + w |mu|) + u q (|old| + |mu|) + u w |mu| + w d_mean + u_s |new| + eta_s
  const check::channel_terms t = terms_with(4, 3, 3.5, 1e-3, 1e-2);
  const double mean_budget = 2 * u * (0.75 * 2 + 0.25 * 3) + u * 0.75 * (2 + 3) + u * 0.25 * 3 +
                             0.25 * 1e-3 + u * 2.25 + eta;
  //   2u (q |old| + w var) + u q (|old| + var) + u w var + w d_var + u_s |new| + eta_s
  const double var_budget = 2 * u * (0.75 * 2 + 0.25 * 3.5) + u * 0.75 * (2 + 3.5) +
                            u * 0.25 * 3.5 + 0.25 * 1e-2 + u * 2.375 + eta;
  for (const char* name : {"onnx", "keras", "flax"}) {
    const check::budget_model model(
        problem::parse(std::string("shape=4x1,dtype=f64,profile=") + name), level::strict);
    EXPECT_DOUBLE_EQ(model.running_mean(t, 2, 0.75, 2.25), mean_budget) << name;
    EXPECT_DOUBLE_EQ(model.running_var(t, 2, 0.75, 2.375), var_budget) << name;
  }
  // pytorch reads 0.75 as the batch weight: three quarters of d_mean.
  const check::budget_model pytorch(problem::parse("shape=4x1,dtype=f64"), level::strict);
  EXPECT_GT(pytorch.running_mean(t, 2, 0.75, 2.75), 0.75 * 1e-3);
}

TEST(ProfileBudget, MomentumOneKeepsTheOldValueInOldWeightedProfiles) {
  // q = 1: the batch has weight 0, so a huge error of the kernel's batch statistics
  // does not enter (pytorch's factor 1 would take all of it).
  const check::channel_terms t = terms_with(4, 3, 3.5, 1e6, 1e6);
  const check::budget_model keras(problem::parse("shape=4x1,dtype=f64,profile=keras"),
                                  level::strict);
  EXPECT_LT(keras.running_mean(t, 2, 1, 2), 1e-14);
  EXPECT_LT(keras.running_var(t, 2, 1, 2), 1e-14);
  const check::budget_model pytorch(problem::parse("shape=4x1,dtype=f64"), level::strict);
  EXPECT_GE(pytorch.running_mean(t, 2, 1, 3), 1e6);
}

TEST(ProfileBudget, BiasedProfilesCarryNoBesselFactor) {
  // m == 2, batch replacing the old value: the biased variance's error d_var once
  // (keras momentum 0), the unbiased one's b d_var = 2 d_var (pytorch momentum 1).
  const check::channel_terms t = terms_with(2, 0, 1, 0, 1e-3);
  const check::budget_model keras(problem::parse("shape=2x1,dtype=f64,profile=keras"),
                                  level::strict);
  const double keras_budget = keras.running_var(t, 1, 0, 1);
  EXPECT_GE(keras_budget, 1e-3);
  EXPECT_LT(keras_budget, 1.001e-3);
  const check::budget_model pytorch(problem::parse("shape=2x1,dtype=f64"), level::strict);
  EXPECT_GE(pytorch.running_var(t, 1, 1, 2), 2e-3);
}

TEST(ProfileBudget, TfFusedFactorOneDoesNotReadTheOldValue) {
  // f == 1: running_mean = mean, running_var = b var; an infinite old value leaves
  // the budget finite.
  const double inf = std::numeric_limits<double>::infinity();
  const check::channel_terms t = terms_with(4, 3, 3.5, 1e-3, 1e-2);
  const check::budget_model tf(problem::parse("shape=4x1,dtype=f64,profile=tf-fused"),
                               level::strict);
  // d_mean + u_s |new| + eta_s
  EXPECT_DOUBLE_EQ(tf.running_mean(t, inf, 1, 3), 1e-3 + u * 3 + eta);
  // b d_var + 2 u b var + u_s |new| + eta_s, b = 4/3
  const double b = 4.0 / 3.0;
  EXPECT_DOUBLE_EQ(tf.running_var(t, inf, 1, 14.0 / 3.0),
                   b * 1e-2 + 2 * u * (3.5 * b) + u * (14.0 / 3.0) + eta);
  // f != 1 is pytorch's form, old value included.
  const check::budget_model pytorch(problem::parse("shape=4x1,dtype=f64"), level::strict);
  EXPECT_DOUBLE_EQ(tf.running_var(t, 2, 0.25, 8.0 / 3.0),
                   pytorch.running_var(t, 2, 0.25, 8.0 / 3.0));
  // pytorch's form reads the old value: 0 * inf, a budget that is not a number.
  EXPECT_TRUE(std::isnan(pytorch.running_mean(t, inf, 1, 3)));
}

// An empty batch: the running statistics are NaN in keras (judged exactly, as the
// reference has them) and kept in pytorch.
TEST(ProfileBudget, EmptyBatchRunningStatisticsAreExact) {
  for (const char* name : {"keras", "tf-fused", "flax", "pytorch", "onnx"}) {
    const problem p = problem::parse(std::string("shape=0x2,dtype=f32,profile=") + name);
    const bool kept = std::string(name) == "pytorch" || std::string(name) == "onnx";
    reference::call_inputs in;
    in.gamma = {1, 1};
    in.beta = {0, 0};
    in.running_mean = {0.5, 0.5};
    in.running_var = {2, 2};
    const auto expected = reference::forward(p, in);
    ASSERT_TRUE(expected.status.ok()) << expected.status.message;
    ASSERT_EQ(std::isnan(expected.running_mean.rounded[0]), !kept) << name;
    const auto q = reference::quantities(p, in);
    const tensor x(dtype::f32, 0);
    module_state before = module_state::initial(p);
    before.running_mean = tensor::from_values(dtype::f32, in.running_mean);
    before.running_var = tensor::from_values(dtype::f32, in.running_var);
    forward_outputs got;
    got.y = tensor(dtype::f32, 0);
    got.save_mean = tensor::from_values(dtype::f32, expected.save_mean.rounded);
    got.save_invstd = tensor::from_values(dtype::f32, expected.save_invstd.rounded);
    module_state after = before;
    after.num_batches_tracked = 1;
    check::options opt;
    // The kernel that keeps the old values.
    const auto keep = check::compare_forward(p, x, before, expected, q, got, after, opt);
    // The kernel that writes NaN.
    module_state nan_after = after;
    const std::vector<double> nans(2, std::numeric_limits<double>::quiet_NaN());
    nan_after.running_mean = tensor::from_values(dtype::f32, nans);
    nan_after.running_var = tensor::from_values(dtype::f32, nans);
    const auto nan = check::compare_forward(p, x, before, expected, q, got, nan_after, opt);
    EXPECT_EQ(keep.passed(), kept) << name << "\n" << keep.describe();
    EXPECT_EQ(nan.passed(), !kept) << name << "\n" << nan.describe();
    EXPECT_THAT((kept ? nan : keep).reason, ::testing::HasSubstr("empty batch")) << name;
  }
}

}  // namespace
}  // namespace bnconform
