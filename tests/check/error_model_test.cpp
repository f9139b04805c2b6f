// The error model validated both ways (docs/error-model.md, "Validation"): correct
// kernels of each class pass their level on ordinary and ill-conditioned data, and a
// plain sequential f32 kernel fails `standard` on long offset channels. Sections:
// docs/tolerance.md#units-and-levels, #budget-per-output-element,
// #budget-ratio-and-pass-rule (the report); the ErrorModelVerdicts tests
// docs/tolerance.md#verdicts, #exact-results and #ill-posed-cases.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "battery_cases.hpp"
#include "check/budget.hpp"
#include "check/comparison.hpp"
#include "check/ratio_text.hpp"
#include "impl/mutants/model_kernel.hpp"
#include "reference/reference.hpp"

namespace bnconform {
namespace {

using check::level;
using check::verdict;
using testing::battery_cases;
using testing::run_case;

TEST(ErrorModel, TheReferenceAt128BitsPassesStrictEverywhere) {
  const kernel k(reference::reference_kernel(128));
  for (const auto& bc : battery_cases()) {
    const check::comparison c = run_case(k, bc, level::strict);
    EXPECT_EQ(c.result, verdict::pass) << bc.problem << "\n" << c.describe();
    // Correctly rounded outputs are at most half an ulp away.
    EXPECT_LE(c.max_ulp, 0.5) << bc.problem;
  }
}

TEST(ErrorModel, CorrectModelsPassTheirLevel) {
  for (const auto& mo : mutants::correct_models()) {
    const kernel k(&mo.kernel);
    const level l = *check::parse_level(mo.expectation);
    for (const auto& bc : battery_cases()) {
      const bool long_channel = bc.offset >= 1e4;  // one seed: it costs the reference most
      for (std::uint64_t seed = 1; seed <= (long_channel ? 1u : 3u); ++seed) {
        const check::comparison c = run_case(k, bc, l, seed);
        EXPECT_EQ(c.result, verdict::pass)
            << mo.name << " seed " << seed << " " << bc.problem << "\n"
            << c.describe();
      }
    }
  }
}

// x = 1e4 + N(0, 1), the ill-conditioned case of docs/tolerance.md, on a long channel.
testing::battery_case offset_channel(const char* layout, std::int64_t m) {
  return {"shape=" + std::to_string(m / 8) + "x2x8,dtype=f32,layout=" + layout, 1e4, 0, false,
          false};
}

TEST(ErrorModel, CorrectModelsPassOnLongOffsetChannels) {
  for (const char* layout : {"channels_first", "channels_last"}) {
    const auto bc = offset_channel(layout, 1 << 15);
    for (const auto& mo : mutants::correct_models()) {
      const check::comparison c =
          run_case(kernel(&mo.kernel), bc, *check::parse_level(mo.expectation));
      EXPECT_EQ(c.result, verdict::pass) << mo.name << " " << layout << "\n" << c.describe();
    }
  }
}

TEST(ErrorModel, ASequentialF32KernelFailsStandardOnLongOffsetChannels) {
  const kernel k(&mutants::sequential_model().kernel);
  const check::comparison c =
      run_case(k, offset_channel("channels_first", 1 << 15), level::standard);
  EXPECT_EQ(c.result, verdict::fail) << c.describe();
  EXPECT_THAT(c.reason, ::testing::HasSubstr("budget"));
  EXPECT_GT(c.worst_ratio, 1.0) << c.describe();
  // ...while on short, centred data it is as good as any.
  const check::comparison short_case =
      run_case(k, {"shape=8x3x5,dtype=f32", 0, 0, false, true}, level::standard);
  EXPECT_EQ(short_case.result, verdict::pass) << short_case.describe();
}

TEST(ErrorModel, TheReportSaysWhereAndHowFar) {
  const kernel k(&mutants::sequential_model().kernel);
  const check::comparison c =
      run_case(k, offset_channel("channels_last", 1 << 15), level::standard);
  ASSERT_EQ(c.result, verdict::fail);
  EXPECT_FALSE(c.worst_output.empty());
  EXPECT_EQ(c.worst_index.size(), c.worst_output == "y" ? 3u : 1u);
  EXPECT_GT(c.max_ulp, 1.0);
  EXPECT_FALSE(c.first_mismatches.empty());
  EXPECT_LE(c.first_mismatches.size(), 10u);
  EXPECT_THAT(c.describe(), ::testing::HasSubstr("repro: bnconform run --problem 'shape=4096x2x8"));
  EXPECT_THAT(c.first_mismatches.front(), ::testing::HasSubstr("0x1."));  // printed exactly
}

}  // namespace
}  // namespace bnconform

