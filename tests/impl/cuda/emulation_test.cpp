// The CUDA kernel's arithmetic, partitioning and entry points, run on the host
// through the emulation of its device side, against the reference: every
// operation, dtype, layout, ranks 2 to 5 and the degenerate cases of semantics.md.
#include <gtest/gtest.h>

#include "battery/degenerate_catalog.hpp"
#include "conformance.hpp"
#include "host_emulator.hpp"

namespace bnconform::cuda::testing {
namespace {

// One test per data dtype (each runs its cases in one process: the suite stays
// quick under ctest); every disagreement names its case and problem.
class emulated_kernel_test : public ::testing::TestWithParam<dtype> {};

TEST_P(emulated_kernel_test, agrees_with_the_reference) {
  const kernel k(emulated_kernel());
  int ran = 0;
  for (const conformance_case& c : conformance_cases()) {
    if (c.p.data_type() != GetParam()) continue;
    ++ran;
    const std::string failures = run_against_reference(k, c);
    EXPECT_TRUE(failures.empty()) << c.name << ": " << c.p.to_string() << "\n" << failures;
  }
  EXPECT_GT(ran, 40);
}

std::string dtype_name(const ::testing::TestParamInfo<dtype>& param) {
  return std::string(name_of(param.param));
}

INSTANTIATE_TEST_SUITE_P(dtypes, emulated_kernel_test,
                         ::testing::Values(dtype::f64, dtype::f32, dtype::f16, dtype::bf16),
                         dtype_name);

// The battery's degenerate catalog (semantics.md's special cases, each with the
// rule its verdict follows), at the level the kernel claims for the case's dtype.
TEST(emulated_kernel, follows_every_rule_of_the_degenerate_catalog) {
  const kernel k(emulated_kernel());
  for (const auto& dc : battery::degenerate_catalog()) {
    if (dc.large) continue;  // minutes and gigabytes: the slow label's business
    const check::level lv = level_for(problem::parse(dc.problem_text));
    const auto r = battery::run_degenerate(k, dc, lv);
    EXPECT_TRUE(r.result == check::verdict::pass || r.result == check::verdict::ill_posed)
        << dc.name << ": " << check::name_of(r.result) << ": " << r.reason << "\n"
        << (r.calls.empty() ? "" : r.calls.back().describe());
  }
}

// A plan with many slices and one with a single slice merge the same data in
// different trees: both must agree with the reference (the slicing is right), and
// each must be reproducible bit for bit (no dependence on anything but the plan).
TEST(emulated_kernel, slicing_changes_nothing_but_rounding) {
  const kernel k(emulated_kernel());
  for (const conformance_case& c : conformance_cases()) {
    if (c.name != "several slices") continue;
    for (std::int64_t blocks : {1, 1000000}) {
      set_emulated_target_blocks(blocks);
      EXPECT_EQ(run_against_reference(k, c), "") << blocks << " target blocks: " << c.p.to_string();
      EXPECT_EQ(run_bitwise(k, k, c), "") << blocks << " target blocks: " << c.p.to_string();
    }
  }
  set_emulated_target_blocks(132 * 8);
}

bnc_problem descriptor_of(const problem& p) { return p.to_abi(); }

TEST(emulated_kernel, rejects_malformed_calls_before_writing) {
  const bnc_kernel* k = emulated_kernel();
  problem::fields f;
  f.shape = {4, 2};
  const problem p(f);
  bnc_problem d = descriptor_of(p);
  char message[256];
  EXPECT_EQ(k->forward(nullptr, &d, nullptr, message, sizeof message), BNC_STATUS_BAD_ARGUMENT);
  bnc_forward_args a{};
  a.struct_size = sizeof a;
  // x is required.
  EXPECT_EQ(k->forward(nullptr, &d, &a, message, sizeof message), BNC_STATUS_BAD_ARGUMENT);
  EXPECT_NE(std::string(message).find("x is NULL"), std::string::npos) << message;
  d.rank = 1;
  EXPECT_EQ(k->forward(nullptr, &d, &a, message, sizeof message), BNC_STATUS_BAD_ARGUMENT);
  d = descriptor_of(p);
  d.profile = BNC_PROFILE_ONNX;
  EXPECT_EQ(k->forward(nullptr, &d, &a, message, sizeof message), BNC_STATUS_UNSUPPORTED);
  bnc_backward_args b{};
  b.struct_size = sizeof b;
  d = descriptor_of(p);
  EXPECT_EQ(k->backward(nullptr, &d, &b, message, sizeof message), BNC_STATUS_BAD_ARGUMENT);
}

TEST(emulated_kernel, rejects_a_bad_average_factor) {
  problem::fields f;
  f.shape = {4, 2};
  f.data_type = dtype::f64;
  const problem p(f);
  const bnc_problem d = p.to_abi();
  double x[8] = {1, 2, 3, 4, 5, 6, 7, 8}, y[8], gamma[2] = {1, 1}, beta[2] = {0, 0}, rm[2] = {0, 0},
         rv[2] = {1, 1}, sm[2], si[2];
  std::int64_t counter = 0;
  bnc_forward_args a{sizeof(bnc_forward_args),
                     x,
                     y,
                     gamma,
                     beta,
                     rm,
                     rv,
                     sm,
                     si,
                     &counter,
                     1.5,
                     nullptr,
                     nullptr,
                     nullptr,
                     nullptr};
  char message[256];
  EXPECT_EQ(emulated_kernel()->forward(nullptr, &d, &a, message, sizeof message),
            BNC_STATUS_BAD_ARGUMENT);
  EXPECT_EQ(rm[0], 0.0);
  a.exponential_average_factor = 0.5;
  EXPECT_EQ(emulated_kernel()->forward(nullptr, &d, &a, message, sizeof message), BNC_STATUS_OK)
      << message;
  EXPECT_EQ(counter, 0) << "the caller keeps the module state";
}

}  // namespace
}  // namespace bnconform::cuda::testing
