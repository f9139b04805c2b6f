// The whole f64 exponent range, channel by channel (impl/cpu/README.md, "Extreme
// ranges"): data whose exact statistics and outputs are representable, or round to
// an infinity the error model accepts, while the plain formulas' intermediates are
// not:
//  - a spread of subnormals with eps = 0: the variance (about 2^-2140) and invstd
//    (about 2^1070) are beyond f64, y is about 1;
//  - the same with eps = 1e-320, which dominates the variance;
//  - values near 2^600 and 2^1000, where the squares overflow, and values of both
//    signs near the largest double, where x - mean overflows too;
//  - mixed channels (one huge, one tiny, one normal) in one call;
// in training (statistics, running statistics, backward) and evaluation (running
// statistics near the data's range), forward and backward, both layouts, judged by
// the error model at the strict level. f32, f16 and bf16 subnormal data are judged
// the same way.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "reference/reference_kernel.hpp"
#include "support.hpp"

namespace bnconform::testing {
namespace {

// Channel c holds offset + spread * U(-1, 1) (computed so that nothing overflows);
// in evaluation its running statistics are offset - 0.75 spread and running_var.
struct channel_data {
  double offset;
  double spread;
  double running_var;
};

tensor channel_values(random_source& rng, const problem& p, const std::vector<channel_data>& ch) {
  tensor x(p.data_type(), p.element_count());
  for (std::int64_t i = 0; i < x.size(); ++i) {
    const auto& d = ch[static_cast<std::size_t>(p.channel_of(i) % std::ssize(ch))];
    x.set(i, d.offset + d.spread * rng.uniform(-1, 1));
  }
  return x;
}

// Running statistics in the data's range (evaluation).
void set_running_statistics(const problem& p, const std::vector<channel_data>& ch,
                            module_state& s) {
  for (std::int64_t c = 0; c < p.channels(); ++c) {
    const auto& d = ch[static_cast<std::size_t>(c % std::ssize(ch))];
    s.running_mean.set(c, d.offset - 0.75 * d.spread);
    s.running_var.set(c, d.running_var);
  }
}

// The error model's budgets can be infinite here (with eps == 0 the exact variance
// of subnormal data rounds to 0 in its double quantities, and near the largest
// double 2u (|x| + |mean|) overflows), and then only the non-finite patterns are
// judged. So the outputs are also held to the reference's rounded values directly:
// y and dx within 2^-40 of the largest finite one of their channel, dgamma and dbeta
// within 2^-30 relative, infinities and NaN the same (f64 data; the narrow types'
// variances are doubles, and their budgets finite).
void expect_near(const char* what, const problem& p, const tensor& expected, const tensor& got,
                 bool per_channel_element) {
  ASSERT_EQ(expected.size(), got.size()) << what;
  std::vector<double> largest(static_cast<std::size_t>(p.channels()), 0);
  for (std::int64_t i = 0; i < expected.size(); ++i) {
    const double e = expected.get(i);
    auto& l = largest[static_cast<std::size_t>(per_channel_element ? p.channel_of(i) : i)];
    if (std::isfinite(e)) l = std::max(l, std::fabs(e));
  }
  for (std::int64_t i = 0; i < expected.size(); ++i) {
    const double e = expected.get(i), g = got.get(i);
    if (!std::isfinite(e)) {
      EXPECT_TRUE(e == g || (std::isnan(e) && std::isnan(g)))
          << what << "[" << i << "] " << p.to_string() << ": expected " << e << ", got " << g;
      continue;
    }
    const double l = largest[static_cast<std::size_t>(per_channel_element ? p.channel_of(i) : i)];
    const double bound = per_channel_element ? 0x1p-40 * l : 0x1p-30 * std::fabs(e);
    EXPECT_TRUE(std::fabs(g - e) <= bound)
        << what << "[" << i << "] " << p.to_string() << ": expected " << e << ", got " << g;
  }
}

void expect_near_reference(const problem& p, const tensor& x, const tensor& dy,
                           const module_state& state) {
  static const kernel reference(reference::escalating_reference_kernel());
  module_state ref_state = state, cpu_state = state;
  const forward_outputs ref = reference.forward(p, x, ref_state);
  const forward_outputs got = cpu().forward(p, x, cpu_state);
  ASSERT_TRUE(ref.status.ok()) << ref.status.message;
  ASSERT_TRUE(got.status.ok()) << got.status.message;
  expect_near("y", p, ref.y, got.y, true);
  const backward_outputs ref_b =
      reference.backward(p, x, dy, state, ref.save_mean, ref.save_invstd);
  const backward_outputs got_b = cpu().backward(p, x, dy, state, ref.save_mean, ref.save_invstd);
  ASSERT_TRUE(ref_b.status.ok()) << ref_b.status.message;
  ASSERT_TRUE(got_b.status.ok()) << got_b.status.message;
  expect_near("dx", p, ref_b.dx, got_b.dx, true);
  if (p.affine()) {
    expect_near("dgamma", p, ref_b.dgamma, got_b.dgamma, false);
    expect_near("dbeta", p, ref_b.dbeta, got_b.dbeta, false);
  }
}

// Forward and backward, training and evaluation, both layouts, each judged at
// strict with a reference wide enough for the binary orders the inputs span.
void expect_strict(const std::string& spec, const std::vector<channel_data>& ch,
                   std::uint64_t seed) {
  for (const char* mode : {"train", "eval"}) {
    for (const char* layout : {"channels_first", "channels_last"}) {
      const problem p = problem::parse(spec + ",mode=" + mode + ",layout=" + layout);
      random_source rng(seed);
      module_state state = random_state(rng, p);
      if (!p.uses_batch_statistics()) set_running_statistics(p, ch, state);
      const tensor x = channel_values(rng, p, ch);
      tensor dy(p.data_type(), p.element_count());
      for (std::int64_t i = 0; i < dy.size(); ++i) dy.set(i, rng.uniform(-1, 1));
      const check::comparison f = check::with_enough_precision(
          strict_options(),
          [&](const check::options& o) { return check::run_forward(cpu(), p, x, state, o); });
      EXPECT_TRUE(f.passed()) << "forward " << p.to_string() << "\n" << f.describe();
      const check::comparison b = check::with_enough_precision(
          strict_options(),
          [&](const check::options& o) { return check::run_backward(cpu(), p, x, dy, state, o); });
      EXPECT_TRUE(b.passed()) << "backward " << p.to_string() << "\n" << b.describe();
      if (p.data_type() == dtype::f64) expect_near_reference(p, x, dy, state);
    }
  }
}

const std::string f64 = "shape=4x3x5,dtype=f64";

// The reference vouches for calls whose inputs span at most 1920 binary orders
// (1024 bits), so every call below stays within that span.
TEST(CpuExponentRange, F64SubnormalChannelsWithEpsZero) {
  expect_strict(f64 + ",eps=0", {{0, 0x1p-1070, 0x1.8p-1070}}, 101);
  expect_strict(f64 + ",eps=0", {{0x1p-1066, 0x1p-1070, 0x1p-1072}}, 102);
  expect_strict(f64 + ",eps=0,affine=false,track=false", {{0, 0x1p-1050, 0x1p-1060}}, 103);
}

TEST(CpuExponentRange, F64SubnormalChannelsWithTinyEps) {
  expect_strict(f64 + ",eps=1e-320", {{0, 0x1p-1070, 0x1.8p-1070}}, 111);
  expect_strict(f64 + ",eps=1e-320", {{0, 0x1p-1040, 0x1p-1072}}, 112);
}

TEST(CpuExponentRange, F64ValuesNear2p600) {
  expect_strict(f64 + ",eps=0", {{0x1p600, 0x1p600, 0x1p1020}}, 121);
  expect_strict(f64, {{-0x1p600, 0x1p599, 0x1.8p1000}}, 122);
}

TEST(CpuExponentRange, F64ValuesNear2p1000AndTheLargestDouble) {
  expect_strict(f64 + ",eps=0", {{0x1p1000, 0x1p999, 0x1p1020}}, 131);
  expect_strict(f64, {{0, 0x1p1000, 0x1.8p1020}}, 132);
  // Both signs near 2^1024: x - mean overflows as well as the squares (and, in
  // evaluation, x - running_mean).
  expect_strict(f64 + ",eps=0", {{0, 0x1.fp1023, 0x1p1020}}, 133);
}

TEST(CpuExponentRange, F64MixedChannels) {
  // One huge, one subnormal, one normal channel in one call.
  const std::vector<channel_data> ch = {
      {0, 0x1p600, 0x1p600}, {0, 0x1p-1070, 0x1p-1070}, {1, 1, 1.5}};
  expect_strict(f64 + ",eps=0", ch, 141);
  expect_strict(f64 + ",eps=1e-320", ch, 142);
  // Values near the largest double next to values whose squares underflow.
  expect_strict(f64 + ",eps=0",
                {{0, 0x1.fp1023, 0x1p1020}, {0x1.8p-879, 0x1p-880, 0x1p-880}, {1, 1, 1.5}}, 143);
  expect_strict("shape=3x3x70,dtype=f64,eps=0",
                {{0x1p1000, 0x1p1000, 0x1p1020}, {0x1.8p-889, 0x1p-890, 0x1p-880}, {1, 1, 1.5}},
                144);
}

// The narrow types accumulate in f64, whose range covers their subnormals.
TEST(CpuExponentRange, NarrowSubnormalData) {
  expect_strict("shape=4x3x5,dtype=f32,eps=0", {{0, 0x1p-140, 0x1p-145}}, 151);
  expect_strict("shape=4x3x5,dtype=f16,eps=0", {{0, 0x1p-18, 0x1p-23}}, 152);
  expect_strict("shape=4x3x5,dtype=bf16,eps=0", {{0, 0x1p-128, 0x1p-132}}, 153);
}

// f32 and bf16 values of both signs near 2^128 (and a running mean there): x - mean
// overflows f32, so such calls take the f64 elementwise pass.
TEST(CpuExponentRange, NarrowValuesNearTheLargestFloat) {
  expect_strict("shape=4x3x5,dtype=f32,eps=0", {{0, 0x1.fp127, 0x1p120}}, 161);
  expect_strict("shape=4x3x5,dtype=bf16", {{0, 0x1.fp127, 0x1p120}}, 162);
}

}  // namespace
}  // namespace bnconform::testing
