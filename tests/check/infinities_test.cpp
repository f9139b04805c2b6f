// The two rules for infinities (docs/tolerance.md#non-finite-values, derived in
// docs/error-model.md, "Infinities"), each from a finding of the differential fuzz
// harness (fuzz/README.md): an infinity that is the rounding of a value within
// budget, and NaN against Inf where an infinite dy or parameter meets a
// cancellation. Each also shows what still fails. The last test is the rule that the
// correctly rounded value always passes (docs/tolerance.md#budget-ratio-and-pass-rule).
#include <gtest/gtest.h>

#include <cmath>

#include "check/comparison.hpp"

namespace bnconform::check {
namespace {

comparison judged(dtype t, double expected, double residual, double got, double budget,
                  bool any_nonfinite = false) {
  judge j(problem::parse("shape=2x1"), level::strict);
  j.element("dx", t, {0, 0}, expected, residual, got, budget, any_nonfinite);
  return j.finish(verdict::pass);
}

// Finding 3: f16 dx exact 0, a residual within budget times gamma * invstd of about
// 4e16 is beyond f16's range, and the kernel gives -inf.
TEST(Infinities, AnInfinityPassesWhereTheBudgetReachesBeyondTheLargestFiniteValue) {
  EXPECT_TRUE(judged(dtype::f16, 0.0, 0.0, -HUGE_VAL, 1e5).passed());
  EXPECT_TRUE(judged(dtype::f16, 65000.0, 0.0, HUGE_VAL, 600.0).passed());  // 65000 + 600 > 65504
  EXPECT_TRUE(judged(dtype::f32, 0.0, 0.0, HUGE_VAL, HUGE_VAL).passed());   // an unbounded budget
  // Not when the budget stays inside the range, nor on the other side.
  EXPECT_FALSE(judged(dtype::f16, 0.0, 0.0, -HUGE_VAL, 1e3).passed());
  EXPECT_FALSE(judged(dtype::f16, 65000.0, 0.0, HUGE_VAL, 400.0).passed());  // 65400 < 65504
  EXPECT_FALSE(judged(dtype::f16, 65000.0, 0.0, -HUGE_VAL, 600.0).passed());
  EXPECT_FALSE(judged(dtype::f64, 1.0, 0.0, HUGE_VAL, 1e300).passed());
  // NaN is never a rounding of a finite value.
  EXPECT_FALSE(judged(dtype::f16, 0.0, 0.0, std::nan(""), 1e5).passed());
}

// Finding 7: f16 with eps = 0, dx exact about 1e5 (beyond f16's 65504, so the
// reference rounds it to +inf and keeps the exact value in the residual); a budget
// wider than the value itself lets a within-budget result overflow on either side.
TEST(Infinities, AnOverflowedExactValueIsJudgedByItsBudget) {
  EXPECT_TRUE(judged(dtype::f16, HUGE_VAL, 1e5, -HUGE_VAL, 3e5).passed());
  EXPECT_TRUE(judged(dtype::f16, HUGE_VAL, 1e5, HUGE_VAL, 1.0).passed());
  EXPECT_TRUE(judged(dtype::f16, HUGE_VAL, 7e4, 65504.0, 5000.0).passed());
  EXPECT_FALSE(judged(dtype::f16, HUGE_VAL, 1e5, -HUGE_VAL, 1e5).passed());  // 0 > -65504
  EXPECT_FALSE(judged(dtype::f16, HUGE_VAL, 7e4, 65504.0, 100.0).passed());
  EXPECT_FALSE(judged(dtype::f16, HUGE_VAL, 1e5, std::nan(""), 1e9).passed());
  // Without an exact value (residual 0: beyond double too) the infinity must match.
  EXPECT_FALSE(judged(dtype::f64, HUGE_VAL, 0.0, -HUGE_VAL, 1e300).passed());
  EXPECT_TRUE(judged(dtype::f64, HUGE_VAL, 0.0, HUGE_VAL, 1.0).passed());
}

// Findings 2 and 5: gamma = +inf times a bracket that vanishes exactly (NaN) where
// the kernel's rounded bracket gives inf; dy = +inf where the exact -inf - tiny * -inf
// is -inf and the kernel's 0 * inf is NaN.
TEST(Infinities, WithAnInfiniteInputInTheChannelNanAndInfAreNotTold) {
  EXPECT_TRUE(judged(dtype::f32, std::nan(""), 0.0, HUGE_VAL, 1e-7, true).passed());
  EXPECT_TRUE(judged(dtype::f64, -HUGE_VAL, 0.0, std::nan(""), 1e-16, true).passed());
  EXPECT_TRUE(judged(dtype::f64, -HUGE_VAL, 0.0, HUGE_VAL, 1e-16, true).passed());
  // Without an infinite input in the channel the pattern is exact.
  EXPECT_FALSE(judged(dtype::f32, std::nan(""), 0.0, HUGE_VAL, 1e-7).passed());
  EXPECT_FALSE(judged(dtype::f64, -HUGE_VAL, 0.0, std::nan(""), 1e-16).passed());
  // Non-finite where the exact value is finite (within range) still fails.
  EXPECT_FALSE(judged(dtype::f64, 1.0, 0.0, std::nan(""), 1e-16, true).passed());
  EXPECT_FALSE(judged(dtype::f64, 1.0, 0.0, HUGE_VAL, 1e-16, true).passed());
  // And a finite value where the exact one is not.
  EXPECT_FALSE(judged(dtype::f64, std::nan(""), 0.0, 1.0, 1e-16, true).passed());
}

// Finding 6: f16 eval with running_var = +inf gives y = beta = 5.03e-9 exactly, below
// f16's smallest subnormal; the budget is not a number there (inf * 0), and the
// correctly rounded 0 must still pass.
TEST(Infinities, TheCorrectlyRoundedValuePassesWhateverTheBudget) {
  const double beta = std::ldexp(1.0 + 45.0 / 128, -28);
  EXPECT_TRUE(judged(dtype::f16, 0.0, beta, 0.0, std::nan("")).passed());
  EXPECT_TRUE(judged(dtype::f16, 0.0, beta, 0.0, 0.0).passed());
  EXPECT_FALSE(judged(dtype::f16, 0.0, beta, std::ldexp(1.0, -24), std::nan("")).passed());
}

}  // namespace
}  // namespace bnconform::check
