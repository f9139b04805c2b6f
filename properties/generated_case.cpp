#include "generated_case.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstdio>
#include <limits>
#include <vector>

#include "core/error.hpp"
#include "core/float_bits.hpp"

namespace bnconform::properties {

namespace {

constexpr std::array<value_kind, 11> kinds{value_kind::normal,
                                           value_kind::uniform,
                                           value_kind::exact_fill,
                                           value_kind::large_offset,
                                           value_kind::near_overflow,
                                           value_kind::tiny,
                                           value_kind::constant_channels,
                                           value_kind::sprinkled_nonfinite,
                                           value_kind::heavy_tail,
                                           value_kind::raw_bits,
                                           value_kind::offset_gradient};

// Significand bits of the compute type: f64 data computes in f64, the rest in f32.
int compute_precision(dtype t) { return t == dtype::f64 ? 53 : 24; }
double compute_max(dtype t) {
  return t == dtype::f64 ? std::numeric_limits<double>::max()
                         : static_cast<double>(std::numeric_limits<float>::max());
}
double data_max(dtype t) {
  const binary_format f = format_of(t);
  return std::ldexp(2.0 - std::ldexp(1.0, 1 - f.precision), f.max_exponent);
}

// The largest magnitude whose square, summed m times, still fits the compute type
// with room to spare (sums of squares that overflow are a robustness question, not
// a numerical one: see README.md).
double square_safe(const problem& p) {
  const double m = static_cast<double>(std::max<std::int64_t>(p.reduction_size(), 1));
  return std::min(std::sqrt(compute_max(p.data_type()) / (8 * m)), data_max(p.data_type()) / 2);
}

// A value of dtype t from random bits: random sign and significand, exponent field
// uniform up to the one of `cap`; one in 64 is an Inf or NaN pattern.
double raw_value(random_source& rng, dtype t, double cap) {
  const binary_format f = format_of(t);
  const int fraction_bits = f.precision - 1;
  const int bias = f.max_exponent;
  const int cap_field = std::clamp(std::ilogb(cap) + bias, 0, 2 * bias);
  const std::uint64_t bits = rng.next();
  const bool special = rng.below(64) == 0;
  const std::uint64_t field = special ? static_cast<std::uint64_t>(2 * bias + 1)
                                      : static_cast<std::uint64_t>(rng.below(cap_field + 1));
  std::uint64_t fraction = bits & ((std::uint64_t{1} << fraction_bits) - 1);
  if (special && rng.below(2) == 0) fraction = 0;  // an infinity
  const double sign = (bits >> 63) != 0 ? -1.0 : 1.0;
  if (field == static_cast<std::uint64_t>(2 * bias + 1)) {
    return fraction == 0 ? sign * std::numeric_limits<double>::infinity()
                         : std::numeric_limits<double>::quiet_NaN();
  }
  const double significand =
      std::ldexp(static_cast<double>(fraction), -fraction_bits) + (field == 0 ? 0.0 : 1.0);
  const int exponent = field == 0 ? 1 - bias : static_cast<int>(field) - bias;
  return sign * std::ldexp(significand, exponent);
}

int bit_length(std::int64_t v) {
  int n = 0;
  while (v > 0) {
    ++n;
    v >>= 1;
  }
  return n;
}

// Exact fill of one channel (benchdnn's idea): values q + d and q - d in pairs (and
// q once when m is odd), integers times 2^e, bounded so that every partial sum of x
// and of (x - q)^2 is exact in the compute type in any order; the mean is then q
// exactly, whatever the summation order.
std::vector<double> exact_channel(random_source& rng, dtype t, std::int64_t m) {
  const int room = compute_precision(t) - 2 - bit_length(m);
  const int data_bits = format_of(t).precision - 1;
  const std::int64_t limit = std::int64_t{1} << std::clamp(std::min(room, data_bits), 1, 20);
  const std::int64_t r = std::max<std::int64_t>(
      1, std::min<std::int64_t>(limit / 2, std::int64_t{1} << std::clamp(room / 2, 0, 10)));
  const std::int64_t q = rng.below(limit - r) * (rng.below(2) == 0 ? 1 : -1);
  const int e = static_cast<int>(rng.below(13)) - 8;
  std::vector<double> v;
  v.reserve(static_cast<std::size_t>(m));
  for (std::int64_t k = 0; k + 1 < m; k += 2) {
    const std::int64_t d = rng.below(2 * r + 1) - r;
    v.push_back(std::ldexp(static_cast<double>(q + d), e));
    v.push_back(std::ldexp(static_cast<double>(q - d), e));
  }
  if (m % 2 == 1) v.push_back(std::ldexp(static_cast<double>(q), e));
  for (std::size_t k = v.size(); k > 1; --k) {
    std::swap(v[k - 1], v[static_cast<std::size_t>(rng.below(static_cast<std::int64_t>(k)))]);
  }
  return v;
}

double largest_offset_ratio(dtype t) {
  switch (t) {
    case dtype::f64: return 1e15;
    case dtype::f32: return 1e7;
    case dtype::f16: return 1e3;
    case dtype::bf16: return 1e2;
  }
  return 1e2;
}

// One channel's values in order (n, s).
std::vector<double> channel_values(random_source& rng, const problem& p, value_kind kind,
                                   std::int64_t channel) {
  const std::int64_t m = p.reduction_size();
  const dtype t = p.data_type();
  const double safe = square_safe(p);
  std::vector<double> v(static_cast<std::size_t>(m));
  auto gaussian = [&](double mu, double sigma) {
    for (double& x : v) x = mu + sigma * rng.normal();
  };
  switch (kind) {
    case value_kind::normal:
    case value_kind::offset_gradient:
      gaussian(rng.below(4) == 0 ? 0.0 : rng.uniform(-4, 4), std::exp2(rng.uniform(-6, 6)));
      break;
    case value_kind::uniform: {
      const double lo = rng.uniform(-10, 10), width = std::exp2(rng.uniform(-6, 6));
      for (double& x : v) x = rng.uniform(lo, lo + width);
      break;
    }
    case value_kind::exact_fill: v = exact_channel(rng, t, m); break;
    case value_kind::large_offset: {
      const double sigma = std::exp2(rng.uniform(-4, 4));
      const double ratio = std::pow(10.0, rng.uniform(2, std::log10(largest_offset_ratio(t))));
      gaussian((rng.below(2) == 0 ? 1 : -1) * ratio * sigma, sigma);
      break;
    }
    case value_kind::near_overflow: {
      const double scale = safe * rng.uniform(0.25, 1.0);
      const double centre = rng.uniform(-0.5, 0.5);
      for (double& x : v) x = scale * std::clamp(centre + rng.uniform(-0.5, 0.5), -1.0, 1.0);
      break;
    }
    case value_kind::tiny: {
      const binary_format f = format_of(t);
      const double unit = std::ldexp(1.0, f.min_exponent - (f.precision - 1));
      const std::int64_t span = std::int64_t{1} << (f.precision + 1);
      for (double& x : v) {
        x = static_cast<double>(rng.below(2 * span) - span) * unit * std::exp2(rng.below(4));
      }
      break;
    }
    case value_kind::constant_channels:
      if (channel == 0 || rng.below(2) == 0) {
        const double options[] = {0.0, 1.0, rng.uniform(-100, 100), -0.0, 0x1p20};
        const double c = options[rng.below(5)];
        for (double& x : v) x = c;
      } else {
        gaussian(rng.uniform(-2, 2), 1.0);
      }
      break;
    case value_kind::sprinkled_nonfinite:
      gaussian(rng.uniform(-2, 2), 1.0);
      // Only some channels are hit, so the clean ones show the damage stays put.
      if (m > 0 && (channel == 0 || rng.below(2) == 0)) {
        const double specials[] = {std::numeric_limits<double>::quiet_NaN(),
                                   std::numeric_limits<double>::infinity(),
                                   -std::numeric_limits<double>::infinity()};
        const std::int64_t count = 1 + rng.below(3);
        for (std::int64_t k = 0; k < count; ++k) {
          v[static_cast<std::size_t>(rng.below(m))] = specials[rng.below(3)];
        }
      }
      break;
    case value_kind::heavy_tail: {
      const double mu = rng.uniform(-2, 2), sigma = std::exp2(rng.uniform(-3, 3));
      for (double& x : v) {
        const double c = std::tan(3.141592653589793 * (rng.uniform(0.0, 1.0) - 0.5));
        x = std::clamp(mu + sigma * c, -safe, safe);
      }
      break;
    }
    case value_kind::raw_bits:
      for (double& x : v) x = raw_value(rng, t, safe);
      break;
  }
  return v;
}

// Finite mean and spread of stored values (for running statistics near the data's).
void finite_moments(const std::vector<double>& v, double& mean, double& var) {
  double sum = 0, count = 0;
  for (const double x : v) {
    if (std::isfinite(x)) sum += x, count += 1;
  }
  mean = count > 0 ? sum / count : 0.0;
  double squares = 0;
  for (const double x : v) {
    if (std::isfinite(x)) squares += (x - mean) * (x - mean);
  }
  var = count > 1 ? squares / count : 0.0;
}

}  // namespace

std::uint64_t random_source::next() {
  std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

double random_source::uniform(double lo, double hi) {
  return lo + (hi - lo) * static_cast<double>(next() >> 11) * 0x1p-53;
}

std::int64_t random_source::below(std::int64_t n) {
  return static_cast<std::int64_t>(next() % static_cast<std::uint64_t>(n));
}

double random_source::normal() {
  const double u1 = uniform(0x1p-53, 1.0);
  const double u2 = uniform(0.0, 1.0);
  return std::sqrt(-2 * std::log(u1)) * std::cos(6.283185307179586 * u2);
}

std::string_view name_of(value_kind k) {
  switch (k) {
    case value_kind::normal: return "normal";
    case value_kind::uniform: return "uniform";
    case value_kind::exact_fill: return "exact-fill";
    case value_kind::large_offset: return "large-offset";
    case value_kind::near_overflow: return "near-overflow";
    case value_kind::tiny: return "tiny";
    case value_kind::constant_channels: return "constant-channels";
    case value_kind::sprinkled_nonfinite: return "sprinkled-nonfinite";
    case value_kind::heavy_tail: return "heavy-tail";
    case value_kind::raw_bits: return "raw-bits";
    case value_kind::offset_gradient: return "offset-gradient";
  }
  return "unknown";
}

std::optional<value_kind> parse_value_kind(std::string_view text) {
  for (const value_kind k : kinds) {
    if (name_of(k) == text) return k;
  }
  return std::nullopt;
}

std::span<const value_kind> all_value_kinds() { return kinds; }

std::string generated_case::repro() const {
  char seed_text[32];
  std::snprintf(seed_text, sizeof seed_text, "0x%016llx", static_cast<unsigned long long>(seed));
  return "problem=" + p.to_string() + " kind=" + std::string(name_of(kind)) + " seed=" + seed_text;
}

generated_case parse_case(std::string_view repro) {
  std::optional<problem> p;
  std::optional<value_kind> kind;
  std::optional<std::uint64_t> seed;
  while (!repro.empty()) {
    const std::size_t space = repro.find(' ');
    const std::string_view word = repro.substr(0, space);
    repro = space == std::string_view::npos ? std::string_view() : repro.substr(space + 1);
    if (word.empty()) continue;
    const std::size_t eq = word.find('=');
    const std::string_view key = word.substr(0, eq);
    const std::string_view value = eq == std::string_view::npos ? "" : word.substr(eq + 1);
    if (key == "problem") {
      p = problem::parse(value);
    } else if (key == "kind") {
      kind = parse_value_kind(value);
      if (!kind) report_error("case: unknown value kind '" + std::string(value) + "'");
    } else if (key == "seed") {
      const std::string text(value);
      char* end = nullptr;
      seed = std::strtoull(text.c_str(), &end, 0);
      if (text.empty() || end == nullptr || *end != '\0') {
        report_error("case: bad seed '" + text + "'");
      }
    } else {
      report_error("case: unknown key '" + std::string(key) + "' (known: problem, kind, seed)");
    }
  }
  if (!p || !kind || !seed) report_error("case: needs problem=, kind= and seed=");
  return {*p, *kind, *seed};
}

case_inputs make_inputs(const generated_case& c, std::uint64_t batch) {
  const problem& p = c.p;
  random_source rng(c.seed ^ (batch * 0xd1b54a32d192ed03ull));
  rng.next();
  case_inputs in{tensor(p.data_type(), p.element_count()), tensor(p.data_type(), p.element_count()),
                 module_state::initial(p)};
  const std::int64_t m = p.reduction_size();
  const std::int64_t spatial = p.spatial_size();
  for (std::int64_t ch = 0; ch < p.channels(); ++ch) {
    const std::vector<double> v = channel_values(rng, p, c.kind, ch);
    for (std::int64_t k = 0; k < m; ++k) {
      in.x.set(p.offset(k / spatial, ch, k % spatial), v[static_cast<std::size_t>(k)]);
    }
    if (p.affine()) {
      const std::int64_t pick = rng.below(16);
      const double gamma = pick == 0  ? 0.0
                           : pick < 5 ? 1.0
                                      : rng.uniform(0.25, 2.0) * (pick < 7 ? -1 : 1);
      in.state.gamma.set(ch, gamma);
      in.state.beta.set(ch, rng.below(4) == 0 ? 0.0 : rng.uniform(-2, 2));
    }
    if (p.track_running_stats()) {
      std::vector<double> stored(v.size());
      for (std::size_t k = 0; k < v.size(); ++k) {
        stored[k] = in.x.get(p.offset(static_cast<std::int64_t>(k) / spatial, ch,
                                      static_cast<std::int64_t>(k) % spatial));
      }
      double mean = 0, var = 0;
      finite_moments(stored, mean, var);
      const double spread = std::sqrt(var);
      in.state.running_mean.set(ch, mean + spread * rng.uniform(-1, 1));
      const double rv = var * std::exp2(rng.uniform(-1, 1));
      in.state.running_var.set(ch, std::isfinite(rv) && rv > 0 ? rv : 1.0);
    }
  }
  const double dy_scale = std::exp2(rng.uniform(-3, 3));
  for (std::int64_t i = 0; i < p.element_count(); ++i) in.dy.set(i, dy_scale * rng.normal());
  if (c.kind == value_kind::offset_gradient) {
    const double top = std::log10(largest_offset_ratio(p.data_type()));
    for (std::int64_t ch = 0; ch < p.channels(); ++ch) {
      const double offset = (rng.below(2) == 0 ? 1 : -1) * dy_scale *
                            std::pow(10.0, rng.uniform(1, std::max(1.0, top)));
      for (std::int64_t k = 0; k < m; ++k) {
        const std::int64_t i = p.offset(k / spatial, ch, k % spatial);
        in.dy.set(i, offset + in.dy.get(i));
      }
    }
  }
  if (c.kind == value_kind::sprinkled_nonfinite && p.element_count() > 0 && rng.below(2) == 0) {
    in.dy.set(rng.below(p.element_count()), std::numeric_limits<double>::quiet_NaN());
  }
  return in;
}

}  // namespace bnconform::properties
