// Proof of power of the metamorphic properties: each mutant of the zoo whose bug a
// relation between calls can see is caught by one, without the reference.
#include <gtest/gtest.h>

#include <cstdio>
#include <map>

#include "impl/mutants/model_kernel.hpp"
#include "properties/runner.hpp"

namespace bnconform::properties {
namespace {

// The metamorphic property that must catch each mutant. Two bugs are left to the
// reference comparison (check/ and forward-matches-reference): a float counter is
// only wrong past 2^24 batches, and a racy reduction only shows when the same call
// is repeated (the determinism rule of check::run_*).
const std::map<std::string, property_id> expected{
    {"mutant-biased-running-var", property_id::momentum_none_mean},
    {"mutant-flipped-momentum", property_id::momentum_none_mean},
    {"mutant-none-as-default", property_id::momentum_none_mean},
    {"mutant-eps-outside-sqrt", property_id::power_of_two_scaling},
    {"mutant-one-pass-variance", property_id::shift_invariance},
    {"mutant-layout-slip", property_id::layout_invariance},
    {"mutant-missing-mean-dy", property_id::gradient_identities},
    {"mutant-unwritten-tail", property_id::batch_permutation},
    {"mutant-out-of-bounds-write", property_id::batch_permutation},
    {"mutant-counter-not-incremented", property_id::momentum_none_mean},
    {"mutant-eval-uses-batch-stats", property_id::eval_is_affine},
    {"mutant-overwrites-input", property_id::batch_permutation},
};

TEST(MetamorphicProperties, CatchTheMutants) {
  int caught = 0;
  for (const auto& mo : mutants::zoo()) {
    const auto it = expected.find(std::string(mo.name));
    if (it == expected.end()) continue;
    const kernel k(&mo.kernel);
    run_options opt;
    opt.level = check::level::standard;
    opt.seed = 7;
    opt.cases_per_property = 40;
    opt.limits.usual_elements = 512;
    opt.properties = {it->second};
    const battery_report report = run_properties(k, opt);
    const property_report& r = report.properties.at(0);
    EXPECT_EQ(r.verdict, property_verdict::failed) << mo.name << "\n" << report.describe();
    if (r.verdict == property_verdict::failed) {
      ++caught;
      std::printf("%s caught by %s:\n  %s\n  %s\n", std::string(mo.name).c_str(),
                  std::string(name_of(r.id)).c_str(), r.failure->repro.c_str(),
                  r.failure->detail.substr(0, 300).c_str());
    }
  }
  std::printf("metamorphic properties: %d of %zu mutants caught\n", caught, expected.size());
}

}  // namespace
}  // namespace bnconform::properties
