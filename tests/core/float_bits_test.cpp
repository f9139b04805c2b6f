// Tests of core/float_bits: the 16-bit storage encodings, the shortest decimal and
// hex-float text forms, and parse_real.
#include "core/float_bits.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <random>
#include <string>

#include "core/error.hpp"
#include "core/rounding.hpp"

namespace bnconform {
namespace {

using ::testing::HasSubstr;

constexpr double inf = std::numeric_limits<double>::infinity();

::testing::AssertionResult same_bits(double expected, double got) {
  if (std::isnan(expected) && std::isnan(got)) return ::testing::AssertionSuccess();
  if (std::bit_cast<std::uint64_t>(expected) == std::bit_cast<std::uint64_t>(got))
    return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << "expected " << std::hexfloat << expected << " got " << got << std::defaultfloat;
}

bool is_f16_nan(std::uint16_t b) { return (b & 0x7c00u) == 0x7c00u && (b & 0x3ffu) != 0; }
bool is_bf16_nan(std::uint16_t b) { return (b & 0x7f80u) == 0x7f80u && (b & 0x7fu) != 0; }

// Significant digits of a decimal as to_chars writes it: the digits of the
// mantissa without leading zeros (and without the exponent part).
int significant_digits(const std::string& s) {
  std::string mantissa = s.substr(0, s.find_first_of("eE"));
  std::string digits;
  for (char ch : mantissa)
    if (ch >= '0' && ch <= '9') digits += ch;
  const std::size_t first = digits.find_first_not_of('0');
  if (first == std::string::npos) return 1;
  digits = digits.substr(first);
  // Trailing zeros of an integer written without exponent ("1000") are not
  // significant for the shortest form either.
  while (digits.size() > 1 && digits.back() == '0') digits.pop_back();
  return static_cast<int>(digits.size());
}

std::string parse_error(const std::string& text, const std::string& what) {
  try {
    const double v = parse_real(text, what);
    ADD_FAILURE() << "'" << text << "' parsed as " << v;
  } catch (const error& e) {
    return e.what();
  }
  return "";
}

// A random value of dtype t: a random bit pattern of the format, NaN excluded.
double random_value(std::mt19937_64& rng, dtype t) {
  while (true) {
    const std::uint64_t r = rng();
    double v = 0;
    switch (t) {
      case dtype::f64: v = std::bit_cast<double>(r); break;
      case dtype::f32: v = std::bit_cast<float>(static_cast<std::uint32_t>(r)); break;
      case dtype::f16: v = decode_f16(static_cast<std::uint16_t>(r)); break;
      case dtype::bf16: v = decode_bf16(static_cast<std::uint16_t>(r)); break;
    }
    if (!std::isnan(v)) return v;
  }
}

TEST(FloatBitsF16, DecodesByTheIeeeDefinition) {
  EXPECT_EQ(decode_f16(0x0000), 0.0);
  EXPECT_TRUE(std::signbit(decode_f16(0x8000)));
  EXPECT_EQ(decode_f16(0x3c00), 1.0);
  EXPECT_EQ(decode_f16(0xc000), -2.0);
  EXPECT_EQ(decode_f16(0x3555), 1365 * std::ldexp(1.0, -12));  // 1/3 rounded
  EXPECT_EQ(decode_f16(0x7bff), 65504.0);
  EXPECT_EQ(decode_f16(0x0001), std::ldexp(1.0, -24));
  EXPECT_EQ(decode_f16(0x03ff), 1023 * std::ldexp(1.0, -24));
  EXPECT_EQ(decode_f16(0x0400), std::ldexp(1.0, -14));
  EXPECT_EQ(decode_f16(0x7c00), inf);
  EXPECT_EQ(decode_f16(0xfc00), -inf);
  EXPECT_TRUE(std::isnan(decode_f16(0x7e00)));
  EXPECT_TRUE(std::isnan(decode_f16(0xfc01)));
}

TEST(FloatBitsF16, EveryPatternRoundTrips) {
  int nans = 0;
  for (std::uint32_t i = 0; i <= 0xffff; ++i) {
    const auto b = static_cast<std::uint16_t>(i);
    const double v = decode_f16(b);
    if (is_f16_nan(b)) {
      ASSERT_TRUE(std::isnan(v)) << std::hex << i;
      EXPECT_TRUE(is_f16_nan(encode_f16(v)));
      ++nans;
      continue;
    }
    ASSERT_FALSE(std::isnan(v)) << std::hex << i;
    ASSERT_EQ(encode_f16(v), b) << std::hex << i;
    // A decoded value is a value of the format.
    ASSERT_TRUE(same_bits(v, round_to(v, dtype::f16))) << std::hex << i;
  }
  EXPECT_EQ(nans, 2 * 1023);  // sign x (fraction != 0) with exponent 31
}

TEST(FloatBitsF16, ValuesIncreaseWithThePattern) {
  // Positive patterns are ordered like the values they encode: a decoder that
  // mixed up exponent and fraction would break the order somewhere.
  for (std::uint32_t i = 0; i < 0x7c00; ++i) {
    ASSERT_LT(decode_f16(static_cast<std::uint16_t>(i)),
              decode_f16(static_cast<std::uint16_t>(i + 1)))
        << std::hex << i;
  }
}

TEST(FloatBitsBf16, EveryPatternRoundTrips) {
  int nans = 0;
  for (std::uint32_t i = 0; i <= 0xffff; ++i) {
    const auto b = static_cast<std::uint16_t>(i);
    const double v = decode_bf16(b);
    if (is_bf16_nan(b)) {
      ASSERT_TRUE(std::isnan(v)) << std::hex << i;
      EXPECT_TRUE(is_bf16_nan(encode_bf16(v)));
      ++nans;
      continue;
    }
    // bf16 is the top half of a binary32: its value is that float's.
    ASSERT_TRUE(same_bits(static_cast<double>(std::bit_cast<float>(i << 16)), v)) << std::hex << i;
    ASSERT_EQ(encode_bf16(v), b) << std::hex << i;
    ASSERT_TRUE(same_bits(v, round_to(v, dtype::bf16))) << std::hex << i;
  }
  EXPECT_EQ(nans, 2 * 127);
}

TEST(FloatBitsBf16, KnownPatterns) {
  EXPECT_EQ(encode_bf16(1.0), 0x3f80);
  EXPECT_EQ(encode_bf16(-2.0), 0xc000);
  EXPECT_EQ(encode_bf16(-0.0), 0x8000);
  EXPECT_EQ(encode_bf16(inf), 0x7f80);
  EXPECT_EQ(encode_bf16(std::ldexp(1.0, -133)), 0x0001);  // smallest subnormal
  EXPECT_EQ(encode_f16(-0.0), 0x8000);
  EXPECT_EQ(encode_f16(-inf), 0xfc00);
  EXPECT_EQ(encode_f16(std::ldexp(1.0, -24)), 0x0001);
}

// Significant decimal digits that always suffice to tell the values of a format
// apart: ceil(1 + precision * log10(2)) (17, 9, 5 and 4 for 53, 24, 11 and 8 bits).
int enough_digits(dtype t) {
  return static_cast<int>(std::ceil(1 + format_of(t).precision * std::log10(2.0)));
}

TEST(FloatBitsShortestDecimal, ReadsBackToTheSameValue) {
  std::mt19937_64 rng(42);
  for (dtype t : {dtype::f64, dtype::f32, dtype::f16, dtype::bf16}) {
    const int limit = enough_digits(t);
    for (int i = 0; i < 20000; ++i) {
      const double v = random_value(rng, t);
      const std::string s = shortest_decimal(v, t);
      const double back = round_to(parse_real(s, "value"), t);
      ASSERT_TRUE(same_bits(v, back)) << name_of(t) << " '" << s << "'";
      if (!std::isfinite(v)) continue;
      // Never longer than the scientific form with `limit` digits, which always
      // reads back. A large integral value may come out in fixed notation with
      // all its digits ("218470626061754144"): shortest in characters, so only a
      // string with a point or an exponent is held to `limit` digits.
      char scientific[64];
      std::snprintf(scientific, sizeof scientific, "%.*e", limit - 1, v);
      ASSERT_LE(s.size(), std::string(scientific).size()) << name_of(t) << " '" << s << "'";
      if (s.find_first_of(".e") != std::string::npos) {
        ASSERT_LE(significant_digits(s), limit) << name_of(t) << " '" << s << "'";
      }
    }
  }
  EXPECT_EQ(enough_digits(dtype::f64), 17);
  EXPECT_EQ(enough_digits(dtype::f32), 9);
  EXPECT_EQ(enough_digits(dtype::f16), 5);
  EXPECT_EQ(enough_digits(dtype::bf16), 4);
}

TEST(FloatBitsShortestDecimal, F32ValueWhoseDecimalReadsBackOnAMidpoint) {
  // Found by checking every positive binary32: v = 0x15ae43fd = 0x1.5c87fap-84.
  // Its shortest float decimal "7.038531e-26" reads back as a float to v, but read
  // as a double it is exactly 0x1.5c87fbp-84, the midpoint of v and the next float
  // 0x1.5c87fcp-84, which then ties to the even neighbour, not to v. The contract
  // (float_bits.hpp: reads back as a double, then rounded to t, as v) needs a
  // longer decimal here.
  for (std::uint32_t bits : {0x15ae43fdu, 0x95ae43fdu}) {
    const double v = std::bit_cast<float>(bits);
    const std::string s = shortest_decimal(v, dtype::f32);
    EXPECT_TRUE(same_bits(v, round_to(parse_real(s, "value"), dtype::f32)))
        << std::hex << bits << " '" << s << "'";
  }
}

TEST(FloatBitsShortestDecimal, IsShortest) {
  // Values whose shortest decimals are known: for f32 0.1f prints as "0.1", not
  // its f64 expansion 0.100000001490116...; for f16, 1/3 rounds to 0.33325195...
  // and "0.3333" is the shortest that reads back (0.333 reads back as 0x3554).
  EXPECT_EQ(shortest_decimal(static_cast<float>(0.1), dtype::f32), "0.1");
  EXPECT_EQ(shortest_decimal(0.1, dtype::f64), "0.1");
  EXPECT_EQ(shortest_decimal(1.0, dtype::f16), "1");
  EXPECT_EQ(shortest_decimal(65504.0, dtype::f16), "6.55e+04");
  EXPECT_EQ(shortest_decimal(round_to(1.0 / 3.0, dtype::f16), dtype::f16), "0.3333");
  EXPECT_EQ(shortest_decimal(round_to(0.1, dtype::bf16), dtype::bf16), "0.1");
  EXPECT_EQ(shortest_decimal(std::numeric_limits<double>::denorm_min(), dtype::f64), "5e-324");
  // Shorter than the f64 form of the same stored value.
  const double third16 = round_to(1.0 / 3.0, dtype::f16);
  EXPECT_LT(shortest_decimal(third16, dtype::f16).size(),
            shortest_decimal(third16, dtype::f64).size());
}

TEST(FloatBitsShortestDecimal, NegativeZeroAndNonFinite) {
  for (dtype t : {dtype::f64, dtype::f32, dtype::f16, dtype::bf16}) {
    const std::string s = shortest_decimal(-0.0, t);
    EXPECT_EQ(s, "-0") << name_of(t);
    EXPECT_TRUE(same_bits(-0.0, round_to(parse_real(s, "v"), t)));
    EXPECT_EQ(shortest_decimal(0.0, t), "0") << name_of(t);
    EXPECT_EQ(shortest_decimal(inf, t), "inf");
    EXPECT_EQ(shortest_decimal(-inf, t), "-inf");
    EXPECT_EQ(shortest_decimal(std::numeric_limits<double>::quiet_NaN(), t), "nan");
  }
}

TEST(FloatBitsHexFloat, RoundTripsThroughParseReal) {
  std::mt19937_64 rng(9);
  for (int i = 0; i < 100000; ++i) {
    const double v = std::bit_cast<double>(rng());
    const std::string s = hex_float(v);
    if (std::isnan(v)) {
      EXPECT_EQ(s, "nan");
      continue;
    }
    ASSERT_TRUE(same_bits(v, parse_real(s, "value"))) << s;
  }
  EXPECT_EQ(hex_float(3.0), "0x1.8p+1");
  EXPECT_EQ(hex_float(-0.0), "-0x0p+0");
  EXPECT_EQ(hex_float(inf), "inf");
  EXPECT_EQ(hex_float(-inf), "-inf");
  for (double v : {std::numeric_limits<double>::denorm_min(), std::numeric_limits<double>::max(),
                   -std::numeric_limits<double>::min(), -0.0}) {
    EXPECT_TRUE(same_bits(v, parse_real(hex_float(v), "value"))) << hex_float(v);
  }
}

TEST(FloatBitsParseReal, AcceptsNumbersOfEveryForm) {
  EXPECT_EQ(parse_real("0x1.8p+1", "x"), 3.0);
  EXPECT_EQ(parse_real("1e-5", "x"), 1e-5);
  EXPECT_EQ(parse_real("-2.5", "x"), -2.5);
  EXPECT_EQ(parse_real("0", "x"), 0.0);
  EXPECT_TRUE(same_bits(-0.0, parse_real("-0", "x")));
  EXPECT_TRUE(std::isnan(parse_real("nan", "x")));
  EXPECT_EQ(parse_real("inf", "x"), inf);
  EXPECT_EQ(parse_real("-inf", "x"), -inf);
  // Correct rounding of a decimal: 0.1 is the nearest double to 1/10.
  EXPECT_EQ(parse_real("0.1", "x"), 0.1);
  // A subnormal result is a value, not an error.
  EXPECT_EQ(parse_real("5e-324", "x"), std::numeric_limits<double>::denorm_min());
}

TEST(FloatBitsParseReal, RejectsWhatIsNotExactlyANumber) {
  for (const char* text :
       {"", " 1", "1 ", "1e999", "-1e999", "abc", "1.0x", "\t1", "1,5", "0x", "--1", "1e"}) {
    const std::string message = parse_error(text, "my_field");
    EXPECT_THAT(message, HasSubstr("my_field")) << "input '" << text << "'";
    if (*text != '\0') {
      EXPECT_THAT(message, HasSubstr(text)) << "the message quotes the input";
    }
  }
  EXPECT_THAT(parse_error("1e999", "eps"), HasSubstr("range"));
  EXPECT_THAT(parse_error(std::string("1\0", 2), "eps"), HasSubstr("eps"));
}

}  // namespace
}  // namespace bnconform
