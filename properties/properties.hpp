#pragma once
// The battery's properties, each a function of a kernel reached through the ABI:
// agreement with the reference, and metamorphic relations that hold for every
// correct kernel whatever its reduction order (properties/README.md states each one
// and its tolerance). Callable by ctest, `bnconform certify` and `bnconform fuzz`.
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "check/level.hpp"
#include "core/kernel.hpp"
#include "generated_case.hpp"

namespace bnconform::properties {

enum class property_id : std::uint8_t {
  forward_matches_reference,   // forward outputs and state within budget (check::run_forward)
  backward_matches_reference,  // dx, dgamma, dbeta within budget (check::run_backward)
  batch_permutation,           // permuting the batch permutes y; statistics agree
  power_of_two_scaling,        // x * 2^k, eps * 4^k: y bit for bit, statistics scaled exactly
  shift_invariance,            // x + b (exact): y and invstd agree within budget
  layout_invariance,           // channels_first vs channels_last, same logical data
  shard_merge,                 // shards' statistics merged (Chan) equal the whole batch's
  eval_is_affine,              // eval: y elementwise, independent of the batch, affine per channel
  momentum_none_mean,          // momentum=None over 2..20 batches: the arithmetic mean
  eval_between_steps,          // eval calls between training steps change nothing
  gradient_identities,         // gamma == 1: sum dx == 0 and sum dx * xhat == 0 per channel
  profile_relations,           // the same call in every declared profile: the relations of
                               // docs/semantics.md between their outputs and running statistics
};

std::string_view name_of(property_id id);
std::optional<property_id> parse_property(std::string_view text);
std::span<const property_id> all_properties();

// What a property needs of a case; the generator makes only such cases.
struct case_needs {
  bool forward_training = false;  // the case must be in training mode
  bool forward_eval = false;      // the case must be in eval mode with running statistics
  bool batch_statistics = false;  // training, or eval without running statistics
  bool backward = false;          // the backward op of the case's mode
  bool both_layouts = false;
  bool tracking = false;  // track_running_stats
  bool momentum_none = false;
  bool both_modes = false;        // forward training and eval both declared
  bool gamma_one = false;         // (set by the property itself)
  std::int64_t min_batch = 0;     // N at least this
  std::vector<value_kind> kinds;  // empty: every kind
};
case_needs needs_of(property_id id);

// Why a kernel cannot be asked this property at all in profile `pf` (empty: it can).
std::string unsupported_reason(property_id id, const kernel& k, profile pf = profile::pytorch);

enum class outcome : std::uint8_t {
  pass,
  fail,
  unsupported,     // the case needs something the kernel does not declare
  not_applicable,  // the case cannot exercise the property (e.g. N < 2 for a permutation)
};
std::string_view name_of(outcome o);

struct property_result {
  outcome result = outcome::pass;
  std::string detail;      // why: the failing comparison, printed exactly
  double worst_ratio = 0;  // largest error / tolerance seen (0 when not measured)
  double max_ulp = 0;      // largest error in ULPs, where the property compared with the reference
};

struct property_options {
  check::level level = check::level::strict;
  int reference_bits = 256;
  // Exact-fill inputs demand save_mean bit for bit (check::options::exact_statistics).
  // Sum-then-divide kernels meet it; Welford updates divide at every step and do
  // not (an open question for the error model: properties/README.md).
  bool exact_fill_statistics = true;
};

property_result check_property(property_id id, const kernel& k, const generated_case& c,
                               const property_options& opt);
inline property_result check_property(property_id id, const kernel& k, const generated_case& c,
                                      check::level l) {
  property_options opt;
  opt.level = l;
  return check_property(id, k, c, opt);
}

}  // namespace bnconform::properties
