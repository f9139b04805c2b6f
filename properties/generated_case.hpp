#pragma once
// A generated case: a problem, a kind of values and a 64-bit seed. The tensors are
// filled from these three by our own code (splitmix64), so every case has a
// one-line repro that `parse_case` reads back, and the values are the same on
// every platform and standard library.
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "core/kernel.hpp"
#include "core/problem.hpp"

namespace bnconform::properties {

// The values of a case (properties/README.md describes each).
enum class value_kind : std::uint8_t {
  normal,               // per-channel mean and spread, Gaussian
  uniform,              // per-channel interval
  exact_fill,           // small integers times a power of two: every partial sum exact
  large_offset,         // |mean| / std from 1e2 up to 1e7 (f32), 1e15 (f64)
  near_overflow,        // m x^2 near the compute type's overflow threshold
  tiny,                 // around the smallest normal, subnormals included
  constant_channels,    // at least one channel holds a single value
  sprinkled_nonfinite,  // a few NaN, +Inf, -Inf among normal values
  heavy_tail,           // Cauchy-like, a few values dominate the sums
  raw_bits,             // random IEEE bit patterns of the data type (exponents bounded)
  offset_gradient,      // x normal; dy per channel |mean| / std from 1e1 up to the
                        // large-offset ratios: the backward's sums of dy cancel
};

std::string_view name_of(value_kind k);
std::optional<value_kind> parse_value_kind(std::string_view text);
std::span<const value_kind> all_value_kinds();

struct generated_case {
  problem p;
  value_kind kind = value_kind::normal;
  std::uint64_t seed = 0;
  // `problem=<canonical problem> kind=<kind> seed=0x<hex>`.
  std::string repro() const;
};

// Reads a repro line back; throws bnconform::error on malformed text.
generated_case parse_case(std::string_view repro);

// What one call reads.
struct case_inputs {
  tensor x, dy;
  module_state state;
};

// The inputs of the case: x by its kind, dy Gaussian (sprinkled with non-finite
// values for that kind), gamma, beta, running statistics near the data's own,
// counter 0. `batch` selects one of several batches of the same case (sequence
// properties): batch 0 is the case's own.
case_inputs make_inputs(const generated_case& c, std::uint64_t batch = 0);

// splitmix64: the same numbers everywhere.
class random_source {
 public:
  explicit random_source(std::uint64_t seed) : state_(seed) {}
  std::uint64_t next();
  double uniform(double lo, double hi);  // [lo, hi), 53 random bits
  std::int64_t below(std::int64_t n);    // [0, n), n > 0
  double normal();

 private:
  std::uint64_t state_;
};

}  // namespace bnconform::properties
