// Controls of the interim strict judge itself, so that a pass of the CPU kernel
// means something: the reference passes, and a plain-f32 kernel (sequential f32
// sums, E[x^2] - E[x]^2) on offset data fails, as tolerance.md says it must.
#include <gtest/gtest.h>

#include <cmath>

#include "support.hpp"

namespace bnconform::testing {
namespace {

const problem offset_problem = problem::parse("shape=64x2x32,track=false,affine=false");

tensor offset_data() {
  random_source rng(5);
  return random_data(rng, offset_problem, 1e4, 1.0);
}

TEST(StrictJudge, PassesTheReference) {
  const tensor x = offset_data();
  module_state state = module_state::initial(offset_problem);
  strict_judge judge(offset_problem, x, tensor(dtype::f32, 0), state);
  const module_state before = state;
  const forward_outputs out = reference_256().forward(offset_problem, x, state);
  const judgement j = judge.forward(out, before, state);
  EXPECT_TRUE(j.passed) << j.report;
}

TEST(StrictJudge, FailsAPlainF32Kernel) {
  const problem& p = offset_problem;
  const tensor x = offset_data();
  module_state state = module_state::initial(p);
  forward_outputs out;
  out.y = tensor(dtype::f32, p.element_count());
  out.save_mean = tensor(dtype::f32, p.channels());
  out.save_invstd = tensor(dtype::f32, p.channels());
  for (std::int64_t c = 0; c < p.channels(); ++c) {
    float sum = 0, squares = 0;
    for (std::int64_t n = 0; n < p.batch(); ++n)
      for (std::int64_t s = 0; s < p.spatial_size(); ++s) {
        const auto v = static_cast<float>(x.get(p.offset(n, c, s)));
        sum += v;
        squares += v * v;
      }
    const float m = static_cast<float>(p.reduction_size());
    const float mean = sum / m;
    const float invstd = 1.0f / std::sqrt(std::fabs(squares / m - mean * mean) + 1e-5f);
    out.save_mean.set(c, mean);
    out.save_invstd.set(c, invstd);
    for (std::int64_t n = 0; n < p.batch(); ++n)
      for (std::int64_t s = 0; s < p.spatial_size(); ++s) {
        const std::int64_t i = p.offset(n, c, s);
        out.y.set(i, (static_cast<float>(x.get(i)) - mean) * invstd);
      }
  }
  strict_judge judge(p, x, tensor(dtype::f32, 0), state);
  const judgement j = judge.forward(out, state, state);
  EXPECT_FALSE(j.passed);
  EXPECT_GT(j.worst_ratio, 10.0);
}

}  // namespace
}  // namespace bnconform::testing
