#pragma once
// The benchmark's Markdown report: the measurement context, one row per case and
// kernel, the kernel under test's speed verdicts with their intervals, and which
// of its performance targets it meets.
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "accuracy.hpp"
#include "cases.hpp"
#include "confidence.hpp"
#include "contenders.hpp"
#include "machine_cache.hpp"
#include "stream_triad.hpp"
#include "timing.hpp"

namespace bnconform::bench {

struct case_result {
  bench_case c;
  std::vector<timing> times;         // one per contender
  std::vector<accuracy> accuracies;  // one per contender (empty when not judged)
  // The kernel under test (contender 0) against the fastest peer, and against the
  // fastest peer that passed strict; absent where there is no such peer or the
  // kernel under test has no time.
  std::optional<speed_ratio> vs_peer;
  std::optional<speed_ratio> vs_strict_peer;
};

struct run_context {
  std::string date_utc;
  std::string machine;
  std::string command;
  int threads = 2;
  triad_result triad;         // the better of the two below: the fractions use it
  triad_result triad_before;  // measured before the cases
  triad_result triad_after;   // and after them (a shared machine's bandwidth drifts)
  std::int64_t accuracy_reduction = 0;
  cache_size cache;
  bootstrap_options bootstrap;
  int passes = 1;
  std::string plot_file;  // the image written beside the report ("" when none)
};

// Whether a peer's answer on the offset input passed strict.
bool passed_strict(const case_result& r, std::size_t k);

// Fills r.vs_peer and r.vs_strict_peer from the rounds (the seed varies by case,
// so that the report is the same for the same rounds).
void rate_speed(case_result& r, const std::vector<contender>& kernels, const bootstrap_options& opt,
                std::uint64_t case_index);

void write_report(std::ostream& out, const run_context& ctx, const std::vector<contender>& kernels,
                  const std::vector<case_result>& results);

}  // namespace bnconform::bench
