// Every error rule leaves all state untouched: checked through the raw ABI, where
// a kernel could scribble on buffers, with every buffer's bytes compared after.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include "reference/reference.hpp"
#include "support.hpp"

namespace bnconform {
namespace {

using testing::values;

struct abi_call {
  problem p;
  tensor x, y, gamma, beta, running_mean, running_var, save_mean, save_invstd;
  std::int64_t counter = 5;

  explicit abi_call(const problem& prob)
      : p(prob),
        x(testing::random_tensor(rng(), prob.data_type(), prob.element_count(), -1, 1)),
        y(testing::random_tensor(rng(), prob.data_type(), prob.element_count(), -1, 1)),
        gamma(values(prob.stats_type(),
                     std::vector<double>(static_cast<std::size_t>(prob.channels()), 2))),
        beta(values(prob.stats_type(),
                    std::vector<double>(static_cast<std::size_t>(prob.channels()), 3))),
        running_mean(values(prob.stats_type(),
                            std::vector<double>(static_cast<std::size_t>(prob.channels()), 4))),
        running_var(values(prob.stats_type(),
                           std::vector<double>(static_cast<std::size_t>(prob.channels()), 5))),
        save_mean(values(prob.stats_type(),
                         std::vector<double>(static_cast<std::size_t>(prob.channels()), 6))),
        save_invstd(values(prob.stats_type(),
                           std::vector<double>(static_cast<std::size_t>(prob.channels()), 7))) {}

  static testing::random_source& rng() {
    static testing::random_source r(99);
    return r;
  }