namespace bnconform {
namespace {

using check::level;
using check::verdict;

check::comparison forward_with(const char* text, const std::vector<double>& x_values,
                               const check::options& opt) {
  const problem p = problem::parse(text);
  const kernel k(reference::reference_kernel(128));
  return check::run_forward(k, p, tensor::from_values(p.data_type(), x_values),
                            module_state::initial(p), opt);
}

// docs/tolerance.md#verdicts: mistrusted.
TEST(ErrorModelVerdicts, MostlyZeroOutputsAreMistrusted) {
  // x == 0 everywhere with beta == 0: y is exactly 0, any kernel that writes zeros
  // passes, so the data cannot judge.
  const auto c = forward_with("shape=4x2,dtype=f32", std::vector<double>(8, 0.0), {});
  EXPECT_EQ(c.result, verdict::mistrusted) << c.describe();
  EXPECT_FALSE(c.passed());
}

// docs/tolerance.md#ill-posed-cases.
TEST(ErrorModelVerdicts, ZeroVarianceWithZeroEpsIsIllPosedAndTheRestIsJudged) {
  // Channel 0 constant with eps == 0; channel 1 ordinary.
  const auto c = forward_with("shape=4x2,dtype=f32,eps=0", {1, 1, 1, 2, 1, 3, 1, 5}, {});
  EXPECT_EQ(c.result, verdict::ill_posed) << c.describe();
  EXPECT_TRUE(c.passed());
  EXPECT_THAT(c.describe(), ::testing::HasSubstr("ill-posed channels"));
  EXPECT_EQ(c.elements_judged, 4 + 2 + 2);  // y of channel 1, its statistics, running values
}

// docs/tolerance.md#budget-per-output-element: with eps == 0 the exact variance of
// f64 data of subnormal size (here about 2^-2145) rounds to 0 in the double
// quantities but is not 0 (not ill-posed): d_var >= var, so no invstd can be
// excluded and the budgets are infinite. They were NaN (2u (|x| + |mean|) underflows
// to 0 against an infinite invstd), which demands the correctly rounded value.
TEST(ErrorModelVerdicts, F64SubnormalDataWithZeroEpsHasUnboundedBudgets) {
  const problem p = problem::parse("shape=4x1,dtype=f64,eps=0");
  const tensor x = tensor::from_values(
      dtype::f64, std::vector<double>{0x1p-1074, 0x3p-1074, 0x2p-1074, 0x7p-1074});
  const auto in = reference::call_inputs::from(x, tensor(), module_state::initial(p));
  const auto q = reference::quantities(p, in, reference::options{128});
  ASSERT_EQ(q.size(), 1u);
  EXPECT_EQ(q[0].var, 0.0);
  EXPECT_TRUE(std::isinf(q[0].invstd));
  const check::budget_model model(p, level::strict);
  const check::channel_terms t = model.terms(q[0], 1, 0);
  EXPECT_TRUE(std::isinf(t.rel_d_invstd));
  for (std::int64_t i = 0; i < x.size(); ++i) {
    EXPECT_EQ(model.y(t, x.get(i), 1.0), std::numeric_limits<double>::infinity()) << i;
  }
  EXPECT_EQ(model.save_invstd(t), std::numeric_limits<double>::infinity());
  // The reference itself still passes (at 1024 bits: the inputs, gamma included,
  // span 1074 binary orders), and the case is judged, not ill-posed.
  check::options opt;
  opt.reference_bits = 1024;
  const kernel k(reference::reference_kernel(1024));
  const auto c = check::run_forward(k, p, x, module_state::initial(p), opt);
  EXPECT_EQ(c.result, verdict::pass) << c.describe();
}

// docs/error-model.md, "Max ULP": ULPs are measured only where a budget bounds the
// value (an unbounded element, above, may be any finite value) and the exact value
// is normal in the output dtype.
TEST(ErrorModelVerdicts, MaxUlpLeavesOutElementsWithAnUnboundedBudget) {
  const problem p = problem::parse("shape=4x1,dtype=f64,eps=0");
  const double inf = std::numeric_limits<double>::infinity();
  check::judge unbounded(p, level::strict);
  unbounded.element("y", dtype::f64, {0, 0}, 1.0, 0.0, 0x1p1000, inf);
  const check::comparison a = unbounded.finish(verdict::pass);
  EXPECT_EQ(a.result, verdict::pass);
  EXPECT_EQ(a.max_ulp, 0.0);
  // An exact zero (or subnormal) output: its ULP is 2^-1074, so 2^-60 would read
  // 1e305 ULPs while far within its budget.
  check::judge at_zero(p, level::strict);
  at_zero.element("dx", dtype::f64, {0, 0}, 0.0, 0.0, 0x1p-60, 0x1p-50);
  at_zero.element("dx", dtype::f64, {1, 0}, 0x1p-1070, 0.0, 0x1p-60, 0x1p-50);
  const check::comparison z = at_zero.finish(verdict::pass);
  EXPECT_EQ(z.result, verdict::pass);
  EXPECT_EQ(z.max_ulp, 0.0);
  check::judge bounded(p, level::strict);
  bounded.element("y", dtype::f64, {0, 0}, 1.0, 0.0, 1.0 + 0x1p-50, 1.0);
  EXPECT_EQ(bounded.finish(verdict::pass).max_ulp, 4.0);
}

// check/ratio_text.hpp: a failure that no budget explains shows no ratio.
TEST(ErrorModelVerdicts, TheRatioOfAFailureWithinBudgetReadsNotApplicable) {
  EXPECT_EQ(check::ratio_text(verdict::fail, 0.5, 3), "n/a");
  EXPECT_EQ(check::ratio_text(verdict::crashed, 0, 3), "n/a");
  EXPECT_EQ(check::ratio_text(verdict::fail, 1.0, 3), "n/a");
  EXPECT_EQ(check::ratio_text(verdict::fail, 2.5, 3), "2.5");
  EXPECT_EQ(check::ratio_text(verdict::fail, std::numeric_limits<double>::infinity(), 3), "inf");
  EXPECT_EQ(check::ratio_text(verdict::pass, 0.123456, 3), "0.123");
  EXPECT_EQ(check::ratio_text(verdict::mistrusted, 0, 3), "0");
  EXPECT_TRUE(check::is_failure(verdict::timed_out));
  EXPECT_FALSE(check::is_failure(verdict::mistrusted));
}

// docs/tolerance.md#exact-results: exact fills.
TEST(ErrorModelVerdicts, ExactFillDemandsTheExactMean) {
  // Small integers: every partial sum is exact, so the mean must be bit for bit.
  check::options opt;
  opt.exact_statistics = true;
  const auto exact = forward_with("shape=4x1,dtype=f32", {1, 2, 3, 6}, opt);
  EXPECT_EQ(exact.result, verdict::pass) << exact.describe();
  // The sequential model is exact on such data too; a kernel whose mean is one ulp
  // off is not (the budget alone would accept it).
  const problem p = problem::parse("shape=4x1,dtype=f32");
  reference::call_inputs in;
  in.x = {1, 2, 3, 6};
  in.gamma = {1};
  in.beta = {0};
  in.running_mean = {0};
  in.running_var = {1};
  const auto expected = reference::forward(p, in);
  const auto q = reference::quantities(p, in);
  forward_outputs got;
  got.y = tensor::from_values(dtype::f32, expected.y.rounded);
  const std::vector<double> one_ulp_off{static_cast<double>(std::nextafter(3.0f, 4.0f))};
  got.save_mean = tensor::from_values(dtype::f32, one_ulp_off);
  got.save_invstd = tensor::from_values(dtype::f32, expected.save_invstd.rounded);
  module_state before = module_state::initial(p);
  module_state after = before;
  after.running_mean = tensor::from_values(dtype::f32, expected.running_mean.rounded);
  after.running_var = tensor::from_values(dtype::f32, expected.running_var.rounded);
  after.num_batches_tracked = 1;
  const tensor x = tensor::from_values(dtype::f32, in.x);
  const auto judged = check::compare_forward(p, x, before, expected, q, got, after, opt);
  EXPECT_EQ(judged.result, verdict::fail) << judged.describe();
  EXPECT_THAT(judged.reason, ::testing::HasSubstr("exact-fill"));
  opt.exact_statistics = false;
  EXPECT_EQ(check::compare_forward(p, x, before, expected, q, got, after, opt).result,
            verdict::pass);
  // At standard (the Welford class, which divides at every update) the budget judges.
  opt.exact_statistics = true;
  opt.judged_at = level::standard;
  EXPECT_EQ(check::compare_forward(p, x, before, expected, q, got, after, opt).result,
            verdict::pass);
}

// docs/tolerance.md#verdicts: unsupported.
TEST(ErrorModelVerdicts, UndeclaredFeaturesAreUnsupportedNeverPassed) {
  const auto& model = mutants::correct_models()[0];
  const kernel k(&model.kernel);  // declares f32 and f64 only
  const problem p = problem::parse("shape=4x2,dtype=bf16");
  const auto c =
      check::run_forward(k, p, tensor(dtype::bf16, 8), module_state::initial(p), level::strict);
  EXPECT_EQ(c.result, verdict::unsupported);
  EXPECT_THAT(c.reason, ::testing::HasSubstr("dtype bf16 is not declared"));
  EXPECT_FALSE(c.passed());
}

// docs/tolerance.md#units-and-levels: u_o of the storage type.
TEST(ErrorModelVerdicts, SixteenBitStorageIsJudgedWithItsOwnUnit) {
  const kernel k(reference::reference_kernel(128));
  for (const char* text :
       {"shape=8x3x5,dtype=bf16", "shape=8x3x5,dtype=f16,layout=channels_last"}) {
    const testing::battery_case bc{text, 2, 0, true, true};
    const auto fwd = testing::run_case(k, {text, 2, 0, false, true}, level::strict);
    const auto bwd = testing::run_case(k, bc, level::strict);
    EXPECT_EQ(fwd.result, verdict::pass) << fwd.describe();
    EXPECT_EQ(bwd.result, verdict::pass) << bwd.describe();
    EXPECT_LE(fwd.max_ulp, 0.5);
  }
}

}  // namespace
}  // namespace bnconform
