// The degenerate catalog's large tier (label slow: minutes and gigabytes).
#include <gtest/gtest.h>

#include "battery/degenerate_catalog.hpp"
#include "impl/mutants/model_kernel.hpp"

namespace bnconform {
namespace {

// The large tier: 2^24 + 1 elements in one channel, judged by the 128-bit
// reference (about a minute and 2 GB). Label slow.
TEST(DegenerateCatalogLarge, ReductionsLongerThanTwoToThe24) {
  const kernel wide(&mutants::correct_models()[0].kernel);
  const kernel sequential(&mutants::sequential_model().kernel);
  check::options opt;
  opt.reference_bits = 128;
  opt.check_determinism = false;
  for (const auto& dc : battery::degenerate_catalog()) {
    if (!dc.large) continue;
    const auto good = battery::run_degenerate(wide, dc, opt);
    EXPECT_EQ(good.result, check::verdict::pass) << good.reason;
    opt.judged_at = check::level::standard;
    const auto bad = battery::run_degenerate(sequential, dc, opt);
    EXPECT_EQ(bad.result, check::verdict::fail) << bad.reason;
    opt.judged_at = check::level::strict;
  }
}

}  // namespace
}  // namespace bnconform
