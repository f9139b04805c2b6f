#pragma once
// The inner loops of the two reductions, as "lanes": independent running sums that
// the compiler keeps in SIMD registers. In channels-first blocks the lanes are W
// interleaved partial sums of one channel; in channels-last blocks each lane is one
// channel of a tile. A value always goes to the same lane for a given problem, so
// the sums are deterministic.
//
// Precision (README.md, "Accuracy"): for f32, f16 and bf16 data the sums are f64;
// for f64 data they are double-double, with exact differences (two_sum) and exact
// squares and products (two_product). Low parts accumulate without renormalizing
// (Ogita, Rump and Oishi's Sum2 cascade): their own error is O(n u^2).
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "double_double.hpp"
#include "isa_namespace.hpp"
#include "storage.hpp"

namespace bnconform::cpu {
inline namespace BNCONFORM_CPU_ISA {

// Asks the cache for the line `bytes` past p, ahead of its use. The address is formed
// as an integer: it may lie past the end of the data (a prefetch never faults, but a
// pointer past the end would be undefined behaviour).
inline void prefetch_ahead(const void* p, std::int64_t bytes) {
  __builtin_prefetch(reinterpret_cast<const void*>(reinterpret_cast<std::uintptr_t>(p) +
                                                   static_cast<std::uintptr_t>(bytes)));
}

// The accumulator type for storage S: double for data computed in f32, double-double
// for f64 data.
template <class S>
using accumulator_for = std::conditional_t<std::is_same_v<S, double>, dd, double>;

// The shift of a block: one of its values, or 0 when that value is not finite (an
// infinite shift would make every difference NaN and hide a +Inf mean).
inline double usable_shift(double v) { return std::isfinite(v) ? v : 0.0; }

// Forward: per lane, s1 = sum (x - shift) and s2 = sum (x - shift)^2.
template <class Acc, int Lanes>
struct shifted_sums {
  double shift[Lanes];
  double s1[Lanes], s2[Lanes];
  double s1_lo[Lanes], s2_lo[Lanes];  // used by the double-double variant only

  void reset(int lanes) {
    for (int l = 0; l < lanes; ++l) s1[l] = s2[l] = s1_lo[l] = s2_lo[l] = 0;
  }

  // Adds p[j] to lane first + j for j in [0, n).
  template <class S>
  void add_run(const S* p, int n, int first) {
    if constexpr (std::is_same_v<Acc, double>) {
      for (int j = 0; j < n; ++j) {
        const int l = first + j;
        const double d = static_cast<double>(widen(p[j])) - shift[l];
        s1[l] += d;
        s2[l] += d * d;
      }
    } else {
      for (int j = 0; j < n; ++j) {
        const int l = first + j;
        double dh, dl, t, e, p2, q;
        two_sum(static_cast<double>(widen(p[j])), -shift[l], dh, dl);  // exact x - shift
        two_sum(s1[l], dh, t, e);
        s1[l] = t;
        s1_lo[l] += e + dl;
        two_product(dh, dh, p2, q);  // (dh + dl)^2 = p2 + q + 2 dh dl + dl^2 (dl^2 < u^2)
        q += 2 * dh * dl;
        two_sum(s2[l], p2, t, e);
        s2[l] = t;
        s2_lo[l] += e + q;
      }
    }
  }

  Acc sum1(int l) const { return value(s1[l], s1_lo[l]); }
  Acc sum2(int l) const { return value(s2[l], s2_lo[l]); }

 private:
  static Acc value(double hi, double lo) {
    if constexpr (std::is_same_v<Acc, double>) {
      (void)lo;
      return hi;
    } else {
      return renormalize(hi, lo);
    }
  }
};

// The f64 inner loops are written on GCC/Clang vectors of W doubles: W = 8 (one
// AVX-512 register) in the x86-64-v4 variant, else W = 4 (one AVX2 register, two
// SSE2 registers in the baseline). They are written on vectors directly because the
// auto-vectorizer's handling of the lane arrays above turned out to depend on how
// the caller was inlined (a refactoring turned the loop scalar). The lanes are the
// same whatever W (W only decides how many lanes one instruction handles), and the
// arithmetic is elementwise in a fixed order, so every variant rounds the same.
#if defined(__AVX512F__)
inline constexpr int wide_lanes = 8;
#else
inline constexpr int wide_lanes = 4;
#endif
typedef double f64xW __attribute__((vector_size(8 * wide_lanes)));
typedef float f32xW __attribute__((vector_size(4 * wide_lanes)));
typedef std::uint16_t u16xW __attribute__((vector_size(2 * wide_lanes)));
typedef std::uint32_t u32xW __attribute__((vector_size(4 * wide_lanes)));

// p[0..W) widened to f64, exactly.
template <class S>
inline void load_wide(const S* p, f64xW& out) {
#if defined(__AVX512F__)
  // Intrinsics here: GCC lowers the generic conversions below in 128-bit pieces
  // under x86-64-v4's 256-bit vector preference (five instructions more per load).
  if constexpr (std::is_same_v<S, float>) {
    out = _mm512_cvtps_pd(_mm256_loadu_ps(p));
    return;
  } else if constexpr (std::is_same_v<S, bf16_bits>) {
    const __m256i bits = _mm256_slli_epi32(
        _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))), 16);
    out = _mm512_cvtps_pd(_mm256_castsi256_ps(bits));
    return;
  }
