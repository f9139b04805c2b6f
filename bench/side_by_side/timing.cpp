#include "timing.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <vector>

#include "confidence.hpp"

namespace bnconform::bench {

namespace {

// A fast deterministic fill: each element is splitmix64 of its index and the seed,
// mapped to [-2, 2), so the fill runs in parallel and gives the same values at any
// thread count. The timed kernels do not care about the values, only that they are
// ordinary numbers.
float value_at(std::uint64_t seed, std::int64_t i) {
  std::uint64_t z = seed * 0x9e3779b97f4a7c15ull + static_cast<std::uint64_t>(i) + 1;
  z *= 0x9e3779b97f4a7c15ull;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return static_cast<float>(static_cast<double>((z ^ (z >> 31)) >> 40) * 0x1p-22 - 2.0);
}

void fill_random(tensor& t, std::uint64_t seed) {
  const std::int64_t n = t.size();
  if (t.type() == dtype::f32) {
    auto* p = static_cast<float*>(t.data());
#pragma omp parallel for schedule(static)
    for (std::int64_t i = 0; i < n; ++i) p[i] = value_at(seed, i);
  } else if (t.type() == dtype::bf16) {
    // Values rounded to multiples of 2^-6 in [-2, 2) have at most 8 significant
    // bits, so the top 16 bits of the f32 pattern hold them exactly.
    auto* p = static_cast<std::uint16_t*>(t.data());
#pragma omp parallel for schedule(static)
    for (std::int64_t i = 0; i < n; ++i) {
      const float v = std::ldexp(std::round(std::ldexp(value_at(seed, i), 6)), -6);
      std::uint32_t bits;
      std::memcpy(&bits, &v, sizeof bits);
      p[i] = static_cast<std::uint16_t>(bits >> 16);
    }
  } else {
    for (std::int64_t i = 0; i < n; ++i) t.set(i, value_at(seed, i));
  }
}

void fill_constant(tensor& t, double v) {
  for (std::int64_t i = 0; i < t.size(); ++i) t.set(i, v);
}

bnc_forward_args forward_args(case_buffers& b) {
  const problem& p = b.p;
  const bool batch = p.uses_batch_statistics();
  bnc_forward_args a{};
  a.struct_size = sizeof a;
  a.x = b.x.data();
  a.y = b.y.data();
  a.gamma = b.gamma.data();
  a.beta = b.beta.data();
  a.running_mean = b.running_mean.data();
  a.running_var = b.running_var.data();
  a.save_mean = batch ? b.save_mean.data() : nullptr;
  a.save_invstd = batch ? b.save_invstd.data() : nullptr;
  a.num_batches_tracked = &b.num_batches_tracked;
  a.exponential_average_factor = *p.momentum();
  return a;
}

bnc_backward_args backward_args(case_buffers& b) {
  bnc_backward_args a{};
  a.struct_size = sizeof a;
  a.x = b.x.data();
  a.dy = b.dy.data();
  a.dx = b.dx.data();
  a.gamma = b.gamma.data();
  a.save_mean = b.save_mean.data();
  a.save_invstd = b.save_invstd.data();
  a.dgamma = b.dgamma.data();
  a.dbeta = b.dbeta.data();
  return a;
}

std::string failure(bnc_status s, const char* message) {
  return "status " + std::to_string(static_cast<int>(s)) + ": " + message;
}

}  // namespace

case_buffers::case_buffers(const bench_case& c)
    : p(c.to_problem()),
      x(p.data_type(), p.element_count()),
      y(p.data_type(), p.element_count()),
      dy(p.data_type(), c.dir == direction::backward ? p.element_count() : 0),
      dx(p.data_type(), c.dir == direction::backward ? p.element_count() : 0),
      gamma(p.stats_type(), p.channels()),
      beta(p.stats_type(), p.channels()),
      running_mean(p.stats_type(), p.channels()),
      running_var(p.stats_type(), p.channels()),
      save_mean(p.stats_type(), p.channels()),
      save_invstd(p.stats_type(), p.channels()),
      dgamma(p.stats_type(), p.channels()),
      dbeta(p.stats_type(), p.channels()) {
  fill_random(x, 1);
  fill_random(dy, 2);
  fill_constant(gamma, 1.5);
  fill_constant(beta, 0.25);
  fill_constant(running_mean, 0.0);
  fill_constant(running_var, 1.0);
}

std::vector<timing> time_kernels(const std::vector<timed_kernel>& kernels, const bench_case& c,
                                 case_buffers& b, const timing_options& opt) {
  const bnc_problem descriptor = b.p.to_abi();
  char message[512] = {};
  const bool backward = c.dir == direction::backward;
  const bnc_forward_args f = forward_args(b);
  const bnc_backward_args g = backward_args(b);
  std::vector<timing> out(kernels.size());
  const auto call = [&](const bnc_kernel& k) {
    return backward ? k.backward(k.context, &descriptor, &g, message, sizeof message)
                    : k.forward(k.context, &descriptor, &f, message, sizeof message);
  };
  // Each kernel: a training forward of the same problem for the saved statistics a
  // backward needs, then its warm-up calls; a kernel that fails either drops out.
  // (The buffers are shared, so every backward reads what the last of these
  // forwards wrote: the statistics of the same data, equal to within rounding.)
  std::vector<std::size_t> running;
  std::vector<int> batch(kernels.size(), 1);
  for (std::size_t i = 0; i < kernels.size(); ++i) {
    if (!kernels[i].unsupported.empty()) {
      out[i].unsupported = true;
      out[i].error = kernels[i].unsupported;
      continue;
    }
    if (backward) {
      const bnc_kernel& prepare = *kernels[i].prepare;
      const bnc_status s =
          prepare.forward(prepare.context, &descriptor, &f, message, sizeof message);
      if (s != BNC_STATUS_OK) {
        out[i].error = "forward for the saved statistics: " + failure(s, message);
        continue;
      }
    }
    bool ok = true;
    double last = 0;
    for (int w = 0; w < std::max(opt.warmup, 1) && ok; ++w) {
      const auto start = std::chrono::steady_clock::now();
      const bnc_status s = call(*kernels[i].timed);
      last = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      if (s != BNC_STATUS_OK) {
        out[i].error = failure(s, message);
        ok = false;
      }
    }
    if (!ok) continue;
    batch[i] = static_cast<int>(std::clamp(opt.round_seconds / std::max(last, 1e-9), 1.0, 1e5));
    running.push_back(i);
  }
  // Rounds: each kernel's turn in turn, so that a burst of load from elsewhere on
  // the machine slows every kernel of the round alike instead of whichever was
  // being timed; the first turn rotates, so no kernel always follows the same one.
  std::vector<double> total(kernels.size(), 0.0);
  // A kernel's rounds are over (it ran them all, or it sits out): its result.
  const auto finish = [&](std::size_t i) {
    out[i].ok = true;
    out[i].calls_per_round = batch[i];
    out[i].median_seconds = median_of(out[i].per_round);
    out[i].rounds_per_pass = {out[i].per_round.size()};
  };
  const auto has_enough = [&](std::size_t i) { return total[i] >= opt.min_seconds; };
  for (int round = 0;
       round < opt.min_rounds || !std::all_of(running.begin(), running.end(), has_enough);
       ++round) {
    if (running.empty()) break;
    const std::vector<std::size_t> order = [&] {
      std::vector<std::size_t> o = running;
      std::rotate(o.begin(), o.begin() + static_cast<std::ptrdiff_t>(round % o.size()), o.end());
      return o;
    }();
    std::vector<std::size_t> failed;
    for (const std::size_t i : order) {
      const auto start = std::chrono::steady_clock::now();
      bnc_status s = BNC_STATUS_OK;
      for (int n = 0; n < batch[i] && s == BNC_STATUS_OK; ++n) s = call(*kernels[i].timed);
      const std::chrono::duration<double> t = std::chrono::steady_clock::now() - start;
      if (s != BNC_STATUS_OK) {
        out[i].error = failure(s, message);
        failed.push_back(i);
        continue;
      }
      out[i].per_round.push_back(t.count() / batch[i]);
      total[i] += t.count();
    }
    // A kernel that fails a call leaves; the others' rounds stay paired among them.
    for (const std::size_t i : failed) {
      running.erase(std::find(running.begin(), running.end(), i));
      out[i].per_round.clear();
    }
    if (round + 1 == opt.sit_out_after) {
      // A peer far slower than another in every round so far cannot be the
      // fastest of its class: it leaves the rounds (slow peers set a case's length).
      const auto fastest = [&](std::size_t i) {
        return *std::min_element(out[i].per_round.begin(), out[i].per_round.end());
      };
      const auto slowest = [&](std::size_t i) {
        return *std::max_element(out[i].per_round.begin(), out[i].per_round.end());
      };
      std::vector<std::size_t> leaving;
      for (const std::size_t i : running) {
        if (kernels[i].peer_class < 0) continue;
        for (const std::size_t j : running) {
          if (j == i || kernels[j].peer_class < kernels[i].peer_class) continue;
          if (fastest(i) > opt.sit_out_factor * slowest(j)) {
            leaving.push_back(i);
            break;
          }
        }
      }
      for (const std::size_t i : leaving) {
        running.erase(std::find(running.begin(), running.end(), i));
        out[i].sat_out = true;
        finish(i);
      }
    }
  }
  for (const std::size_t i : running) finish(i);
  return out;
}

void add_pass(timing& into, const timing& pass) {
  into.per_round.insert(into.per_round.end(), pass.per_round.begin(), pass.per_round.end());
  into.rounds_per_pass.push_back(pass.per_round.size());
  into.median_seconds = median_of(into.per_round);
}

}  // namespace bnconform::bench
