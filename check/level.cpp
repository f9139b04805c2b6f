#include "level.hpp"

#include <cmath>

#include "core/error.hpp"

namespace bnconform::check {

std::string_view name_of(level l) { return l == level::strict ? "strict" : "standard"; }

std::optional<level> parse_level(std::string_view text) {
  if (text == "strict") return level::strict;
  if (text == "standard") return level::standard;
  return std::nullopt;
}

std::string_view name_of(verdict v) {
  switch (v) {
    case verdict::pass: return "pass";
    case verdict::fail: return "fail";
    case verdict::mistrusted: return "mistrusted";
    case verdict::ill_posed: return "ill-posed";
    case verdict::unsupported: return "unsupported";
    case verdict::crashed: return "crashed";
    case verdict::timed_out: return "timed-out";
  }
  return "unknown";
}

verdict parse_verdict(std::string_view text) {
  for (const verdict v : {verdict::pass, verdict::fail, verdict::mistrusted, verdict::ill_posed,
                          verdict::unsupported, verdict::crashed, verdict::timed_out}) {
    if (name_of(v) == text) return v;
  }
  report_error("unknown verdict '" + std::string(text) + "'");
}

bool is_failure(verdict v) {
  return v == verdict::fail || v == verdict::crashed || v == verdict::timed_out;
}

int severity(verdict v) {
  switch (v) {
    case verdict::pass: return 0;
    case verdict::ill_posed: return 1;
    case verdict::unsupported: return 2;
    case verdict::mistrusted: return 3;
    case verdict::timed_out: return 4;
    case verdict::crashed: return 5;
    case verdict::fail: return 6;
  }
  return 6;
}

double compute_unit(const problem& p) {
  return p.data_type() == dtype::f64 ? std::ldexp(1.0, -53) : std::ldexp(1.0, -24);
}

double storage_unit(dtype t) {
  switch (t) {
    case dtype::f64: return std::ldexp(1.0, -53);
    case dtype::f32: return std::ldexp(1.0, -24);
    case dtype::f16: return std::ldexp(1.0, -11);
    case dtype::bf16: return std::ldexp(1.0, -8);
  }
  return 1.0;
}

double reduction_factor(level l, std::int64_t m) {
  if (l == level::strict) return 4.0;
  const double log2m = m > 1 ? std::ceil(std::log2(static_cast<double>(m))) : 0.0;
  return 2.0 + log2m;
}

}  // namespace bnconform::check
