#pragma once
// The differential suite's comparison: the exact engine against the
// multiprecision engine on one call, every output bit for bit (rounded value and
// residual), the status and its message, the ill-posed channels, the counter and
// the per-channel quantities. An empty string means they agree.
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "core/rounding.hpp"
#include "reference/reference.hpp"

namespace bnconform::testing {

inline std::string differ(const char* what, const std::vector<double>& a,
                          const std::vector<double>& b) {
  if (a.size() != b.size()) {
    return std::string(what) + ": sizes " + std::to_string(a.size()) + " vs " +
           std::to_string(b.size());
  }
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (!same_value(a[i], b[i])) {
      char text[160];
      std::snprintf(text, sizeof text, "%s[%zu]: exact %a vs multiprecision %a", what, i, a[i],
                    b[i]);
      return text;
    }
  }
  return {};
}

// Elements that either engine accepted as negligible (known only to within a
// spread) must agree to within that spread; all others bit for bit.
inline std::string differ(const char* what, reference::output a, reference::output b,
                          const std::vector<reference::unsettled_element>& forgiven) {
  for (const reference::unsettled_element& e : forgiven) {
    if (e.output != what) continue;
    const auto i = static_cast<std::size_t>(e.index);
    if (i >= a.rounded.size() || i >= b.rounded.size()) continue;
    const double va = a.rounded[i] + a.residual[i];
    const double vb = b.rounded[i] + b.residual[i];
    if (!(std::fabs(va - vb) <= 2 * e.spread) && !(std::isnan(va) && std::isnan(vb))) {
      return std::string(what) + "[" + std::to_string(i) + "]: forgiven element beyond its spread";
    }
    a.rounded[i] = b.rounded[i];
    a.residual[i] = b.residual[i];
  }
  // The multiprecision residual is exact - rounded computed at 2P bits: where the
  // true residual is below that computation's own error (2^-480 of the value),
  // it carries the error and the exact engine's is the true one.
  for (std::size_t i = 0; i < a.residual.size() && i < b.residual.size(); ++i) {
    if (std::fabs(a.residual[i] - b.residual[i]) <= 0x1p-480 * std::fabs(b.rounded[i])) {
      a.residual[i] = b.residual[i];
    }
  }
  std::string d = differ(what, a.rounded, b.rounded);
  if (d.empty()) d = differ((std::string(what) + ".residual").c_str(), a.residual, b.residual);
  return d;
}

template <class Result>
std::vector<reference::unsettled_element> forgiven_by_either(const Result& a, const Result& b) {
  std::vector<reference::unsettled_element> all = a.forgiven;
  all.insert(all.end(), b.forgiven.begin(), b.forgiven.end());
  return all;
}

inline bool refused(const call_status& s) {
  return s.message.find("binary orders of magnitude") != std::string::npos;
}

// The multiprecision engine's answer, at a precision whose span rule accepts the
// call where the default one refuses it (the exact engine has no such rule).
template <class Call>
auto vouched(Call&& call) {
  auto r = call(reference::default_precision_bits);
  if (r.status.message.find("binary orders of magnitude") != std::string::npos) r = call(1024);
  return r;
}

inline std::string differ_status(const call_status& a, const call_status& b) {
  if (a.code != b.code || a.message != b.message) {
    return "status: exact " + std::to_string(a.code) + " '" + a.message + "' vs multiprecision " +
           std::to_string(b.code) + " '" + b.message + "'";
  }
  return {};
}

