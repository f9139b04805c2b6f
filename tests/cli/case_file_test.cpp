#include "core/case_file.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "core/error.hpp"
#include "core/rounding.hpp"

namespace bnconform {
namespace {

const char* const good_case = R"({
  "description": "a good case",
  "problem": "shape=2x3,dtype=f32",
  "state": {"gamma": [1, 2, "0x1.8p+1"], "running_var": [1, 1, 0.5],
            "num_batches_tracked": 4},
  "steps": [
    {"op": "forward", "x": [0.1, -0, "-0", "nan", "inf", -1e-50]},
    {"op": "backward", "dy": [1, 2, 3, 4, 5, 6]},
    {"op": "forward", "mode": "eval", "shape": [1, 3], "x": [1, 2, 3]},
    {"op": "backward", "mode": "eval", "shape": [1, 3], "x": [1, 2, 3], "dy": [0, 0, 1]},
    {"op": "backward", "x": [1, 2, 3, 4, 5, 6], "dy": [1, 1, 1, 1, 1, 1],
     "save_mean": [0, 0, 0], "save_invstd": [1, 1, 1]}
  ]
})";

TEST(CaseFileTest, ReadsAGoodFile) {
  const case_file c = parse_case(good_case, "good.json");
  EXPECT_EQ(c.path, "good.json");
  EXPECT_EQ(c.description, "a good case");
  EXPECT_EQ(c.base, problem::parse("shape=2x3"));
  ASSERT_TRUE(c.state_given);
  EXPECT_EQ(c.state.gamma.values(), (std::vector<double>{1, 2, 3}));
  EXPECT_EQ(c.state.beta.values(), (std::vector<double>{0, 0, 0}));  // default
  EXPECT_EQ(c.state.running_mean.values(), (std::vector<double>{0, 0, 0}));
  EXPECT_EQ(c.state.running_var.values(), (std::vector<double>{1, 1, 0.5}));
  EXPECT_EQ(c.state.num_batches_tracked, 4);
  ASSERT_EQ(c.steps.size(), 5u);

  const tensor& x = *c.steps[0].x;
  EXPECT_EQ(x.type(), dtype::f32);
  EXPECT_EQ(x.get(0), static_cast<double>(0.1f));        // rounded to the dtype
  EXPECT_TRUE(x.get(1) == 0 && std::signbit(x.get(1)));  // -0 as a number keeps its sign
  EXPECT_TRUE(x.get(2) == 0 && std::signbit(x.get(2)));
  EXPECT_TRUE(std::isnan(x.get(3)));
  EXPECT_EQ(x.get(4), INFINITY);
  EXPECT_TRUE(x.get(5) == 0 && std::signbit(x.get(5)));  // underflows in f32

  EXPECT_EQ(c.steps[1].op, step_op::backward);
  EXPECT_FALSE(c.steps[1].x.has_value());
  EXPECT_EQ(c.steps[1].latest_forward, 0u);
  EXPECT_EQ(c.steps[2].prob, problem::parse("shape=1x3,mode=eval"));
  EXPECT_EQ(c.steps[3].latest_forward, 2u);
  EXPECT_TRUE(c.steps[4].save_mean.has_value());
}

TEST(CaseFileTest, WritesBackExactly) {
  const case_file c = parse_case(good_case, "good.json");
  for (bool hex : {false, true}) {
    const case_file back = parse_case(to_json(c, hex), "back.json");
    EXPECT_EQ(back.base, c.base);
    EXPECT_EQ(back.description, c.description);
    EXPECT_TRUE(back.state.gamma.bitwise_equal(c.state.gamma));
    EXPECT_TRUE(back.state.running_var.bitwise_equal(c.state.running_var));
    EXPECT_EQ(back.state.num_batches_tracked, c.state.num_batches_tracked);
    ASSERT_EQ(back.steps.size(), c.steps.size());
    for (std::size_t i = 0; i < c.steps.size(); ++i) {
      SCOPED_TRACE(i);
      EXPECT_EQ(back.steps[i].prob, c.steps[i].prob);
      EXPECT_EQ(back.steps[i].x.has_value(), c.steps[i].x.has_value());
      if (c.steps[i].x) {
        EXPECT_TRUE(back.steps[i].x->bitwise_equal(*c.steps[i].x));
      }
      EXPECT_TRUE(back.steps[i].dy.bitwise_equal(c.steps[i].dy));
    }
  }
}

// The message of the error that parsing `text` throws.
std::string error_of(const std::string& text) {
  try {
    parse_case(text, "bad.json");
  } catch (const error& e) {
    return e.what();
  }
  return "(no error)";
}

void expect_error(const std::string& text, const std::string& expected) {
  const std::string message = error_of(text);
  EXPECT_EQ(message.rfind("bad.json: ", 0), 0u) << message;
  EXPECT_NE(message.find(expected), std::string::npos) << message;
  EXPECT_EQ(message.find('\n'), std::string::npos) << message;
}

std::string with_steps(const std::string& problem, const std::string& steps) {
  return R"({"problem": ")" + problem + R"(", "steps": [)" + steps + "]}";
}

const std::string forward = R"({"op": "forward", "x": [1, 2, 3, 4, 5, 6]})";

TEST(CaseFileTest, MalformedJsonGivesThePosition) {
  expect_error("{\"problem\": \"shape=2x3\",\n \"steps\": [}", "line 2, column 12");
  expect_error("", "malformed JSON");
  expect_error(with_steps("shape=2x3", R"({"op": "forward", "x": [1e999]})"), "1e999");
}