#endif
  if constexpr (std::is_same_v<S, double>) {
    std::memcpy(&out, p, sizeof out);
  } else {
    f32xW narrow;
    if constexpr (std::is_same_v<S, float>) {
      std::memcpy(&narrow, p, sizeof narrow);
    } else if constexpr (std::is_same_v<S, bf16_bits>) {
      // A zero extension and a shift on the whole vector (element by element the
      // compiler inserted the values one at a time).
      u16xW bits;
      std::memcpy(&bits, p, sizeof bits);
      narrow = __builtin_bit_cast(f32xW, __builtin_convertvector(bits, u32xW) << 16);
    } else {
      float values[wide_lanes];
      for (int l = 0; l < wide_lanes; ++l) values[l] = widen(p[l]);
      std::memcpy(&narrow, values, sizeof narrow);
    }
    out = __builtin_convertvector(narrow, f64xW);
  }
}

// p[0..2W) widened to f64 as two vectors. For bf16 in x86-64-v4 one widening of
// sixteen values and two conversions, instead of two widenings of eight.
template <class S>
inline void load_wide_pair(const S* p, f64xW& lo, f64xW& hi) {
#if defined(__AVX512F__)
  if constexpr (std::is_same_v<S, bf16_bits>) {
    const __m512 f = _mm512_castsi512_ps(_mm512_slli_epi32(
        _mm512_cvtepu16_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p))), 16));
    lo = _mm512_cvtps_pd(_mm512_castps512_ps256(f));
    hi = _mm512_cvtps_pd(_mm512_extractf32x8_ps(f, 1));
    return;
  }
#endif
  load_wide(p, lo);
  load_wide(p + wide_lanes, hi);
}

// (An out parameter: returning a vector wider than the baseline's registers changes
// the ABI, and GCC warns.)
inline void splat_wide(double v, f64xW& out) {
  double values[wide_lanes];
  for (double& e : values) e = v;
  std::memcpy(&out, values, sizeof out);
}

// The eight lanes of a channels-first block as V vectors of W. Values past the last
// full group of eight go to a scalar tail, added to lane 0 at the end.
inline constexpr int lane_vectors = 8 / wide_lanes;

// Forward sums of one channels-first block in f64 (data computed in f32).
class shifted_sums_x8 {
 public:
  explicit shifted_sums_x8(double k) : k_(k) { splat_wide(k, shift_); }
  template <class S>
  void add8(const S* p) {
    for (int v = 0; v < lane_vectors; ++v) {
      f64xW a;
      load_wide(p + v * wide_lanes, a);
      a -= shift_;
      s1_[v] += a;
      s2_[v] += a * a;
    }
  }
  template <class S>
  void add1(const S* p) {
    const double d = static_cast<double>(widen(*p)) - k_;
    t1_ += d;
    t2_ += d * d;
  }
  // Lane l's sums (lane 0 includes the tail).
  double sum1(int l) const { return s1_[l / wide_lanes][l % wide_lanes] + (l == 0 ? t1_ : 0.0); }
  double sum2(int l) const { return s2_[l / wide_lanes][l % wide_lanes] + (l == 0 ? t2_ : 0.0); }

