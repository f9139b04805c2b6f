// How fast the reference is, in nanoseconds per element, forward and backward,
// per precision, self-check included (the cost every later test pays).
//   build/release/bench/reference_speed --benchmark_counters_tabular=true
#include <benchmark/benchmark.h>

#include <cstdint>

#include "reference/reference.hpp"

namespace {

using namespace bnconform;

reference::call_inputs make_inputs(const problem& p) {
  reference::call_inputs in;
  std::uint64_t state = 1;
  const auto next = [&] {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    return static_cast<double>(state >> 40) * 0x1p-24 - 0.5;  // exact in f32
  };
  for (std::int64_t i = 0; i < p.element_count(); ++i) {
    in.x.push_back(3 + next());
    in.dy.push_back(next());
  }
  in.gamma.assign(static_cast<std::size_t>(p.channels()), 1.5);
  in.beta.assign(static_cast<std::size_t>(p.channels()), 0.25);
  in.running_mean.assign(static_cast<std::size_t>(p.channels()), 0.0);
  in.running_var.assign(static_cast<std::size_t>(p.channels()), 1.0);
  return in;
}

void run(benchmark::State& state, bool backward) {
  const int bits = static_cast<int>(state.range(0));
  const problem p = problem::parse("shape=16x8x16x16,dtype=f32");  // 32768 elements
  const reference::call_inputs in = make_inputs(p);
  for (auto _ : state) {
    if (backward) {
      benchmark::DoNotOptimize(reference::backward(p, in, {bits}));
    } else {
      benchmark::DoNotOptimize(reference::forward(p, in, {bits}));
    }
  }
  // Seconds per element, inverted rate; the table shows it in ns.
  const double elements = static_cast<double>(p.element_count());
  state.counters["ns_per_element"] =
      benchmark::Counter(elements * static_cast<double>(state.iterations()) * 1e-9,
                         benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

void ReferenceForward(benchmark::State& state) { run(state, false); }
void ReferenceBackward(benchmark::State& state) { run(state, true); }

BENCHMARK(ReferenceForward)->Arg(128)->Arg(256)->Arg(512)->Unit(benchmark::kMillisecond);
BENCHMARK(ReferenceBackward)->Arg(128)->Arg(256)->Arg(512)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
