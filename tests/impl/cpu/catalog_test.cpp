// The battery's degenerate catalog (every special case of semantics.md, with the
// rule its verdict must follow) run against the CPU kernel at the strict level.
#include <gtest/gtest.h>

#include <string>

#include "battery/degenerate_catalog.hpp"
#include "support.hpp"

namespace bnconform::testing {
namespace {

TEST(CpuDegenerateCatalog, EveryCaseMeetsItsRuleAtStrict) {
  int run = 0;
  for (const battery::degenerate_case& dc : battery::degenerate_catalog()) {
    if (dc.large) continue;  // minutes and gigabytes: not in the unit tests
    const battery::degenerate_result r = battery::run_degenerate(cpu(), dc, check::level::strict);
    ++run;
    const bool ok =
        r.result == check::verdict::pass ||
        (dc.rule == battery::expected_rule::ill_posed && r.result == check::verdict::ill_posed);
    EXPECT_TRUE(ok) << dc.name << ": " << check::name_of(r.result) << ": " << r.reason;
  }
  EXPECT_GT(run, 20);
}

}  // namespace
}  // namespace bnconform::testing
