// The flax profile, docs/semantics.md#flax: flax.linen.BatchNorm. The momentum
// weights the OLD value and the running variance is the biased one (keras's
// update, flax's defaults), m == 1 is no error and m == 0 makes the running
// statistics NaN. Hand-derived cases.
#include <gtest/gtest.h>

#include <cmath>

#include "support.hpp"

namespace bnconform {
namespace {

using testing::reference_256;
using testing::values;

TEST(ReferenceFlaxProfile, MomentumWeightsTheOldValueAndVarianceIsBiased) {
  // x = [2, 4]: mean 3, biased var 1 (unbiased 2). Old mean 5, var 7, momentum 0.5:
  //   ra_mean = 0.5 * 5 + 0.5 * 3 = 4    (pytorch with momentum 0.5: the same)
  //   ra_var  = 0.5 * 7 + 0.5 * 1 = 4    (pytorch: 0.5 * 2 + 3.5 = 4.5)
  // var + eps = 4: y = (x - 3) / 2.
  const problem p = problem::parse("shape=2x1,dtype=f64,eps=3,momentum=0.5,profile=flax");
  module_state s = module_state::initial(p);
  s.running_mean = values(dtype::f64, {5});
  s.running_var = values(dtype::f64, {7});
  const forward_outputs out = reference_256().forward(p, values(dtype::f64, {2, 4}), s);
  ASSERT_TRUE(out.status.ok()) << out.status.message;
  EXPECT_EQ(out.y.values(), (std::vector<double>{-0.5, 0.5}));
  EXPECT_EQ(s.running_mean.values(), (std::vector<double>{4}));
  EXPECT_EQ(s.running_var.values(), (std::vector<double>{4}));
  EXPECT_EQ(s.num_batches_tracked, 1);
}

TEST(ReferenceFlaxProfile, MomentumIsTheOldWeightNotTheBatchWeight) {
  // Momentum 0.75 tells flax from pytorch: x = [2, 4], old mean 5, var 7:
  //   ra_mean = 0.75 * 5 + 0.25 * 3 = 4.5   (pytorch: 0.75 * 3 + 0.25 * 5 = 3.5)
  //   ra_var  = 0.75 * 7 + 0.25 * 1 = 5.5
  const problem p = problem::parse("shape=2x1,dtype=f32,momentum=0.75,profile=flax");
  module_state s = module_state::initial(p);
  s.running_mean = values(dtype::f32, {5});
  s.running_var = values(dtype::f32, {7});
  ASSERT_TRUE(reference_256().forward(p, values(dtype::f32, {2, 4}), s).status.ok());
  EXPECT_EQ(s.running_mean.values(), (std::vector<double>{4.5}));
  EXPECT_EQ(s.running_var.values(), (std::vector<double>{5.5}));
}

TEST(ReferenceFlaxProfile, DefaultsAreFlaxs) {
  const problem p = problem::parse("shape=4x1,profile=flax");
  EXPECT_EQ(p.momentum(), 0.99);
  EXPECT_EQ(p.eps(), 1e-5);  // keras's is 1e-3 with the same momentum
  EXPECT_EQ(p.profile(), profile::flax);
  EXPECT_EQ(problem::parse(p.to_string()), p);
  EXPECT_EQ(p.to_abi().profile, BNC_PROFILE_FLAX);
}

TEST(ReferenceFlaxProfile, OneValuePerChannelIsNoError) {
  // m == 1: var = 0, y = beta; ra_mean = 0.5 * 1 + 0.5 * 6 = 3.5,
  // ra_var = 0.5 * 3 + 0.5 * 0 = 1.5.
  const problem p = problem::parse("shape=1x1x1,dtype=f64,momentum=0.5,profile=flax");
  module_state s = module_state::initial(p);
  s.beta = values(dtype::f64, {-0.25});
  s.running_mean = values(dtype::f64, {1});
  s.running_var = values(dtype::f64, {3});
  const forward_outputs out = reference_256().forward(p, values(dtype::f64, {6}), s);
  ASSERT_TRUE(out.status.ok()) << out.status.message;
  EXPECT_EQ(out.y.values(), (std::vector<double>{-0.25}));
  EXPECT_EQ(s.running_mean.values(), (std::vector<double>{3.5}));
  EXPECT_EQ(s.running_var.values(), (std::vector<double>{1.5}));
}

TEST(ReferenceFlaxProfile, EmptyBatchMakesTheRunningStatisticsNaN) {
  const problem p = problem::parse("shape=0x3,dtype=f32,profile=flax");
  module_state s = module_state::initial(p);
  const forward_outputs out = reference_256().forward(p, tensor(dtype::f32, 0), s);
  ASSERT_TRUE(out.status.ok()) << out.status.message;
  for (std::int64_t c = 0; c < 3; ++c) {
    EXPECT_TRUE(std::isnan(s.running_mean.get(c)));
    EXPECT_TRUE(std::isnan(s.running_var.get(c)));
  }
  EXPECT_EQ(s.num_batches_tracked, 1);
}

TEST(ReferenceFlaxProfile, WithoutTrackingThereIsNoStateToUpdate) {
  // Flax's init: batch statistics, nothing updated (track=false); m == 1 is fine.
  const problem p = problem::parse("shape=1x2,dtype=f64,eps=0.25,track=false,profile=flax");
  module_state s = module_state::initial(p);
  const forward_outputs out = reference_256().forward(p, values(dtype::f64, {5, -7}), s);
  ASSERT_TRUE(out.status.ok()) << out.status.message;
  EXPECT_EQ(out.y.values(), (std::vector<double>{0, 0}));  // beta = 0
  EXPECT_EQ(out.save_mean.values(), (std::vector<double>{5, -7}));
  EXPECT_EQ(s.num_batches_tracked, 0);
}

TEST(ReferenceFlaxProfile, MomentumNoneIsUnsupported) {
  const problem p = problem::parse("shape=2x1,dtype=f64,momentum=none,profile=flax");
  module_state s = module_state::initial(p);
  EXPECT_EQ(reference_256().forward(p, values(dtype::f64, {4, 8}), s).status.code,
            BNC_STATUS_UNSUPPORTED);
  EXPECT_EQ(s.num_batches_tracked, 0);
}

}  // namespace
}  // namespace bnconform
