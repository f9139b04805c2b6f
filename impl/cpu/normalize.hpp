#pragma once
// The elementwise passes: y = (x - shift_c) * scale_c + offset_c (forward), in the
// precision T (f64, or f32 for f32/f16/bf16 data whose coefficients fit f32: fits_f32),
// one read and one write per element. bf16 data in f32 take intrinsics in the
// x86-64-v3 and v4 variants (storage.hpp: widen_step, narrow_step, a vector step of
// 16 or 32 values): the same operations in the same order as the scalar loops (no
// FMA: -ffp-contract=off), so the same bits.
//
// The form (x - mean) * scale + beta, rather than x * scale + (beta - mean * scale),
// keeps a constant channel exact: x - mean is exactly 0 there, so y == beta
// (semantics.md); and it has no cancellation between two large products on offset
// data (tolerance.md's |d xhat| budget).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <span>
#include <type_traits>

#include "blocks.hpp"
#include "isa_namespace.hpp"
#include "storage.hpp"
#include "streaming.hpp"
#include "threading.hpp"

namespace bnconform::cpu {
inline namespace BNCONFORM_CPU_ISA {

// Whether the f32 rounding of every coefficient keeps its relative precision (zero,
// non-finite, or a normal f32). Then f32 data take the f32 elementwise pass, as fast
// as before; otherwise (data near f32's range ends: gamma * invstd beyond f32, a
// subnormal mean) the f64 one. The choice depends on the data only, so results stay
// the same for any thread count and instruction set.
inline bool fits_f32(std::span<const double> coefficients) {
  for (const double v : coefficients) {
    if (std::isfinite(v) && v != 0 && !std::isnormal(static_cast<float>(v))) return false;
  }
  return true;
}

// Whether x - shift cannot overflow f32 for any f32 x: |shift| < 2^103 (x - shift
// rounds to an infinity only from |x - shift| >= 2^128 (1 - 2^-25), and |x| <= 2^128
// (1 - 2^-24)). Otherwise (data or a running mean near f32's largest, values of both
// signs) the f64 pass computes it, where y or dx is finite. Non-finite shifts keep
// the f32 pass: they give the same non-finite values in either.
inline bool shifts_fit_f32(std::span<const double> shifts) {
  for (const double v : shifts) {
    if (std::fabs(v) >= 0x1p103 && std::isfinite(v)) return false;
  }
  return true;
}

// to[i] = from[i] rounded to f32; entries of `to` past from.size() (the streaming
// passes' coefficient_pad, streaming.hpp) repeat the first ones cyclically.
inline void round_to_f32(std::span<const double> from, std::span<float> to) {
  for (std::size_t i = 0; i < from.size(); ++i) to[i] = static_cast<float>(from[i]);
  for (std::size_t i = from.size(); i < to.size(); ++i) to[i] = to[i - from.size()];
}

// y of one value or one vector (GCC and Clang give __m256 and __m512 the
// arithmetic operators): written once, so every loop and every variant rounds alike.
template <class V>
V normalized(V x, V shift, V scale, V offset) {
  return (x - shift) * scale + offset;
}

// dx with batch statistics, ((dy - mean_dy) - (x - mean) slope) scale, of one value
// or one vector (the vector types have the arithmetic operators): written once, so
// every loop and every variant rounds alike. (With running statistics dx = dy scale.)
template <class V>
V batch_input_gradient(V x, V dy, V mean, V scale, V mean_dy, V slope) {
  return ((dy - mean_dy) - (x - mean) * slope) * scale;
}

template <class S, class T>
void normalize(const geometry& g, const S* x, S* y, std::span<const T> shift,
               std::span<const T> scale, std::span<const T> offset) {
  const std::int64_t channels = g.channels;
  if (g.m == 0 || channels == 0) return;
  if (g.channels_innermost) {
    const T* sh = shift.data();
    const T* sc = scale.data();
    const T* of = offset.data();
#if BNCONFORM_CPU_STREAMING
    if constexpr (streamable<S, T>) {
      // Large tensors: streaming stores (streaming.hpp), the same arithmetic.
      if (streams<S>(g, std::min({shift.size(), scale.size(), offset.size()}), 2)) {
        stream_channels_last(
            g.m * channels, channels, y,
            [&](std::int64_t p, std::int64_t c, f32v& lo, f32v& hi) {
              load_step(x + p, lo, hi);
              lo = normalized(lo, load_f32v(sh + c), load_f32v(sc + c), load_f32v(of + c));
              if constexpr (std::is_same_v<S, bf16_bits>) {
                constexpr int half = bf16_step / 2;
                hi = normalized(hi, load_f32v(sh + c + half), load_f32v(sc + c + half),
                                load_f32v(of + c + half));
              }
            },
            [&](std::int64_t p, std::int64_t c) {
              return normalized(static_cast<T>(widen(x[p])), sh[c], sc[c], of[c]);
            });
        return;
      }
    }
#endif
    parallel_for(g.m, channels, [&](std::int64_t r) {
      const S* in = x + r * channels;
      S* out = y + r * channels;
      std::int64_t c = 0;
#if defined(__AVX2__)
      if constexpr (std::is_same_v<S, bf16_bits> && std::is_same_v<T, float>) {
        constexpr int half = bf16_step / 2;
        for (; c + bf16_step <= channels; c += bf16_step) {
          f32v a, b;
          widen_step(in + c, a, b);
          a = normalized(a, load_f32v(sh + c), load_f32v(sc + c), load_f32v(of + c));
          b = normalized(b, load_f32v(sh + c + half), load_f32v(sc + c + half),
                         load_f32v(of + c + half));
          narrow_step(out + c, a, b);
        }
      }
#endif
      for (; c < channels; ++c) {
        out[c] = narrow<S>(normalized(static_cast<T>(widen(in[c])), sh[c], sc[c], of[c]));
      }
    });
  } else {
    const std::int64_t spatial = g.spatial;
#if BNCONFORM_CPU_STREAMING
    if constexpr (streamable<S, T>) {
      if (streams<S>(g, 0, 2)) {  // large tensors: streaming stores, the same arithmetic
        parallel_for(g.batch * channels, spatial, [&](std::int64_t row) {
          const auto c = static_cast<std::size_t>(row % channels);
          const T sh = shift[c], sc = scale[c], of = offset[c];
          const f32v vsh = splat(sh), vsc = splat(sc), vof = splat(of);
          const S* in = x + row * spatial;
          stream_values(
              spatial, y + row * spatial,
              [&](std::int64_t s, f32v& lo, f32v& hi) {
                load_step(in + s, lo, hi);
                lo = normalized(lo, vsh, vsc, vof);
                if constexpr (std::is_same_v<S, bf16_bits>) hi = normalized(hi, vsh, vsc, vof);
              },
              [&](std::int64_t s) { return normalized(static_cast<T>(widen(in[s])), sh, sc, of); });
        });
        return;
      }
    }
#endif
    parallel_for(g.batch * channels, spatial, [&](std::int64_t row) {
      const auto c = static_cast<std::size_t>(row % channels);
      const T sh = shift[c], sc = scale[c], of = offset[c];
      const S* in = x + row * spatial;
      S* out = y + row * spatial;
      std::int64_t s = 0;
#if defined(__AVX2__)
      if constexpr (std::is_same_v<S, bf16_bits> && std::is_same_v<T, float>) {
        const f32v vsh = splat(sh), vsc = splat(sc), vof = splat(of);
        for (; s + bf16_step <= spatial; s += bf16_step) {
          f32v a, b;
          widen_step(in + s, a, b);
          narrow_step(out + s, normalized(a, vsh, vsc, vof), normalized(b, vsh, vsc, vof));
        }
        if constexpr (bf16_has_part) {
          for (; s < spatial; s += 16) {
            const std::int64_t n = spatial - s < 16 ? spatial - s : 16;
            narrow_part(out + s, n, normalized(widen_part(in + s, n), vsh, vsc, vof));
          }
        }
      }
#endif
      for (; s < spatial; ++s) {
        out[s] = narrow<S>(normalized(static_cast<T>(widen(in[s])), sh, sc, of));
      }
    });
  }
}

}  // namespace BNCONFORM_CPU_ISA
}  // namespace bnconform::cpu
