// Bitwise determinism: the same call twice gives the same bits, and so do one and
// two threads (the reduction's blocks and their combination order depend only on
// the problem; threading.hpp). Sizes are above the parallel threshold so that two
// threads really run.
#include <gtest/gtest.h>

#include <string>

#include "support.hpp"

namespace bnconform::testing {
namespace {

struct run_result {
  forward_outputs forward;
  module_state state;
  backward_outputs backward;
};

run_result run_once(const problem& p, const tensor& x, const tensor& dy, const module_state& s) {
  run_result r;
  r.state = s;
  r.forward = cpu().forward(p, x, r.state);
  r.backward = cpu().backward(p, x, dy, s, r.forward.save_mean, r.forward.save_invstd);
  return r;
}

void expect_same_bits(const run_result& a, const run_result& b, const std::string& what) {
  EXPECT_TRUE(a.forward.y.bitwise_equal(b.forward.y)) << what << ": y";
  EXPECT_TRUE(a.forward.save_mean.bitwise_equal(b.forward.save_mean)) << what << ": save_mean";
  EXPECT_TRUE(a.forward.save_invstd.bitwise_equal(b.forward.save_invstd)) << what;
  EXPECT_TRUE(a.state.running_mean.bitwise_equal(b.state.running_mean)) << what;
  EXPECT_TRUE(a.state.running_var.bitwise_equal(b.state.running_var)) << what;
  EXPECT_TRUE(a.backward.dx.bitwise_equal(b.backward.dx)) << what << ": dx";
  EXPECT_TRUE(a.backward.dgamma.bitwise_equal(b.backward.dgamma)) << what << ": dgamma";
  EXPECT_TRUE(a.backward.dbeta.bitwise_equal(b.backward.dbeta)) << what << ": dbeta";
}

class CpuDeterminism : public ::testing::TestWithParam<std::tuple<const char*, const char*>> {
 protected:
  void TearDown() override { cpu::set_thread_count(0); }
};

TEST_P(CpuDeterminism, BitwiseAcrossRunsAndThreadCounts) {
  // 5 channels of 3 x 97 x 89 = 25899 values: several blocks per channel, odd sizes.
  const problem p = problem::parse(std::string("shape=3x5x97x89,dtype=") + std::get<0>(GetParam()) +
                                   ",layout=" + std::get<1>(GetParam()));
  random_source rng(7);
  const tensor x = random_data(rng, p, 100.0, 3.0);
  const tensor dy = random_data(rng, p, 0.0, 1.0);
  const module_state s = random_state(rng, p);

  cpu::set_thread_count(2);
  const run_result first = run_once(p, x, dy, s);
  ASSERT_TRUE(first.forward.status.ok()) << first.forward.status.message;
  ASSERT_TRUE(first.backward.status.ok()) << first.backward.status.message;
  expect_same_bits(first, run_once(p, x, dy, s), "second run, 2 threads");
  cpu::set_thread_count(1);
  expect_same_bits(first, run_once(p, x, dy, s), "1 thread against 2");
  cpu::set_thread_count(3);
  expect_same_bits(first, run_once(p, x, dy, s), "3 threads against 2");
}

INSTANTIATE_TEST_SUITE_P(DtypesAndLayouts, CpuDeterminism,
                         ::testing::Combine(::testing::Values("f32", "f64", "f16", "bf16"),
                                            ::testing::Values("channels_first", "channels_last")));

TEST(CpuThreads, CountIsSettableAndRestorable) {
  cpu::set_thread_count(1);
  EXPECT_EQ(cpu::thread_count(), 1);
  cpu::set_thread_count(0);
  EXPECT_GE(cpu::thread_count(), 1);
}

}  // namespace
}  // namespace bnconform::testing
