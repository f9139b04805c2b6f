// The degenerate and special inputs of semantics.md, and the self-check's own
// mechanism (settling, refusing what it cannot vouch for).
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "reference/checked.hpp"
#include "reference/reference.hpp"
#include "support.hpp"

namespace bnconform {
namespace {

using testing::reference_256;
using testing::values;
constexpr double inf = std::numeric_limits<double>::infinity();

TEST(ReferenceDegenerate, EmptyBatch) {
  const problem p = problem::parse("shape=0x2x3,dtype=f32,momentum=0.5");
  module_state s = module_state::initial(p);
  const tensor rm = s.running_mean, rv = s.running_var;
  const forward_outputs out = reference_256().forward(p, tensor(dtype::f32, 0), s);
  ASSERT_TRUE(out.status.ok()) << out.status.message;
  EXPECT_EQ(out.y.size(), 0);
  EXPECT_TRUE(s.running_mean.bitwise_equal(rm));
  EXPECT_TRUE(s.running_var.bitwise_equal(rv));
  EXPECT_EQ(s.num_batches_tracked, 1);
  const backward_outputs bwd = reference_256().backward(
      p, tensor(dtype::f32, 0), tensor(dtype::f32, 0), s, out.save_mean, out.save_invstd);
  ASSERT_TRUE(bwd.status.ok()) << bwd.status.message;
  EXPECT_EQ(bwd.dgamma.values(), (std::vector<double>{0, 0}));
  EXPECT_EQ(bwd.dbeta.values(), (std::vector<double>{0, 0}));
}

TEST(ReferenceDegenerate, ConstantChannelGivesBetaExactly) {
  // Channel 0 constant 0.1f (var 0, eps > 0): mean is exactly the constant, y == beta.
  const problem p = problem::parse("shape=3x2,dtype=f32");
  module_state s = module_state::initial(p);
  s.beta = values(dtype::f32, {0.375, -2});
  const float c = 0.1f;
  const forward_outputs out = reference_256().forward(p, values(dtype::f32, {c, 1, c, 2, c, 4}), s);
  ASSERT_TRUE(out.status.ok());
  EXPECT_EQ(out.save_mean.get(0), static_cast<double>(c));
  for (std::int64_t n = 0; n < 3; ++n) EXPECT_EQ(out.y.get(p.offset(n, 0, 0)), 0.375);
}

TEST(ReferenceDegenerate, NanAndInfStayInTheirChannel) {
  // Channel 0 holds a NaN, channel 1 a +Inf, channel 2 is ordinary.
  const problem p = problem::parse("shape=2x3,dtype=f32,momentum=0.5,eps=0");
  module_state s = module_state::initial(p);
  const double nan = std::nan("");
  const forward_outputs out =
      reference_256().forward(p, values(dtype::f32, {nan, inf, 1, 2, 3, 3}), s);
  ASSERT_TRUE(out.status.ok());
  EXPECT_TRUE(std::isnan(out.save_mean.get(0)));
  EXPECT_TRUE(std::isnan(out.y.get(0)) && std::isnan(out.y.get(3)));
  EXPECT_TRUE(std::isnan(s.running_mean.get(0)));
  EXPECT_EQ(out.save_mean.get(1), inf);  // mean and running mean +Inf,
  EXPECT_EQ(s.running_mean.get(1), inf);
  EXPECT_TRUE(std::isnan(s.running_var.get(1)));  // variance and outputs NaN
  EXPECT_TRUE(std::isnan(out.y.get(1)) && std::isnan(out.y.get(4)));
  EXPECT_EQ(out.y.get(2), -1);  // channel 2: [1, 3], mean 2, var 1, eps 0
  EXPECT_TRUE(std::isfinite(s.running_var.get(2)));
}

TEST(ReferenceDegenerate, EvalAffectsOnlyNonFiniteElements) {
  const problem p = problem::parse("shape=3x1,dtype=f64,mode=eval,eps=0");
  module_state s = module_state::initial(p);
  const forward_outputs out = reference_256().forward(p, values(dtype::f64, {1, inf, -2}), s);
  ASSERT_TRUE(out.status.ok());
  EXPECT_EQ(out.y.values()[0], 1);
  EXPECT_EQ(out.y.values()[1], inf);
  EXPECT_EQ(out.y.values()[2], -2);
}

TEST(ReferenceDegenerate, ZeroEpsWithZeroVarianceIsFlaggedIllPosed) {
  const problem p = problem::parse("shape=2x2,dtype=f32,eps=0");
  module_state s = module_state::initial(p);
  const forward_outputs out = reference_256().forward(p, values(dtype::f32, {5, 1, 5, 3}), s);
  ASSERT_TRUE(out.status.ok());
  EXPECT_NE(out.status.message.find("ill-posed"), std::string::npos) << out.status.message;
  reference::call_inputs in = reference::call_inputs::from(
      values(dtype::f32, {5, 1, 5, 3}), tensor(dtype::f32, 0), module_state::initial(p));
  EXPECT_EQ(reference::forward(p, in).ill_posed_channels, (std::vector<std::int64_t>{0}));
  EXPECT_EQ(out.y.get(1), -1);  // channel 1 is well posed
}

TEST(ReferenceDegenerate, SubnormalsAreNotFlushed) {
  // x = [2^-149, 3 * 2^-149] (f32 subnormals): mean exactly 2^-149 * 2.
  const problem p = problem::parse("shape=2x1,dtype=f32,eps=0");
  module_state s = module_state::initial(p);
  const double tiny = std::ldexp(1.0, -149);
  const forward_outputs out = reference_256().forward(p, values(dtype::f32, {tiny, 3 * tiny}), s);
  ASSERT_TRUE(out.status.ok());
  EXPECT_EQ(out.save_mean.get(0), 2 * tiny);
  EXPECT_EQ(out.y.values(), (std::vector<double>{-1, 1}));
}

TEST(ReferenceDegenerate, HugeValuesAndOverflowToInfinity) {
  // x = [0, 0, 0, 4]: mean 1, var 3, xhat[3] = sqrt(3); gamma 3e38 makes y[3]
  // about 5.2e38 > FLT_MAX: correct rounding gives +Inf. x near FLT_MAX squared
  // does not overflow inside the reference.
  const problem p = problem::parse("shape=4x2,dtype=f32,eps=0,layout=cl");
  module_state s = module_state::initial(p);
  s.gamma = values(dtype::f32, {3e38, 1});
  const double big = 3e38;
  const forward_outputs out =
      reference_256().forward(p, values(dtype::f32, {0, big, 0, -big, 0, big, 4, -big}), s);
  ASSERT_TRUE(out.status.ok());
  EXPECT_EQ(out.y.get(p.offset(3, 0, 0)), inf);
  EXPECT_EQ(out.y.get(p.offset(0, 1, 0)), 1);
  EXPECT_EQ(out.save_mean.get(1), 0);
}

TEST(ReferenceSelfCheck, UnsettledRoundingIsReported) {
  // A value that the low precision puts above an f32 midpoint and the high one
  // just below: the interval around it straddles the midpoint, so it is unsettled.
  using low = reference::mp_float<128>;
  using high = reference::mp_float<256>;
  const high midpoint = high(1) + ldexp(high(1), -24);
  std::vector<reference::unsettled_element> unsettled;
  const auto out = reference::settle(std::vector<low>{low(midpoint + ldexp(high(1), -100))},
                                     std::vector<high>{midpoint - ldexp(high(1), -200)}, dtype::f32,
                                     "y", unsettled);
  ASSERT_EQ(unsettled.size(), 1u);
  EXPECT_EQ(unsettled[0].output, "y");
  // An exact tie agreed by both precisions is settled, ties to even: 1.
  unsettled.clear();
  const auto tie = reference::settle(std::vector<low>{low(midpoint)}, std::vector<high>{midpoint},
                                     dtype::f32, "y", unsettled);
  EXPECT_TRUE(unsettled.empty());
  EXPECT_EQ(tie.rounded[0], 1.0);
  EXPECT_NE(out.rounded[0], 0.0);
}

TEST(ReferenceSelfCheck, NeverAnswersWhatItCannotVouchFor) {
  // f64 x = [1e100, 1e-100, -1e100]: the exact sum needs 664 + 53 = 717 bits.
  // 256 bits: refused up front (the inputs span 664 binary orders > 2 * 256 - 128).
  // 512 bits: the 512- and 1024-bit means differ, so the rounding is reported as
  //   unsettled rather than used.
  // 1024 bits: exact, and the mean is the correctly rounded 1e-100 / 3.
  const problem p = problem::parse("shape=3x1,dtype=f64");
  reference::call_inputs in;
  in.x = {1e100, 1e-100, -1e100};
  in.gamma = {1};
  in.beta = {0};
  in.running_mean = {0};
  in.running_var = {1};
  const auto narrow = reference::forward(p, in, {256});
  EXPECT_EQ(narrow.status.code, BNC_STATUS_INTERNAL_ERROR);
  EXPECT_NE(narrow.status.message.find("orders of magnitude"), std::string::npos)
      << narrow.status.message;
  const auto middle = reference::forward(p, in, {512});
  EXPECT_EQ(middle.status.code, BNC_STATUS_INTERNAL_ERROR);
  EXPECT_NE(middle.status.message.find("not settled"), std::string::npos) << middle.status.message;
  EXPECT_FALSE(middle.unsettled.empty());
  const auto wide = reference::forward(p, in, {1024});
  ASSERT_TRUE(wide.status.ok()) << wide.status.message;
  EXPECT_EQ(wide.save_mean.rounded[0], 1e-100 / 3);
}

}  // namespace
}  // namespace bnconform
