#pragma once
// The reference: batch normalization computed in Boost.Multiprecision at
// `precision_bits` (default 256), checked against a second computation at twice
// that precision, and rounded once to each output's dtype. An output element whose
// rounding the two computations do not settle is reported in `unsettled` and the
// call's status is BNC_STATUS_INTERNAL_ERROR: it is never used silently.
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "call.hpp"

namespace bnconform::reference {

constexpr int default_precision_bits = 256;
// The precisions the reference is built for (significand bits).
std::span<const int> supported_precisions();

// Which engine answers: `exact` (exact sums, double-word elements with a proven
// bound, multiprecision where that bound cannot settle the rounding) or
// `multiprecision` (every value computed at P and 2P bits). Both return the same
// bits for every call the multiprecision engine accepts (docs/reference.md).
enum class oracle { exact, multiprecision };
std::string_view name_of(oracle o);
// The oracle named `name`, or nothing.
std::optional<oracle> parse_oracle(std::string_view name);

// The engine an `options` gets when none is named: exact, or what the command line
// chose (--oracle). Certify's and fuzz's workers are forked, so they inherit it.
oracle default_oracle();
void set_default_oracle(oracle o);

struct options {
  int precision_bits = default_precision_bits;
  oracle engine = default_oracle();
};

// Both validate first (sizes, profile, the m == 1 rule) and return the failing
// status without computing anything; the inputs are never modified.
forward_result forward(const problem& p, const call_inputs& in, const options& opt = {});
backward_result backward(const problem& p, const call_inputs& in, const options& opt = {});
// The forward call's per-channel outputs (save_mean, save_invstd, running
// statistics, statuses) with the same bits as forward(); y is left empty where the
// exact engine answers (the multiprecision engine computes it anyway).
forward_result forward_statistics(const problem& p, const call_inputs& in, const options& opt = {});
// One entry per channel; in.dy may be empty.
std::vector<channel_quantities> quantities(const problem& p, const call_inputs& in,
                                           const options& opt = {});

// The failing status of a call, or nothing when it is valid. Exposed for tests.
std::optional<call_status> validate(const problem& p, const call_inputs& in, bool backward);

}  // namespace bnconform::reference
