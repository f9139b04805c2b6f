#include "confidence.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <stdexcept>

namespace bnconform::bench {

std::string_view name_of(speed_verdict v) {
  switch (v) {
    case speed_verdict::faster: return "faster";
    case speed_verdict::tie: return "tie";
    case speed_verdict::slower: return "slower";
  }
  return "?";
}

double median_of(std::vector<double> v) {
  if (v.empty()) throw std::invalid_argument("median of no values");
  const std::size_t mid = v.size() / 2;
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(mid), v.end());
  const double upper = v[mid];
  if (v.size() % 2 == 1) return upper;
  const double lower = *std::max_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(mid));
  return 0.5 * (lower + upper);
}

speed_ratio bootstrap_speed_ratio(const std::vector<double>& own,
                                  const std::vector<const std::vector<double>*>& others,
                                  const bootstrap_options& opt,
                                  const std::vector<std::size_t>& rounds_per_pass) {
  if (own.empty() || others.empty()) throw std::invalid_argument("bootstrap of no rounds");
  for (const std::vector<double>* o : others) {
    if (o == nullptr || o->size() != own.size())
      throw std::invalid_argument("bootstrap: every kernel needs the same rounds");
  }
  if (!(opt.confidence > 0 && opt.confidence < 1) || opt.resamples < 1)
    throw std::invalid_argument("bootstrap: confidence in (0, 1) and at least one resample");
  const auto ratio = [&](const std::vector<std::size_t>& rounds) {
    std::vector<double> sample(rounds.size());
    const auto median_at = [&](const std::vector<double>& times) {
      for (std::size_t i = 0; i < rounds.size(); ++i) sample[i] = times[rounds[i]];
      return median_of(sample);
    };
    double fastest = std::numeric_limits<double>::infinity();
    for (const std::vector<double>* o : others) fastest = std::min(fastest, median_at(*o));
    return fastest / median_at(own);
  };
  const std::size_t n = own.size();
  std::vector<std::size_t> passes = rounds_per_pass;
  if (passes.empty()) passes = {n};
  std::vector<std::size_t> pass_start;
  std::size_t total = 0;
  for (const std::size_t p : passes) {
    if (p == 0) throw std::invalid_argument("bootstrap: a pass without rounds");
    pass_start.push_back(total);
    total += p;
  }
  if (total != n) throw std::invalid_argument("bootstrap: the passes do not add up to the rounds");
  std::vector<std::size_t> rounds(n);
  for (std::size_t i = 0; i < n; ++i) rounds[i] = i;
  speed_ratio out;
  out.estimate = ratio(rounds);
  std::mt19937_64 rng(opt.seed);
  std::uniform_int_distribution<std::size_t> pick_pass(0, passes.size() - 1);
  std::vector<double> ratios(static_cast<std::size_t>(opt.resamples));
  for (double& r : ratios) {
    rounds.clear();
    for (std::size_t k = 0; k < passes.size(); ++k) {
      const std::size_t p = pick_pass(rng);
      std::uniform_int_distribution<std::size_t> pick(0, passes[p] - 1);
      for (std::size_t j = 0; j < passes[p]; ++j) rounds.push_back(pass_start[p] + pick(rng));
    }
    r = ratio(rounds);
  }
  std::sort(ratios.begin(), ratios.end());
  // Percentile interval: the (1 - c) / 2 and (1 + c) / 2 quantiles of the resamples.
  const double tail = (1 - opt.confidence) / 2;
  const auto at = [&](double q) {
    const double pos = q * static_cast<double>(ratios.size() - 1);
    return ratios[static_cast<std::size_t>(std::lround(pos))];
  };
  out.low = std::min(at(tail), out.estimate);
  out.high = std::max(at(1 - tail), out.estimate);
  out.verdict = out.low > 1    ? speed_verdict::faster
                : out.high < 1 ? speed_verdict::slower
                               : speed_verdict::tie;
  return out;
}

}  // namespace bnconform::bench
