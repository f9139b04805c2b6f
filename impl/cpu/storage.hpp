#pragma once
// Loading and storing the data dtypes. f16 and bf16 are storage formats only:
// they widen exactly to f32 for compute and are narrowed once, round to nearest
// even, on store. The conversions are written with integer and float operations
// the compiler can vectorize (no table, no library call, no branch per element
// beyond selects).
#include <bit>
#include <cstdint>
#include <cstring>
#include <type_traits>

#if defined(__AVX2__)
#include <immintrin.h>
#endif

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

#if defined(__AVX2__)
// bfloat16 a vector step at a time with intrinsics: sixteen values (two __m256) in
// the x86-64-v3 variant, thirty-two (two __m512) in x86-64-v4. The baseline keeps
// the scalar functions, which the compiler vectorizes less well: the narrowing was
// the bottleneck of every bf16 elementwise pass. Same operations as widen(bf16_bits)
// and narrow_bf16, so the same bits; the NaN test is an unordered compare (true
// exactly when (f & 0x7fffffff) > 0x7f800000), and the rounded values are at most
// 0xffff, so the saturating pack (AVX2) and the truncating one (AVX-512) never
// change them. `f32v` is the float vector of the step's halves; GCC and Clang give
// __m256 and __m512 the arithmetic operators, so the elementwise passes write their
// formulas once for both (normalize.hpp, backward.hpp).
#if defined(__AVX512F__) && defined(__AVX512BW__)
// AVX-512 intrinsics (the x86-64-v4 variant is compiled with -Wno-maybe-uninitialized:
// GCC 12's own headers trip it, bug 105593). GCC's generic vector conversions came
// out in 128-bit pieces under that variant's 256-bit vector preference.
using f32v = __m512;  // sixteen floats
inline constexpr int bf16_step = 32;
inline f32v load_f32v(const float* p) { return _mm512_loadu_ps(p); }
inline f32v splat(float v) { return _mm512_set1_ps(v); }

inline f32v widen_half(__m256i bits) {
  return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(bits), 16));
}

inline void widen_step(const bf16_bits* p, f32v& lo, f32v& hi) {
  lo = widen_half(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
  hi = widen_half(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + 16)));
}

inline __m256i bf16_rounded(f32v v) {
  const __m512i f = _mm512_castps_si512(v);
  const __m512i top = _mm512_srli_epi32(f, 16);
  const __m512i odd = _mm512_and_si512(top, _mm512_set1_epi32(1));
  const __m512i rounded =
      _mm512_srli_epi32(_mm512_add_epi32(_mm512_add_epi32(f, _mm512_set1_epi32(0x7fff)), odd), 16);
  const __mmask16 nan = _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q);
  return _mm512_cvtepi32_epi16(_mm512_mask_or_epi32(rounded, nan, top, _mm512_set1_epi32(0x40)));
}

// 32 values rounded to bf16 (lo the first 16). The x86-64-v4-bf16 variant has the
// AVX512-BF16 instruction (VCVTNE2PS2BF16): round to nearest even, NaN kept quiet
// with the top half of its payload (the scalar narrow_bf16's rule); but it treats
// subnormal inputs as zero (measured on an AMD EPYC: 0x00400000 gives 0x0000 where
// the correct rounding is 0x0040). A step with a subnormal lane takes the integer
// rounding instead; every other value gives the scalar bits (variant_test.cpp
// compares them on every bf16 value, its ties and their neighbours).
inline __m512i bf16_rounded_pair(f32v lo, f32v hi) {
#if defined(__AVX512BF16__)
  // 0x20: VFPCLASSPS's "denormal" category.
  if ((_mm512_fpclass_ps_mask(lo, 0x20) | _mm512_fpclass_ps_mask(hi, 0x20)) == 0) {
    return __builtin_bit_cast(__m512i, _mm512_cvtne2ps_pbh(hi, lo));
  }
#endif
  return _mm512_inserti64x4(_mm512_castsi256_si512(bf16_rounded(lo)), bf16_rounded(hi), 1);
}

// The same for 16 values.
inline __m256i bf16_rounded_16(f32v v) {
#if defined(__AVX512BF16__)
  if (_mm512_fpclass_ps_mask(v, 0x20) == 0)
    return __builtin_bit_cast(__m256i, _mm512_cvtneps_pbh(v));
#endif
  return bf16_rounded(v);
}

inline void narrow_step(bf16_bits* p, f32v lo, f32v hi) {
  _mm512_storeu_si512(p, bf16_rounded_pair(lo, hi));
}

// The last n < 16 values of a row, with AVX-512 masked loads and stores (lanes past
// n are neither read nor written). Short channels-first rows (7x7: 49 values, one
// step and 17 more) would otherwise spend most of their time in the scalar loop.
#define BNCONFORM_CPU_BF16_PARTS 1  // for code outside templates (variant.cpp)
inline constexpr bool bf16_has_part = true;
inline __mmask16 part_mask(std::int64_t n) { return static_cast<__mmask16>((1u << n) - 1u); }
inline f32v widen_part(const bf16_bits* p, std::int64_t n) {
  return widen_half(_mm256_maskz_loadu_epi16(part_mask(n), p));
}
inline void narrow_part(bf16_bits* p, std::int64_t n, f32v v) {
  _mm256_mask_storeu_epi16(p, part_mask(n), bf16_rounded_16(v));
}
#else
using f32v = __m256;
inline constexpr int bf16_step = 16;
inline constexpr bool bf16_has_part = false;  // the scalar loop takes the rest of a row
inline f32v load_f32v(const float* p) { return _mm256_loadu_ps(p); }
inline f32v splat(float v) { return _mm256_set1_ps(v); }

inline void widen_step(const bf16_bits* p, f32v& lo, f32v& hi) {
  const __m256i raw = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
  lo = _mm256_castsi256_ps(
      _mm256_slli_epi32(_mm256_cvtepu16_epi32(_mm256_castsi256_si128(raw)), 16));
  hi = _mm256_castsi256_ps(
      _mm256_slli_epi32(_mm256_cvtepu16_epi32(_mm256_extracti128_si256(raw, 1)), 16));
}

inline __m256i bf16_rounded(f32v v) {
  const __m256i f = _mm256_castps_si256(v);
  const __m256i top = _mm256_srli_epi32(f, 16);
  const __m256i odd = _mm256_and_si256(top, _mm256_set1_epi32(1));
  const __m256i rounded =
      _mm256_srli_epi32(_mm256_add_epi32(_mm256_add_epi32(f, _mm256_set1_epi32(0x7fff)), odd), 16);
  const __m256i nan = _mm256_or_si256(top, _mm256_set1_epi32(0x40));
  return _mm256_blendv_epi8(rounded, nan, _mm256_castps_si256(_mm256_cmp_ps(v, v, _CMP_UNORD_Q)));
}

inline void narrow_step(bf16_bits* p, f32v lo, f32v hi) {
  // packus interleaves 128-bit halves (lo0-3, hi0-3, lo4-7, hi4-7): permute back.
  const __m256i packed = _mm256_packus_epi32(bf16_rounded(lo), bf16_rounded(hi));
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(p), _mm256_permute4x64_epi64(packed, 0xd8));
}
#endif
#endif

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
