// `bnconform check` as a user runs it: a case file (sequences included) or a problem
// string judged against a kernel, the verdict and the repro line on stdout, exit
// codes 0 (pass), 1 (fail), 2 (usage or input error, one line on stderr); and
// --oracle on every command that judges.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "tests/support/cli_expectations.hpp"

namespace {

namespace fs = std::filesystem;
using outcome = bnconform::testing::command_outcome;

constexpr const char* suite = "bnconform_check_command";
fs::path scratch(const std::string& name) { return bnconform::testing::scratch_file(suite, name); }
outcome run(const std::vector<std::string>& args) {
  return bnconform::testing::run_bnconform(suite, args);
}
using bnconform::testing::example_case;
using bnconform::testing::expect_usage_error;

TEST(CheckCommand, ASequenceCaseFileOnTheCpuKernelPasses) {
  const outcome o = run({"check", example_case("train_eval_backward.json"), "--kernel", "cpu"});
  EXPECT_EQ(o.exit_code, 0) << o.out << o.err;
  EXPECT_NE(o.out.find("check: pass at strict"), std::string::npos) << o.out;
  EXPECT_NE(o.out.find("repro: bnconform check '" + example_case("train_eval_backward.json") +
                       "' --kernel 'cpu' --level strict"),
            std::string::npos)
      << o.out;
}

TEST(CheckCommand, AMutantFailsWithItsReasonAndRepro) {
  const outcome o = run({"check", "--problem", "shape=8x3x5,dtype=f32", "--seed", "3", "--kernel",
                         "mutant-flipped-momentum"});
  EXPECT_EQ(o.exit_code, 1) << o.out << o.err;
  EXPECT_NE(o.out.find("check: fail"), std::string::npos) << o.out;
  EXPECT_NE(o.out.find("reason: "), std::string::npos) << o.out;
  EXPECT_NE(o.out.find("repro: bnconform check --problem 'shape=8x3x5,dtype=f32' --seed 3"),
            std::string::npos)
      << o.out;
}

TEST(CheckCommand, AFailureWithNoElementBeyondItsBudgetShowsNoRatio) {
  // The tail of y is left unwritten (the harness's NaN sentinel): a non-finite
  // mismatch and a guard finding, while every written element is within budget.
  const outcome o = run({"check", "--problem", "shape=8x3x5,dtype=f32", "--seed", "3", "--kernel",
                         "mutant-unwritten-tail"});
  EXPECT_EQ(o.exit_code, 1) << o.out << o.err;
  EXPECT_EQ(o.out.rfind("check: fail at strict, worst budget ratio n/a (no element beyond its "
                        "budget: see the reason)",
                        0),
            0u)
      << o.out;
  // A failure that does exceed a budget keeps its figure.
  const outcome budget = run({"check", "--problem", "shape=8x3x5,dtype=f32", "--seed", "3",
                              "--kernel", "mutant-eps-outside-sqrt"});
  EXPECT_EQ(budget.exit_code, 1) << budget.out << budget.err;
  EXPECT_EQ(budget.out.rfind("check: fail at strict, worst budget ratio ", 0), 0u) << budget.out;
  EXPECT_EQ(budget.out.find("n/a"), std::string::npos) << budget.out;
}

TEST(CheckCommand, BothOraclesGiveTheSameVerdict) {
  for (const char* kernel : {"cpu", "mutant-flipped-momentum"}) {
    const std::vector<std::string> base = {"check", example_case("momentum_none.json"), "--kernel",
                                           kernel};
    std::vector<std::string> mp = base;
    mp.insert(mp.end(), {"--oracle", "multiprecision"});
    const outcome a = run(base);
    const outcome b = run(mp);
    EXPECT_EQ(a.exit_code, b.exit_code) << kernel;
    const auto verdict = [](const std::string& out) { return out.substr(0, out.find('\n')); };
    EXPECT_EQ(verdict(a.out), verdict(b.out)) << kernel;
    EXPECT_NE(b.out.find("--oracle multiprecision"), std::string::npos) << b.out;
  }
}

// A case file that certify or fuzz wrote names the kernel that failed it and the
// level: check takes them when no --kernel or --level is given.
TEST(CheckCommand, ACaseFilesFindingGivesTheKernelAndLevel) {
  const fs::path file = scratch("with-finding.json");
  std::string text = bnconform::testing::file_text(example_case("momentum_none.json"));
  text.insert(text.rfind('}'),
              ",\"finding\": {\"kernel\": \"mutant-flipped-momentum\", \"level\": \"standard\", "
              "\"verdict\": \"fail\", \"reason\": \"running_mean\", \"seed\": \"0x1/0\", "
              "\"repro\": \"\"}\n");
  std::ofstream(file) << text;
  const outcome found = run({"check", file.string()});
  EXPECT_EQ(found.exit_code, 1) << found.out << found.err;
  EXPECT_EQ(found.out.rfind("check: fail at standard", 0), 0u) << found.out;
  EXPECT_NE(found.out.find("--kernel 'mutant-flipped-momentum' --level standard"),
            std::string::npos)
      << found.out;
  // What the command line gives wins.
  const outcome given = run({"check", file.string(), "--kernel", "cpu", "--level", "strict"});
  EXPECT_EQ(given.exit_code, 0) << given.out << given.err;
  EXPECT_EQ(given.out.rfind("check: pass at strict", 0), 0u) << given.out;
}

TEST(CheckCommand, BadInputIsOneLineAndExitTwo) {
  const fs::path bad = scratch("malformed.json");
  std::ofstream(bad) << "{\"problem\": \"shape=2x3\",\n \"steps\": [\n";
  expect_usage_error(run({"check", bad.string(), "--kernel", "cpu"}), bad.string());
  expect_usage_error(
      run({"check", example_case("momentum_none.json"), "--kernel", "cpu", "--oracle", "bogus"}),
      "--oracle");
  expect_usage_error(
      run({"check", example_case("momentum_none.json"), "--kernel", "cpu", "--level", "lenient"}),
      "--level");
  expect_usage_error(run({"check", example_case("momentum_none.json")}), "--kernel");
  expect_usage_error(run({"check", "--problem", "shape=2x3"}), "--kernel");
  expect_usage_error(run({"check", "--kernel", "cpu"}), "give a case file or --problem");
  expect_usage_error(run({"certify", "--kernel", "cpu", "--oracle", "fast"}), "--oracle");
  expect_usage_error(run({"run", example_case("momentum_none.json"), "--oracle", "fast"}),
                     "--oracle");
}

}  // namespace
