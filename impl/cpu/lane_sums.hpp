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

// Eight f64 lanes as two GCC/Clang vectors of four (one AVX2 register each, two
// SSE2 registers in the baseline variant): the channels-first inner loops are
// written on them directly, because the auto-vectorizer's handling of the lane
// arrays above turned out to depend on how the caller was inlined (a refactoring
// turned the loop scalar). Values past the last full group of eight go to a scalar
// tail, added to lane 0 at the end. The arithmetic is elementwise and its order
// fixed, so every variant rounds the same.
typedef double f64x4 __attribute__((vector_size(32)));
typedef float f32x4 __attribute__((vector_size(16)));

// p[0..4) widened to f64, exactly.
template <class S>
inline void load_wide(const S* p, f64x4& out) {
  if constexpr (std::is_same_v<S, double>) {
    std::memcpy(&out, p, sizeof out);
  } else {
    f32x4 narrow;
    if constexpr (std::is_same_v<S, float>) {
      std::memcpy(&narrow, p, sizeof narrow);
#if defined(__AVX2__)
    } else if constexpr (std::is_same_v<S, bf16_bits>) {
      // Four bf16 widened by a zero extension and a shift in two instructions
      // (element by element the compiler inserted them one at a time).
      const __m128i bits = _mm_slli_epi32(
          _mm_cvtepu16_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p))), 16);
      narrow = __builtin_bit_cast(f32x4, bits);
#endif
    } else {
      float values[4];
      for (int l = 0; l < 4; ++l) values[l] = widen(p[l]);
      std::memcpy(&narrow, values, sizeof narrow);
    }
    out = __builtin_convertvector(narrow, f64x4);
  }
}

// Forward sums of one channels-first block in f64 (data computed in f32).
class shifted_sums_x8 {
 public:
  explicit shifted_sums_x8(double k) : k_(k), shift_{k, k, k, k} {}
  template <class S>
  void add8(const S* p) {
    f64x4 a, b;
    load_wide(p, a);
    load_wide(p + 4, b);
    a -= shift_;
    b -= shift_;
    s1a_ += a;
    s1b_ += b;
    s2a_ += a * a;
    s2b_ += b * b;
  }
  template <class S>
  void add1(const S* p) {
    const double d = static_cast<double>(widen(*p)) - k_;
    t1_ += d;
    t2_ += d * d;
  }
  // Lane l's sums (lane 0 includes the tail).
  double sum1(int l) const { return lane(s1a_, s1b_, l) + (l == 0 ? t1_ : 0.0); }
  double sum2(int l) const { return lane(s2a_, s2b_, l) + (l == 0 ? t2_ : 0.0); }

 private:
  static double lane(const f64x4& a, const f64x4& b, int l) { return l < 4 ? a[l] : b[l - 4]; }
  double k_;
  f64x4 shift_;
  f64x4 s1a_{}, s1b_{}, s2a_{}, s2b_{};
  double t1_ = 0, t2_ = 0;
};

// Backward sums of one channels-first block in f64.
class gradient_sums_x8 {
 public:
  explicit gradient_sums_x8(double mu) : mu_(mu), mean_{mu, mu, mu, mu} {}
  template <class S>
  void add8(const S* x, const S* dy) {
    f64x4 xa, xb, ga, gb;
    load_wide(x, xa);
    load_wide(x + 4, xb);
    load_wide(dy, ga);
    load_wide(dy + 4, gb);
    s1a_ += ga;
    s1b_ += gb;
    s2a_ += ga * (xa - mean_);
    s2b_ += gb * (xb - mean_);
  }
  template <class S>
  void add1(const S* x, const S* dy) {
    const double g = static_cast<double>(widen(*dy));
    t1_ += g;
    t2_ += g * (static_cast<double>(widen(*x)) - mu_);
  }
  double sum1(int l) const { return lane(s1a_, s1b_, l) + (l == 0 ? t1_ : 0.0); }
  double sum2(int l) const { return lane(s2a_, s2b_, l) + (l == 0 ? t2_ : 0.0); }

 private:
  static double lane(const f64x4& a, const f64x4& b, int l) { return l < 4 ? a[l] : b[l - 4]; }
  double mu_;
  f64x4 mean_;
  f64x4 s1a_{}, s1b_{}, s2a_{}, s2b_{};
  double t1_ = 0, t2_ = 0;
};

// Forward and backward sums of a channels-last tile in f64: lane = channel, four
// channels per vector; channels past the last group of four in scalar tails.
template <int Lanes>
class tile_sums {
 public:
  // `shift` (forward: a value of the block per channel; backward: the mean).
  void start(const double* shift, int width) {
    width_ = width;
    groups_ = width / 4;
    for (int q = 0; q < groups_; ++q) {
      shift_[q] = f64x4{shift[4 * q], shift[4 * q + 1], shift[4 * q + 2], shift[4 * q + 3]};
      s1_[q] = f64x4{};
      s2_[q] = f64x4{};
    }
    for (int j = 4 * groups_; j < width; ++j) {
      tail_shift_[j - 4 * groups_] = shift[j];
      t1_[j - 4 * groups_] = t2_[j - 4 * groups_] = 0;
    }
  }
  // Forward: s1 += x - shift, s2 += (x - shift)^2 for one row of the tile.
  template <class S>
  void add_row(const S* p) {
    for (int q = 0; q < groups_; ++q) {
      f64x4 d;
      load_wide(p + 4 * q, d);
      d -= shift_[q];
      s1_[q] += d;
      s2_[q] += d * d;
    }
    for (int j = 4 * groups_; j < width_; ++j) {
      const double d = static_cast<double>(widen(p[j])) - tail_shift_[j - 4 * groups_];
      t1_[j - 4 * groups_] += d;
      t2_[j - 4 * groups_] += d * d;
    }
  }
  // Backward: s1 += dy, s2 += dy (x - mean) for one row of the tile.
  template <class S>
  void add_row(const S* x, const S* dy) {
    for (int q = 0; q < groups_; ++q) {
      f64x4 v, g;
      load_wide(x + 4 * q, v);
      load_wide(dy + 4 * q, g);
      s1_[q] += g;
      s2_[q] += g * (v - shift_[q]);
    }
    for (int j = 4 * groups_; j < width_; ++j) {
      const double g = static_cast<double>(widen(dy[j]));
      t1_[j - 4 * groups_] += g;
      t2_[j - 4 * groups_] += g * (static_cast<double>(widen(x[j])) - tail_shift_[j - 4 * groups_]);
    }
  }
  double sum1(int l) const { return l < 4 * groups_ ? s1_[l / 4][l % 4] : t1_[l - 4 * groups_]; }
  double sum2(int l) const { return l < 4 * groups_ ? s2_[l / 4][l % 4] : t2_[l - 4 * groups_]; }

 private:
  int width_ = 0, groups_ = 0;
  f64x4 shift_[Lanes / 4], s1_[Lanes / 4], s2_[Lanes / 4];
  double tail_shift_[4], t1_[4], t2_[4];
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
