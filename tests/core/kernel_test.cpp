// Tests of core/kernel: the harness side of the ABI, driven by small fake kernels
// written here (C-style entry points that record what they were given), and the
// reference kernel linked in.
#include "core/kernel.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "reference/reference_kernel.hpp"

namespace bnconform {
namespace {

using ::testing::HasSubstr;

// What the fake kernels saw and what they are told to answer.
struct recorder {
  int forward_calls = 0;
  int backward_calls = 0;
  std::vector<double> factors;                     // exponential_average_factor per forward call
  std::vector<std::int64_t> counters_seen;         // *num_batches_tracked at each call, -1 if NULL
  const bnc_forward_args* last_forward = nullptr;  // valid only during the call
  bool gamma_null = false, running_null = false, save_null = false;
  bool dgamma_null = false, backward_save_null = false, backward_running_null = false;
  bnc_status status = BNC_STATUS_OK;
  std::string message;
  bool fill_message_without_nul = false;
};
recorder g;

void write_message(char* buffer, size_t size) {
  if (g.fill_message_without_nul) {
    std::memset(buffer, 'a', size);  // a broken kernel: no terminating NUL
  } else {
    std::snprintf(buffer, size, "%s", g.message.c_str());
  }
}

bnc_status recording_forward(void*, const bnc_problem*, const bnc_forward_args* args, char* message,
                             size_t message_size) {
  ++g.forward_calls;
  g.factors.push_back(args->exponential_average_factor);
  g.counters_seen.push_back(args->num_batches_tracked ? *args->num_batches_tracked : -1);
  g.gamma_null = args->gamma == nullptr;
  g.running_null = args->running_mean == nullptr;
  g.save_null = args->save_mean == nullptr;
  write_message(message, message_size);
  return g.status;  // writes no output at all
}

bnc_status recording_backward(void*, const bnc_problem*, const bnc_backward_args* args,
                              char* message, size_t message_size) {
  ++g.backward_calls;
  g.dgamma_null = args->dgamma == nullptr;
  g.backward_save_null = args->save_mean == nullptr;
  g.backward_running_null = args->running_mean == nullptr;
  write_message(message, message_size);
  return g.status;
}

// Declares every operation, f64 and f32 data, channels_first, pytorch, ranks 2..4,
// host memory, and leaves the module state to the caller.
const bnc_kernel recording_kernel = {
    BNC_ABI_VERSION,
    sizeof(bnc_kernel),
    "recording",
    "test",
    {BNC_OP_FORWARD_TRAINING | BNC_OP_FORWARD_EVAL | BNC_OP_BACKWARD_TRAINING |
         BNC_OP_BACKWARD_EVAL,
     BNC_BIT(BNC_DTYPE_F64) | BNC_BIT(BNC_DTYPE_F32), BNC_BIT(BNC_LAYOUT_CHANNELS_FIRST),
     BNC_BIT(BNC_PROFILE_PYTORCH), 2, 4, BNC_MEMORY_HOST, 0},
    nullptr,
    recording_forward,
    recording_backward,
    0};

class KernelForward : public ::testing::Test {
 protected:
  void SetUp() override { g = recorder{}; }
  const kernel k{&recording_kernel};
};

class KernelBackward : public KernelForward {};

tensor input_for(const problem& p) {
  tensor x(p.data_type(), p.element_count());
  for (std::int64_t i = 0; i < x.size(); ++i) x.set(i, static_cast<double>(i % 5));
  return x;
}

bool all_nan(const tensor& t) {
  for (double v : t.values())
    if (!std::isnan(v)) return false;
  return true;
}

TEST_F(KernelForward, MomentumNoneGivesCumulativeFactors) {
  // PyTorch with momentum=None: num_batches_tracked += 1, then
  // factor = 1 / num_batches_tracked, i.e. 1, 1/2, 1/3 over three calls.
  const problem p = problem::parse("shape=4x3,momentum=none");
  module_state s = module_state::initial(p);
  const tensor x = input_for(p);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(k.forward(p, x, s).status.ok());
  EXPECT_EQ(g.factors, (std::vector<double>{1.0, 1.0 / 2, 1.0 / 3}));
  EXPECT_EQ(g.counters_seen, (std::vector<std::int64_t>{0, 1, 2}));  // the kernel's view
  EXPECT_EQ(s.num_batches_tracked, 3);

  // Eval calls read the state and move nothing.
  const problem e = p.with_mode(mode::eval);
  ASSERT_TRUE(k.forward(e, x, s).status.ok());
  ASSERT_TRUE(k.forward(e, x, s).status.ok());
  EXPECT_EQ(s.num_batches_tracked, 3);
  EXPECT_FALSE(g.running_null);
  EXPECT_TRUE(g.save_null);  // eval with running statistics saves nothing

  // Training again continues the count: factor 1/4.
  ASSERT_TRUE(k.forward(p, x, s).status.ok());
  EXPECT_EQ(g.factors.back(), 1.0 / 4);
  EXPECT_EQ(s.num_batches_tracked, 4);
}

TEST_F(KernelForward, FixedMomentumIsPassedAsIs) {
  const problem p = problem::parse("shape=4x3x2,momentum=0.25");
  module_state s = module_state::initial(p);
  s.num_batches_tracked = 10;
  const tensor x = input_for(p);
  ASSERT_TRUE(k.forward(p, x, s).status.ok());
  ASSERT_TRUE(k.forward(p, x, s).status.ok());
  EXPECT_EQ(g.factors, (std::vector<double>{0.25, 0.25}));
  EXPECT_EQ(s.num_batches_tracked, 12);
}

TEST_F(KernelForward, WithoutTrackingThereIsNoCounter) {
  const problem p = problem::parse("shape=4x3,momentum=none,track=false,affine=false");
  module_state s = module_state::initial(p);
  const tensor x = input_for(p);
  const forward_outputs out = k.forward(p, x, s);
  ASSERT_TRUE(out.status.ok());
  EXPECT_EQ(g.counters_seen, (std::vector<std::int64_t>{-1}));  // NULL counter pointer
  EXPECT_TRUE(g.gamma_null);
  EXPECT_TRUE(g.running_null);
  EXPECT_FALSE(g.save_null);
  EXPECT_EQ(s.num_batches_tracked, 0);
  // Eval without running statistics normalizes with batch statistics: it saves them.
  const forward_outputs eval = k.forward(p.with_mode(mode::eval), x, s);
  EXPECT_FALSE(g.save_null);
  EXPECT_EQ(eval.save_mean.size(), 3);
}

TEST_F(KernelForward, FailureLeavesTheCounterAndPassesStatusAndMessage) {
  const problem p = problem::parse("shape=1x3,momentum=none");
  module_state s = module_state::initial(p);
  s.num_batches_tracked = 5;
  g.status = BNC_STATUS_INVALID_PROBLEM;
  g.message = "Expected more than 1 value per channel when training";
  const forward_outputs out = k.forward(p, input_for(p), s);
  EXPECT_EQ(g.forward_calls, 1);
  EXPECT_FALSE(out.status.ok());
  EXPECT_EQ(out.status.code, BNC_STATUS_INVALID_PROBLEM);
  EXPECT_EQ(out.status.message, g.message);
  EXPECT_EQ(s.num_batches_tracked, 5);
  EXPECT_EQ(g.factors, (std::vector<double>{1.0 / 6}));
  for (bnc_status code :
       {BNC_STATUS_BAD_ARGUMENT, BNC_STATUS_UNSUPPORTED, BNC_STATUS_INTERNAL_ERROR}) {
    g.status = code;
    EXPECT_EQ(k.forward(p, input_for(p), s).status.code, code);
    EXPECT_EQ(s.num_batches_tracked, 5);
  }
}

TEST_F(KernelForward, SuccessNoteIsKept) {
  const problem p = problem::parse("shape=2x3");
  module_state s = module_state::initial(p);
  g.message = "ill-posed: a note";
  const forward_outputs out = k.forward(p, input_for(p), s);
  EXPECT_TRUE(out.status.ok());
  EXPECT_EQ(out.status.message, "ill-posed: a note");
}

TEST_F(KernelForward, MessageWithoutNulIsTerminated) {
  const problem p = problem::parse("shape=2x3");
  module_state s = module_state::initial(p);
  g.fill_message_without_nul = true;
  g.status = BNC_STATUS_INTERNAL_ERROR;
  const forward_outputs out = k.forward(p, input_for(p), s);
  EXPECT_EQ(out.status.code, BNC_STATUS_INTERNAL_ERROR);
  EXPECT_FALSE(out.status.message.empty());
  EXPECT_LT(out.status.message.size(), 4096u);  // bounded by the buffer, not by luck
  EXPECT_EQ(out.status.message.find_first_not_of('a'), std::string::npos);
}

TEST_F(KernelForward, OutputsStartAsNaN) {
  // The fake kernel writes nothing: every output must still be NaN, for every dtype.
  for (const char* dt : {"f64", "f32"}) {
    const problem p = problem::parse(std::string("shape=2x3x4,dtype=") + dt);
    module_state s = module_state::initial(p);
    const forward_outputs out = k.forward(p, input_for(p), s);
    ASSERT_TRUE(out.status.ok());
    EXPECT_EQ(out.y.size(), 24);
    EXPECT_EQ(out.y.type(), p.data_type());
    EXPECT_TRUE(all_nan(out.y)) << dt;
    EXPECT_EQ(out.save_mean.size(), 3);
    EXPECT_EQ(out.save_mean.type(), p.stats_type());
    EXPECT_TRUE(all_nan(out.save_mean));
    EXPECT_TRUE(all_nan(out.save_invstd));
  }
  // Eval with running statistics has no saved statistics at all.
  const problem e = problem::parse("shape=2x3,mode=eval");
  module_state s = module_state::initial(e);
  const forward_outputs out = k.forward(e, input_for(e), s);
  EXPECT_EQ(out.save_mean.size(), 0);
  EXPECT_EQ(out.save_invstd.size(), 0);
  EXPECT_TRUE(all_nan(out.y));
}

TEST_F(KernelBackward, OutputsStartAsNaNAndPointersFollowTheProblem) {
  const problem p = problem::parse("shape=2x3x2");
  const module_state s = module_state::initial(p);
  const tensor x = input_for(p);
  const tensor save = tensor(p.stats_type(), 3);
  const backward_outputs out = k.backward(p, x, x, s, save, save);
  ASSERT_TRUE(out.status.ok());
  EXPECT_EQ(g.backward_calls, 1);
  EXPECT_TRUE(all_nan(out.dx));
  EXPECT_EQ(out.dx.size(), 12);
  EXPECT_EQ(out.dgamma.size(), 3);
  EXPECT_TRUE(all_nan(out.dgamma));
  EXPECT_TRUE(all_nan(out.dbeta));
  EXPECT_FALSE(g.dgamma_null);
  EXPECT_FALSE(g.backward_save_null);
  EXPECT_TRUE(g.backward_running_null);

  // Eval with running statistics: running pointers, no saved ones; !affine: no dgamma.
  const problem e = problem::parse("shape=2x3x2,mode=eval,affine=false");
  const module_state se = module_state::initial(e);
  const backward_outputs oe = k.backward(e, x, x, se, tensor(), tensor());
  ASSERT_TRUE(oe.status.ok());
  EXPECT_TRUE(g.dgamma_null);
  EXPECT_TRUE(g.backward_save_null);
  EXPECT_FALSE(g.backward_running_null);
  EXPECT_EQ(oe.dgamma.size(), 0);
  EXPECT_EQ(oe.dbeta.size(), 0);

  g.status = BNC_STATUS_BAD_ARGUMENT;
  g.message = "dy is NULL";
  const backward_outputs bad = k.backward(e, x, x, se, tensor(), tensor());
  EXPECT_EQ(bad.status.code, BNC_STATUS_BAD_ARGUMENT);
  EXPECT_EQ(bad.status.message, "dy is NULL");
}

TEST(KernelModuleState, InitialIsPyTorchs) {
  for (const char* dt : {"f64", "f32", "f16", "bf16"}) {
    for (bool affine : {true, false}) {
      for (bool track : {true, false}) {
        const problem p = problem::parse(std::string("shape=2x5x3,dtype=") + dt + ",affine=" +
                                         (affine ? "1" : "0") + ",track=" + (track ? "1" : "0"));
        const module_state s = module_state::initial(p);
        const dtype st = std::string(dt) == "f64" ? dtype::f64 : dtype::f32;
        const std::int64_t affine_count = affine ? 5 : 0;
        const std::int64_t track_count = track ? 5 : 0;
        EXPECT_EQ(s.gamma.size(), affine_count);
        EXPECT_EQ(s.beta.size(), affine_count);
        EXPECT_EQ(s.running_mean.size(), track_count);
        EXPECT_EQ(s.running_var.size(), track_count);
        for (const tensor* t : {&s.gamma, &s.beta, &s.running_mean, &s.running_var}) {
          EXPECT_EQ(t->type(), st) << p.to_string();
        }
        EXPECT_EQ(s.gamma.values(), std::vector<double>(affine_count, 1.0));
        EXPECT_EQ(s.beta.values(), std::vector<double>(affine_count, 0.0));
        EXPECT_EQ(s.running_mean.values(), std::vector<double>(track_count, 0.0));
        EXPECT_EQ(s.running_var.values(), std::vector<double>(track_count, 1.0));
        EXPECT_EQ(s.num_batches_tracked, 0);
      }
    }
  }
}

TEST(KernelModuleState, StatusNamesAndOperations) {
  EXPECT_EQ(name_of(BNC_STATUS_OK), "ok");
  EXPECT_EQ(name_of(BNC_STATUS_INVALID_PROBLEM), "invalid_problem");
  bnc_status unknown = BNC_STATUS_OK;
  const int raw = 99;  // what a broken kernel could return
  std::memcpy(&unknown, &raw, sizeof raw);
  EXPECT_EQ(name_of(unknown), "unknown_status");
  const problem t = problem::parse("shape=2x3");
  const problem e = t.with_mode(mode::eval);
  EXPECT_EQ(operation_of(t, false), BNC_OP_FORWARD_TRAINING);
  EXPECT_EQ(operation_of(t, true), BNC_OP_BACKWARD_TRAINING);
  EXPECT_EQ(operation_of(e, false), BNC_OP_FORWARD_EVAL);
  EXPECT_EQ(operation_of(e, true), BNC_OP_BACKWARD_EVAL);
}

// what() of the bnconform::error that `call` throws ("" and a failure otherwise).
template <class F>
std::string error_of(F&& call) {
  try {
    call();
    ADD_FAILURE() << "no bnconform::error";
  } catch (const error& e) {
    return e.what();
  }
  return "";
}

TEST_F(KernelForward, MismatchedTensorsThrowNamingTheTensor) {
  const problem p = problem::parse("shape=2x3x2");  // f32 data and statistics
  const tensor x = input_for(p);
  auto forward_error = [&](const tensor& input, const module_state& state) {
    module_state s = state;
    return error_of([&] { (void)k.forward(p, input, s); });
  };
  const module_state good = module_state::initial(p);
  EXPECT_THAT(forward_error(tensor(dtype::f32, 11), good), HasSubstr("x"));
  EXPECT_THAT(forward_error(tensor(dtype::f64, 12), good), HasSubstr("x: expected 12 f32"));
  module_state s = good;
  s.gamma = tensor(dtype::f32, 2);
  EXPECT_THAT(forward_error(x, s), HasSubstr("gamma"));
  s = good;
  s.beta = tensor(dtype::f64, 3);
  EXPECT_THAT(forward_error(x, s), HasSubstr("beta"));
  s = good;
  s.running_mean = tensor(dtype::f32, 0);
  EXPECT_THAT(forward_error(x, s), HasSubstr("running_mean"));
  s = good;
  s.running_var = tensor(dtype::f16, 3);
  EXPECT_THAT(forward_error(x, s), HasSubstr("running_var"));
  // A state for !affine (no gamma) used with an affine problem.
  EXPECT_THAT(forward_error(x, module_state::initial(problem::parse("shape=2x3x2,affine=false"))),
              HasSubstr("gamma"));
  EXPECT_EQ(g.forward_calls, 0);  // the kernel was never reached

  const tensor save(dtype::f32, 3);
  EXPECT_THAT(error_of([&] { (void)k.backward(p, x, tensor(dtype::f32, 13), good, save, save); }),
              HasSubstr("dy"));
  EXPECT_THAT(error_of([&] { (void)k.backward(p, x, x, good, tensor(dtype::f32, 2), save); }),
              HasSubstr("save_mean"));
  EXPECT_THAT(error_of([&] { (void)k.backward(p, x, x, good, save, tensor(dtype::f64, 3)); }),
              HasSubstr("save_invstd"));
  EXPECT_THAT(error_of([&] { (void)k.backward(p, tensor(dtype::bf16, 12), x, good, save, save); }),
              HasSubstr("x"));
  EXPECT_EQ(g.backward_calls, 0);
}

TEST(KernelConstructor, RejectsBadDescriptions) {
  EXPECT_THAT(error_of([] { kernel k(nullptr); }), HasSubstr("NULL"));

  bnc_kernel d = recording_kernel;
  d.abi_version = 2u << 16;
  EXPECT_THAT(error_of([&] { kernel k(&d); }), HasSubstr("ABI version 2.0"));
  d.abi_version = BNC_ABI_VERSION + 1;  // a minor version newer than ours
  EXPECT_THAT(error_of([&] { kernel k(&d); }),
              HasSubstr("ABI version 1." + std::to_string(BNC_ABI_VERSION_MINOR + 1)));
  d.abi_version = 0;  // major 0
  EXPECT_THAT(error_of([&] { kernel k(&d); }), HasSubstr("ABI version 0.0"));

  d = recording_kernel;
  d.forward = nullptr;
  EXPECT_THAT(error_of([&] { kernel k(&d); }), HasSubstr("NULL entry point"));
  d = recording_kernel;
  d.backward = nullptr;
  EXPECT_THAT(error_of([&] { kernel k(&d); }), HasSubstr("NULL entry point"));
  d = recording_kernel;
  d.name = nullptr;
  EXPECT_THAT(error_of([&] { kernel k(&d); }), HasSubstr("name"));
  d = recording_kernel;
  d.struct_size = sizeof(bnc_kernel) - 8;
  EXPECT_THAT(error_of([&] { kernel k(&d); }), HasSubstr("struct_size"));

  const kernel ok(&recording_kernel);
  EXPECT_EQ(ok.name(), "recording");
  EXPECT_EQ(ok.version(), "test");
  EXPECT_EQ(ok.capabilities().max_rank, 4);
}

TEST(KernelCapabilities, UnsupportedReasonNamesWhatIsMissing) {
  const kernel k(&recording_kernel);
  const problem declared = problem::parse("shape=2x3x4x5,dtype=f64");
  EXPECT_EQ(k.unsupported_reason(declared, false), "");
  EXPECT_EQ(k.unsupported_reason(declared, true), "");
  EXPECT_EQ(k.unsupported_reason(declared.with_mode(mode::eval), true), "");
  EXPECT_EQ(k.unsupported_reason(problem::parse("shape=2x3"), false), "");

  EXPECT_THAT(k.unsupported_reason(problem::parse("shape=2x3,dtype=f16"), false), HasSubstr("f16"));
  EXPECT_THAT(k.unsupported_reason(problem::parse("shape=2x3,dtype=bf16"), true),
              HasSubstr("bf16"));
  EXPECT_THAT(k.unsupported_reason(problem::parse("shape=2x3,layout=cl"), false),
              HasSubstr("channels_last"));
  EXPECT_THAT(k.unsupported_reason(problem::parse("shape=2x3,profile=onnx"), false),
              HasSubstr("onnx"));
  EXPECT_THAT(k.unsupported_reason(problem::parse("shape=2x3,profile=tf-fused"), false),
              HasSubstr("tf-fused"));
  EXPECT_THAT(k.unsupported_reason(problem::parse("shape=2x3x4x5x6"), false), HasSubstr("rank 5"));

  bnc_kernel d = recording_kernel;
  d.capabilities.operations = BNC_OP_FORWARD_TRAINING;
  const kernel forward_only(&d);
  EXPECT_EQ(forward_only.unsupported_reason(declared, false), "");
  EXPECT_THAT(forward_only.unsupported_reason(declared, true), HasSubstr("backward"));
  EXPECT_THAT(forward_only.unsupported_reason(declared.with_mode(mode::eval), false),
              HasSubstr("eval"));

  bnc_kernel r = recording_kernel;
  r.capabilities.min_rank = 3;
  EXPECT_THAT(kernel(&r).unsupported_reason(problem::parse("shape=2x3"), false),
              HasSubstr("rank 2"));
  bnc_kernel m = recording_kernel;
  m.capabilities.memory = BNC_MEMORY_DEVICE;
  EXPECT_THAT(kernel(&m).unsupported_reason(declared, false), HasSubstr("device"));
}

// One unit in the last place of a binary32 near v: the tolerance for values the
// reference rounds correctly but this test computes in double with a sqrt.
double f32_ulp(double v) { return std::ldexp(std::fabs(v), -23); }

TEST(KernelReference, ForwardThroughTheWrapper) {
  // N=2, C=3, rank 2: channel 0 holds {-1, 1}, channel 1 {2, 2}, channel 2 {0, 4}.
  // Batch means 0, 2, 2; biased variances 1, 0, 4; unbiased (m = 2) 2, 0, 8.
  // y = (x - mean) / sqrt(var + eps); running = 0.9 * running + 0.1 * batch.
  const bnc_kernel* ref = reference::reference_kernel(256);
  ASSERT_NE(ref, nullptr);
  const kernel k(ref);
  EXPECT_EQ(k.unsupported_reason(problem::parse("shape=2x3"), false), "");
  const problem p = problem::parse("shape=2x3");
  module_state s = module_state::initial(p);
  const tensor x = tensor::from_values(dtype::f32, std::vector<double>{-1, 2, 0, 1, 2, 4});
  const forward_outputs out = k.forward(p, x, s);
  ASSERT_TRUE(out.status.ok()) << out.status.message;
  const double eps = 1e-5;
  const std::vector<double> y = out.y.values();
  ASSERT_EQ(y.size(), 6u);
  EXPECT_NEAR(y[0], -1 / std::sqrt(1 + eps), f32_ulp(-1 / std::sqrt(1 + eps)));
  EXPECT_NEAR(y[3], 1 / std::sqrt(1 + eps), f32_ulp(1 / std::sqrt(1 + eps)));
  EXPECT_EQ(y[1], 0.0);
  EXPECT_EQ(y[4], 0.0);
  EXPECT_NEAR(y[2], -2 / std::sqrt(4 + eps), f32_ulp(-2 / std::sqrt(4 + eps)));
  EXPECT_NEAR(y[5], 2 / std::sqrt(4 + eps), f32_ulp(2 / std::sqrt(4 + eps)));
  EXPECT_EQ(out.save_mean.values(), (std::vector<double>{0, 2, 2}));
  EXPECT_NEAR(out.save_invstd.get(1), 1 / std::sqrt(eps), f32_ulp(1 / std::sqrt(eps)));
  // The reference keeps the module state itself: one step, counted once.
  EXPECT_EQ(s.num_batches_tracked, 1);
  EXPECT_EQ(s.running_mean.values(),
            (std::vector<double>{0, static_cast<float>(0.1 * 2), static_cast<float>(0.1 * 2)}));
  EXPECT_EQ(s.running_var.values(),
            (std::vector<double>{static_cast<float>(0.9 + 0.1 * 2), static_cast<float>(0.9),
                                 static_cast<float>(0.9 + 0.1 * 8)}));

  // Invalid problem passes through: one value per channel in training.
  const problem one = problem::parse("shape=1x3");
  module_state s1 = module_state::initial(one);
  const forward_outputs bad = k.forward(one, tensor(dtype::f32, 3), s1);
  EXPECT_EQ(bad.status.code, BNC_STATUS_INVALID_PROBLEM);
  EXPECT_FALSE(bad.status.message.empty());
  EXPECT_EQ(s1.num_batches_tracked, 0);
}

}  // namespace
}  // namespace bnconform