 private:
  double k_;
  f64xW shift_{};
  f64xW s1_[lane_vectors]{}, s2_[lane_vectors]{};
  double t1_ = 0, t2_ = 0;
};

// Backward sums of one channels-first block in f64.
class gradient_sums_x8 {
 public:
  explicit gradient_sums_x8(double mu) : mu_(mu) { splat_wide(mu, mean_); }
  template <class S>
  void add8(const S* x, const S* dy) {
    for (int v = 0; v < lane_vectors; ++v) {
      f64xW xv, g;
      load_wide(x + v * wide_lanes, xv);
      load_wide(dy + v * wide_lanes, g);
      s1_[v] += g;
      s2_[v] += g * (xv - mean_);
    }
  }
  template <class S>
  void add1(const S* x, const S* dy) {
    const double g = static_cast<double>(widen(*dy));
    t1_ += g;
    t2_ += g * (static_cast<double>(widen(*x)) - mu_);
  }
  double sum1(int l) const { return s1_[l / wide_lanes][l % wide_lanes] + (l == 0 ? t1_ : 0.0); }
  double sum2(int l) const { return s2_[l / wide_lanes][l % wide_lanes] + (l == 0 ? t2_ : 0.0); }

 private:
  double mu_;
  f64xW mean_{};
  f64xW s1_[lane_vectors]{}, s2_[lane_vectors]{};
  double t1_ = 0, t2_ = 0;
};

