// Tests of core/tensor: storage per dtype, rounding on store, sizes, equality,
// size errors, and the raw-buffer helpers read_values / write_values.
#include "core/tensor.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <new>
#include <vector>

#include "core/error.hpp"

namespace bnconform {
namespace {

using ::testing::HasSubstr;

constexpr double inf = std::numeric_limits<double>::infinity();
const dtype all_dtypes[] = {dtype::f64, dtype::f32, dtype::f16, dtype::bf16};

bool same_bits(double a, double b) {
  return std::bit_cast<std::uint64_t>(a) == std::bit_cast<std::uint64_t>(b) ||
         (std::isnan(a) && std::isnan(b));
}

std::string size_error(dtype t, std::int64_t count) {
  try {
    const tensor x(t, count);
    ADD_FAILURE() << "a tensor of " << count << " elements was made";
  } catch (const error& e) {
    return e.what();
  } catch (const std::bad_alloc&) {
    ADD_FAILURE() << "std::bad_alloc instead of bnconform::error for " << count;
  }
  return "";
}

TEST(TensorSizes, ByteSizeFollowsTheDtype) {
  const std::size_t bytes[] = {8, 4, 2, 2};  // binary64, binary32, binary16, bfloat16
  for (std::size_t i = 0; i < 4; ++i) {
    const tensor t(all_dtypes[i], 5);
    EXPECT_EQ(t.type(), all_dtypes[i]);
    EXPECT_EQ(t.size(), 5);
    EXPECT_EQ(t.byte_size(), 5 * bytes[i]);
    EXPECT_EQ(t.bytes().size(), 5 * bytes[i]);
    for (double v : t.values()) EXPECT_TRUE(same_bits(0.0, v));  // zero-filled
  }
  const tensor empty(dtype::f16, 0);
  EXPECT_EQ(empty.size(), 0);
  EXPECT_EQ(empty.byte_size(), 0u);
  EXPECT_TRUE(empty.values().empty());
  const tensor default_constructed;
  EXPECT_EQ(default_constructed.size(), 0);
}

TEST(TensorSizes, NegativeOrAbsurdSizesThrowBnconformError) {
  EXPECT_THAT(size_error(dtype::f32, -1), HasSubstr("-1"));
  EXPECT_THAT(size_error(dtype::f64, std::numeric_limits<std::int64_t>::min()), HasSubstr(">= 0"));
  EXPECT_THAT(size_error(dtype::f32, std::int64_t{1} << 60), HasSubstr("too large"));
  // 2^62 f32 elements are 2^64 bytes: a naive count * 4 wraps to 0.
  EXPECT_THAT(size_error(dtype::f32, std::int64_t{1} << 62), HasSubstr("too large"));
  EXPECT_THAT(size_error(dtype::f64, std::numeric_limits<std::int64_t>::max()),
              HasSubstr("too large"));
  EXPECT_THAT(size_error(dtype::bf16, std::int64_t{1} << 61), HasSubstr("bf16"));
}

TEST(TensorStore, SetRoundsToNearestEvenPerDtype) {
  // 1 + 2^-30 is between 1 and the next value of every format but f64; the
  // nearest is 1. 1 + 3 * 2^-(p) ties (p the precision) and goes to the even
  // neighbour 1 + 2^-(p-2); the expected values come from the format widths.
  struct row {
    dtype t;
    int precision;
  };
  for (row r :
       {row{dtype::f64, 53}, row{dtype::f32, 24}, row{dtype::f16, 11}, row{dtype::bf16, 8}}) {
    tensor x(r.t, 4);
    x.set(0, 1 + std::ldexp(1.0, -30));
    x.set(1, 1 + 3 * std::ldexp(1.0, -r.precision));
    x.set(2, -1e300);
    x.set(3, -0.0);
    EXPECT_EQ(x.get(0), r.t == dtype::f64 ? 1 + std::ldexp(1.0, -30) : 1.0);
    EXPECT_EQ(x.get(1), 1 + std::ldexp(1.0, 2 - r.precision));
    EXPECT_EQ(x.get(2), r.t == dtype::f64 ? -1e300 : -inf);
    EXPECT_TRUE(same_bits(-0.0, x.get(3)));
  }
}

TEST(TensorStore, StoredBitsAreTheFormatsEncoding) {
  // 1.5 in each format, written out from the format definitions.
  tensor d(dtype::f64, 1), f(dtype::f32, 1), h(dtype::f16, 1), b(dtype::bf16, 1);
  d.set(0, 1.5);
  f.set(0, 1.5);
  h.set(0, 1.5);
  b.set(0, 1.5);
  std::uint64_t d_bits = 0;
  std::uint32_t f_bits = 0;
  std::uint16_t h_bits = 0, b_bits = 0;
  std::memcpy(&d_bits, d.data(), 8);
  std::memcpy(&f_bits, f.data(), 4);
  std::memcpy(&h_bits, h.data(), 2);
  std::memcpy(&b_bits, b.data(), 2);
  EXPECT_EQ(d_bits, 0x3ff8000000000000u);
  EXPECT_EQ(f_bits, 0x3fc00000u);
  EXPECT_EQ(h_bits, 0x3e00u);
  EXPECT_EQ(b_bits, 0x3fc0u);
}

TEST(TensorStore, NaNAndInfinityAreStored) {
  for (dtype t : all_dtypes) {
    tensor x(t, 3);
    x.set(0, std::numeric_limits<double>::quiet_NaN());
    x.set(1, inf);
    x.set(2, -inf);
    EXPECT_TRUE(std::isnan(x.get(0))) << name_of(t);
    EXPECT_EQ(x.get(1), inf);
    EXPECT_EQ(x.get(2), -inf);
  }
}

TEST(TensorValues, FromValuesAndValues) {
  const std::vector<double> in = {0.1, -2.0, 65504.0, 70000.0, 1e-8, -0.0};
  for (dtype t : all_dtypes) {
    const tensor x = tensor::from_values(t, in);
    ASSERT_EQ(x.size(), 6);
    EXPECT_EQ(x.type(), t);
    const std::vector<double> out = x.values();
    ASSERT_EQ(out.size(), in.size());
    for (std::size_t i = 0; i < in.size(); ++i) {
      tensor one(t, 1);
      one.set(0, in[i]);
      EXPECT_TRUE(same_bits(one.get(0), out[i])) << name_of(t) << " " << i;
      EXPECT_TRUE(same_bits(x.get(static_cast<std::int64_t>(i)), out[i]));
    }
  }
  // f16 specifics: 70000 overflows (> 65520), 1e-8 is below half of 2^-24 (5.96e-8).
  const std::vector<double> h = tensor::from_values(dtype::f16, in).values();
  EXPECT_EQ(h[2], 65504.0);
  EXPECT_EQ(h[3], inf);
  EXPECT_TRUE(same_bits(0.0, h[4]));
  EXPECT_EQ(h[1], -2.0);
  EXPECT_EQ(tensor::from_values(dtype::f64, in).values(), in);
}

TEST(TensorEquality, BitwiseEqual) {
  const std::vector<double> v = {1.0, 2.0, 3.0};
  const tensor a = tensor::from_values(dtype::f32, v);
  tensor b = tensor::from_values(dtype::f32, v);
  EXPECT_TRUE(a.bitwise_equal(b));
  b.set(2, std::nextafter(3.0f, 4.0f));
  EXPECT_FALSE(a.bitwise_equal(b));
  // +0 and -0 compare equal as numbers but not bitwise; NaN equals itself bitwise.
  const tensor pz = tensor::from_values(dtype::f16, std::vector<double>{0.0});
  const tensor nz = tensor::from_values(dtype::f16, std::vector<double>{-0.0});
  EXPECT_FALSE(pz.bitwise_equal(nz));
  const std::vector<double> nan = {std::numeric_limits<double>::quiet_NaN()};
  EXPECT_TRUE(
      tensor::from_values(dtype::f64, nan).bitwise_equal(tensor::from_values(dtype::f64, nan)));
  // The same bytes under another dtype are a different tensor: two bf16 zeros
  // and one f32 zero both hold 4 zero bytes.
  EXPECT_FALSE(tensor(dtype::bf16, 2).bitwise_equal(tensor(dtype::f32, 1)));
  EXPECT_FALSE(tensor(dtype::f16, 2).bitwise_equal(tensor(dtype::bf16, 2)));
  EXPECT_FALSE(tensor(dtype::f32, 2).bitwise_equal(tensor(dtype::f32, 3)));
  EXPECT_TRUE(tensor(dtype::f32, 0).bitwise_equal(tensor(dtype::f32, 0)));
}

TEST(TensorRawBuffers, ReadValuesAndWriteValues) {
  const float raw[] = {1.5f, -0.25f, 3e38f};
  const std::vector<double> read = read_values(raw, dtype::f32, 3);
  EXPECT_EQ(read, (std::vector<double>{1.5, -0.25, static_cast<double>(3e38f)}));

  // f16 patterns 0x3c00 = 1, 0xc000 = -2, 0x7bff = 65504.
  const std::uint16_t half[] = {0x3c00, 0xc000, 0x7bff};
  EXPECT_EQ(read_values(half, dtype::f16, 3), (std::vector<double>{1.0, -2.0, 65504.0}));
  // The same patterns as bf16: 0x3c00 = 2^-7, 0xc000 = -2, 0x7bff = (1 + 127/128) * 2^(247 - 127) =
  // 255 * 2^113.
  EXPECT_EQ(read_values(half, dtype::bf16, 3),
            (std::vector<double>{std::ldexp(1.0, -7), -2.0, std::ldexp(255.0, 113)}));

  std::uint16_t out[3] = {0xffff, 0xffff, 0xffff};
  write_values(out, dtype::f16, std::vector<double>{1.0, 1 + std::ldexp(1.0, -11), 1e6});
  EXPECT_EQ(out[0], 0x3c00);
  EXPECT_EQ(out[1], 0x3c00);  // 1 + 2^-11 ties to 1
  EXPECT_EQ(out[2], 0x7c00);  // overflow to +inf

  double wide[2] = {};
  write_values(wide, dtype::f64, std::vector<double>{0.1, -0.0});
  EXPECT_EQ(wide[0], 0.1);
  EXPECT_TRUE(std::signbit(wide[1]));

  // Round trip through a raw buffer of every dtype.
  for (dtype t : all_dtypes) {
    const std::vector<double> values = {0.5, -3.0, 1024.0};
    std::vector<std::byte> buffer(3 * size_of(t));
    write_values(buffer.data(), t, values);
    EXPECT_EQ(read_values(buffer.data(), t, 3), values) << name_of(t);
  }
  EXPECT_THROW((void)read_values(raw, dtype::f32, -1), error);
}

}  // namespace
}  // namespace bnconform
