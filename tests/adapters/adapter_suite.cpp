// The conformance suite every adapter runs: fixed problems against the reference
// through the error model, the degenerate cases of semantics.md, determinism, and
// the honesty of the declared capabilities.
#include "adapter_suite.hpp"

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cmath>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <iostream>
#include <limits>
#include <random>
#include <string>

namespace bnconform {
// Test names and failure output show the problem's canonical string.
void PrintTo(const problem& p, std::ostream* os) { *os << p.to_string(); }
}  // namespace bnconform

namespace bnconform::testing {

namespace {

constexpr double inf = std::numeric_limits<double>::infinity();

tensor normal(dtype t, std::int64_t count, double offset, double scale, std::mt19937_64& rng) {
  std::normal_distribution<double> d;
  std::vector<double> v(static_cast<std::size_t>(count));
  for (double& e : v) e = offset + scale * d(rng);
  return tensor::from_values(t, v);
}

problem make(std::vector<std::int64_t> shape, layout l, dtype t, mode m) {
  problem::fields f;
  f.shape = std::move(shape);
  f.layout = l;
  f.data_type = t;
  f.mode = m;
  return problem(f);
}

problem variant(problem p, void (*edit)(problem::fields&)) {
  problem::fields f = p.spec();
  edit(f);
  return problem(f);
}

bool declares(const bnc_kernel& k, const problem& p) {
  return kernel(&k).unsupported_reason(p, false).empty();
}

const kernel& under_test() {
  static const kernel k(adapter_under_test().kernel);
  return k;
}

check::level level_of(const problem& p) { return adapter_under_test().level_for(p.data_type()); }

// The verdict a judgement must have: passed, unless it is a known failure, which
// must then still fail.
void expect_judgement(const check::comparison& c, const std::string& key) {
  if (const char* why = adapter_under_test().known_failure(key)) {
    EXPECT_FALSE(c.passed()) << "known failure no longer shows (" << why << "): " << key
                             << "; update impl/adapters/README.md and the list";
    return;
  }
  EXPECT_TRUE(c.passed()) << key << "\n" << c.describe();
}

check::options options_for(const problem& p) {
  check::options opt;
  opt.judged_at = level_of(p);
  opt.check_determinism = true;
  return opt;
}

}  // namespace

std::vector<problem> conformance_problems(const bnc_kernel& k) {
  const std::vector<std::vector<std::int64_t>> shapes = {
      {7, 3}, {3, 4, 5}, {2, 3, 4, 5}, {2, 3, 2, 3, 2}};
  std::vector<problem> out;
  for (dtype t : {dtype::f64, dtype::f32, dtype::f16, dtype::bf16}) {
    for (layout l : {layout::channels_first, layout::channels_last}) {
      for (const auto& shape : shapes) {
        for (mode m : {mode::training, mode::eval}) {
          const problem p = make(shape, l, t, m);
          if (declares(k, p)) out.push_back(p);
        }
      }
    }
  }
  const problem base = make({4, 3, 3, 2}, layout::channels_first, dtype::f32, mode::training);
  const problem variants[] = {
      variant(base, [](problem::fields& f) { f.affine = false; }),
      variant(base, [](problem::fields& f) { f.track_running_stats = false; }),
      variant(base, [](problem::fields& f) { f.track_running_stats = false, f.mode = mode::eval; }),
      variant(base, [](problem::fields& f) { f.momentum = std::nullopt; }),
      variant(base, [](problem::fields& f) { f.momentum = 0.0; }),
      variant(base, [](problem::fields& f) { f.momentum = 1.0; }),
      variant(base, [](problem::fields& f) { f.eps = 0.0; }),
      variant(base, [](problem::fields& f) { f.layout = layout::channels_last, f.eps = 1e-3; }),
  };
  for (const problem& p : variants) {
    if (declares(k, p)) out.push_back(p);
  }
  return out;
}

problem_inputs ordinary_inputs(const problem& p, unsigned seed, double offset) {
  std::mt19937_64 rng(seed);
  problem_inputs in;
  in.x = normal(p.data_type(), p.element_count(), offset, 1.0, rng);
  in.dy = normal(p.data_type(), p.element_count(), 0.0, 1.0, rng);
  in.state = module_state::initial(p);
  if (p.affine()) {
    in.state.gamma = normal(p.stats_type(), p.channels(), 1.0, 0.5, rng);
    in.state.beta = normal(p.stats_type(), p.channels(), 0.0, 1.0, rng);
  }
  if (p.track_running_stats()) {
    in.state.running_mean = normal(p.stats_type(), p.channels(), offset, 0.5, rng);
    std::vector<double> var(static_cast<std::size_t>(p.channels()));
    for (std::size_t c = 0; c < var.size(); ++c) var[c] = 0.5 + 0.25 * static_cast<double>(c);
    in.state.running_var = tensor::from_values(p.stats_type(), var);
    in.state.num_batches_tracked = 3;
  }
  return in;
}

// ---- Fixed problems against the reference -------------------------------------

// One test per data dtype (each test is a process under ctest, and libtorch takes
// a second to load): every fixed problem of that dtype, forward and backward.
TEST_P(AdapterConformance, FixedProblemsMatchTheReference) {
  const dtype t = parse_dtype(GetParam());
  int judged = 0;
  for (const problem& p : conformance_problems(*adapter_under_test().kernel)) {
    if (p.data_type() != t) continue;
    SCOPED_TRACE(p.to_string());
    const problem_inputs in = ordinary_inputs(p, 11);
    expect_judgement(check::run_forward(under_test(), p, in.x, in.state, options_for(p)),
                     p.to_string() + " forward");
    if (under_test().unsupported_reason(p, true).empty()) {
      expect_judgement(check::run_backward(under_test(), p, in.x, in.dy, in.state, options_for(p)),
                       p.to_string() + " backward");
    }
    ++judged;
  }
  EXPECT_GT(judged, 0) << "no declared problem of dtype " << name_of(t);
}

std::vector<const char*> declared_dtype_names(const bnc_kernel& k) {
  std::vector<const char*> out;
  for (dtype t : {dtype::f64, dtype::f32, dtype::f16, dtype::bf16}) {
    if (k.capabilities.dtypes & BNC_BIT(to_abi(t))) out.push_back(name_of(t).data());
  }
  return out;
}

// ---- Degenerate cases of semantics.md ------------------------------------------

// How the death test's child dies of `signal`. Under AddressSanitizer, which handles
// SIGFPE, SIGSEGV, SIGBUS and SIGILL itself, it prints "AddressSanitizer: FPE" (or
// SEGV, ...) and exits with status 1, or aborts with abort_on_error=1 (the asan
// test preset's ASAN_OPTIONS): that report is the signal.
struct expected_death {
  std::function<bool(int)> status;
  std::string stderr_pattern;
};
expected_death death_by(int signal) {
#if defined(__SANITIZE_ADDRESS__)
  const char* asan_name = signal == SIGFPE    ? "FPE"
                          : signal == SIGSEGV ? "SEGV"
                          : signal == SIGBUS  ? "BUS"
                          : signal == SIGILL  ? "ILL"
                                              : nullptr;
  if (asan_name != nullptr) {
    return {[](int status) {
              return (WIFEXITED(status) && WEXITSTATUS(status) == 1) ||
                     (WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT);
            },
            std::string("AddressSanitizer: ") + asan_name};
  }
#endif
  return {::testing::KilledBySignal(signal), ""};
}

// Judges one call through the error model, or, where the adapter lists the key as
// killing the process, expects exactly that signal in a death test.
template <class Judge>
void expect_judgement_or_signal(const std::string& key, Judge judge) {
  if (const int signal = adapter_under_test().known_signal(key); signal != 0) {
    // The peer may have started threads (ATen's pool): the child re-executes.
    GTEST_FLAG_SET(death_test_style, "threadsafe");
    const expected_death death = death_by(signal);
    EXPECT_EXIT((void)judge(), death.status, death.stderr_pattern)
        << "known crash no longer shows: " << key
        << "; update impl/adapters/README.md and the list";
    return;
  }
  expect_judgement(judge(), key);
}

// Runs forward and backward of a problem on given x through the error model.
void expect_conforms(const problem& p, const tensor& x, const module_state& state,
                     const char* what) {
  SCOPED_TRACE(what);
  std::mt19937_64 rng(5);
  const tensor dy = normal(p.data_type(), p.element_count(), 0.0, 1.0, rng);
  const auto options = [&](const std::string& key) {
    check::options opt = options_for(p);
    if (adapter_under_test().unrepeatable(key)) opt.check_determinism = false;
    return opt;
  };
  const std::string forward = std::string(what) + " forward";
  expect_judgement_or_signal(
      forward, [&] { return check::run_forward(under_test(), p, x, state, options(forward)); });
  const std::string backward = std::string(what) + " backward";
  expect_judgement_or_signal(backward, [&] {
    return check::run_backward(under_test(), p, x, dy, state, options(backward));
  });
}

// semantics.md rejects batch statistics over one value per channel
// (INVALID_PROBLEM, nothing changed). The adapters pass the call to the peer: the
// error model judges what the peer does (status, outputs, state).
TEST_P(AdapterDegenerate, SingleValuePerChannelIsThePeersToReject) {
  for (const char* text : {"shape=1x3,dtype=f32", "shape=1x3x1x1,dtype=f32,layout=channels_last",
                           "shape=1x3,dtype=f32,mode=eval,track=false"}) {
    const problem p = problem::parse(text);
    const problem_inputs in = ordinary_inputs(p, 1);
    expect_conforms(p, in.x, in.state, text);
  }
}

TEST_P(AdapterDegenerate, TwoValuesPerChannel) {
  const problem p = problem::parse("shape=2x3,dtype=f32");
  const problem_inputs in = ordinary_inputs(p, 2);
  expect_conforms(p, in.x, in.state, "m == 2");
}

// semantics.md's empty batch: no error, running statistics kept, the counter
// incremented. The call reaches the peer (ATen 1.13's native_batch_norm dies with
// SIGFPE there: a known crash of libtorch-native).
TEST_P(AdapterDegenerate, EmptyBatchReachesThePeer) {
  for (const char* text :
       {"shape=0x3x4,dtype=f32", "shape=2x3x0,dtype=f32,layout=channels_last",
        "shape=0x3,dtype=f32,mode=eval", "shape=0x3x2x2,dtype=f32,affine=false"}) {
    const problem p = problem::parse(text);
    const problem_inputs in = ordinary_inputs(p, 3);
    expect_conforms(p, in.x, in.state, text);
  }
}

TEST_P(AdapterDegenerate, ConstantChannel) {
  // Channel 1 constant, eps > 0: mean exactly the constant, y == beta. 3 makes
  // every partial sum exact; 0.1f does not (the mean must still come out exact).
  for (const float constant : {3.0f, 0.1f}) {
    for (const char* text :
         {"shape=4x3x2x2,dtype=f32", "shape=4x3x2x2,dtype=f32,layout=channels_last"}) {
      const problem p = problem::parse(text);
      problem_inputs in = ordinary_inputs(p, 4);
      for (std::int64_t n = 0; n < 4; ++n) {
        for (std::int64_t s = 0; s < 4; ++s) in.x.set(p.offset(n, 1, s), constant);
      }
      const std::string what =
          "constant channel " + std::to_string(constant) + ", " + std::string(name_of(p.layout()));
      expect_conforms(p, in.x, in.state, what.c_str());
    }
  }
}

TEST_P(AdapterDegenerate, NanAndInfStayInTheirChannel) {
  const problem p = problem::parse("shape=3x3x2,dtype=f32");
  problem_inputs in = ordinary_inputs(p, 5);
  in.x.set(p.offset(1, 0, 1), std::nan(""));
  in.x.set(p.offset(2, 1, 0), inf);
  expect_conforms(p, in.x, in.state, "NaN in channel 0, +Inf in channel 1");
  const problem eval = p.with_mode(mode::eval);
  expect_conforms(eval, in.x, in.state, "eval: only the affected elements");
}

TEST_P(AdapterDegenerate, ZeroEpsConstantChannelIsIllPosedButContained) {
  // eps == 0 and var == 0: the result there is implementation-defined (each
  // adapter's own test pins what its peer gives); the other channels are judged.
  for (const char* text :
       {"shape=4x3x2,dtype=f32,eps=0", "shape=4x3x2,dtype=f32,eps=0,layout=channels_last"}) {
    const problem p = problem::parse(text);
    problem_inputs in = ordinary_inputs(p, 14);
    for (std::int64_t n = 0; n < 4; ++n) {
      for (std::int64_t s = 0; s < 2; ++s) in.x.set(p.offset(n, 1, s), 3.0);
    }
    expect_conforms(p, in.x, in.state, text);
  }
}

TEST_P(AdapterDegenerate, SquaresOverflowButTheVarianceFits) {
  // x = 2e19 + 1e17 N(0, 1) in f32: x^2 overflows, the variance (1e34) does not.
  const problem p = problem::parse("shape=16x2x4,dtype=f32");
  problem_inputs in = ordinary_inputs(p, 15);
  for (std::int64_t i = 0; i < in.x.size(); ++i) in.x.set(i, 2e19 + 1e17 * (in.x.get(i) - 0.5));
  in.state.running_mean = tensor::from_values(dtype::f32, std::vector<double>{2e19, 2e19});
  in.state.running_var = tensor::from_values(dtype::f32, std::vector<double>{1e34, 1e34});
  expect_conforms(p, in.x, in.state, "x^2 overflows");
  expect_conforms(p.with_mode(mode::eval), in.x, in.state, "x^2 overflows, eval");
}

TEST_P(AdapterDegenerate, SubnormalInputsAreNotFlushed) {
  const problem p = problem::parse("shape=4x2x3,dtype=f32");
  problem_inputs in = ordinary_inputs(p, 6);
  for (std::int64_t i = 0; i < in.x.size(); ++i) in.x.set(i, in.x.get(i) * 0x1p-140);
  expect_conforms(p, in.x, in.state, "subnormal x");
}

TEST_P(AdapterDegenerate, GammaZeroOrNegativeAndOneChannel) {
  const problem p = problem::parse("shape=5x2x3,dtype=f32");
  problem_inputs in = ordinary_inputs(p, 7);
  in.state.gamma = tensor::from_values(dtype::f32, std::vector<double>{0.0, -1.75});
  expect_conforms(p, in.x, in.state, "gamma 0 and negative");
  const problem one = problem::parse("shape=5x1x3,dtype=f32,layout=channels_last");
  const problem_inputs single = ordinary_inputs(one, 8);
  expect_conforms(one, single.x, single.state, "C == 1");
}

TEST_P(AdapterDegenerate, ManyChannelsFewValues) {
  const problem p = problem::parse("shape=2x300,dtype=f32");
  const problem_inputs in = ordinary_inputs(p, 9);
  expect_conforms(p, in.x, in.state, "C == 300, m == 2");
}

TEST_P(AdapterDegenerate, MomentumNoneOverASequenceIsTheArithmeticMean) {
  const problem p = problem::parse("shape=4x3x2,dtype=f32,momentum=none");
  module_state state = module_state::initial(p);
  for (unsigned step = 0; step < 5; ++step) {
    const problem_inputs in = ordinary_inputs(p, 100 + step);
    const check::comparison c = check::run_forward(under_test(), p, in.x, state, options_for(p));
    ASSERT_TRUE(c.passed()) << "step " << step << ": " << c.describe();
    // Advance the module as the kernel does, then judge the next step from there.
    ASSERT_TRUE(under_test().forward(p, in.x, state).status.ok());
  }
  EXPECT_EQ(state.num_batches_tracked, 5);
}

// ---- The level each peer reaches ---------------------------------------------------

// Long channels with a large offset (|mean| / std about 1e4 for f32 and f64, 100
// for bf16, whose 8 bits hold nothing finer): where plain sequential f32 sums
// fail, and where strict and standard differ. The adapter's declared level must
// pass; a peer declared at standard must really fall short of strict somewhere,
// or its level is an understatement.
TEST_P(AdapterLevel, LongOffsetChannelsAtTheDeclaredLevel) {
  const bnc_kernel& k = *adapter_under_test().kernel;
  bool strict_missed = false;
  bool any_standard = false;
  for (dtype t : {dtype::f64, dtype::f32, dtype::bf16}) {
    // Channels-first 4D and 2D (where a channel is strided in memory); the
    // conformance tests cover the layouts, and the reference is the cost here.
    for (const std::vector<std::int64_t>& shape :
         {std::vector<std::int64_t>{32, 2, 16, 16}, std::vector<std::int64_t>{8192, 2}}) {
      problem::fields f;
      f.shape = shape;  // m = 8192
      f.data_type = t;
      const problem p(f);
      if (!declares(k, p)) continue;
      const problem_inputs in = ordinary_inputs(p, 16, t == dtype::bf16 ? 100.0 : 1e4);
      const check::level lv = level_of(p);
      any_standard = any_standard || lv == check::level::standard;
      check::options opt = options_for(p);
      opt.check_determinism = false;  // the determinism tests cover it
      for (bool backward : {false, true}) {
        const std::string key = p.to_string() + (backward ? " backward" : " forward");
        const check::comparison c =
            backward ? check::run_backward(under_test(), p, in.x, in.dy, in.state, opt)
                     : check::run_forward(under_test(), p, in.x, in.state, opt);
        expect_judgement(c, key + " offset");
        if (lv == check::level::standard) {
          check::options strict = opt;
          strict.judged_at = check::level::strict;
          const check::comparison s =
              backward ? check::run_backward(under_test(), p, in.x, in.dy, in.state, strict)
                       : check::run_forward(under_test(), p, in.x, in.state, strict);
          if (!s.passed()) strict_missed = true;
          std::cout << "[ level    ] " << key << ": strict " << check::name_of(s.result)
                    << " (worst ratio " << s.worst_ratio << " at " << s.worst_output << ")\n";
        }
      }
    }
  }
  if (any_standard) {
    EXPECT_TRUE(strict_missed) << "declared standard, but strict passes everywhere here";
  }
}

// ---- Determinism, declared capabilities, bad calls ------------------------------

TEST_P(AdapterDeterminism, RepeatedCallsGiveIdenticalBits) {
  // Large enough that both threads take part.
  for (const char* text :
       {"shape=8x16x16x16,dtype=f32", "shape=8x16x16x16,dtype=f32,layout=channels_last",
        "shape=4096x8,dtype=f32"}) {
    const problem p = problem::parse(text);
    const problem_inputs in = ordinary_inputs(p, 10);
    module_state s1 = in.state, s2 = in.state;
    const forward_outputs a = under_test().forward(p, in.x, s1);
    const forward_outputs b = under_test().forward(p, in.x, s2);
    ASSERT_TRUE(a.status.ok() && b.status.ok()) << a.status.message << b.status.message;
    EXPECT_TRUE(a.y.bitwise_equal(b.y)) << text;
    EXPECT_TRUE(a.save_mean.bitwise_equal(b.save_mean)) << text;
    EXPECT_TRUE(a.save_invstd.bitwise_equal(b.save_invstd)) << text;
    EXPECT_TRUE(s1.running_var.bitwise_equal(s2.running_var)) << text;
    const backward_outputs da =
        under_test().backward(p, in.x, in.dy, in.state, a.save_mean, a.save_invstd);
    const backward_outputs db =
        under_test().backward(p, in.x, in.dy, in.state, a.save_mean, a.save_invstd);
    ASSERT_TRUE(da.status.ok() && db.status.ok());
    EXPECT_TRUE(da.dx.bitwise_equal(db.dx)) << text;
    EXPECT_TRUE(da.dgamma.bitwise_equal(db.dgamma)) << text;
    EXPECT_TRUE(da.dbeta.bitwise_equal(db.dbeta)) << text;
  }
}

TEST_P(AdapterCapabilities, UndeclaredDtypesAreRefusedNotComputed) {
  const bnc_kernel& k = *adapter_under_test().kernel;
  for (dtype t : {dtype::f64, dtype::f32, dtype::f16, dtype::bf16}) {
    if (k.capabilities.dtypes & BNC_BIT(to_abi(t))) continue;
    for (const char* shape : {"3x2x2", "0x2x2"}) {
      problem::fields f;
      f.shape = problem::parse(std::string("shape=") + shape).spec().shape;
      f.data_type = t;
      const problem p(f);
      // Straight through the ABI: the harness would not call an undeclared dtype.
      tensor x(t, p.element_count()), y(t, p.element_count());
      module_state s = module_state::initial(p);
      tensor save_mean(p.stats_type(), 2), save_invstd(p.stats_type(), 2);
      const bnc_problem d = p.to_abi();
      bnc_forward_args a{};
      a.struct_size = sizeof a;
      a.x = x.data();
      a.y = y.data();
      a.gamma = s.gamma.data();
      a.beta = s.beta.data();
      a.running_mean = s.running_mean.data();
      a.running_var = s.running_var.data();
      a.save_mean = save_mean.data();
      a.save_invstd = save_invstd.data();
      a.num_batches_tracked = &s.num_batches_tracked;
      a.exponential_average_factor = 0.1;
      char message[256];
      EXPECT_EQ(k.forward(k.context, &d, &a, message, sizeof message), BNC_STATUS_UNSUPPORTED)
          << name_of(t) << " " << shape;
    }
  }
}

TEST_P(AdapterBadCalls, NullBuffersAndShortStructsAreBadArguments) {
  const bnc_kernel& k = *adapter_under_test().kernel;
  const problem p = problem::parse("shape=3x2,dtype=f32");
  const bnc_problem d = p.to_abi();
  char message[256];
  bnc_forward_args a{};
  a.struct_size = sizeof a;  // every pointer NULL
  EXPECT_EQ(k.forward(k.context, &d, &a, message, sizeof message), BNC_STATUS_BAD_ARGUMENT);
  EXPECT_NE(std::string(message), "");
  a.struct_size = 4;
  EXPECT_EQ(k.forward(k.context, &d, &a, message, sizeof message), BNC_STATUS_BAD_ARGUMENT);
  bnc_backward_args b{};
  b.struct_size = sizeof b;
  EXPECT_EQ(k.backward(k.context, &d, &b, message, sizeof message), BNC_STATUS_BAD_ARGUMENT);
  EXPECT_EQ(k.forward(k.context, nullptr, &a, message, sizeof message), BNC_STATUS_BAD_ARGUMENT);
}

void use_plugin_directory_of(const std::string& plugin_path) {
  const std::string directory = std::filesystem::path(plugin_path).parent_path().string();
  ASSERT_EQ(::setenv("BNCONFORM_PLUGIN_DIR", directory.c_str(), 1), 0);
}

}  // namespace bnconform::testing
