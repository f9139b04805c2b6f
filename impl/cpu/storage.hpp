#pragma once
// Loading and storing the data dtypes. f16 and bf16 are storage formats only:
// they widen exactly to f32 for compute and are narrowed once, round to nearest
// even, on store. The conversions are written with integer and float operations
// the compiler can vectorize (no table, no library call, no branch per element
// beyond selects).
#include <bit>
#include <cstdint>
#include <type_traits>

#include "isa_namespace.hpp"

namespace bnconform::cpu {
inline namespace BNCONFORM_CPU_ISA {

// Storage tags for the two 16-bit formats (the bits as stored).
struct f16_bits {
  std::uint16_t bits;
};
struct bf16_bits {
  std::uint16_t bits;
};

// IEEE binary16 -> binary32, exact. The 15 magnitude bits shifted into binary32's
// position are a binary32 value 2^-112 times the half value (normal and subnormal
// alike), so one multiplication by 2^112 rescales exactly; Inf and NaN are rebuilt.
inline float widen(f16_bits h) {
  const std::uint32_t sign = static_cast<std::uint32_t>(h.bits & 0x8000u) << 16;
  const std::uint32_t magnitude = h.bits & 0x7fffu;
  const float scaled = std::bit_cast<float>(magnitude << 13) * 0x1p112f;
  const std::uint32_t special = 0x7f800000u | ((magnitude & 0x3ffu) << 13);
  const std::uint32_t bits = magnitude >= 0x7c00u ? special : std::bit_cast<std::uint32_t>(scaled);
  return std::bit_cast<float>(bits | sign);
}

// binary32 -> binary16, round to nearest even, overflow to Inf, NaN stays NaN.
// Normal results: rebias the exponent and round the 13 dropped bits with the
// "add 0xfff plus the lowest kept bit" rule. Subnormal results: adding 0.5f puts
// the value's bits at the binary16 subnormal quantum (2^-24 = ulp(0.5f)), so the
// FPU's own round-to-nearest-even does the rounding.
inline f16_bits narrow_f16(float v) {
  std::uint32_t f = std::bit_cast<std::uint32_t>(v);
  const std::uint32_t sign = f & 0x80000000u;
  f ^= sign;
  std::uint32_t out;
  if (f >= 0x47800000u) {  // >= 2^16: Inf (also after rounding), or NaN
    out = f > 0x7f800000u ? 0x7e00u : 0x7c00u;
  } else if (f < 0x38800000u) {  // < 2^-14: subnormal or zero
    const float shifted = std::bit_cast<float>(f) + 0.5f;
    out = std::bit_cast<std::uint32_t>(shifted) - 0x3f000000u;
  } else {
    const std::uint32_t odd = (f >> 13) & 1u;
    f += 0xc8000fffu;  // (15 - 127) << 23, plus the rounding bias 0xfff (mod 2^32)
    f += odd;
    out = f >> 13;
  }
  return {static_cast<std::uint16_t>(out | (sign >> 16))};
}

// bfloat16 is the top half of a binary32: widening is a shift.
inline float widen(bf16_bits h) { return std::bit_cast<float>(std::uint32_t{h.bits} << 16); }

// binary32 -> bfloat16, round to nearest even; NaN is kept quiet (a NaN whose
// payload sits only in the low half would otherwise round to Inf).
inline bf16_bits narrow_bf16(float v) {
  const std::uint32_t f = std::bit_cast<std::uint32_t>(v);
  const std::uint32_t rounded = (f + 0x7fffu + ((f >> 16) & 1u)) >> 16;
  const std::uint32_t nan = (f >> 16) | 0x40u;
  const bool is_nan = (f & 0x7fffffffu) > 0x7f800000u;
  return {static_cast<std::uint16_t>(is_nan ? nan : rounded)};
}

inline float widen(float v) { return v; }
inline double widen(double v) { return v; }

// Stores a compute value into storage type S.
// A 16-bit format is reached through f32 (C = double rounds twice; the second
// rounding adds at most 2^-24 relative, a fraction of the f32 compute budget).
template <class S, class C>
inline S narrow(C v) {
  if constexpr (std::is_same_v<S, f16_bits>) {
    return narrow_f16(static_cast<float>(v));
  } else if constexpr (std::is_same_v<S, bf16_bits>) {
    return narrow_bf16(static_cast<float>(v));
  } else {
    return static_cast<S>(v);
  }
}

// Per storage type: the compute precision (f32 for the 16-bit formats, as
// tolerance.md assumes) and the statistics type of the ABI (f64 for f64 data,
// else f32).
template <class S>
struct data_traits {
  using compute = float;
  using stats = float;
};
template <>
struct data_traits<double> {
  using compute = double;
  using stats = double;
};

}  // namespace BNCONFORM_CPU_ISA
}  // namespace bnconform::cpu
