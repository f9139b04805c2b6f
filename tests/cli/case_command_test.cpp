// Runs the built bnconform executable as a user would: exit codes 0 (every step
// ok), 1 (a step failed) and 2 (usage or input error, one line on stderr).
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "tests/support/cli_expectations.hpp"

namespace {

namespace fs = std::filesystem;

using outcome = bnconform::testing::command_outcome;
using bnconform::testing::file_text;

constexpr const char* suite = "bnconform_case_command";
fs::path scratch(const std::string& name) { return bnconform::testing::scratch_file(suite, name); }
outcome run(const std::vector<std::string>& args) {
  return bnconform::testing::run_bnconform(suite, args);
}
using bnconform::testing::example_case;
using bnconform::testing::expect_usage_error;

TEST(CaseCommandTest, EveryExampleRunsWithTheExpectedExitCode) {
  int count = 0;
  for (const auto& entry :
       fs::directory_iterator(std::string(BNCONFORM_SOURCE_DIR) + "/examples/cases")) {
    if (entry.path().extension() != ".json") continue;
    ++count;
    SCOPED_TRACE(entry.path().string());
    const bool fails = entry.path().filename() == "invalid_single_value.json";
    const outcome o = run({"run", entry.path().string()});
    EXPECT_EQ(o.exit_code, fails ? 1 : 0) << o.err;
    EXPECT_TRUE(o.err.empty()) << o.err;
    const auto doc = nlohmann::json::parse(o.out);
    EXPECT_EQ(doc.at("ok"), !fails);
    EXPECT_EQ(doc.at("kernel"), "reference");
    EXPECT_EQ(doc.at("case"), entry.path().string());
  }
  EXPECT_GE(count, 4);
}

TEST(CaseCommandTest, AFailedStepStillPrintsEveryStep) {
  const outcome o = run({"run", example_case("invalid_single_value.json")});
  EXPECT_EQ(o.exit_code, 1);
  const auto doc = nlohmann::json::parse(o.out);
  ASSERT_EQ(doc.at("steps").size(), 3u);
  EXPECT_EQ(doc["steps"][0]["status"], "invalid_problem");
  EXPECT_EQ(doc["steps"][0]["state"]["num_batches_tracked"], 0);
  EXPECT_EQ(doc["steps"][2]["status"], "ok");
}

TEST(CaseCommandTest, InputErrorsExitWithTwoAndOneLine) {
  const fs::path bad = scratch("malformed.json");
  std::ofstream(bad) << "{\"problem\": \"shape=2x3\",\n \"steps\": [\n";
  expect_usage_error(run({"run", bad.string()}), "malformed JSON: parse error at line 3");
  expect_usage_error(run({"run", "/nonexistent/case.json"}), "/nonexistent/case.json: cannot open");
  expect_usage_error(run({"run", example_case("train_eval_backward.json"), "--kernel", "nosuch"}),
                     "unknown kernel 'nosuch'");
  expect_usage_error(
      run({"run", example_case("train_eval_backward.json"), "--kernel", "./nosuch.so"}),
      "nosuch.so");
  expect_usage_error(run({"run", example_case("train_eval_backward.json"), "--precision", "100"}),
                     "--precision");
  expect_usage_error(run({"run", "--problem", "shape=2x3,eps=nan"}), "--problem: eps");
  expect_usage_error(run({"run"}), "give a case file or --problem");
  expect_usage_error(run({"run", "--bogus"}), "bogus");
  expect_usage_error(run({}), "subcommand");
}

TEST(CaseCommandTest, VersionAndHelp) {
  const outcome version = run({"--version"});
  EXPECT_EQ(version.exit_code, 0);
  EXPECT_NE(version.out.find("bnconform "), std::string::npos);
  const outcome help = run({"--help"});
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.out.find("run"), std::string::npos);
  const outcome run_help = run({"run", "--help"});
  EXPECT_EQ(run_help.exit_code, 0);
  EXPECT_NE(run_help.out.find("--print-case"), std::string::npos);
}

TEST(CaseCommandTest, APrintedCaseRunsLikeTheProblemItCameFrom) {
  const std::string problem = "shape=3x2x2,layout=channels_last,dtype=f16,mode=train";
  const outcome direct = run({"run", "--problem", problem, "--seed", "9"});
  ASSERT_EQ(direct.exit_code, 0) << direct.err;
  const fs::path printed = scratch("printed.json");
  const outcome print = run(
      {"run", "--problem", problem, "--seed", "9", "--print-case", "--output", printed.string()});
  ASSERT_EQ(print.exit_code, 0) << print.err;
  const outcome replay = run({"run", printed.string()});
  ASSERT_EQ(replay.exit_code, 0) << replay.err;
  auto a = nlohmann::json::parse(direct.out), b = nlohmann::json::parse(replay.out);
  EXPECT_EQ(a.at("steps").size(), 2u);
  EXPECT_EQ(a.at("steps"), b.at("steps"));
  const outcome other_seed = run({"run", "--problem", problem, "--seed", "10"});
  EXPECT_NE(nlohmann::json::parse(other_seed.out).at("steps"), a.at("steps"));
}

TEST(CaseCommandTest, OutputFileHexAndPluginKernel) {
  const std::string case_path = example_case("train_eval_backward.json");
  const outcome direct = run({"run", case_path, "--hex"});
  ASSERT_EQ(direct.exit_code, 0) << direct.err;
  EXPECT_NE(direct.out.find("\"0x1"), std::string::npos);
  const fs::path file = scratch("result.json");
  const outcome to_file = run({"run", case_path, "--hex", "--output", file.string()});
  EXPECT_EQ(to_file.exit_code, 0) << to_file.err;
  EXPECT_TRUE(to_file.out.empty());
  EXPECT_EQ(file_text(file), direct.out);
  // The same reference, loaded as a plugin, gives the same values.
  const outcome plugin = run({"run", case_path, "--hex", "--kernel", BNCONFORM_REFERENCE_PLUGIN});
  ASSERT_EQ(plugin.exit_code, 0) << plugin.err;
  EXPECT_EQ(nlohmann::json::parse(plugin.out).at("steps"),
            nlohmann::json::parse(direct.out).at("steps"));
}

}  // namespace

namespace bnconform {
namespace {

TEST(CaseCommandTest, DegenerateCatalogFromTheCommandLine) {
  const outcome passing = run({"degenerate", "constant-channel", "m1-training"});
  EXPECT_EQ(passing.exit_code, 0) << passing.out << passing.err;
  EXPECT_NE(passing.out.find("2 case(s) run against reference at strict: 0 failed"),
            std::string::npos)
      << passing.out;
  const outcome failing =
      run({"degenerate", "empty-batch", "--kernel", "mutant-counter-not-incremented"});
  EXPECT_EQ(failing.exit_code, 1) << failing.out;
  EXPECT_NE(failing.out.find("repro: bnconform degenerate empty-batch --kernel "
                             "mutant-counter-not-incremented"),
            std::string::npos)
      << failing.out;
  expect_usage_error(run({"degenerate", "no-such-case"}), "no degenerate case named");
  expect_usage_error(run({"degenerate", "--level", "loose"}), "--level");
}

}  // namespace
}  // namespace bnconform
