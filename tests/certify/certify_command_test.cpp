// `bnconform certify` as a user runs it: exit codes (0 certified, 1 not, 2 usage),
// the table on stdout, progress on stderr, and the files of --report.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "tests/support/command.hpp"

namespace bnconform {
namespace {

namespace fs = std::filesystem;
using testing::command_outcome;
using ::testing::HasSubstr;
using ::testing::Not;

command_outcome certify(const std::string& test, std::vector<std::string> args) {
  args.insert(args.begin(), "certify");
  return testing::run_command(BNCONFORM_EXECUTABLE, args,
                              testing::scratch_directory("bnconform_certify_command", test));
}

const std::string small_shapes =
    std::string(BNCONFORM_SOURCE_DIR) + "/tests/certify/small_shapes.txt";

void expect_usage_error(const command_outcome& o, const std::string& expected) {
  EXPECT_EQ(o.exit_code, 2) << o.out << o.err;
  EXPECT_EQ(o.err.rfind("bnconform: error: ", 0), 0u) << o.err;
  EXPECT_THAT(o.err, HasSubstr(expected));
}

TEST(CertifyCommand, CertifiesTheCpuKernelAndWritesTheReport) {
  const fs::path report = testing::scratch_directory("bnconform_certify_command", "report");
  const command_outcome o =
      certify("cpu", {"--kernel", "cpu", "--level", "strict", "--budget", "0", "--report",
                      report.string(), "--shapes", small_shapes, "--jobs", "2"});
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
  EXPECT_THAT(junit, HasSubstr("realistic/shapes:3/4x24x5x5 bf16 channels_last train"));
  const std::string html = testing::file_text(report / "report.html");
  EXPECT_EQ(html.rfind("<!DOCTYPE html>", 0), 0u);
  EXPECT_THAT(html, HasSubstr("data-verdict=\"certified\">CERTIFIED</span>"));
  std::size_t cells = 0;
  for (std::size_t at = html.find("data-cell=\""); at != std::string::npos;
       at = html.find("data-cell=\"", at + 1)) {
    ++cells;
  }
  EXPECT_EQ(cells, cert.at("cells").size());
}

TEST(CertifyCommand, AFailingKernelExitsOneWithItsReproLine) {
  const command_outcome o = certify("racy", {"--kernel", "mutant-racy-reduction", "--fail-fast"});
  EXPECT_EQ(o.exit_code, 1) << o.err;
  EXPECT_THAT(o.out, HasSubstr("nondeterministic"));
  EXPECT_THAT(o.out, HasSubstr("repro: bnconform certify --kernel mutant-racy-reduction --level "
                               "standard --seed 1 --only '"));
  EXPECT_THAT(o.out, HasSubstr("verdict: NOT CERTIFIED"));
}

#ifdef BNCONFORM_FAULTY_CHATTY
// What the kernel prints reaches neither the terminal's progress nor the summary
// but as the failing item's excerpt; the report holds the first 4 KiB.
TEST(CertifyCommand, TheKernelsOutputIsCapturedNotSpilled) {
  const fs::path report = testing::scratch_directory("bnconform_certify_command", "chatty");
  const command_outcome o = certify(
      "chatty", {"--kernel", BNCONFORM_FAULTY_CHATTY, "--only",
                 "coverage/forward-training f32 channels_last", "--report", report.string()});
  EXPECT_EQ(o.exit_code, 1) << o.out << o.err;
  EXPECT_THAT(o.err, Not(HasSubstr("faulty-chatty: line")));
  EXPECT_THAT(o.err, Not(HasSubstr("last words on stderr")));
  EXPECT_THAT(o.out, HasSubstr("kernel output: 4096 bytes (7740 more dropped):"));
  EXPECT_THAT(o.out, HasSubstr("      | faulty-chatty: line   3 of 200"));
  EXPECT_THAT(o.out, Not(HasSubstr("line   4 of 200")));  // an excerpt: three lines
  const nlohmann::json cert =
      nlohmann::json::parse(testing::file_text(report / "certificate.json"));
  const nlohmann::json& output = cert.at("items").at(0).at("output");
  EXPECT_EQ(output.at("text").get<std::string>().size(), 4096u);
  EXPECT_EQ(output.at("dropped_bytes"), 7740);
  EXPECT_EQ(cert.at("failures").at(0).at("output"), output);
  EXPECT_THAT(testing::file_text(report / "junit.xml"),
              HasSubstr("<system-out>kernel output: 4096 bytes (7740 more dropped)"));
  EXPECT_THAT(testing::file_text(report / "report.html"),
              HasSubstr("<pre>faulty-chatty: line   1 of 200"));
}
#endif

TEST(CertifyCommand, BadArgumentsAreUsageErrors) {
  expect_usage_error(certify("level", {"--kernel", "cpu", "--level", "loose"}), "--level");
  expect_usage_error(certify("profile", {"--kernel", "cpu", "--profile", "kears"}),
                     "--profile: unknown profile 'kears' (profiles: pytorch, onnx, keras, "
                     "tf-fused, flax, or all)");
  expect_usage_error(certify("profile-list", {"--kernel", "cpu", "--profile", "pytorch,mxnet"}),
                     "'mxnet'");
  expect_usage_error(certify("missing", {"--kernel", "/no/such/kernel.so"}), "is not a file");
  expect_usage_error(certify("name", {"--kernel", "no-such-kernel"}), "no-such-kernel");
  expect_usage_error(certify("only", {"--kernel", "cpu", "--only", "golden/none"}), "--only");
  expect_usage_error(certify("group", {"--kernel", "cpu", "--groups", "coverage,nope"}), "nope");
  expect_usage_error(certify("golden", {"--kernel", "cpu", "--golden", "/no/such/dir"}),
                     "/no/such/dir");
  expect_usage_error(certify("jobs", {"--kernel", "cpu", "--jobs", "0"}), "--jobs");
  expect_usage_error(certify("shapes", {"--kernel", "cpu", "--shapes", "/no/such/shapes.txt"}),
                     "/no/such/shapes.txt: cannot be read");
}

// An unknown profile is one line on stderr, exit 2, and nothing written.
TEST(CertifyCommand, AnUnknownProfileWritesNothing) {
  const fs::path report =
      testing::scratch_directory("bnconform_certify_command", "bad-profile") / "report";
  const command_outcome o =
      certify("bad-profile-report",
              {"--kernel", "cpu", "--profile", "all,caffe", "--report", report.string()});
  expect_usage_error(o, "unknown profile 'caffe'");
  EXPECT_EQ(std::count(o.err.begin(), o.err.end(), '\n'), 1) << o.err;
  EXPECT_TRUE(o.out.empty()) << o.out;
  EXPECT_FALSE(fs::exists(report));
}

// Several profiles: one certificate with a row per profile; a profile the kernel
// does not declare (the example kernel implements pytorch only) is "not
// implemented", not a failure.
TEST(CertifyCommand, SeveralProfilesGiveOneCertificateWithARowEach) {
  const fs::path report = testing::scratch_directory("bnconform_certify_command", "profiles");
  const std::string example = std::string(BNCONFORM_EXAMPLE_KERNEL);
  const command_outcome o = certify(
      "profiles", {"--kernel", example, "--profile", "pytorch,keras", "--groups",
                   "coverage,degenerate,properties", "--budget", "0", "--report", report.string()});
  EXPECT_EQ(o.exit_code, 1) << o.out << o.err;  // a partial run certifies nothing
  EXPECT_THAT(o.out, HasSubstr("profiles:\n  pytorch  passed (a partial run certifies nothing)\n"
                               "  keras    not implemented\n"));
  const nlohmann::json cert =
      nlohmann::json::parse(testing::file_text(report / "certificate.json"));
  EXPECT_EQ(cert.at("profile"), "pytorch,keras");
  ASSERT_EQ(cert.at("profiles").size(), 2u);
  EXPECT_EQ(cert.at("profiles")[0].at("implemented"), true);
  EXPECT_EQ(cert.at("profiles")[1].at("status"), "not implemented");
  EXPECT_EQ(cert.at("profiles")[1].at("implemented"), false);
  EXPECT_FALSE(cert.at("profiles")[0].at("items").empty());
  EXPECT_FALSE(cert.contains("items"));
}

// The default, one profile: the one-profile output, and a certificate whose
// "profiles" section has its one row.
TEST(CertifyCommand, OneProfileIsTheOneProfileRun) {
  const fs::path report = testing::scratch_directory("bnconform_certify_command", "one-profile");
  const command_outcome o =
      certify("one-profile", {"--kernel", std::string(BNCONFORM_EXAMPLE_KERNEL), "--groups",
                              "coverage", "--report", report.string()});
  EXPECT_THAT(o.out, ::testing::Not(HasSubstr("profiles:")));
  EXPECT_THAT(o.err, ::testing::Not(HasSubstr("certify: profile")));
  const nlohmann::json cert =
      nlohmann::json::parse(testing::file_text(report / "certificate.json"));
  EXPECT_EQ(cert.at("profile"), "pytorch");
  ASSERT_EQ(cert.at("profiles").size(), 1u);
  EXPECT_FALSE(cert.at("items").empty());
}

// A failure in a profile other than pytorch: its row says "not met" with the
// first reason, and its repro line carries the profile.
TEST(CertifyCommand, AProfileThatFailsIsNotMetAndItsReproCarriesIt) {
  const command_outcome o =
      certify("keras-mutant", {"--kernel", "mutant-keras-unbiased-running-var", "--profile",
                               "pytorch,keras", "--groups", "coverage", "--budget", "0"});
  EXPECT_EQ(o.exit_code, 1) << o.out << o.err;
  EXPECT_THAT(o.out, HasSubstr("  pytorch  passed (a partial run certifies nothing)\n"));
  EXPECT_THAT(o.out, HasSubstr("  keras    not met: coverage/forward-training"));
  EXPECT_THAT(o.out,
              HasSubstr("repro: bnconform certify --kernel mutant-keras-unbiased-running-var "
                        "--level standard --seed 1 --profile keras --only 'coverage/"));
}

// A bad line of a shapes file: one line naming the file and line, exit 2, and no
// report written.
TEST(CertifyCommand, ABadShapesLineIsAUsageErrorWithItsLine) {
  const fs::path dir = testing::scratch_directory("bnconform_certify_command", "bad-shapes");
  const fs::path shapes = dir / "shapes.txt";
  std::ofstream(shapes) << "# mine\n32x64x7x7\n\n32x-1x7\n";
  const fs::path report = dir / "report";
  const command_outcome o =
      certify("bad-shapes-run",
              {"--kernel", "cpu", "--shapes", shapes.string(), "--report", report.string()});
  expect_usage_error(o, shapes.string() + ":4: ");
  EXPECT_EQ(o.err.find('\n'), o.err.size() - 1) << o.err;  // one line
  EXPECT_FALSE(fs::exists(report));
  std::ofstream(shapes) << "# nothing but a comment\n";
  expect_usage_error(certify("no-shapes", {"--kernel", "cpu", "--shapes", shapes.string()}),
                     "no shape in the file");
}

}  // namespace
}  // namespace bnconform
