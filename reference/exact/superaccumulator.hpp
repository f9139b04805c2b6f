#pragma once
// An exact sum of doubles, or of exact products of two doubles: a fixed-point
// integer wide enough for every such value, kept as signed 64-bit digits of 32 bits
// each (Neal 2015, "Fast exact summation using small and large superaccumulators",
// the small superaccumulator). Each addition touches three (a double) or five (a
// product) digits and adds at most 2^33 to each, so 2^29 additions fit before the
// digits must be carried; `add` carries by itself when that count is reached.
// The sum is exact, so it does not depend on the order of the additions: partial
// sums over any split of the data, merged with `add(const superaccumulator&)`, give
// the same value bit for bit.
#include <algorithm>
#include <array>
#include <bit>
#include <boost/multiprecision/cpp_int.hpp>
#include <cmath>
#include <cstdint>
#include <cstring>

namespace bnconform::reference::exact {

// GCC's and Clang's 128-bit integer: one multiplication gives the exact product
// of two 53-bit significands.
__extension__ typedef unsigned __int128 uint128;

// A double as (-1)^negative * significand * 2^exponent, the significand an
// integer below 2^53; zero has significand 0. Finite values only.
struct decomposed {
  std::uint64_t significand;
  int exponent;
  bool negative;
};

inline decomposed decompose(double v) {
  const auto bits = std::bit_cast<std::uint64_t>(v);
  const int biased = static_cast<int>((bits >> 52) & 0x7ff);
  const std::uint64_t fraction = bits & ((std::uint64_t{1} << 52) - 1);
  const bool negative = (bits >> 63) != 0;
  if (biased == 0) return {fraction, -1074, negative};  // zero or subnormal
  return {fraction | (std::uint64_t{1} << 52), biased - 1075, negative};
}

// Kind::linear holds sums of doubles (bits from 2^-1074 up); Kind::quadratic holds
// sums of products of two doubles (bits from 2^-2148 up). Both leave room above for
// 2^63 terms of the largest magnitude.
enum class span { linear, quadratic };

template <span Kind>
class superaccumulator {
 public:
  static constexpr int min_exponent = Kind == span::linear ? -1074 : -2148;
  static constexpr int digits = Kind == span::linear ? 72 : 140;

  // Adds a finite double.
  void add(double v) {
    const decomposed d = decompose(v);
    add_scaled(d.significand, 0, d.exponent, d.negative);
  }
  void add_magnitude(double v) {
    const decomposed d = decompose(v);
    add_scaled(d.significand, 0, d.exponent, false);
  }
  // Adds a * b exactly (finite doubles), with `negate` flipping the sign.
  void add_product(double a, double b, bool negate = false) {
    static_assert(Kind == span::quadratic);
    const decomposed da = decompose(a);
    const decomposed db = decompose(b);
    const uint128 product = static_cast<uint128>(da.significand) * db.significand;
    add_scaled(static_cast<std::uint64_t>(product), static_cast<std::uint64_t>(product >> 64),
               da.exponent + db.exponent, (da.negative != db.negative) != negate);
  }

  void add(const superaccumulator& other) {
    if (other.highest_ < 0) return;
    carry();
    superaccumulator copy = other;
    copy.carry();
    lowest_ = std::min(lowest_, copy.lowest_);
    highest_ = std::max(highest_, copy.highest_);
    for (int k = copy.lowest_; k <= copy.highest_; ++k) digit_[k] += copy.digit_[k];
    pending_ = 2;
  }

  // The exact value as integer * 2^min_exponent.
  boost::multiprecision::cpp_int integer() const {
    superaccumulator copy = *this;
    copy.carry();
    boost::multiprecision::cpp_int v = 0;
    if (copy.highest_ < 0) return v;
    for (int k = copy.highest_; k >= copy.lowest_; --k) {
      v <<= 32;
      v += copy.digit_[k];
    }
    v <<= 32 * copy.lowest_;
    return v;
  }

  bool is_zero() const {
    superaccumulator copy = *this;
    copy.carry();
    for (int k = copy.lowest_; k <= copy.highest_; ++k)
      if (copy.digit_[k] != 0) return false;
    return true;
  }

 private:
  // Adds (-1)^negative * (high * 2^64 + low) * 2^exponent, high below 2^42.
  void add_scaled(std::uint64_t low, std::uint64_t high, int exponent, bool negative) {
    if ((low | high) == 0) return;
    if (++pending_ >= (std::int64_t{1} << 29)) carry();
    const int position = exponent - min_exponent;
    const int k = position >> 5;
    const int shift = position & 31;
    const uint128 lower = static_cast<uint128>(low) << shift;   // < 2^96
    const uint128 upper = static_cast<uint128>(high) << shift;  // < 2^74
    constexpr std::uint64_t mask = 0xffffffffu;
    const auto d0 = static_cast<std::int64_t>(static_cast<std::uint64_t>(lower) & mask);
    const auto d1 = static_cast<std::int64_t>(static_cast<std::uint64_t>(lower >> 32) & mask);
    const auto d2 = static_cast<std::int64_t>(static_cast<std::uint64_t>(lower >> 64) +
                                              (static_cast<std::uint64_t>(upper) & mask));
    const auto d3 = static_cast<std::int64_t>(static_cast<std::uint64_t>(upper >> 32) & mask);
    const auto d4 = static_cast<std::int64_t>(static_cast<std::uint64_t>(upper >> 64));
    lowest_ = std::min(lowest_, k);
    highest_ = std::max(highest_, k + 4);
    std::int64_t* digit = digit_.data() + k;
    if (negative) {
      digit[0] -= d0;
      digit[1] -= d1;
      digit[2] -= d2;
      if (high != 0) {
        digit[3] -= d3;
        digit[4] -= d4;
      }
    } else {
      digit[0] += d0;
      digit[1] += d1;
      digit[2] += d2;
      if (high != 0) {
        digit[3] += d3;
        digit[4] += d4;
      }
    }
  }

  // Brings every digit but the top one into [0, 2^32); the value is unchanged.
  // Carries move up from the touched digits: the range grows by the two digits
  // that 2^29 additions of at most 2^33 can reach.
  void carry() {
    if (highest_ < 0) return;
    highest_ = std::min(highest_ + 2, digits - 1);
    for (int k = lowest_; k < highest_; ++k) {
      const std::int64_t c = digit_[k] >> 32;  // arithmetic shift: floor division
      digit_[k] -= c * (std::int64_t{1} << 32);
      digit_[k + 1] += c;
    }
    pending_ = 0;
  }

  std::array<std::int64_t, digits> digit_{};
  std::int64_t pending_ = 0;
  int lowest_ = digits;  // the touched digits: [lowest_, highest_]
  int highest_ = -1;
};

using linear_sum = superaccumulator<span::linear>;
using quadratic_sum = superaccumulator<span::quadratic>;

}  // namespace bnconform::reference::exact