// Forward and backward sums of a channels-last tile in f64: lane = channel, W
// channels per vector; channels past the last group of W in scalar tails.
template <int Lanes>
class tile_sums {
 public:
  // `shift` (forward: a value of the block per channel; backward: the mean).
  void start(const double* shift, int width) {
    width_ = width;
    groups_ = width / wide_lanes;
    for (int q = 0; q < groups_; ++q) {
      std::memcpy(&shift_[q], shift + wide_lanes * q, sizeof(f64xW));
      s1_[q] = f64xW{};
      s2_[q] = f64xW{};
    }
    for (int j = wide_lanes * groups_; j < width; ++j) {
      tail_shift_[j - wide_lanes * groups_] = shift[j];
      t1_[j - wide_lanes * groups_] = t2_[j - wide_lanes * groups_] = 0;
    }
  }
  // Forward: s1 += x - shift, s2 += (x - shift)^2 for one row of the tile, from
  // vector `first` on.
  template <class S>
  void add_row(const S* p, int first = 0) {
    for (int q = first; q < groups_; ++q) {
      f64xW d;
      load_wide(p + wide_lanes * q, d);
      d -= shift_[q];
      s1_[q] += d;
      s2_[q] += d * d;
    }
    for (int j = wide_lanes * groups_; j < width_; ++j) {
      const double d = static_cast<double>(widen(p[j])) - tail_shift_[j - wide_lanes * groups_];
      t1_[j - wide_lanes * groups_] += d;
      t2_[j - wide_lanes * groups_] += d * d;
    }
  }
  // Backward: s1 += dy, s2 += dy (x - mean) for one row of the tile, from vector
  // `first` on.
  template <class S>
  void add_row(const S* x, const S* dy, int first = 0) {
    for (int q = first; q < groups_; ++q) {
      f64xW v, g;
      load_wide(x + wide_lanes * q, v);
      load_wide(dy + wide_lanes * q, g);
      s1_[q] += g;
      s2_[q] += g * (v - shift_[q]);
    }
    for (int j = wide_lanes * groups_; j < width_; ++j) {
      const double g = static_cast<double>(widen(dy[j]));
      t1_[j - wide_lanes * groups_] += g;
      t2_[j - wide_lanes * groups_] +=
          g * (static_cast<double>(widen(x[j])) - tail_shift_[j - wide_lanes * groups_]);
    }
  }
  // The same sums over `rows` rows `stride` values apart. Per run of register_groups
  // vectors of channels, all the rows with the run's sums and shifts in registers
  // (row by row, every sum is loaded and stored for every row); vectors past the last
  // full run and the scalar tail go row by row. The runs are used where the tile is
  // part of each row (stride > width) or is one run (64 channels with AVX-512); a
  // wider whole-row tile goes row by row, which streams through memory. Measured in
  // one process, the walks alternating call by call (2 threads, x86-64-v4; time with
  // runs / time without): 32x1024x14x14 f32 forward 0.74, 32x2048x7x7 0.88,
  // 32x64x56x56 forward f32 0.92, bf16 0.87, backward bf16 0.93; but 32x256x56x56
  // f32 forward 1.12 and 32x128x28x28 backward 1.22 (several runs per whole row;
  // taking 16 rows per run at a time did not help: 1.3 for f32). Every channel adds its rows in row
  // order either way, so the sums are the bits add_row gives (lane_sums_test.cpp).
  // The runs take their values two vectors at a time (load_wide_pair: bf16 widened
  // sixteen at a time in x86-64-v4): measured the same way, bf16 backward 0.91-0.98x
  // the time at 32x64x56x56, 32x512x14x14 and 32x64x112x112, forward 0.96-1.0x; in
  // add_row the pairs made the bf16 forward slower (1.07x at 32x128x28x28 and
  // 32x256x28x28), so it has none.
  template <class S>
  void add_rows(const S* p, std::int64_t stride, std::int64_t rows) {
    if (!runs_pay(stride)) {
      for (std::int64_t r = 0; r < rows; ++r) add_row(p + r * stride);
      return;
    }
    int q0 = 0;
    for (; q0 + register_groups <= groups_; q0 += register_groups) {
      f64xW a1[register_groups], a2[register_groups], sh[register_groups];
      load_run(q0, a1, a2, sh);
      for (std::int64_t r = 0; r < rows; ++r) {
        const S* row = p + r * stride + wide_lanes * q0;
        if (stride > width_) prefetch_run(row, stride);
#pragma GCC unroll 8
        for (int q = 0; q < register_groups; q += 2) {
          f64xW d[2];
          load_wide_pair(row + wide_lanes * q, d[0], d[1]);
          for (int h = 0; h < 2; ++h) {
            d[h] -= sh[q + h];
            a1[q + h] += d[h];
            a2[q + h] += d[h] * d[h];
          }
        }
      }
      store_run(q0, a1, a2);
    }
    if (q0 < groups_ || groups_ * wide_lanes < width_) {
      for (std::int64_t r = 0; r < rows; ++r) add_row(p + r * stride, q0);
    }
  }
  template <class S>
  void add_rows(const S* x, const S* dy, std::int64_t stride, std::int64_t rows) {
    if (!runs_pay(stride)) {
      for (std::int64_t r = 0; r < rows; ++r) add_row(x + r * stride, dy + r * stride);
      return;
    }
    int q0 = 0;
    for (; q0 + register_groups <= groups_; q0 += register_groups) {
      f64xW a1[register_groups], a2[register_groups], mu[register_groups];
      load_run(q0, a1, a2, mu);
      for (std::int64_t r = 0; r < rows; ++r) {
        const S* xr = x + r * stride + wide_lanes * q0;
        const S* gr = dy + r * stride + wide_lanes * q0;
        if (stride > width_) {
          prefetch_run(xr, stride);
          prefetch_run(gr, stride);
        }
#pragma GCC unroll 8
        for (int q = 0; q < register_groups; q += 2) {
          f64xW v[2], g[2];
          load_wide_pair(xr + wide_lanes * q, v[0], v[1]);
          load_wide_pair(gr + wide_lanes * q, g[0], g[1]);
          for (int h = 0; h < 2; ++h) {
            a1[q + h] += g[h];
            a2[q + h] += g[h] * (v[h] - mu[q + h]);
          }
        }
      }
      store_run(q0, a1, a2);
    }
    if (q0 < groups_ || groups_ * wide_lanes < width_) {
      for (std::int64_t r = 0; r < rows; ++r) add_row(x + r * stride, dy + r * stride, q0);
    }
  }

  double sum1(int l) const {
    return l < wide_lanes * groups_ ? s1_[l / wide_lanes][l % wide_lanes]
                                    : t1_[l - wide_lanes * groups_];
  }
  double sum2(int l) const {
    return l < wide_lanes * groups_ ? s2_[l / wide_lanes][l % wide_lanes]
                                    : t2_[l - wide_lanes * groups_];
  }

