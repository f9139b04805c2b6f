// The module state over sequences of calls: momentum 0.1, 0, 1 and None
// (cumulative average), with eval steps in between that must leave the state alone.
// Each step is judged against the reference from the state the kernel left, so
// the running statistics and the counter are checked at every step.
#include <gtest/gtest.h>

#include <string>

#include "support.hpp"

namespace bnconform::testing {
namespace {

class CpuModuleState : public ::testing::TestWithParam<std::tuple<const char*, const char*>> {};

TEST_P(CpuModuleState, TrainEvalSequenceIsStrict) {
  const std::string base = std::string("shape=4x3x5x7,dtype=") + std::get<1>(GetParam()) +
                           ",momentum=" + std::get<0>(GetParam());
  random_source rng(11);
  const problem train = problem::parse(base + ",mode=train");
  module_state state = random_state(rng, train);
  state.num_batches_tracked = 0;
  std::int64_t expected_count = 0;
  for (const char* m : {"train", "train", "eval", "train", "eval", "train", "train"}) {
    for (const char* layout : {"channels_first", "channels_last"}) {
      const problem p = problem::parse(base + ",mode=" + m + ",layout=" + layout);
      // A different mean per step, so the running average really moves.
      const tensor x = random_data(rng, p, rng.uniform(-3, 3), rng.uniform(0.5, 2));
      const judgement j = judged_forward(p, x, state);
      EXPECT_TRUE(j.passed) << p.to_string() << "\n" << j.report;
      if (p.mode() == mode::training) ++expected_count;
      EXPECT_EQ(state.num_batches_tracked, expected_count) << p.to_string();
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Momenta, CpuModuleState,
                         ::testing::Combine(::testing::Values("0.1", "none", "0", "1"),
                                            ::testing::Values("f32", "f64", "bf16")));

// momentum=None: after k batches the running mean is the plain average of the batch
// means, whatever it held before (semantics.md), here with exactly representable
// batch means so the expectation is exact up to the f32 rounding of each average.
TEST(CpuModuleState, MomentumNoneIsTheCumulativeAverage) {
  const problem p = problem::parse("shape=4x1,momentum=none");
  module_state state = module_state::initial(p);
  state.running_mean.set(0, 123.0);
  state.num_batches_tracked = 0;
  const double batches[3][4] = {{0, 1, 2, 3}, {4, 5, 6, 7}, {-8, -8, -8, -8}};
  const double means[3] = {1.5, 5.5, -8};
  double sum = 0;
  for (int k = 0; k < 3; ++k) {
    const tensor x = tensor::from_values(dtype::f32, batches[k]);
    ASSERT_TRUE(cpu().forward(p, x, state).status.ok());
    sum += means[k];
    EXPECT_FLOAT_EQ(static_cast<float>(state.running_mean.get(0)),
                    static_cast<float>(sum / (k + 1)));
    EXPECT_EQ(state.num_batches_tracked, k + 1);
  }
}

}  // namespace
}  // namespace bnconform::testing
