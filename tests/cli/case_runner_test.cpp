#include "core/case_runner.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <string>

#include "reference/reference_kernel.hpp"

namespace bnconform {
namespace {

const named_tensor& find(const std::vector<named_tensor>& tensors, const std::string& name) {
  for (const named_tensor& t : tensors) {
    if (t.name == name) return t;
  }
  throw std::runtime_error("no tensor " + name);
}

std::vector<double> values_of(const std::vector<named_tensor>& tensors, const std::string& name) {
  return find(tensors, name).values.values();
}

TEST(CaseRunnerTest, TrainEvalTrainKeepsTheModuleState) {
  const case_file c = parse_case(R"({
    "problem": "shape=2x2,dtype=f64,momentum=0.5",
    "steps": [
      {"op": "forward", "x": [1, 10, 3, 30]},
      {"op": "forward", "mode": "eval", "x": [5, 50, 7, 70]},
      {"op": "backward", "mode": "eval", "dy": [1, 1, 1, 1]},
      {"op": "forward", "x": [0, 0, 4, 40]}
    ]})",
                                 "seq.json");
  const kernel k(reference::reference_kernel());
  const case_result r = run_case(k, c);
  ASSERT_EQ(r.steps.size(), 4u);
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.kernel_name, "reference");
  EXPECT_EQ(r.case_name, "seq.json");
  // Training: mean (2, 20), unbiased var (2, 200), momentum 0.5 from (0, 1).
  EXPECT_EQ(values_of(r.steps[0].state, "running_mean"), (std::vector<double>{1, 10}));
  EXPECT_EQ(values_of(r.steps[0].state, "running_var"), (std::vector<double>{1.5, 100.5}));
  EXPECT_EQ(r.steps[0].num_batches_tracked, 1);
  // Eval moves nothing and saves no statistics.
  EXPECT_EQ(values_of(r.steps[1].state, "running_mean"), (std::vector<double>{1, 10}));
  EXPECT_EQ(values_of(r.steps[1].state, "running_var"), (std::vector<double>{1.5, 100.5}));
  EXPECT_EQ(r.steps[1].num_batches_tracked, 1);
  EXPECT_EQ(r.steps[1].outputs.size(), 1u);
  EXPECT_EQ(r.steps[1].problem, c.steps[1].prob.to_string());
  // The eval backward is dy * gamma * invstd, with the running var 1.5.
  EXPECT_FALSE(r.steps[2].has_state);
  EXPECT_EQ(values_of(r.steps[2].outputs, "dbeta"), (std::vector<double>{2, 2}));
  // The second training step counts: mean (2, 20), var (8, 800).
  EXPECT_EQ(values_of(r.steps[3].state, "running_mean"), (std::vector<double>{1.5, 15}));
  EXPECT_EQ(values_of(r.steps[3].state, "running_var"), (std::vector<double>{4.75, 450.25}));
  EXPECT_EQ(r.steps[3].num_batches_tracked, 2);
  EXPECT_EQ(values_of(r.steps[3].outputs, "save_mean"), (std::vector<double>{2, 20}));
}

TEST(CaseRunnerTest, SingleValueTrainingFailsAndMovesNothing) {
  const case_file c = parse_case(R"({
    "problem": "shape=1x2,dtype=f32",
    "state": {"running_mean": [0.5, -0.5], "num_batches_tracked": 3},
    "steps": [
      {"op": "forward", "x": [1, 2]},
      {"op": "backward", "dy": [1, 1]},
      {"op": "forward", "mode": "eval", "x": [1, 2]}
    ]})",
                                 "single.json");
  const kernel k(reference::reference_kernel());
  const case_result r = run_case(k, c);
  ASSERT_EQ(r.steps.size(), 3u);
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.steps[0].status, "invalid_problem");
  EXPECT_FALSE(r.steps[0].message.empty());
  EXPECT_TRUE(r.steps[0].outputs.empty());
  EXPECT_EQ(values_of(r.steps[0].state, "running_mean"), (std::vector<double>{0.5, -0.5}));
  EXPECT_EQ(values_of(r.steps[0].state, "running_var"), (std::vector<double>{1, 1}));
  EXPECT_EQ(r.steps[0].num_batches_tracked, 3);
  EXPECT_EQ(r.steps[1].status, "skipped");  // its saved statistics never existed
  EXPECT_EQ(r.steps[2].status, "ok");       // the run goes on
  EXPECT_EQ(r.steps[2].num_batches_tracked, 3);
}

