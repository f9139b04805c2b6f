// Both oracle engines side by side, in nanoseconds per element, forward and
// backward (training), on the same problems: f32 and bf16, both layouts, a
// ResNet-sized 32x64x56x56 and a long-channel 8x2x262144 (2^21 values a channel).
//   OMP_NUM_THREADS=1 build/release/bench/reference_speed --benchmark_counters_tabular=true
// The multiprecision engine runs each problem once (seconds a call); the exact
// engine as often as Google Benchmark asks. `fallback` counts the elements the
// exact engine handed to multiprecision. Results: bench/REFERENCE_SPEED_RESULTS.md.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <string>

#include "cli/huge_pages.hpp"
#include "core/rounding.hpp"
#include "reference/reference.hpp"

namespace {

using namespace bnconform;

// Offset data (mean 3, spread 1), dy centred: exact values of the dtype.
reference::call_inputs make_inputs(const problem& p) {
  reference::call_inputs in;
  std::uint64_t state = 1;
  const auto next = [&] {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    return static_cast<double>(state >> 40) * 0x1p-24 - 0.5;
  };
  const auto n = static_cast<std::size_t>(p.element_count());
  in.x.resize(n);
  in.dy.resize(n);
  for (std::size_t i = 0; i < n; ++i) {
    in.x[i] = round_to(3 + next(), p.data_type());
    in.dy[i] = round_to(next(), p.data_type());
  }
  in.gamma.assign(static_cast<std::size_t>(p.channels()), 1.5);
  in.beta.assign(static_cast<std::size_t>(p.channels()), 0.25);
  in.running_mean.assign(static_cast<std::size_t>(p.channels()), 0.0);
  in.running_var.assign(static_cast<std::size_t>(p.channels()), 1.0);
  return in;
}

void run(benchmark::State& state, const std::string& text, reference::oracle engine,
         bool backward) {
  const problem p = problem::parse(text);
  const reference::call_inputs in = make_inputs(p);
  const reference::options opt{reference::default_precision_bits, engine};
  std::int64_t fallback = 0;
  for (auto _ : state) {
    if (backward) {
      const auto r = reference::backward(p, in, opt);
      fallback = r.fallback_elements;
      if (!r.status.ok()) state.SkipWithError(r.status.message.c_str());
    } else {
      const auto r = reference::forward(p, in, opt);
      fallback = r.fallback_elements;
      if (!r.status.ok()) state.SkipWithError(r.status.message.c_str());
    }
  }
  const double elements = static_cast<double>(p.element_count());
  state.counters["ns_per_element"] =
      benchmark::Counter(elements * static_cast<double>(state.iterations()) * 1e-9,
                         benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
  state.counters["fallback"] = static_cast<double>(fallback);
}

void register_all() {
  const char* shapes[] = {"32x64x56x56", "8x2x262144"};
  const char* dtypes[] = {"f32", "bf16", "f64"};
  const char* layouts[] = {"cf", "cl"};
  for (const char* shape : shapes) {
    for (const char* dt : dtypes) {
      for (const char* lay : layouts) {
        const std::string text = std::string("shape=") + shape + ",dtype=" + dt + ",layout=" + lay;
        for (bool backward : {false, true}) {
          for (auto engine : {reference::oracle::exact, reference::oracle::multiprecision}) {
            const std::string name = std::string(backward ? "backward/" : "forward/") +
                                     std::string(reference::name_of(engine)) + "/" + shape + "/" +
                                     dt + "/" + lay;
            auto* b = benchmark::RegisterBenchmark(
                name.c_str(), [=](benchmark::State& s) { run(s, text, engine, backward); });
            b->Unit(benchmark::kMillisecond)->UseRealTime();
            if (engine == reference::oracle::multiprecision) b->Iterations(1);
          }
        }
      }
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  // As the bnconform command runs the engines: malloc in transparent huge pages.
  bnconform::cli::reexecute_with_huge_pages(argv);
  register_all();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
