#pragma once
// The elementwise passes: y = (x - shift_c) * scale_c + offset_c (forward), in the
// compute precision T, one read and one write per element.
//
// The form (x - mean) * scale + beta, rather than x * scale + (beta - mean * scale),
// keeps a constant channel exact: x - mean is exactly 0 there, so y == beta
// (semantics.md); and it has no cancellation between two large products on offset
// data (tolerance.md's |d xhat| budget).
#include <cstdint>
#include <span>

#include "blocks.hpp"
#include "isa_namespace.hpp"
#include "storage.hpp"
#include "threading.hpp"

namespace bnconform::cpu {
inline namespace BNCONFORM_CPU_ISA {

template <class S, class T>
void normalize(const geometry& g, const S* x, S* y, std::span<const T> shift,
               std::span<const T> scale, std::span<const T> offset) {
  const std::int64_t channels = g.channels;
  if (g.m == 0 || channels == 0) return;
  if (g.channels_innermost) {
    const T* sh = shift.data();
    const T* sc = scale.data();
    const T* of = offset.data();
    parallel_for(g.m, channels, [&](std::int64_t r) {
      const S* in = x + r * channels;
      S* out = y + r * channels;
      for (std::int64_t c = 0; c < channels; ++c) {
        out[c] = narrow<S>((static_cast<T>(widen(in[c])) - sh[c]) * sc[c] + of[c]);
      }
    });
  } else {
    const std::int64_t spatial = g.spatial;
    parallel_for(g.batch * channels, spatial, [&](std::int64_t row) {
      const auto c = static_cast<std::size_t>(row % channels);
      const T sh = shift[c], sc = scale[c], of = offset[c];
      const S* in = x + row * spatial;
      S* out = y + row * spatial;
      for (std::int64_t s = 0; s < spatial; ++s) {
        out[s] = narrow<S>((static_cast<T>(widen(in[s])) - sh) * sc + of);
      }
    });
  }
}

}  // namespace BNCONFORM_CPU_ISA
}  // namespace bnconform::cpu
