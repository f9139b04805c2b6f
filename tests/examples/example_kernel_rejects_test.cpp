// The example kernel through the raw ABI: every malformed call docs/abi.md names is
// rejected with the right status and a message, and changes nothing (outputs,
// running statistics, counter); what it does not implement is UNSUPPORTED.
#include <dlfcn.h>
#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <cstring>
#include <functional>
#include <limits>
#include <ostream>
#include <stdexcept>
#include <string>

#include "bnconform/kernel.h"

namespace bnconform {
namespace {

// The raw description, as the loader finds it (bnconform::kernel does not hand it
// out); the library stays loaded for the life of the test.
const bnc_kernel& example() {
  static const bnc_kernel* description = [] {
    void* handle = dlopen(BNCONFORM_EXAMPLE_KERNEL, RTLD_NOW | RTLD_LOCAL);
    if (handle == nullptr) throw std::runtime_error(dlerror());
    void* symbol = dlsym(handle, BNC_KERNEL_SYMBOL);
    if (symbol == nullptr) throw std::runtime_error("no " BNC_KERNEL_SYMBOL);
    return reinterpret_cast<bnc_kernel_entry_fn>(symbol)();
  }();
  return *description;
}

// A valid 2x3x2 f32 training call with every buffer; tests break one thing at a time.
struct forward_call {
  std::array<std::int64_t, 3> shape{2, 3, 2};
  std::array<float, 12> x{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12.5f};
  std::array<float, 12> y{};
  std::array<float, 3> gamma{1, 2, 3}, beta{0, 1, 2};
  std::array<float, 3> running_mean{0.5f, 0.25f, 0}, running_var{1, 2, 3};
  std::array<float, 3> save_mean{}, save_invstd{};
  std::int64_t num_batches_tracked = 7;
  bnc_problem problem{};
  bnc_forward_args args{};
  std::array<char, 256> message{};

  forward_call() {
    y.fill(-42);
    save_mean.fill(-42);
    save_invstd.fill(-42);
    problem = {sizeof(bnc_problem),
               3,
               shape.data(),
               BNC_LAYOUT_CHANNELS_FIRST,
               BNC_DTYPE_F32,
               BNC_DTYPE_F32,
               BNC_MODE_TRAINING,
               BNC_PROFILE_PYTORCH,
               1e-5,
               0.1,
               0,
               1,
               1};
    args = {sizeof(bnc_forward_args),
            x.data(),
            y.data(),
            gamma.data(),
            beta.data(),
            running_mean.data(),
            running_var.data(),
            save_mean.data(),
            save_invstd.data(),
            &num_batches_tracked,
            0.1,
            nullptr,
            nullptr,
            nullptr,
            nullptr};
  }

  bnc_status run(const bnc_problem* p) {
    return example().forward(example().context, p, &args, message.data(), message.size());
  }
  bnc_status run() { return run(&problem); }

