#pragma once
// What certify runs: a fixed list of items (coverage, malformed, views, degenerate,
// reproducibility, golden, gradient, realistic, and distributed with --ranks),
// then rounds of the properties for as long as the budget lasts. The plan is made
// in the certifier's own process from the kernel's declared capabilities; items
// are run in child processes (certifier.hpp), by index.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bnconform/kernel.h"
#include "check/level.hpp"
#include "core/problem.hpp"

namespace bnconform::certify {

enum class group : std::uint8_t {
  coverage,
  malformed,
  views,
  degenerate,
  reproducibility,
  golden,
  gradient,
  realistic,
  distributed,
  properties
};
std::string_view name_of(group g);
std::vector<group> all_groups();
group parse_group(std::string_view text);  // throws bnconform::error

struct settings {
  check::level level = check::level::standard;
  std::string profile = "pytorch";
  double budget_seconds = 20;  // the property search, after the fixed groups
  std::uint64_t seed = 1;
  double case_timeout_seconds = 60;  // silence longer than this is a hang
  int max_isolation_failures = 3;    // crashes and hangs before the rest is left unrun
  bool fail_fast = false;            // stop at the first failing item
  std::vector<group> groups = all_groups();
  std::string golden_directory;  // the golden catalog's cases/
  int cases_per_round = 20;      // property cases per round
  std::string shapes_file;       // the realistic group's shapes (empty: the built-in networks)
  // The profile of this run in which the realistic group's built-in networks ran
  // (several profiles in one run): the group has no items here, and the run is
  // still complete.
  std::string realistic_ran_in;
  int jobs = 1;  // worker processes side by side (fail_fast runs one)
  // The bnconform command, which the reproducibility group runs under other CPU
  // counts; empty: that group's items are unsupported.
  std::string executable;
  // The distributed group (SyncBatchNorm) over at most this many ranks, each its
  // own process started by `mpiexec` (its path); 0: the group has no items.
  int ranks = 0;
  std::string mpiexec;
};

// One fixed item. `subject` names what it runs: a cell (coverage), a catalog case
// (degenerate), a file (golden), a problem string (gradient, realistic), a malformed
// call ("forward/eps_finite_nonnegative", battery/malformed_calls.hpp), a problem
// string (reproducibility), a problem string with its views (views), a case of
// distributed/distributed_cases.hpp (distributed).
struct item {
  group kind = group::coverage;
  std::string name;     // unique in the plan, shown in reports: "degenerate/nan-in-channel"
  std::string subject;  // see above
};

struct plan {
  std::vector<item> fixed;
  // Property rounds follow the fixed items: round r checks property r mod P on
  // `cases_per_round` cases from a seed derived from (settings.seed, r); every
  // property gets at least one round whatever the budget.
  bool properties = true;
};

// Throws bnconform::error when the golden directory cannot be read.
plan make_plan(const bnc_capabilities& caps, const settings& s);

// The profile named `text` ("pytorch", "onnx", "keras", "tf-fused", "flax").
std::optional<profile> parse_profile_name(std::string_view text);
// `--profile`'s value: "all", or a comma list of profile names, in the order given
// (duplicates dropped). Throws bnconform::error naming the known profiles.
std::vector<std::string> parse_profile_list(std::string_view text);
profile profile_of(const settings& s);

// The seed of property round r.
std::uint64_t round_seed(std::uint64_t seed, std::int64_t round);
// The number of properties (rounds cycle through them).
std::int64_t property_count();
std::string round_name(std::int64_t round);  // "properties/batch-permutation#3"

}  // namespace bnconform::certify
