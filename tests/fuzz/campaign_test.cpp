// Short campaigns (a second or two each): the CPU kernel yields nothing, two
// mutants of the zoo are caught and their saved cases replay to the same verdict,
// a crashing or hanging kernel is a finding, and a seed and case budget fix the
// cases whatever the number of workers or shards.
#include "fuzz/campaign.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "core/case_runner.hpp"
#include "core/error.hpp"
#include "fuzz/corpus.hpp"
#include "fuzz/replay.hpp"
#include "impl/cpu/cpu_kernel.hpp"
#include "impl/mutants/model_kernel.hpp"

namespace bnconform::fuzz {
namespace {

namespace fs = std::filesystem;

class FuzzCampaign : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() /
            ("bnconform_fuzz_test_" + std::to_string(getpid()) + "_" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
  }
  void TearDown() override { fs::remove_all(root_); }

  campaign_options options(const std::string& kernel_name, std::uint64_t cases) const {
    campaign_options opt;
    opt.kernel_name = kernel_name;
    opt.level = check::level::strict;
    opt.seed = 0x5eed;
    opt.cases = cases;
    opt.jobs = 2;
    opt.corpus = root_ / kernel_name;
    return opt;
  }

  fs::path root_;
};

TEST_F(FuzzCampaign, CpuKernelYieldsNothing) {
  const kernel cpu(cpu::cpu_kernel());
  const campaign_summary s = run_campaign(cpu, options("cpu", 60));
  EXPECT_EQ(s.cases, 60u);
  EXPECT_TRUE(s.found_nothing()) << s.describe();
  EXPECT_FALSE(fs::exists(root_ / "cpu")) << "a corpus directory without findings";
  // The generator's classes are reached: every dtype and both modes.
  for (const char* tag :
       {"dtype:f32", "dtype:f64", "dtype:f16", "dtype:bf16", "mode:train", "mode:eval"}) {
    EXPECT_GT(s.classes.count(tag), 0u) << tag << "\n" << s.describe();
  }
}

// The progress a terminal draws as a bar: the counts, the budget and the plain line.
TEST_F(FuzzCampaign, ProgressCarriesTheCountsAndThePlainLine) {
  const kernel cpu(cpu::cpu_kernel());
  campaign_options opt = options("cpu", 20);
  std::vector<campaign_progress> heard;
  opt.on_progress = [&](const campaign_progress& p) { heard.push_back(p); };
  const campaign_summary s = run_campaign(cpu, opt);
  ASSERT_FALSE(heard.empty());
  const campaign_progress& last = heard.back();  // the campaign's end always reports
  EXPECT_EQ(last.cases, s.cases);
  ASSERT_TRUE(last.of.has_value());
  EXPECT_EQ(*last.of, 20u);
  EXPECT_EQ(last.failures, 0u);
  EXPECT_GT(last.seconds, 0);
  EXPECT_EQ(last.line.rfind("fuzz: 20 of 20 cases, ", 0), 0u) << last.line;
}

const mutants::model& zoo_member(std::string_view name) {
  for (const mutants::model& m : mutants::zoo()) {
    if (m.name == name) return m;
  }
  throw error("no mutant " + std::string(name));
}

TEST_F(FuzzCampaign, MutantsAreCaughtAndTheirCasesReplay) {
  for (const char* name : {"mutant-eps-outside-sqrt", "mutant-biased-running-var"}) {
    SCOPED_TRACE(name);
    const mutants::model& m = zoo_member(name);
    const kernel k(&m.kernel);
    const campaign_summary s = run_campaign(k, options(name, 12));
    ASSERT_FALSE(s.found_nothing()) << s.describe();
    for (const saved_finding& f : s.findings) {
      EXPECT_EQ(f.verdict, "fail");
      // Both mutants get the forward call wrong (the statistics or y).
      EXPECT_TRUE(f.reason.starts_with("forward: ")) << f.reason;
      ASSERT_TRUE(fs::exists(f.file)) << f.file;
      // `bnconform run` accepts the file: it reads and runs as a case.
      const case_file c = read_case_file(f.file.string());
      ASSERT_TRUE(c.finding);
      EXPECT_EQ(c.finding->kernel, name);
      EXPECT_EQ(c.finding->reason, f.reason);
      EXPECT_TRUE(run_case(k, c).ok());
    }
    // Replayed, in a child process each, every finding gets its recorded verdict.
    replay_options ropt;
    const replay_report r =
        replay_corpus({root_ / name}, ropt, [&](const std::string& kernel_name) -> const kernel& {
          EXPECT_EQ(kernel_name, name);
          return k;
        });
    EXPECT_EQ(r.entries.size(), s.findings.size());
    EXPECT_EQ(r.different, 0) << r.describe();
    // And the CPU kernel passes the same cases: the findings are the mutant's.
    const kernel cpu(cpu::cpu_kernel());
    ropt.kernel_name = "cpu";
    ropt.isolate = false;
    const replay_report fixed = replay_corpus(
        {root_ / name}, ropt, [&](const std::string&) -> const kernel& { return cpu; });
    EXPECT_EQ(fixed.same, 0) << fixed.describe();
  }
}

// The CPU kernel, except that it aborts on problems with two channels and hangs on
// problems with three.
bnc_status crashing_forward(void* context, const bnc_problem* p, const bnc_forward_args* args,
                            char* message, std::size_t size) {
  if (p->shape[1] == 2) std::abort();
  if (p->shape[1] == 3) std::this_thread::sleep_for(std::chrono::hours(1));
  const bnc_kernel* cpu = cpu::cpu_kernel();
  return cpu->forward(context, p, args, message, size);
}

bnc_kernel crashing_kernel() {
  bnc_kernel k = *cpu::cpu_kernel();
  k.name = "crashing";
  k.forward = crashing_forward;
  return k;
}

TEST_F(FuzzCampaign, CrashesAndHangsAreFindings) {
  const bnc_kernel description = crashing_kernel();
  const kernel k(&description);
  campaign_options opt = options("crashing", 32);
  opt.case_timeout = std::chrono::milliseconds(500);
  // Only the planted crashes and hangs may end a case: no wide or long cases that
  // take longer than the timeout to judge.
  opt.draw.limits.long_one_in = 0;
  opt.draw.limits.wide_one_in = 0;
  const campaign_summary s = run_campaign(k, opt);
  EXPECT_EQ(s.cases, 32u) << "every case is judged, the crashed ones included";
  ASSERT_GT(s.failures.count("crashed"), 0u) << s.describe();
  ASSERT_GT(s.failures.count("timed-out"), 0u) << s.describe();
  EXPECT_GT(s.worker_restarts, 0);
  for (const saved_finding& f : s.findings) {
    const case_file c = read_case_file(f.file.string());
    EXPECT_EQ(c.base.channels(), f.verdict == "crashed" ? 2 : 3) << f.file;
    EXPECT_NE(f.reason.find(f.verdict == "crashed" ? "SIGABRT" : "no answer"), std::string::npos)
        << f.reason;
  }
  replay_options ropt;
  ropt.case_timeout = std::chrono::milliseconds(500);
  const replay_report r =
      replay_corpus({opt.corpus}, ropt, [&](const std::string&) -> const kernel& { return k; });
  EXPECT_EQ(r.different, 0) << r.describe();
}

TEST_F(FuzzCampaign, SeedAndBudgetFixTheCases) {
  const kernel cpu(cpu::cpu_kernel());
  campaign_options opt = options("cpu", 24);
  opt.record_cases = true;
  const campaign_summary two_workers = run_campaign(cpu, opt);
  opt.jobs = 0;
  const campaign_summary in_process = run_campaign(cpu, opt);
  ASSERT_EQ(two_workers.repros.size(), 24u);
  EXPECT_EQ(two_workers.repros, in_process.repros);
  EXPECT_EQ(two_workers.classes, in_process.classes);
  // Two shards (case ranges) are the campaign.
  opt.cases = 10;
  const campaign_summary first = run_campaign(cpu, opt);
  opt.first_case = 10;
  opt.cases = 14;
  const campaign_summary second = run_campaign(cpu, opt);
  std::map<std::uint64_t, std::string> both = first.repros;
  both.insert(second.repros.begin(), second.repros.end());
  EXPECT_EQ(both, in_process.repros);
  // Another seed, other cases.
  opt.first_case = 0;
  opt.cases = 24;
  opt.seed = 0x5eee;
  EXPECT_NE(run_campaign(cpu, opt).repros, in_process.repros);
}

}  // namespace
}  // namespace bnconform::fuzz
