// Tests of core/rounding: round_to_format against the hardware's conversion to
// binary32, against the IEEE definition of binary16 (every value, every midpoint),
// against the classic bfloat16 bit trick, and through a 256-bit number type.
#include "core/rounding.hpp"

#include <gtest/gtest.h>

#include <bit>
#include <boost/multiprecision/cpp_bin_float.hpp>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>

namespace bnconform {
namespace {

using big = boost::multiprecision::number<
    boost::multiprecision::cpp_bin_float<256, boost::multiprecision::digit_base_2>,
    boost::multiprecision::et_off>;

constexpr binary_format f64 = format_of(dtype::f64);
constexpr binary_format f32 = format_of(dtype::f32);
constexpr binary_format f16 = format_of(dtype::f16);
constexpr binary_format bf16 = format_of(dtype::bf16);
constexpr double inf = std::numeric_limits<double>::infinity();

std::uint64_t bits_of(double v) { return std::bit_cast<std::uint64_t>(v); }

// Bitwise equality, except that any NaN equals any NaN (written here rather than
// using same_value so that the test does not lean on the code under test).
::testing::AssertionResult same_bits(double expected, double got) {
  if (std::isnan(expected) && std::isnan(got)) return ::testing::AssertionSuccess();
  if (bits_of(expected) == bits_of(got)) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << "expected " << std::hexfloat << expected << " got " << got << std::defaultfloat;
}

// A double with a uniformly random exponent in [lo, hi], a random 52-bit
// fraction and a random sign.
double random_with_exponent(std::mt19937_64& rng, int lo, int hi) {
  std::uniform_int_distribution<int> exponent(lo, hi);
  const std::uint64_t fraction = rng() & ((std::uint64_t{1} << 52) - 1);
  const double significand =
      1.0 + std::ldexp(static_cast<double>(fraction), -52);  // exact: 53 bits
  const double v = std::ldexp(significand, exponent(rng));   // may go subnormal: rounds
  return (rng() & 1u) != 0 ? -v : v;
}

// The value of binary16 bit pattern `bits`, from the IEEE 754 definition:
// exponent field e, fraction field m; subnormal m * 2^-24, normal
// (1024 + m) * 2^(e - 25), e = 31 infinity or NaN.
double f16_value(std::uint16_t bits) {
  const int e = (bits >> 10) & 0x1f;
  const int m = bits & 0x3ff;
  double v = 0;
  if (e == 0x1f) {
    v = m == 0 ? inf : std::numeric_limits<double>::quiet_NaN();
  } else if (e == 0) {
    v = std::ldexp(m, -24);
  } else {
    v = std::ldexp(1024 + m, e - 25);
  }
  return (bits & 0x8000) != 0 ? -v : v;
}

TEST(RoundingF32, MatchesHardwareOnRandomBitPatterns) {
  // static_cast<float> of a double is correctly rounded to nearest-even by the FPU
  // (the default rounding mode), with subnormals and overflow to infinity.
  std::mt19937_64 rng(20240601);
  for (int i = 0; i < 500000; ++i) {
    const double v = std::bit_cast<double>(rng());
    const double expected = static_cast<double>(static_cast<float>(v));
    ASSERT_TRUE(same_bits(expected, round_to_format(v, f32))) << std::hexfloat << v;
  }
}

TEST(RoundingF32, MatchesHardwareAcrossTheF32Range) {
  // Exponents from below the smallest subnormal (2^-149) to above the overflow
  // threshold (2^128): normal, subnormal, underflow to zero and overflow.
  std::mt19937_64 rng(7);
  for (int i = 0; i < 500000; ++i) {
    const double v = random_with_exponent(rng, -155, 131);
    const double expected = static_cast<double>(static_cast<float>(v));
    ASSERT_TRUE(same_bits(expected, round_to_format(v, f32))) << std::hexfloat << v;
  }
}

TEST(RoundingF32, MatchesHardwareAtBoundaries) {
  const double flt_max = std::numeric_limits<float>::max();
  const double denorm = std::numeric_limits<float>::denorm_min();
  const double tiny = std::numeric_limits<float>::min();
  const double cases[] = {
      flt_max,
      std::ldexp(1.0, 128) - std::ldexp(1.0, 103),  // midpoint FLT_MAX / 2^128: ties up to inf
      std::nextafter(std::ldexp(1.0, 128) - std::ldexp(1.0, 103), 0.0),  // just below: FLT_MAX
      denorm,
      denorm / 2,                       // tie between 0 and 2^-149: to 0
      std::nextafter(denorm / 2, 1.0),  // just above: 2^-149
      denorm * 1.5,                     // tie between 2^-149 and 2^-148: to 2^-148
      tiny - denorm / 2,                // tie between largest subnormal and 2^-126: up
      1.0 + std::ldexp(1.0, -24),       // tie: to 1
      1.0 + 3 * std::ldexp(1.0, -24),   // tie: to 1 + 2^-22
      std::numeric_limits<double>::max(),
      std::numeric_limits<double>::denorm_min(),
      0.1,
      1.0 / 3.0};
  for (double v : cases) {
    for (double s : {v, -v}) {
      EXPECT_TRUE(same_bits(static_cast<double>(static_cast<float>(s)), round_to_format(s, f32)))
          << std::hexfloat << s;
    }
  }
  EXPECT_EQ(round_to_format(std::ldexp(1.0, 128) - std::ldexp(1.0, 103), f32), inf);
  EXPECT_EQ(round_to_format(denorm / 2, f32), 0.0);
  EXPECT_EQ(round_to_format(denorm * 1.5, f32), 2 * denorm);
}

TEST(RoundingF64, IsTheIdentity) {
  std::mt19937_64 rng(11);
  for (int i = 0; i < 200000; ++i) {
    const double v = std::bit_cast<double>(rng());
    ASSERT_TRUE(same_bits(v, round_to_format(v, f64))) << std::hexfloat << v;
  }
  for (double v : {0.0, -0.0, inf, -inf, std::numeric_limits<double>::max(),
                   std::numeric_limits<double>::denorm_min(), std::numeric_limits<double>::min()}) {
    EXPECT_TRUE(same_bits(v, round_to_format(v, f64))) << v;
  }
}

TEST(RoundingF16, EveryValueRoundsToItself) {
  for (std::uint32_t b = 0; b <= 0xffff; ++b) {
    const double v = f16_value(static_cast<std::uint16_t>(b));
    ASSERT_TRUE(same_bits(v, round_to_format(v, f16))) << "pattern " << std::hex << b;
  }
}

TEST(RoundingF16, MidpointsTieToEvenAndNeighboursRoundToNearer) {
  // Consecutive non-negative finite patterns b, b + 1 are consecutive values a < c;
  // their midpoint is exact in a double. The even one is the one with an even
  // pattern (the last significand bit is the last pattern bit).
  for (std::uint32_t b = 0; b < 0x7bff; ++b) {
    const double a = f16_value(static_cast<std::uint16_t>(b));
    const double c = f16_value(static_cast<std::uint16_t>(b + 1));
    const double mid = (a + c) / 2;
    const double even = b % 2 == 0 ? a : c;
    ASSERT_TRUE(same_bits(even, round_to_format(mid, f16))) << std::hexfloat << mid;
    ASSERT_TRUE(same_bits(c, round_to_format(std::nextafter(mid, inf), f16)));
    ASSERT_TRUE(same_bits(a, round_to_format(std::nextafter(mid, 0.0), f16)));
    ASSERT_TRUE(same_bits(-even, round_to_format(-mid, f16)));
    ASSERT_TRUE(same_bits(-c, round_to_format(-std::nextafter(mid, inf), f16)));
    ASSERT_TRUE(same_bits(-a, round_to_format(-std::nextafter(mid, 0.0), f16)));
  }
}

TEST(RoundingF16, OverflowAndSubnormals) {
  // Largest finite: 2^15 * (2 - 2^-10) = 65504; spacing there is 32, so the
  // midpoint to the next (non-existent) value 2^16 is 65520, which ties to the
  // even significand 2^11, i.e. 2^16: overflow.
  EXPECT_EQ(round_to_format(65504.0, f16), 65504.0);
  EXPECT_EQ(round_to_format(65519.99, f16), 65504.0);
  EXPECT_EQ(round_to_format(std::nextafter(65520.0, 0.0), f16), 65504.0);
  EXPECT_EQ(round_to_format(65520.0, f16), inf);
  EXPECT_EQ(round_to_format(-65520.0, f16), -inf);
  EXPECT_EQ(round_to_format(1e300, f16), inf);
  EXPECT_EQ(round_to_format(65488.0, f16), 65472.0);  // tie 65472/65504: to even 65472
  // Smallest subnormal 2^-24; 2^-25 is the tie with 0 (even); above it 2^-24.
  EXPECT_EQ(round_to_format(std::ldexp(1.0, -24), f16), std::ldexp(1.0, -24));
  EXPECT_TRUE(same_bits(0.0, round_to_format(std::ldexp(1.0, -25), f16)));
  EXPECT_TRUE(same_bits(-0.0, round_to_format(-std::ldexp(1.0, -25), f16)));
  EXPECT_EQ(round_to_format(1.5 * std::ldexp(1.0, -25), f16), std::ldexp(1.0, -24));
  EXPECT_EQ(round_to_format(std::nextafter(std::ldexp(1.0, -25), 1.0), f16), std::ldexp(1.0, -24));
  EXPECT_TRUE(same_bits(0.0, round_to_format(std::ldexp(1.0, -40), f16)));
  // 3 * 2^-25 = 1.5 quanta: tie between 1 and 2 quanta, to the even 2 (2^-23).
  EXPECT_EQ(round_to_format(3 * std::ldexp(1.0, -25), f16), std::ldexp(1.0, -23));
  // The largest subnormal is 1023 * 2^-24; half a quantum above it ties to the
  // even 1024 * 2^-24 = 2^-14, the smallest normal.
  EXPECT_EQ(round_to_format(1023.5 * std::ldexp(1.0, -24), f16), std::ldexp(1.0, -14));
  EXPECT_EQ(round_to_format(1022.5 * std::ldexp(1.0, -24), f16), 1022 * std::ldexp(1.0, -24));
}

TEST(RoundingBf16, MatchesTheBitTrickOnRandomFloats) {
  // bf16 is the top half of a binary32; rounding a binary32 to nearest-even there
  // is (bits + 0x7fff + lsb) >> 16, lsb the last kept bit. A carry out of the
  // fraction goes into the exponent, so overflow gives the infinity pattern.
  std::mt19937_64 rng(3);
  int finite = 0;
  for (int i = 0; i < 1000000; ++i) {
    const auto bits = static_cast<std::uint32_t>(rng());
    const float f = std::bit_cast<float>(bits);
    if (std::isnan(f)) continue;
    const std::uint32_t rounded = (bits + 0x7fffu + ((bits >> 16) & 1u)) >> 16;
    const double expected = static_cast<double>(std::bit_cast<float>(rounded << 16));
    if (std::isfinite(expected)) ++finite;
    ASSERT_TRUE(same_bits(expected, round_to_format(static_cast<double>(f), bf16)))
        << std::hexfloat << f;
  }
  EXPECT_GT(finite, 900000);  // the comparison was not vacuous
}

TEST(RoundingBf16, OverflowTiesAndSubnormals) {
  // Largest bf16: 0x7f7f = (2 - 2^-7) * 2^127; the overflow threshold is the
  // midpoint to 2^128, (2 - 2^-8) * 2^127, which ties up to infinity.
  const double max = std::ldexp(2 - std::ldexp(1.0, -7), 127);
  EXPECT_EQ(round_to_format(max, bf16), max);
  EXPECT_EQ(round_to_format(std::ldexp(2 - std::ldexp(1.0, -8), 127), bf16), inf);
  EXPECT_EQ(round_to_format(std::nextafter(std::ldexp(2 - std::ldexp(1.0, -8), 127), 0.0), bf16),
            max);
  // 1 + 2^-8 ties between 1 and 1 + 2^-7: to 1.
  EXPECT_EQ(round_to_format(1 + std::ldexp(1.0, -8), bf16), 1.0);
  EXPECT_EQ(round_to_format(1 + 3 * std::ldexp(1.0, -8), bf16), 1 + std::ldexp(1.0, -6));
  // Smallest subnormal 2^-133 (quantum 2^(-126 - 7)).
  EXPECT_EQ(round_to_format(std::ldexp(1.0, -133), bf16), std::ldexp(1.0, -133));
  EXPECT_TRUE(same_bits(0.0, round_to_format(std::ldexp(1.0, -134), bf16)));
  EXPECT_EQ(round_to_format(std::ldexp(1.5, -134), bf16), std::ldexp(1.0, -133));
}

TEST(RoundingSpecials, SignedZerosInfinitiesAndNaN) {
  for (binary_format f : {f64, f32, f16, bf16}) {
    EXPECT_TRUE(same_bits(0.0, round_to_format(0.0, f)));
    EXPECT_TRUE(same_bits(-0.0, round_to_format(-0.0, f)));
    EXPECT_EQ(round_to_format(inf, f), inf);
    EXPECT_EQ(round_to_format(-inf, f), -inf);
    EXPECT_TRUE(std::isnan(round_to_format(std::numeric_limits<double>::quiet_NaN(), f)));
    EXPECT_TRUE(std::isnan(round_to_format(-std::numeric_limits<double>::quiet_NaN(), f)));
    EXPECT_TRUE(std::isnan(round_to_format(std::numeric_limits<double>::signaling_NaN(), f)));
    EXPECT_TRUE(std::isnan(round_to_format(big(std::numeric_limits<double>::quiet_NaN()), f)));
    EXPECT_TRUE(same_bits(-0.0, round_to_format(big(-0.0), f)));
    EXPECT_EQ(round_to_format(big(-inf), f), -inf);
  }
  // An underflow keeps the sign: -2^-1100 is -0 in every format.
  EXPECT_TRUE(same_bits(-0.0, round_to_format(-std::ldexp(1.0, -1074) / 2, f64)));
  EXPECT_TRUE(same_bits(-0.0, round_to_format(-std::ldexp(1.0, -200), f32)));
}

TEST(RoundingRoundTo, UsesTheFormatOfTheDtype) {
  const double third = 1.0 / 3.0;
  EXPECT_EQ(round_to(third, dtype::f64), third);
  EXPECT_EQ(round_to(third, dtype::f32), static_cast<double>(static_cast<float>(third)));
  EXPECT_EQ(round_to(third, dtype::f16), 1365 * std::ldexp(1.0, -12));  // 0x3555
  EXPECT_EQ(round_to(third, dtype::bf16), 171 * std::ldexp(1.0, -9));   // 0x3eab
}

TEST(RoundingMultiprecision, AgreesWithTheDoublePath) {
  // A double converts to the 256-bit type exactly, so both paths round the same
  // real number and must agree bit for bit, in every format.
  std::mt19937_64 rng(5);
  for (int i = 0; i < 20000; ++i) {
    const double v =
        i % 2 == 0 ? std::bit_cast<double>(rng()) : random_with_exponent(rng, -160, 131);
    const big b(v);
    for (binary_format f : {f64, f32, f16, bf16}) {
      ASSERT_TRUE(same_bits(round_to_format(v, f), round_to_format(b, f)))
          << std::hexfloat << v << " precision " << f.precision;
    }
  }
  // Exact midpoints of f16 and f32, where the tie rule decides.
  for (std::uint32_t b = 0; b < 0x7bff; b += 7) {
    const double mid =
        (f16_value(static_cast<std::uint16_t>(b)) + f16_value(static_cast<std::uint16_t>(b + 1))) /
        2;
    ASSERT_TRUE(same_bits(round_to_format(mid, f16), round_to_format(big(mid), f16)));
  }
}

TEST(RoundingMultiprecision, RoundsWhatADoubleCannotHold) {
  const big one(1);
  const big tiny = boost::multiprecision::ldexp(one, -200);
  // 1 + 2^-24 is the midpoint of 1 and 1 + 2^-23 in f32: exactly on it ties to 1
  // (even), anything above goes up, anything below goes down. A double would
  // round 1 + 2^-24 + 2^-200 to 1 + 2^-24 and then tie to 1: wrong.
  const big mid32 = one + boost::multiprecision::ldexp(one, -24);
  EXPECT_EQ(round_to_format(big(mid32 + tiny), f32), 1 + std::ldexp(1.0, -23));
  EXPECT_EQ(round_to_format(mid32, f32), 1.0);
  EXPECT_EQ(round_to_format(big(mid32 - tiny), f32), 1.0);
  EXPECT_EQ(round_to_format(static_cast<double>(mid32 + tiny), f32), 1.0);  // the double path
  // The same for f64 (1 + 2^-53 is the midpoint of 1 and 1 + 2^-52) and f16.
  const big mid64 = one + boost::multiprecision::ldexp(one, -53);
  EXPECT_EQ(round_to_format(big(mid64 + tiny), f64), 1 + std::ldexp(1.0, -52));
  EXPECT_EQ(round_to_format(mid64, f64), 1.0);
  const big mid16 = one + boost::multiprecision::ldexp(one, -11);
  EXPECT_EQ(round_to_format(big(mid16 + tiny), f16), 1 + std::ldexp(1.0, -10));
  EXPECT_EQ(round_to_format(big(-(mid16 + tiny)), f16), -(1 + std::ldexp(1.0, -10)));
  // Beyond the range of a double: overflow and underflow in the target format.
  EXPECT_EQ(round_to_format(boost::multiprecision::ldexp(one, 2000), f64), inf);
  EXPECT_EQ(round_to_format(big(-boost::multiprecision::ldexp(one, 2000)), f16), -inf);
  EXPECT_TRUE(same_bits(0.0, round_to_format(boost::multiprecision::ldexp(one, -2000), f64)));
  EXPECT_TRUE(
      same_bits(-0.0, round_to_format(big(-boost::multiprecision::ldexp(one, -2000)), f32)));
  // Half the smallest f64 subnormal plus a little: up to 2^-1074.
  EXPECT_EQ(round_to_format(big(boost::multiprecision::ldexp(one, -1075) +
                                tiny * boost::multiprecision::ldexp(one, -1000)),
                            f64),
            std::numeric_limits<double>::denorm_min());
  EXPECT_TRUE(same_bits(0.0, round_to_format(boost::multiprecision::ldexp(one, -1075), f64)));
}

}  // namespace
}  // namespace bnconform
