#include "fuzz_command.hpp"

#include <chrono>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <sstream>

#include "core/error.hpp"
#include "fuzz/campaign.hpp"
#include "fuzz/corpus.hpp"
#include "output_file.hpp"
#if defined(BNCONFORM_HAVE_MPI)
#include <filesystem>
#include <fstream>

#include "distributed/mpi_world.hpp"
#include "rank_worker_command.hpp"
#endif
#include "fuzz/replay.hpp"
#include "kernel_registry.hpp"
#include "oracle_option.hpp"
#include "progress.hpp"

namespace bnconform::cli {

CLI::App* add_fuzz_command(CLI::App& app, fuzz_options& o) {
  CLI::App* fuzz = app.add_subcommand(
      "fuzz", "Fuzz a kernel against the reference; save every failure, shrunk, in a corpus");
  add_oracle_option(fuzz);
  fuzz->require_subcommand(0, 1);
  fuzz->add_option("--kernel", o.kernel_name, kernel_option_help());
  fuzz->add_option("--precision", o.precision_bits,
                   "Bits of the reference kernel, when fuzzing it");
  auto* minutes = fuzz->add_option("--minutes", o.minutes, "Time budget in minutes (default 1)");
  auto* cases = fuzz->add_option("--cases", o.cases, "Case budget: run exactly this many cases");
  minutes->excludes(cases);
  fuzz->add_option("--seed", o.seed, "Campaign seed, decimal or 0x hex (default 1)");
  fuzz->add_option("--first-case", o.first_case,
                   "Index of the first case (shards of one campaign: disjoint case ranges)");
  fuzz->add_option("--jobs", o.jobs, "Worker processes (default 1; 0: in this process)");
  fuzz->add_option("--corpus", o.corpus,
                   "Directory the findings are saved in (default fuzz-corpus)");
  fuzz->add_option("--level", o.level, "Certification level: strict (default) or standard");
  fuzz->add_option("--timeout", o.timeout_seconds,
                   "Seconds of silence after which a worker counts as hung (default 60)");
  fuzz->add_flag("--quiet", o.quiet, "No progress lines");

  CLI::App* replay = fuzz->add_subcommand(
      "replay", "Judge a corpus's findings again; say whether each verdict is the same");
  add_oracle_option(replay);
  replay->add_option("paths", o.replay_paths, "Corpus directories or case files")->required();
  replay->add_option("--kernel", o.kernel_name,
                     "Judge with this kernel (default: each file's own)");
  replay->add_option("--level", o.replay_level, "Judge at this level (default: each file's own)");
  replay->add_option("--timeout", o.timeout_seconds, "Seconds before a case counts as hung");
  replay->add_flag("--in-process", o.replay_in_process,
                   "Judge in this process (no isolation: a crash ends the replay)");

  CLI::App* merge = fuzz->add_subcommand(
      "merge", "Merge corpora into one directory, one file per distinct finding");
  merge->add_option("destination", o.merge_destination, "The merged corpus")->required();
  merge->add_option("sources", o.merge_sources, "Corpora to merge into it")->required();
  return fuzz;
}

namespace {

std::uint64_t parse_seed(const std::string& text) {
  try {
    std::size_t used = 0;
    const std::uint64_t v = std::stoull(text, &used, 0);
    if (used == text.size() && !text.starts_with('-')) return v;
  } catch (const std::exception&) {
  }
  report_error("--seed: expected a non-negative integer (decimal or 0x hex), got '" + text + "'");
}

check::level parse_level_option(const std::string& text) {
  const std::optional<check::level> l = check::parse_level(text);
  if (!l) report_error("--level: expected strict or standard, got '" + text + "'");
  return *l;
}

std::chrono::milliseconds timeout_of(double seconds) {
  if (!(seconds > 0)) report_error("--timeout: must be > 0 seconds");
  return std::chrono::milliseconds(static_cast<std::int64_t>(seconds * 1000));
}

// The bar's state: the share of the case budget done, or of the time budget spent.
progress_state progress_of(const fuzz::campaign_progress& p) {
  progress_state state;
  state.label = "fuzz";
  const double cases = static_cast<double>(p.cases);
  std::ostringstream counts;
  counts << p.cases;
  if (p.of) {
    const double of = static_cast<double>(*p.of);
    counts << "/" << *p.of;
    state.fraction = of > 0 ? cases / of : 1.0;
    state.seconds_left = p.cases > 0 ? p.seconds * (of - cases) / cases : -1;
  } else {
    state.fraction = p.seconds + p.seconds_left > 0 ? p.seconds / (p.seconds + p.seconds_left) : 1;
    state.seconds_left = p.seconds_left;
  }
  counts << " cases, " << p.failures << (p.failures == 1 ? " failure" : " failures");
  state.counts = counts.str();
  return state;
}

#if defined(BNCONFORM_HAVE_MPI)
// One campaign over the ranks of `mpiexec -n R bnconform fuzz ...`: rank r runs its
// share of the cases (with --cases, the r-th of R contiguous ranges; with a time
// budget, the cases from first_case + r * 2^40) into CORPUS/ranks/<r>, where its
// findings land as they are found (a job that dies keeps them: `fuzz merge`
// recovers them); then every rank's findings are gathered into rank 0's CORPUS,
// and rank 0 prints the summary of every rank. The findings are those of the same
// cases on one process: a case depends only on (seed, index).
int across_ranks(const kernel& k, fuzz::campaign_options opt, const fuzz_options& o,
                 progress_display& display) {
  const std::optional<int> code = [&]() -> std::optional<int> {
    const distributed::mpi_world world(nullptr, nullptr);
    const auto r = static_cast<std::uint64_t>(world.rank());
    const auto ranks = static_cast<std::uint64_t>(world.size());
    if (opt.cases) {
      const std::uint64_t all = *opt.cases;
      opt.first_case += all * r / ranks;
      opt.cases = all * (r + 1) / ranks - all * r / ranks;
    } else {
      opt.first_case += r << 40;
    }
    const std::filesystem::path corpus = opt.corpus;
    const std::filesystem::path mine = corpus / "ranks" / std::to_string(r);
    opt.corpus = mine;
    if (r != 0) opt.on_progress = nullptr;
    const fuzz::campaign_summary s =
        opt.cases == std::uint64_t{0} ? fuzz::campaign_summary{} : fuzz::run_campaign(k, opt);
    display.finish();
    // Each finding as "name\0size\0bytes", then the summary after a final "\0\0".
    std::string packed;
    for (const fuzz::saved_finding& f : s.findings) {
      std::ifstream in(f.file, std::ios::binary);
      const std::string bytes((std::istreambuf_iterator<char>(in)),
                              std::istreambuf_iterator<char>());
      packed += f.file.filename().string() + '\0' + std::to_string(bytes.size()) + '\0' + bytes;
    }
    packed +=
        std::string("\0\0", 2) + std::to_string(s.findings.size()) + " finding(s), " + s.describe();
    const std::vector<std::string> all = world.gather_to_root(packed);
    std::set<std::string> found_names;
    if (r == 0) {
      std::filesystem::create_directories(corpus);
      std::string summaries;
      for (std::size_t rank = 0; rank < all.size(); ++rank) {
        const std::string& p = all[rank];
        std::size_t at = 0;
        while (at < p.size() && p[at] != '\0') {
          const std::size_t name_end = p.find('\0', at);
          const std::size_t size_end = p.find('\0', name_end + 1);
          const std::string name = p.substr(at, name_end - at);
          const std::size_t size = std::stoull(p.substr(name_end + 1, size_end - name_end - 1));
          write_file_atomically((corpus / name).string(), p.substr(size_end + 1, size));
          found_names.insert(name);
          at = size_end + 1 + size;
        }
        summaries += "rank " + std::to_string(rank) + ": " + p.substr(std::min(p.size(), at + 2));
      }
      std::cout << "bnconform fuzz --kernel " << o.kernel_name << " --level " << o.level
                << " --seed " << o.seed << " over " << ranks << " ranks\n"
                << found_names.size() << " finding(s) gathered into " << corpus.string() << "\n"
                << summaries;
    }
    world.barrier();  // rank 0 holds every finding: the ranks' own copies can go
    std::error_code ec;
    std::filesystem::remove_all(mine, ec);
    world.barrier();
    if (r == 0) std::filesystem::remove(corpus / "ranks", ec);
    return found_names.empty() ? 0 : 1;
  }();
  end_mpi_process(*code);
}
#endif

int execute_campaign(const fuzz_options& o) {
  if (o.kernel_name.empty()) report_error("fuzz: --kernel is required");
  if (o.jobs < 0) report_error("fuzz: --jobs must be >= 0");
  if (o.first_case < 0) report_error("fuzz: --first-case must be >= 0");
  if (o.minutes < 0) report_error("fuzz: --minutes must be >= 0");
  const loaded_kernel k = load_kernel(o.kernel_name, o.precision_bits);
  fuzz::campaign_options opt;
  opt.kernel_name = o.kernel_name;
  opt.level = parse_level_option(o.level);
  opt.seed = parse_seed(o.seed);
  if (o.cases >= 0) opt.cases = static_cast<std::uint64_t>(o.cases);
  opt.minutes = o.minutes > 0 ? o.minutes : 1;
  opt.first_case = static_cast<std::uint64_t>(o.first_case);
  opt.jobs = o.jobs;
  opt.corpus = o.corpus;
  opt.case_timeout = timeout_of(o.timeout_seconds);
  progress_display display(std::cerr, !o.quiet && stderr_is_terminal(), terminal_columns());
  if (!o.quiet) {
    opt.on_progress = [&display, last = std::chrono::steady_clock::time_point{}](
                          const fuzz::campaign_progress& p) mutable {
      // A terminal gets a bar; a log a plain line every 10 s.
      if (display.terminal()) {
        display.update(progress_of(p));
        return;
      }
      const auto now = std::chrono::steady_clock::now();
      if (now - last < std::chrono::seconds(10)) return;
      last = now;
      display.line(p.line);
    };
  }
#if defined(BNCONFORM_HAVE_MPI)
  if (distributed::mpi_world::launched()) return across_ranks(k.get(), opt, o, display);
#endif
  const fuzz::campaign_summary s = fuzz::run_campaign(k.get(), opt);
  display.finish();
  std::cout << "bnconform fuzz --kernel " << o.kernel_name << " --level " << o.level << " --seed "
            << o.seed << "\n"
            << s.describe();
  return s.found_nothing() ? 0 : 1;
}

int execute_replay(const fuzz_options& o) {
  fuzz::replay_options opt;
  opt.kernel_name = o.kernel_name;
  if (!o.replay_level.empty()) opt.level = parse_level_option(o.replay_level);
  opt.case_timeout = timeout_of(o.timeout_seconds);
  opt.isolate = !o.replay_in_process;
  std::map<std::string, std::unique_ptr<loaded_kernel>> kernels;
  const auto kernel_named = [&](const std::string& name) -> const kernel& {
    auto& slot = kernels[name];
    if (!slot) slot = std::make_unique<loaded_kernel>(load_kernel(name, 0));
    return slot->get();
  };
  std::vector<std::filesystem::path> paths(o.replay_paths.begin(), o.replay_paths.end());
  const fuzz::replay_report r = fuzz::replay_corpus(paths, opt, kernel_named);
  std::cout << r.describe();
  return r.different == 0 ? 0 : 1;
}

int execute_merge(const fuzz_options& o) {
  std::vector<std::filesystem::path> sources(o.merge_sources.begin(), o.merge_sources.end());
  const fuzz::merge_report r = fuzz::merge_corpora(o.merge_destination, sources);
  std::cout << "merged into " << o.merge_destination << ": " << r.added << " added, " << r.duplicate
            << " already there\n";
  return 0;
}

}  // namespace

int execute_fuzz(const CLI::App& fuzz, const fuzz_options& o) {
  if (fuzz.got_subcommand("replay")) return execute_replay(o);
  if (fuzz.got_subcommand("merge")) return execute_merge(o);
  return execute_campaign(o);
}

}  // namespace bnconform::cli
