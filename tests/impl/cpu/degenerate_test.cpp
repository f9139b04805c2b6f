// The degenerate and special inputs of semantics.md, each a named case: the empty
// batch, m == 1 in training (error, state untouched), constant channels (y == beta
// exactly), eps == 0 with a constant channel (ill-posed, no crash, other channels
// fine), NaN and Inf confined to their channel, and the malformed calls.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "support.hpp"

namespace bnconform::testing {
namespace {

using ::testing::HasSubstr;

const char* const layouts[] = {"channels_first", "channels_last"};
const char* const dtypes[] = {"f32", "f64", "f16", "bf16"};

TEST(CpuDegenerate, EmptyBatchCountsButChangesNoStatistics) {
  for (const char* shape : {"0x3x4", "2x3x0", "0x2"}) {
    for (const char* layout : layouts) {
      const problem p = problem::parse(std::string("shape=") + shape + ",layout=" + layout);
      random_source rng(3);
      module_state state = random_state(rng, p);
      const module_state before = state;
      const tensor x(p.data_type(), 0);
      const forward_outputs out = cpu().forward(p, x, state);
      ASSERT_TRUE(out.status.ok()) << out.status.message;
      EXPECT_TRUE(out.guards.empty());
      EXPECT_EQ(state.num_batches_tracked, before.num_batches_tracked + 1);
      EXPECT_TRUE(state.running_mean.bitwise_equal(before.running_mean));
      EXPECT_TRUE(state.running_var.bitwise_equal(before.running_var));
      for (std::int64_t c = 0; c < p.channels(); ++c) {
        EXPECT_TRUE(std::isnan(out.save_mean.get(c)));  // 0 / 0, as the reference
        EXPECT_TRUE(std::isnan(out.save_invstd.get(c)));
      }
      const backward_outputs b = cpu().backward(p, x, x, before, out.save_mean, out.save_invstd);
      ASSERT_TRUE(b.status.ok()) << b.status.message;
      EXPECT_TRUE(b.guards.empty());
      for (std::int64_t c = 0; c < p.channels(); ++c) {
        EXPECT_EQ(b.dgamma.get(c), 0.0);
        EXPECT_EQ(b.dbeta.get(c), 0.0);
      }
    }
  }
}

TEST(CpuDegenerate, OneValuePerChannelInTrainingIsRejectedWithStateUntouched) {
  for (const char* spec :
       {"shape=1x3", "shape=1x3x1x1,layout=channels_last", "shape=1x2x1,mode=eval,track=false"}) {
    const problem p = problem::parse(spec);
    random_source rng(5);
    module_state state = random_state(rng, p);
    const module_state before = state;
    const tensor x = random_data(rng, p, 0, 1);
    const forward_outputs out = cpu().forward(p, x, state);
    EXPECT_EQ(out.status.code, BNC_STATUS_INVALID_PROBLEM) << spec;
    EXPECT_THAT(out.status.message, HasSubstr("Expected more than 1 value per channel"));
    EXPECT_EQ(state.num_batches_tracked, before.num_batches_tracked);
    EXPECT_TRUE(state.running_mean.bitwise_equal(before.running_mean));
    EXPECT_TRUE(state.running_var.bitwise_equal(before.running_var));
    const backward_outputs b = cpu().backward(p, x, x, before, tensor(p.stats_type(), p.channels()),
                                              tensor(p.stats_type(), p.channels()));
    EXPECT_EQ(b.status.code, BNC_STATUS_INVALID_PROBLEM) << spec;
  }
  // m == 2: valid, with the unbiased factor 2.
  const problem two = problem::parse("shape=2x1,momentum=1");
  module_state state = module_state::initial(two);
  ASSERT_TRUE(cpu()
                  .forward(two, tensor::from_values(dtype::f32, std::vector<double>{1, 3}), state)
                  .status.ok());
  EXPECT_EQ(state.running_var.get(0), 2.0);  // biased 1, unbiased 2
}

// A constant channel: the mean is exactly the constant, the variance exactly 0, and
// y == beta exactly (eps > 0); the other channels are unaffected.
TEST(CpuDegenerate, ConstantChannelGivesBetaExactly) {
  for (const char* dt : dtypes) {
    for (const char* layout : layouts) {
      // 3 x 5000 values: more than one block, so block combination is exercised.
      const problem p =
          problem::parse(std::string("shape=3x3x5000,dtype=") + dt + ",layout=" + layout);
      random_source rng(9);
      tensor x = random_data(rng, p, 1, 1);
      const double constant = -37.5;  // exact in every dtype (7 significant bits)
      for (std::int64_t n = 0; n < 3; ++n)
        for (std::int64_t s = 0; s < 5000; ++s) x.set(p.offset(n, 1, s), constant);
      module_state state = random_state(rng, p);
      const module_state before = state;
      const forward_outputs out = cpu().forward(p, x, state);
      ASSERT_TRUE(out.status.ok()) << out.status.message;
      EXPECT_EQ(out.save_mean.get(1), constant) << p.to_string();
      EXPECT_EQ(
          out.save_invstd.get(1),
          tensor::from_values(p.stats_type(), std::vector<double>{1 / std::sqrt(1e-5)}).get(0))
          << p.to_string();
      const double beta =
          tensor::from_values(p.data_type(), std::vector<double>{before.beta.get(1)}).get(0);
      for (std::int64_t n = 0; n < 3; ++n)
        for (std::int64_t s = 0; s < 5000; s += 7)
          ASSERT_EQ(out.y.get(p.offset(n, 1, s)), beta) << p.to_string() << " s=" << s;
      module_state again = before;
      const check::comparison j = judged_forward(p, x, again);
      EXPECT_TRUE(j.passed()) << p.to_string() << "\n" << j.describe();
    }
  }
}

TEST(CpuDegenerate, EpsZeroConstantChannelIsIllPosedAndConfined) {
  for (const char* layout : layouts) {
    const problem p = problem::parse(std::string("shape=4x3x6,eps=0,layout=") + layout);
    random_source rng(13);
    tensor x = random_data(rng, p, 0, 1);
    for (std::int64_t n = 0; n < 4; ++n)
      for (std::int64_t s = 0; s < 6; ++s) x.set(p.offset(n, 2, s), -2.5);
    module_state state = random_state(rng, p);
    const module_state before = state;
    const forward_outputs out = cpu().forward(p, x, state);
    ASSERT_TRUE(out.status.ok()) << out.status.message;
    EXPECT_THAT(out.status.message, HasSubstr("ill-posed"));
    module_state again = before;
    const check::comparison j = judged_forward(p, x, again);  // channel 2 is not judged
    EXPECT_TRUE(j.passed()) << j.describe();
    const check::comparison b = judged_backward(p, x, random_data(rng, p, 0, 1), before);
    EXPECT_TRUE(b.passed()) << b.describe();
  }
}

// NaN in channel 0, +Inf in channel 1, nothing in channel 2: the first two
// channels' statistics and outputs follow IEEE (judged against the reference's
// NaN/Inf pattern), channel 2 is untouched by them.
TEST(CpuDegenerate, NanAndInfStayInTheirChannel) {
  const double inf = std::numeric_limits<double>::infinity();
  for (const char* dt : dtypes) {
    for (const char* layout : layouts) {
      for (const char* m : {"train", "eval"}) {
        const problem p = problem::parse(std::string("shape=3x3x4x4,dtype=") + dt +
                                         ",layout=" + layout + ",mode=" + m);
        random_source rng(17);
        tensor x = random_data(rng, p, 0.5, 1);
        x.set(p.offset(1, 0, 5), std::nan(""));
        x.set(p.offset(2, 1, 0), inf);  // the first value of a block in channels-last
        x.set(p.offset(0, 1, 3), inf);
        module_state state = random_state(rng, p);
        const module_state before = state;
        const check::comparison j = judged_forward(p, x, state);
        EXPECT_TRUE(j.passed()) << p.to_string() << "\n" << j.describe();
        if (p.mode() == mode::training) {
          EXPECT_TRUE(std::isnan(state.running_mean.get(0)));
          EXPECT_EQ(state.running_mean.get(1), inf);
          EXPECT_TRUE(std::isnan(state.running_var.get(1)));
          EXPECT_TRUE(std::isfinite(state.running_mean.get(2)));
        }
        const check::comparison b = judged_backward(p, x, random_data(rng, p, 0, 1), before);
        EXPECT_TRUE(b.passed()) << p.to_string() << "\n" << b.describe();
      }
    }
  }
}

// Calls through the raw ABI that the harness would never make.
class CpuMalformed : public ::testing::Test {
 protected:
  problem p = problem::parse("shape=2x3x4");
  bnc_problem d = p.to_abi();
  std::vector<float> x = std::vector<float>(24, 1.0f), y = std::vector<float>(24, 0.0f);
  std::vector<float> gamma = std::vector<float>(3, 1.0f), beta = std::vector<float>(3, 0.0f);
  std::vector<float> rm = std::vector<float>(3, 0.0f), rv = std::vector<float>(3, 1.0f);
  std::vector<float> sm = std::vector<float>(3, 7.0f), si = std::vector<float>(3, 7.0f);
  std::int64_t count = 0;
  bnc_forward_args a{};
  char message[256] = {};

