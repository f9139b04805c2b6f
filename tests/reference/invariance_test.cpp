// Layout invariance and agreement between precisions, on random problems.
#include <gtest/gtest.h>

#include "reference/reference.hpp"
#include "support.hpp"

namespace bnconform {
namespace {

problem random_problem(testing::random_source& rng, layout l) {
  static const dtype dtypes[] = {dtype::f64, dtype::f32, dtype::f16, dtype::bf16};
  problem::fields f;
  const int rank = 2 + static_cast<int>(rng.below(4));
  f.shape = {2 + rng.below(3), 1 + rng.below(3)};
  for (int k = 2; k < rank; ++k) f.shape.push_back(1 + rng.below(3));
  f.layout = l;
  f.data_type = dtypes[rng.below(4)];
  f.mode = rng.below(2) == 0 ? mode::training : mode::eval;
  f.affine = rng.below(4) != 0;
  f.track_running_stats = rng.below(4) != 0;
  f.momentum = rng.below(3) == 0 ? std::nullopt : std::optional(rng.uniform(0, 1));
  return problem(f);
}

reference::call_inputs random_inputs(const problem& p, testing::random_source& rng) {
  module_state s = module_state::initial(p);
  if (p.affine()) {
    s.gamma = testing::random_tensor(rng, p.stats_type(), p.channels(), -2, 2);
    s.beta = testing::random_tensor(rng, p.stats_type(), p.channels(), -2, 2);
  }
  if (p.track_running_stats()) {
    s.running_mean = testing::random_tensor(rng, p.stats_type(), p.channels(), -1, 1);
    s.running_var = testing::random_tensor(rng, p.stats_type(), p.channels(), 0.5, 2);
    s.num_batches_tracked = rng.below(5);
  }
  const double offset = rng.uniform(-100, 100);
  return reference::call_inputs::from(
      testing::random_tensor(rng, p.data_type(), p.element_count(), offset - 3, offset + 3),
      testing::random_tensor(rng, p.data_type(), p.element_count(), -1, 1), s);
}

// The same logical tensor in the other layout.
std::vector<double> relayout(const problem& from, const problem& to, const std::vector<double>& v) {
  std::vector<double> out(v.size());
  for (std::int64_t n = 0; n < from.batch(); ++n) {
    for (std::int64_t c = 0; c < from.channels(); ++c) {
      for (std::int64_t s = 0; s < from.spatial_size(); ++s) {
        out[static_cast<std::size_t>(to.offset(n, c, s))] =
            v[static_cast<std::size_t>(from.offset(n, c, s))];
      }
    }
  }
  return out;
}

TEST(ReferenceInvariance, LayoutDoesNotChangeTheResult) {
  testing::random_source rng(11);
  for (int trial = 0; trial < 40; ++trial) {
    const problem cf = random_problem(rng, layout::channels_first);
    problem::fields f = cf.spec();
    f.layout = layout::channels_last;
    const problem cl(f);
    reference::call_inputs a = random_inputs(cf, rng);
    reference::call_inputs b = a;
    b.x = relayout(cf, cl, a.x);
    b.dy = relayout(cf, cl, a.dy);
    SCOPED_TRACE(cf.to_string());
    const auto fa = reference::forward(cf, a), fb = reference::forward(cl, b);
    ASSERT_TRUE(fa.status.ok() && fb.status.ok()) << fa.status.message << fb.status.message;
    EXPECT_EQ(relayout(cf, cl, fa.y.rounded), fb.y.rounded);
    EXPECT_EQ(fa.save_invstd.rounded, fb.save_invstd.rounded);
    EXPECT_EQ(fa.running_var.rounded, fb.running_var.rounded);
    const auto ba = reference::backward(cf, a), bb = reference::backward(cl, b);
    ASSERT_TRUE(ba.status.ok() && bb.status.ok());
    EXPECT_EQ(relayout(cf, cl, ba.dx.rounded), bb.dx.rounded);
    EXPECT_EQ(ba.dgamma.rounded, bb.dgamma.rounded);
  }
}

TEST(ReferenceInvariance, PrecisionsAgreeAfterRounding) {
  // Correct rounding is unique: every precision that settles gives the same bits.
  testing::random_source rng(12);
  for (int trial = 0; trial < 25; ++trial) {
    const problem p =
        random_problem(rng, rng.below(2) == 0 ? layout::channels_first : layout::channels_last);
    const reference::call_inputs in = random_inputs(p, rng);
    SCOPED_TRACE(p.to_string());
    const auto base = reference::forward(p, in, {256});
    const auto base_grad = reference::backward(p, in, {256});
    ASSERT_TRUE(base.status.ok() && base_grad.status.ok())
        << base.status.message << base_grad.status.message;
    for (int bits : {128, 512}) {
      const auto other = reference::forward(p, in, {bits});
      const auto other_grad = reference::backward(p, in, {bits});
      ASSERT_TRUE(other.status.ok() && other_grad.status.ok()) << bits;
      EXPECT_EQ(other.y.rounded, base.y.rounded) << bits;
      EXPECT_EQ(other.running_var.rounded, base.running_var.rounded) << bits;
      EXPECT_EQ(other_grad.dx.rounded, base_grad.dx.rounded) << bits;
      EXPECT_EQ(other_grad.dgamma.rounded, base_grad.dgamma.rounded) << bits;
    }
  }
}

}  // namespace
}  // namespace bnconform
