// What certify leaves behind as a user sees it: every failing item as a case file
// that `bnconform check` replays to the same verdict, a certificate that says which
// bnconform, kernel library, machine and command made it, rows whose ratio explains
// their verdict, help that names every built-in kernel, and no RapidCheck chatter.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "cli/kernel_registry.hpp"
#include "cli/run_identity.hpp"
#include "tests/support/command.hpp"

namespace bnconform {
namespace {

// Lowercase hex digits, `length` of them (std::regex trips GCC 12's
// maybe-uninitialized warning in the sanitizer build).
bool is_hex(const std::string& s, std::size_t length) {
  return s.size() == length && s.find_first_not_of("0123456789abcdef") == std::string::npos;
}

namespace fs = std::filesystem;
using testing::command_outcome;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr const char* suite = "bnconform_certify_replay";

command_outcome bnconform(const std::string& test, const std::vector<std::string>& args) {
  return testing::run_command(BNCONFORM_EXECUTABLE, args,
                              testing::scratch_directory(suite, test + "-io"));
}

nlohmann::json json_file(const fs::path& path) {
  return nlohmann::json::parse(testing::file_text(path));
}

// The first line of `check`: "check: <verdict> at <level>, ...".
std::string check_verdict(const std::string& out) {
  const std::string head = "check: ";
  if (out.rfind(head, 0) != 0) return "(no verdict: " + out + ")";
  return out.substr(head.size(), out.find(' ', head.size()) - head.size());
}

TEST(CertifyReplay, EveryFailureOfAMutantReplaysWithCheckToTheSameVerdict) {
  const fs::path report = testing::scratch_directory(suite, "mutant-report");
  // Three golden cases of the catalog's 287 keep the test short; they fail on the
  // running statistics like the rest.
  const fs::path golden = testing::scratch_directory(suite, "golden");
  const fs::path momentum = fs::path(BNCONFORM_SOURCE_DIR) / "golden" / "cases" / "momentum";
  for (const char* name :
       {"momentum.seq.f32.momentum=0.1.json", "momentum.seq.f64.momentum=0.5.json",
        "momentum.train-eval.cl.f32.momentum=none.json"}) {
    fs::copy_file(momentum / name, golden / name);
  }
  const command_outcome o =
      bnconform("mutant", {"certify", "--kernel", "mutant-flipped-momentum", "--budget", "0",
                           "--groups", "coverage,degenerate,golden,properties", "--golden",
                           golden.string(), "--report", report.string()});
  ASSERT_EQ(o.exit_code, 1) << o.out << o.err;
  EXPECT_THAT(o.out, HasSubstr("replay: bnconform check '"));
  const nlohmann::json cert = json_file(report / "certificate.json");
  const nlohmann::json& failures = cert.at("failures");
  ASSERT_FALSE(failures.empty());
  int replayed = 0;
  std::set<std::string> groups;
  for (const nlohmann::json& f : failures) {
    SCOPED_TRACE(f.at("name").get<std::string>());
    ASSERT_TRUE(f.contains("case_file")) << f.dump();
    if (f.at("case_file").is_null()) {
      EXPECT_FALSE(f.at("no_case_file").get<std::string>().empty());
      continue;
    }
    const fs::path file = f.at("case_file").get<std::string>();
    EXPECT_EQ(file.parent_path(), report / "failures");
    const nlohmann::json finding = json_file(file).at("finding");
    EXPECT_EQ(finding.at("kernel"), "mutant-flipped-momentum");
    EXPECT_EQ(finding.at("verdict"), f.at("verdict"));
    EXPECT_EQ(finding.at("repro"), f.at("repro"));
    const command_outcome replay =
        bnconform("replay", {"check", file.string(), "--kernel", "mutant-flipped-momentum",
                             "--level", finding.at("level").get<std::string>()});
    EXPECT_EQ(check_verdict(replay.out), finding.at("verdict").get<std::string>())
        << replay.out << replay.err;
    EXPECT_EQ(replay.exit_code, 1);
    if (replayed++ == 0) {  // `run` reads the same file
      const command_outcome run = bnconform("run", {"run", file.string(), "--kernel", "cpu"});
      EXPECT_EQ(run.exit_code, 0) << run.err;
    }
    const std::string name = f.at("name");
    groups.insert(name.substr(0, name.find('/')));
  }
  // The coverage, degenerate, golden and property failures all have their case.
  EXPECT_EQ(replayed, static_cast<int>(failures.size()));
  EXPECT_EQ(groups, (std::set<std::string>{"coverage", "degenerate", "golden", "properties"}));
}

// A realistic item's case holds the forward step and the backward as certify judged
// it: on its own, with x and the reference's saved statistics given (not the
// kernel's own, which a replay would otherwise take from the forward step).
TEST(CertifyReplay, ARealisticItemReplaysItsBackwardOnItsOwn) {
  const fs::path report = testing::scratch_directory(suite, "realistic-report");
  const fs::path shapes = testing::scratch_directory(suite, "realistic-shapes") / "shapes.txt";
  std::ofstream(shapes) << "shape=4x3x5x5,dtype=f32,mode=training\n";
  const command_outcome o = bnconform(
      "realistic", {"certify", "--kernel", "mutant-missing-mean-dy", "--groups", "realistic",
                    "--shapes", shapes.string(), "--report", report.string()});
  ASSERT_EQ(o.exit_code, 1) << o.out << o.err;
  const nlohmann::json failures = json_file(report / "certificate.json").at("failures");
  ASSERT_EQ(failures.size(), 1u) << failures.dump();
  const fs::path file = failures[0].at("case_file").get<std::string>();
  const nlohmann::json steps = json_file(file).at("steps");
  ASSERT_EQ(steps.size(), 2u) << steps.dump();
  EXPECT_EQ(steps[0].at("op"), "forward");
  EXPECT_EQ(steps[1].at("op"), "backward");
  EXPECT_TRUE(steps[1].contains("x"));
  EXPECT_TRUE(steps[1].contains("save_mean"));
  const command_outcome replay = bnconform(
      "realistic-replay",
      {"check", file.string(), "--kernel", "mutant-missing-mean-dy", "--level", "standard"});
  EXPECT_EQ(check_verdict(replay.out), failures[0].at("verdict").get<std::string>())
      << replay.out << replay.err;
}

TEST(CertifyReplay, AFailureDirectoryThatCannotBeWrittenIsAUsageErrorBeforeAnythingRuns) {
  const fs::path dir = testing::scratch_directory(suite, "unwritable");
  std::ofstream(dir / "a-file") << "not a directory\n";
  const fs::path report = dir / "report";
  const command_outcome o = bnconform(
      "unwritable", {"certify", "--kernel", "cpu", "--save-failures",
                     (dir / "a-file" / "failures").string(), "--report", report.string()});
  EXPECT_EQ(o.exit_code, 2) << o.out << o.err;
  EXPECT_EQ(o.err.rfind("bnconform: error: --save-failures: cannot create", 0), 0u) << o.err;
  EXPECT_EQ(o.err.find('\n'), o.err.size() - 1) << "not one line: " << o.err;
  EXPECT_TRUE(o.out.empty()) << o.out;
  EXPECT_FALSE(fs::exists(report));
  // The other way round: a bad --report leaves no failure directory either.
  const fs::path failures = dir / "failures";
  const command_outcome r = bnconform(
      "unwritable-report", {"certify", "--kernel", "cpu", "--save-failures", failures.string(),
                            "--report", (dir / "a-file" / "report").string()});
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_EQ(r.err.rfind("bnconform: error: --report: cannot create", 0), 0u) << r.err;
  EXPECT_FALSE(fs::exists(failures));
}

TEST(CertifyReplay, TheCertificateSaysWhichSuiteMachineAndCommandMadeIt) {
  const fs::path report = testing::scratch_directory(suite, "cpu-report");
  // RapidCheck's own settings would turn on its progress marks: the runner never reads them.
  ::setenv("RC_PARAMS", "verbose_progress=1 verbose_shrinking=1", 1);
  const command_outcome o =
      bnconform("cpu", {"certify", "--kernel", "cpu", "--budget", "0", "--groups",
                        "coverage,properties", "--report", report.string()});
  EXPECT_EQ(o.exit_code, 1) << o.out << o.err;  // a partial run certifies nothing
  EXPECT_THAT(o.out, HasSubstr("item(s) passed")) << o.out;
  EXPECT_THAT(o.out, Not(HasSubstr("failures:")));
  const nlohmann::json cert = json_file(report / "certificate.json");
  EXPECT_EQ(cert.at("suite").at("version"), BNCONFORM_VERSION);
  const std::string revision = cert.at("suite").at("revision");
  const std::string hash =
      revision.substr(0, revision.rfind("-dirty") == 40 ? 40 : revision.size());
  EXPECT_TRUE(revision == "unknown" || is_hex(hash, 40)) << revision;
  EXPECT_EQ(cert.at("machine").at("cpu_model"), cli::cpu_model_name());
  EXPECT_TRUE(cert.at("machine").at("kernel_variant").is_string());
  EXPECT_FALSE(cert.at("machine").at("kernel_variant").get<std::string>().empty());
  const std::vector<std::string> argv = cert.at("command_line");
  ASSERT_GE(argv.size(), 4u);
  EXPECT_EQ(argv[1], "certify");
  EXPECT_EQ(argv[3], "cpu");
  // A passing run leaves its failure directory empty.
  EXPECT_TRUE(fs::is_empty(report / "failures"));
  // RapidCheck's own configuration line never shows (the properties ran).
  EXPECT_THAT(o.err, HasSubstr("certify: properties"));
  ::unsetenv("RC_PARAMS");
  EXPECT_THAT(o.out + o.err, Not(HasSubstr("Using configuration")));
}

TEST(CertifyReplay, ALibraryKernelIsIdentifiedByItsSha256) {
  const fs::path report = testing::scratch_directory(suite, "library-report");
  const command_outcome o =
      bnconform("library", {"certify", "--kernel", BNCONFORM_EXAMPLE_KERNEL, "--groups", "coverage",
                            "--report", report.string()});
  EXPECT_EQ(o.exit_code, 1) << o.out << o.err;  // a partial run certifies nothing
  EXPECT_THAT(o.out, HasSubstr("item(s) passed")) << o.out;
  EXPECT_THAT(o.out, Not(HasSubstr("failures:")));
  const nlohmann::json cert = json_file(report / "certificate.json");
  const std::string sha = cert.at("kernel").at("sha256");
  EXPECT_TRUE(is_hex(sha, 64)) << sha;
  EXPECT_TRUE(cert.at("machine").at("kernel_variant").is_null());
}

TEST(CertifyReplay, ACellThatFailsOnARuleShowsNoRatio) {
  const fs::path report = testing::scratch_directory(suite, "unwritten-report");
  const command_outcome o =
      bnconform("unwritten", {"certify", "--kernel", "mutant-unwritten-tail", "--groups",
                              "coverage", "--report", report.string()});
  EXPECT_EQ(o.exit_code, 1) << o.out << o.err;
  EXPECT_THAT(o.out, HasSubstr("forward-training   f32   channels_first  fail"));
  EXPECT_THAT(o.out, HasSubstr("n/a*"));
  EXPECT_THAT(o.out, HasSubstr("* failed on a rule with no budget ratio"));
  int failing = 0;
  const nlohmann::json cert = json_file(report / "certificate.json");
  for (const nlohmann::json& cell : cert.at("cells")) {
    if (cell.at("verdict") != "fail") continue;
    ++failing;
    EXPECT_EQ(cell.at("worst_ratio"), "n/a") << cell.dump();
  }
  EXPECT_GT(failing, 0);
}

TEST(CertifyReplay, HelpNamesEveryBuiltInKernel) {
  for (const char* command : {"run", "certify", "check"}) {
    const command_outcome o = bnconform("help", {command, "--help"});
    EXPECT_EQ(o.exit_code, 0) << o.err;
    for (const std::string& name : cli::kernel_names()) {
      EXPECT_THAT(o.out, HasSubstr(name)) << command << " --help";
    }
  }
}

TEST(CertifyReplay, TheCpuModelIsTheFirstModelNameOfCpuinfo) {
  const fs::path dir = testing::scratch_directory(suite, "cpuinfo");
  std::ofstream(dir / "cpuinfo") << "processor\t: 0\nvendor_id\t: Example\n"
                                 << "model name\t: Example CPU @ 2.00GHz  \n"
                                 << "processor\t: 1\nmodel name\t: Other CPU\n";
  EXPECT_EQ(cli::cpu_model_name((dir / "cpuinfo").string()), "Example CPU @ 2.00GHz");
  std::ofstream(dir / "no-model") << "processor\t: 0\nHardware\t: something\n";
  EXPECT_EQ(cli::cpu_model_name((dir / "no-model").string()), "unknown");
  EXPECT_EQ(cli::cpu_model_name((dir / "missing").string()), "unknown");
}

}  // namespace
}  // namespace bnconform
