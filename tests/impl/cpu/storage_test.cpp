// The kernel's f16 and bf16 conversions against core's correct rounding (the one
// the reference uses): widening is exact for all 65536 patterns, and narrowing is
// round-to-nearest-even, checked on every f16 value, every midpoint between
// neighbours (ties), the subnormal and overflow boundaries, and random f32 values.
#include "impl/cpu/storage.hpp"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

#include "core/rounding.hpp"
#include "tests/reference/support.hpp"

namespace bnconform::cpu {
namespace {

// The value of a bit pattern as core reads it (tensor::get is the harness's view).
double core_value(dtype t, std::uint16_t bits) {
  tensor one(t, 1);
  std::memcpy(one.data(), &bits, 2);
  return one.get(0);
}

std::uint16_t core_bits(dtype t, double v) {
  tensor one(t, 1);
  one.set(0, v);
  std::uint16_t bits;
  std::memcpy(&bits, one.data(), 2);
  return bits;
}

void expect_narrowing(float v) {
  const std::uint16_t want_h = core_bits(dtype::f16, v);
  const std::uint16_t want_b = core_bits(dtype::bf16, v);
  if (std::isnan(v)) {
    EXPECT_TRUE(std::isnan(widen(narrow_f16(v))));
    EXPECT_TRUE(std::isnan(widen(narrow_bf16(v))));
    return;
  }
  EXPECT_EQ(narrow_f16(v).bits, want_h) << std::hexfloat << v;
  EXPECT_EQ(narrow_bf16(v).bits, want_b) << std::hexfloat << v;
}

TEST(CpuStorage, WideningIsExactForEveryPattern) {
  for (std::uint32_t b = 0; b < 65536; ++b) {
    const auto bits = static_cast<std::uint16_t>(b);
    const double h = core_value(dtype::f16, bits), bf = core_value(dtype::bf16, bits);
    const float wh = widen(f16_bits{bits}), wb = widen(bf16_bits{bits});
    if (std::isnan(h)) {
      EXPECT_TRUE(std::isnan(wh)) << b;
    } else {
      EXPECT_EQ(static_cast<double>(wh), h) << b;
      EXPECT_EQ(std::signbit(wh), std::signbit(h)) << b;
    }
    if (std::isnan(bf)) {
      EXPECT_TRUE(std::isnan(wb)) << b;
    } else {
      EXPECT_EQ(static_cast<double>(wb), bf) << b;
    }
  }
}

TEST(CpuStorage, NarrowingRoundsToNearestEven) {
  for (std::uint32_t b = 0; b < 65536; ++b) {
    const float h = widen(f16_bits{static_cast<std::uint16_t>(b)});
    expect_narrowing(h);
    // The midpoint to the next pattern up (a tie in f16) and values just around it.
    const float next = widen(f16_bits{static_cast<std::uint16_t>(b + 1)});
    if (std::isfinite(h) && std::isfinite(next) && (b & 0x7fffu) != 0x7fffu) {
      const float mid = static_cast<float>((static_cast<double>(h) + next) / 2);
      expect_narrowing(mid);
      expect_narrowing(std::nextafter(mid, 0.0f));
      expect_narrowing(std::nextafter(mid, INFINITY));
    }
    const float bf = widen(bf16_bits{static_cast<std::uint16_t>(b)});
    expect_narrowing(bf);
    expect_narrowing(std::bit_cast<float>(std::bit_cast<std::uint32_t>(bf) | 0x8000u));  // tie
    expect_narrowing(std::bit_cast<float>(std::bit_cast<std::uint32_t>(bf) | 0x8001u));
  }
  for (float v : {65519.0f, 65520.0f, 65536.0f, 1e30f, 0x1p-25f, 0x1.8p-25f, 0x1p-26f, 0x1p-14f,
                  std::nextafter(0x1p-14f, 0.0f), 3.4028235e38f, 1e-45f}) {
    expect_narrowing(v);
    expect_narrowing(-v);
  }
  bnconform::testing::random_source rng(1);
  for (int i = 0; i < 200000; ++i) {
    expect_narrowing(std::bit_cast<float>(static_cast<std::uint32_t>(rng.next())));
  }
}

// The eight-wide conversions (storage.hpp, widen8 and narrow8) are the scalar ones
// bit for bit: on every 16-bit pattern, and on every f16 and bf16 value, the
// neighbourhoods of their ties and random f32 patterns (NaNs included).
TEST(CpuStorage, EightWideConversionsMatchTheScalarOnes) {
  for (std::uint32_t b = 0; b < 65536; b += 8) {
    f16_bits h[8];
    bf16_bits bf[8];
    for (std::uint32_t l = 0; l < 8; ++l) {
      h[l].bits = static_cast<std::uint16_t>(b + l);
      bf[l].bits = static_cast<std::uint16_t>(b + l);
    }
    const f32x8 wh = widen8(h), wb = widen8(bf);
    for (int l = 0; l < 8; ++l) {
      EXPECT_EQ(std::bit_cast<std::uint32_t>(wh[l]), std::bit_cast<std::uint32_t>(widen(h[l])))
          << b + static_cast<std::uint32_t>(l);
      EXPECT_EQ(std::bit_cast<std::uint32_t>(wb[l]), std::bit_cast<std::uint32_t>(widen(bf[l])))
          << b + static_cast<std::uint32_t>(l);
    }
  }
  std::vector<float> values;
  for (std::uint32_t b = 0; b < 65536; ++b) {
    const float h = widen(f16_bits{static_cast<std::uint16_t>(b)});
    const float next = widen(f16_bits{static_cast<std::uint16_t>(b + 1)});
    const auto bf = std::bit_cast<std::uint32_t>(widen(bf16_bits{static_cast<std::uint16_t>(b)}));
    const float mid = static_cast<float>((static_cast<double>(h) + next) / 2);
    for (float v : {h, mid, std::nextafter(mid, 0.0f), std::nextafter(mid, INFINITY),
                    std::bit_cast<float>(bf), std::bit_cast<float>(bf | 0x8000u),
                    std::bit_cast<float>(bf | 0x8001u), std::bit_cast<float>(bf | 0x7fffu)}) {
      values.push_back(v);
    }
  }
  bnconform::testing::random_source rng(2);
  for (int i = 0; i < 200000; ++i) {
    values.push_back(std::bit_cast<float>(static_cast<std::uint32_t>(rng.next())));
  }
  values.resize(values.size() / 8 * 8);
  for (std::size_t i = 0; i < values.size(); i += 8) {
    f32x8 v;
    std::memcpy(&v, values.data() + i, sizeof v);
    f16_bits h[8];
    bf16_bits bf[8];
    narrow8(h, v);
    narrow8(bf, v);
    for (std::size_t l = 0; l < 8; ++l) {
      EXPECT_EQ(h[l].bits, narrow_f16(values[i + l]).bits) << std::hexfloat << values[i + l];
      EXPECT_EQ(bf[l].bits, narrow_bf16(values[i + l]).bits) << std::hexfloat << values[i + l];
    }
  }
}

}  // namespace
}  // namespace bnconform::cpu
