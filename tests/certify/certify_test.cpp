// The certifier against kernels whose verdict we know: the built-in correct kernels
// are certified, every mutant of the zoo is rejected for its own bug, and the
// reports (table, certificate, JUnit) say so.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sstream>

#include "certify/certifier.hpp"
#include "certify/report.hpp"
#include "cli/kernel_registry.hpp"
#include "core/error.hpp"
#include "impl/mutants/model_kernel.hpp"

namespace bnconform::certify {
namespace {

using ::testing::HasSubstr;

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
  // Every group ran.
  EXPECT_EQ(c.groups.size(), all_groups().size());
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
}

TEST(Certify, TheReferenceKernelIsCertifiedAtStrict) {
  const certification c = run(built_in("reference"), quick(check::level::strict));
  expect_certified(c);
}

// Each mutant is run until its first failure, which must be its own bug's.
TEST(Certify, EveryMutantOfTheZooIsRejectedForItsBug) {
  int rejected = 0;
  for (const mutants::model& mo : mutants::zoo()) {
    kernel_source k;
    k.argument = std::string(mo.name);
    k.with_kernel = [&mo](const std::function<void(const kernel&)>& use) {
      use(kernel(&mo.kernel));
    };
    settings s = quick(check::level::standard);
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
  std::printf("certify: %d of %zu mutants rejected for their bug\n", rejected,
              mutants::zoo().size());
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
