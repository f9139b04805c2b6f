#pragma once
// The property checks and the helpers they share (internal to the library; the
// public entry point is properties.hpp's check_property).
#include <cstdint>
#include <string>
#include <vector>

#include "check/budget.hpp"
#include "check/comparison.hpp"
#include "properties.hpp"
#include "tolerance.hpp"

namespace bnconform::properties::detail {

using qvec = std::vector<reference::channel_quantities>;

// One function per property_id (check_property dispatches).
property_result forward_matches_reference(const kernel& k, const generated_case& c,
                                          const property_options& opt);
property_result backward_matches_reference(const kernel& k, const generated_case& c,
                                           const property_options& opt);
property_result batch_permutation(const kernel& k, const generated_case& c,
                                  const property_options& opt);
property_result power_of_two_scaling(const kernel& k, const generated_case& c,
                                     const property_options& opt);
property_result shift_invariance(const kernel& k, const generated_case& c,
                                 const property_options& opt);
property_result layout_invariance(const kernel& k, const generated_case& c,
                                  const property_options& opt);
property_result shard_merge(const kernel& k, const generated_case& c, const property_options& opt);
property_result eval_is_affine(const kernel& k, const generated_case& c,
                               const property_options& opt);
property_result momentum_none_mean(const kernel& k, const generated_case& c,
                                   const property_options& opt);
property_result eval_between_steps(const kernel& k, const generated_case& c,
                                   const property_options& opt);
property_result gradient_identities(const kernel& k, const generated_case& c,
                                    const property_options& opt);
property_result profile_relations(const kernel& k, const generated_case& c,
                                  const property_options& opt);

// ---- results -----------------------------------------------------------------------
property_result pass_with(const agreement& a);  // pass, or fail with a's detail
property_result make(outcome o, std::string detail);
// A pair of calls that did not both succeed: a failure already recorded in `a`, or
// (rejected alike) a case the relation cannot judge.
property_result rejected(const agreement& a, const call_status& s);
// Sets `out` to unsupported and returns true when the kernel does not declare the call.
bool unsupported(const kernel& k, const problem& p, bool backward, property_result& out);

// ---- calls -------------------------------------------------------------------------
struct forward_call {
  forward_outputs out;
  module_state state;  // after the call
};
forward_call call_forward(const kernel& k, const problem& p, const tensor& x, module_state s);
// Guard findings fail any property; true when there are none.
bool clean(agreement& a, const std::vector<guard_finding>& guards);
bool both_clean(agreement& a, const forward_outputs& x, const forward_outputs& y);
// Both calls must have the same status; true when both succeeded.
bool same_status(agreement& a, const call_status& x, const call_status& y);
std::string status_text(const call_status& s);
bool same_module_state(const module_state& x, const module_state& y);
// Statistics and running statistics of two calls on data with the same exact
// result agree within the sum of their budgets.
void compare_statistics(agreement& a, const problem& p, const check::budget_model& model,
                        const std::vector<check::channel_terms>& t, const qvec& q,
                        const forward_call& one, const forward_call& two,
                        const module_state& before);

// ---- cases -------------------------------------------------------------------------
std::vector<check::channel_terms> terms_of(const check::budget_model& model, const qvec& q,
                                           const module_state& s);
std::string index_text(const problem& p, std::int64_t i);
bool all_finite(const tensor& t);
// v is a value of t, normal or zero (or not finite): scaling and shifting stay exact.
bool exact_in(dtype t, double v);
// A small counter from the seed, and one in 16 near 2^24.
std::int64_t counter_of(const generated_case& c);
// Batches of a sequence: 2 to `most`, from the seed.
std::uint64_t sequence_length(const generated_case& c, std::uint64_t most);
// The same logical tensor stored in problem `to`'s layout.
tensor relayout(const problem& from, const problem& to, const tensor& t);
// Batch entries [first, first + part.batch()) of a data tensor of `whole`.
tensor batch_slice(const problem& whole, const problem& part, const tensor& t, std::int64_t first);

// A problem like p with some fields changed.
problem with(const problem& p, auto change) {
  problem::fields f = p.spec();
  change(f);
  return problem(f);
}

}  // namespace bnconform::properties::detail
