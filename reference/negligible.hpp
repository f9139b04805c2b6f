#pragma once
// An output element whose rounding the self-check cannot settle because its exact
// value sits at a rounding boundary (most often an exact zero reached by
// cancellation: dx for a constant dy, dgamma for symmetric data) is still known to
// within the spread of the two computations. When that spread is negligible next
// to the size of the terms the element is computed from (below 2^-(P/2) of them,
// far below any kernel's error budget), the element is accepted: `rounded` is the
// nearest value to the better computation and `residual` carries the rest, so the
// error model sees the exact value to within the spread. Only elements whose
// uncertainty matters fail the call (docs/reference.md).
#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "call.hpp"

namespace bnconform::reference {

namespace detail {

inline double at(const std::vector<double>& v, std::int64_t i, double absent) {
  return v.empty() ? absent : v[static_cast<std::size_t>(i)];
}

// The magnitude of the terms an output element is computed from.
inline double element_scale(const problem& p, const call_inputs& in,
                            const std::vector<channel_quantities>& q, const unsettled_element& e) {
  using std::abs;
  const bool per_element = e.output == "y" || e.output == "dx";
  const std::int64_t c = per_element ? p.channel_of(e.index) : e.index;
  const channel_quantities& k = q[static_cast<std::size_t>(c)];
  const double gamma = abs(at(in.gamma, c, 1.0));
  const double m = static_cast<double>(k.m);
  const double f =
      p.momentum() ? *p.momentum() : 1.0 / static_cast<double>(in.num_batches_tracked + 1);
  if (e.output == "y") {
    const double x = in.x[static_cast<std::size_t>(e.index)];
    return gamma * (abs(x) + abs(k.mean)) * k.invstd + abs(at(in.beta, c, 0.0));
  }
  if (e.output == "dx") {
    const auto i = static_cast<std::size_t>(e.index);
    const double xhat = abs(in.x[i] - k.mean) * k.invstd;
    return gamma * k.invstd * (abs(in.dy[i]) + (k.sum_abs_dy + xhat * k.sum_abs_dy_xhat) / m);
  }
  if (e.output == "save_mean") return k.mean_abs;
  if (e.output == "save_invstd") return k.invstd;
  // The running statistics' terms by the profile's update (docs/semantics.md#profiles):
  // the momentum weights the old value in onnx, keras and flax (biased variance);
  // tf-fused with f == 1 does not read the old value, and its factor b is 1 at m == 1.
  const profile pr = p.profile();
  const bool old_weighted = pr == profile::onnx || pr == profile::keras || pr == profile::flax;
  const auto old_term = [&](const std::vector<double>& v) {
    if (old_weighted) return f * abs(at(v, c, 0.0));
    if (pr == profile::tf_fused && f == 1) return 0.0;
    return abs(1 - f) * abs(at(v, c, 0.0));
  };
  if (e.output == "running_mean") {
    return old_term(in.running_mean) + (old_weighted ? 1 - f : f) * k.mean_abs;
  }
  if (e.output == "running_var") {
    if (old_weighted) return old_term(in.running_var) + (1 - f) * k.var;
    if (pr == profile::tf_fused && m == 1) return old_term(in.running_var) + f * k.var;
    return old_term(in.running_var) + f * k.var * m / (m - 1);
  }
  if (e.output == "dgamma") return k.sum_abs_dy_xhat;
  if (e.output == "dbeta") return k.sum_abs_dy;
  return 0;
}

}  // namespace detail

// Moves the negligible elements from `unsettled` to `forgiven` (when given).
inline void forgive_negligible(const problem& p, const call_inputs& in,
                               const std::vector<channel_quantities>& q, unsigned bits,
                               std::vector<unsettled_element>& unsettled,
                               std::vector<unsettled_element>* forgiven = nullptr) {
  std::vector<unsettled_element> kept;
  for (const unsettled_element& e : unsettled) {
    const double scale = detail::element_scale(p, in, q, e);
    const double limit = std::ldexp(scale, -static_cast<int>(bits / 2));
    if (!(std::isfinite(e.spread) && std::isfinite(limit) && e.spread <= limit)) {
      kept.push_back(e);
    } else if (forgiven != nullptr) {
      forgiven->push_back(e);
    }
  }
  unsettled = std::move(kept);
}

}  // namespace bnconform::reference
