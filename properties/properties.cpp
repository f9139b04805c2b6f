#include "properties.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <numeric>

#include "property_checks.hpp"

namespace bnconform::properties {

namespace {

constexpr std::array<property_id, 12> ids{property_id::forward_matches_reference,
                                          property_id::backward_matches_reference,
                                          property_id::batch_permutation,
                                          property_id::power_of_two_scaling,
                                          property_id::shift_invariance,
                                          property_id::layout_invariance,
                                          property_id::shard_merge,
                                          property_id::eval_is_affine,
                                          property_id::momentum_none_mean,
                                          property_id::eval_between_steps,
                                          property_id::gradient_identities,
                                          property_id::profile_relations};

// Value kinds whose values are finite and whose squares are far from overflow and
// underflow: the metamorphic relations that rescale or combine values need them.
const std::vector<value_kind> tame_kinds{
    value_kind::normal,       value_kind::uniform,           value_kind::exact_fill,
    value_kind::large_offset, value_kind::constant_channels, value_kind::heavy_tail};

}  // namespace

std::string_view name_of(property_id id) {
  switch (id) {
    case property_id::forward_matches_reference: return "forward-matches-reference";
    case property_id::backward_matches_reference: return "backward-matches-reference";
    case property_id::batch_permutation: return "batch-permutation";
    case property_id::power_of_two_scaling: return "power-of-two-scaling";
    case property_id::shift_invariance: return "shift-invariance";
    case property_id::layout_invariance: return "layout-invariance";
    case property_id::shard_merge: return "shard-merge";
    case property_id::eval_is_affine: return "eval-is-affine";
    case property_id::momentum_none_mean: return "momentum-none-mean";
    case property_id::eval_between_steps: return "eval-between-steps";
    case property_id::gradient_identities: return "gradient-identities";
    case property_id::profile_relations: return "profile-relations";
  }
  return "unknown";
}

std::optional<property_id> parse_property(std::string_view text) {
  for (const property_id id : ids) {
    if (name_of(id) == text) return id;
  }
  return std::nullopt;
}

std::span<const property_id> all_properties() { return ids; }

std::string_view name_of(outcome o) {
  switch (o) {
    case outcome::pass: return "pass";
    case outcome::fail: return "fail";
    case outcome::unsupported: return "unsupported";
    case outcome::not_applicable: return "not-applicable";
  }
  return "unknown";
}

case_needs needs_of(property_id id) {
  case_needs n;
  switch (id) {
    case property_id::forward_matches_reference: break;
    case property_id::backward_matches_reference: n.backward = true; break;
    case property_id::batch_permutation: n.min_batch = 2; break;
    case property_id::power_of_two_scaling:
      n.kinds = {
          value_kind::normal,       value_kind::uniform,           value_kind::exact_fill,
          value_kind::large_offset, value_kind::constant_channels, value_kind::sprinkled_nonfinite};
      break;
    case property_id::shift_invariance:
      n.batch_statistics = true;
      n.kinds = tame_kinds;
      break;
    case property_id::layout_invariance: n.both_layouts = true; break;
    case property_id::shard_merge:
      n.batch_statistics = true;
      n.min_batch = 4;
      n.kinds = tame_kinds;
      break;
    case property_id::eval_is_affine:
      n.forward_eval = true;
      n.tracking = true;
      n.min_batch = 2;
      break;
    case property_id::momentum_none_mean:
      n.forward_training = true;
      n.tracking = true;
      n.momentum_none = true;
      n.kinds = tame_kinds;
      break;
    case property_id::eval_between_steps:
      n.forward_training = true;
      n.tracking = true;
      n.both_modes = true;
      break;
    case property_id::gradient_identities:
      n.batch_statistics = true;
      n.backward = true;
      n.gamma_one = true;
      n.kinds = tame_kinds;
      break;
    case property_id::profile_relations:
      n.forward_training = true;
      n.tracking = true;
      n.min_batch = 2;
      n.kinds = tame_kinds;
      break;
  }
  return n;
}

std::string unsupported_reason(property_id id, const kernel& k, profile pf) {
  const case_needs n = needs_of(id);
  const bnc_capabilities& caps = k.capabilities();
  const auto has = [&](std::uint32_t op) { return (caps.operations & op) != 0; };
  if ((caps.profiles & BNC_BIT(static_cast<int>(pf))) == 0)
    return "the " + std::string(name_of(pf)) + " profile is not declared";
  if (n.momentum_none && pf != profile::pytorch) {
    return "momentum=None exists only in the pytorch profile";
  }
  if (id == property_id::profile_relations && std::popcount(caps.profiles & 0x1fu) < 2) {
    return "needs two declared profiles";
  }
  if ((caps.dtypes & 0xfu) == 0 || (caps.layouts & 0x3u) == 0) return "no dtype or layout declared";
  if (caps.max_rank < 2 || caps.min_rank > 5) return "no rank from 2 to 5 declared";
  if (n.both_layouts && (caps.layouts & 0x3u) != 0x3u) return "needs both layouts";
  if (n.both_modes && !(has(BNC_OP_FORWARD_TRAINING) && has(BNC_OP_FORWARD_EVAL))) {
    return "needs forward in training and eval";
  }
  if (n.forward_training && !has(BNC_OP_FORWARD_TRAINING)) return "needs forward training";
  if (n.forward_eval && !has(BNC_OP_FORWARD_EVAL)) return "needs forward eval";
  if (n.backward && !has(BNC_OP_BACKWARD_TRAINING) && !has(BNC_OP_BACKWARD_EVAL)) {
    return "needs a backward op";
  }
  if (n.batch_statistics && !has(BNC_OP_FORWARD_TRAINING) && !has(BNC_OP_FORWARD_EVAL)) {
    return "needs a forward op";
  }
  if (n.backward && n.batch_statistics && !has(BNC_OP_BACKWARD_TRAINING) &&
      !has(BNC_OP_BACKWARD_EVAL)) {
    return "needs backward with batch statistics";
  }
  if (!has(BNC_OP_FORWARD_TRAINING) && !has(BNC_OP_FORWARD_EVAL)) return "no forward op declared";
  return {};
}

property_result check_property(property_id id, const kernel& k, const generated_case& c,
                               const property_options& opt) {
  switch (id) {
    case property_id::forward_matches_reference:
      return detail::forward_matches_reference(k, c, opt);
    case property_id::backward_matches_reference:
      return detail::backward_matches_reference(k, c, opt);
    case property_id::batch_permutation: return detail::batch_permutation(k, c, opt);
    case property_id::power_of_two_scaling: return detail::power_of_two_scaling(k, c, opt);
    case property_id::shift_invariance: return detail::shift_invariance(k, c, opt);
    case property_id::layout_invariance: return detail::layout_invariance(k, c, opt);
    case property_id::shard_merge: return detail::shard_merge(k, c, opt);
    case property_id::eval_is_affine: return detail::eval_is_affine(k, c, opt);
    case property_id::momentum_none_mean: return detail::momentum_none_mean(k, c, opt);
    case property_id::eval_between_steps: return detail::eval_between_steps(k, c, opt);
    case property_id::gradient_identities: return detail::gradient_identities(k, c, opt);
    case property_id::profile_relations: return detail::profile_relations(k, c, opt);
  }
  return detail::make(outcome::unsupported, "unknown property");
}

}  // namespace bnconform::properties
