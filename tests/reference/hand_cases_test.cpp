// Cases small enough to derive by hand; every expected value is worked out in
// the comment beside it, with powers of two so that it is exact in every dtype.
#include <gtest/gtest.h>

#include "support.hpp"

namespace bnconform {
namespace {

using testing::reference_256;
using testing::values;

TEST(ReferenceHandCases, TwoValuesOneChannel) {
  // x = [1, 3]: mean 2, biased var ((1-2)^2 + (3-2)^2) / 2 = 1, eps 0: invstd 1,
  // y = [-1, 1]. Unbiased var 2 / (2 - 1) = 2; momentum 0.5 from (0, 1):
  // running_mean 0.5*0 + 0.5*2 = 1, running_var 0.5*1 + 0.5*2 = 1.5.
  const problem p = problem::parse("shape=2x1,dtype=f32,eps=0,momentum=0.5");
  module_state s = module_state::initial(p);
  const forward_outputs out = reference_256().forward(p, values(dtype::f32, {1, 3}), s);
  ASSERT_TRUE(out.status.ok()) << out.status.message;
  EXPECT_EQ(out.y.values(), (std::vector<double>{-1, 1}));
  EXPECT_EQ(out.save_mean.values(), (std::vector<double>{2}));
  EXPECT_EQ(out.save_invstd.values(), (std::vector<double>{1}));
  EXPECT_EQ(s.running_mean.values(), (std::vector<double>{1}));
  EXPECT_EQ(s.running_var.values(), (std::vector<double>{1.5}));
  EXPECT_EQ(s.num_batches_tracked, 1);
}

TEST(ReferenceHandCases, AffineWithBiasedVariance) {
  // One channel, x = [0, 0, 4, 4]: mean 2, biased var 4 (unbiased would be 16/3),
  // eps 0: invstd 1/2, xhat = [-1, -1, 1, 1]; gamma 2, beta 1: y = [-1, -1, 3, 3].
  // running_var with momentum 0.25: 0.75 * 1 + 0.25 * 16/3 = 25/12, which in f64
  // is the correctly rounded quotient 25.0 / 12.0.
  const problem p = problem::parse("shape=4x1,dtype=f64,eps=0,momentum=0.25");
  module_state s = module_state::initial(p);
  s.gamma = values(dtype::f64, {2});
  s.beta = values(dtype::f64, {1});
  const forward_outputs out = reference_256().forward(p, values(dtype::f64, {0, 0, 4, 4}), s);
  ASSERT_TRUE(out.status.ok()) << out.status.message;
  EXPECT_EQ(out.y.values(), (std::vector<double>{-1, -1, 3, 3}));
  EXPECT_EQ(out.save_invstd.values(), (std::vector<double>{0.5}));
  EXPECT_EQ(s.running_mean.values(), (std::vector<double>{0.5}));  // 0.25 * 2
  EXPECT_EQ(s.running_var.values(), (std::vector<double>{25.0 / 12.0}));
}

TEST(ReferenceHandCases, EpsInsideTheSquareRoot) {
  // x = [-1, 1]: mean 0, var 1; eps 3 makes var + eps = 4, invstd 1/2: y = [-1/2, 1/2].
  // (eps outside the root would give 1 / (1 + 3) = 1/4.)
  const problem p = problem::parse("shape=2x1,dtype=f16,eps=3");
  module_state s = module_state::initial(p);
  const forward_outputs out = reference_256().forward(p, values(dtype::f16, {-1, 1}), s);
  ASSERT_TRUE(out.status.ok());
  EXPECT_EQ(out.y.values(), (std::vector<double>{-0.5, 0.5}));
  EXPECT_EQ(out.save_invstd.values(), (std::vector<double>{0.5}));
}

TEST(ReferenceHandCases, ChannelsKeepTheirOwnStatistics) {
  // Shape (2, 2, 1) channels_last: memory [x(0,c0), x(0,c1), x(1,c0), x(1,c1)]
  // = [0, 10, 2, 30]. Channel 0: [0, 2], mean 1, var 1; channel 1: [10, 30], mean 20,
  // var 100. eps 0: y = [-1, -1, 1, 1] in the same memory order.
  const problem p = problem::parse("shape=2x2x1,layout=channels_last,dtype=bf16,eps=0");
  module_state s = module_state::initial(p);
  const forward_outputs out = reference_256().forward(p, values(dtype::bf16, {0, 10, 2, 30}), s);
  ASSERT_TRUE(out.status.ok());
  EXPECT_EQ(out.y.values(), (std::vector<double>{-1, -1, 1, 1}));
  EXPECT_EQ(out.save_mean.values(), (std::vector<double>{1, 20}));
  EXPECT_EQ(out.save_invstd.values(), (std::vector<double>{1, 0.1f}));  // f32 statistics
}

TEST(ReferenceHandCases, BackwardTraining) {
  // x = [0, 0, 4, 4] (mean 2, invstd 1/2, xhat = [-1, -1, 1, 1]), gamma 2, eps 0,
  // dy = [1, 2, 3, 4]: dbeta = 10, dgamma = -1 - 2 + 3 + 4 = 4,
  // dx = gamma * invstd / m * (m dy - dbeta - xhat dgamma) = 1/4 (4 dy - 10 - 4 xhat)
  //    = [-1/2, 1/2, -1/2, 1/2].
  const problem p = problem::parse("shape=4x1,dtype=f32,eps=0");
  module_state s = module_state::initial(p);
  s.gamma = values(dtype::f32, {2});
  const tensor x = values(dtype::f32, {0, 0, 4, 4});
  const forward_outputs fwd = reference_256().forward(p, x, s);
  ASSERT_TRUE(fwd.status.ok());
  const backward_outputs out = reference_256().backward(p, x, values(dtype::f32, {1, 2, 3, 4}), s,
                                                        fwd.save_mean, fwd.save_invstd);
  ASSERT_TRUE(out.status.ok()) << out.status.message;
  EXPECT_EQ(out.dx.values(), (std::vector<double>{-0.5, 0.5, -0.5, 0.5}));
  EXPECT_EQ(out.dgamma.values(), (std::vector<double>{4}));
  EXPECT_EQ(out.dbeta.values(), (std::vector<double>{10}));
}

TEST(ReferenceHandCases, EvalUsesRunningStatistics) {
  // Eval with running_mean 1, running_var 3, eps 1: invstd 1/2; gamma 2, beta -1.
  // x = [1, 3, 5]: y = 2 * (x - 1) / 2 - 1 = [-1, 1, 3]. Backward: dx = dy * gamma *
  // invstd = dy; dgamma = sum dy * xhat = 1*0 + 1*1 + 1*2 = 3; dbeta = 3.
  const problem p = problem::parse("shape=3x1,dtype=f64,eps=1,mode=eval");
  module_state s = module_state::initial(p);
  s.gamma = values(dtype::f64, {2});
  s.beta = values(dtype::f64, {-1});
  s.running_mean = values(dtype::f64, {1});
  s.running_var = values(dtype::f64, {3});
  const tensor x = values(dtype::f64, {1, 3, 5});
  const forward_outputs fwd = reference_256().forward(p, x, s);
  ASSERT_TRUE(fwd.status.ok());
  EXPECT_EQ(fwd.y.values(), (std::vector<double>{-1, 1, 3}));
  EXPECT_EQ(fwd.save_mean.size(), 0);  // running statistics: nothing saved
  EXPECT_EQ(s.num_batches_tracked, 0);
  EXPECT_EQ(s.running_var.values(), (std::vector<double>{3}));
  const backward_outputs bwd =
      reference_256().backward(p, x, values(dtype::f64, {1, 1, 1}), s, tensor(), tensor());
  ASSERT_TRUE(bwd.status.ok()) << bwd.status.message;
  EXPECT_EQ(bwd.dx.values(), (std::vector<double>{1, 1, 1}));
  EXPECT_EQ(bwd.dgamma.values(), (std::vector<double>{3}));
  EXPECT_EQ(bwd.dbeta.values(), (std::vector<double>{3}));
}

TEST(ReferenceHandCases, NoAffineNoTracking) {
  // affine=false behaves as gamma 1, beta 0; track=false: eval uses batch
  // statistics too. x = [2, 6]: mean 4, var 4, eps 0: y = [-1, 1] in both modes.
  for (const char* mode : {"train", "eval"}) {
    const problem p =
        problem::parse(std::string("shape=2x1,eps=0,affine=false,track=false,mode=") + mode);
    module_state s = module_state::initial(p);
    const forward_outputs out = reference_256().forward(p, values(dtype::f32, {2, 6}), s);
    ASSERT_TRUE(out.status.ok()) << mode;
    EXPECT_EQ(out.y.values(), (std::vector<double>{-1, 1})) << mode;
    EXPECT_EQ(out.save_mean.values(), (std::vector<double>{4})) << mode;
    EXPECT_EQ(s.num_batches_tracked, 0) << mode;
  }
}

}  // namespace
}  // namespace bnconform
