// The side-by-side benchmark's statistics and pieces (bench/side_by_side).
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

#include "cases.hpp"
#include "confidence.hpp"
#include "contenders.hpp"
#include "core/error.hpp"
#include "impl/cpu/cpu_kernel.hpp"
#include "machine_cache.hpp"
#include "plot.hpp"
#include "report.hpp"
#include "timing.hpp"

namespace bnconform::bench {
namespace {

// Per-round times around `centre`, with a shared per-round load factor (as on a
// machine where a burst slows every kernel of a round) and independent noise.
std::vector<double> rounds_around(double centre, const std::vector<double>& load,
                                  std::mt19937_64& rng, double noise = 0.02) {
  std::normal_distribution<double> n(0.0, noise);
  std::vector<double> out;
  for (const double l : load) out.push_back(centre * l * (1 + n(rng)));
  return out;
}

std::vector<double> bursty_load(std::size_t rounds, std::mt19937_64& rng) {
  std::uniform_real_distribution<double> u(0, 1);
  std::vector<double> load;
  for (std::size_t i = 0; i < rounds; ++i) load.push_back(u(rng) < 0.2 ? 1.5 + u(rng) : 1.0);
  return load;
}

TEST(BenchConfidence, MedianOfOddAndEvenCounts) {
  EXPECT_EQ(median_of({3, 1, 2}), 2);
  EXPECT_EQ(median_of({4, 1, 3, 2}), 2.5);
  EXPECT_THROW(median_of({}), std::invalid_argument);
}

TEST(BenchConfidence, TenPercentFasterIsFasterAndSlowerIsSlower) {
  std::mt19937_64 rng(7);
  const std::vector<double> load = bursty_load(40, rng);
  const std::vector<double> peer = rounds_around(1.0, load, rng);
  const std::vector<double> fast = rounds_around(0.9, load, rng);
  const std::vector<double> slow = rounds_around(1.1, load, rng);
  const speed_ratio f = bootstrap_speed_ratio(fast, {&peer}, {});
  EXPECT_EQ(f.verdict, speed_verdict::faster);
  EXPECT_NEAR(f.estimate, 1 / 0.9, 0.03);
  EXPECT_LT(f.low, f.estimate);
  EXPECT_GT(f.high, f.estimate);
  EXPECT_GT(f.low, 1.0);
  const speed_ratio s = bootstrap_speed_ratio(slow, {&peer}, {});
  EXPECT_EQ(s.verdict, speed_verdict::slower);
  EXPECT_LT(s.high, 1.0);
}

TEST(BenchConfidence, TheSameDistributionIsATie) {
  // Both kernels drawn from one distribution, 200 times: at 99% confidence the
  // interval holds 1 nearly every time (a verdict here is a false alarm).
  std::mt19937_64 rng(11);
  int ties = 0;
  for (int trial = 0; trial < 200; ++trial) {
    const std::vector<double> load = bursty_load(30, rng);
    const std::vector<double> a = rounds_around(1.0, load, rng);
    const std::vector<double> b = rounds_around(1.0, load, rng);
    bootstrap_options o;
    o.seed = static_cast<std::uint64_t>(trial);
    o.resamples = 500;
    if (bootstrap_speed_ratio(a, {&b}, o).verdict == speed_verdict::tie) ++ties;
  }
  EXPECT_GE(ties, 190);
}

TEST(BenchConfidence, PairedRoundsAbsorbALoadBurst) {
  // Every round of both kernels slowed by the same burst: pairing keeps the ratio
  // (and so the verdict) where unpaired resampling would blur it.
  std::mt19937_64 rng(3);
  const std::vector<double> load = bursty_load(25, rng);
  const std::vector<double> peer = rounds_around(1.0, load, rng, 0.005);
  const std::vector<double> own = rounds_around(0.97, load, rng, 0.005);
  const speed_ratio r = bootstrap_speed_ratio(own, {&peer}, {});
  EXPECT_EQ(r.verdict, speed_verdict::faster);
  EXPECT_NEAR(r.estimate, 1 / 0.97, 0.01);
}

TEST(BenchConfidence, APassThatDisagreesWidensTheIntervalToATie) {
  // Own 10% faster in two passes and 10% slower in the third, each pass tight: as
  // one block the rounds say "faster"; as three passes the interval spans 1.
  std::mt19937_64 rng(13);
  const std::vector<double> load(20, 1.0);
  std::vector<double> own, peer;
  for (const double own_time : {0.9, 0.9, 1.1}) {
    const std::vector<double> o = rounds_around(own_time, load, rng, 0.005);
    const std::vector<double> p = rounds_around(1.0, load, rng, 0.005);
    own.insert(own.end(), o.begin(), o.end());
    peer.insert(peer.end(), p.begin(), p.end());
  }
  EXPECT_EQ(bootstrap_speed_ratio(own, {&peer}, {}).verdict, speed_verdict::faster);
  const speed_ratio r = bootstrap_speed_ratio(own, {&peer}, {}, {20, 20, 20});
  EXPECT_EQ(r.verdict, speed_verdict::tie) << r.low << " " << r.high;
  // Passes that agree keep the verdict.
  std::vector<double> steady;
  for (int pass = 0; pass < 3; ++pass) {
    const std::vector<double> o = rounds_around(0.9, load, rng, 0.005);
    steady.insert(steady.end(), o.begin(), o.end());
  }
  EXPECT_EQ(bootstrap_speed_ratio(steady, {&peer}, {}, {20, 20, 20}).verdict,
            speed_verdict::faster);
  EXPECT_THROW(bootstrap_speed_ratio(own, {&peer}, {}, {20, 20}), std::invalid_argument);
}

TEST(BenchConfidence, TheFastestOtherIsTheOneCompared) {
  std::mt19937_64 rng(5);
  const std::vector<double> load(20, 1.0);
  const std::vector<double> own = rounds_around(1.0, load, rng, 0.001);
  const std::vector<double> slow_peer = rounds_around(3.0, load, rng, 0.001);
  const std::vector<double> fast_peer = rounds_around(0.5, load, rng, 0.001);
  const speed_ratio r = bootstrap_speed_ratio(own, {&slow_peer, &fast_peer}, {});
  EXPECT_NEAR(r.estimate, 0.5, 0.01);
  EXPECT_EQ(r.verdict, speed_verdict::slower);
}

TEST(BenchConfidence, SameDataAndSeedGiveTheSameInterval) {
  std::mt19937_64 rng(9);
  const std::vector<double> load = bursty_load(20, rng);
  const std::vector<double> a = rounds_around(1.0, load, rng);
  const std::vector<double> b = rounds_around(1.01, load, rng);
  const speed_ratio x = bootstrap_speed_ratio(a, {&b}, {});
  const speed_ratio y = bootstrap_speed_ratio(a, {&b}, {});
  EXPECT_EQ(x.low, y.low);
  EXPECT_EQ(x.high, y.high);
}

TEST(BenchConfidence, UnpairedOrEmptyRoundsAreRefused) {
  const std::vector<double> three{1, 2, 3}, two{1, 2}, none;
  EXPECT_THROW(bootstrap_speed_ratio(three, {&two}, {}), std::invalid_argument);
  EXPECT_THROW(bootstrap_speed_ratio(none, {&none}, {}), std::invalid_argument);
  EXPECT_THROW(bootstrap_speed_ratio(three, {}, {}), std::invalid_argument);
}

TEST(BenchCache, SysfsSizeTextParses) {
  EXPECT_EQ(parse_cache_size("32768K"), std::int64_t{32} << 20);
  EXPECT_EQ(parse_cache_size("1M\n"), std::int64_t{1} << 20);
  EXPECT_EQ(parse_cache_size("512"), 512);
  EXPECT_EQ(parse_cache_size(""), std::nullopt);
  EXPECT_EQ(parse_cache_size("K"), std::nullopt);
  EXPECT_EQ(parse_cache_size("12x4K"), std::nullopt);
}

TEST(BenchCache, TheCacheComesFromSysfsWhereItHasEntriesElseFromCpuid) {
  const cache_size c = last_level_cache();
  std::ifstream index0("/sys/devices/system/cpu/cpu0/cache/index0/size");
  if (index0) {
    EXPECT_EQ(c.source.rfind("sysfs", 0), 0u) << c.source;
  } else if (sysconf(_SC_LEVEL3_CACHE_SIZE) > 0) {
    EXPECT_EQ(c.bytes, sysconf(_SC_LEVEL3_CACHE_SIZE));
    EXPECT_EQ(c.source.rfind("CPUID", 0), 0u) << c.source;
  } else {
    EXPECT_GT(c.bytes, 0);
    EXPECT_FALSE(c.source.empty());
  }
}

TEST(BenchCases, RegimesFollowTheCache) {
  const std::int64_t mib = std::int64_t{1} << 20;
  const bench_case small{
      {256, 256}, layout::channels_first, dtype::f32, direction::forward_training};
  EXPECT_EQ(regime_of(small, 32 * mib), memory_regime::cache);  // 0.5 MiB
  const bench_case resnet{{32, 64, 56, 56},
                          layout::channels_last,
                          dtype::f32,
                          direction::forward_training};  // 24.5 MiB per tensor
  EXPECT_EQ(regime_of(resnet, 32 * mib), memory_regime::mixed);
  EXPECT_EQ(regime_of(resnet, 8 * mib), memory_regime::dram);
  EXPECT_EQ(regime_of(resnet, 64 * mib), memory_regime::cache);
}

TEST(BenchCases, TheBeyondCacheShapeIsDramBoundInEveryDtypeLayoutAndDirection) {
  const std::int64_t cache = std::int64_t{32} << 20;
  int beyond = 0;
  for (const bench_case& c : all_cases(false, cache)) {
    if (!c.beyond_cache) continue;
    ++beyond;
    EXPECT_EQ(regime_of(c, cache), memory_regime::dram) << c.label();
    EXPECT_GE(c.tensor_bytes(), beyond_cache_factor * static_cast<double>(cache)) << c.label();
  }
  EXPECT_EQ(beyond, 2 * 2 * 3);  // dtypes x layouts x directions
  // A huge cache is capped: the tensor stays within max_tensor_bytes (plus one sample).
  const std::int64_t n = beyond_cache_batch(dtype::f32, std::int64_t{1} << 34);
  EXPECT_LE(static_cast<double>(n - 1) * 64 * 56 * 56 * 4, max_tensor_bytes);
}

// A kernel that does `repeat` times the CPU kernel's work: a deliberately slow
// variant that the timing and the bootstrap must find slower.
struct slowed {
  static constexpr int repeat = 3;
  // One entry point (&bnc_kernel::forward or ::backward) of the CPU kernel, repeated.
  template <class Args, auto entry>
  static bnc_status repeated(void*, const bnc_problem* p, const Args* a, char* m, size_t n) {
    const bnc_kernel* k = cpu::cpu_kernel();
    bnc_status s = BNC_STATUS_OK;
    for (int i = 0; i < repeat && s == BNC_STATUS_OK; ++i) s = (k->*entry)(k->context, p, a, m, n);
    return s;
  }
  static bnc_kernel description() {
    bnc_kernel d = *cpu::cpu_kernel();
    d.name = "slowed";
    d.forward = repeated<bnc_forward_args, &bnc_kernel::forward>;
    d.backward = repeated<bnc_backward_args, &bnc_kernel::backward>;
    return d;
  }
};

// The CPU kernel's forward and then a 2 ms sleep: far slower in wall time however
// busy the machine is (a sleep does not compete for a core), for the sit-out rule.
struct sleepy {
  static bnc_status forward(void* c, const bnc_problem* p, const bnc_forward_args* a, char* m,
                            size_t n) {
    const bnc_status s = cpu::cpu_kernel()->forward(c, p, a, m, n);
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
    return s;
  }
  static bnc_kernel description() {
    bnc_kernel d = *cpu::cpu_kernel();
    d.name = "sleepy";
    d.forward = forward;
    return d;
  }
};

// Fails from its `fail_after`-th call on.
struct failing {
  static inline int calls = 0;
  static constexpr int fail_after = 6;
  static bnc_status forward(void* c, const bnc_problem* p, const bnc_forward_args* a, char* m,
                            size_t n) {
    if (++calls > fail_after) {
      std::snprintf(m, n, "gave up");
      return BNC_STATUS_INTERNAL_ERROR;
    }
    const bnc_kernel* k = cpu::cpu_kernel();
    return k->forward(c, p, a, m, n);
  }
};

TEST(BenchTiming, ADeliberatelySlowedKernelComesOutSlower) {
  use_threads(1);
  const bnc_kernel slow = slowed::description();
  // Turns of 20 ms: many calls each (the batching), and a scheduler's hiccup on a
  // busy machine is a small part of a turn.
  timing_options opt;
  opt.min_seconds = 0.02;
  opt.min_rounds = 10;
  opt.round_seconds = 0.02;
  for (const direction d : {direction::forward_training, direction::backward}) {
    const bench_case c{{16, 32, 14, 14}, layout::channels_last, dtype::f32, d};
    case_buffers buffers(c);
    const std::vector<timing> t = time_kernels(
        {{&slow, cpu::cpu_kernel()}, {cpu::cpu_kernel(), cpu::cpu_kernel()}}, c, buffers, opt);
    ASSERT_TRUE(t[0].ok) << t[0].error;
    ASSERT_TRUE(t[1].ok) << t[1].error;
    EXPECT_GE(static_cast<int>(t[0].per_round.size()), opt.min_rounds);
    EXPECT_EQ(t[0].per_round.size(), t[1].per_round.size());  // paired rounds
    EXPECT_GT(t[1].calls_per_round, 1);  // a 20 ms turn holds many of these calls
    const speed_ratio r = bootstrap_speed_ratio(t[0].per_round, {&t[1].per_round}, {});
    EXPECT_EQ(r.verdict, speed_verdict::slower) << c.label() << ": " << r.estimate;
    EXPECT_LT(r.estimate, 0.6) << c.label();
    const speed_ratio back = bootstrap_speed_ratio(t[1].per_round, {&t[0].per_round}, {});
    EXPECT_EQ(back.verdict, speed_verdict::faster) << c.label();
  }
}

TEST(BenchTiming, AFailingKernelDropsOutAndAnUnsupportedOneIsNotCalled) {
  bnc_kernel fails = *cpu::cpu_kernel();
  fails.forward = failing::forward;
  bnc_kernel never = *cpu::cpu_kernel();
  never.forward = [](void*, const bnc_problem*, const bnc_forward_args*, char*, size_t) {
    ADD_FAILURE() << "an unsupported kernel was called";
    return BNC_STATUS_INTERNAL_ERROR;
  };
  timing_options opt;
  opt.min_seconds = 0.005;
  opt.min_rounds = 5;
  opt.round_seconds = 1e-9;  // one call per turn, so the failure comes mid-rounds
  const bench_case c{{8, 16, 7, 7}, layout::channels_first, dtype::f32, direction::forward_eval};
  case_buffers buffers(c);
  const std::vector<timing> t = time_kernels({{cpu::cpu_kernel(), cpu::cpu_kernel()},
                                              {&fails, cpu::cpu_kernel()},
                                              {&never, cpu::cpu_kernel(), "not declared"}},
                                             c, buffers, opt);
  EXPECT_TRUE(t[0].ok);
  EXPECT_FALSE(t[1].ok);
  EXPECT_NE(t[1].error.find("gave up"), std::string::npos) << t[1].error;
  EXPECT_TRUE(t[1].per_round.empty());
  EXPECT_FALSE(t[2].ok);
  EXPECT_TRUE(t[2].unsupported);
  EXPECT_EQ(t[2].error, "not declared");
}

TEST(BenchTiming, AFarSlowerPeerSitsOutUnlessItIsTheOnlyStrictOne) {
  use_threads(1);
  const bnc_kernel slow = sleepy::description();
  timing_options opt;
  opt.min_seconds = 0.02;
  opt.min_rounds = 12;
  opt.sit_out_after = 4;
  const bench_case c{{16, 32, 14, 14}, layout::channels_first, dtype::f32, direction::forward_eval};
  case_buffers buffers(c);
  const bnc_kernel* cpu = cpu::cpu_kernel();
  // Both peers of one class: the sleepy one (tens of times slower) leaves after 4 rounds.
  std::vector<timing> t =
      time_kernels({{cpu, cpu, "", -1}, {&slow, cpu, "", 0}, {cpu, cpu, "", 0}}, c, buffers, opt);
  ASSERT_TRUE(t[1].ok);
  EXPECT_TRUE(t[1].sat_out);
  EXPECT_EQ(static_cast<int>(t[1].per_round.size()), opt.sit_out_after);
  EXPECT_FALSE(t[2].sat_out);
  EXPECT_GE(static_cast<int>(t[2].per_round.size()), opt.min_rounds);
  // The sleepy peer passed strict and the fast one did not: it stays.
  t = time_kernels({{cpu, cpu, "", -1}, {&slow, cpu, "", 1}, {cpu, cpu, "", 0}}, c, buffers, opt);
  EXPECT_FALSE(t[1].sat_out);
  EXPECT_EQ(t[1].per_round.size(), t[0].per_round.size());
  // The kernel under test never sits out, however slow.
  t = time_kernels({{&slow, cpu, "", -1}, {cpu, cpu, "", 0}}, c, buffers, opt);
  EXPECT_FALSE(t[0].sat_out);
}

TEST(BenchContenders, TheKernelUnderTestComesFirstAndABadPathIsOneError) {
  const std::vector<contender> cpu = contenders_for("cpu");
  ASSERT_FALSE(cpu.empty());
  EXPECT_EQ(cpu[0].name, "cpu");
  EXPECT_FALSE(cpu[0].is_peer);
  for (std::size_t k = 1; k < cpu.size(); ++k) EXPECT_NE(cpu[k].name, "cpu");
  // Another built-in kernel under test: the CPU kernel joins the peers.
  const std::vector<contender> model = contenders_for("model-wide");
  EXPECT_EQ(model[0].name, "model-wide");
  EXPECT_TRUE(model.back().is_peer);
  EXPECT_EQ(model.back().name, "cpu");
  // The CPU kernel's plugin (another copy of it): the built-in one stays, renamed.
  const std::vector<contender> plugin = contenders_for(BNCONFORM_CPU_PLUGIN);
  EXPECT_EQ(plugin[0].name, "cpu");
  EXPECT_EQ(plugin.back().name, "cpu (built in)");
  EXPECT_NE(plugin.back().timed, plugin[0].timed);
  EXPECT_THROW(contenders_for("/no/such/kernel.so"), error);
  EXPECT_THROW(contenders_for("no-such-kernel"), error);
}

TEST(BenchPlot, OneMarkPerRatedCaseAndArrowsAtTheEdge) {
  run_context ctx;
  ctx.cache = {std::int64_t{32} << 20, "given"};
  const std::vector<contender> kernels = contenders_for("cpu");
  std::vector<case_result> results;
  const bench_case c{{256, 256}, layout::channels_first, dtype::f32, direction::forward_eval};
  results.push_back({c, {}, {}, speed_ratio{1.2, 1.1, 1.3, speed_verdict::faster}, {}});
  results.push_back({c, {}, {}, speed_ratio{9.0, 7.0, 11.0, speed_verdict::faster}, {}});
  results.push_back({c, {}, {}, std::nullopt, {}});  // no ratio: no row
  std::ostringstream svg;
  write_plot_svg(svg, ctx, kernels, results);
  const std::string s = svg.str();
  EXPECT_EQ(s.rfind("<svg", 0), 0u);
  EXPECT_NE(s.find("</svg>"), std::string::npos);
  std::size_t circles = 0, arrows = 0;
  for (std::size_t at = s.find("<circle"); at != std::string::npos; at = s.find("<circle", at + 1))
    ++circles;
  for (std::size_t at = s.find("<path"); at != std::string::npos; at = s.find("<path", at + 1))
    ++arrows;
  EXPECT_EQ(circles, 2u);
  EXPECT_EQ(arrows, 1u);  // 7-11 is beyond the axis's 4
}

}  // namespace
}  // namespace bnconform::bench
