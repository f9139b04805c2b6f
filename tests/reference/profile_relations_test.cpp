// The relations between profiles (docs/semantics.md#relations-between-profiles) on
// the reference, for random calls: where the spec says "equal" the rounded results
// are bit for bit equal (equal exact values round alike). Relations 1 to 7, 9 to 11.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "core/rounding.hpp"
#include "reference/reference.hpp"
#include "support.hpp"

namespace bnconform {
namespace {

using testing::random_source;

bool same(const std::vector<double>& a, const std::vector<double>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (!same_value(a[i], b[i])) return false;
  }
  return true;
}

reference::call_inputs random_inputs(const problem& p, random_source& rng) {
  reference::call_inputs in;
  const auto c = static_cast<std::size_t>(p.channels());
  for (std::int64_t i = 0; i < p.element_count(); ++i) {
    in.x.push_back(round_to(rng.uniform(-2, 3), p.data_type()));
    in.dy.push_back(round_to(rng.uniform(-1, 1), p.data_type()));
  }
  for (std::size_t k = 0; k < c; ++k) {
    in.gamma.push_back(round_to(rng.uniform(-2, 2), p.stats_type()));
    in.beta.push_back(round_to(rng.uniform(-2, 2), p.stats_type()));
    in.running_mean.push_back(round_to(rng.uniform(-1, 1), p.stats_type()));
    in.running_var.push_back(round_to(rng.uniform(0.5, 2), p.stats_type()));
  }
  in.num_batches_tracked = 3;
  return in;
}

problem in_profile(const std::string& base, const char* profile, double momentum) {
  problem::fields f = problem::parse(base + ",profile=" + profile).spec();
  f.momentum = momentum;  // exactly this double
  return problem(f);
}

const char* const all[] = {"pytorch", "onnx", "keras", "tf-fused", "flax"};

std::vector<std::string> bases() {
  std::vector<std::string> out;
  for (const char* shape : {"shape=3x2x4", "shape=2x3", "shape=4x2x1x3"}) {
    for (const char* t : {"f64", "f32", "f16"}) {
      for (const char* l : {"cf", "cl"}) {
        out.push_back(std::string(shape) + ",dtype=" + t + ",layout=" + l + ",eps=0.01");
      }
    }
  }
  return out;
}

// Relations 1 to 4: normalization, backward, evaluation state and the counter are
// the same in all five profiles.
TEST(ReferenceProfileRelations, EverythingButTheRunningStatisticsIsShared) {
  random_source rng(11);
  for (const std::string& base : bases()) {
    for (const char* mode_text : {"train", "eval"}) {
      const std::string b = base + ",mode=" + mode_text;
      const reference::call_inputs in = random_inputs(problem::parse(b), rng);
      const problem first = in_profile(b, all[0], 0.25);
      const auto f0 = reference::forward(first, in);
      const auto b0 = reference::backward(first, in);
      ASSERT_TRUE(f0.status.ok() && b0.status.ok()) << b;
      for (const char* name : all) {
        const problem p = in_profile(b, name, 0.25);
        const auto f = reference::forward(p, in);
        const auto g = reference::backward(p, in);
        ASSERT_TRUE(f.status.ok() && g.status.ok()) << p.to_string();
        EXPECT_TRUE(same(f.y.rounded, f0.y.rounded)) << p.to_string();
        EXPECT_TRUE(same(f.save_mean.rounded, f0.save_mean.rounded)) << p.to_string();
        EXPECT_TRUE(same(f.save_invstd.rounded, f0.save_invstd.rounded)) << p.to_string();
        EXPECT_TRUE(same(g.dx.rounded, b0.dx.rounded)) << p.to_string();
        EXPECT_TRUE(same(g.dgamma.rounded, b0.dgamma.rounded)) << p.to_string();
        EXPECT_TRUE(same(g.dbeta.rounded, b0.dbeta.rounded)) << p.to_string();
        EXPECT_EQ(f.num_batches_tracked, f0.num_batches_tracked) << p.to_string();
        if (p.mode() == mode::eval) {
          EXPECT_TRUE(same(f.running_mean.rounded, in.running_mean)) << p.to_string();
          EXPECT_TRUE(same(f.running_var.rounded, in.running_var)) << p.to_string();
        }
      }
    }
  }
}

// Relations 5, 6, 7, 9 and 10 on the running statistics of a training call, with q
// in [0.5, 1] so that 1 - q is exact.
TEST(ReferenceProfileRelations, RunningStatisticsRelations) {
  random_source rng(12);
  for (const std::string& base : bases()) {
    const std::string b = base + ",mode=train";
    const reference::call_inputs in = random_inputs(problem::parse(b), rng);
    const double q = 0.5 + 0.5 * static_cast<double>(rng.below(1024)) / 1024;  // 1 - q exact
    const auto run = [&](const char* name, double momentum) {
      const auto r = reference::forward(in_profile(b, name, momentum), in);
      EXPECT_TRUE(r.status.ok()) << r.status.message;
      return r;
    };
    const auto onnx = run("onnx", q), keras = run("keras", q), flax = run("flax", q);
    // 5 and 10: onnx, keras and flax are one update (keras and flax in every output).
    EXPECT_TRUE(same(onnx.running_mean.rounded, keras.running_mean.rounded)) << b;
    EXPECT_TRUE(same(onnx.running_var.rounded, keras.running_var.rounded)) << b;
    EXPECT_TRUE(same(flax.running_mean.rounded, keras.running_mean.rounded)) << b;
    EXPECT_TRUE(same(flax.running_var.rounded, keras.running_var.rounded)) << b;
    EXPECT_TRUE(same(flax.y.rounded, keras.y.rounded)) << b;
    // 6: pytorch and tf-fused with the same f != 1 (m >= 2 here).
    const auto pytorch = run("pytorch", 1 - q), tf = run("tf-fused", 1 - q);
    EXPECT_TRUE(same(pytorch.running_mean.rounded, tf.running_mean.rounded)) << b;
    EXPECT_TRUE(same(pytorch.running_var.rounded, tf.running_var.rounded)) << b;
    // 7 and 9: momentum 1 - q in pytorch and tf-fused, q in onnx: equal running_mean.
    EXPECT_TRUE(same(pytorch.running_mean.rounded, onnx.running_mean.rounded)) << b;
    EXPECT_TRUE(same(tf.running_mean.rounded, keras.running_mean.rounded)) << b;
  }
}

// Relations 5, 6 and 9 at m == 1 and m == 0; relation 11: momentum=none.
TEST(ReferenceProfileRelations, DegenerateBatchesAndMomentumNone) {
  random_source rng(13);
  for (const char* shape : {"shape=1x3", "shape=0x3x2"}) {
    const std::string b = std::string(shape) + ",dtype=f32,mode=train";
    const reference::call_inputs in = random_inputs(problem::parse(b), rng);
    const auto keras = reference::forward(in_profile(b, "keras", 0.75), in);
    const auto flax = reference::forward(in_profile(b, "flax", 0.75), in);
    const auto tf = reference::forward(in_profile(b, "tf-fused", 0.25), in);
    const auto pytorch = reference::forward(in_profile(b, "pytorch", 0.25), in);
    const auto onnx = reference::forward(in_profile(b, "onnx", 0.75), in);
    ASSERT_TRUE(keras.status.ok() && flax.status.ok() && tf.status.ok()) << b;
    EXPECT_TRUE(same(keras.running_mean.rounded, flax.running_mean.rounded)) << b;
    EXPECT_TRUE(same(keras.running_var.rounded, flax.running_var.rounded)) << b;
    // 9: tf-fused with 1 - q equals keras with q at m == 1 (b = 1) and m == 0 (NaN).
    EXPECT_TRUE(same(tf.running_mean.rounded, keras.running_mean.rounded)) << b;
    EXPECT_TRUE(same(tf.running_var.rounded, keras.running_var.rounded)) << b;
    if (std::string(shape) == "shape=1x3") {
      EXPECT_EQ(pytorch.status.code, BNC_STATUS_INVALID_PROBLEM);
      EXPECT_EQ(onnx.status.code, BNC_STATUS_INVALID_PROBLEM);
    } else {
      // pytorch and onnx keep the running statistics; the others make them NaN.
      EXPECT_TRUE(same(pytorch.running_mean.rounded, in.running_mean));
      EXPECT_TRUE(same(onnx.running_var.rounded, in.running_var));
      EXPECT_TRUE(std::isnan(keras.running_mean.rounded[0]));
    }
  }
  const std::string b = "shape=4x2,dtype=f64,momentum=none";
  const reference::call_inputs in = random_inputs(problem::parse(b), rng);
  for (const char* name : all) {
    const auto r = reference::forward(problem::parse(b + ",profile=" + name), in);
    EXPECT_EQ(r.status.code,
              std::string(name) == "pytorch" ? BNC_STATUS_OK : BNC_STATUS_UNSUPPORTED)
        << name;
  }
}

}  // namespace
}  // namespace bnconform
