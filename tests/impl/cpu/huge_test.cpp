// One call past 32-bit index arithmetic: a bf16 eval forward of 2^31 + 2^18
// elements through the CPU kernel, every element judged by the exact oracle. Eval
// is element-wise with per-channel constants, so each batch row is judged as a
// problem of its own (batch 1, the same state) against the reference: an index
// that wraps at 2^31 shows as wrong or unwritten values in the rows past it.
// Label `slow`: about 9 GB of memory and minutes of the oracle's time.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <cstring>

#include "reference/reference.hpp"
#include "support.hpp"

namespace bnconform::testing {
namespace {

TEST(CpuHuge, AnEvalForwardPast2To31ElementsMatchesTheExactOracle) {
  const problem p = problem::parse("shape=8193x2x512x256,dtype=bf16,mode=eval");
  const problem row = problem::parse("shape=1x2x512x256,dtype=bf16,mode=eval");
  ASSERT_GT(p.element_count(), std::int64_t{1} << 31);
  const auto start = std::chrono::steady_clock::now();
  random_source rng(2031);
  const module_state state = random_state(rng, p);

  // x = 3 + U(-1, 1), from a hash of the index: no second copy of the data.
  tensor x(dtype::bf16, p.element_count());
  for (std::int64_t i = 0; i < p.element_count(); ++i) {
    std::uint64_t h = static_cast<std::uint64_t>(i) * 0x9e3779b97f4a7c15ull;
    h ^= h >> 29;
    h *= 0xbf58476d1ce4e5b9ull;
    h ^= h >> 32;
    x.set(i, 3.0 + (static_cast<double>(h >> 11) * 0x1p-52 - 1.0));
  }
  tensor y(dtype::bf16, p.element_count());
  const bnc_problem abi = p.to_abi();
  bnc_forward_args args{};
  args.struct_size = sizeof args;
  args.x = x.data();
  args.y = y.data();
  args.gamma = state.gamma.data();
  args.beta = state.beta.data();
  module_state after = state;
  args.running_mean = after.running_mean.data();
  args.running_var = after.running_var.data();
  args.num_batches_tracked = &after.num_batches_tracked;
  args.exponential_average_factor = 0.1;
  char message[512] = {};
  const bnc_kernel* k = cpu::cpu_kernel();
  ASSERT_EQ(k->forward(k->context, &abi, &args, message, sizeof message), BNC_STATUS_OK) << message;
  const double call_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  check::options opt;
  opt.judged_at = check::level::strict;
  const reference::options ref;  // the default oracle: the exact engine
  const std::int64_t per_row = row.element_count();
  const std::size_t row_bytes = static_cast<std::size_t>(per_row) * 2;
  int failed_rows = 0;
  double worst = 0;
  for (std::int64_t n = 0; n < p.batch(); ++n) {
    tensor xs(dtype::bf16, per_row);
    std::memcpy(xs.data(), static_cast<const char*>(x.data()) + n * row_bytes, row_bytes);
    forward_outputs got;
    got.y = tensor(dtype::bf16, per_row);
    std::memcpy(got.y.data(), static_cast<const char*>(y.data()) + n * row_bytes, row_bytes);
    const reference::call_inputs in = reference::call_inputs::from(xs, tensor(), state);
    const reference::forward_result expected = reference::forward(row, in, ref);
    ASSERT_TRUE(expected.status.ok()) << expected.status.message;
    const std::vector<reference::channel_quantities> q = reference::quantities(row, in, ref);
    const check::comparison c =
        check::compare_forward(row, xs, state, expected, q, got, after, opt);
    worst = std::max(worst, c.worst_ratio);
    if (c.result != check::verdict::pass && ++failed_rows <= 3) {
      ADD_FAILURE() << "batch row " << n << " (elements from " << n * per_row
                    << "): " << c.describe();
    }
  }
  EXPECT_EQ(failed_rows, 0);
  EXPECT_EQ(after.num_batches_tracked, state.num_batches_tracked);  // eval counts nothing
  std::printf(
      "%lld elements: the kernel's call (and the fill) %.1f s, judged in %.1f s, "
      "worst budget ratio %.3f\n",
      static_cast<long long>(p.element_count()), call_seconds,
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() -
          call_seconds,
      worst);
}

}  // namespace
}  // namespace bnconform::testing