TEST(CaseRunnerTest, BackwardTakesExplicitSavedStatistics) {
  const case_file c = parse_case(R"({
    "problem": "shape=2x1,dtype=f64,affine=false,eps=0",
    "steps": [{"op": "backward", "x": [1, -1], "dy": [1, 0],
               "save_mean": [0], "save_invstd": [1]}]})",
                                 "saved.json");
  const case_result r = run_case(kernel(reference::reference_kernel()), c);
  ASSERT_TRUE(r.ok()) << r.steps[0].message;
  // The saved statistics are exact (eps = 0): xhat = x, and
  // dx = (2 dy - sum dy - xhat * sum(dy xhat)) / 2 = 0.
  EXPECT_EQ(values_of(r.steps[0].outputs, "dx"), (std::vector<double>{0, 0}));
  EXPECT_EQ(r.steps[0].outputs.size(), 1u);  // no dgamma, dbeta without affine
}

// A kernel that breaks the ABI: it fails, but moves the state first.
bnc_status failing_forward(void*, const bnc_problem*, const bnc_forward_args* args, char* message,
                           std::size_t size) {
  static_cast<float*>(args->running_mean)[0] = 42.0f;
  ++*args->num_batches_tracked;
  std::strncpy(message, "broken on purpose", size);
  return BNC_STATUS_INTERNAL_ERROR;
}
bnc_status unused_backward(void*, const bnc_problem*, const bnc_backward_args*, char*,
                           std::size_t) {
  return BNC_STATUS_INTERNAL_ERROR;
}

const bnc_kernel broken_kernel = {
    BNC_ABI_VERSION,
    sizeof(bnc_kernel),
    "broken",
    "1",
    {BNC_OP_FORWARD_TRAINING | BNC_OP_FORWARD_EVAL, BNC_BIT(BNC_DTYPE_F32),
     BNC_BIT(BNC_LAYOUT_CHANNELS_FIRST), BNC_BIT(BNC_PROFILE_PYTORCH), 2, 8, BNC_MEMORY_HOST, 1},
    nullptr,
    failing_forward,
    unused_backward,
    0};

TEST(CaseRunnerTest, AFailedStepLeavesTheStateAsItWas) {
  const case_file c = parse_case(R"({"problem": "shape=2x1", "steps": [
      {"op": "forward", "x": [1, 2]},
      {"op": "backward", "x": [1, 2], "dy": [1, 1], "save_mean": [0], "save_invstd": [1]}]})",
                                 "broken.json");
  const case_result r = run_case(kernel(&broken_kernel), c);
  ASSERT_EQ(r.steps.size(), 2u);
  EXPECT_EQ(r.steps[0].status, "internal_error");
  EXPECT_NE(r.steps[0].message.find("broken on purpose"), std::string::npos);
  EXPECT_NE(r.steps[0].message.find("restored"), std::string::npos);
  EXPECT_EQ(values_of(r.steps[0].state, "running_mean"), (std::vector<double>{0}));
  EXPECT_EQ(r.steps[0].num_batches_tracked, 0);
  // Backward is not declared: reported, never called.
  EXPECT_EQ(r.steps[1].status, "unsupported");
  EXPECT_NE(r.steps[1].message.find("not declared"), std::string::npos);
}

}  // namespace
}  // namespace bnconform