 private:
  // Vectors whose two sums and shift stay in registers: 3 x register_groups of
  // AVX-512's 32 registers (8 vectors: 64 channels), of AVX2's 16 (4: 16 channels),
  // of SSE2's 16 (2, a vector being two registers there).
#if defined(__AVX512F__)
  static constexpr int register_groups = 8;
#elif defined(__AVX2__)
  static constexpr int register_groups = 4;
#else
  static constexpr int register_groups = 2;
#endif
  static_assert(register_groups % 2 == 0, "the runs take vectors in pairs");
  bool runs_pay(std::int64_t stride) const { return stride > width_ || groups_ == register_groups; }
  // Where the runs stride over wider rows (stride > width), the run's piece of the
  // row 4 rows on is prefetched: the hardware prefetchers follow a stride of a few
  // KiB poorly. Measured with ab_variants (2 threads, x86-64-v4-bf16, in one
  // process against the same build without it, 3 runs): forward 32x512x28x28 bf16
  // 0.90-0.95x the time, 32x1024x14x14 f32 0.85-0.87x, 32x2048x7x7 bf16 1.0x;
  // backward 32x512x28x28 bf16 0.90-1.0x, 32x2048x7x7 f32 1.01-1.07x.
  template <class S>
  static void prefetch_run(const S* row, std::int64_t stride) {
    constexpr int bytes = register_groups * wide_lanes * static_cast<int>(sizeof(S));
    const std::int64_t ahead = 4 * stride * static_cast<std::int64_t>(sizeof(S));
    for (int b = 0; b < bytes; b += 64) prefetch_ahead(row, ahead + b);
  }
  void load_run(int q0, f64xW* a1, f64xW* a2, f64xW* shift) const {
    for (int q = 0; q < register_groups; ++q) {
      a1[q] = s1_[q0 + q];
      a2[q] = s2_[q0 + q];
      shift[q] = shift_[q0 + q];
    }
  }
  void store_run(int q0, const f64xW* a1, const f64xW* a2) {
    for (int q = 0; q < register_groups; ++q) {
      s1_[q0 + q] = a1[q];
      s2_[q0 + q] = a2[q];
    }
  }
  int width_ = 0, groups_ = 0;
  f64xW shift_[Lanes / wide_lanes], s1_[Lanes / wide_lanes], s2_[Lanes / wide_lanes];
  double tail_shift_[wide_lanes], t1_[wide_lanes], t2_[wide_lanes];
};

// Backward: per lane, s1 = sum dy and s2 = sum dy * (x - mean).
template <class Acc, int Lanes>
struct gradient_sums {
  double mean[Lanes];
  double s1[Lanes], s2[Lanes];
  double s1_lo[Lanes], s2_lo[Lanes];

  void reset(int lanes) {
    for (int l = 0; l < lanes; ++l) s1[l] = s2[l] = s1_lo[l] = s2_lo[l] = 0;
  }

  template <class S>
  void add_run(const S* x, const S* dy, int n, int first) {
    if constexpr (std::is_same_v<Acc, double>) {
      for (int j = 0; j < n; ++j) {
        const int l = first + j;
        const double g = static_cast<double>(widen(dy[j]));
        const double d = static_cast<double>(widen(x[j])) - mean[l];
        s1[l] += g;
        s2[l] += g * d;
      }
    } else {
      for (int j = 0; j < n; ++j) {
        const int l = first + j;
        const double g = static_cast<double>(widen(dy[j]));
        double dh, dl, t, e, p, q;
        two_sum(static_cast<double>(widen(x[j])), -mean[l], dh, dl);  // exact x - mean
        two_sum(s1[l], g, t, e);
        s1[l] = t;
        s1_lo[l] += e;
        two_product(g, dh, p, q);
        q += g * dl;
        two_sum(s2[l], p, t, e);
        s2[l] = t;
        s2_lo[l] += e + q;
      }
    }
  }

  Acc sum1(int l) const { return value(s1[l], s1_lo[l]); }
  Acc sum2(int l) const { return value(s2[l], s2_lo[l]); }

 private:
  static Acc value(double hi, double lo) {
    if constexpr (std::is_same_v<Acc, double>) {
      (void)lo;
      return hi;
    } else {
      return renormalize(hi, lo);
    }
  }
};

}  // namespace BNCONFORM_CPU_ISA
}  // namespace bnconform::cpu
