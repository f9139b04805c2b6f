#include "check_command.hpp"

#include <iostream>
#include <optional>

#include "check/level.hpp"
#include "check/ratio_text.hpp"
#include "core/case_runner.hpp"
#include "core/error.hpp"
#include "generated_case.hpp"
#include "golden/checker.hpp"
#include "kernel_registry.hpp"
#include "oracle_option.hpp"
#include "reference/reference.hpp"
#include "reference/reference_kernel.hpp"

namespace bnconform::cli {

CLI::App* add_check_command(CLI::App& app, check_options& o) {
  CLI::App* cmd = app.add_subcommand(
      "check", "Judge a kernel on a case file or a problem string; print the verdict");
  add_oracle_option(cmd);
  auto* case_opt = cmd->add_option("case", o.case_path, "Case file (JSON, docs/case-format.md)");
  auto* problem_opt =
      cmd->add_option("--problem", o.problem_text,
                      "Judge a case generated for this problem string (forward, then backward)");
  cmd->add_option("--seed", o.seed, "Seed of the values of a generated case (default 0)")
      ->needs(problem_opt);
  case_opt->excludes(problem_opt);
  cmd->add_option("--kernel", o.kernel_name,
                  kernel_option_help() + " (default: the kernel the case file's finding names)");
  cmd->add_option("--level", o.level,
                  "strict or standard (default: the case file's finding's, else strict)");
  return cmd;
}

namespace {

std::string quoted(const std::string& s) { return "'" + s + "'"; }

// The reference reports an internal error only where its self-check cannot vouch
// at its precision (the message says why): the next precision may.
bool needs_more_bits(const case_result& r) {
  for (const step_result& s : r.steps) {
    if (s.status == name_of(BNC_STATUS_INTERNAL_ERROR)) return true;
  }
  return false;
}

std::string repro_line(const check_options& o) {
  std::string line = "bnconform check ";
  line += o.case_path.empty()
              ? "--problem " + quoted(o.problem_text) + " --seed " + std::to_string(o.seed)
              : quoted(o.case_path);
  line += " --kernel " + quoted(o.kernel_name) + " --level " + o.level;
  if (reference::default_oracle() != reference::oracle::exact) {
    line += " --oracle " + std::string(reference::name_of(reference::default_oracle()));
  }
  return line;
}

}  // namespace

int execute_check(const check_options& given) {
  if (given.case_path.empty() == given.problem_text.empty()) {
    report_error("check: give a case file or --problem \"shape=...\" (one of them)");
  }
  check_options o = given;
  std::optional<case_file> c;
  if (o.problem_text.empty()) c = read_case_file(o.case_path);
  // A file that certify or fuzz wrote says which kernel failed it, and at which level.
  const case_finding* finding = c && c->finding ? &*c->finding : nullptr;
  if (o.kernel_name.empty()) {
    if (finding == nullptr) {
      report_error(o.problem_text.empty()
                       ? "check: --kernel is required (the case file has no finding that names one)"
                       : "check: --kernel is required with --problem");
    }
    o.kernel_name = finding->kernel;
  }
  if (o.level.empty()) o.level = finding != nullptr ? finding->level : "strict";
  const auto lv = check::parse_level(o.level);
  if (!lv) report_error("--level: expected strict or standard, got '" + o.level + "'");
  const loaded_kernel k = load_kernel(o.kernel_name, 0);
  if (!o.problem_text.empty()) {
    problem p = [&] {
      try {
        return problem::parse(o.problem_text);
      } catch (const error& e) {
        report_error(std::string("--problem: ") + e.what());
      }
    }();
    c = generate_case(p, o.seed, k.get().unsupported_reason(p, true).empty());
  }
  // The reference's run of the case gives every step's exact outputs and the
  // module state before each step; the golden checker judges the kernel on it, at
  // the first precision whose self-check vouches for every step.
  golden::golden_case g(o.case_path.empty() ? "problem" : o.case_path, *c);
  int bits = 0;
  for (const int b : reference::supported_precisions()) {
    if (b < reference::default_precision_bits) continue;
    const kernel reference_kernel(reference::reference_kernel(b));
    g.expected = run_case(reference_kernel, g.inputs);
    bits = b;
    if (!needs_more_bits(g.expected)) break;
  }
  const golden::case_verdict v = golden::check_case(k.get(), g, *lv, bits);
  const std::string ratio = check::ratio_text(v.result, v.worst_ratio, 6);
  std::cout << "check: " << check::name_of(v.result) << " at " << o.level << ", worst budget ratio "
            << ratio << (ratio == "n/a" ? " (no element beyond its budget: see the reason)" : "")
            << ", " << g.inputs.steps.size() << " step(s)\n";
  if (!v.reason.empty()) std::cout << "reason: " << v.reason << '\n';
  for (const std::string& d : v.details) std::cout << "  " << d << '\n';
  std::cout << "repro: " << repro_line(o) << '\n';
  return v.passed() ? 0 : 1;
}

}  // namespace bnconform::cli
