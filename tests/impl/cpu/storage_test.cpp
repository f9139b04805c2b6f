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

}  // namespace
}  // namespace bnconform::cpu
