// The kernel's 16-bit conversions against core's correct rounding (rounding.hpp)
// and encodings (float_bits.hpp): every encoding, every midpoint between
// neighbours (ties to even), just above and below each midpoint, subnormals,
// overflow, Inf and NaN.
#include "impl/cuda/storage.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>

#include "core/float_bits.hpp"
#include "core/rounding.hpp"

namespace bnconform::cuda {
namespace {

struct format_case {
  narrow_format format;
  dtype type;
  double (*decode)(std::uint16_t);
  std::uint16_t (*encode)(double);
};

const format_case formats[] = {{f16_format, dtype::f16, decode_f16, encode_f16},
                               {bf16_format, dtype::bf16, decode_bf16, encode_bf16}};

// What a correct conversion gives: core's rounding, then its encoding.
std::uint16_t expected(const format_case& f, double v) {
  return f.encode(round_to_format(v, format_of(f.type)));
}

TEST(cuda_storage, decodes_every_encoding_exactly) {
  for (const format_case& f : formats) {
    for (std::uint32_t b = 0; b < 65536; ++b) {
      const auto h = static_cast<std::uint16_t>(b);
      const double got = decode_narrow(h, f.format);
      const double want = f.decode(h);
      if (std::isnan(want)) {
        EXPECT_TRUE(std::isnan(got)) << std::hex << b;
      } else {
        EXPECT_EQ(bits_of(got), bits_of(want)) << std::hex << b;  // -0 stays -0
      }
    }
  }
}

TEST(cuda_storage, encodes_every_value_and_rounds_every_midpoint_to_even) {
  for (const format_case& f : formats) {
    for (std::uint32_t b = 0; b < 65536; ++b) {
      const auto h = static_cast<std::uint16_t>(b);
      const double v = f.decode(h);
      if (std::isnan(v)) {
        EXPECT_EQ(encode_narrow(v, f.format), f.format.quiet_nan);
        continue;
      }
      EXPECT_EQ(encode_narrow(v, f.format), h) << std::hex << b;
      if (std::isinf(v) || (b & 0x7fffu) == 0x7fffu) continue;
      // The midpoint to the next encoding up in magnitude, and its neighbours.
      const double next = f.decode(static_cast<std::uint16_t>(h + 1));
      if (std::isnan(next)) continue;
      const double mid = v + (next - v) / 2;  // exact in double
      for (double probe : {mid, std::nextafter(mid, 0.0), std::nextafter(mid, mid * 4)}) {
        EXPECT_EQ(encode_narrow(probe, f.format), expected(f, probe))
            << std::hex << b << " probe " << probe;
      }
    }
  }
}

TEST(cuda_storage, rounds_random_doubles_over_the_whole_range) {
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> exponent(-160, 140);
  std::uniform_real_distribution<double> mantissa(1, 2);
  for (const format_case& f : formats) {
    for (int i = 0; i < 200000; ++i) {
      const double v =
          std::ldexp(mantissa(rng), static_cast<int>(exponent(rng))) * (i % 2 ? -1 : 1);
      ASSERT_EQ(encode_narrow(v, f.format), expected(f, v)) << v;
    }
  }
}

TEST(cuda_storage, handles_the_special_values) {
  const double inf = std::numeric_limits<double>::infinity();
  EXPECT_EQ(encode_narrow(inf, f16_format), 0x7c00);
  EXPECT_EQ(encode_narrow(-inf, f16_format), 0xfc00);
  EXPECT_EQ(encode_narrow(65520.0, f16_format), 0x7c00);  // the midpoint above 65504: to Inf
  EXPECT_EQ(encode_narrow(65519.99, f16_format), 0x7bff);
  EXPECT_EQ(encode_narrow(0x1p-25, f16_format), 0x0000);  // half the least subnormal: to even (0)
  EXPECT_EQ(encode_narrow(std::nextafter(0x1p-25, 1.0), f16_format), 0x0001);
  EXPECT_EQ(encode_narrow(-0.0, f16_format), 0x8000);
  EXPECT_EQ(encode_narrow(std::nan(""), f16_format), 0x7e00);
  EXPECT_EQ(encode_narrow(-std::nan(""), bf16_format), 0x7fc0);
  EXPECT_EQ(encode_narrow(std::numeric_limits<double>::denorm_min(), bf16_format), 0x0000);
  EXPECT_EQ(encode_narrow(1e300, bf16_format), 0x7f80);
  // A double that rounds up through the subnormal/normal boundary of bf16.
  EXPECT_EQ(encode_narrow(std::nextafter(0x1p-126, 0.0), bf16_format), 0x0080);
  // f32: one correctly rounded conversion (no double rounding through anything).
  EXPECT_EQ(f32_storage::store(1.0 + 0x1p-24), 1.0f);                       // tie to even
  EXPECT_EQ(f32_storage::store(1.0 + 0x1p-24 + 0x1p-50), 1.0f + 0x1p-23f);  // just above
  EXPECT_TRUE(std::isnan(f32_storage::load(f32_storage::store(std::nan("")))));
}

}  // namespace
}  // namespace bnconform::cuda
