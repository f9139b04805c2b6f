#pragma once
// Non-temporal ("streaming") stores for the elementwise passes of large tensors
// (forward y, backward dx), in the x86-64-v4 variant.
//
// A normal store of a line that is not in the cache first reads it (read for
// ownership): writing y costs a read and a write of y. Streaming stores write whole
// 64-byte lines without reading them, so a pass that reads x and writes y moves two
// tensors' worth of memory instead of three. They also bypass the cache, which
// loses when the data would have stayed in it: so a pass streams only when the
// call's tensors (x and y forward; x, dy and dx backward) come to at least
// streaming_threshold() bytes (default 64 MiB, twice the development machine's
// last-level cache). Measured there, two builds run alternately (2 threads;
// README.md, "Speed"): f32 32x64x112x112 channels-last forward eval 6.3 -> 4.7 ms,
// 32x128x56x56 2.9 -> 2.3 ms; with 25.7 MB tensors (32x64x56x56 f32) the backward
// 0.9-0.95x the time but the forward eval 1.15-1.2x, and 32x512x7x7 (3.2 MB)
// 0.05 -> 0.09 ms, hence the threshold.
//
// A channels-first pass streams each row (one channel's coefficients). A
// channels-last pass walks the tensor as one flat array (value p is channel p mod
// C) in 64-byte steps aligned on the output: a step may run from the end of one row
// into the next, so the coefficient arrays carry coefficient_pad entries past the last
// channel that repeat the first ones (round_to_f32 fills them). The arithmetic per value
// is the one of the row loops, in the same order, so the bits are the same
// (variant_test.cpp compares them, at every offset of the output from a 64-byte
// boundary).
#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "call_plan.hpp"
#include "isa_namespace.hpp"
#include "storage.hpp"
#include "threading.hpp"

// The passes that stream are compiled where this is 1 (x86-64-v4).
#if defined(__AVX512F__) && defined(__AVX512BW__)
#define BNCONFORM_CPU_STREAMING 1
#else
#define BNCONFORM_CPU_STREAMING 0
#endif

namespace bnconform::cpu {

// Passes whose call touches at least this many bytes of tensors stream (where the
// variant can); set_...(b) fixes it for later calls (tests use 0 to stream
// everything), b < 0 restores the default (64 MiB).
std::int64_t streaming_threshold();
void set_streaming_threshold(std::int64_t bytes);

// Entries past the last channel that the streaming passes read (one step of values).
inline constexpr std::size_t coefficient_pad = 32;

inline namespace BNCONFORM_CPU_ISA {

#if BNCONFORM_CPU_STREAMING

// The storage types whose passes can stream (computed in f32: T = float).
template <class S, class T>
inline constexpr bool streamable = std::is_same_v<T, float> &&
                                   (std::is_same_v<S, float> || std::is_same_v<S, bf16_bits>);

// Whether a pass over g writing values of type S, in a call that touches `tensors`
// tensors of that size, streams: channels-last given coefficient arrays of
// `coefficients` entries (at least 32 channels); channels-first with rows of at
// least 256 values (shorter rows would spend their time before the first boundary
// and after the last step).
template <class S>
bool streams(const geometry& g, std::size_t coefficients, int tensors) {
  const std::int64_t bytes = g.m * g.channels * static_cast<std::int64_t>(sizeof(S));
  if (tensors * bytes < streaming_threshold()) return false;
  if (!g.channels_innermost) return g.spatial >= 256;
  return g.channels >= static_cast<std::int64_t>(coefficient_pad) &&
         coefficients >= static_cast<std::size_t>(g.channels) + coefficient_pad;
}

// One 64-byte step of results (16 floats or 32 bf16, `lo` the first 16), streamed
// to p (64-byte aligned).
inline void stream_step(float* p, f32v lo, f32v) { _mm512_stream_ps(p, lo); }
inline void stream_step(bf16_bits* p, f32v lo, f32v hi) {
  _mm512_stream_si512(reinterpret_cast<__m512i*>(p), bf16_rounded_pair(lo, hi));
}

// The values [p, p + 16 or 32) of a flat input as f32 vectors (`hi` for bf16 only).
inline void load_step(const float* p, f32v& lo, f32v&) { lo = _mm512_loadu_ps(p); }
inline void load_step(const bf16_bits* p, f32v& lo, f32v& hi) { widen_step(p, lo, hi); }

// out[s] for s in [0, length): normal stores up to the first 64-byte boundary of
// out and after the last whole step, streaming stores between. scalar(s) returns
// value s's result, vector(s, lo, hi) those of the step starting at s (called in
// order of s); their arithmetic must be the same. Ends with a store fence, so the
// streamed lines are visible before the threads join.
template <class S, class Vector, class Scalar>
void stream_values(std::int64_t length, S* out, const Vector& vector, const Scalar& scalar) {
  constexpr std::int64_t step = 64 / sizeof(S);
  std::int64_t s = 0;
  for (; s < length && reinterpret_cast<std::uintptr_t>(out + s) % 64 != 0; ++s) {
    out[s] = narrow<S>(scalar(s));
  }
  for (; s + step <= length; s += step) {
    f32v lo, hi;
    vector(s, lo, hi);
    stream_step(out + s, lo, hi);
  }
  for (; s < length; ++s) out[s] = narrow<S>(scalar(s));
  _mm_sfence();
}

// A channels-last pass: out[p] for p in [0, values) as one flat array, in tasks of
// 2^16 values; scalar(p, c) and vector(p, c, lo, hi) as above, c = p mod channels.
// The step loop is written out here rather than through stream_values: its channel
// counter and the body's captured pointers then stay in registers, where a counter
// shared with a nested lambda went through memory after every streaming store
// (the bf16 store's type may alias anything). The pass took 1.3-1.4x the
// channels-first pass's time at the same size before, 1.0x after (impl/cpu/RESULTS.md,
// "The channels-last streaming loop written out").
template <class S, class Vector, class Scalar>
void stream_channels_last(std::int64_t values, std::int64_t channels, S* out, const Vector& vector,
                          const Scalar& scalar) {
  constexpr std::int64_t step = 64 / sizeof(S);
  constexpr std::int64_t per_task = std::int64_t{1} << 16;
  parallel_for((values + per_task - 1) / per_task, per_task, [&](std::int64_t t) {
    const Vector body = vector;  // a local copy: its captures cannot alias the output
    const std::int64_t first = t * per_task;
    const std::int64_t end = first + per_task < values ? first + per_task : values;
    S* const o = out;
    std::int64_t p = first;
    for (; p < end && reinterpret_cast<std::uintptr_t>(o + p) % 64 != 0; ++p) {
      o[p] = narrow<S>(scalar(p, p % channels));
    }
    std::int64_t c = p % channels;  // the channel of the next step
    for (; p + step <= end; p += step) {
      f32v lo, hi;
      body(p, c, lo, hi);
      stream_step(o + p, lo, hi);
      c += step;
      if (c >= channels) c -= channels;
    }
    for (; p < end; ++p) o[p] = narrow<S>(scalar(p, p % channels));
    _mm_sfence();
  });
}
#endif

}  // namespace BNCONFORM_CPU_ISA
}  // namespace bnconform::cpu
