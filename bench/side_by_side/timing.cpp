#include "timing.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <vector>

namespace bnconform::bench {

namespace {

// A fast deterministic fill (splitmix64 to a value in [-2, 2)): the timed kernels
// do not care about the values, only that they are ordinary numbers.
void fill_random(tensor& t, std::uint64_t seed) {
  std::uint64_t state = seed;
  const auto next = [&] {
    state += 0x9e3779b97f4a7c15ull;
    std::uint64_t z = state;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return static_cast<float>(static_cast<double>((z ^ (z >> 31)) >> 40) * 0x1p-22 - 2.0);
  };
  const std::int64_t n = t.size();
  if (t.type() == dtype::f32) {
    auto* p = static_cast<float*>(t.data());
    for (std::int64_t i = 0; i < n; ++i) p[i] = next();
  } else if (t.type() == dtype::bf16) {
    // The values have at most 8 significant bits, so truncating to the top 16
    // bits of the f32 pattern is exact.
    auto* p = static_cast<std::uint16_t*>(t.data());
    for (std::int64_t i = 0; i < n; ++i) {
      const float v = std::ldexp(std::round(std::ldexp(next(), 6)), -6);
      std::uint32_t bits;
      std::memcpy(&bits, &v, sizeof bits);
      p[i] = static_cast<std::uint16_t>(bits >> 16);
    }
  } else {
    for (std::int64_t i = 0; i < n; ++i) t.set(i, next());
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
  for (std::size_t i = 0; i < kernels.size(); ++i) {
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
    for (int w = 0; w < opt.warmup && ok; ++w) {
      const bnc_status s = call(*kernels[i].timed);
      if (s != BNC_STATUS_OK) {
        out[i].error = failure(s, message);
        ok = false;
      }
    }
    if (ok) running.push_back(i);
  }
  // Rounds of one call per kernel, in turn, each until it has its repetitions and
  // measured time: a burst of load from elsewhere on the machine then slows every
  // kernel of the case alike instead of whichever was being timed, so the ratios
  // hold up on a shared machine.
  std::vector<std::vector<double>> seconds(kernels.size());
  std::vector<double> total(kernels.size(), 0.0);
  // A kernel that has its calls and time sits out the rest of the rounds: a slow
  // kernel does not make the fast ones run longer than they need.
  const auto has_enough = [&](std::size_t i) {
    return static_cast<int>(seconds[i].size()) >= opt.min_repetitions &&
           total[i] >= opt.min_seconds;
  };
  while (!std::all_of(running.begin(), running.end(), has_enough)) {
    for (std::size_t k = 0; k < running.size();) {
      const std::size_t i = running[k];
      if (has_enough(i)) {
        ++k;
        continue;
      }
      const auto start = std::chrono::steady_clock::now();
      const bnc_status s = call(*kernels[i].timed);
      const std::chrono::duration<double> t = std::chrono::steady_clock::now() - start;
      if (s != BNC_STATUS_OK) {
        out[i].error = failure(s, message);
        running.erase(running.begin() + static_cast<std::ptrdiff_t>(k));
        continue;
      }
      seconds[i].push_back(t.count());
      total[i] += t.count();
      ++k;
    }
  }
  for (const std::size_t i : running) {
    std::vector<double>& v = seconds[i];
    std::sort(v.begin(), v.end());
    out[i].ok = true;
    out[i].repetitions = static_cast<int>(v.size());
    out[i].median_seconds = v[v.size() / 2];
  }
  return out;
}

}  // namespace bnconform::bench
