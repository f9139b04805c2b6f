#pragma once
// `bnconform run`: runs a case file (or a case generated from --problem) through
// one kernel and prints every output exactly (docs/case-format.md).
#include <CLI/CLI.hpp>
#include <cstdint>
#include <string>

namespace bnconform::cli {

struct run_options {
  std::string case_path;
  std::string problem_text;
  std::uint64_t seed = 0;
  bool print_case = false;
  std::string kernel_name = "reference";
  int precision_bits = 0;  // 0: the kernel's default
  bool hex = false;
  std::string output;
};

// Registers the subcommand; options are filled in when it parses.
CLI::App* add_run_command(CLI::App& app, run_options& options);

// Exit code: 0 every step ok, 1 some step failed. Throws bnconform::error for
// usage and input errors (the caller turns them into exit code 2).
int execute_run(const run_options& options);

}  // namespace bnconform::cli
