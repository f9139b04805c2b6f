#pragma once
// How sure a speed ratio is: a bootstrap over the interleaved rounds of a case.
// Rounds are paired (round r of every kernel ran back to back), so a resample
// draws round indices and keeps each drawn round whole: a burst of load that
// slowed every kernel of a round stays a burst in the resample. Rounds come in
// passes (blocks measured minutes apart, on fresh buffers): a resample first draws
// passes, then rounds within each drawn pass, so that a change of the machine
// between passes widens the interval instead of hiding in it.
#include <cstdint>
#include <string_view>
#include <vector>

namespace bnconform::bench {

enum class speed_verdict { faster, tie, slower };
std::string_view name_of(speed_verdict v);

struct speed_ratio {
  double estimate = 0;  // min over `others` of their median time, over own's median
  double low = 0;       // the interval, at the requested confidence
  double high = 0;
  // faster: the interval lies above 1 (own is faster); slower: below 1; else tie.
  speed_verdict verdict = speed_verdict::tie;
};

struct bootstrap_options {
  double confidence = 0.99;  // two-sided; the interval's tails hold (1 - c) / 2 each
  int resamples = 2000;
  std::uint64_t seed = 1;  // the same data and seed give the same interval
};

// `own` and each of `others`: seconds per call in each round, all the same length
// (>= 1), cut into passes of `rounds_per_pass` rounds (empty: one pass). The ratio
// is the fastest other's median time over own's (> 1: own faster); the fastest is
// chosen again in each resample. Throws std::invalid_argument on empty or unequal
// inputs, or passes that do not add up to the rounds.
speed_ratio bootstrap_speed_ratio(const std::vector<double>& own,
                                  const std::vector<const std::vector<double>*>& others,
                                  const bootstrap_options& opt,
                                  const std::vector<std::size_t>& rounds_per_pass = {});

// The median of a sample (the mean of the middle two for an even count).
double median_of(std::vector<double> v);

}  // namespace bnconform::bench
