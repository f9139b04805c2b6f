#pragma once
// `bnconform degenerate`: runs the degenerate catalog (docs/battery.md) against a
// kernel and prints one line per case; the repro line of a catalog failure.
#include <CLI/CLI.hpp>
#include <string>
#include <vector>

namespace bnconform::cli {

struct degenerate_options {
  std::vector<std::string> names;  // empty: every case of the default tier
  std::string kernel_name = "reference";
  std::string level = "strict";
  bool large = false;
  bool list = false;
};

CLI::App* add_degenerate_command(CLI::App& app, degenerate_options& options);

// 0: every case followed its rule (or is unsupported, reported as such); 1: a case
// failed. Throws bnconform::error for usage errors.
int execute_degenerate(const degenerate_options& options);

}  // namespace bnconform::cli
