#include "golden_command.hpp"

#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <set>
#include <sstream>

#include "check/ratio_text.hpp"
#include "core/error.hpp"
#include "golden/catalog.hpp"
#include "golden/checker.hpp"
#include "golden/onnx_import.hpp"
#include "golden/regen.hpp"
#include "install_paths.hpp"
#include "kernel_registry.hpp"
#include "oracle_option.hpp"
#include "output_file.hpp"
#include "reference/reference.hpp"
#include "reference/reference_kernel.hpp"

namespace bnconform::cli {

namespace {

void add_directories(CLI::App* sub, golden_options& o, bool specs) {
  if (specs) {
    sub->add_option("--specs", o.specs, "Directory of case specs (*.spec)")->default_str(o.specs);
  }
  sub->add_option("--cases", o.cases, "Directory of golden files")->default_str(o.cases);
}

// A golden file's text, written only when its data changed: an unchanged case
// keeps its file (and its provenance), so the diff of a regen is the review.
struct pending_file {
  std::string path;
  std::string text;
};

int write_all(const std::vector<pending_file>& files) {
  int written = 0;
  for (const pending_file& f : files) {
    std::optional<std::string> old;
    try {
      std::ifstream in(f.path, std::ios::binary);
      std::stringstream text;
      text << in.rdbuf();
      (void)golden::parse_golden(text.str(), f.path);  // valid and checksummed
      old = text.str();
    } catch (const error&) {
      // Missing or damaged: written anew.
    }
    if (old && golden::same_data(*old, f.text)) continue;
    std::filesystem::create_directories(std::filesystem::path(f.path).parent_path());
    write_file_atomically(f.path, f.text);
    ++written;
  }
  return written;
}

void progress(std::size_t done, std::size_t total, const std::string& name) {
  std::cerr << "[" << done << "/" << total << "] " << name << '\n';
}

const kernel& reference() {
  static const kernel k(reference::reference_kernel(golden::reference_bits));
  return k;
}

// A golden file's text as the exact engine computes it, after the multiprecision
// engine (the referee) has computed the same text: they must agree bit for bit.
template <class Make>
std::string by_both_engines(const std::string& name, Make make) {
  const std::string exact = golden::to_text(make());
  const reference::oracle before = reference::default_oracle();
  reference::set_default_oracle(reference::oracle::multiprecision);
  const std::string referee = golden::to_text(make());
  reference::set_default_oracle(before);
  if (exact != referee) {
    report_error("golden regen: " + name +
                 ": the exact and the multiprecision engines disagree; nothing was written "
                 "(a defect of the exact engine: report it with this case)");
  }
  return exact;
}

// Everything is computed before anything is written, so a failure (or an
// interrupt) during the computation leaves every file as it was; each file is then
// replaced atomically, so no file is ever half-written.
int regen(const golden_options& o) {
  std::vector<golden::case_spec> specs;
  std::set<std::string> spec_names;
  for (golden::case_spec& s : golden::read_spec_directory(o.specs)) {
    spec_names.insert(s.name);
    if (golden::matches(s.name, o.filter)) specs.push_back(std::move(s));
  }
  // Imported cases have no spec: their stored inputs are rerun.
  std::vector<std::string> imported;
  std::error_code ec;
  if (std::filesystem::is_directory(o.cases, ec)) {
    for (const std::string& path : golden::golden_files(o.cases)) {
      const std::string name = golden::name_of_path(path);
      if (spec_names.contains(name) || !golden::matches(name, o.filter)) continue;
      imported.push_back(path);
    }
  }
  const std::size_t total = specs.size() + imported.size();
  if (total == 0) report_error("golden regen: no case matches '" + o.filter + "'");
  std::vector<pending_file> files;
  std::size_t done = 0;
  for (const golden::case_spec& s : specs) {
    progress(++done, total, s.name);
    files.push_back({golden::case_path(o.cases, s.name),
                     by_both_engines(s.name, [&] { return golden::generate(s, reference()); })});
  }
  for (const std::string& path : imported) {
    golden::golden_case g = golden::read_golden_file(path);
    progress(++done, total, g.name);
    if (!g.imported) {
      std::cerr << "golden regen: warning: " << path
                << " has a spec that no *.spec file defines any more; left as it is\n";
      continue;
    }
    const std::string name = g.name;
    files.push_back(
        {path, by_both_engines(name, [&] { return golden::regenerate(g, reference()); })});
  }
  const int written = write_all(files);
  std::cerr << "golden regen: " << files.size() << " cases, " << written << " written, "
            << files.size() - static_cast<std::size_t>(written) << " unchanged\n";
  return 0;
}

check::level level_option(const std::string& text) {
  const auto l = check::parse_level(text);
  if (!l) report_error("--level: expected strict or standard, got '" + text + "'");
  return *l;
}

int check_command(const golden_options& o) {
  const loaded_kernel k = load_kernel(o.kernel_name, o.precision_bits);
  const check::level level = level_option(o.level);
  std::map<check::verdict, int> counts;
  int unreadable = 0, selected = 0;
  for (const std::string& path : golden::golden_files(o.cases)) {
    const std::string name = golden::name_of_path(path);
    if (!golden::matches(name, o.filter)) continue;
    ++selected;
    try {
      const golden::golden_case g = golden::read_golden_file(path);
      if (g.name != name) report_error(path + ": holds case '" + g.name + "', not '" + name + "'");
      const golden::case_verdict v = golden::check_case(k.get(), g, level);
      ++counts[v.result];
      std::cout << check::name_of(v.result) << ' ' << name;
      if (!v.passed() || o.verbose) {
        std::cout << " (worst budget ratio " << check::ratio_text(v.result, v.worst_ratio, 6) << ")"
                  << (v.reason.empty() ? "" : ": " + v.reason);
      }
      std::cout << '\n';
      if (!v.passed() || o.verbose) {
        for (const std::string& d : v.details) std::cout << "    " << d << '\n';
      }
    } catch (const error& e) {
      ++unreadable;
      std::cout << "error " << name << ": " << e.what() << '\n';
    }
  }
  if (selected == 0) report_error("golden check: no golden file matches '" + o.filter + "'");
  std::cout << "golden check: kernel " << k.get().name() << " at level " << check::name_of(level)
            << ": " << selected << " cases: " << counts[check::verdict::pass] << " pass, "
            << counts[check::verdict::fail] << " fail, " << counts[check::verdict::mistrusted]
            << " mistrusted, " << counts[check::verdict::unsupported] << " unsupported, "
            << counts[check::verdict::ill_posed] << " ill-posed, " << unreadable << " unreadable\n"
            << std::flush;
  if (unreadable > 0) {
    report_error(std::to_string(unreadable) + " golden file(s) could not be used (see above)");
  }
  return counts[check::verdict::fail] > 0 ? 1 : 0;
}

int import_onnx(const golden_options& o) {
  const std::vector<std::string> tests = golden::onnx_batchnorm_tests(o.onnx_directory);
  std::vector<pending_file> files;
  std::size_t done = 0;
  int disagreements = 0;
  for (const std::string& test : tests) {
    golden::golden_case g = golden::regenerate(golden::import_onnx_test(test), reference());
    progress(++done, tests.size(), g.name);
    // The reference must agree with ONNX's outputs within the error model.
    for (const check::comparison& c : golden::check_external(g, check::level::standard)) {
      std::cout << check::name_of(c.result) << ' ' << g.name
                << " (ONNX's outputs against the reference, "
                << "worst budget ratio " << check::ratio_text(c.result, c.worst_ratio, 6) << ")"
                << (c.passed() ? "" : ": " + c.reason) << '\n';
      disagreements += c.passed() ? 0 : 1;
    }
    files.push_back({golden::case_path(o.cases, g.name), golden::to_text(g)});
  }
  const int written = write_all(files);
  std::cerr << "golden import-onnx: " << files.size() << " cases, " << written << " written\n";
  return disagreements > 0 ? 1 : 0;
}

}  // namespace

CLI::App* add_golden_command(CLI::App& app, golden_options& o) {
  o.specs = (data_directory() / "golden" / "specs").string();
  o.cases = (data_directory() / "golden" / "cases").string();
  CLI::App* golden = app.add_subcommand("golden", "Golden cases: regenerate, check, import");
  golden->require_subcommand(1);
  CLI::App* regen_cmd =
      golden->add_subcommand("regen", "Rewrite the expected outputs from the reference");
  regen_cmd->add_option("filter", o.filter, "Case names: a substring, or a glob (* ? [])");
  add_directories(regen_cmd, o, true);
  CLI::App* check_cmd =
      golden->add_subcommand("check", "Run the golden cases against a kernel, print verdicts");
  add_oracle_option(check_cmd);
  check_cmd->add_option("filter", o.filter, "Case names: a substring, or a glob (* ? [])");
  check_cmd->add_option("--kernel", o.kernel_name, kernel_option_help("reference"));
  check_cmd->add_option("--precision", o.precision_bits,
                        "Bits of the reference kernel: 128, 256 (default), 512, 1024");
  check_cmd->add_option("--level", o.level, "Error-model level: strict (default) or standard");
  check_cmd->add_flag("--verbose", o.verbose, "Say why for every verdict, not only failures");
  add_directories(check_cmd, o, false);
  CLI::App* import_cmd = golden->add_subcommand(
      "import-onnx", "Import ONNX's BatchNormalization node tests (test_batchnorm_*)");
  import_cmd
      ->add_option("directory", o.onnx_directory,
                   "ONNX node-test directory, e.g. /usr/share/libonnx-testdata/data/node")
      ->required();
  add_directories(import_cmd, o, false);
  return golden;
}

int execute_golden(const CLI::App& golden, const golden_options& o) {
  if (golden.got_subcommand("regen")) return regen(o);
  if (golden.got_subcommand("check")) return check_command(o);
  if (golden.got_subcommand("import-onnx")) return import_onnx(o);
  report_error("golden: no subcommand (regen, check or import-onnx)");
}

}  // namespace bnconform::cli
