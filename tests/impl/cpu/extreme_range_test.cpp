// Data at the edges of the exponent range, where the exact statistics and outputs
// are representable but intermediate quantities are not (golden catalog,
// degenerate.subnormal32, .overflow64, .underflow64; impl/cpu/statistics.hpp):
//  - f32 and bf16 data near 2^-130: invstd about 2^130 overflows f32 (save_invstd
//    is Inf, as the reference rounds it), but y and dgamma are finite;
//  - f64 data near 2^511: the squares of the deviations overflow f64;
//  - f64 data near 2^-540: the squares underflow to zero.
// Each is judged by the error model at the strict level, in both layouts, against a
// reference wide enough for the binary orders the inputs span (check/ refuses to
// judge otherwise).
#include <gtest/gtest.h>

#include <string>

#include "support.hpp"

namespace bnconform::testing {
namespace {

const char* const layouts[] = {"channels_first", "channels_last"};

check::options strict_with_reference_bits(int bits) {
  check::options opt = strict_options();
  opt.reference_bits = bits;
  return opt;
}

void expect_forward_passes(const std::string& spec, double spread, std::uint64_t seed,
                           int reference_bits) {
  for (const char* layout : layouts) {
    const problem p = problem::parse(spec + ",layout=" + layout);
    random_source rng(seed);
    module_state state = random_state(rng, p);
    const tensor x = random_data(rng, p, 0, spread);
    const check::comparison f =
        check::run_forward(cpu(), p, x, state, strict_with_reference_bits(reference_bits));
    EXPECT_TRUE(f.passed()) << "forward " << p.to_string() << "\n" << f.describe();
  }
}

TEST(CpuExtremeRange, SubnormalF32AndBf16DataGiveFiniteOutputs) {
  for (const char* dtype : {"f32", "bf16"}) {
    const std::string spec = std::string("shape=4x3x2,eps=0,dtype=") + dtype;
    expect_forward_passes(spec, 0x1p-130, 31, 256);
    for (const char* layout : layouts) {
      const problem p = problem::parse(spec + ",layout=" + layout);
      random_source rng(37);
      const module_state state = random_state(rng, p);
      const tensor x = random_data(rng, p, 0, 0x1p-130);
      const tensor dy = random_data(rng, p, 0, 1);
      const check::comparison b =
          check::run_backward(cpu(), p, x, dy, state, strict_with_reference_bits(256));
      EXPECT_TRUE(b.passed()) << "backward " << p.to_string() << "\n" << b.describe();
    }
  }
}

TEST(CpuExtremeRange, F64DataNearOverflowHasAFiniteVariance) {
  expect_forward_passes("shape=4x3x2,dtype=f64,eps=0,affine=false,track=false", 0x1p511, 41, 256);
}

TEST(CpuExtremeRange, F64DataNearUnderflowHasANonZeroVariance) {
  expect_forward_passes("shape=4x3x2,dtype=f64,eps=0,affine=false,track=false", 0x1p-540, 43, 256);
  // With the default eps: eps dominates a variance of about 2^-900, which is rescaled
  // (2^-2k eps would overflow: invstd is folded back with eps's exponent instead).
  expect_forward_passes("shape=4x3x2,dtype=f64,affine=false,track=false", 0x1p-450, 47, 512);
}

}  // namespace
}  // namespace bnconform::testing
