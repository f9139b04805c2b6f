#pragma once
// The certifier: learns what a kernel declares, plans the battery (plan.hpp), runs
// it in child processes (core/child_process.hpp) so that a kernel that crashes or
// hangs ends as a verdict naming the case, never as the certifier's own crash,
// and sums the outcomes up per cell and per group.
#include <functional>
#include <iosfwd>
#include <string>
#include <vector>

#include "bnconform/kernel.h"
#include "cell.hpp"
#include "core/kernel.hpp"
#include "outcome.hpp"
#include "plan.hpp"
#include "ratio_histogram.hpp"

namespace bnconform::certify {

struct kernel_source {
  std::string argument;      // as given to --kernel (repro lines use it)
  std::string library_path;  // the shared library's path; empty for a built-in kernel
  // Loads the kernel and calls `use` with it. Called in child processes only: a
  // library that crashes while loading takes only a child down.
  std::function<void(const std::function<void(const kernel&)>& use)> with_kernel;
};

struct kernel_identity {
  std::string name, version;
  bnc_capabilities capabilities{};
  std::string sha256;  // of the library file; empty for a built-in kernel
};

// One row of the summary table.
struct cell_summary {
  cell where;
  bool declared = false;
  check::verdict result = check::verdict::unsupported;  // the worst of its calls
  int calls = 0;
  double worst_ratio = 0;  // over every call
  double failed_worst_ratio =
      0;  // over the failing calls (report.cpp shows this one for a failing cell)
  double max_ulp = 0;
  ratio_histogram ratios{};     // every call by its worst ratio (ratio_histogram.hpp)
  std::string worst_item{};     // the item whose call had the worst ratio
  std::string worst_element{};  // where (cell_figures::worst_element)
};

struct group_summary {
  group kind = group::coverage;
  int items = 0, passed = 0, failed = 0, unsupported = 0, not_judged = 0;
  int cases = 0;
};

// A failing item's case file (failure_case.hpp), where one was written.
struct saved_failure {
  std::string item;      // the item's report name
  std::string path;      // the case file; empty when there is none
  std::string why_none;  // then: why
};

struct certification {
  kernel_source source;
  settings options;
  std::string only;  // the one item asked for, if any
  bool loaded = false;
  std::string load_error;  // why the kernel could not be loaded
  kernel_identity identity;
  // Whether the kernel declares the profile certified (options.profile); when it
  // does not, nothing is run and the certification says "not implemented".
  bool profile_implemented = true;
  bool memory_available = true;  // false: device memory declared, no device given
  // Why the declaration leaves nothing to judge (nothing_to_judge in cell.hpp); then
  // nothing runs and nothing is certified.
  std::string nothing_to_judge;
  std::vector<item_outcome> items;
  int isolation_failures = 0;  // crashes and hangs
  int not_run = 0;             // fixed items left unrun after too many of them (or fail-fast)
  bool stopped_early = false;
  std::vector<cell_summary> cells;
  std::vector<group_summary> groups;
  bool certified = false;
  std::vector<std::string> verdict_reasons;  // why not (empty when certified)
  double seconds = 0;
  std::vector<saved_failure> saved_failures;  // filled by whoever writes them (--save-failures)
};

// Where a run stands after each outcome, for a progress bar (cli/progress.hpp).
struct run_progress {
  std::string profile;  // the profile being certified
  std::size_t profile_number = 1, profiles = 1;
  std::size_t fixed_done = 0, fixed_total = 0;  // fixed items
  std::size_t rounds_done = 0;                  // property rounds
  int failures = 0;
  double seconds = 0;  // since the items started
  // An estimate for this profile: the fixed items left at the pace of those done
  // (weighted by their cost), then what is left of the property budget; negative
  // while nothing is done yet.
  double seconds_left = -1;
  double fraction = 0;  // of this profile's run, by that estimate
};
using progress_listener = std::function<void(const run_progress&)>;

// Runs the certification; progress lines go to `progress` (stderr in the command).
// With a `listener`, it hears every outcome and the periodic count lines are left
// out (the listener draws them); failures and events are still lines.
// Throws bnconform::error for bad settings (an unreadable golden directory, an
// unknown --only item).
certification certify(const kernel_source& source, const settings& options, const std::string& only,
                      std::ostream& progress, const progress_listener& listener = {});

// One certification per profile (`--profile all` or a list): each profile the
// kernel declares is certified as certify() does it; the others are "not
// implemented", which is not a failure of the kernel.
struct profile_row {
  std::string profile;
  certification run;
  bool implemented() const { return run.loaded && run.profile_implemented; }
  bool met() const { return implemented() && run.certified; }
  std::string status() const;  // "met", "not implemented", "not met: <first reason>"
};

struct profiles_certification {
  std::vector<profile_row> rows;  // in the order asked for
  // Certified when every requested profile the kernel implements is met, and at
  // least one is.
  bool certified = false;
  std::vector<std::string> verdict_reasons;
  double seconds = 0;
  double budget_seconds = 0;  // the whole property budget, shared by the profiles
};

// `profiles` from parse_profile_list; options.profile is ignored. The property
// budget is shared: each implemented profile gets budget_seconds / (number of
// implemented profiles), every property at least one round.
profiles_certification certify_profiles(const kernel_source& source, const settings& options,
                                        const std::vector<std::string>& profiles,
                                        const std::string& only, std::ostream& progress,
                                        const progress_listener& listener = {});

}  // namespace bnconform::certify
