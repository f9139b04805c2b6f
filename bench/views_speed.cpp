// The built-in CPU kernel on tensor views (docs/abi.md, "Tensor views"): the dense
// call against the same call with x in the other memory format, with padded rows,
// and in place, forward and backward training, f32, in nanoseconds per element. The
// views go through bnconform/views.h's copies (impl/cpu/README.md, "Tensor views").
//   build/release/bench/views_speed --benchmark_repetitions=5
//     --benchmark_report_aggregates_only=true --benchmark_counters_tabular=true
// (one command line).
// Results: bench/VIEWS_SPEED_RESULTS.md.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "cli/huge_pages.hpp"
#include "core/problem.hpp"
#include "impl/cpu/cpu_kernel.hpp"

namespace {

using namespace bnconform;

enum class view { dense, other_format, padded_rows, in_place };

// 64x64x56x56 f32: 51 MB a tensor, beyond this machine's 32 MiB last-level cache.
constexpr std::int64_t n = 64, c = 64, h = 56, w = 56;

std::vector<std::int64_t> strides_of(view v) {
  switch (v) {
    case view::other_format: return {h * w * c, 1, w * c, c};    // channels-last
    case view::padded_rows: return {c * h * 64, h * 64, 64, 1};  // rows of 56 in 64
    case view::dense:
    case view::in_place: break;
  }
  return {c * h * w, h * w, w, 1};
}

void run(benchmark::State& state, view v, bool backward) {
  const std::vector<std::int64_t> shape{n, c, h, w};
  const std::vector<std::int64_t> strides = strides_of(v);
  const std::vector<std::int64_t> dense = strides_of(view::dense);
  bnc_problem p{};
  p.struct_size = sizeof p;
  p.rank = 4;
  p.shape = shape.data();
  p.layout = BNC_LAYOUT_CHANNELS_FIRST;
  p.data_dtype = BNC_DTYPE_F32;
  p.stats_dtype = BNC_DTYPE_F32;
  p.mode = BNC_MODE_TRAINING;
  p.profile = BNC_PROFILE_PYTORCH;
  p.eps = 1e-5;
  p.momentum = 0.1;
  p.affine = 1;
  p.track_running_stats = 1;
  const std::int64_t span =
      (n - 1) * strides[0] + (c - 1) * strides[1] + (h - 1) * strides[2] + (w - 1) * strides[3] + 1;
  std::vector<float> x(static_cast<std::size_t>(span)), dy(x.size()), out(x.size());
  for (std::size_t i = 0; i < x.size(); ++i) {
    x[i] = 3.0f + static_cast<float>(i % 97) * 0.01f;
    dy[i] = static_cast<float>(i % 89) * 0.01f - 0.4f;
  }
  std::vector<float> gamma(c, 1.5f), beta(c, 0.25f), mean(c, 0.0f), var(c, 1.0f), save_mean(c),
      save_invstd(c), dgamma(c), dbeta(c);
  std::int64_t counter = 0;
  const bnc_kernel* k = cpu::cpu_kernel();
  char message[256];
  const std::vector<float> x_start = x, dy_start = dy;
  for (auto _ : state) {
    bnc_status s = BNC_STATUS_OK;
    if (backward) {
      bnc_backward_args a{};
      a.struct_size = sizeof a;
      a.x = x.data();
      a.dy = dy.data();
      a.dx = v == view::in_place ? dy.data() : out.data();
      a.gamma = gamma.data();
      a.save_mean = save_mean.data();
      a.save_invstd = save_invstd.data();
      a.dgamma = dgamma.data();
      a.dbeta = dbeta.data();
      a.x_strides = strides.data();
      a.dy_strides = strides.data();
      a.dx_strides = strides.data();
      s = k->backward(k->context, &p, &a, message, sizeof message);
    } else {
      bnc_forward_args a{};
      a.struct_size = sizeof a;
      a.x = x.data();
      a.y = v == view::in_place ? x.data() : out.data();
      a.gamma = gamma.data();
      a.beta = beta.data();
      a.running_mean = mean.data();
      a.running_var = var.data();
      a.save_mean = save_mean.data();
      a.save_invstd = save_invstd.data();
      a.num_batches_tracked = &counter;
      a.x_strides = strides.data();
      a.y_strides = v == view::other_format ? dense.data() : strides.data();
      s = k->forward(k->context, &p, &a, message, sizeof message);
    }
    if (s != BNC_STATUS_OK) state.SkipWithError(message);
    if (v == view::in_place) {
      state.PauseTiming();  // in place overwrote the input: the next call starts afresh
      x = x_start;
      dy = dy_start;
      state.ResumeTiming();
    }
  }
  state.counters["ns_per_element"] = benchmark::Counter(
      static_cast<double>(n * c * h * w),
      benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
}

void register_all() {
  const std::pair<const char*, view> views[] = {{"dense", view::dense},
                                                {"x_other_format", view::other_format},
                                                {"padded_rows", view::padded_rows},
                                                {"in_place", view::in_place}};
  for (const bool backward : {false, true}) {
    for (const auto& [name, v] : views) {
      const std::string label = std::string(backward ? "backward/" : "forward/") + name;
      benchmark::RegisterBenchmark(label.c_str(),
                                   [v = v, backward](benchmark::State& s) { run(s, v, backward); })
          ->Unit(benchmark::kMillisecond)
          ->UseRealTime();
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  bnconform::cli::reexecute_with_huge_pages(argv);
  register_all();
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
