// The battery against the built-in kernels: correct kernels pass every property at
// their level; the sequential f32 kernel fails `standard` on offset data; the mutant
// zoo is caught by the metamorphic properties, not only by the reference.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <bit>
#include <chrono>
#include <cstdio>
#include <cstdlib>

#include "kernels.hpp"
#include "properties/runner.hpp"

namespace bnconform::properties {
namespace {

// Fixed seeds in CI; BNCONFORM_PROPERTY_SEED replays or varies a run.
std::uint64_t seed() {
  const char* text = std::getenv("BNCONFORM_PROPERTY_SEED");
  return text != nullptr ? std::strtoull(text, nullptr, 0) : 20261122;
}

run_options small_run(check::level l, int cases) {
  run_options opt;
  opt.level = l;
  opt.seed = seed();
  opt.cases_per_property = cases;
  opt.limits.usual_elements = 512;
  opt.limits.large_elements = 8192;
  opt.limits.large_one_in = 40;
  opt.reference_bits = 128;
  return opt;
}

void expect_all_pass(const testing::kernel_under_test& ku, int cases) {
  const kernel k(ku.description);
  const auto start = std::chrono::steady_clock::now();
  run_options opt = small_run(ku.level, cases);
  opt.kinds = ku.kinds;
  opt.exact_fill_statistics = ku.exact_fill_statistics;
  const battery_report report = run_properties(k, opt);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("%s at %s, seed %llu (%.1f s):\n%s", ku.name.c_str(),
              std::string(check::name_of(ku.level)).c_str(),
              static_cast<unsigned long long>(seed()), seconds, report.describe().c_str());
  EXPECT_TRUE(report.passed()) << ku.name << "\n" << report.describe();
  const bool one_profile = std::popcount(k.capabilities().profiles) < 2;
  for (const property_report& r : report.properties) {
    if (r.id == property_id::profile_relations && one_profile) {
      EXPECT_EQ(r.verdict, property_verdict::unsupported) << ku.name;
      continue;
    }
    EXPECT_EQ(r.verdict, property_verdict::passed) << ku.name << " " << name_of(r.id);
    EXPECT_GE(r.passed, cases) << ku.name << " " << name_of(r.id);
  }
}

TEST(Battery, TheReferenceAt128BitsPassesStrict) {
  expect_all_pass(testing::correct_kernels().at(0), 30);
}

TEST(Battery, CorrectModelsPassTheirLevel) {
  const auto kernels = testing::correct_kernels();
  for (std::size_t i = 1; i < kernels.size(); ++i) expect_all_pass(kernels[i], 60);
}

// The sequential f32 kernel is right on short centred channels and wrong on long
// offset ones: the reference property says so, with a repro line that replays.
TEST(Battery, TheSequentialModelFailsStandardOnOffsetData) {
  const kernel k(&mutants::sequential_model().kernel);
  const generated_case offset{problem::parse("shape=2048x2x16,dtype=f32"), value_kind::large_offset,
                              5};
  const property_result r =
      check_property(property_id::forward_matches_reference, k, offset, check::level::standard);
  EXPECT_EQ(r.result, outcome::fail) << r.detail;
  EXPECT_THAT(r.detail, ::testing::HasSubstr("0x1."));  // values printed exactly
  const generated_case centred{problem::parse("shape=8x3x5,dtype=f32"), value_kind::normal, 5};
  EXPECT_EQ(
      check_property(property_id::forward_matches_reference, k, centred, check::level::standard)
          .result,
      outcome::pass);
  // The generator finds it too when large offset channels are long enough.
  run_options opt = small_run(check::level::standard, 40);
  opt.properties = {property_id::forward_matches_reference};
  opt.limits.large_elements = 65536;
  opt.limits.large_one_in = 2;
  const battery_report report = run_properties(k, opt);
  std::printf("%s", report.describe().c_str());
  ASSERT_EQ(report.properties.at(0).verdict, property_verdict::failed) << report.describe();
  // The shrunk counterexample replays from its repro line alone.
  const generated_case replay = parse_case(report.properties.at(0).failure->repro);
  EXPECT_EQ(
      check_property(property_id::forward_matches_reference, k, replay, check::level::standard)
          .result,
      outcome::fail);
}

}  // namespace
}  // namespace bnconform::properties

namespace bnconform::properties {
namespace {

// A kernel that declares only forward training: the properties it cannot be asked
// are unsupported (never passed), the rest run.
TEST(Battery, UndeclaredOperationsAreUnsupportedNotPassed) {
  bnc_kernel narrow = mutants::correct_models()[1].kernel;
  narrow.capabilities.operations = BNC_OP_FORWARD_TRAINING;
  narrow.capabilities.layouts = BNC_BIT(BNC_LAYOUT_CHANNELS_FIRST);
  const kernel k(&narrow);
  run_options opt = small_run(check::level::standard, 10);
  const battery_report report = run_properties(k, opt);
  std::printf("%s", report.describe().c_str());
  EXPECT_TRUE(report.passed()) << report.describe();
  for (const property_report& r : report.properties) {
    const bool needs_more =
        r.id == property_id::backward_matches_reference || r.id == property_id::layout_invariance ||
        r.id == property_id::eval_is_affine || r.id == property_id::eval_between_steps ||
        r.id == property_id::gradient_identities ||
        r.id == property_id::profile_relations;  // one declared profile
    EXPECT_EQ(r.verdict, needs_more ? property_verdict::unsupported : property_verdict::passed)
        << name_of(r.id) << ": " << r.reason;
  }
}

}  // namespace
}  // namespace bnconform::properties
