// Proof of power: every mutant of the zoo is rejected on the fixed battery, with
// the reason its bug must produce; kill rate reported. The "no blind spots" half of
// the validation of docs/tolerance.md#budget-per-output-element (docs/error-model.md,
// "Validation").
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "battery_cases.hpp"
#include "impl/mutants/model_kernel.hpp"

namespace bnconform {
namespace {

TEST(MutantZoo, EveryMutantIsRejectedForItsBug) {
  int killed = 0;
  for (const auto& mo : mutants::zoo()) {
    const kernel k(&mo.kernel);
    bool rejected_for_the_bug = false;
    std::string reasons;
    for (const auto& bc : testing::battery_cases()) {
      const check::comparison c = testing::run_case(k, bc, check::level::standard);
      if (c.result != check::verdict::fail) continue;
      reasons += "  " + bc.problem + ": " + c.reason + "\n";
      if (c.describe().find(mo.expectation) != std::string::npos) {
        rejected_for_the_bug = true;
        break;  // the long cases at the end are only reached by the drifting kernels
      }
    }
    EXPECT_TRUE(rejected_for_the_bug)
        << mo.name << " was not rejected with '" << mo.expectation << "'; failures:\n"
        << reasons;
    killed += rejected_for_the_bug;
  }
  std::printf("mutant zoo: %d of %zu killed\n", killed, mutants::zoo().size());
}

}  // namespace
}  // namespace bnconform
