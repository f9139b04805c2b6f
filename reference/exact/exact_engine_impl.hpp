#pragma once
// The exact engine's definitions (exact_engine.hpp), instantiated once per
// precision in exact_<bits>.cpp.
#include <algorithm>
#include <cmath>
#include <mutex>
#include <optional>
#include <vector>

#include "channel_sums.hpp"
#include "channel_values.hpp"
#include "core/rounding.hpp"
#include "double_word.hpp"
#include "elements.hpp"
#include "exact_engine.hpp"
#include "fault.hpp"
#include "parallel.hpp"
#include "reference/checked.hpp"
#include "reference/engine.hpp"
#include "reference/negligible.hpp"
#include "reference/real.hpp"
#include "settle_word.hpp"

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Warray-bounds"
#endif

namespace bnconform::reference::exact {

namespace detail {

inline std::size_t at(std::int64_t i) { return static_cast<std::size_t>(i); }

// A multiprecision value as a double word with a bound on its distance from the
// exact value: `relative` bounds the value's own error relative to itself.
template <class Real>
bounded word_of(const Real& v, double relative) {
  const double hi = round_to(v, dtype::f64);
  const double lo = round_to(Real(v - Real(hi)), dtype::f64);
  const double rest = std::fabs(round_to(Real(v - Real(hi) - Real(lo)), dtype::f64));
  bounded b{{hi, lo}, (rest + relative * std::fabs(hi)) * (1 + 0x1p-40), true};
  // A zero hi is trusted only for a zero v: a nonzero v below double's range would
  // pass for an exact zero (the zero-product rules in elements.hpp rely on it).
  b.trusted = std::isfinite(hi) &&
              (hi == 0 ? v == 0 : std::fabs(hi) >= 0x1p-600 && std::fabs(hi) <= 0x1p600);
  return b;
}

// The unsettled elements of one output, in the order the multiprecision engine
// lists them.
inline void append_sorted(std::vector<unsettled_element>& all,
                          std::vector<unsettled_element> part) {
  std::sort(part.begin(), part.end(), [](const unsettled_element& a, const unsettled_element& b) {
    return a.index < b.index;
  });
  all.insert(all.end(), part.begin(), part.end());
}

inline bool finite_parameters(const problem& p, const call_inputs& in, std::int64_t c) {
  const auto ok = [&](const std::vector<double>& v) {
    return v.empty() || std::isfinite(v[at(c)]);
  };
  return ok(in.gamma) && ok(in.beta) && ok(in.running_mean) && ok(in.running_var) &&
         std::isfinite(p.eps());
}

// Elements of one channel handed back to the multiprecision computation.
struct handed_back {
  std::mutex lock;
  std::vector<std::vector<std::int64_t>> elements;  // per channel
  std::vector<char> whole;                          // per channel: every element
  explicit handed_back(std::int64_t channels) : elements(at(channels)), whole(at(channels), 0) {}
  void add(std::int64_t c, std::vector<std::int64_t>& list) {
    if (list.empty()) return;
    const std::lock_guard<std::mutex> guard(lock);
    auto& dst = elements[at(c)];
    dst.insert(dst.end(), list.begin(), list.end());
    list.clear();
  }
};

// The weight of a per-channel loop: each channel's multiprecision work costs about
// as much as a thousand elements.
inline std::int64_t channel_work(const problem& p) {
  return std::max(p.element_count(), p.channels() * 1024);
}

// The 2P-bit values' own error, relative: a few roundings at 2P bits.
template <unsigned Bits>
constexpr double high_error() {
  return std::ldexp(1.0, -static_cast<int>(2 * Bits) + 16);
}

// The per-element pass: `element(c, i)` returns the bounded value of element i of
// channel c; settled elements are written, the others handed back.
template <class Element>
void element_pass(const problem& p, const std::vector<char>& fast, output& out, dtype type,
                  handed_back& back, Element&& element) {
  const std::vector<piece> pieces = make_pieces(p, worker_count());
  const binary_format f = format_of(type);
  parallel_for(static_cast<std::int64_t>(pieces.size()), p.element_count(), [&](std::int64_t k) {
    const piece& w = pieces[at(k)];
    std::vector<std::vector<std::int64_t>> local(at(w.c1 - w.c0));
    for_each_in_piece(p, w, [&](std::int64_t c, std::int64_t i) {
      if (!fast[at(c)]) return;
      const bounded v = element(c, i);
      std::optional<settled_element> s = settle_element(v, f);
      if (!s && fault_is(fault::no_fallback) && v.value.hi != 0) {
        const double rounded = round_word(v.value, f);
        const word2 rest = two_sum(v.value.hi - rounded, v.value.lo);
        s = settled_element{rounded, round_word(fast_two_sum(rest.hi, rest.lo), residual_format)};
      }
      if (s) {
        out.rounded[at(i)] = s->rounded;
        out.residual[at(i)] = s->residual;
      } else {
        local[at(c - w.c0)].push_back(i);
      }
    });
    for (std::int64_t c = w.c0; c < w.c1; ++c) back.add(c, local[at(c - w.c0)]);
  });
}

template <class F>
void for_channel_elements(const problem& p, std::int64_t c, F&& f) {
  const std::int64_t spatial = p.spatial_size();
  for (std::int64_t n = 0; n < p.batch(); ++n) {
    for (std::int64_t s = 0; s < spatial; ++s) f(p.offset(n, c, s));
  }
}

inline channel_integers counted(std::int64_t m) {
  channel_integers k;
  k.m = m;
  return k;
}

// True when the double word is the batch mean times 2^shift exactly.
inline bool exact_word(const bounded& mean, const channel_integers& k, int shift) {
  const cpp_int word = (linear_integer(mean.value.hi) + linear_integer(mean.value.lo)) * k.m;
  return shift >= 0 ? word == (k.x << shift) : (word << -shift) == k.x;
}

// The power of two that brings a channel's largest |x| near 1 when it lies outside
// the double-word path's safe range (subnormal-sized or huge data): the element
// formulas then run on x 2^shift with the constants scaled to match.
inline int channel_shift(const channel_sums& s) {
  return s.top_exponent > 400 || s.top_exponent < -400 ? -s.top_exponent : 0;
}

// The multiprecision engine's span rule, applied up front as that engine applies it,
// so that both refuse the same calls (callers then ask for more bits, which costs the
// exact engine only its per-channel work).
template <class Result>
std::optional<Result> refused(const problem& p, const call_inputs& in, unsigned bits) {
  if (auto refusal = span_refusal(p, in, static_cast<int>(bits))) {
    Result r;
    r.status = *refusal;
    r.needs_more_bits = true;
    return r;
  }
  return std::nullopt;
}

// Unsettled elements of the multiprecision computation are forgiven by the rule of
// that engine.
template <class Result, class Quantities>
Result conclude(const problem& p, const call_inputs& in, unsigned bits, Result r,
                Quantities&& quantities) {
  if (r.unsettled.empty()) return r;
  forgive_negligible(p, in, quantities(), bits, r.unsettled, &r.forgiven);
  if (!r.unsettled.empty()) {
    r.status = unsettled_status(r.unsettled, static_cast<int>(bits));
    r.needs_more_bits = true;
  }
  return r;
}

}  // namespace detail

template <unsigned Bits>
forward_result exact_forward(const problem& p, const call_inputs& in, bool with_y) {
  if (auto r = detail::refused<forward_result>(p, in, Bits)) return *r;
  using Low = mp_float<Bits>;
  using High = mp_float<2 * Bits>;
  using detail::at;
  const std::int64_t channels = p.channels();
  const std::int64_t m = p.reduction_size();
  const bool batch = p.uses_batch_statistics();
  const bool track = p.track_running_stats();
  const dtype stats = p.stats_type();
  const engine<Low> low(p, in);
  const engine<High> high(p, in);

  forward_result r;
  r.num_batches_tracked = high.counter_after();
  if (with_y) {
    r.y.rounded.assign(at(p.element_count()), 0.0);
    r.y.residual.assign(at(p.element_count()), 0.0);
  }
  const auto per_channel = [&](output& o, bool present) {
    if (present) {
      o.rounded.assign(at(channels), 0.0);
      o.residual.assign(at(channels), 0.0);
    }
  };
  per_channel(r.save_mean, batch);
  per_channel(r.save_invstd, batch);
  per_channel(r.running_mean, track);
  per_channel(r.running_var, track);

  std::vector<channel_sums> sums;
  if (batch && m > 0) sums = accumulate(p, in.x, {}, {.x = true});

  std::vector<char> fast(at(channels), 0);
  std::vector<affine_constants> constants(at(channels));
  std::vector<char> ill(at(channels), 0);
  // Per-channel outputs settled from the sums, or left to the two-pass engine.
  std::vector<char> channel_outputs_done(at(channels), 0);
  std::vector<std::vector<unsettled_element>> channel_unsettled(at(channels));
  std::vector<settled_value> values(at(channels) * 4);
  const Low f_low = low.factor();
  const High f_high = high.factor();

  parallel_for(channels, detail::channel_work(p), [&](std::int64_t c) {
    const double rm = track ? in.running_mean[at(c)] : 0.0;
    const double rv = track ? in.running_var[at(c)] : 0.0;
    if (m == 0 || !detail::finite_parameters(p, in, c)) return;
    if (batch && sums[at(c)].nonfinite) return;
    const channel_integers k = batch ? integers_of(sums[at(c)], m) : detail::counted(m);
    const auto st_low = statistics_from<Low>(p, k, rm, rv);
    const auto st_high = statistics_from<High>(p, k, rm, rv);
    if (st_high.ill_posed) return;
    // The per-channel outputs, settled as the multiprecision engine settles them.
    std::vector<unsettled_element> u;
    settled_value* v = &values[at(c) * 4];
    if (batch) {
      v[0] = settle_one(st_low.mean, st_high.mean, stats, "save_mean", c, u);
      v[1] = settle_one(st_low.invstd, st_high.invstd, stats, "save_invstd", c, u);
    }
    if (track) {
      Low rm_low(rm), rv_low(rv);
      High rm_high(rm), rv_high(rv);
      low.update_running(rm_low, rv_low, st_low, f_low);
      high.update_running(rm_high, rv_high, st_high, f_high);
      v[2] = settle_one(rm_low, rm_high, stats, "running_mean", c, u);
      v[3] = settle_one(rv_low, rv_high, stats, "running_var", c, u);
    }
    // A value that is exactly zero takes its sign from the multiprecision
    // engine's own arithmetic: those channels are computed by it.
    const bool zero =
        (batch && st_high.mean == 0) || (track && (v[2].rounded == 0 || v[3].rounded == 0));
    channel_outputs_done[at(c)] = u.empty() && !zero;
    // The element constants: y = scale * (x - mean) + shift.
    const double e = detail::high_error<Bits>();
    const int shift = batch ? detail::channel_shift(sums[at(c)]) : 0;
    const bounded scale =
        detail::word_of(High(ldexp(High(high.gamma(c) * st_high.invstd), -shift)), e);
    bounded mu = batch ? detail::word_of(High(ldexp(st_high.mean, shift)), e) : exact_value(rm);
    if (batch && detail::exact_word(mu, k, shift)) mu.error = 0;  // x == mean: y == shift
    affine_constants& kc = constants[at(c)];
    kc.shift_exponent = shift;
    kc.mean = {mu.value, mu.error};
    kc.scale = {scale.value, scale.error};
    kc.shift = p.affine() ? in.beta[at(c)] : 0.0;
    kc.prepare();
    fast[at(c)] = scale.trusted && mu.trusted && detail::in_range(kc.shift);
  });

  detail::handed_back back(channels);
  if (with_y) {
    detail::element_pass(p, fast, r.y, p.data_type(), back, [&](std::int64_t c, std::int64_t i) {
      const affine_constants& kc = constants[at(c)];
      if (kc.shift_exponent == 0) return affine_element(in.x[at(i)], kc);
      const double x = std::ldexp(in.x[at(i)], kc.shift_exponent);
      bounded v = affine_element(x, kc);
      v.trusted = v.trusted && std::ldexp(x, -kc.shift_exponent) == in.x[at(i)];  // x 2^k exact
      return v;
    });
  }

  // Channels and elements the double-word path did not settle.
  std::vector<std::vector<unsettled_element>> y_unsettled(at(channels));
  parallel_for(channels, detail::channel_work(p), [&](std::int64_t c) {
    auto& elements = back.elements[at(c)];
    const bool whole = !fast[at(c)];
    const bool outputs = !channel_outputs_done[at(c)];
    if (!whole && !outputs && elements.empty()) return;
    const channel_statistics<Low> st_low = low.statistics(c);
    const channel_statistics<High> st_high = high.statistics(c);
    if (whole) {
      ill[at(c)] = st_high.ill_posed;
      elements.clear();
      if (with_y) {
        detail::for_channel_elements(p, c, [&](std::int64_t i) { elements.push_back(i); });
      }
    }
    const Low g_low = low.gamma(c), b_low = low.beta(c);
    const High g_high = high.gamma(c), b_high = high.beta(c);
    for (std::int64_t i : elements) {
      const settled_value s =
          settle_one(low.y(i, st_low, g_low, b_low), high.y(i, st_high, g_high, b_high),
                     p.data_type(), "y", i, y_unsettled[at(c)]);
      r.y.rounded[at(i)] = s.rounded;
      r.y.residual[at(i)] = s.residual;
    }
    if (whole || outputs) {
      std::vector<unsettled_element> u;
      settled_value* v = &values[at(c) * 4];
      if (batch) {
        v[0] = settle_one(st_low.mean, st_high.mean, stats, "save_mean", c, u);
        v[1] = settle_one(st_low.invstd, st_high.invstd, stats, "save_invstd", c, u);
      }
      if (track) {
        Low rm_low(in.running_mean[at(c)]), rv_low(in.running_var[at(c)]);
        High rm_high(in.running_mean[at(c)]), rv_high(in.running_var[at(c)]);
        low.update_running(rm_low, rv_low, st_low, f_low);
        high.update_running(rm_high, rv_high, st_high, f_high);
        v[2] = settle_one(rm_low, rm_high, stats, "running_mean", c, u);
        v[3] = settle_one(rv_low, rv_high, stats, "running_var", c, u);
      }
      channel_unsettled[at(c)] = std::move(u);
    } else {
      channel_unsettled[at(c)].clear();
    }
  });

  std::vector<unsettled_element> per_output[5];
  for (std::int64_t c = 0; c < channels; ++c) {
    if (ill[at(c)]) r.ill_posed_channels.push_back(c);
    r.fallback_elements += static_cast<std::int64_t>(back.elements[at(c)].size());
    for (auto& e : y_unsettled[at(c)]) per_output[0].push_back(e);
    for (auto& e : channel_unsettled[at(c)]) {
      const int slot = e.output == "save_mean"      ? 1
                       : e.output == "save_invstd"  ? 2
                       : e.output == "running_mean" ? 3
                                                    : 4;
      per_output[slot].push_back(e);
    }
    const settled_value* v = &values[at(c) * 4];
    if (batch) {
      r.save_mean.rounded[at(c)] = v[0].rounded;
      r.save_mean.residual[at(c)] = v[0].residual;
      r.save_invstd.rounded[at(c)] = v[1].rounded;
      r.save_invstd.residual[at(c)] = v[1].residual;
    }
    if (track) {
      r.running_mean.rounded[at(c)] = v[2].rounded;
      r.running_mean.residual[at(c)] = v[2].residual;
      r.running_var.rounded[at(c)] = v[3].rounded;
      r.running_var.residual[at(c)] = v[3].residual;
    }
  }
  for (auto& part : per_output) detail::append_sorted(r.unsettled, std::move(part));
  return detail::conclude(p, in, Bits, std::move(r), [&] { return exact_quantities<Bits>(p, in); });
}

template <unsigned Bits>
backward_result exact_backward(const problem& p, const call_inputs& in) {
  if (auto r = detail::refused<backward_result>(p, in, Bits)) return *r;
  using Low = mp_float<Bits>;
  using High = mp_float<2 * Bits>;
  using detail::at;
  const std::int64_t channels = p.channels();
  const std::int64_t m = p.reduction_size();
  const bool batch = p.uses_batch_statistics();
  const bool track = p.track_running_stats();
  const bool affine = p.affine();
  const dtype stats = p.stats_type();
  const engine<Low> low(p, in);
  const engine<High> high(p, in);

  backward_result r;
  r.dx.rounded.assign(at(p.element_count()), 0.0);
  r.dx.residual.assign(at(p.element_count()), 0.0);
  if (affine) {
    for (output* o : {&r.dgamma, &r.dbeta}) {
      o->rounded.assign(at(channels), 0.0);
      o->residual.assign(at(channels), 0.0);
    }
  }
  std::vector<channel_sums> sums;
  if (m > 0) sums = accumulate(p, in.x, in.dy, {.x = batch, .dy = true});

  std::vector<char> fast(at(channels), 0), ill(at(channels), 0);
  std::vector<char> channel_outputs_done(at(channels), 0);
  std::vector<std::vector<unsettled_element>> channel_unsettled(at(channels));
  std::vector<settled_value> values(at(channels) * 2);
  std::vector<gradient_constants> constants(at(channels));
  parallel_for(channels, detail::channel_work(p), [&](std::int64_t c) {
    const double rm = track ? in.running_mean[at(c)] : 0.0;
    const double rv = track ? in.running_var[at(c)] : 0.0;
    if (m == 0 || !detail::finite_parameters(p, in, c) || sums[at(c)].nonfinite) return;
    const channel_integers k = integers_of(sums[at(c)], m);
    const auto st_low = statistics_from<Low>(p, k, rm, rv);
    const auto st_high = statistics_from<High>(p, k, rm, rv);
    if (st_high.ill_posed) return;
    const auto s_low = backward_sums_from<Low>(p, k, st_low, rm);
    const auto s_high = backward_sums_from<High>(p, k, st_high, rm);
    std::vector<unsettled_element> u;
    if (affine) {
      values[at(c) * 2] = settle_one(s_low.sum_dy_xhat, s_high.sum_dy_xhat, stats, "dgamma", c, u);
      values[at(c) * 2 + 1] = settle_one(s_low.sum_dy, s_high.sum_dy, stats, "dbeta", c, u);
    }
    const bool zero = affine && (s_high.sum_dy_xhat == 0 || s_high.sum_dy == 0);
    channel_outputs_done[at(c)] = u.empty() && !zero;
    // dx = scale * (dy - a - (x - mean) * b) with batch statistics, scale * dy else.
    const double e = detail::high_error<Bits>();
    gradient_constants& kc = constants[at(c)];
    const bounded scale = detail::word_of(High(high.gamma(c) * st_high.invstd), e);
    kc.scale = {scale.value, scale.error};
    bool trusted = scale.trusted;
    if (batch) {
      const High mh = High(m);
      const int shift = detail::channel_shift(sums[at(c)]);
      kc.shift_exponent = shift;
      bounded mu = detail::word_of(High(ldexp(st_high.mean, shift)), e);
      if (detail::exact_word(mu, k, shift)) mu.error = 0;
      bounded a = detail::word_of(High(s_high.sum_dy / mh), e);
      bounded b =
          detail::word_of(High(ldexp(High(st_high.invstd * s_high.sum_dy_xhat / mh), -shift)), e);
      kc.mean = {mu.value, mu.error};
      kc.a = {a.value, a.error};
      kc.b = {b.value, b.error};
      trusted = trusted && mu.trusted && a.trusted && b.trusted;
    }
    kc.prepare();
    fast[at(c)] = trusted;
  });

  detail::handed_back back(channels);
  detail::element_pass(p, fast, r.dx, p.data_type(), back, [&](std::int64_t c, std::int64_t i) {
    if (!batch) return scaled_element(in.dy[at(i)], constants[at(c)].scale);
    const gradient_constants& kc = constants[at(c)];
    if (kc.shift_exponent == 0) return gradient_element(in.x[at(i)], in.dy[at(i)], kc);
    const double x = std::ldexp(in.x[at(i)], kc.shift_exponent);
    bounded v = gradient_element(x, in.dy[at(i)], kc);
    v.trusted = v.trusted && std::ldexp(x, -kc.shift_exponent) == in.x[at(i)];
    return v;
  });

  std::vector<std::vector<unsettled_element>> dx_unsettled(at(channels));
  parallel_for(channels, detail::channel_work(p), [&](std::int64_t c) {
    auto& elements = back.elements[at(c)];
    const bool whole = !fast[at(c)];
    const bool outputs = !channel_outputs_done[at(c)];
    if (!whole && !outputs && elements.empty()) return;
    const channel_statistics<Low> st_low = low.statistics(c);
    const channel_statistics<High> st_high = high.statistics(c);
    const backward_sums<Low> s_low = low.sums(c, st_low);
    const backward_sums<High> s_high = high.sums(c, st_high);
    if (whole) {
      ill[at(c)] = st_high.ill_posed;
      elements.clear();
      detail::for_channel_elements(p, c, [&](std::int64_t i) { elements.push_back(i); });
    }
    const Low g_low = low.gamma(c);
    const High g_high = high.gamma(c);
    for (std::int64_t i : elements) {
      const settled_value s =
          settle_one(low.dx(i, st_low, g_low, s_low), high.dx(i, st_high, g_high, s_high),
                     p.data_type(), "dx", i, dx_unsettled[at(c)]);
      r.dx.rounded[at(i)] = s.rounded;
      r.dx.residual[at(i)] = s.residual;
    }
    std::vector<unsettled_element> u;
    if ((whole || outputs) && affine) {
      values[at(c) * 2] = settle_one(s_low.sum_dy_xhat, s_high.sum_dy_xhat, stats, "dgamma", c, u);
      values[at(c) * 2 + 1] = settle_one(s_low.sum_dy, s_high.sum_dy, stats, "dbeta", c, u);
    }
    channel_unsettled[at(c)] = std::move(u);
  });

  std::vector<unsettled_element> per_output[3];
  for (std::int64_t c = 0; c < channels; ++c) {
    if (ill[at(c)]) r.ill_posed_channels.push_back(c);
    r.fallback_elements += static_cast<std::int64_t>(back.elements[at(c)].size());
    for (auto& e : dx_unsettled[at(c)]) per_output[0].push_back(e);
    for (auto& e : channel_unsettled[at(c)]) per_output[e.output == "dgamma" ? 1 : 2].push_back(e);
    if (affine) {
      r.dgamma.rounded[at(c)] = values[at(c) * 2].rounded;
      r.dgamma.residual[at(c)] = values[at(c) * 2].residual;
      r.dbeta.rounded[at(c)] = values[at(c) * 2 + 1].rounded;
      r.dbeta.residual[at(c)] = values[at(c) * 2 + 1].residual;
    }
  }
  for (auto& part : per_output) detail::append_sorted(r.unsettled, std::move(part));
  return detail::conclude(p, in, Bits, std::move(r), [&] { return exact_quantities<Bits>(p, in); });
}

namespace detail {

// The double nearest the batch mean with no other double between them, and
// sign(pivot - mean), both checked exactly against the integers.
inline std::pair<double, int> pivot_of(double guess, const channel_integers& k) {
  const auto compare = [&](double v) {  // sign(v - mean) = sign(m v - sum x)
    const cpp_int d = linear_integer(v) * k.m - k.x;
    return d > 0 ? 1 : d < 0 ? -1 : 0;
  };
  double pivot = guess;
  for (int step = 0; step < 4; ++step) {
    const int side = compare(pivot);
    if (side == 0) return {pivot, 0};
    const double next = std::nextafter(pivot, side > 0 ? -HUGE_VAL : HUGE_VAL);
    const int beyond = compare(next);
    if (beyond == 0) return {next, 0};
    if (beyond == side) {
      pivot = next;  // the mean lies beyond the neighbour too: move on
      continue;
    }
    return {pivot, side};
  }
  return {pivot, compare(pivot)};
}

}  // namespace detail

template <unsigned Bits>
std::vector<channel_quantities> exact_quantities(const problem& p, const call_inputs& in) {
  using Low = mp_float<Bits>;
  using High = mp_float<2 * Bits>;
  using detail::at;
  const std::int64_t channels = p.channels();
  const std::int64_t m = p.reduction_size();
  const bool batch = p.uses_batch_statistics();
  const bool track = p.track_running_stats();
  const bool has_dy = !in.dy.empty();
  const engine<Low> low(p, in);

  std::vector<channel_sums> sums;
  if (m > 0) sums = accumulate(p, in.x, {}, {.x = batch, .abs_x = true});
  std::vector<channel_quantities> q(at(channels));
  std::vector<char> fast(at(channels), 0);
  std::vector<channel_integers> k(at(channels));
  std::vector<channel_statistics<High>> st(at(channels));
  std::vector<double> pivot(at(channels), 0.0);
  std::vector<int> pivot_sign(at(channels), 0);
  parallel_for(channels, detail::channel_work(p), [&](std::int64_t c) {
    const double rm = track ? in.running_mean[at(c)] : 0.0;
    const double rv = track ? in.running_var[at(c)] : 0.0;
    if (m == 0 || !detail::finite_parameters(p, in, c) || sums[at(c)].nonfinite) return;
    k[at(c)] = integers_of(sums[at(c)], m);
    st[at(c)] = statistics_from<High>(p, k[at(c)], rm, rv);
    if (st[at(c)].ill_posed) return;
    fast[at(c)] = 1;
    if (batch) {
      std::tie(pivot[at(c)], pivot_sign[at(c)]) =
          detail::pivot_of(round_to(st[at(c)].mean, dtype::f64), k[at(c)]);
    } else {
      pivot[at(c)] = rm;
    }
  });
  std::vector<channel_sums> dy_sums;
  if (has_dy && m > 0) {
    dy_sums = accumulate(p, in.x, in.dy,
                         {.dy = true, .abs_dy = true, .pivot = &pivot, .pivot_sign = &pivot_sign});
  }
  parallel_for(channels, detail::channel_work(p), [&](std::int64_t c) {
    if (fast[at(c)] && has_dy && dy_sums[at(c)].nonfinite) fast[at(c)] = 0;
    if (!fast[at(c)]) {
      q[at(c)] = low.quantities(c);
      return;
    }
    channel_integers& ki = k[at(c)];
    const channel_statistics<High>& s = st[at(c)];
    channel_quantities& out = q[at(c)];
    out.m = m;
    out.mean = round_to(s.mean, dtype::f64);
    out.var = round_to(s.var, dtype::f64);
    out.invstd = round_to(s.invstd, dtype::f64);
    out.mean_abs = round_to(High(from_linear<High>(ki.abs_x) / High(m)), dtype::f64);
    if (!has_dy) return;
    const channel_integers d = integers_of(dy_sums[at(c)], m);
    ki.dy = d.dy;
    ki.dy_x = d.dy_x;
    const double rm = track ? in.running_mean[at(c)] : 0.0;
    const centered g = centered_sum(ki, d.dy, d.dy_x, batch, rm);
    const centered h = centered_sum(ki, d.signed_abs_dy, d.signed_abs_dy_x, batch, rm);
    out.sum_dy = round_to(from_linear<High>(d.dy), dtype::f64);
    out.sum_abs_dy = round_to(from_linear<High>(d.abs_dy), dtype::f64);
    out.sum_dy_xhat =
        round_to(High(from_quadratic<High>(g.numerator) / High(g.divisor) * s.invstd), dtype::f64);
    out.sum_abs_dy_xhat =
        round_to(High(from_quadratic<High>(h.numerator) / High(h.divisor) * s.invstd), dtype::f64);
  });
  return q;
}

#define BNCONFORM_INSTANTIATE_EXACT(BITS)                                                \
  template forward_result exact_forward<BITS>(const problem&, const call_inputs&, bool); \
  template backward_result exact_backward<BITS>(const problem&, const call_inputs&);     \
  template std::vector<channel_quantities> exact_quantities<BITS>(const problem&,        \
                                                                  const call_inputs&);

}  // namespace bnconform::reference::exact

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
