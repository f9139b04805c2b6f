#pragma once
// The child's side of certify: runs one item of the plan, or one property round,
// against a kernel and sums it up as an item_outcome. Everything here may be
// brought down by the kernel; certifier.hpp keeps it in a child process.
#include <cstdint>
#include <functional>
#include <string>

#include "check/comparison.hpp"
#include "core/kernel.hpp"
#include "outcome.hpp"
#include "plan.hpp"

namespace bnconform::certify {

// What a repro line needs besides the item: how the user named the kernel.
struct repro_context {
  std::string kernel_argument;  // as given to --kernel
  const settings* options = nullptr;
};

// The coverage case's problem of a cell: 3 channels, 120 elements, rank 4 unless
// the capabilities declare a narrower range of ranks.
// In profile `pf` (that profile's eps and momentum).
problem coverage_problem(const cell& c, const bnc_capabilities& caps,
                         profile pf = profile::pytorch);
bool is_backward(const cell& c);
// Where a call's worst ratio was: "dx(1, 2, 0, 3) of shape=4x3x5x2,...".
std::string worst_element_of(const check::comparison& c, const problem& p);

// `repro`: the command that reruns just this item.
std::string repro_command(const repro_context& r, const std::string& item_name);

// `alive` is called while a long item is judged (between the phases of its calls).
item_outcome run_item(const kernel& k, const item& it, const repro_context& r,
                      const std::function<void()>& alive = {});

// Round `round` of the properties; `on_case` hears each case before it is judged
// (its one-line repro), so that a crash can be pinned on it.
item_outcome run_round(const kernel& k, std::int64_t round, const repro_context& r,
                       const std::function<void(const std::string&)>& on_case);

}  // namespace bnconform::certify
