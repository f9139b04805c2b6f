// The error model validated both ways (docs/error-model.md): correct kernels of
// each class pass their level on ordinary and ill-conditioned data, and a plain
// sequential f32 kernel fails `standard` on long offset channels.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "battery_cases.hpp"
#include "impl/mutants/model_kernel.hpp"

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
      for (std::uint64_t seed = 1; seed <= 3; ++seed) {
        const check::comparison c = run_case(k, bc, l, seed);
        EXPECT_EQ(c.result, verdict::pass)
            << mo.name << " seed " << seed << " " << bc.problem << "\n"
            << c.describe();
      }
    }
  }
}

// x = 1e4 + N(0, 1), the ill-conditioned case of tolerance.md, on a long channel.
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
