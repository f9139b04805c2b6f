// bnconform_bench: this project's CPU kernel, oneDNN and libtorch side by side on
// the benchmark's shapes (cases.cpp), with the machine's STREAM triad bandwidth and
// each kernel's strict accuracy on an offset input. Markdown on stdout (or
// --output), progress on stderr. See bench/README.md for the command behind bench/RESULTS.md.
#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <iostream>
#include <regex>
#include <sstream>
#include <string>

#include "report.hpp"

namespace {

using namespace bnconform::bench;

std::string now_utc() {
  const std::time_t t = std::time(nullptr);
  char text[64];
  std::strftime(text, sizeof text, "%Y-%m-%d %H:%M UTC", std::gmtime(&t));
  return text;
}

std::string machine_text() {
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::string line, model = "unknown CPU";
  int processors = 0;
  while (std::getline(cpuinfo, line)) {
    if (line.rfind("model name", 0) == 0 && model == "unknown CPU")
      model = line.substr(line.find(':') + 2);
    if (line.rfind("processor", 0) == 0) ++processors;
  }
  return model + ", " + std::to_string(processors) + " logical CPUs";
}

// The command line, after the environment variables that change how the kernels
// run (thread placement, the CPU kernel's threads and variant), where set: the
// report's command is then the whole command.
std::string command_text(int argc, char** argv) {
  std::string s;
  for (const char* name : {"OMP_PROC_BIND", "OMP_PLACES", "OMP_NUM_THREADS",
                           "BNCONFORM_CPU_THREADS", "BNCONFORM_CPU_VARIANT"}) {
    if (const char* value = std::getenv(name)) s += std::string(name) + "=" + value + " ";
  }
  for (int i = 0; i < argc; ++i) s += (i ? " " : "") + std::string(argv[i]);
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Side-by-side batch-normalization benchmark: the CPU kernel, oneDNN and libtorch",
               "bnconform_bench"};
  bool quick = false;
  bool judge_accuracy = true;
  std::string output;
  int threads = 2;
  std::int64_t accuracy_reduction = 32768;
  std::int64_t triad_elements = std::int64_t{1} << 25;
  timing_options timing_opt;
  std::string filter;
  app.add_flag("--quick", quick, "a few small cases and short timings: a smoke test");
  app.add_option("--output", output, "write the Markdown report to this file (default stdout)");
  app.add_option("--threads", threads, "OpenMP threads for every kernel and the triad")
      ->check(CLI::PositiveNumber);
  app.add_option("--accuracy-reduction", accuracy_reduction,
                 "values per channel of the sliced accuracy problem")
      ->check(CLI::Range(2, 1 << 22));
  app.add_flag("!--no-accuracy", judge_accuracy, "skip the accuracy column");
  app.add_option("--min-seconds", timing_opt.min_seconds, "measured time per case and kernel");
  app.add_option("--filter", filter,
                 "run only the cases whose label (e.g. \"32x64x56x56 nhwc f32 forward-eval\") "
                 "matches this ECMAScript regular expression (searched, not anchored)");
  CLI11_PARSE(app, argc, argv);
  std::regex filter_regex;
  try {
    filter_regex = std::regex(filter.empty() ? std::string(".") : filter);
  } catch (const std::regex_error& e) {
    std::cerr << "bnconform_bench: error: bad --filter regular expression: " << e.what() << "\n";
    return 2;
  }
#ifndef BNCONFORM_BENCH_HAVE_CHECK
  judge_accuracy = false;  // built without the error model (bnconform::check)
#endif
  if (quick) {
    timing_opt.min_seconds = 0.02;
    timing_opt.min_repetitions = 3;
    timing_opt.warmup = 1;
    accuracy_reduction = std::min<std::int64_t>(accuracy_reduction, 4096);
    triad_elements = std::int64_t{1} << 22;
  }
  use_threads(threads);

  run_context ctx;
  ctx.date_utc = now_utc();
  ctx.machine = machine_text();
  ctx.command = command_text(argc, argv);
  ctx.threads = threads;
  ctx.accuracy_reduction = accuracy_reduction;
  std::cerr << "bnconform_bench: STREAM triad (" << threads << " threads)...\n";
  ctx.triad_before = stream_triad(triad_elements, quick ? 5 : 20, threads);
  std::cerr << "bnconform_bench: triad " << ctx.triad_before.bytes_per_second * 1e-9 << " GB/s\n";

  const std::vector<contender> kernels = built_contenders();
  std::vector<const bnc_kernel*> judged;
  for (const contender& k : kernels) judged.push_back(k.judged);
  std::vector<bench_case> cases;
  for (const bench_case& c : all_cases(quick)) {
    if (filter.empty() || std::regex_search(c.label(), filter_regex)) cases.push_back(c);
  }
  if (cases.empty()) {
    std::cerr << "bnconform_bench: error: --filter matches no case\n";
    return 2;
  }
  std::vector<case_result> results;
  const auto start = std::chrono::steady_clock::now();
  for (std::size_t i = 0; i < cases.size(); ++i) {
    const bench_case& c = cases[i];
    const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start;
    std::cerr << "[" << i + 1 << "/" << cases.size() << ", " << static_cast<int>(elapsed.count())
              << " s] " << c.label() << ":";
    case_result r{c, {}, {}};
    {
      case_buffers buffers(c);
      std::vector<timed_kernel> timed;
      for (const contender& k : kernels) timed.push_back({k.timed, k.judged});
      r.times = time_kernels(timed, c, buffers, timing_opt);
      for (std::size_t k = 0; k < kernels.size(); ++k) {
        if (r.times[k].ok)
          std::cerr << " " << kernels[k].name << " " << r.times[k].median_seconds * 1e3 << " ms";
        else
          std::cerr << " " << kernels[k].name << " n/a";
      }
    }
#ifdef BNCONFORM_BENCH_HAVE_CHECK
    if (judge_accuracy) r.accuracies = judge_kernels(judged, c, accuracy_reduction);
#endif
    std::cerr << "\n";
    results.push_back(std::move(r));
  }

  std::cerr << "bnconform_bench: STREAM triad again, after the cases...\n";
  ctx.triad_after = stream_triad(triad_elements, quick ? 5 : 20, threads);
  std::cerr << "bnconform_bench: triad " << ctx.triad_after.bytes_per_second * 1e-9 << " GB/s\n";
  ctx.triad = ctx.triad_after.bytes_per_second > ctx.triad_before.bytes_per_second
                  ? ctx.triad_after
                  : ctx.triad_before;

  if (output.empty()) {
    write_report(std::cout, ctx, kernels, results);
  } else {
    std::ofstream file(output);
    write_report(file, ctx, kernels, results);
    if (!file) {
      std::cerr << "bnconform_bench: error: could not write " << output << "\n";
      return 2;
    }
    std::cerr << "bnconform_bench: wrote " << output << "\n";
  }
  return 0;
}
