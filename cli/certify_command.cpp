#include "certify_command.hpp"

#include <sched.h>

#include <algorithm>
#include <filesystem>
#include <iostream>

#include "certify/certifier.hpp"
#include "certify/html_report.hpp"
#include "certify/report.hpp"
#include "certify/shapes_file.hpp"
#include "core/error.hpp"
#include "distributed/launcher.hpp"
#include "failure_files.hpp"
#include "install_paths.hpp"
#include "kernel_registry.hpp"
#include "oracle_option.hpp"
#include "output_file.hpp"
#include "progress.hpp"
#include "run_identity.hpp"

namespace bnconform::cli {

namespace {

// The installed catalog, or the build tree's (cli/install_paths.hpp).
std::string default_golden_directory() { return (data_directory() / "golden" / "cases").string(); }

// More ranks than this on one machine is a mistake, not a test.
constexpr int max_ranks = 64;

// The CPUs this process may run on (its affinity mask), at least 1.
int online_cpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (::sched_getaffinity(0, sizeof set, &set) != 0) return 1;
  return std::max(1, CPU_COUNT(&set));
}

// The bar's state: the items and rounds done, the failures, and the estimate of
// the certifier (certify::run_progress).
progress_state progress_of(const certify::run_progress& r) {
  progress_state state;
  state.label = "certify";
  if (r.profiles > 1) {
    state.label +=
        " " + r.profile + " " + std::to_string(r.profile_number) + "/" + std::to_string(r.profiles);
  }
  state.fraction = r.fraction;
  state.seconds_left = r.seconds_left;
  state.counts = std::to_string(r.fixed_done) + "/" + std::to_string(r.fixed_total) + " items";
  if (r.rounds_done > 0) state.counts += ", " + std::to_string(r.rounds_done) + " rounds";
  state.counts += ", " + std::to_string(r.failures) + " failed";
  return state;
}

}  // namespace

CLI::App* add_certify_command(CLI::App& app, certify_options& o) {
  CLI::App* c = app.add_subcommand(
      "certify",
      "Run the whole battery against a kernel and write a certificate (docs/certify.md)");
  add_oracle_option(c);
  c->add_option("--kernel", o.kernel_name, kernel_option_help())->required();
  c->add_option("--level", o.level, "strict or standard (default standard)");
  c->add_option("--profile", o.profile,
                "Semantics to certify against: pytorch (default), onnx, keras, tf-fused, flax, a "
                "comma list of them, or all (one certificate, a row per profile)");
  c->add_option("--budget", o.budget_seconds,
                "Seconds of property search after the fixed groups (default 20)")
      ->check(CLI::NonNegativeNumber);
  c->add_option("--seed", o.seed, "Seed of every generated case (default 1)");
  c->add_option(
      "--report", o.report_directory,
      "Directory for certificate.json, junit.xml, report.html and failures/ (created if missing)");
  c->add_option("--save-failures", o.failures_directory,
                "Directory for a case file per failing item, which `bnconform check` replays "
                "(default: REPORTDIR/failures with --report)");
  c->add_option("--case-timeout", o.case_timeout_seconds,
                "Seconds of silence after which a case counts as hung (default 60)")
      ->check(CLI::PositiveNumber);
  c->add_option("--max-crashes", o.max_crashes,
                "Crashes and hangs after which the rest is left unrun (default 3)")
      ->check(CLI::PositiveNumber);
  c->add_flag("--fail-fast", o.fail_fast, "Stop at the first failing item");
  c->add_option("--only", o.only, "Run one item by its report name (the repro lines use this)");
  c->add_option("--groups", o.groups,
                "Run only these groups: coverage, malformed, views, degenerate, reproducibility, "
                "golden, gradient, realistic, distributed, properties")
      ->delimiter(',');
  c->add_option("--golden", o.golden_directory, "Directory of golden files")
      ->default_str(default_golden_directory());
  c->add_option("--shapes", o.shapes_file,
                "File of shapes or problem strings, one per line, that the realistic group "
                "certifies instead of its built-in networks");
  c->add_option("--ranks", o.ranks,
                "Also certify distributed training (SyncBatchNorm) over up to R ranks, each a "
                "process started through mpiexec (docs/certify.md)");
  c->add_option("--jobs", o.jobs,
                "Worker processes that run items side by side (default: one per online CPU)")
      ->check(CLI::PositiveNumber);
  return c;
}