inline std::string differ_quantities(const std::vector<reference::channel_quantities>& a,
                                     const std::vector<reference::channel_quantities>& b) {
  if (a.size() != b.size()) return "quantities: channel counts differ";
  for (std::size_t c = 0; c < a.size(); ++c) {
    const auto& x = a[c];
    const auto& y = b[c];
    const double fx[] = {x.mean,   x.var,        x.invstd,      x.mean_abs,
                         x.sum_dy, x.sum_abs_dy, x.sum_dy_xhat, x.sum_abs_dy_xhat};
    const double fy[] = {y.mean,   y.var,        y.invstd,      y.mean_abs,
                         y.sum_dy, y.sum_abs_dy, y.sum_dy_xhat, y.sum_abs_dy_xhat};
    static const char* names[] = {"mean",   "var",        "invstd",      "mean_abs",
                                  "sum_dy", "sum_abs_dy", "sum_dy_xhat", "sum_abs_dy_xhat"};
    // The multiprecision quantities are P-bit values (not self-checked): they may
    // differ from the exact engine's correctly rounded ones by the rounding of a
    // P-bit sum, relative to the magnitude of its terms.
    const double scale[] = {y.mean_abs,   y.var,        y.invstd,          y.mean_abs,
                            y.sum_abs_dy, y.sum_abs_dy, y.sum_abs_dy_xhat, y.sum_abs_dy_xhat};
    if (x.m != y.m) return "quantities: m differs";
    for (int k = 0; k < 8; ++k) {
      const bool within = std::fabs(fx[k] - fy[k]) <= 0x1p-230 * std::fabs(scale[k]);
      if (!same_value(fx[k], fy[k]) && !within) {
        char text[200];
        std::snprintf(text, sizeof text, "quantities[%zu].%s: exact %a vs multiprecision %a", c,
                      names[k], fx[k], fy[k]);
        return text;
      }
    }
  }
  return {};
}

// Both engines on a forward and (when dy is given) a backward call, and the
// quantities; the first difference, or "".
inline std::string engines_differ(const problem& p, const reference::call_inputs& in) {
  reference::options exact{reference::default_precision_bits, reference::oracle::exact};
  const auto mp = [](int bits) {
    return reference::options{bits, reference::oracle::multiprecision};
  };
  const reference::forward_result fa = reference::forward(p, in, exact);
  // Where the multiprecision engine refuses a span, the exact engine refuses alike
  // (when it needed that engine) or answers; an answer is checked at 1024 bits.
  if (refused(fa.status) && refused(reference::forward(p, in, mp(256)).status)) return {};
  const reference::forward_result fb =
      vouched([&](int bits) { return reference::forward(p, in, mp(bits)); });
  if (refused(fb.status)) return {};
  const auto fforgiven = forgiven_by_either(fa, fb);
  std::string d = differ_status(fa.status, fb.status);
  if (d.empty() && fa.status.ok()) {
    for (const auto& [name, a, b] :
         {std::tuple{"y", &fa.y, &fb.y}, std::tuple{"save_mean", &fa.save_mean, &fb.save_mean},
          std::tuple{"save_invstd", &fa.save_invstd, &fb.save_invstd},
          std::tuple{"running_mean", &fa.running_mean, &fb.running_mean},
          std::tuple{"running_var", &fa.running_var, &fb.running_var}}) {
      if (d.empty()) d = differ(name, *a, *b, fforgiven);
    }
    if (d.empty() && fa.ill_posed_channels != fb.ill_posed_channels) d = "ill-posed channels";
    if (d.empty() && fa.num_batches_tracked != fb.num_batches_tracked) d = "counter";
  }
  if (!d.empty()) return "forward: " + d;
  if (!in.dy.empty()) {
    const reference::backward_result ba = reference::backward(p, in, exact);
    if (refused(ba.status) && refused(reference::backward(p, in, mp(256)).status)) return {};
    const reference::backward_result bb =
        vouched([&](int bits) { return reference::backward(p, in, mp(bits)); });
    if (refused(bb.status)) return {};
    const auto bforgiven = forgiven_by_either(ba, bb);
    d = differ_status(ba.status, bb.status);
    if (d.empty() && ba.status.ok()) {
      d = differ("dx", ba.dx, bb.dx, bforgiven);
      if (d.empty()) d = differ("dgamma", ba.dgamma, bb.dgamma, bforgiven);
      if (d.empty()) d = differ("dbeta", ba.dbeta, bb.dbeta, bforgiven);
      if (d.empty() && ba.ill_posed_channels != bb.ill_posed_channels) d = "ill-posed channels";
    }
    if (!d.empty()) return "backward: " + d;
  }
  if (fa.status.ok() && !refused(reference::forward(p, in, mp(256)).status)) {
    d = differ_quantities(reference::quantities(p, in, exact),
                          reference::quantities(p, in, mp(reference::default_precision_bits)));
  }
  return d;
}

}  // namespace bnconform::testing
