// certify --ranks as a user runs it: the ranks are processes started through
// mpiexec (oversubscribed on a small machine; as root where the container's user
// is root), the certificate comes from the certifying process. The kernels: the
// built-in cpu kernel, the plain-C example under examples/sync_kernel, the
// merge-defect mutants, a rank that dies and a rank that hangs; and the bad inputs.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <set>

#include "tests/support/command.hpp"

namespace {

using bnconform::testing::command_outcome;
using bnconform::testing::run_command;
using bnconform::testing::scratch_directory;
using ::testing::HasSubstr;
using ::testing::Not;

command_outcome certify(const std::string& name, std::vector<std::string> args) {
  const std::filesystem::path io = scratch_directory("mpi_test", name);
  std::vector<std::string> all{"certify", "--jobs", "1"};
  all.insert(all.end(), args.begin(), args.end());
  return run_command(BNCONFORM_EXECUTABLE, all, io);
}

TEST(CertifyRanks, TheCpuKernelIsCertifiedAtStrictOverTwoToFourRanks) {
  for (const char* ranks : {"2", "4"}) {
    const command_outcome o = certify(
        std::string("cpu") + ranks,
        {"--kernel", "cpu", "--ranks", ranks, "--groups", "distributed", "--level", "strict"});
    // One group is a partial run (exit 1, "certifies nothing"): every item must pass.
    EXPECT_THAT(o.out, HasSubstr("8 of 8 item(s) passed at strict")) << o.out << o.err;
  }
}

// The example's distributed calls, and the ABI contract of all its calls (coverage,
// malformed: a malformed stride is BAD_ARGUMENT before it is UNSUPPORTED).
TEST(CertifyRanks, TheCExampleIsCertifiedOverFourRanks) {
  const command_outcome o =
      certify("example", {"--kernel", BNCONFORM_SYNC_EXAMPLE_KERNEL, "--ranks", "4", "--groups",
                          "coverage,malformed,distributed"});
  EXPECT_THAT(o.out, HasSubstr("distributed     8 item(s): 8 pass, 0 fail")) << o.out << o.err;
  EXPECT_THAT(o.out, Not(HasSubstr("  fail "))) << o.out;
  EXPECT_THAT(o.out, HasSubstr("passed at standard")) << o.out;
}

// Each mutant fails the case its defect shows in, with the reason in the summary.
TEST(CertifyRanks, EveryMergeDefectIsRejected) {
  const std::vector<std::pair<std::string, std::string>> mutants{
      {"mutant-sync-half-count", "distributed/large-count"},
      {"mutant-sync-empty-rank-nan", "distributed/empty-rank"},
      {"mutant-sync-var-from-invstd", "distributed/variance-below-eps"},
      {"mutant-sync-no-global-check", "distributed/global-m-1"},
      {"mutant-sync-unweighted-means", "distributed/uneven-shards"},
      {"mutant-sync-local-bessel", "distributed/uneven-shards"}};
  for (const auto& [name, item] : mutants) {
    const command_outcome o = certify(name, {"--kernel", name, "--ranks", "3", "--only", item});
    EXPECT_EQ(o.exit_code, 1) << name << "\n" << o.out << o.err;
    EXPECT_THAT(o.out, HasSubstr("fail " + item + ": ")) << name << "\n" << o.out;
  }
}

// A rank that dies or hangs: a finding with the ranks' whereabouts, within the case
// timeout, and the report still written.
TEST(CertifyRanks, ADeadOrHungRankIsAFindingAndTheReportIsWritten) {
  for (const auto& [name, phrase] : std::vector<std::pair<std::string, std::string>>{
           {"mutant-sync-rank-dies", "exited on signal"},
           {"mutant-sync-rank-hangs", "did not finish"}}) {
    const std::filesystem::path report = scratch_directory("mpi_test", name + "-report");
    const auto start = std::chrono::steady_clock::now();
    const command_outcome o =
        certify(name, {"--kernel", name, "--ranks", "3", "--case-timeout", "8", "--only",
                       "distributed/uneven-shards", "--report", report.string()});
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    EXPECT_EQ(o.exit_code, 1) << name << "\n" << o.out << o.err;
    EXPECT_THAT(o.out, HasSubstr(phrase)) << name << "\n" << o.out;
    EXPECT_THAT(o.out, HasSubstr("rank 1")) << name << "\n" << o.out;
    EXPECT_LT(seconds, 40) << name;
    EXPECT_TRUE(std::filesystem::exists(report / "certificate.json")) << name;
    EXPECT_TRUE(std::filesystem::exists(report / "junit.xml")) << name;
  }
}

// Every call answered, and still the job ended badly (a rank that failed at exit):
// a finding. A launcher that runs mpiexec and then fails stands in for it.
TEST(CertifyRanks, AJobThatEndsBadlyAfterItsCallsIsAFinding) {
  const std::filesystem::path dir = scratch_directory("mpi_test", "bad-exit");
  const std::filesystem::path launcher = dir / "mpiexec-then-fail";
  std::ofstream(launcher) << "#!/bin/sh\nmpiexec \"$@\"\nexit 3\n";
  std::filesystem::permissions(launcher, std::filesystem::perms::owner_all);
  const command_outcome o = run_command(
      "env",
      {"BNCONFORM_MPIEXEC=" + launcher.string(), BNCONFORM_EXECUTABLE, "certify", "--jobs", "1",
       "--kernel", "cpu", "--ranks", "2", "--only", "distributed/global-m-1"},
      dir);
  EXPECT_EQ(o.exit_code, 1) << o.out << o.err;
  EXPECT_THAT(o.out, HasSubstr("mpiexec exited with status 3 (after the last call)")) << o.out;
}

TEST(CertifyRanks, BadInputIsAOneLineErrorAndWritesNothing) {
  const std::filesystem::path io = scratch_directory("mpi_test", "bad");
  const std::string report = (io / "report").string();
  const auto expect_usage_error = [&](const command_outcome& o, const std::string& phrase) {
    EXPECT_EQ(o.exit_code, 2) << o.out << o.err;
    EXPECT_THAT(o.err, HasSubstr(phrase));
    EXPECT_EQ(std::count(o.err.begin(), o.err.end(), '\n'), 1) << o.err;
    EXPECT_FALSE(std::filesystem::exists(report)) << o.err;
  };
  expect_usage_error(certify("zero", {"--kernel", "cpu", "--ranks", "0", "--report", report}),
                     "--ranks: 0 is not a number of ranks");
  expect_usage_error(
      certify("undeclared", {"--kernel", "model-wide", "--ranks", "2", "--report", report}),
      "does not declare BNC_FEATURE_DISTRIBUTED_TRAINING");
  const command_outcome no_mpiexec =
      run_command("env",
                  {"-u", "BNCONFORM_MPIEXEC", "PATH=/nonexistent", BNCONFORM_EXECUTABLE, "certify",
                   "--kernel", "cpu", "--ranks", "2", "--report", report},
                  scratch_directory("mpi_test", "no-mpiexec"));
  expect_usage_error(no_mpiexec, "mpiexec not found");
}

// mpiexec -n 3 bnconform fuzz: the ranks share the cases and rank 0's corpus gets
// every finding, the same files as the same cases on one process.
TEST(FuzzRanks, ThreeRanksFindWhatOneProcessFinds) {
  const std::filesystem::path dir = scratch_directory("mpi_test", "fuzz");
  const std::vector<std::string> campaign{"fuzz",     "--kernel", "mutant-flipped-momentum",
                                          "--cases",  "9",        "--level",
                                          "standard", "--jobs",   "1",
                                          "--quiet"};
  std::vector<std::string> one = campaign;
  one.insert(one.end(), {"--corpus", (dir / "one").string()});
  const command_outcome alone = run_command(BNCONFORM_EXECUTABLE, one, dir);
  ASSERT_EQ(alone.exit_code, 1) << alone.out << alone.err;
  std::vector<std::string> ranks{"OMPI_ALLOW_RUN_AS_ROOT=1",
                                 "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1",
                                 "mpiexec",
                                 "--oversubscribe",
                                 "-n",
                                 "3",
                                 BNCONFORM_EXECUTABLE};
  ranks.insert(ranks.end(), campaign.begin(), campaign.end());
  ranks.insert(ranks.end(), {"--corpus", (dir / "ranks").string()});
  const command_outcome shared = run_command("env", ranks, scratch_directory("mpi_test", "fuzz3"));
  EXPECT_EQ(shared.exit_code, 1) << shared.out << shared.err;
  EXPECT_THAT(shared.out, HasSubstr("over 3 ranks")) << shared.out;
  const auto names = [](const std::filesystem::path& corpus) {
    std::set<std::string> out;
    for (const auto& e : std::filesystem::directory_iterator(corpus)) {
      out.insert(e.path().filename().string());
    }
    return out;
  };
  const std::set<std::string> expected = names(dir / "one");
  EXPECT_FALSE(expected.empty());
  EXPECT_EQ(names(dir / "ranks"), expected);
}

}  // namespace
