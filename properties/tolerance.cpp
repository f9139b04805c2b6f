#include "tolerance.hpp"

#include <cmath>

#include "check/comparison.hpp"

namespace bnconform::properties::detail {

void compensated_sum::add(double v) {
  const double t = sum_ + v;
  compensation_ += std::abs(sum_) >= std::abs(v) ? (sum_ - t) + v : (v - t) + sum_;
  sum_ = t;
}

bool ill_posed(const problem& p, const reference::channel_quantities& q) {
  return p.uses_batch_statistics() && p.eps() == 0 && q.var == 0;
}

std::vector<reference::channel_quantities> estimate(const problem& p, const tensor& x,
                                                    const tensor& dy, const module_state& state) {
  const std::int64_t channels = p.channels(), m = p.reduction_size(), spatial = p.spatial_size();
  std::vector<reference::channel_quantities> out(static_cast<std::size_t>(channels));
  for (std::int64_t c = 0; c < channels; ++c) {
    auto& q = out[static_cast<std::size_t>(c)];
    q.m = m;
    auto value = [&](const tensor& t, std::int64_t k) {
      return t.get(p.offset(k / spatial, c, k % spatial));
    };
    compensated_sum sum, sum_abs;
    for (std::int64_t k = 0; k < m; ++k) {
      sum.add(value(x, k));
      sum_abs.add(std::abs(value(x, k)));
    }
    const double md = static_cast<double>(m);
    q.mean_abs = sum_abs.value() / md;
    if (p.uses_batch_statistics()) {
      const double mean = sum.value() / md;
      compensated_sum squares, residual;
      for (std::int64_t k = 0; k < m; ++k) residual.add(value(x, k) - mean);
      const double correction = residual.value() / md;  // the second pass's mean fix
      q.mean = mean + correction;
      for (std::int64_t k = 0; k < m; ++k) {
        const double d = value(x, k) - q.mean;
        squares.add(d * d);
      }
      q.var = squares.value() / md;
    } else {
      q.mean = state.running_mean.get(c);
      q.var = state.running_var.get(c);
    }
    q.invstd = 1 / std::sqrt(q.var + p.eps());
    if (dy.size() == 0) continue;
    compensated_sum sdy, sady, sdyx, sadyx;
    for (std::int64_t k = 0; k < m; ++k) {
      const double d = value(dy, k), xh = (value(x, k) - q.mean) * q.invstd;
      sdy.add(d);
      sady.add(std::abs(d));
      sdyx.add(d * xh);
      sadyx.add(std::abs(d * xh));
    }
    q.sum_dy = sdy.value();
    q.sum_abs_dy = sady.value();
    q.sum_dy_xhat = sdyx.value();
    q.sum_abs_dy_xhat = sadyx.value();
  }
  return out;
}

void agreement::within(const std::string& what, double a, double b, double tolerance, dtype t) {
  if (std::isnan(a) && std::isnan(b)) return;
  if (!std::isfinite(a) || !std::isfinite(b) || std::isnan(tolerance)) {
    if (a == b) return;
    fail(what + ": " + check::exact_text(a, t) + " vs " + check::exact_text(b, t) +
         " (must be equal)");
    return;
  }
  const double error = std::abs(a - b);
  const double ratio = tolerance > 0 ? error / tolerance : (error == 0 ? 0.0 : INFINITY);
  if (ratio > worst_) worst_ = ratio;
  if (ratio > 1) {
    char text[64];
    std::snprintf(text, sizeof text, "%.3g", ratio);
    fail(what + ": " + check::exact_text(a, t) + " vs " + check::exact_text(b, t) + ", |diff| " +
         check::exact_text(error, dtype::f64) + " > tolerance " +
         check::exact_text(tolerance, dtype::f64) + " (ratio " + text + ")");
  }
}

void agreement::identical(const std::string& what, double a, double b, dtype t) {
  if (std::isnan(a) && std::isnan(b)) return;
  if (a == b && std::signbit(a) == std::signbit(b)) return;
  fail(what + ": " + check::exact_text(a, t) + " vs " + check::exact_text(b, t) +
       " (must be identical)");
}

void agreement::fail(const std::string& why) {
  ++failures_;
  if (lines_.size() < 10) lines_.push_back(why);
}

std::string agreement::detail() const {
  std::string s = std::to_string(failures_) + " disagreement(s)";
  for (const std::string& line : lines_) s += "\n  " + line;
  return s;
}

}  // namespace bnconform::properties::detail
