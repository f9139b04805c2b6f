// bnconform_bench: a kernel under test (this project's CPU kernel unless --kernel
// names another) side by side with oneDNN and libtorch on the benchmark's shapes
// (cases.cpp), with speed ratios and their bootstrap intervals, the machine's
// STREAM triad bandwidth and last-level cache, and each kernel's strict accuracy
// on an offset input. Markdown on stdout (or --output, with an SVG plot beside it),
// progress on stderr. See bench/README.md for the command behind bench/RESULTS.md.
#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <iostream>
#include <regex>
#include <sstream>
#include <string>

#include "cli/output_file.hpp"
#include "core/error.hpp"
#include "plot.hpp"
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
  CLI::App app{
      "Side-by-side batch-normalization benchmark: a kernel (the CPU kernel by default) against "
      "oneDNN and libtorch, with confidence intervals",
      "bnconform_bench"};
  bool quick = false;
  bool judge_accuracy = true;
  std::string output;
  int threads = 2;
  std::int64_t accuracy_reduction = 32768;
  std::int64_t triad_elements = std::int64_t{1} << 25;
  timing_options timing_opt;
  std::string filter;
  std::string own_kernel = "cpu";
  std::string plot;
  std::int64_t cache_bytes = 0;
  bootstrap_options bootstrap;
  app.add_option("--kernel", own_kernel,
                 "the kernel under test: cpu (default), another built-in name of "
                 "`bnconform --kernel`, or a path to a kernel library (.so)");
  app.add_option("--plot", plot,
                 "write the SVG plot here (default: beside --output, with .svg for its "
                 "extension; none on stdout)");
  app.add_option("--llc-bytes", cache_bytes,
                 "the last-level cache in bytes (default: read from the machine)")
      ->check(CLI::Range(std::int64_t{1} << 16, std::int64_t{1} << 34));
  int passes = 5;
  app.add_option("--passes", passes,
                 "passes over every case (each case's rounds are shared out among them)")
      ->check(CLI::Range(1, 100));
  bool cache_sweep = false;
  app.add_flag("--cache-sweep", cache_sweep,
               "print the read bandwidth over working sets of 1 MiB to 1 GiB and exit: where it "
               "drops is the last-level cache a core reaches (for --llc-bytes where the machine "
               "misreports it)");
  app.add_option("--confidence", bootstrap.confidence, "the intervals' confidence")
      ->check(CLI::Range(0.5, 0.9999));
  app.add_option("--min-rounds", timing_opt.min_rounds, "interleaved rounds per case, at least")
      ->check(CLI::Range(3, 100000));
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
    timing_opt.min_rounds = std::min(timing_opt.min_rounds, 6);
    passes = std::min(passes, 2);
    timing_opt.warmup = 1;
    accuracy_reduction = std::min<std::int64_t>(accuracy_reduction, 4096);
    triad_elements = std::int64_t{1} << 22;
  }
  if (cache_sweep) {
    const cache_size c = last_level_cache();
    std::cout << "last-level cache as the machine reports it: " << c.bytes / (1 << 20) << " MiB ("
              << c.source << ")\nread bandwidth, " << threads << " threads, best of 6 rounds:\n";
    for (const sweep_point& p : read_bandwidth_sweep(std::int64_t{1} << 30, threads))
      std::cout << "  " << static_cast<double>(p.bytes) / (1 << 20)
                << " MiB: " << p.bytes_per_second * 1e-9 << " GB/s\n";
    return 0;
  }
  std::vector<contender> kernels;
  try {
    kernels = contenders_for(own_kernel);
  } catch (const bnconform::error& e) {
    std::cerr << "bnconform_bench: error: --kernel " << own_kernel << ": " << e.what() << "\n";
    return 2;
  }
  use_threads(threads);
  if (plot.empty() && !output.empty()) {
    const std::size_t dot = output.find_last_of('.');
    const std::size_t slash = output.find_last_of('/');
    plot = (dot != std::string::npos && (slash == std::string::npos || dot > slash)
                ? output.substr(0, dot)
                : output) +
           ".svg";
  }

  run_context ctx;
  ctx.cache =
      cache_bytes > 0 ? cache_size{cache_bytes, "given by --llc-bytes"} : last_level_cache();
  ctx.bootstrap = bootstrap;
  ctx.passes = passes;
  if (!plot.empty()) {
    // The report links the plot relative to itself when they share a folder.
    const std::size_t slash = plot.find_last_of('/');
    const std::string folder = slash == std::string::npos ? "" : plot.substr(0, slash + 1);
    const std::size_t out_slash = output.find_last_of('/');
    const std::string out_folder =
        out_slash == std::string::npos ? "" : output.substr(0, out_slash + 1);
    ctx.plot_file = folder == out_folder ? plot.substr(folder.size()) : plot;
  }
  ctx.date_utc = now_utc();
  ctx.machine = machine_text();
  ctx.command = command_text(argc, argv);
  ctx.threads = threads;
  ctx.accuracy_reduction = accuracy_reduction;
  std::cerr << "bnconform_bench: STREAM triad (" << threads << " threads)...\n";
  ctx.triad_before = stream_triad(triad_elements, quick ? 5 : 20, threads);
  std::cerr << "bnconform_bench: triad " << ctx.triad_before.bytes_per_second * 1e-9 << " GB/s\n";

  std::vector<bench_case> cases;
  for (const bench_case& c : all_cases(quick, ctx.cache.bytes)) {
    if (filter.empty() || std::regex_search(c.label(), filter_regex)) cases.push_back(c);
  }
  if (cases.empty()) {
    std::cerr << "bnconform_bench: error: --filter matches no case\n";
    return 2;
  }
  // Passes over every case: each pass gives every case its share of the rounds on
  // freshly allocated buffers, so that a case's rounds are spread over the run and
  // the intervals (a bootstrap over passes, then rounds) take in how the machine
  // changed between passes, not only within minutes of one case.
  std::vector<case_result> results;
  for (const bench_case& c : cases) results.push_back({c, {}, {}, {}, {}});
  timing_options pass_opt = timing_opt;
  pass_opt.min_rounds = (timing_opt.min_rounds + passes - 1) / passes;
  pass_opt.min_seconds = timing_opt.min_seconds / passes;
  pass_opt.sit_out_after = std::min(timing_opt.sit_out_after, pass_opt.min_rounds);
  const auto start = std::chrono::steady_clock::now();
  for (int pass = 0; pass < passes; ++pass) {
    for (std::size_t i = 0; i < cases.size(); ++i) {
      const bench_case& c = cases[i];
      case_result& r = results[i];
      const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start;
      std::cerr << "[pass " << pass + 1 << "/" << passes << ", " << i + 1 << "/" << cases.size()
                << ", " << static_cast<int>(elapsed.count()) << " s] " << c.label() << ":";
      const bool backward = c.dir == direction::backward;
      std::vector<std::string> unsupported;
      for (const contender& k : kernels)
        unsupported.push_back(unsupported_reason(k, c.to_problem(), backward));
#ifdef BNCONFORM_BENCH_HAVE_CHECK
      if (judge_accuracy && pass == 0) {
        // Only the kernels that declare the case are called.
        std::vector<const bnc_kernel*> judged;
        for (std::size_t k = 0; k < kernels.size(); ++k)
          judged.push_back(unsupported[k].empty() ? kernels[k].judged : nullptr);
        r.accuracies = judge_kernels(judged, c, accuracy_reduction);
      }
#endif
      // Accuracy first: a peer that passed strict never sits out for one that did
      // not. A peer sits out only in the first pass, and then for the whole run.
      std::vector<timed_kernel> timed;
      for (std::size_t k = 0; k < kernels.size(); ++k) {
        const int peer_class = k == 0 ? -1 : passed_strict(r, k) ? 1 : 0;
        const bool skip = pass > 0 && (!r.times[k].ok || r.times[k].sat_out);
        timed.push_back({kernels[k].timed, kernels[k].judged,
                         skip ? std::string("not timed again") : unsupported[k], peer_class});
      }
      timing_options opt = pass_opt;
      if (pass > 0) opt.sit_out_after = 0;
      std::vector<timing> times;
      {
        case_buffers buffers(c);
        times = time_kernels(timed, c, buffers, opt);
      }
      if (pass == 0) {
        r.times = std::move(times);
      } else {
        for (std::size_t k = 0; k < kernels.size(); ++k) {
          if (!r.times[k].ok || r.times[k].sat_out) continue;
          if (!times[k].ok) {
            r.times[k] = std::move(times[k]);  // failed in a later pass: out, with why
            continue;
          }
          add_pass(r.times[k], times[k]);
        }
      }
      for (std::size_t k = 0; k < kernels.size(); ++k) {
        if (r.times[k].ok)
          std::cerr << " " << kernels[k].name << " " << r.times[k].median_seconds * 1e3 << " ms"
                    << (r.times[k].sat_out ? " (sat out)" : "");
        else
          std::cerr << " " << kernels[k].name << (r.times[k].unsupported ? " unsupported" : " n/a");
      }
      rate_speed(r, kernels, bootstrap, i);
      if (r.vs_peer)
        std::cerr << "; " << name_of(r.vs_peer->verdict) << " " << r.vs_peer->estimate << " ["
                  << r.vs_peer->low << ", " << r.vs_peer->high << "]";
      std::cerr << "\n";
    }
  }

  std::cerr << "bnconform_bench: STREAM triad again, after the cases...\n";
  ctx.triad_after = stream_triad(triad_elements, quick ? 5 : 20, threads);
  std::cerr << "bnconform_bench: triad " << ctx.triad_after.bytes_per_second * 1e-9 << " GB/s\n";
  ctx.triad = ctx.triad_after.bytes_per_second > ctx.triad_before.bytes_per_second
                  ? ctx.triad_after
                  : ctx.triad_before;

  std::ostringstream report;
  write_report(report, ctx, kernels, results);
  try {
    if (!plot.empty()) {
      std::ostringstream svg;
      write_plot_svg(svg, ctx, kernels, results);
      bnconform::cli::write_file_atomically(plot, svg.str());
      std::cerr << "bnconform_bench: wrote " << plot << "\n";
    }
    bnconform::cli::emit(output, report.str());
  } catch (const bnconform::error& e) {
    std::cerr << "bnconform_bench: error: " << e.what() << "\n";
    return 2;
  }
  if (!output.empty()) std::cerr << "bnconform_bench: wrote " << output << "\n";
  return 0;
}