  bool untouched() const {
    const forward_call fresh;
    return y == fresh.y && save_mean == fresh.save_mean && save_invstd == fresh.save_invstd &&
           running_mean == fresh.running_mean && running_var == fresh.running_var &&
           num_batches_tracked == fresh.num_batches_tracked && x == fresh.x;
  }
};

// A value outside an ABI enum, as a C caller can pass one (C++ will not convert it).
template <class Enum>
void set_raw(Enum& field, int value) {
  static_assert(sizeof(Enum) == sizeof(int));
  std::memcpy(&field, &value, sizeof value);
}

struct broken_call {
  const char* what;
  bnc_status expected;
  std::function<void(forward_call&)> make;
};

void PrintTo(const broken_call& b, std::ostream* out) { *out << b.what; }

class ExampleKernelRejects : public ::testing::TestWithParam<broken_call> {};

TEST_P(ExampleKernelRejects, WithItsStatusAndChangesNothing) {
  forward_call call;
  GetParam().make(call);
  EXPECT_EQ(call.run(), GetParam().expected) << call.message.data();
  EXPECT_GT(std::strlen(call.message.data()), 10u);
  EXPECT_TRUE(call.untouched());
}

const auto nan = std::numeric_limits<double>::quiet_NaN();

INSTANTIATE_TEST_SUITE_P(
    ExampleKernel, ExampleKernelRejects,
    ::testing::Values(
        broken_call{"rank_1", BNC_STATUS_BAD_ARGUMENT, [](forward_call& c) { c.problem.rank = 1; }},
        broken_call{"shape_null", BNC_STATUS_BAD_ARGUMENT,
                    [](forward_call& c) { c.problem.shape = nullptr; }},
        broken_call{"negative_extent", BNC_STATUS_BAD_ARGUMENT,
                    [](forward_call& c) { c.shape[2] = -2; }},
        broken_call{"struct_size_small", BNC_STATUS_BAD_ARGUMENT,
                    [](forward_call& c) { c.problem.struct_size = 8; }},
        broken_call{"args_struct_size_small", BNC_STATUS_BAD_ARGUMENT,
                    [](forward_call& c) { c.args.struct_size = 8; }},
        broken_call{"unknown_layout", BNC_STATUS_BAD_ARGUMENT,
                    [](forward_call& c) { set_raw(c.problem.layout, 7); }},
        broken_call{"unknown_dtype", BNC_STATUS_BAD_ARGUMENT,
                    [](forward_call& c) { set_raw(c.problem.data_dtype, 9); }},
        broken_call{"stats_dtype_mismatch", BNC_STATUS_BAD_ARGUMENT,
                    [](forward_call& c) { c.problem.stats_dtype = BNC_DTYPE_F64; }},
        broken_call{"unknown_mode", BNC_STATUS_BAD_ARGUMENT,
                    [](forward_call& c) { set_raw(c.problem.mode, 3); }},
        broken_call{"unknown_profile", BNC_STATUS_BAD_ARGUMENT,
                    [](forward_call& c) { set_raw(c.problem.profile, -1); }},
        broken_call{"eps_negative", BNC_STATUS_BAD_ARGUMENT,
                    [](forward_call& c) { c.problem.eps = -1e-5; }},
        broken_call{"eps_nan", BNC_STATUS_BAD_ARGUMENT,
                    [](forward_call& c) { c.problem.eps = nan; }},
        broken_call{"momentum_above_one", BNC_STATUS_BAD_ARGUMENT,
                    [](forward_call& c) { c.problem.momentum = 1.5; }},
        broken_call{"x_null", BNC_STATUS_BAD_ARGUMENT, [](forward_call& c) { c.args.x = nullptr; }},
        broken_call{"gamma_null", BNC_STATUS_BAD_ARGUMENT,
                    [](forward_call& c) { c.args.gamma = nullptr; }},
        broken_call{"running_var_null", BNC_STATUS_BAD_ARGUMENT,
                    [](forward_call& c) { c.args.running_var = nullptr; }},
        broken_call{"save_invstd_null", BNC_STATUS_BAD_ARGUMENT,
                    [](forward_call& c) { c.args.save_invstd = nullptr; }},
        broken_call{"counter_null", BNC_STATUS_BAD_ARGUMENT,
                    [](forward_call& c) { c.args.num_batches_tracked = nullptr; }},
        broken_call{"one_value_per_channel", BNC_STATUS_INVALID_PROBLEM,
                    [](forward_call& c) {
                      c.shape = {1, 3, 1};
                    }},
        broken_call{"f16_data", BNC_STATUS_UNSUPPORTED,
                    [](forward_call& c) { c.problem.data_dtype = BNC_DTYPE_F16; }},
        broken_call{"onnx_profile", BNC_STATUS_UNSUPPORTED,
                    [](forward_call& c) { c.problem.profile = BNC_PROFILE_ONNX; }}),
    [](const ::testing::TestParamInfo<broken_call>& param_info) {
      return std::string(param_info.param.what);
    });

// A negative counter is rejected and stays as given (untouched() compares with 7).
TEST(ExampleKernel, ARejectedCounterStaysAsGiven) {
  forward_call call;
  call.num_batches_tracked = -1;
  EXPECT_EQ(call.run(), BNC_STATUS_BAD_ARGUMENT);
  EXPECT_EQ(call.num_batches_tracked, -1);
}

TEST(ExampleKernel, BackwardRejectsOneValuePerChannelAndWritesNothing) {
  forward_call call;
  call.shape = {1, 3, 1};
  std::array<float, 3> dy{1, 2, 3}, dx{-42, -42, -42}, dgamma{-42, -42, -42}, dbeta = dgamma;
  const std::array<float, 3> before = dx;
  const bnc_backward_args args{sizeof(bnc_backward_args),
                               call.x.data(),
                               dy.data(),
                               dx.data(),
                               call.gamma.data(),
                               call.save_mean.data(),
                               call.save_invstd.data(),
                               nullptr,
                               nullptr,
                               dgamma.data(),
                               dbeta.data(),
                               nullptr,
                               nullptr,
                               nullptr,
                               nullptr,
                               nullptr};
  EXPECT_EQ(
      example().backward(nullptr, &call.problem, &args, call.message.data(), call.message.size()),
      BNC_STATUS_INVALID_PROBLEM);
  EXPECT_NE(std::string(call.message.data()).find("Expected more than 1 value per channel"),
            std::string::npos);
  EXPECT_EQ(dx, before);
  EXPECT_EQ(dgamma, before);
  EXPECT_EQ(dbeta, before);
}

TEST(ExampleKernel, NullProblemIsABadArgument) {
  forward_call call;
  EXPECT_EQ(call.run(nullptr), BNC_STATUS_BAD_ARGUMENT);
  EXPECT_TRUE(call.untouched());
}

TEST(ExampleKernel, AMessageIsTruncatedToItsBuffer) {
  forward_call call;
  call.problem.rank = 1;
  char small[8];
  std::memset(small, 'z', sizeof small);
  EXPECT_EQ(example().forward(nullptr, &call.problem, &call.args, small, 5),
            BNC_STATUS_BAD_ARGUMENT);
  EXPECT_EQ(std::strlen(small), 4u);
  EXPECT_EQ(small[5], 'z');
}

TEST(ExampleKernel, TheValidCallSucceedsAndCounts) {
  forward_call call;
  EXPECT_EQ(call.run(), BNC_STATUS_OK) << call.message.data();
  EXPECT_EQ(call.num_batches_tracked, 8);
  EXPECT_EQ(call.message[0], '\0');
}

}  // namespace
}  // namespace bnconform