  bnc_status run(bnc_problem d, std::string& message) {
    bnc_forward_args a{};
    a.struct_size = sizeof a;
    a.x = x.data();
    a.y = y.data();
    a.gamma = gamma.data();
    a.beta = beta.data();
    a.running_mean = running_mean.data();
    a.running_var = running_var.data();
    a.save_mean = save_mean.data();
    a.save_invstd = save_invstd.data();
    a.num_batches_tracked = &counter;
    const bnc_kernel* k = reference::reference_kernel(256);
    char buffer[256];
    const bnc_status s = k->forward(k->context, &d, &a, buffer, sizeof buffer);
    message = buffer;
    return s;
  }
};

void expect_untouched(const abi_call& before, const abi_call& after) {
  for (auto member :
       {&abi_call::x, &abi_call::y, &abi_call::gamma, &abi_call::beta, &abi_call::running_mean,
        &abi_call::running_var, &abi_call::save_mean, &abi_call::save_invstd}) {
    EXPECT_TRUE((before.*member).bitwise_equal(after.*member));
  }
  EXPECT_EQ(before.counter, after.counter);
}

TEST(ReferenceErrorRules, OneValuePerChannelInTrainingChangesNothing) {
  for (const char* text : {"shape=1x3,mode=train", "shape=1x3x1x1,mode=train,layout=cl",
                           "shape=1x2x1,mode=eval,track=false", "shape=1x2,mode=train,dtype=f64"}) {
    abi_call call(problem::parse(text));
    const abi_call before = call;
    std::string message;
    EXPECT_EQ(call.run(call.p.to_abi(), message), BNC_STATUS_INVALID_PROBLEM) << text;
    EXPECT_NE(message.find("Expected more than 1 value per channel when training"),
              std::string::npos);
    expect_untouched(before, call);
  }
}

TEST(ReferenceErrorRules, WrongRankChangesNothing) {
  abi_call call(problem::parse("shape=4x2"));
  const abi_call before = call;
  bnc_problem d = call.p.to_abi();
  d.rank = 1;
  std::string message;
  EXPECT_EQ(call.run(d, message), BNC_STATUS_BAD_ARGUMENT);
  EXPECT_NE(message.find("rank"), std::string::npos) << message;
  expect_untouched(before, call);
}

TEST(ReferenceErrorRules, MalformedDescriptorsAreBadArguments) {
  abi_call call(problem::parse("shape=4x2"));
  const abi_call before = call;
  std::string message;
  bnc_problem d = call.p.to_abi();
  d.stats_dtype = BNC_DTYPE_F64;  // f32 data takes f32 statistics
  EXPECT_EQ(call.run(d, message), BNC_STATUS_BAD_ARGUMENT);
  d = call.p.to_abi();
  d.eps = std::nan("");
  EXPECT_EQ(call.run(d, message), BNC_STATUS_BAD_ARGUMENT);
  EXPECT_NE(message.find("eps"), std::string::npos) << message;
  d = call.p.to_abi();
  const std::int64_t negative[] = {4, -2};
  d.shape = negative;
  EXPECT_EQ(call.run(d, message), BNC_STATUS_BAD_ARGUMENT);
  expect_untouched(before, call);
}

TEST(ReferenceErrorRules, SizeMismatchIsRejectedBeforeComputing) {
  const problem p = problem::parse("shape=4x3");
  reference::call_inputs in;
  in.x.assign(12, 1.0);
  in.gamma.assign(3, 1.0);
  in.beta.assign(2, 0.0);  // wrong: C = 3
  in.running_mean.assign(3, 0.0);
  in.running_var.assign(3, 1.0);
  const auto r = reference::forward(p, in);
  EXPECT_EQ(r.status.code, BNC_STATUS_BAD_ARGUMENT);
  EXPECT_NE(r.status.message.find("bias (beta) should contain 3 elements not 2"),
            std::string::npos);
  EXPECT_TRUE(r.y.rounded.empty());
}

// docs/semantics.md#profiles: the reference implements every profile.
TEST(ReferenceErrorRules, EveryProfileIsImplemented) {
  for (const char* name : {"pytorch", "onnx", "keras", "tf-fused", "flax"}) {
    const problem p = problem::parse(std::string("shape=4x3,profile=") + name);
    reference::call_inputs in;
    in.x.assign(12, 1.0);
    in.gamma.assign(3, 1.0);
    in.beta.assign(3, 0.0);
    in.running_mean.assign(3, 0.0);
    in.running_var.assign(3, 1.0);
    EXPECT_TRUE(reference::forward(p, in).status.ok()) << name;
  }
}

// Only pytorch has a cumulative average: momentum=none is UNSUPPORTED elsewhere,
// in every mode (an eval call does not use the momentum, but the problem is not one
// of the profile's).
TEST(ReferenceErrorRules, MomentumNoneIsUnsupportedOutsidePytorch) {
  for (const char* name : {"onnx", "keras", "tf-fused", "flax"}) {
    for (const char* mode_text : {"train", "eval"}) {
      const problem p = problem::parse(std::string("shape=4x3,momentum=none,mode=") + mode_text +
                                       ",profile=" + name);
      reference::call_inputs in;
      in.x.assign(12, 1.0);
      in.gamma.assign(3, 1.0);
      in.beta.assign(3, 0.0);
      in.running_mean.assign(3, 0.0);
      in.running_var.assign(3, 1.0);
      const auto r = reference::forward(p, in);
      EXPECT_EQ(r.status.code, BNC_STATUS_UNSUPPORTED) << name << " " << mode_text;
      EXPECT_NE(r.status.message.find(name), std::string::npos) << r.status.message;
      EXPECT_TRUE(r.y.rounded.empty());
    }
  }
}

// m == 1 with batch statistics is an error in pytorch and onnx only
// (docs/semantics.md#conventions-by-profile): training, and eval without tracking.
TEST(ReferenceErrorRules, OneValuePerChannelIsAnErrorOnlyInPytorchAndOnnx) {
  for (const char* track : {"true", "false"}) {
    const std::string mode_text = std::string(track) == "true" ? "train" : "eval";
    for (const char* name : {"pytorch", "onnx", "keras", "tf-fused", "flax"}) {
      const problem p = problem::parse("shape=1x2,momentum=0.5,mode=" + mode_text +
                                       ",track=" + track + ",profile=" + name);
      reference::call_inputs in;
      in.x = {1, 2};
      in.gamma.assign(2, 1.0);
      in.beta.assign(2, 0.0);
      if (p.track_running_stats()) {
        in.running_mean.assign(2, 0.0);
        in.running_var.assign(2, 1.0);
      }
      const bool error = std::string(name) == "pytorch" || std::string(name) == "onnx";
      EXPECT_EQ(reference::forward(p, in).status.code,
                error ? BNC_STATUS_INVALID_PROBLEM : BNC_STATUS_OK)
          << name << " " << mode_text;
      in.dy = {1, 1};
      EXPECT_EQ(reference::backward(p, in).status.code,
                error ? BNC_STATUS_INVALID_PROBLEM : BNC_STATUS_OK)
          << name << " backward " << mode_text;
    }
  }
}

}  // namespace
}  // namespace bnconform
