// ONNX's own BatchNormalization node tests (Debian's libonnx-testdata): the
// committed cases are exactly what importing the installed package gives (no
// hand-copied numbers), and the reference's onnx profile agrees with ONNX's outputs
// within the error model, while the pytorch rules would not.
#include <gtest/gtest.h>

#include <filesystem>

#include "golden/checker.hpp"
#include "golden/onnx_import.hpp"
#include "golden/regen.hpp"
#include "reference/reference_kernel.hpp"
#include "support.hpp"

namespace bnconform::golden {
namespace {

bool have_test_data() {
  return onnx_import_available() && std::filesystem::is_directory(testing::onnx_test_data());
}

#define SKIP_WITHOUT_ONNX()                                                   \
  if (!have_test_data())                                                      \
  GTEST_SKIP() << "ONNX import unavailable (libonnx-dev) or no test data at " \
               << testing::onnx_test_data() << " (libonnx-testdata); see ci/setup.sh"

TEST(GoldenOnnx, CommittedCasesAreWhatTheInstalledTestDataGives) {
  SKIP_WITHOUT_ONNX();
  const std::vector<std::string> tests = onnx_batchnorm_tests(testing::onnx_test_data());
  ASSERT_EQ(tests.size(), 4u);
  const kernel reference(reference::reference_kernel(reference_bits));
  for (const std::string& test : tests) {
    const golden_case fresh = regenerate(import_onnx_test(test), reference);
    SCOPED_TRACE(fresh.name);
    const std::string path = case_path(testing::cases_directory(), fresh.name);
    ASSERT_TRUE(std::filesystem::exists(path)) << "run: bnconform golden import-onnx";
    EXPECT_TRUE(same_data(testing::read_text(path), to_text(fresh)));
  }
}

TEST(GoldenOnnx, ReferenceAgreesWithOnnxWithinTheErrorModel) {
  int judged = 0;
  for (const golden_case& g : testing::group("onnx")) {
    for (const check::comparison& c : check_external(g, check::level::standard)) {
      EXPECT_EQ(c.result, check::verdict::pass) << g.name << "\n" << c.describe();
      EXPECT_GT(c.elements_judged, 0);
      ++judged;
    }
  }
  EXPECT_EQ(judged, 4);
}

// The negative control: under the pytorch rules (momentum on the new value,
// unbiased stored variance) the same comparison fails on the running statistics.
TEST(GoldenOnnx, PytorchRulesWouldDisagree) {
  int failed = 0;
  for (golden_case g : testing::group("onnx")) {
    if (g.inputs.base.mode() != mode::training) continue;
    problem::fields f = g.inputs.base.spec();
    f.profile = profile::pytorch;
    const problem pytorch(f);
    g.inputs.base = pytorch;
    g.inputs.steps[0].prob = pytorch;
    g = regenerate(std::move(g), kernel(reference::reference_kernel(reference_bits)));
    for (const check::comparison& c : check_external(g, check::level::standard)) {
      EXPECT_EQ(c.result, check::verdict::fail) << g.name;
      EXPECT_EQ(c.worst_output.rfind("running_", 0), 0u) << c.describe();
      failed += c.result == check::verdict::fail;
    }
  }
  EXPECT_EQ(failed, 2);
}

}  // namespace
}  // namespace bnconform::golden
