#include "comparison.hpp"

#include <cmath>
#include <cstring>
#include <limits>
#include <sstream>

#include "core/float_bits.hpp"

namespace bnconform::check {

namespace {

constexpr std::size_t mismatch_limit = 10;

std::string index_text(const std::vector<std::int64_t>& index) {
  std::string s = "[";
  for (std::size_t i = 0; i < index.size(); ++i) {
    if (i != 0) s += ",";
    s += std::to_string(index[i]);
  }
  return s + "]";
}

std::string number(double v) {
  std::ostringstream out;
  out.precision(3);
  out << v;
  return out.str();
}

// Significand bits (with the implicit one) and the smallest normal exponent.
int precision_of(dtype t) {
  switch (t) {
    case dtype::f64: return 53;
    case dtype::f32: return 24;
    case dtype::f16: return 11;
    case dtype::bf16: return 8;
  }
  return 53;
}
int min_exponent_of(dtype t) {
  switch (t) {
    case dtype::f64: return -1022;
    case dtype::f32: return -126;
    case dtype::f16: return -14;
    case dtype::bf16: return -126;
  }
  return -1022;
}

}  // namespace

std::vector<std::int64_t> full_index(const problem& p, std::int64_t memory_index) {
  const std::int64_t c_count = p.channels();
  const std::int64_t s_count = p.spatial_size();
  std::int64_t n = 0, c = 0, s = 0;
  if (p.layout() == layout::channels_first) {
    s = s_count == 0 ? 0 : memory_index % s_count;
    const std::int64_t rest = s_count == 0 ? 0 : memory_index / s_count;
    c = c_count == 0 ? 0 : rest % c_count;
    n = c_count == 0 ? 0 : rest / c_count;
  } else {
    c = c_count == 0 ? 0 : memory_index % c_count;
    const std::int64_t rest = c_count == 0 ? 0 : memory_index / c_count;
    s = s_count == 0 ? 0 : rest % s_count;
    n = s_count == 0 ? 0 : rest / s_count;
  }
  std::vector<std::int64_t> index{n, c};
  const auto shape = p.shape();
  std::vector<std::int64_t> spatial(shape.size() - 2);
  for (std::size_t d = spatial.size(); d-- > 0;) {
    const std::int64_t extent = shape[d + 2];
    spatial[d] = extent == 0 ? 0 : s % extent;
    s = extent == 0 ? 0 : s / extent;
  }
  index.insert(index.end(), spatial.begin(), spatial.end());
  return index;
}

std::string exact_text(double v, dtype t) {
  if (std::isnan(v)) return "nan";
  return shortest_decimal(v, t) + " (" + hex_float(v) + ")";
}

double ulp_error(double exact, double got, dtype t) {
  if (std::isnan(exact) || std::isnan(got) || std::isinf(exact) || std::isinf(got)) {
    return exact == got || (std::isnan(exact) && std::isnan(got))
               ? 0.0
               : std::numeric_limits<double>::infinity();
  }
  const int e = exact == 0 ? min_exponent_of(t) : std::max(std::ilogb(exact), min_exponent_of(t));
  const double ulp = std::ldexp(1.0, e - (precision_of(t) - 1));
  return std::abs(got - exact) / ulp;
}

judge::judge(const problem& p, level l) {
  c_.judged_at = l;
  c_.repro = "bnconform run --problem '" + p.to_string() + "'";
}

void judge::mismatch(const std::string& text) {
  if (c_.first_mismatches.size() < mismatch_limit) c_.first_mismatches.push_back(text);
}

std::vector<std::int64_t> element_at::index() const {
  return p_ != nullptr ? full_index(*p_, memory_index_) : given_;
}

void judge::element(const char* output, dtype type, const element_at& at, double expected,
                    double residual, double got, double budget, bool any_nonfinite) {
  ++c_.elements_judged;
  const auto where = [&] { return std::string(output) + index_text(at.index()); };
  if (std::isnan(expected) || std::isinf(expected) || std::isnan(got) || std::isinf(got)) {
    bool same = (std::isnan(expected) && std::isnan(got)) || expected == got;
    // Infinities met by cancellation (inf - inf, 0 * inf) make NaN or Inf a matter of
    // evaluation order: where the caller says so, any non-finite value will do.
    if (any_nonfinite && !std::isfinite(expected) && !std::isfinite(got)) same = true;
    // An infinity is a rounding of a value within budget when the budget reaches
    // beyond the format's largest finite value on the infinity's side. The exact
    // value is expected + residual, or, where a finite exact value rounds to an
    // infinity, the residual itself (reference/call.hpp).
    const bool overflowed = std::isinf(expected) && std::isfinite(residual) && residual != 0;
    if ((std::isfinite(expected) || overflowed) && !std::isnan(got) && !std::isnan(budget)) {
      const double exact = overflowed ? residual : expected + residual;
      if (std::isinf(got)) {
        const binary_format f = format_of(type);
        const double largest = std::ldexp(2.0 - std::ldexp(1.0, 1 - f.precision), f.max_exponent);
        same = got > 0 ? exact + budget > largest : exact - budget < -largest;
      } else {
        same = std::abs(got - exact) <= budget;  // a finite value for an overflowed one
      }
    }
    if (!same) {
      failures_.push_back(where() + ": expected " + exact_text(expected, type) + ", got " +
                          exact_text(got, type));
      mismatch(failures_.back());
    }
    return;
  }
  // A budget that is not a number (e.g. the empty batch's statistics) demands
  // the exact value; it must never pass silently.
  if (std::isnan(budget)) budget = 0;
  // exact = expected + residual; (got - expected) is exact when they are close.
  const double error = std::abs((got - expected) - residual);
  const double exact = expected + residual;
  // The correctly rounded value itself always passes, whatever the budget: with a
  // budget of 0 (or one that is not a number) an exact value the format cannot hold
  // would otherwise fail every kernel (eval with an infinite running_var gives
  // y = beta exactly, and beta = 5e-9 is below f16's range: fuzz/README.md).
  const double ratio =
      error == 0 || got == expected ? 0.0 : (budget > 0 ? error / budget : HUGE_VAL);
  c_.max_abs = std::max(c_.max_abs, error);
  if (exact != 0) c_.max_rel = std::max(c_.max_rel, error / std::abs(exact));
  // ULPs only where a budget bounds the value and the exact value is normal in the
  // output dtype: where the budget is unbounded (eps == 0 and a variance that rounds
  // to 0) any finite value passes, and at a zero or subnormal exact value the ULP is
  // the format's smallest spacing (2^-1074 for f64), so an error far within budget
  // reads 1e307 ULPs. Neither says anything about the kernel.
  if (std::isfinite(budget) && std::abs(exact) >= std::ldexp(1.0, min_exponent_of(type))) {
    c_.max_ulp = std::max(c_.max_ulp, ulp_error(exact, got, type));
  }
  double& of_output = ratio_of(output);
  of_output = std::max(of_output, ratio);
  if (ratio > c_.worst_ratio) {
    c_.worst_ratio = ratio;
    c_.worst_output = output;
    c_.worst_index = at.index();
  }
  if (ratio > 1) {
    const std::string text = where() + ": expected " + exact_text(expected, type) + ", got " +
                             exact_text(got, type) + ", error " + number(error) + " > budget " +
                             number(budget) + " (ratio " + number(ratio) + ", " +
                             number(ulp_error(exact, got, type)) + " ulp)";
    if (failures_.empty() || failures_.size() < mismatch_limit) failures_.push_back(text);
    mismatch(text);
  }
}

double& judge::ratio_of(const char* output) {
  // Outputs come one after another, each over many elements: one map lookup per run.
  if (last_output_ == nullptr || std::strcmp(last_output_, output) != 0) {
    last_output_ = output;
    last_ratio_ = &c_.worst_ratio_by_output[output];
  }
  return *last_ratio_;
}

void judge::exact(const char* output, dtype type, const element_at& at, double expected, double got,
                  const std::string& why) {
  const bool same = (std::isnan(expected) && std::isnan(got)) ||
                    (expected == got && std::signbit(expected) == std::signbit(got));
  if (same) return;
  const std::string text = std::string(output) + index_text(at.index()) + ": expected exactly " +
                           exact_text(expected, type) + " (" + why + "), got " +
                           exact_text(got, type);
  failures_.push_back(text);
  mismatch(text);
}

void judge::fail(const std::string& reason) {
  failures_.push_back(reason);
  mismatch(reason);
}

void judge::note(const std::string& text) { c_.notes.push_back(text); }

comparison judge::finish(verdict when_clean) {
  if (!failures_.empty()) {
    c_.result = verdict::fail;
    c_.reason = failures_.front();
    if (failures_.size() > 1) c_.reason += " (and more)";
  } else {
    c_.result = when_clean;
    if (c_.reason.empty()) {
      c_.reason = "worst budget ratio " + number(c_.worst_ratio) + " at " +
                  std::string(name_of(c_.judged_at));
    }
  }
  return c_;
}

std::string comparison::describe() const {
  std::ostringstream out;
  out << "verdict: " << name_of(result) << " (" << name_of(judged_at) << ")\n";
  out << "reason: " << reason << "\n";
  out << "worst budget ratio: " << worst_ratio;
  if (!worst_output.empty()) out << " at " << worst_output << index_text(worst_index);
  out << "\nmax error: " << max_ulp << " ulp, " << max_abs << " absolute, " << max_rel
      << " relative, over " << elements_judged << " elements\n";
  for (const std::string& m : first_mismatches) out << "  mismatch: " << m << "\n";
  for (const std::string& n : notes) out << "  note: " << n << "\n";
  out << "repro: " << repro;
  return out.str();
}

}  // namespace bnconform::check
