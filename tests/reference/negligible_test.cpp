// Exact zeros reached by cancellation: the self-check cannot settle their rounding
// (P and 2P give residues of different size on both sides of zero), but their
// uncertainty is negligible, so the call succeeds and the residue is reported.
#include "reference/negligible.hpp"

#include <gtest/gtest.h>

#include <cmath>

#include "reference/reference.hpp"
#include "support.hpp"

namespace bnconform {
namespace {

using testing::random_source;

reference::call_inputs inputs(const problem& p, double dy_value) {
  random_source rng(7);
  reference::call_inputs in;
  for (std::int64_t i = 0; i < p.element_count(); ++i) {
    in.x.push_back(rng.uniform(-3, 5));
    in.dy.push_back(dy_value);
  }
  in.gamma.assign(static_cast<std::size_t>(p.channels()), 1.5);
  in.beta.assign(static_cast<std::size_t>(p.channels()), 0.25);
  in.running_mean.assign(static_cast<std::size_t>(p.channels()), 0.0);
  in.running_var.assign(static_cast<std::size_t>(p.channels()), 1.0);
  return in;
}

TEST(ReferenceNegligible, AConstantGradientGivesAnExactZeroDxInF64) {
  // dx = gamma invstd (dy - mean(dy) - xhat mean(dy xhat)) is exactly 0 for a
  // constant dy; sum(dy xhat) is 0 only up to the working precision.
  for (const int bits : {128, 256}) {
    const problem p = problem::parse("shape=6x2x5,dtype=f64");
    const auto r = reference::backward(p, inputs(p, 0.75), reference::options{bits});
    ASSERT_TRUE(r.status.ok()) << bits << ": " << r.status.message;
    EXPECT_TRUE(r.unsettled.empty());
    for (std::size_t i = 0; i < r.dx.rounded.size(); ++i) {
      const double exact = r.dx.rounded[i] + r.dx.residual[i];
      EXPECT_LE(std::abs(exact), std::ldexp(1.0, -bits / 2)) << bits << " dx[" << i << "]";
    }
    // dbeta = sum(dy) is exact and settles normally.
    EXPECT_EQ(r.dbeta.rounded[0], 30 * 0.75);
    EXPECT_EQ(r.dbeta.residual[0], 0.0);
  }
}

TEST(ReferenceNegligible, AnUncertaintyThatMattersStillFailsTheCall) {
  // The forgiveness is relative to the element's own terms: a spread comparable
  // to them is never forgiven.
  const problem p = problem::parse("shape=6x2x5,dtype=f64");
  const reference::call_inputs in = inputs(p, 0.75);
  std::vector<reference::unsettled_element> unsettled{{"dbeta", 0, 1e-3}, {"dbeta", 1, 1e-80}};
  const auto q = reference::quantities(p, in);
  reference::forgive_negligible(p, in, q, 256, unsettled);
  ASSERT_EQ(unsettled.size(), 1u);
  EXPECT_EQ(unsettled[0].index, 0);
}

// The running statistics' terms follow the profile's update: keras at m == 1
// blends the old variance with weight q and var = 0 with weight 1 - q (scale
// 0.5 * 2 = 1, so 2^-200 is below 2^-128 of it); pytorch's form would divide by
// m - 1 = 0. tf-fused with f == 1 does not read an infinite old mean (scale: the
// batch's mean |x|, 3).
TEST(ReferenceNegligible, RunningStatisticsTermsFollowTheProfile) {
  {
    const problem p = problem::parse("shape=1x1,dtype=f64,momentum=0.5,profile=keras");
    reference::call_inputs in;
    in.x = {3};
    in.gamma = {1};
    in.beta = {0};
    in.running_mean = {0};
    in.running_var = {2};
    std::vector<reference::unsettled_element> unsettled{{"running_var", 0, 0x1p-200},
                                                        {"running_var", 0, 0x1p-100}};
    reference::forgive_negligible(p, in, reference::quantities(p, in), 256, unsettled);
    ASSERT_EQ(unsettled.size(), 1u);
    EXPECT_EQ(unsettled[0].spread, 0x1p-100);
  }
  {
    const problem p = problem::parse("shape=2x1,dtype=f64,profile=tf-fused");
    reference::call_inputs in;
    in.x = {2, 4};
    in.gamma = {1};
    in.beta = {0};
    in.running_mean = {INFINITY};
    in.running_var = {1};
    std::vector<reference::unsettled_element> unsettled{{"running_mean", 0, 0x1p-200}};
    reference::forgive_negligible(p, in, reference::quantities(p, in), 256, unsettled);
    EXPECT_TRUE(unsettled.empty());
  }
}

}  // namespace
}  // namespace bnconform
