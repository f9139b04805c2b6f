// The committed catalog: what it must cover (golden/README.md), that every file is what
// its spec makes, and that it stays small.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <map>
#include <set>
#include <tuple>

#include "core/error.hpp"
#include "golden/fill.hpp"
#include "golden/spec.hpp"
#include "support.hpp"

namespace bnconform::golden {
namespace {

using testing::cases_directory;
using testing::specs_directory;

TEST(GoldenCatalog, CoversWhatTheIssueAsks) {
  const std::vector<case_spec> specs = read_spec_directory(specs_directory());
  EXPECT_GE(specs.size(), 200u);
  std::set<int> ranks;
  std::set<std::string> layouts, dtypes, momenta, ops, profiles;
  std::set<std::pair<bool, bool>> affine_track;
  bool eval_running = false, eval_batch = false, multi_step_none = false;
  for (const case_spec& s : specs) {
    const problem p = problem::parse(s.problem);
    ranks.insert(p.rank());
    layouts.insert(std::string(name_of(p.layout())));
    dtypes.insert(std::string(name_of(p.data_type())));
    momenta.insert(p.momentum() ? std::to_string(*p.momentum()) : "none");
    profiles.insert(std::string(name_of(p.profile())));
    affine_track.insert({p.affine(), p.track_running_stats()});
    for (const std::string& step : s.steps) {
      const bool eval =
          step.ends_with(":eval") || (p.mode() == mode::eval && !step.ends_with(":train"));
      ops.insert(step.substr(0, step.find(':')) + (eval ? "/eval" : "/train"));
      eval_running = eval_running || (eval && p.track_running_stats());
      eval_batch = eval_batch || (eval && !p.track_running_stats());
    }
    multi_step_none = multi_step_none || (!p.momentum() && s.steps.size() >= 5);
  }
  EXPECT_EQ(ranks, (std::set<int>{2, 3, 4, 5}));
  EXPECT_EQ(layouts.size(), 2u);
  EXPECT_EQ(dtypes, (std::set<std::string>{"f64", "f32", "f16", "bf16"}));
  EXPECT_EQ(ops, (std::set<std::string>{"forward/train", "forward/eval", "backward/train",
                                        "backward/eval"}));
  for (const char* m : {"none", "0.000000", "0.100000", "1.000000"}) {
    EXPECT_TRUE(momenta.contains(m)) << m;
  }
  EXPECT_EQ(affine_track.size(), 4u);
  // Every profile but onnx, whose cases are ONNX's own (imported, counted below).
  EXPECT_EQ(profiles, (std::set<std::string>{"pytorch", "keras", "tf-fused", "flax"}));
  EXPECT_TRUE(eval_running);
  EXPECT_TRUE(eval_batch);
  EXPECT_TRUE(multi_step_none);
}

TEST(GoldenCatalog, EverySpecHasItsFileAndEveryFileIsWhatItsSpecMakes) {
  std::map<std::string, case_spec> specs;
  for (case_spec& s : read_spec_directory(specs_directory())) specs.emplace(s.name, std::move(s));
  std::set<std::string> seen;
  int imported = 0;
  for (const std::string& path : golden_files(cases_directory())) {
    const golden_case g = read_golden_file(path);
    EXPECT_EQ(name_of_path(path), g.name);
    EXPECT_EQ(case_path(cases_directory(), g.name), path);
    if (g.imported) {
      ++imported;
      continue;
    }
    SCOPED_TRACE(g.name);
    ASSERT_TRUE(specs.contains(g.name)) << path << " has no spec";
    const case_spec& s = specs.at(g.name);
    ASSERT_TRUE(g.spec.has_value());
    EXPECT_EQ(*g.spec, s);
    // The stored inputs are exactly what the spec generates, on this platform too.
    EXPECT_EQ(to_json(g.inputs, true), to_json(make_case(s), true));
    seen.insert(g.name);
  }
  EXPECT_EQ(seen.size(), specs.size()) << "some specs have no golden file: run golden regen";
  EXPECT_EQ(imported, 4);  // ONNX's four BatchNormalization node tests
}

TEST(GoldenCatalog, StaysSmall) {
  std::uintmax_t bytes = 0;
  for (const std::string& path : golden_files(cases_directory())) {
    bytes += std::filesystem::file_size(path);
  }
  EXPECT_LT(bytes, 20u << 20);
}

TEST(GoldenSpec, BracesExpandInOrderWithConsecutiveSeeds) {
  const auto specs = parse_spec_file(
      "# comment\n\nx.y  shape={2x3,4x5},dtype={f32,f16},eps={0,1}  uniform  pytorch  7  "
      "forward,backward:eval\n",
      "t.spec");
  ASSERT_EQ(specs.size(), 8u);
  EXPECT_EQ(specs[0].name, "x.y.2x3.f32.eps=0");
  EXPECT_EQ(specs[0].problem, "shape=2x3,dtype=f32,eps=0");
  EXPECT_EQ(specs[0].seed, 7u);
  EXPECT_EQ(specs[7].name, "x.y.4x5.f16.eps=1");
  EXPECT_EQ(specs[7].seed, 14u);
  EXPECT_EQ(specs[7].steps, (std::vector<std::string>{"forward", "backward:eval"}));
  EXPECT_EQ(specs[1].origin, "t.spec:3");
}

TEST(GoldenSpec, MalformedLinesNameFileAndLine) {
  const auto error_of = [](const std::string& text) {
    try {
      parse_spec_file(text, "t.spec");
    } catch (const error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_EQ(error_of("a shape=2x3 uniform pytorch 1\n"),
            "t.spec:1: expected 6 fields: name problem fill state seed steps");
  EXPECT_EQ(error_of("\na shape={2x3 uniform pytorch 1 forward\n"), "t.spec:2: '{' without '}'");
  EXPECT_EQ(error_of("a shape=2x3 uniform pytorch x1 forward\n"),
            "t.spec:1: seed 'x1' is not an unsigned integer");
  EXPECT_EQ(error_of("a shape=2x3 uniform pytorch 1 sideways\n"),
            "t.spec:1: step 'sideways' is not forward or backward, optionally with :train or "
            ":eval");
  EXPECT_EQ(error_of("a/b shape=2x3 uniform pytorch 1 forward\n"),
            "t.spec:1: case name 'a/b' has characters outside [A-Za-z0-9._+=@-]");
}

TEST(GoldenFill, BadRulesAreErrorsNamingTheCase) {
  case_spec s;
  s.name = "t";
  s.origin = "t.spec:1";
  s.problem = "shape=2x3";
  s.state = "pytorch";
  s.steps = {"forward"};
  for (const auto& [fill, state, steps, message] :
       std::vector<std::tuple<std::string, std::string, std::vector<std::string>, std::string>>{
           {"gaussian", "pytorch", {"forward"}, "unknown fill 'gaussian'"},
           {"uniform+nan@7", "pytorch", {"forward"}, "channel 7 is not in [0, 3)"},
           {"uniform", "default", {"forward"}, "does not start with pytorch or random"},
           {"uniform", "pytorch", {"backward"}, "needs a forward step before it"},
           {"uniform", "pytorch", {"forward:eval", "backward:train"}, "not a valid case"}}) {
    s.fill = fill;
    s.state = state;
    s.steps = steps;
    try {
      make_case(s);
      ADD_FAILURE() << fill << " " << state << ": no error";
    } catch (const error& e) {
      EXPECT_NE(std::string(e.what()).find("t.spec:1: t: "), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find(message), std::string::npos) << e.what();
    }
  }
}

TEST(GoldenFill, ExactFillAndModifiersDoWhatTheySay) {
  case_spec s;
  s.name = "t";
  s.problem = "shape=4x3x2,layout=cl";
  s.fill = "exact+nan@1+flat@2";
  s.state = "random+gamma=0.5+counter=3";
  s.seed = 1;
  s.steps = {"forward"};
  const case_file c = make_case(s);
  const problem& p = c.base;
  EXPECT_EQ(c.state.gamma.values(), (std::vector<double>{0.5, 0.5, 0.5}));
  EXPECT_EQ(c.state.num_batches_tracked, 3);
  const tensor& x = *c.steps[0].x;
  EXPECT_TRUE(std::isnan(x.get(p.offset(0, 1, 0))));
  for (std::int64_t n = 0; n < 4; ++n) {
    for (std::int64_t sp = 0; sp < 2; ++sp) {
      EXPECT_EQ(x.get(p.offset(n, 2, sp)), x.get(p.offset(0, 2, 0)));
      const double v = x.get(p.offset(n, 0, sp));
      EXPECT_EQ(v * 4, std::floor(v * 4));  // k / 4
      EXPECT_GE(v, -2);
      EXPECT_LT(v, 2);
    }
  }
}

}  // namespace
}  // namespace bnconform::golden
