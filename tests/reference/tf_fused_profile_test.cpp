// The tf-fused profile, docs/semantics.md#tf-fused: tf.raw_ops.FusedBatchNormV3.
// The factor weights the BATCH value, the stored variance is b var with
// b = m / max(m - 1, 1), f == 1 does not read the old values, m == 1 is no error
// and m == 0 makes the running statistics NaN. Hand-derived cases.
#include <gtest/gtest.h>

#include <cmath>

#include "support.hpp"

namespace bnconform {
namespace {

using testing::reference_256;
using testing::values;

TEST(ReferenceTfFusedProfile, FactorWeightsTheBatchAndVarianceIsUnbiased) {
  // x = [1, 2, 3, 6]: mean 3, biased var 3.5, b = 4/3, b var = 14/3. Old mean 1,
  // var 2, f = 0.25:
  //   running_mean = 0.75 * 1 + 0.25 * 3    = 1.5
  //   running_var  = 0.75 * 2 + 0.25 * 14/3 = 3/2 + 7/6 = 8/3  (keras: 2.375)
  // 8/3 is not a double: the reference gives the nearest, which IEEE division
  // 8.0 / 3.0 is. y normalizes with the biased variance: var + eps = 4.
  const problem p = problem::parse("shape=4x1,dtype=f64,eps=0.5,momentum=0.25,profile=tf-fused");
  module_state s = module_state::initial(p);
  s.running_mean = values(dtype::f64, {1});
  s.running_var = values(dtype::f64, {2});
  const forward_outputs out = reference_256().forward(p, values(dtype::f64, {1, 2, 3, 6}), s);
  ASSERT_TRUE(out.status.ok()) << out.status.message;
  EXPECT_EQ(out.y.values(), (std::vector<double>{-1, -0.5, 0, 1.5}));
  EXPECT_EQ(out.save_invstd.values(), (std::vector<double>{0.5}));
  EXPECT_EQ(s.running_mean.values(), (std::vector<double>{1.5}));
  EXPECT_EQ(s.running_var.values(), (std::vector<double>{8.0 / 3.0}));
  EXPECT_EQ(s.num_batches_tracked, 1);
}

TEST(ReferenceTfFusedProfile, DefaultsAreTheOpsAttributes) {
  const problem p = problem::parse("shape=4x1,dtype=f64,profile=tf-fused");
  EXPECT_EQ(p.momentum(), 1.0);  // exponential_avg_factor: the batch replaces the old
  EXPECT_EQ(p.eps(), 1e-4);      // FusedBatchNorm's epsilon attribute
  EXPECT_EQ(problem::parse(p.to_string()), p);
}

TEST(ReferenceTfFusedProfile, FactorOneDoesNotReadTheOldValues) {
  // f == 1: running_mean = mean = 3, running_var = b var = 14/3 (nearest double),
  // whatever the old values were, NaN and Inf included (pytorch: 0 * inf = NaN).
  const problem p = problem::parse("shape=4x1,dtype=f64,profile=tf-fused");
  module_state s = module_state::initial(p);
  s.running_mean = values(dtype::f64, {NAN});
  s.running_var = values(dtype::f64, {INFINITY});
  ASSERT_TRUE(reference_256().forward(p, values(dtype::f64, {1, 2, 3, 6}), s).status.ok());
  EXPECT_EQ(s.running_mean.values(), (std::vector<double>{3}));
  EXPECT_EQ(s.running_var.values(), (std::vector<double>{14.0 / 3.0}));
}

TEST(ReferenceTfFusedProfile, FactorZeroKeepsTheOldValuesAsWritten) {
  // f == 0: (1 - 0) old + 0 * batch: finite old values kept bit for bit; an
  // infinite batch mean gives 0 * inf = NaN.
  const problem p = problem::parse("shape=2x1,dtype=f64,momentum=0,profile=tf-fused");
  module_state s = module_state::initial(p);
  s.running_mean = values(dtype::f64, {-0.75});
  s.running_var = values(dtype::f64, {5});
  ASSERT_TRUE(reference_256().forward(p, values(dtype::f64, {2, 4}), s).status.ok());
  EXPECT_EQ(s.running_mean.values(), (std::vector<double>{-0.75}));
  EXPECT_EQ(s.running_var.values(), (std::vector<double>{5}));
  ASSERT_TRUE(reference_256().forward(p, values(dtype::f64, {2, INFINITY}), s).status.ok());
  EXPECT_TRUE(std::isnan(s.running_mean.get(0)));
}

TEST(ReferenceTfFusedProfile, OneValuePerChannelIsNoErrorAndItsFactorIsOne) {
  // m == 1: var = 0, b = 1 / max(0, 1) = 1, y = beta (eps > 0). f = 0.25:
  //   running_mean = 0.75 * 1 + 0.25 * x = 2 and 2.5 (x = 5, 7)
  //   running_var  = 0.75 * 2 + 0.25 * 1 * 0 = 1.5
  // f = 1: running_mean = x, running_var = 0.
  const tensor x = values(dtype::f64, {5, 7});
  {
    const problem p = problem::parse("shape=1x2,dtype=f64,eps=0.25,momentum=0.25,profile=tf-fused");
    module_state s = module_state::initial(p);
    s.beta = values(dtype::f64, {0.5, -1});
    s.running_mean = values(dtype::f64, {1, 1});
    s.running_var = values(dtype::f64, {2, 2});
    const forward_outputs out = reference_256().forward(p, x, s);
    ASSERT_TRUE(out.status.ok()) << out.status.message;
    EXPECT_EQ(out.y.values(), (std::vector<double>{0.5, -1}));
    EXPECT_EQ(s.running_mean.values(), (std::vector<double>{2, 2.5}));
    EXPECT_EQ(s.running_var.values(), (std::vector<double>{1.5, 1.5}));
  }
  {
    const problem p = problem::parse("shape=1x2,dtype=f32,profile=tf-fused");
    module_state s = module_state::initial(p);
    ASSERT_TRUE(reference_256().forward(p, values(dtype::f32, {5, 7}), s).status.ok());
    EXPECT_EQ(s.running_mean.values(), (std::vector<double>{5, 7}));
    EXPECT_EQ(s.running_var.values(), (std::vector<double>{0, 0}));
  }
}

TEST(ReferenceTfFusedProfile, EmptyBatchWritesNaNWhateverTheFactor) {
  for (const char* f : {"0.25", "1", "0"}) {
    const problem p =
        problem::parse(std::string("shape=2x2x0,dtype=f64,profile=tf-fused,momentum=") + f);
    module_state s = module_state::initial(p);
    const forward_outputs out = reference_256().forward(p, tensor(dtype::f64, 0), s);
    ASSERT_TRUE(out.status.ok()) << out.status.message;
    for (std::int64_t c = 0; c < 2; ++c) {
      EXPECT_TRUE(std::isnan(s.running_mean.get(c))) << f;
      EXPECT_TRUE(std::isnan(s.running_var.get(c))) << f;
    }
    EXPECT_EQ(s.num_batches_tracked, 1);
  }
}

TEST(ReferenceTfFusedProfile, MomentumNoneIsUnsupported) {
  const problem p = problem::parse("shape=2x1,dtype=f64,momentum=none,profile=tf-fused");
  module_state s = module_state::initial(p);
  EXPECT_EQ(reference_256().forward(p, values(dtype::f64, {4, 8}), s).status.code,
            BNC_STATUS_UNSUPPORTED);
  EXPECT_EQ(s.num_batches_tracked, 0);
}

}  // namespace
}  // namespace bnconform
