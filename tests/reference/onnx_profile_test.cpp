// The onnx profile, docs/semantics.md#onnx: ONNX BatchNormalization-15 with
// training_mode=1. Hand-derived cases on data whose every step is exact, each
// chosen so that the pytorch rule gives a different answer.
#include <gtest/gtest.h>

#include "support.hpp"

namespace bnconform {
namespace {

using testing::reference_256;
using testing::values;

TEST(ReferenceOnnxProfile, MomentumWeightsTheOldValueAndVarianceIsBiased) {
  // x = [1, 2, 3, 6]: mean 3, biased var 14/4 = 3.5 (unbiased 14/3). Old running
  // mean 1, var 2, momentum 0.75:
  //   running_mean = 1 * 0.75 + 3 * 0.25 = 1.5       (pytorch: 0.25 + 2.25 = 2.5)
  //   running_var  = 2 * 0.75 + 3.5 * 0.25 = 2.375   (pytorch would use 14/3)
  const problem p = problem::parse("shape=4x1,dtype=f64,eps=0.5,momentum=0.75,profile=onnx");
  module_state s = module_state::initial(p);
  s.running_mean = values(dtype::f64, {1});
  s.running_var = values(dtype::f64, {2});
  const forward_outputs out = reference_256().forward(p, values(dtype::f64, {1, 2, 3, 6}), s);
  ASSERT_TRUE(out.status.ok()) << out.status.message;
  // Normalization is the same as pytorch's: biased variance, var + eps = 4.
  EXPECT_EQ(out.y.values(), (std::vector<double>{-1, -0.5, 0, 1.5}));
  EXPECT_EQ(s.running_mean.values(), (std::vector<double>{1.5}));
  EXPECT_EQ(s.running_var.values(), (std::vector<double>{2.375}));
  EXPECT_EQ(s.num_batches_tracked, 1);
}

TEST(ReferenceOnnxProfile, DefaultMomentumIsOnnxs) {
  EXPECT_EQ(problem::parse("shape=4x1,profile=onnx").momentum(), 0.9);
  EXPECT_EQ(problem::parse("shape=4x1,profile=onnx,momentum=0.5").momentum(), 0.5);
  EXPECT_EQ(problem::parse("shape=4x1").momentum(), 0.1);
  // The canonical string keeps the value, so it reads back the same.
  const problem p = problem::parse("shape=4x1,profile=onnx");
  EXPECT_EQ(problem::parse(p.to_string()), p);
}

TEST(ReferenceOnnxProfile, MomentumOneKeepsAndZeroReplaces) {
  const problem keep = problem::parse("shape=2x1,dtype=f64,momentum=1,profile=onnx");
  module_state s = module_state::initial(keep);
  ASSERT_TRUE(reference_256().forward(keep, values(dtype::f64, {4, 8}), s).status.ok());
  EXPECT_EQ(s.running_mean.values(), (std::vector<double>{0}));
  EXPECT_EQ(s.running_var.values(), (std::vector<double>{1}));

  const problem replace = problem::parse("shape=2x1,dtype=f64,momentum=0,profile=onnx");
  s = module_state::initial(replace);
  ASSERT_TRUE(reference_256().forward(replace, values(dtype::f64, {4, 8}), s).status.ok());
  EXPECT_EQ(s.running_mean.values(), (std::vector<double>{6}));
  EXPECT_EQ(s.running_var.values(), (std::vector<double>{4}));  // biased: 8 / 2
}

TEST(ReferenceOnnxProfile, MomentumNoneIsUnsupportedAndChangesNothing) {
  const problem p = problem::parse("shape=2x1,dtype=f64,momentum=none,profile=onnx");
  module_state s = module_state::initial(p);
  const forward_outputs out = reference_256().forward(p, values(dtype::f64, {4, 8}), s);
  EXPECT_EQ(out.status.code, BNC_STATUS_UNSUPPORTED);
  EXPECT_EQ(s.running_mean.values(), (std::vector<double>{0}));
  EXPECT_EQ(s.num_batches_tracked, 0);
}

TEST(ReferenceOnnxProfile, EvalAndBackwardAreThePytorchOnes) {
  for (const char* mode_text : {"train", "eval"}) {
    const std::string base = std::string("shape=3x2,dtype=f64,mode=") + mode_text;
    const problem pytorch = problem::parse(base);
    const problem onnx = problem::parse(base + ",profile=onnx,momentum=0.1");
    const tensor x = values(dtype::f64, {1, -1, 2, 0.5, 4, 3});
    const tensor dy = values(dtype::f64, {0.5, 1, -1, 2, 0.25, -3});
    module_state a = module_state::initial(pytorch), b = module_state::initial(onnx);
    const forward_outputs fa = reference_256().forward(pytorch, x, a);
    const forward_outputs fb = reference_256().forward(onnx, x, b);
    ASSERT_TRUE(fa.status.ok() && fb.status.ok());
    EXPECT_TRUE(fa.y.bitwise_equal(fb.y)) << mode_text;
    const module_state sa = module_state::initial(pytorch);
    const backward_outputs ba =
        reference_256().backward(pytorch, x, dy, sa, fa.save_mean, fa.save_invstd);
    const backward_outputs bb =
        reference_256().backward(onnx, x, dy, sa, fb.save_mean, fb.save_invstd);
    ASSERT_TRUE(ba.status.ok() && bb.status.ok());
    EXPECT_TRUE(ba.dx.bitwise_equal(bb.dx)) << mode_text;
    EXPECT_TRUE(ba.dgamma.bitwise_equal(bb.dgamma)) << mode_text;
  }
}

}  // namespace
}  // namespace bnconform
