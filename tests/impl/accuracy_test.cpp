// The CPU kernel against the reference at the strict level on a fixed grid of
// problems: every operation, every dtype, both layouts, ranks 2 to 5, affine and
// running statistics on and off, sizes that span one and several reduction blocks.
#include <gtest/gtest.h>

#include <string>
#include <tuple>
#include <vector>

#include "support.hpp"

namespace bnconform::testing {
namespace {

using grid_point = std::tuple<const char* /*dtype*/, const char* /*layout*/, const char* /*shape*/>;

class CpuAccuracy : public ::testing::TestWithParam<grid_point> {};

std::string spec(const grid_point& g, const std::string& extra) {
  return "shape=" + std::string(std::get<2>(g)) + ",dtype=" + std::get<0>(g) +
         ",layout=" + std::get<1>(g) + extra;
}

TEST_P(CpuAccuracy, EveryOperationIsStrict) {
  const grid_point g = GetParam();
  std::uint64_t seed = 1;
  for (const char* flags : {",affine=true,track=true", ",affine=false,track=true",
                            ",affine=true,track=false", ",affine=false,track=false"}) {
    for (const char* mode : {",mode=train", ",mode=eval"}) {
      const problem p = problem::parse(spec(g, std::string(flags) + mode));
      random_source rng(++seed);
      // An offset of 3 standard deviations: enough to expose a naive variance.
      const tensor x = random_data(rng, p, 3.0, 1.0);
      const tensor dy = random_data(rng, p, 0.1, 1.0);
      module_state state = random_state(rng, p);
      const module_state initial = state;
      const judgement f = judged_forward(p, x, state);
      EXPECT_TRUE(f.passed) << "forward " << p.to_string() << "\n" << f.report;
      const judgement b = judged_backward(p, x, dy, initial);
      EXPECT_TRUE(b.passed) << "backward " << p.to_string() << "\n" << b.report;
    }
  }
}

// Ranks 2 to 5; m from 6 to ~9000 (several 4096-element blocks in channels-first,
// several row blocks in channels-last); S == 1 (rank 2) and odd spatial sizes.
INSTANTIATE_TEST_SUITE_P(Grid, CpuAccuracy,
                         ::testing::Combine(::testing::Values("f32", "f64", "f16", "bf16"),
                                            ::testing::Values("channels_first", "channels_last"),
                                            ::testing::Values("6x3", "300x5", "3x4x5", "2x3x4x5",
                                                              "2x3x2x3x4", "3x2x57x53")));

}  // namespace
}  // namespace bnconform::testing
