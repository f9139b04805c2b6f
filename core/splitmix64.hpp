#pragma once
// SplitMix64 (Steele, Lea, Flood 2014): tiny, portable, and fully specified,
// unlike the <random> distributions, whose output differs between libraries. The
// values of generated cases (`bnconform run --problem`, golden case specs) come
// from it, so the same seed gives the same values on every platform.
#include <cmath>
#include <cstdint>

#include "dtype.hpp"

namespace bnconform {

class splitmix64 {
 public:
  explicit splitmix64(std::uint64_t seed) : state_(seed) {}

  std::uint64_t next() {
    state_ += 0x9e3779b97f4a7c15ull;
    std::uint64_t z = state_;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }

  // A uniform value of the grid {-2 + k * 2^(2 - p)}, p the precision of t: every
  // one is exactly a value of t, in [-2, 2).
  double uniform_pm2(dtype t) {
    const int precision = format_of(t).precision;
    // The top bits are the best mixed; k * 2^(2-p) - 2 is exact in double and in t.
    const std::uint64_t k = next() >> (64 - precision);
    return std::ldexp(static_cast<double>(k), 2 - precision) - 2.0;
  }

 private:
  std::uint64_t state_;
};

}  // namespace bnconform
