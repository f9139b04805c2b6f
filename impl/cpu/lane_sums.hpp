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
