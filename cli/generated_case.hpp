#pragma once
// A case built from a problem string and a seed (`bnconform run --problem`): the
// same seed gives the same values on every platform and standard library.
#include <cstdint>

#include "core/case_file.hpp"
#include "core/problem.hpp"

namespace bnconform::cli {

// SplitMix64 (Steele, Lea, Flood 2014): tiny, portable, and fully specified,
// unlike the <random> distributions, whose output differs between libraries.
class splitmix64 {
 public:
  explicit splitmix64(std::uint64_t seed) : state_(seed) {}
  std::uint64_t next();
  // A uniform value of the grid {-2 + k * 2^(2 - p)}, p the precision of t: every
  // one is exactly a value of t, in [-2, 2).
  double uniform_pm2(dtype t);

 private:
  std::uint64_t state_;
};

// One forward step on x, then (when with_backward) one backward step on dy, both
// in the problem's mode; x is drawn first, then dy, from one generator.
case_file generate_case(const problem& p, std::uint64_t seed, bool with_backward);

}  // namespace bnconform::cli
