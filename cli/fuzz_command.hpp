#pragma once
// `bnconform fuzz`: fuzz campaigns against a kernel, and `fuzz replay` / `fuzz merge`
// of their corpora (fuzz/README.md).
#include <CLI/CLI.hpp>
#include <cstdint>
#include <string>
#include <vector>

namespace bnconform::cli {

struct fuzz_options {
  std::string kernel_name;
  int precision_bits = 0;
  double minutes = 0;
  std::int64_t cases = -1;  // -1: no case budget (a time budget)
  std::string seed = "1";
  std::int64_t first_case = 0;
  int jobs = 1;
  std::string corpus = "fuzz-corpus";
  std::string level = "strict";
  double timeout_seconds = 60;
  bool quiet = false;
  // fuzz replay
  std::vector<std::string> replay_paths;
  std::string replay_level;  // empty: each file's own
  bool replay_in_process = false;
  // fuzz merge
  std::string merge_destination;
  std::vector<std::string> merge_sources;
};

// Registers `fuzz` and its subcommands `replay` and `merge`.
CLI::App* add_fuzz_command(CLI::App& app, fuzz_options& options);

// Exit code: campaign 0 nothing found, 1 findings; replay 0 every verdict the same,
// 1 some differ; merge 0. Throws bnconform::error for usage and input errors.
int execute_fuzz(const CLI::App& fuzz, const fuzz_options& options);

}  // namespace bnconform::cli
