#pragma once
// `bnconform certify`: the whole battery against one kernel, in child processes,
// with a summary table, a JSON certificate and a JUnit file (docs/certify.md).
#include <CLI/CLI.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace bnconform::cli {

struct certify_options {
  std::string kernel_name;
  std::string level = "standard";
  std::string profile = "pytorch";
  double budget_seconds = 20;
  std::uint64_t seed = 1;
  std::string report_directory;
  double case_timeout_seconds = 60;
  int max_crashes = 3;
  bool fail_fast = false;
  std::string only;
  std::vector<std::string> groups;
  std::string golden_directory;
  std::string shapes_file;
  int jobs = 0;                           // 0: one per online CPU
  std::optional<int> ranks;               // --ranks: the distributed group's ranks
  std::string failures_directory;         // --save-failures (default REPORTDIR/failures)
  std::vector<std::string> command_line;  // argv, for the certificate
};

CLI::App* add_certify_command(CLI::App& app, certify_options& options);

// 0: certified (or, with --only, the item passed); 1: not; throws bnconform::error
// for usage errors (exit 2).
int execute_certify(const certify_options& options, const std::string& suite_version);

}  // namespace bnconform::cli
