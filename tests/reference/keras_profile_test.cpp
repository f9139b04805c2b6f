// The keras profile, docs/semantics.md#keras: Keras 3 BatchNormalization. The
// momentum weights the OLD value, the moving variance is the biased one, m == 1 is
// no error and m == 0 makes the moving statistics NaN. Hand-derived cases on data
// whose every step is exact, each chosen so that the pytorch rule differs.
#include <gtest/gtest.h>

#include <cmath>

#include "reference/reference.hpp"
#include "support.hpp"

namespace bnconform {
namespace {

using testing::reference_256;
using testing::values;

TEST(ReferenceKerasProfile, MomentumWeightsTheOldValueAndVarianceIsBiased) {
  // x = [1, 2, 3, 6]: mean 3, biased var 14/4 = 3.5 (unbiased 14/3). Old moving
  // mean 1, variance 2, momentum 0.75:
  //   moving_mean     = 1 * 0.75 + 3 * 0.25   = 1.5     (pytorch: 0.25 + 2.25 = 2.5)
  //   moving_variance = 2 * 0.75 + 3.5 * 0.25 = 2.375   (pytorch would blend in 14/3)
  // var + eps = 4, invstd 1/2: y = (x - 3) / 2.
  const problem p = problem::parse("shape=4x1,dtype=f64,eps=0.5,momentum=0.75,profile=keras");
  module_state s = module_state::initial(p);
  s.running_mean = values(dtype::f64, {1});
  s.running_var = values(dtype::f64, {2});
  const forward_outputs out = reference_256().forward(p, values(dtype::f64, {1, 2, 3, 6}), s);
  ASSERT_TRUE(out.status.ok()) << out.status.message;
  EXPECT_EQ(out.y.values(), (std::vector<double>{-1, -0.5, 0, 1.5}));
  EXPECT_EQ(out.save_mean.values(), (std::vector<double>{3}));
  EXPECT_EQ(out.save_invstd.values(), (std::vector<double>{0.5}));
  EXPECT_EQ(s.running_mean.values(), (std::vector<double>{1.5}));
  EXPECT_EQ(s.running_var.values(), (std::vector<double>{2.375}));
  EXPECT_EQ(s.num_batches_tracked, 1);  // the counter follows the pytorch profile
}

TEST(ReferenceKerasProfile, DefaultsAreKerassMomentumAndEps) {
  const problem p = problem::parse("shape=4x1,dtype=f64,profile=keras");
  EXPECT_EQ(p.momentum(), 0.99);
  EXPECT_EQ(p.eps(), 1e-3);
  EXPECT_EQ(problem::parse(p.to_string()), p);
  // From the fresh state (mean 0, variance 1) with q = the double nearest 0.99:
  //   moving_mean     = 0 * q + 3 * (1 - q)
  //   moving_variance = 1 * q + 3.5 * (1 - q) = 1 + 2.5 * (1 - q)
  // 1 - q is exact (Sterbenz) and a multiple of 2^-53 below 2^-6 (at most 47
  // significant bits), so 3 * (1 - q) is exact in double; the variance is the
  // double nearest 1 + 2.5 (1 - q), where 2.5 (1 - q) is exact and the sum rounds
  // once.
  const double w = 1 - 0.99;
  module_state s = module_state::initial(p);
  ASSERT_TRUE(reference_256().forward(p, values(dtype::f64, {1, 2, 3, 6}), s).status.ok());
  EXPECT_EQ(s.running_mean.values(), (std::vector<double>{3 * w}));
  EXPECT_EQ(s.running_var.values(), (std::vector<double>{1 + 2.5 * w}));
}

TEST(ReferenceKerasProfile, OneValuePerChannelIsNoError) {
  // m == 1: mean = x, var = 0, invstd = 1 / sqrt(0.25) = 2, y = beta;
  //   moving_mean = 1 * 0.5 + x * 0.5 = 3 and 4; moving_variance = 2 * 0.5 + 0 = 1.
  const problem p = problem::parse("shape=1x2,dtype=f64,eps=0.25,momentum=0.5,profile=keras");
  module_state s = module_state::initial(p);
  s.gamma = values(dtype::f64, {2, 3});
  s.beta = values(dtype::f64, {0.5, -1});
  s.running_mean = values(dtype::f64, {1, 1});
  s.running_var = values(dtype::f64, {2, 2});
  const module_state before = s;
  const tensor x = values(dtype::f64, {5, 7});
  const forward_outputs out = reference_256().forward(p, x, s);
  ASSERT_TRUE(out.status.ok()) << out.status.message;
  EXPECT_EQ(out.y.values(), (std::vector<double>{0.5, -1}));
  EXPECT_EQ(out.save_mean.values(), (std::vector<double>{5, 7}));
  EXPECT_EQ(out.save_invstd.values(), (std::vector<double>{2, 2}));
  EXPECT_EQ(s.running_mean.values(), (std::vector<double>{3, 4}));
  EXPECT_EQ(s.running_var.values(), (std::vector<double>{1, 1}));
  EXPECT_EQ(s.num_batches_tracked, 1);
  // Backward: dbeta = sum dy; xhat = 0 so dgamma = 0 and
  // dx = gamma invstd / 1 * (1 * dy - dbeta - 0) = 0.
  const backward_outputs b = reference_256().backward(p, x, values(dtype::f64, {1.5, -2}), before,
                                                      out.save_mean, out.save_invstd);
  ASSERT_TRUE(b.status.ok()) << b.status.message;
  EXPECT_EQ(b.dbeta.values(), (std::vector<double>{1.5, -2}));
  EXPECT_EQ(b.dgamma.values(), (std::vector<double>{0, 0}));
  EXPECT_EQ(b.dx.values(), (std::vector<double>{0, 0}));
}

TEST(ReferenceKerasProfile, EmptyBatchMakesTheMovingStatisticsNaN) {
  // The mean and variance of no values are 0 / 0 = NaN, blended in whatever the
  // momentum is (momentum 1: old * 1 + NaN * 0 = NaN).
  for (const char* momentum : {"0.5", "1", "0"}) {
    const problem p =
        problem::parse(std::string("shape=0x2x3,dtype=f32,profile=keras,momentum=") + momentum);
    module_state s = module_state::initial(p);
    const forward_outputs out = reference_256().forward(p, tensor(dtype::f32, 0), s);
    ASSERT_TRUE(out.status.ok()) << out.status.message;
    for (std::int64_t c = 0; c < 2; ++c) {
      EXPECT_TRUE(std::isnan(s.running_mean.get(c))) << momentum;
      EXPECT_TRUE(std::isnan(s.running_var.get(c))) << momentum;
    }
    EXPECT_EQ(s.num_batches_tracked, 1);
    const backward_outputs b =
        reference_256().backward(p, tensor(dtype::f32, 0), tensor(dtype::f32, 0),
                                 module_state::initial(p), out.save_mean, out.save_invstd);
    ASSERT_TRUE(b.status.ok()) << b.status.message;
    EXPECT_EQ(b.dgamma.values(), (std::vector<double>{0, 0}));
    EXPECT_EQ(b.dbeta.values(), (std::vector<double>{0, 0}));
  }
}

TEST(ReferenceKerasProfile, ProductsAreEvaluatedAsWritten) {
  // x = [2, 4]: mean 3, var 1.
  const tensor x = values(dtype::f64, {2, 4});
  // Momentum 0: inf * 0 + 3 * 1 = NaN, NaN * 0 + 1 * 1 = NaN.
  {
    const problem p = problem::parse("shape=2x1,dtype=f64,momentum=0,profile=keras");
    module_state s = module_state::initial(p);
    s.running_mean = values(dtype::f64, {INFINITY});
    s.running_var = values(dtype::f64, {NAN});
    ASSERT_TRUE(reference_256().forward(p, x, s).status.ok());
    EXPECT_TRUE(std::isnan(s.running_mean.get(0)));
    EXPECT_TRUE(std::isnan(s.running_var.get(0)));
  }
  // Momentum 1 keeps finite old values exactly: old * 1 + batch * 0.
  {
    const problem p = problem::parse("shape=2x1,dtype=f64,momentum=1,profile=keras");
    module_state s = module_state::initial(p);
    s.running_mean = values(dtype::f64, {-0.75});
    s.running_var = values(dtype::f64, {5});
    ASSERT_TRUE(reference_256().forward(p, x, s).status.ok());
    EXPECT_EQ(s.running_mean.values(), (std::vector<double>{-0.75}));
    EXPECT_EQ(s.running_var.values(), (std::vector<double>{5}));
    // ... and a NaN batch mean still reaches them: -0.75 * 1 + NaN * 0 = NaN.
    s.running_mean = values(dtype::f64, {-0.75});
    ASSERT_TRUE(reference_256().forward(p, values(dtype::f64, {2, NAN}), s).status.ok());
    EXPECT_TRUE(std::isnan(s.running_mean.get(0)));
  }
}

TEST(ReferenceKerasProfile, EvalWritesNothingButY) {
  // Running mean 1, variance 3, eps 1: invstd 1/2, y = (x - 1) / 2.
  const problem p = problem::parse("shape=2x1,dtype=f64,mode=eval,eps=1,profile=keras");
  module_state s = module_state::initial(p);
  s.running_mean = values(dtype::f64, {1});
  s.running_var = values(dtype::f64, {3});
  s.num_batches_tracked = 4;
  const forward_outputs out = reference_256().forward(p, values(dtype::f64, {3, 5}), s);
  ASSERT_TRUE(out.status.ok()) << out.status.message;
  EXPECT_EQ(out.y.values(), (std::vector<double>{1, 2}));
  EXPECT_EQ(s.running_mean.values(), (std::vector<double>{1}));
  EXPECT_EQ(s.running_var.values(), (std::vector<double>{3}));
  EXPECT_EQ(s.num_batches_tracked, 4);
}

TEST(ReferenceKerasProfile, MomentumNoneIsUnsupportedAndChangesNothing) {
  const problem p = problem::parse("shape=2x1,dtype=f64,momentum=none,profile=keras");
  module_state s = module_state::initial(p);
  const forward_outputs out = reference_256().forward(p, values(dtype::f64, {4, 8}), s);
  EXPECT_EQ(out.status.code, BNC_STATUS_UNSUPPORTED);
  EXPECT_EQ(s.running_mean.values(), (std::vector<double>{0}));
  EXPECT_EQ(s.running_var.values(), (std::vector<double>{1}));
  EXPECT_EQ(s.num_batches_tracked, 0);
}

}  // namespace
}  // namespace bnconform
