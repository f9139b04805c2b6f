// The gradient checks and the degenerate catalog against the reference kernel,
// the correct models and the mutants that each check exists to catch.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "battery/degenerate_catalog.hpp"
#include "battery/gradient_check.hpp"
#include "impl/mutants/model_kernel.hpp"
#include "reference/support.hpp"

namespace bnconform {
namespace {

using check::verdict;

const mutants::model& named(std::string_view name) {
  for (const auto& m : mutants::zoo()) {
    if (m.name == name) return m;
  }
  for (const auto& m : mutants::correct_models()) {
    if (m.name == name) return m;
  }
  throw std::runtime_error("no model " + std::string(name));
}

struct gradient_case {
  problem p;
  tensor x, dy;
  module_state state;
};

gradient_case make_case(const char* text, std::uint64_t seed) {
  testing::random_source rng(seed);
  gradient_case g{problem::parse(text), {}, {}, {}};
  g.x = testing::random_tensor(rng, g.p.data_type(), g.p.element_count(), -2, 6);
  g.dy = testing::random_tensor(rng, g.p.data_type(), g.p.element_count(), -1, 1);
  g.state = module_state::initial(g.p);
  for (std::int64_t c = 0; c < g.state.gamma.size(); ++c) {
    g.state.gamma.set(c, rng.uniform(0.5, 2));
    g.state.beta.set(c, rng.uniform(-1, 1));
  }
  for (std::int64_t c = 0; c < g.state.running_var.size(); ++c) {
    g.state.running_mean.set(c, rng.uniform(-1, 1));
    g.state.running_var.set(c, rng.uniform(0.5, 2));
  }
  return g;
}

const char* const gradient_problems[] = {
    "shape=6x3x4,dtype=f64",                         // every component (72 elements)
    "shape=5x2x3x2,dtype=f64,layout=channels_last",  // rank 4, channels_last
    "shape=6x3x4,dtype=f64,mode=eval",               // running statistics
    "shape=6x3x4,dtype=f64,affine=false",
    "shape=16x4x40,dtype=f64",  // 2560 elements: directional derivatives
};

battery::gradient_report gradcheck(const kernel& k, const char* text) {
  const gradient_case g = make_case(text, 11);
  return battery::gradcheck(k, g.p, g.x, g.dy, g.state);
}

TEST(GradientCheck, CorrectF64KernelsPass) {
  const kernel reference_kernel(reference::reference_kernel(128));
  const kernel wide(&named("model-wide").kernel);
  for (const kernel* k : {&reference_kernel, &wide}) {
    for (const char* text : gradient_problems) {
      const auto r = gradcheck(*k, text);
      EXPECT_EQ(r.result, verdict::pass) << k->name() << " " << text << "\n" << r.describe();
      EXPECT_GT(r.components, 0);
    }
  }
}

TEST(GradientCheck, AMissingMeanDyTermIsCaughtWithoutAReference) {
  const kernel mutant(&named("mutant-missing-mean-dy").kernel);
  for (const char* text : {gradient_problems[0], gradient_problems[4]}) {
    const auto r = gradcheck(mutant, text);
    EXPECT_EQ(r.result, verdict::fail) << text << "\n" << r.describe();
    EXPECT_GT(r.worst_ratio, 1e3) << text;  // an O(1) error against a ~1e-8 bound
  }
}

// The wide model with dx scaled by (1 + 1e-6): a relative error PyTorch's
// gradcheck (atol 1e-5, rtol 1e-3 in f64) accepts by construction.
bnc_status slightly_off_backward(void* context, const bnc_problem* p, const bnc_backward_args* a,
                                 char* message, size_t size) {
  const bnc_kernel& wide = named("model-wide").kernel;
  const bnc_status s = wide.backward(context, p, a, message, size);
  std::size_t count = 1;
  for (std::int32_t d = 0; d < p->rank; ++d) count *= static_cast<std::size_t>(p->shape[d]);
  auto* dx = static_cast<double*>(a->dx);
  for (std::size_t i = 0; i < count; ++i) dx[i] *= 1 + 1e-6;
  return s;
}

TEST(GradientCheck, IsTighterThanPyTorchsGradcheck) {
  bnc_kernel off = named("model-wide").kernel;
  off.backward = slightly_off_backward;
  const kernel k(&off);
  for (const char* text : {gradient_problems[0], gradient_problems[4]}) {
    const auto r = gradcheck(k, text);
    EXPECT_EQ(r.result, verdict::fail) << text << "\n" << r.describe();
  }
}

TEST(GradientCheck, NonF64ProblemsAreUnsupportedNotPassed) {
  const kernel wide(&named("model-wide").kernel);
  const auto r = gradcheck(wide, "shape=6x3x4,dtype=f32");
  EXPECT_EQ(r.result, verdict::unsupported);
}

TEST(DegenerateCatalog, EveryCaseHasANameARuleAndAProblem) {
  std::set<std::string_view> names;
  for (const auto& dc : battery::degenerate_catalog()) {
    EXPECT_TRUE(names.insert(dc.name).second) << dc.name;
    EXPECT_FALSE(dc.what.empty());
    EXPECT_NO_THROW((void)problem::parse(dc.problem_text)) << dc.name;
  }
  EXPECT_GE(names.size(), 25u);
}

TEST(DegenerateCatalog, TheReferenceAndTheCorrectModelsFollowEveryRule) {
  // 512 bits: an independent second computation (the judge uses 256), wide enough
  // for the subnormal case's 135-order input span.
  const kernel reference_kernel(reference::reference_kernel(512));
  const kernel wide(&named("model-wide").kernel);
  for (const kernel* k : {&reference_kernel, &wide}) {
    for (const auto& dc : battery::degenerate_catalog()) {
      if (dc.large) continue;  // the large tier runs under the slow label
      const auto r = battery::run_degenerate(*k, dc, check::level::strict);
      EXPECT_TRUE(r.result == verdict::pass || r.result == verdict::ill_posed)
          << k->name() << " " << dc.name << ": " << check::name_of(r.result) << ": " << r.reason
          << "\n"
          << (r.calls.empty() ? "" : r.calls.back().describe());
    }
  }
}

TEST(DegenerateCatalog, CatchesTheMutantsItIsFor) {
  const std::pair<const char*, const char*> expectations[] = {
      {"mutant-counter-not-incremented", "empty-batch"},
      {"mutant-none-as-default", "momentum-none-sequence"},
      {"mutant-eval-uses-batch-stats", "eval-between-training"},
      {"mutant-biased-running-var", "m2-unbiased-factor"},
  };
  for (const auto& [mutant, case_name] : expectations) {
    const kernel k(&named(mutant).kernel);
    for (const auto& dc : battery::degenerate_catalog()) {
      if (dc.name != case_name) continue;
      const auto r = battery::run_degenerate(k, dc, check::level::standard);
      EXPECT_EQ(r.result, verdict::fail) << mutant << " on " << case_name << ": " << r.reason;
    }
  }
}

}  // namespace
}  // namespace bnconform
