#pragma once
// The benchmark's Markdown report: the measurement context, one row per case and
// kernel, and which of its performance targets the CPU kernel meets.
#include <ostream>
#include <string>
#include <vector>

#include "accuracy.hpp"
#include "cases.hpp"
#include "contenders.hpp"
#include "stream_triad.hpp"
#include "timing.hpp"

namespace bnconform::bench {

struct case_result {
  bench_case c;
  std::vector<timing> times;         // one per contender
  std::vector<accuracy> accuracies;  // one per contender (empty when not judged)
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
};

void write_report(std::ostream& out, const run_context& ctx, const std::vector<contender>& kernels,
                  const std::vector<case_result>& results);

}  // namespace bnconform::bench