  void SetUp() override {
    a.struct_size = sizeof a;
    a.x = x.data();
    a.y = y.data();
    a.gamma = gamma.data();
    a.beta = beta.data();
    a.running_mean = rm.data();
    a.running_var = rv.data();
    a.save_mean = sm.data();
    a.save_invstd = si.data();
    a.num_batches_tracked = &count;
  }
  bnc_status call() {
    const bnc_kernel* k = cpu::cpu_kernel();
    return k->forward(k->context, &d, &a, message, sizeof message);
  }
  void expect_nothing_written() {
    EXPECT_EQ(count, 0);
    EXPECT_EQ(y, std::vector<float>(24, 0.0f));
    EXPECT_EQ(rm, std::vector<float>(3, 0.0f));
    EXPECT_EQ(rv, std::vector<float>(3, 1.0f));
    EXPECT_EQ(sm, std::vector<float>(3, 7.0f));
  }
};

TEST_F(CpuMalformed, WellFormedCallSucceeds) {
  EXPECT_EQ(call(), BNC_STATUS_OK) << message;
  EXPECT_EQ(count, 1);
}

TEST_F(CpuMalformed, NullInputIsABadArgument) {
  a.x = nullptr;
  EXPECT_EQ(call(), BNC_STATUS_BAD_ARGUMENT);
  EXPECT_THAT(message, HasSubstr("x is NULL"));
  expect_nothing_written();
}

TEST_F(CpuMalformed, NullArgsOrProblemIsABadArgument) {
  const bnc_kernel* k = cpu::cpu_kernel();
  EXPECT_EQ(k->forward(k->context, &d, nullptr, message, sizeof message), BNC_STATUS_BAD_ARGUMENT);
  EXPECT_EQ(k->forward(k->context, nullptr, &a, message, sizeof message), BNC_STATUS_BAD_ARGUMENT);
  EXPECT_EQ(k->backward(k->context, nullptr, nullptr, message, sizeof message),
            BNC_STATUS_BAD_ARGUMENT);
  expect_nothing_written();
}

TEST_F(CpuMalformed, ShortStructIsABadArgument) {
  a.struct_size = 8;
  EXPECT_EQ(call(), BNC_STATUS_BAD_ARGUMENT);
  expect_nothing_written();
}

TEST_F(CpuMalformed, NegativeCounterIsABadArgument) {
  count = -1;
  EXPECT_EQ(call(), BNC_STATUS_BAD_ARGUMENT);
  EXPECT_THAT(message, HasSubstr("num_batches_tracked"));
  EXPECT_EQ(count, -1);
}

TEST_F(CpuMalformed, UnknownDtypeIsABadArgument) {
  const int unknown = 9;  // a raw value no enumerator has
  std::memcpy(&d.data_dtype, &unknown, sizeof unknown);
  EXPECT_EQ(call(), BNC_STATUS_BAD_ARGUMENT);
  expect_nothing_written();
}

// momentum=None exists only in pytorch (docs/semantics.md, relation 11).
TEST_F(CpuMalformed, MomentumNoneOutsidePytorchIsUnsupported) {
  for (const bnc_profile pf :
       {BNC_PROFILE_ONNX, BNC_PROFILE_KERAS, BNC_PROFILE_TF_FUSED, BNC_PROFILE_FLAX}) {
    d.profile = pf;
    d.momentum_is_none = 1;
    EXPECT_EQ(call(), BNC_STATUS_UNSUPPORTED) << pf;
    EXPECT_THAT(message, HasSubstr("momentum=None"));
    expect_nothing_written();
  }
}

// The momentum's meaning by profile, on a constant channel (mean 1, var 0): the
// weight of the batch value in pytorch, of the old value in onnx.
TEST_F(CpuMalformed, TheProfileSaysWhatMomentumWeighs) {
  d.momentum = 0.25;
  EXPECT_EQ(call(), BNC_STATUS_OK) << message;
  EXPECT_EQ(rm, std::vector<float>(3, 0.25f));
  EXPECT_EQ(rv, std::vector<float>(3, 0.75f));
  rm.assign(3, 0.0f);
  rv.assign(3, 1.0f);
  d.profile = BNC_PROFILE_ONNX;
  EXPECT_EQ(call(), BNC_STATUS_OK) << message;
  EXPECT_EQ(rm, std::vector<float>(3, 0.75f));
  EXPECT_EQ(rv, std::vector<float>(3, 0.25f));
  EXPECT_EQ(count, 2);
}

TEST_F(CpuMalformed, MessageIsTruncatedToTheBuffer) {
  a.x = nullptr;
  const bnc_kernel* k = cpu::cpu_kernel();
  char small[6] = {'x', 'x', 'x', 'x', 'x', 'x'};
  EXPECT_EQ(k->forward(k->context, &d, &a, small, sizeof small), BNC_STATUS_BAD_ARGUMENT);
  EXPECT_EQ(small[5], '\0');
}

}  // namespace
}  // namespace bnconform::testing