namespace {

certify::settings settings_from(const certify_options& o) {
  certify::settings s;
  const std::optional<check::level> level = check::parse_level(o.level);
  if (!level) report_error("--level: '" + o.level + "' is neither strict nor standard");
  s.level = *level;
  s.profile = certify::parse_profile_list(o.profile).front();  // a bad name is a usage error
  s.budget_seconds = o.budget_seconds;
  s.seed = o.seed;
  s.case_timeout_seconds = o.case_timeout_seconds;
  s.max_isolation_failures = o.max_crashes;
  s.fail_fast = o.fail_fast;
  if (!o.groups.empty()) {
    s.groups.clear();
    for (const std::string& g : o.groups) s.groups.push_back(certify::parse_group(g));
  }
  s.golden_directory = o.golden_directory.empty() ? default_golden_directory() : o.golden_directory;
  if (!std::filesystem::is_directory(s.golden_directory)) {
    report_error(o.golden_directory.empty()
                     ? "the golden catalog '" + s.golden_directory +
                           "' is not a directory (give --golden, or set BNCONFORM_DATA_DIR)"
                     : "--golden: '" + s.golden_directory + "' is not a directory");
  }
  if (!o.shapes_file.empty()) {
    s.shapes_file = o.shapes_file;
    (void)certify::read_shapes_file(s.shapes_file);  // a bad line is a usage error, found now
  }
  s.jobs = o.jobs > 0 ? o.jobs : online_cpus();
  std::error_code no_exe;
  s.executable = std::filesystem::read_symlink("/proc/self/exe", no_exe).string();
  if (o.ranks) {
    if (*o.ranks < 1 || *o.ranks > max_ranks) {
      report_error("--ranks: " + std::to_string(*o.ranks) + " is not a number of ranks from 1 to " +
                   std::to_string(max_ranks));
    }
#if !defined(BNCONFORM_HAVE_MPI)
    report_error(
        "--ranks: this bnconform was built without MPI (install libopenmpi-dev and openmpi-bin, "
        "then configure again)");
#endif
    s.mpiexec = distributed::find_mpiexec();
    if (s.mpiexec.empty()) {
      report_error(
          "--ranks: mpiexec not found on PATH (Debian: openmpi-bin; or set BNCONFORM_MPIEXEC)");
    }
    s.ranks = *o.ranks;
  }
  return s;
}

// Where the failing items' case files go: --save-failures, else REPORTDIR/failures
// under --report, else nowhere; and the option to name in an error.
struct failure_destination {
  std::string directory, option;
};

failure_destination failures_directory(const certify_options& o) {
  if (!o.failures_directory.empty()) return {o.failures_directory, "--save-failures"};
  if (o.report_directory.empty()) return {};
  return {(std::filesystem::path(o.report_directory) / "failures").string(), "--report"};
}

}  // namespace

int execute_certify(const certify_options& o, const std::string& suite_version) {
  const certify::settings s = settings_from(o);
  const std::vector<std::string> profiles = certify::parse_profile_list(o.profile);
  certify::kernel_source source;
  source.argument = o.kernel_name;
  if (is_kernel_path(o.kernel_name)) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(o.kernel_name, ec)) {
      report_error("--kernel: '" + o.kernel_name + "' is not a file");
    }
    source.library_path = std::filesystem::absolute(o.kernel_name).string();
  } else if (!is_python_kernel(o.kernel_name)) {
    const std::vector<std::string> names = kernel_names();
    if (std::find(names.begin(), names.end(), o.kernel_name) == names.end()) {
      (void)load_kernel(o.kernel_name, 0);  // says which names there are
    }
  }
  const std::string name = o.kernel_name;
  source.with_kernel = [name](const std::function<void(const kernel&)>& use) {
    const loaded_kernel k = load_kernel(name, 0);
    use(k.get());
  };
  if (s.ranks > 0) {
    source.with_kernel([&](const kernel& k) {
      if ((k.features() & BNC_FEATURE_DISTRIBUTED_TRAINING) == 0) {
        report_error("--ranks: kernel '" + name +
                     "' does not declare BNC_FEATURE_DISTRIBUTED_TRAINING (docs/abi.md, "
                     "\"Distributed calls\")");
      }
    });
  }
  // Every output directory is checked before any is created, and all of them
  // before any kernel runs: a bad one leaves nothing behind.
  const failure_destination failures = failures_directory(o);
  if (!o.report_directory.empty()) check_writable_directory(o.report_directory, "--report");
  if (!failures.directory.empty()) check_writable_directory(failures.directory, failures.option);
  std::error_code ec;
  if (!o.report_directory.empty()) {
    std::filesystem::create_directories(o.report_directory, ec);
    if (ec) report_error("--report: cannot create '" + o.report_directory + "': " + ec.message());
  }
  if (!failures.directory.empty()) prepare_failure_directory(failures.directory, failures.option);
  // A terminal gets a bar; a log (CI, a pipe) the plain lines.
  progress_display display(std::cerr, stderr_is_terminal(), terminal_columns());
  certify::progress_listener bar;
  if (display.terminal()) {
    bar = [&display](const certify::run_progress& r) { display.update(progress_of(r)); };
  }
  certify::profiles_certification pc =
      certify::certify_profiles(source, s, profiles, o.only, display.lines(), bar);
  display.finish();
  if (!failures.directory.empty()) {
    // Several profiles: each profile's case files in a folder of its own, since
    // item names repeat across profiles.
    for (certify::profile_row& row : pc.rows) {
      if (!row.implemented()) continue;
      const std::string dir =
          pc.rows.size() == 1 ? failures.directory
                              : (std::filesystem::path(failures.directory) / row.profile).string();
      if (pc.rows.size() > 1) {
        bool any = false;
        for (const certify::item_outcome& it : row.run.items) any = any || it.failed();
        if (!any) continue;
        prepare_failure_directory(dir, failures.option);
      }
      save_failures(row.run, dir);
    }
  }
  std::cout << certify::summary_text(pc) << std::flush;
  if (!o.report_directory.empty()) {
    const std::filesystem::path dir(o.report_directory);
    const certify::run_identity run = identify_run(o.kernel_name, suite_version, o.command_line);
    write_file_atomically((dir / "certificate.json").string(), certify::certificate_json(pc, run));
    write_file_atomically((dir / "junit.xml").string(), certify::junit_xml(pc));
    write_file_atomically((dir / "report.html").string(), certify::report_html(pc, run));
    std::cerr << "certify: wrote " << (dir / "certificate.json").string() << ", "
              << (dir / "junit.xml").string() << " and " << (dir / "report.html").string() << '\n';
  }
  if (!o.only.empty()) {
    bool all_passed = !pc.rows.empty();
    bool ran = false;
    for (const certify::profile_row& row : pc.rows) {
      if (!row.run.loaded) all_passed = false;
      for (const certify::item_outcome& it : row.run.items) {
        ran = true;
        all_passed = all_passed && (it.passed() || it.result == check::verdict::unsupported);
      }
    }
    return all_passed && ran ? 0 : 1;
  }
  return pc.certified ? 0 : 1;
}

}  // namespace bnconform::cli
