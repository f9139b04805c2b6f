#pragma once
// Helpers shared by the reference tests: a portable random source and one-call
// shortcuts through the kernel ABI (the way every other kernel is reached).
#include <cstdint>
#include <string>
#include <vector>

#include "core/kernel.hpp"
#include "reference/reference_kernel.hpp"

namespace bnconform::testing {

// splitmix64: the same numbers on every platform and standard library.
class random_source {
 public:
  explicit random_source(std::uint64_t seed) : state_(seed) {}
  std::uint64_t next() {
    std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  // Uniform in [lo, hi) with 53 random bits.
  double uniform(double lo, double hi) {
    return lo + (hi - lo) * static_cast<double>(next() >> 11) * 0x1p-53;
  }
  std::int64_t below(std::int64_t n) {
    return static_cast<std::int64_t>(next() % static_cast<std::uint64_t>(n));
  }

 private:
  std::uint64_t state_;
};

inline tensor random_tensor(random_source& rng, dtype t, std::int64_t count, double lo, double hi) {
  tensor out(t, count);
  for (std::int64_t i = 0; i < count; ++i) out.set(i, rng.uniform(lo, hi));
  return out;
}

inline tensor values(dtype t, std::vector<double> v) { return tensor::from_values(t, v); }

inline const kernel& reference_256() {
  static const kernel k(reference::reference_kernel(256));
  return k;
}

}  // namespace bnconform::testing
