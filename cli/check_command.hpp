#pragma once
// `bnconform check`: judges a kernel on a case a user brings (a case file, with
// any sequence of forward and backward steps, or a case generated from a problem
// string) through the error model, and prints the verdict, the worst budget ratio,
// the reason, and the line that reproduces it.
#include <CLI/CLI.hpp>
#include <cstdint>
#include <string>

namespace bnconform::cli {

struct check_options {
  std::string case_path;
  std::string problem_text;
  std::uint64_t seed = 0;
  std::string kernel_name;  // empty: the case file's finding names it
  std::string level;        // empty: the finding's level, else strict
};

CLI::App* add_check_command(CLI::App& app, check_options& options);

// Exit code: 0 the kernel passes (or the case is ill-posed), 1 it fails. Throws
// bnconform::error for usage and input errors (exit code 2).
int execute_check(const check_options& options);

}  // namespace bnconform::cli
