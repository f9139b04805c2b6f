#pragma once
// `bnconform fuzz replay`: judges every case file of a corpus again through the
// error model (judge.hpp), each in a child process so that a crashing or hanging
// kernel is judged "crashed" or "timed-out" as the campaign judged it, and reports
// whether each finding's verdict is still the one recorded.
#include <chrono>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "check/level.hpp"
#include "core/kernel.hpp"
#include "judge.hpp"

namespace bnconform::fuzz {

struct replay_options {
  // The kernel to judge with: empty, each file's recorded kernel.
  std::string kernel_name;
  std::optional<check::level> level;  // empty: each file's recorded level
  std::chrono::milliseconds case_timeout{60000};
  bool isolate = true;  // judge in a child process (false: in this process)
};

struct replay_entry {
  std::filesystem::path file;
  std::string kernel;
  std::string recorded;  // the finding's verdict
  judgement now;
  bool same() const;
};

struct replay_report {
  std::vector<replay_entry> entries;
  int same = 0, different = 0;
  std::string describe() const;
};

// `kernel_named` turns a kernel name into a kernel (the CLI's registry; it may
// cache). Throws bnconform::error for a file that is not a case file with a finding.
replay_report replay_corpus(const std::vector<std::filesystem::path>& paths,
                            const replay_options& opt,
                            const std::function<const kernel&(const std::string&)>& kernel_named);

// Judges one case in a child process: a crash or a silence longer than `timeout`
// is the verdict crashed or timed_out.
judgement judge_isolated(const kernel& k, const fuzz_inputs& in, check::level l,
                         std::chrono::milliseconds timeout);

}  // namespace bnconform::fuzz
