#include "run_command.hpp"

#include <optional>

#include "core/case_runner.hpp"
#include "core/error.hpp"
#include "generated_case.hpp"
#include "kernel_registry.hpp"
#include "oracle_option.hpp"
#include "output_file.hpp"

namespace bnconform::cli {

CLI::App* add_run_command(CLI::App& app, run_options& o) {
  CLI::App* run = app.add_subcommand("run", "Run a case file through a kernel, print the outputs");
  add_oracle_option(run);
  auto* case_opt =
      run->add_option("case", o.case_path, "Case file (JSON, see docs/case-format.md)");
  auto* problem_opt =
      run->add_option("--problem", o.problem_text,
                      "Generate a case for this problem string instead (forward, then backward)");
  run->add_option("--seed", o.seed, "Seed of the values of a generated case (default 0)")
      ->needs(problem_opt);
  run->add_flag("--print-case", o.print_case, "Print the generated case instead of running it")
      ->needs(problem_opt);
  case_opt->excludes(problem_opt);
  run->add_option("--kernel", o.kernel_name, kernel_option_help("reference"));
  run->add_option("--precision", o.precision_bits,
                  "Bits of the reference's arithmetic: 128, 256 (default), 512, 1024");
  run->add_flag("--hex", o.hex, "Write every value as a hex-float string");
  run->add_option("--output", o.output, "Write the JSON to this file (atomically), not stdout");
  return run;
}

namespace {

problem parse_problem_option(const std::string& text) {
  try {
    return problem::parse(text);
  } catch (const error& e) {
    report_error(std::string("--problem: ") + e.what());
  }
}

}  // namespace

int execute_run(const run_options& o) {
  if (o.case_path.empty() == o.problem_text.empty()) {
    report_error("run: give a case file or --problem \"shape=...\" (one of them)");
  }
  const loaded_kernel k = load_kernel(o.kernel_name, o.precision_bits);
  std::optional<case_file> c;
  if (o.problem_text.empty()) {
    c = read_case_file(o.case_path);
  } else {
    const problem p = parse_problem_option(o.problem_text);
    // A backward step only where the kernel declares one, so that a forward-only
    // kernel still gets a case it can pass.
    c = generate_case(p, o.seed, k.get().unsupported_reason(p, true).empty());
  }
  if (o.print_case) {
    emit(o.output, to_json(*c, o.hex));
    return 0;
  }
  const case_result result = run_case(k.get(), *c);
  emit(o.output, to_json(result, o.hex));
  return result.ok() ? 0 : 1;
}

}  // namespace bnconform::cli
