// The example kernel (examples/c_kernel/bn_example.c), loaded from its shared
// library through bnconform::kernel_library like any user's kernel, passes the
// battery at level strict: every case of the degenerate catalog's default tier,
// every golden case it declares, and every property.
#include <gtest/gtest.h>

#include <cstdio>
#include <string>

#include "battery/degenerate_catalog.hpp"
#include "core/kernel_library.hpp"
#include "golden/catalog.hpp"
#include "golden/checker.hpp"
#include "golden/golden_file.hpp"
#include "properties/runner.hpp"

namespace bnconform {
namespace {

const kernel& example_kernel() {
  static const kernel_library library(BNCONFORM_EXAMPLE_KERNEL);
  return library.kernel();
}

TEST(ExampleKernel, DeclaresWhatItImplements) {
  const bnc_capabilities& caps = example_kernel().capabilities();
  EXPECT_EQ(caps.operations, BNC_OP_FORWARD_TRAINING | BNC_OP_FORWARD_EVAL |
                                 BNC_OP_BACKWARD_TRAINING | BNC_OP_BACKWARD_EVAL);
  EXPECT_EQ(caps.dtypes, BNC_BIT(BNC_DTYPE_F32));
  EXPECT_EQ(caps.layouts, BNC_BIT(BNC_LAYOUT_CHANNELS_FIRST) | BNC_BIT(BNC_LAYOUT_CHANNELS_LAST));
  EXPECT_EQ(caps.profiles, BNC_BIT(BNC_PROFILE_PYTORCH));
  EXPECT_EQ(caps.keeps_module_state, 1);
}

TEST(ExampleKernel, PassesTheDegenerateCatalogAtStrict) {
  int run = 0;
  for (const battery::degenerate_case& dc : battery::degenerate_catalog()) {
    if (dc.large) continue;
    const battery::degenerate_result r =
        battery::run_degenerate(example_kernel(), dc, check::level::strict);
    ++run;
    const check::verdict expected = dc.rule == battery::expected_rule::ill_posed
                                        ? check::verdict::ill_posed
                                        : check::verdict::pass;
    EXPECT_EQ(r.result, expected) << dc.name << ": " << r.reason;
  }
  EXPECT_GT(run, 20);
}

// Besides pass: ill-posed (eps == 0 with a constant channel, reported and not
// judged), unsupported (f64, f16, bf16 and other profiles are not declared), and
// mistrusted where most expected dx values are exactly zero (gamma == 0: the data
// cannot judge any kernel; tests/golden/reference_test.cpp accepts it alike).
TEST(ExampleKernel, PassesEveryGoldenCaseItDeclaresAtStrict) {
  int passed = 0;
  for (const std::string& path :
       golden::golden_files(std::string(BNCONFORM_SOURCE_DIR) + "/golden/cases")) {
    const golden::golden_case g = golden::read_golden_file(path);
    const golden::case_verdict v = golden::check_case(example_kernel(), g, check::level::strict);
    passed += v.result == check::verdict::pass;
    const bool mistrusted_zero_dx = v.result == check::verdict::mistrusted &&
                                    v.reason.find("values are exactly zero") != std::string::npos;
    EXPECT_TRUE(v.passed() || v.result == check::verdict::unsupported || mistrusted_zero_dx)
        << v.name << ": " << v.reason;
  }
  // Every f32 pytorch case: 110 of the catalog's 287 when this was written.
  EXPECT_GE(passed, 100);
}

TEST(ExampleKernel, PassesEveryPropertyAtStrict) {
  properties::run_options opt;
  opt.level = check::level::strict;
  opt.seed = 20261122;
  opt.cases_per_property = 300;
  opt.limits.usual_elements = 512;
  opt.limits.large_elements = 4096;
  const properties::battery_report report = properties::run_properties(example_kernel(), opt);
  std::printf("%s", report.describe().c_str());
  EXPECT_TRUE(report.passed()) << report.describe();
  for (const properties::property_report& r : report.properties) {
    // The example declares the pytorch profile only: no relations between profiles.
    const properties::property_verdict expected = r.id == properties::property_id::profile_relations
                                                      ? properties::property_verdict::unsupported
                                                      : properties::property_verdict::passed;
    EXPECT_EQ(r.verdict, expected) << name_of(r.id) << ": " << r.reason;
  }
}

}  // namespace
}  // namespace bnconform
