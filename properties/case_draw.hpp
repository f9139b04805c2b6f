#pragma once
// Cases one at a time, for `bnconform fuzz`: case number `index` of a campaign
// seed, drawn by the battery's own generator (case_generator: every declared
// dtype, layout and mode, the hard value kinds, shapes from degenerate to large),
// and the greedy shrinking of a failing one over RapidCheck's shrinks of that same
// draw (problem and kind shrink; the value seed does not). RapidCheck stays inside
// the library.
#include <cstdint>
#include <functional>
#include <vector>

#include "core/kernel.hpp"
#include "generated_case.hpp"
#include "runner.hpp"

namespace bnconform::properties {

struct draw_options {
  generation_limits limits;
  std::vector<value_kind> kinds;  // empty: every kind
};

// The seed of case `index` of a campaign: a pure function of the two, so that a
// campaign splits into shards by case index and any case is drawn again alone.
std::uint64_t case_seed(std::uint64_t campaign_seed, std::uint64_t index);

// Case `index` of the campaign `campaign_seed` within the kernel's declared
// capabilities. Throws bnconform::error when the kernel declares no case at all.
generated_case draw_case(const kernel& k, std::uint64_t campaign_seed, std::uint64_t index,
                         const draw_options& opt);

struct shrink_result {
  generated_case smallest;  // the last case that still failed (the drawn one if none smaller)
  int steps = 0;            // accepted shrinks
  int tries = 0;            // candidates judged
};

// Greedy shrinking: walks the draw's shrinks, moving to the first that
// `still_fails`, until none does or `max_tries` candidates were judged.
shrink_result shrink_case(const kernel& k, std::uint64_t campaign_seed, std::uint64_t index,
                          const draw_options& opt,
                          const std::function<bool(const generated_case&)>& still_fails,
                          int max_tries = 200);

}  // namespace bnconform::properties
