#pragma once
// The self-check: the engine at Bits and at 2 * Bits, each output rounded once to
// its dtype when the two computations settle the rounding. Instantiated for each
// supported precision in checked_<bits>.cpp.
#include <algorithm>
#include <climits>
#include <cmath>
#include <optional>
#include <string>

#include "core/rounding.hpp"
#include "engine.hpp"
#include "negligible.hpp"
#include "real.hpp"

// GCC 12 reports -Warray-bounds inside Boost 1.74's cpp_int when a cpp_bin_float
// is widened (High(low) below): a known false positive of the middle end on code
// it inlined, not a bug here or in Boost. Silenced for this header only.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Warray-bounds"
#endif

namespace bnconform::reference {

// An infinity says nothing the rounded value does not: 0 then ("no exact value").
inline double finite_or_zero(double v) { return std::isfinite(v) ? v : 0.0; }

struct settled_value {
  double rounded;
  double residual;
};

// One element: `exact` is the better of two computations, `other` the lower one.
template <class Low, class High>
settled_value settle_one(const Low& low, const High& exact, dtype type, const char* name,
                         std::int64_t index, std::vector<unsettled_element>& unsettled) {
  const High other = High(low);
  double rounded;
  if (isnan(exact) || isnan(other)) {
    rounded = std::nan("");
    if (!(isnan(exact) && isnan(other))) unsettled.push_back({name, index, HUGE_VAL});
  } else if (exact == other) {
    // Agreement to every bit of the lower precision means the value is exactly
    // representable there (an inexact value agrees by chance with probability
    // 2^-Bits): its rounding, ties included, is settled.
    rounded = round_to(exact, type);
  } else {
    // Their difference bounds the error of the lower one; the higher is far
    // closer. Settled when the whole interval rounds to one value.
    const High spread = High(2) * abs(High(exact - other));
    rounded = round_to(exact, type);
    if (!same_value(round_to(High(exact - spread), type), rounded) ||
        !same_value(round_to(High(exact + spread), type), rounded)) {
      unsettled.push_back({name, index, static_cast<double>(spread)});
    }
  }
  // A finite exact value that rounds to an infinity keeps itself (to double) in
  // the residual, so that the error model knows how far beyond the range it is.
  const bool overflowed = std::isinf(rounded) && isfinite(exact);
  // A zero residual is +0: its sign carries nothing.
  const double residual = rounded == exact ? 0.0
                          : std::isfinite(rounded)
                              ? round_to_format(High(exact - High(rounded)), residual_format)
                          : overflowed ? finite_or_zero(round_to(exact, dtype::f64))
                                       : (std::isnan(rounded) ? rounded : 0.0);
  return {rounded, residual};
}

template <class Low, class High>
output settle(const std::vector<Low>& low, const std::vector<High>& high, dtype type,
              const char* name, std::vector<unsettled_element>& unsettled) {
  output out;
  out.rounded.resize(high.size());
  out.residual.resize(high.size());
  for (std::size_t i = 0; i < high.size(); ++i) {
    const settled_value v =
        settle_one(low[i], high[i], type, name, static_cast<std::int64_t>(i), unsettled);
    out.rounded[i] = v.rounded;
    out.residual[i] = v.residual;
  }
  return out;
}

inline call_status unsettled_status(const std::vector<unsettled_element>& unsettled, int bits) {
  const unsettled_element& first = unsettled.front();
  return {BNC_STATUS_INTERNAL_ERROR,
          "reference self-check: " + std::to_string(unsettled.size()) +
              " output element(s) not settled at " + std::to_string(bits) + " vs " +
              std::to_string(2 * bits) + " bits (first: " + first.output + "[" +
              std::to_string(first.index) + "]); use a higher precision"};
}

// Binary orders of magnitude spanned by the finite non-zero inputs of a call.
// When both precisions drop the same tiny terms (a span beyond about 2 * Bits),
// they agree exactly on a wrong value; the self-check can only vouch for calls
// whose inputs span less (documented in docs/reference.md).
inline int exponent_span(const problem& p, const call_inputs& in) {
  int low = INT_MAX, high = INT_MIN;
  const auto visit = [&](double v) {
    if (v == 0 || !std::isfinite(v)) return;
    const int e = std::ilogb(v);
    low = std::min(low, e);
    high = std::max(high, e);
  };
  for (const auto* values :
       {&in.x, &in.dy, &in.gamma, &in.beta, &in.running_mean, &in.running_var}) {
    for (double v : *values) visit(v);
  }
  visit(p.eps());
  return high >= low ? high - low : 0;
}

inline std::optional<call_status> span_refusal(const problem& p, const call_inputs& in, int bits) {
  const int span = exponent_span(p, in);
  if (span <= 2 * bits - 128) return std::nullopt;
  return call_status{BNC_STATUS_INTERNAL_ERROR,
                     "reference self-check: the inputs span " + std::to_string(span) +
                         " binary orders of magnitude, more than a " + std::to_string(bits) +
                         "-bit reference can vouch for (" + std::to_string(2 * bits - 128) +
                         "); use a higher precision"};
}

template <unsigned Bits>
std::vector<channel_quantities> checked_quantities(const problem& p, const call_inputs& in);

template <unsigned Bits>
forward_result checked_forward(const problem& p, const call_inputs& in) {
  if (auto refusal = span_refusal(p, in, Bits)) {
    forward_result r;
    r.status = *refusal;
    r.needs_more_bits = true;
    return r;
  }
  const auto low = engine<mp_float<Bits>>(p, in).forward();
  const auto high = engine<mp_float<2 * Bits>>(p, in).forward();
  forward_result r;
  r.y = settle(low.y, high.y, p.data_type(), "y", r.unsettled);
  r.save_mean = settle(low.save_mean, high.save_mean, p.stats_type(), "save_mean", r.unsettled);
  r.save_invstd =
      settle(low.save_invstd, high.save_invstd, p.stats_type(), "save_invstd", r.unsettled);
  r.running_mean =
      settle(low.running_mean, high.running_mean, p.stats_type(), "running_mean", r.unsettled);
  r.running_var =
      settle(low.running_var, high.running_var, p.stats_type(), "running_var", r.unsettled);
  r.num_batches_tracked = high.num_batches_tracked;
  r.ill_posed_channels = high.ill_posed_channels;
  if (!r.unsettled.empty()) {
    forgive_negligible(p, in, checked_quantities<Bits>(p, in), Bits, r.unsettled, &r.forgiven);
  }
  if (!r.unsettled.empty()) {
    r.status = unsettled_status(r.unsettled, Bits);
    r.needs_more_bits = true;
  }
  return r;
}

template <unsigned Bits>
backward_result checked_backward(const problem& p, const call_inputs& in) {
  if (auto refusal = span_refusal(p, in, Bits)) {
    backward_result r;
    r.status = *refusal;
    r.needs_more_bits = true;
    return r;
  }
  const auto low = engine<mp_float<Bits>>(p, in).backward();
  const auto high = engine<mp_float<2 * Bits>>(p, in).backward();
  backward_result r;
  r.dx = settle(low.dx, high.dx, p.data_type(), "dx", r.unsettled);
  r.dgamma = settle(low.dgamma, high.dgamma, p.stats_type(), "dgamma", r.unsettled);
  r.dbeta = settle(low.dbeta, high.dbeta, p.stats_type(), "dbeta", r.unsettled);
  r.ill_posed_channels = high.ill_posed_channels;
  if (!r.unsettled.empty()) {
    forgive_negligible(p, in, checked_quantities<Bits>(p, in), Bits, r.unsettled, &r.forgiven);
  }
  if (!r.unsettled.empty()) {
    r.status = unsettled_status(r.unsettled, Bits);
    r.needs_more_bits = true;
  }
  return r;
}

template <unsigned Bits>
std::vector<channel_quantities> checked_quantities(const problem& p, const call_inputs& in) {
  const engine<mp_float<Bits>> e(p, in);
  std::vector<channel_quantities> out;
  for (std::int64_t c = 0; c < p.channels(); ++c) out.push_back(e.quantities(c));
  return out;
}

#define BNCONFORM_INSTANTIATE_REFERENCE(BITS)                                          \
  template forward_result checked_forward<BITS>(const problem&, const call_inputs&);   \
  template backward_result checked_backward<BITS>(const problem&, const call_inputs&); \
  template std::vector<channel_quantities> checked_quantities<BITS>(const problem&,    \
                                                                    const call_inputs&);

#define BNCONFORM_DECLARE_REFERENCE(BITS)                                                     \
  extern template forward_result checked_forward<BITS>(const problem&, const call_inputs&);   \
  extern template backward_result checked_backward<BITS>(const problem&, const call_inputs&); \
  extern template std::vector<channel_quantities> checked_quantities<BITS>(const problem&,    \
                                                                           const call_inputs&);

}  // namespace bnconform::reference

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
