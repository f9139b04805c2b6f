// `bnconform certify` as a user runs it: exit codes (0 certified, 1 not, 2 usage),
// the table on stdout, progress on stderr, and the files of --report.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "tests/support/command.hpp"

namespace bnconform {
namespace {

namespace fs = std::filesystem;
using testing::command_outcome;
using ::testing::HasSubstr;

command_outcome certify(const std::string& test, std::vector<std::string> args) {
  args.insert(args.begin(), "certify");
  return testing::run_command(BNCONFORM_EXECUTABLE, args,
                              testing::scratch_directory("bnconform_certify_command", test));
}

void expect_usage_error(const command_outcome& o, const std::string& expected) {
  EXPECT_EQ(o.exit_code, 2) << o.out << o.err;
  EXPECT_EQ(o.err.rfind("bnconform: error: ", 0), 0u) << o.err;
  EXPECT_THAT(o.err, HasSubstr(expected));
}

TEST(CertifyCommand, CertifiesTheCpuKernelAndWritesTheReport) {
  const fs::path report = testing::scratch_directory("bnconform_certify_command", "report");
  const command_outcome o = certify("cpu", {"--kernel", "cpu", "--level", "strict", "--budget", "0",
                                            "--report", report.string()});
  EXPECT_EQ(o.exit_code, 0) << o.out << o.err;
  EXPECT_THAT(o.out, HasSubstr("verdict: CERTIFIED at strict"));
  EXPECT_THAT(o.out, HasSubstr("forward-training   f32   channels_last   pass"));
  EXPECT_THAT(o.err, HasSubstr("certify: golden"));  // progress
  const nlohmann::json cert =
      nlohmann::json::parse(testing::file_text(report / "certificate.json"));
  EXPECT_EQ(cert.at("certified"), true);
  EXPECT_EQ(cert.at("kernel").at("library"), nullptr);
  EXPECT_EQ(cert.at("seed"), "1");
  const std::string junit = testing::file_text(report / "junit.xml");
  EXPECT_EQ(junit.rfind("<?xml", 0), 0u);
  EXPECT_THAT(junit, HasSubstr("<testsuite name=\"degenerate\""));
}

TEST(CertifyCommand, AFailingKernelExitsOneWithItsReproLine) {
  const command_outcome o = certify("racy", {"--kernel", "mutant-racy-reduction", "--fail-fast"});
  EXPECT_EQ(o.exit_code, 1) << o.err;
  EXPECT_THAT(o.out, HasSubstr("nondeterministic"));
  EXPECT_THAT(o.out, HasSubstr("repro: bnconform certify --kernel mutant-racy-reduction --level "
                               "standard --seed 1 --only '"));
  EXPECT_THAT(o.out, HasSubstr("verdict: NOT CERTIFIED"));
}

TEST(CertifyCommand, BadArgumentsAreUsageErrors) {
  expect_usage_error(certify("level", {"--kernel", "cpu", "--level", "loose"}), "--level");
  expect_usage_error(certify("profile", {"--kernel", "cpu", "--profile", "keras"}), "--profile");
  expect_usage_error(certify("missing", {"--kernel", "/no/such/kernel.so"}), "is not a file");
  expect_usage_error(certify("name", {"--kernel", "no-such-kernel"}), "no-such-kernel");
  expect_usage_error(certify("only", {"--kernel", "cpu", "--only", "golden/none"}), "--only");
  expect_usage_error(certify("group", {"--kernel", "cpu", "--groups", "coverage,nope"}), "nope");
  expect_usage_error(certify("golden", {"--kernel", "cpu", "--golden", "/no/such/dir"}),
                     "/no/such/dir");
}

}  // namespace
}  // namespace bnconform
