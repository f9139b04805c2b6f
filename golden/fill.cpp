#include "fill.hpp"

#include <cmath>
#include <limits>
#include <sstream>

#include "core/error.hpp"
#include "core/float_bits.hpp"
#include "core/splitmix64.hpp"

namespace bnconform::golden {

namespace {

std::vector<std::string> split(const std::string& text, char separator) {
  std::vector<std::string> parts;
  std::stringstream items(text);
  for (std::string item; std::getline(items, item, separator);) parts.push_back(item);
  return parts;
}

// "key=value" or "key@value": the value after the separator, or nothing.
std::optional<std::string> argument(const std::string& rule, const std::string& key, char sep) {
  if (rule.size() > key.size() && rule.compare(0, key.size(), key) == 0 &&
      rule[key.size()] == sep) {
    return rule.substr(key.size() + 1);
  }
  return std::nullopt;
}

std::int64_t parse_channel(const std::string& text, const problem& p, const std::string& where) {
  const double v = parse_real(text, where + ": channel");
  if (v != std::floor(v) || v < 0 || v >= static_cast<double>(p.channels())) {
    report_error(where + ": channel " + text + " is not in [0, " + std::to_string(p.channels()) +
                 ")");
  }
  return static_cast<std::int64_t>(v);
}

// Draws one data tensor by the fill's base rule; each value is rounded to the dtype.
tensor draw(splitmix64& g, const std::string& base, const problem& p, const std::string& where,
            bool gradient) {
  const dtype t = p.data_type();
  tensor out(t, p.element_count());
  for (std::int64_t i = 0; i < out.size(); ++i) {
    double v;
    if (base == "uniform") {
      v = g.uniform_pm2(t);
    } else if (base == "exact") {
      // k / 4, k in [-8, 8): every partial sum of such values is exact in every dtype
      // for the sizes of the catalog, in any order (benchdnn's idea).
      v = static_cast<double>(static_cast<std::int64_t>(g.next() >> 60) - 8) / 4;
    } else if (gradient) {
      v = g.uniform_pm2(t);  // dy of the other rules: plain uniform
    } else if (auto c = argument(base, "constant", '=')) {
      v = parse_real(*c, where + ": constant");
    } else if (auto o = argument(base, "offset", '=')) {
      v = parse_real(*o, where + ": offset") + g.uniform_pm2(t);
    } else if (auto e = argument(base, "scale", '=')) {
      v = std::ldexp(g.uniform_pm2(t), static_cast<int>(parse_real(*e, where + ": scale")));
    } else {
      report_error(where + ": unknown fill '" + base +
                   "' (expected uniform, exact, constant=V, offset=V or scale=E)");
    }
    out.set(i, v);
  }
  return out;
}

void apply_modifier(tensor& x, const std::string& mod, const problem& p, const std::string& where) {
  const double inf = std::numeric_limits<double>::infinity();
  for (const auto& [key, value] : {std::pair{"nan", std::nan("")}, std::pair{"inf", inf},
                                   std::pair{"-inf", -inf}, std::pair{"flat", 0.0}}) {
    const auto arg = argument(mod, key, '@');
    if (!arg) continue;
    const std::int64_t c = parse_channel(*arg, p, where);
    if (p.reduction_size() == 0) return;
    const std::int64_t first = p.offset(0, c, 0);
    if (std::string(key) != "flat") {
      x.set(first, value);
      return;
    }
    for (std::int64_t n = 0; n < p.batch(); ++n) {
      for (std::int64_t s = 0; s < p.spatial_size(); ++s) x.set(p.offset(n, c, s), x.get(first));
    }
    return;
  }
  report_error(where + ": unknown fill modifier '" + mod +
               "' (expected nan@C, inf@C, -inf@C, flat@C)");
}

tensor constant(dtype t, std::int64_t count, double v) {
  tensor out(t, count);
  for (std::int64_t i = 0; i < count; ++i) out.set(i, v);
  return out;
}

void make_state(case_file& c, splitmix64& g, const std::string& rule, const std::string& where) {
  const problem& p = c.base;
  const dtype st = p.stats_type();
  const std::int64_t channels = p.channels();
  const std::vector<std::string> parts = split(rule, '+');
  if (parts.empty() || (parts[0] != "pytorch" && parts[0] != "random")) {
    report_error(where + ": state '" + rule + "' does not start with pytorch or random");
  }
  c.state_given = parts[0] != "pytorch" || parts.size() > 1;
  if (parts[0] == "random") {
    // gamma, beta and the running mean uniform in [-2, 2); the running variance in
    // [0.25, 2.25) so that it is a plausible variance.
    const auto uniform = [&](double shift, bool magnitude) {
      tensor out(st, channels);
      for (std::int64_t i = 0; i < channels; ++i) {
        const double u = g.uniform_pm2(st);
        out.set(i, (magnitude ? std::fabs(u) : u) + shift);
      }
      return out;
    };
    if (p.affine()) {
      c.state.gamma = uniform(0, false);
      c.state.beta = uniform(0, false);
    }
    if (p.track_running_stats()) {
      c.state.running_mean = uniform(0, false);
      c.state.running_var = uniform(0.25, true);
    }
  }
  for (std::size_t i = 1; i < parts.size(); ++i) {
    const std::string& part = parts[i];
    bool known = false;
    struct settable {
      const char* key;
      tensor* target;
      bool needs_affine;
    };
    for (const auto& [key, target, needs_affine] :
         {settable{"gamma", &c.state.gamma, true}, settable{"beta", &c.state.beta, true},
          settable{"rm", &c.state.running_mean, false},
          settable{"rv", &c.state.running_var, false}}) {
      if (auto v = argument(part, key, '=')) {
        if (needs_affine ? !p.affine() : !p.track_running_stats()) {
          report_error(where + ": state '" + part + "' but the problem has no such tensor");
        }
        *target = constant(st, channels, parse_real(*v, where + ": state " + key));
        known = true;
      }
    }
    if (auto k = argument(part, "counter", '=')) {
      const double v = parse_real(*k, where + ": counter");
      if (v != std::floor(v) || v < 0 || v > 1e15 || !p.track_running_stats()) {
        report_error(where + ": counter=" + *k + " needs track=true and an integer >= 0");
      }
      c.state.num_batches_tracked = static_cast<std::int64_t>(v);
      known = true;
    }
    if (!known) {
      report_error(where + ": unknown state part '" + part +
                   "' (expected gamma=V, beta=V, rm=V, rv=V, counter=K)");
    }
  }
}

}  // namespace

case_file make_case(const case_spec& spec) {
  const std::string where = spec.origin + ": " + spec.name;
  problem base = [&] {
    try {
      return problem::parse(spec.problem);
    } catch (const error& e) {
      report_error(where + ": problem: " + e.what());
    }
  }();
  case_file c(spec.name, base);
  c.description = "golden case " + spec.name + " (" + spec.origin + ")";
  splitmix64 g(spec.seed);
  make_state(c, g, spec.state, where);
  const std::vector<std::string> fill = split(spec.fill, '+');
  if (fill.empty()) report_error(where + ": empty fill");
  std::optional<std::size_t> latest_forward;
  for (const std::string& text : spec.steps) {
    const bool backward = text.starts_with("backward");
    std::optional<mode> override;
    if (text.ends_with(":eval")) override = mode::eval;
    if (text.ends_with(":train")) override = mode::training;
    case_step step(backward ? step_op::backward : step_op::forward,
                   override ? base.with_mode(*override) : base);
    step.mode_override = override;
    if (backward) {
      if (!latest_forward) report_error(where + ": a backward step needs a forward step before it");
      step.latest_forward = latest_forward;
      step.dy = draw(g, fill[0], step.prob, where, true);
    } else {
      step.x = draw(g, fill[0], step.prob, where, false);
      for (std::size_t i = 1; i < fill.size(); ++i)
        apply_modifier(*step.x, fill[i], step.prob, where);
      latest_forward = c.steps.size();
    }
    c.steps.push_back(std::move(step));
  }
  // The case must be one the case format accepts (a backward after an eval forward
  // in training mode is not): read it back and say which spec is at fault.
  try {
    return parse_case(to_json(c, true), spec.name);
  } catch (const error& e) {
    report_error(where + ": not a valid case: " + e.what());
  }
}

}  // namespace bnconform::golden
