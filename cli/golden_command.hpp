#pragma once
// `bnconform golden regen|check|import-onnx`: the golden catalog's commands
// (golden/README.md). Progress goes to stderr, verdicts to stdout.
#include <CLI/CLI.hpp>
#include <string>

namespace bnconform::cli {

struct golden_options {
  std::string specs;  // directory of *.spec files
  std::string cases;  // directory of golden files
  std::string filter;
  std::string kernel_name = "reference";
  int precision_bits = 0;
  std::string level = "strict";
  std::string onnx_directory;
  bool verbose = false;
};

// Registers `golden` with its three subcommands; options fill in when they parse.
CLI::App* add_golden_command(CLI::App& app, golden_options& options);

// Runs whichever golden subcommand was parsed. Exit code: 0 all good, 1 a case
// failed. Throws bnconform::error for bad input (exit code 2), a damaged golden
// file included.
int execute_golden(const CLI::App& golden, const golden_options& options);

}  // namespace bnconform::cli