TEST(CaseFileTest, RejectsUnknownKeys) {
  expect_error(with_steps("shape=2x3", R"({"op": "forward", "x": [1, 2, 3, 4, 5, 6], "dx": 1})"),
               "steps[0]: unknown key \"dx\"");
  expect_error(R"({"problem": "shape=2x3", "steps": [], "extra": 1})", "unknown key \"extra\"");
  expect_error(R"({"problem": "shape=2x3", "state": {"mean": []}, "steps": [)" + forward + "]}",
               "state: unknown key \"mean\"");
  expect_error(with_steps("shape=2x3", R"({"op": "forward", "dy": [], "x": []})"),
               "steps[0]: key \"dy\" is only for backward steps");
  expect_error(R"({"problem": "shape=2x3", "problem": "shape=2x3", "steps": []})",
               "duplicate key \"problem\"");
}

TEST(CaseFileTest, RejectsWrongSizes) {
  expect_error(with_steps("shape=2x3", forward + R"(, {"op": "backward", "dy": [1, 2]})"),
               "steps[1].dy: expected 6 values");
  expect_error(R"({"problem": "shape=2x3", "state": {"beta": [1]}, "steps": [)" + forward + "]}",
               "state.beta: expected 3 values");
}

TEST(CaseFileTest, RejectsWrongTypes) {
  expect_error(with_steps("shape=2x3", R"({"op": "forward", "x": [1, 2, 3, 4, 5, true]})"),
               "steps[0].x[5]: expected a number or a string");
  expect_error(with_steps("shape=2x3", R"({"op": "forward", "x": [1, 2, 3, 4, 5, "one"]})"),
               "steps[0].x[5]: 'one' is not a number");
  expect_error(R"({"problem": 7, "steps": []})", "problem: expected a problem string, got number");
  expect_error(with_steps("shape=2x3", R"({"op": "forward", "x": {}})"),
               "steps[0].x: expected an array");
  expect_error(with_steps("shape=2x3", R"({"op": "sideways", "x": []})"), "steps[0].op");
  expect_error(with_steps("shape=2x3", R"({"op": "forward", "mode": "test", "x": []})"),
               "steps[0].mode");
  expect_error("[]", "top level: expected a JSON object, got array");
}

TEST(CaseFileTest, RejectsMissingOrEmptySteps) {
  expect_error(R"({"problem": "shape=2x3"})", "missing required key \"steps\"");
  expect_error(R"({"problem": "shape=2x3", "steps": []})", "at least one step");
  expect_error(R"({"steps": [)" + forward + "]}", "missing required key \"problem\"");
  expect_error(with_steps("shape=2x3", R"({"x": []})"), "steps[0]: missing required key \"op\"");
}

TEST(CaseFileTest, RejectsABackwardWithNothingToTakeFrom) {
  expect_error(with_steps("shape=2x3", R"({"op": "backward", "dy": [1, 2, 3, 4, 5, 6]})"),
               "steps[0]: backward has no \"x\" and no earlier forward");
  expect_error(with_steps("shape=2x3", R"({"op": "backward", "x": [1, 2, 3, 4, 5, 6],
                                           "dy": [1, 2, 3, 4, 5, 6]})"),
               "steps[0]: backward in batch-statistics mode needs an earlier forward");
  // The latest forward used running statistics, so it saved none.
  expect_error(
      with_steps("shape=2x3", R"({"op": "forward", "mode": "eval", "x": [1, 2, 3, 4, 5, 6]},
                                          {"op": "backward", "dy": [1, 2, 3, 4, 5, 6]})"),
      "steps[1]: backward in batch-statistics mode, but steps[0] used running statistics");
  expect_error(with_steps("shape=2x3", forward + R"(, {"op": "backward", "shape": [1, 3],
                                                       "dy": [1, 2, 3]})"),
               "steps[1]: backward has no \"x\" and its shape 1x3 differs");
}

TEST(CaseFileTest, RejectsStateTheProblemDoesNotHave) {
  expect_error(R"({"problem": "shape=2x3,affine=false", "state": {"gamma": [1, 1, 1]},
                   "steps": [)" +
                   forward + "]}",
               "state.gamma: given but the problem has affine=false");
  expect_error(R"({"problem": "shape=2x3,track=false", "state": {"running_mean": [0, 0, 0]},
                   "steps": [)" +
                   forward + "]}",
               "state.running_mean: given but the problem has track=false");
  expect_error(R"({"problem": "shape=2x3", "state": {"num_batches_tracked": -1},
                   "steps": [)" +
                   forward + "]}",
               "state.num_batches_tracked: expected a non-negative integer");
}

TEST(CaseFileTest, RejectsBadProblems) {
  expect_error(with_steps("shape=2x3,eps=nan", forward), "problem: eps: must be finite");
  expect_error(with_steps("shape=2x3,colour=red", forward), "problem: problem string: unknown key");
  expect_error(with_steps("shape=2x3", R"({"op": "forward", "shape": [2, 4], "x": []})"),
               "steps[0].shape: must be [N, C, ...] with C = 3");
  expect_error(with_steps("shape=2x3", R"({"op": "forward", "shape": [2, 3, -1], "x": []})"),
               "steps[0].shape[2]: expected a non-negative integer");
}

TEST(CaseFileTest, MissingFileNamesThePath) {
  try {
    read_case_file("/nonexistent/case.json");
    FAIL() << "no error";
  } catch (const error& e) {
    EXPECT_EQ(std::string(e.what()).rfind("/nonexistent/case.json: cannot open", 0), 0u)
        << e.what();
  }
}

}  // namespace
}  // namespace bnconform
