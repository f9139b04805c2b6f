// The certifier against kernels whose verdict we know: the built-in correct kernels
// are certified, every mutant of the zoo is rejected for its own bug, and the
// reports (table, certificate, JUnit) say so.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sstream>
#include <vector>

#include "certify/certifier.hpp"
#include "certify/report.hpp"
#include "cli/kernel_registry.hpp"
#include "core/error.hpp"
#include "impl/mutants/model_kernel.hpp"

namespace bnconform::certify {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

settings quick(check::level level) {
  settings s;
  s.level = level;
  s.budget_seconds = 0;  // one round of each property
  s.golden_directory = std::string(BNCONFORM_SOURCE_DIR) + "/golden/cases";
  s.shapes_file = std::string(BNCONFORM_SOURCE_DIR) + "/tests/certify/small_shapes.txt";
  return s;
}

kernel_source built_in(const std::string& name) {
  kernel_source k;
  k.argument = name;
  k.with_kernel = [name](const std::function<void(const kernel&)>& use) {
    const cli::loaded_kernel loaded = cli::load_kernel(name, 0);
    use(loaded.get());
  };
  return k;
}

certification run(const kernel_source& k, const settings& s, const std::string& only = "") {
  std::ostringstream progress;
  return certify(k, s, only, progress);
}

std::string failures_of(const certification& c) {
  std::string out;
  for (const item_outcome& o : c.items) {
    if (o.passed() || o.result == check::verdict::unsupported) continue;
    out += std::string(check::name_of(o.result)) + " " + o.name + ": " + o.reason + "\n";
    for (const std::string& d : o.details) out += "    " + d + "\n";
  }
  return out;
}

void expect_certified(const certification& c) {
  EXPECT_TRUE(c.certified) << summary_text(c);
  for (const cell_summary& row : c.cells) {
    if (!row.declared) continue;
    EXPECT_GT(row.calls, 0) << to_string(row.where);
    EXPECT_EQ(row.result, check::verdict::pass) << to_string(row.where);
  }
  // Every group ran (the distributed group only with ranks to run on: --ranks).
  EXPECT_EQ(c.groups.size(), all_groups().size() - (c.options.ranks > 0 ? 0 : 1));
}

TEST(Certify, TheCpuKernelIsCertifiedAtStrict) {
  const certification c = run(built_in("cpu"), quick(check::level::strict));
  expect_certified(c);
  const nlohmann::json j = nlohmann::json::parse(certificate_json(c, run_identity{}));
  EXPECT_EQ(j.at("format"), "bnconform-certificate/1");
  EXPECT_EQ(j.at("certified"), true);
  EXPECT_EQ(j.at("kernel").at("name"), "cpu");
  EXPECT_EQ(j.at("level"), "strict");
  EXPECT_EQ(j.at("cells").size(), 32u);
  EXPECT_TRUE(j.at("failures").empty());
  const std::string xml = junit_xml(c);
  EXPECT_THAT(xml, HasSubstr("<testsuite name=\"golden\""));
  EXPECT_THAT(xml, HasSubstr("failures=\"0\""));
  // Each judged cell has its calls' ratio histogram and the item and element of its
  // worst ratio, which report.html shows.
  for (const cell_summary& row : c.cells) {
    if (!row.declared) continue;
    int counted = 0;
    for (const int n : row.ratios) counted += n;
    EXPECT_GT(counted, 0) << to_string(row.where);
    EXPECT_LE(counted, row.calls) << to_string(row.where);
    EXPECT_EQ(row.ratios[ratio_bins - 1], 0) << to_string(row.where);  // none over budget
    EXPECT_FALSE(row.worst_item.empty()) << to_string(row.where);
    EXPECT_FALSE(row.worst_element.empty()) << to_string(row.where) << " " << row.worst_item;
  }
}

TEST(Certify, TheReferenceKernelIsCertifiedAtStrict) {
  const certification c = run(built_in("reference"), quick(check::level::strict));
  expect_certified(c);
}

// The profiles a kernel declares, by name.
std::vector<std::string> declared_profiles(const bnc_kernel& k) {
  std::vector<std::string> out;
  for (const std::string& name : parse_profile_list("all")) {
    if ((k.capabilities.profiles & BNC_BIT(static_cast<int>(*parse_profile_name(name)))) != 0) {
      out.push_back(name);
    }
  }
  return out;
}

// Each mutant is run until its first failure, which must be its own bug's. A
// convention-swap mutant (two declared profiles) is run in both profiles, on the
// degenerate catalog and the properties, and some failure must name its convention.
TEST(Certify, EveryMutantOfTheZooIsRejectedForItsBug) {
  int rejected = 0;
  std::vector<const mutants::model*> all;
  for (const mutants::model& mo : mutants::zoo()) all.push_back(&mo);
  for (const mutants::model& mo : mutants::convention_zoo()) all.push_back(&mo);
  // The cpu-count mutant passes every call on its own: the test below.
  for (const mutants::model& mo : mutants::contract_zoo()) {
    if (mo.name != "mutant-cpu-count-chunks") all.push_back(&mo);
  }
  for (const mutants::model* each : all) {
    const mutants::model& mo = *each;
    kernel_source k;
    k.argument = std::string(mo.name);
    k.with_kernel = [&mo](const std::function<void(const kernel&)>& use) {
      use(kernel(&mo.kernel));
    };
    settings s = quick(check::level::standard);
    const std::vector<std::string> profiles = declared_profiles(mo.kernel);
    if (profiles.size() > 1) {
      s.groups = {group::degenerate, group::properties};
      std::ostringstream progress;
      const profiles_certification pc = certify_profiles(k, s, profiles, "", progress);
      std::string failures;
      const certification* failing = nullptr;
      for (const profile_row& row : pc.rows) {
        failures += failures_of(row.run);
        if (failing == nullptr && !failures_of(row.run).empty()) failing = &row.run;
      }
      EXPECT_FALSE(pc.certified) << mo.name;
      EXPECT_THAT(failures, HasSubstr(mo.expectation)) << mo.name;
      rejected += !pc.certified && failures.find(mo.expectation) != std::string::npos;
      ASSERT_NE(failing, nullptr) << mo.name;
      for (const item_outcome& o : failing->items) {
        if (!o.failed()) continue;
        const certification again = run(k, failing->options, o.name);
        ASSERT_EQ(again.items.size(), 1u) << o.name;
        EXPECT_EQ(again.items[0].result, o.result) << o.name;
        EXPECT_THAT(o.repro, HasSubstr("--only '" + o.name + "'"));
        if (failing->options.profile != "pytorch") {
          EXPECT_THAT(o.repro, HasSubstr("--profile " + failing->options.profile));
        }
        break;
      }
      continue;
    }
    s.fail_fast = true;
    const certification c = run(k, s);
    EXPECT_FALSE(c.certified) << mo.name;
    const std::string failures = failures_of(c);
    EXPECT_THAT(failures, HasSubstr(mo.expectation)) << mo.name;
    rejected += !c.certified && failures.find(mo.expectation) != std::string::npos;
    // The repro line reruns the failing item alone, to the same verdict.
    for (const item_outcome& o : c.items) {
      if (o.passed() || o.result == check::verdict::unsupported) continue;
      const certification again = run(k, s, o.name);
      ASSERT_EQ(again.items.size(), 1u) << o.name;
      EXPECT_EQ(again.items[0].result, o.result) << o.name;
      EXPECT_EQ(again.items[0].reason, o.reason) << o.name;
      EXPECT_THAT(o.repro, HasSubstr("--only '" + o.name + "'"));
      break;
    }
  }
  std::printf("certify: %d of %zu mutants rejected for their bug\n", rejected, all.size());
}

// The reproducibility group runs the bnconform command under other CPU counts: the
// cpu kernel gives the same bits; a kernel whose sums follow the CPU count fails at
// strict and is reported, not failed, at standard.
TEST(Certify, ResultsThatFollowTheCpuCountFailAtStrictAndAreReportedAtStandard) {
  settings s = quick(check::level::strict);
  s.groups = {group::reproducibility};
  s.executable = BNCONFORM_EXECUTABLE;
  const certification cpu = run(built_in("cpu"), s);
  ASSERT_FALSE(cpu.items.empty());
  for (const item_outcome& o : cpu.items) {
    EXPECT_EQ(o.result, check::verdict::pass) << o.name << ": " << o.reason;
    EXPECT_THAT(o.reason, HasSubstr("the same bits under 1 CPU, OMP_NUM_THREADS=1"));
  }
  const mutants::model* chunks = nullptr;
  for (const mutants::model& mo : mutants::contract_zoo()) {
    if (mo.name == "mutant-cpu-count-chunks") chunks = &mo;
  }
  ASSERT_NE(chunks, nullptr);
  kernel_source k;
  k.argument = std::string(chunks->name);
  k.with_kernel = [chunks](const std::function<void(const kernel&)>& use) {
    use(kernel(&chunks->kernel));
  };
  const certification strict = run(k, s);
  EXPECT_FALSE(strict.certified);
  EXPECT_THAT(failures_of(strict), HasSubstr("results depend on the CPU count: forward "));
  s.level = check::level::standard;
  const certification standard = run(k, s);
  ASSERT_FALSE(standard.items.empty());
  for (const item_outcome& o : standard.items) {
    EXPECT_EQ(o.result, check::verdict::pass) << o.name;
    EXPECT_THAT(o.reason, HasSubstr("results depend on the CPU count"));
    EXPECT_THAT(o.reason, HasSubstr("a failure at strict, reported at standard"));
  }
  // Without the command the group cannot run, and says so.
  s.executable.clear();
  const certification without = run(k, s);
  ASSERT_FALSE(without.items.empty());
  EXPECT_EQ(without.items[0].result, check::verdict::unsupported);
}

// The cpu kernel in every profile but pytorch (which the test above certifies):
// each met, in one run, at strict.
TEST(Certify, TheCpuKernelMeetsEveryProfile) {
  settings s = quick(check::level::strict);
  s.groups = {group::coverage, group::degenerate, group::golden, group::properties};
  std::ostringstream progress;
  const profiles_certification pc = certify_profiles(
      built_in("cpu"), s, parse_profile_list("onnx,keras,tf-fused,flax"), "", progress);
  ASSERT_EQ(pc.rows.size(), 4u);
  for (const profile_row& row : pc.rows) {
    EXPECT_TRUE(row.implemented()) << row.profile;
    for (const item_outcome& o : row.run.items) {
      EXPECT_FALSE(o.failed()) << row.profile << " " << o.name << ": " << o.reason;
    }
    EXPECT_EQ(row.status(), "passed (a partial run certifies nothing)") << row.profile;
    // profile-relations ran: the cpu kernel declares every profile.
    bool relations = false;
    for (const item_outcome& o : row.run.items) {
      relations =
          relations || (o.name.rfind("properties/profile-relations#", 0) == 0 && o.passed());
    }
    EXPECT_TRUE(relations) << row.profile;
  }
  const std::string text = summary_text(pc);
  EXPECT_THAT(text, HasSubstr("profiles:\n  onnx      passed (a partial run certifies nothing)\n"
                              "  keras     passed"));
}

// A kernel that declares one profile: the others are "not implemented", which
// is no failure; the verdict needs one profile met.
TEST(Certify, AnUnimplementedProfileIsNotAFailure) {
  const mutants::model& mo = mutants::correct_models()[0];
  kernel_source k;
  k.argument = std::string(mo.name);
  k.with_kernel = [&mo](const std::function<void(const kernel&)>& use) { use(kernel(&mo.kernel)); };
  std::ostringstream progress;
  const profiles_certification only_flax =
      certify_profiles(k, quick(check::level::standard), {"flax"}, "", progress);
  ASSERT_EQ(only_flax.rows.size(), 1u);
  EXPECT_EQ(only_flax.rows[0].status(), "not implemented");
  EXPECT_FALSE(only_flax.certified);
  EXPECT_THAT(only_flax.verdict_reasons[0], HasSubstr("none of the profiles"));
  const nlohmann::json j = nlohmann::json::parse(certificate_json(only_flax, run_identity{}));
  EXPECT_EQ(j.at("profiles")[0].at("status"), "not implemented");
}

TEST(Certify, AProfileListIsParsed) {
  EXPECT_EQ(parse_profile_list("all").size(), 5u);
  EXPECT_EQ(parse_profile_list("keras,pytorch,keras"),
            (std::vector<std::string>{"keras", "pytorch"}));
  EXPECT_THROW((void)parse_profile_list("pytorch,"), bnconform::error);
  EXPECT_THROW((void)parse_profile_list("torch"), bnconform::error);
}

TEST(Certify, AnUnknownOnlyItemIsAnError) {
  EXPECT_THROW(run(built_in("cpu"), quick(check::level::strict), "golden/no-such-case"),
               bnconform::error);
  EXPECT_THROW(run(built_in("cpu"), quick(check::level::strict), "properties/batch-permutation#x"),
               bnconform::error);
}

TEST(Certify, ARoundOfPropertiesRunsAloneByItsName) {
  const certification c =
      run(built_in("cpu"), quick(check::level::strict), "properties/batch-permutation#3");
  ASSERT_EQ(c.items.size(), 1u);
  EXPECT_EQ(c.items[0].name, "properties/batch-permutation#3");
  EXPECT_TRUE(c.items[0].passed()) << c.items[0].reason;
  EXPECT_FALSE(c.certified);  // a partial run certifies nothing
}

TEST(Certify, ALibraryThatCannotBeLoadedIsNotCertified) {
  kernel_source k;
  k.argument = "broken";
  k.with_kernel = [](const std::function<void(const kernel&)>&) {
    throw error("broken.so: not a kernel library");
  };
  const certification c = run(k, quick(check::level::standard));
  EXPECT_FALSE(c.loaded);
  EXPECT_FALSE(c.certified);
  EXPECT_THAT(c.load_error, HasSubstr("not a kernel library"));
  EXPECT_THAT(junit_xml(c), HasSubstr("failures=\"1\""));
}

// A listener (the terminal's progress bar) hears every outcome with the counts and
// an estimate of the time left, and replaces the periodic count lines; failures
// still print as lines.
TEST(Certify, AListenerHearsEveryOutcomeInsteadOfTheCountLines) {
  settings s = quick(check::level::standard);
  s.groups = {group::coverage, group::degenerate};
  s.jobs = 2;
  std::vector<run_progress> heard;
  std::ostringstream lines;
  const certification c = certify(built_in("mutant-flipped-momentum"), s, "", lines,
                                  [&](const run_progress& r) { heard.push_back(r); });
  ASSERT_EQ(heard.size(), c.items.size());
  const run_progress& last = heard.back();
  EXPECT_EQ(last.fixed_done, c.items.size());
  EXPECT_EQ(last.fixed_total, c.items.size());
  EXPECT_GT(last.failures, 0);
  EXPECT_NEAR(last.seconds_left, 0, 1e-9);  // no property rounds: nothing left
  EXPECT_NEAR(last.fraction, 1.0, 1e-9);
  for (std::size_t i = 1; i < heard.size(); ++i) {
    EXPECT_GE(heard[i].fixed_done, heard[i - 1].fixed_done);
    EXPECT_GE(heard[i].seconds_left, 0);
  }
  EXPECT_THAT(lines.str(), Not(HasSubstr("failed so far")));
  EXPECT_THAT(lines.str(), HasSubstr("certify: fail coverage/forward-training"));
}

// The facts certify decides on travel as fields, never as words of a message.
TEST(Certify, AnOutcomeKeepsItsTypedFactsAcrossTheWorkerPipe) {
  item_outcome o;
  o.kind = group::properties;
  o.name = "properties/batch-permutation#0";
  o.result = check::verdict::mistrusted;
  o.reason = "a reason that mentions no suite error";
  o.suite_error = true;
  o.counterexample = "problem=shape=2x3 kind=normal seed=0x1";
  const cell where = *parse_cell("forward-training f32 channels_first");
  o.add(where, check::verdict::pass, 0.75, 1);
  o.add(where, check::verdict::fail, 0.25, 2);
  const item_outcome back = outcome_from_json(to_json_line(o));
  EXPECT_TRUE(back.suite_error);
  EXPECT_EQ(back.counterexample, o.counterexample);
  ASSERT_EQ(back.cells.size(), 1u);
  EXPECT_EQ(back.cells[0].worst_ratio, 0.75);
  EXPECT_EQ(back.cells[0].failed_worst_ratio, 0.25);
  EXPECT_EQ(back.cells[0].failed, 1);
}

// A failing cell shows the ratio of its failing calls; "n/a*" where none of them
// exceeded a budget, with the footnote that says why.
TEST(Certify, AFailingRowShowsTheRatioOfWhatFailedIt) {
  certification c;
  c.loaded = true;
  cell_summary rule_broken{*parse_cell("forward-training f32 channels_first"),
                           true,
                           check::verdict::fail,
                           5,
                           0.508,
                           0.25,
                           0.5};
  cell_summary out_of_budget{*parse_cell("forward-training f32 channels_last"),
                             true,
                             check::verdict::fail,
                             5,
                             3.5,
                             3.5,
                             40};
  cell_summary passing{
      *parse_cell("forward-eval f32 channels_first"), true, check::verdict::pass, 5, 0.508, 0, 0.5};
  c.cells = {rule_broken, out_of_budget, passing};
  const std::string text = summary_text(c);
  EXPECT_THAT(text, HasSubstr("forward-training   f32   channels_first  fail               5"
                              "         n/a*"));
  EXPECT_THAT(text, HasSubstr("forward-training   f32   channels_last   fail               5"
                              "          3.5"));
  EXPECT_THAT(text, HasSubstr("forward-eval       f32   channels_first  pass               5"
                              "        0.508"));
  EXPECT_THAT(text, HasSubstr("\n* failed on a rule with no budget ratio"));
  const nlohmann::json j = nlohmann::json::parse(certificate_json(c, run_identity{}));
  EXPECT_EQ(j.at("cells").at(0).at("worst_ratio"), "n/a");
  EXPECT_EQ(j.at("cells").at(1).at("worst_ratio"), 3.5);
  EXPECT_EQ(j.at("cells").at(2).at("worst_ratio"), 0.508);
}

}  // namespace
}  // namespace bnconform::certify
