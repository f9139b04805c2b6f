#pragma once
// A fuzz campaign (`bnconform fuzz`): cases drawn by the battery's generator from a
// seed (case i from properties::case_seed(seed, i)), each judged against the
// reference (judge.hpp) on J worker processes, every finding shrunk and saved into
// a corpus (corpus.hpp). A worker that crashes or stays silent past the case
// timeout is itself a finding, saved by the parent for the case it was running;
// the worker is then restarted after that case. fuzz/README.md has the design.
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "check/level.hpp"
#include "core/kernel.hpp"
#include "properties/case_draw.hpp"

namespace bnconform::fuzz {

inline properties::draw_options long_channel_draw() {
  properties::draw_options d;
  d.limits.long_channel_values = 1000000;
  return d;
}

// Where a campaign stands: its counts, and the same as one plain line.
struct campaign_progress {
  std::uint64_t cases = 0;
  std::optional<std::uint64_t> of;  // the case budget, if there is one
  std::size_t failures = 0;
  double seconds = 0;
  double seconds_left = 0;  // of the time budget (0 under a case budget)
  std::string line;         // "fuzz: 120 cases, 40.1 cases/s, 0 failures, 12 s left"
};

struct campaign_options {
  std::string kernel_name;  // as given to --kernel; recorded in every finding
  check::level level = check::level::strict;
  std::uint64_t seed = 1;
  std::optional<std::uint64_t> cases;  // case budget: cases first_case .. first_case + cases - 1
  double minutes = 1;                  // time budget, when there is no case budget
  std::uint64_t first_case = 0;        // shards of one campaign: disjoint case ranges
  // Worker processes; 0 runs the cases in this process (no isolation: a crash ends
  // the campaign), for debugging and for tests.
  int jobs = 1;
  std::filesystem::path corpus = "fuzz-corpus";
  std::chrono::milliseconds case_timeout{60000};  // silence that counts as a hang
  int shrink_tries = 200;
  // The battery's generator, with long channels of a million values (the
  // properties' rounds in certify stop at a hundred thousand).
  properties::draw_options draw = long_channel_draw();
  bool record_cases = false;  // fill campaign_summary::indices and repros
  // Called about once a second with where the campaign stands (may be empty).
  std::function<void(const campaign_progress&)> on_progress;
};

struct saved_finding {
  std::uint64_t index = 0;
  std::string verdict, reason;
  std::filesystem::path file;
};

struct campaign_summary {
  std::uint64_t cases = 0;  // judged (crashes and hangs included)
  double seconds = 0;
  std::map<std::string, std::uint64_t> classes;   // problem class -> cases (classes_of)
  std::map<std::string, std::uint64_t> verdicts;  // every case's verdict
  std::map<std::string, std::uint64_t> failures;  // findings by kind ("fail forward", "crashed")
  std::vector<saved_finding> findings;
  int worker_restarts = 0;
  // With record_cases: the cases judged, by index, and their repro lines.
  std::map<std::uint64_t, std::string> repros;

  bool found_nothing() const { return findings.empty(); }
  std::string describe() const;
};

campaign_summary run_campaign(const kernel& k, const campaign_options& opt);

}  // namespace bnconform::fuzz
