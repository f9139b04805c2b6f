// The case generator: repro lines read back, fills are deterministic and are what
// their kind says, exact fills are exact in any summation order, and the edge cases
// are reached (RC_CLASSIFY's counts).
#include "properties/generated_case.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>

#include "impl/mutants/model_kernel.hpp"
#include "properties/runner.hpp"
#include "reference/reference_kernel.hpp"

namespace bnconform::properties {
namespace {

generated_case make_case(const std::string& problem_text, value_kind kind, std::uint64_t seed) {
  return {problem::parse(problem_text), kind, seed};
}

TEST(GeneratedCase, TheReproLineReadsBack) {
  const generated_case c =
      make_case("shape=4x3x5,dtype=f16,layout=channels_last,momentum=none,eps=0", value_kind::tiny,
                0xdeadbeef12345678ull);
  const generated_case back = parse_case(c.repro());
  EXPECT_EQ(back.p, c.p);
  EXPECT_EQ(back.kind, c.kind);
  EXPECT_EQ(back.seed, c.seed);
  EXPECT_EQ(back.repro(), c.repro());
  EXPECT_THROW(parse_case("kind=tiny seed=1"), std::exception);
  EXPECT_THROW(parse_case("problem=shape=2x2 kind=odd seed=1"), std::exception);
}

TEST(GeneratedCase, FillsAreAFunctionOfTheCase) {
  for (const value_kind kind : all_value_kinds()) {
    const generated_case c = make_case("shape=6x3x7,dtype=f32", kind, 42);
    const case_inputs a = make_inputs(c), b = make_inputs(c);
    EXPECT_TRUE(a.x.bitwise_equal(b.x)) << name_of(kind);
    EXPECT_TRUE(a.dy.bitwise_equal(b.dy)) << name_of(kind);
    EXPECT_FALSE(a.x.bitwise_equal(make_inputs(c, 1).x)) << name_of(kind);
    EXPECT_FALSE(a.x.bitwise_equal(make_inputs(make_case("shape=6x3x7,dtype=f32", kind, 43)).x))
        << name_of(kind);
  }
}

// Every channel's mean is exact whatever the order of an f32 sum.
TEST(GeneratedCase, ExactFillsAreExactInAnyOrder) {
  for (const char* text :
       {"shape=64x3x33,dtype=f32", "shape=1024x2x64,dtype=f32", "shape=16x2x9,dtype=f16",
        "shape=16x2x9,dtype=bf16", "shape=9x2x5,dtype=f64"}) {
    for (std::uint64_t seed = 1; seed <= 5; ++seed) {
      const generated_case c = make_case(text, value_kind::exact_fill, seed);
      const problem& p = c.p;
      const case_inputs in = make_inputs(c);
      std::mt19937_64 shuffle(seed);
      for (std::int64_t ch = 0; ch < p.channels(); ++ch) {
        std::vector<double> v;
        for (std::int64_t k = 0; k < p.reduction_size(); ++k) {
          v.push_back(in.x.get(p.offset(k / p.spatial_size(), ch, k % p.spatial_size())));
        }
        long double exact = 0;  // 64 significand bits: exact for every fill here
        for (const double x : v) exact += x;
        for (int order = 0; order < 4; ++order) {
          std::shuffle(v.begin(), v.end(), shuffle);
          // In the compute type: f64 for f64 data, f32 otherwise.
          float sum32 = 0;
          double sum64 = 0;
          for (const double x : v) sum32 += static_cast<float>(x), sum64 += x;
          const double sum = p.data_type() == dtype::f64 ? sum64 : static_cast<double>(sum32);
          ASSERT_EQ(static_cast<long double>(sum), exact) << text << " seed " << seed;
        }
        const long double mean = exact / static_cast<long double>(v.size());
        if (p.data_type() != dtype::f64) {
          EXPECT_EQ(static_cast<long double>(static_cast<float>(mean)), mean) << text;
        } else {
          EXPECT_EQ(static_cast<long double>(static_cast<double>(mean)), mean) << text;
        }
      }
    }
  }
}

TEST(GeneratedCase, KindsMakeTheirValues) {
  const auto stats = [](value_kind kind, const char* text) {
    const case_inputs in = make_inputs(make_case(text, kind, 7));
    struct {
      int nan = 0, inf = 0, subnormal = 0;
      double largest = 0;
    } s;
    for (std::int64_t i = 0; i < in.x.size(); ++i) {
      const double v = in.x.get(i);
      s.nan += std::isnan(v);
      s.inf += std::isinf(v);
      s.subnormal += v != 0 && std::abs(v) < 0x1p-126;
      if (std::isfinite(v)) s.largest = std::max(s.largest, std::abs(v));
    }
    return s;
  };
  EXPECT_GT(stats(value_kind::tiny, "shape=16x2x8,dtype=f32").subnormal, 0);
  EXPECT_GT(stats(value_kind::near_overflow, "shape=16x2x8,dtype=f32").largest, 1e17);
  const auto sprinkled = stats(value_kind::sprinkled_nonfinite, "shape=16x4x8,dtype=f32");
  EXPECT_GT(sprinkled.nan + sprinkled.inf, 0);
  EXPECT_GT(stats(value_kind::raw_bits, "shape=64x2x8,dtype=f32").subnormal +
                stats(value_kind::raw_bits, "shape=64x2x8,dtype=f32").nan,
            0);
  // Large offsets: |mean| / std beyond 1e2 in every channel.
  const generated_case c = make_case("shape=64x3x4,dtype=f32", value_kind::large_offset, 3);
  const case_inputs in = make_inputs(c);
  for (std::int64_t ch = 0; ch < 3; ++ch) {
    double sum = 0, squares = 0;
    const auto m = static_cast<double>(c.p.reduction_size());
    for (std::int64_t k = 0; k < c.p.reduction_size(); ++k)
      sum += in.x.get(c.p.offset(k / 4, ch, k % 4));
    for (std::int64_t k = 0; k < c.p.reduction_size(); ++k) {
      const double d = in.x.get(c.p.offset(k / 4, ch, k % 4)) - sum / m;
      squares += d * d;
    }
    EXPECT_GT(std::abs(sum / m) / std::sqrt(squares / m), 50.0) << ch;
  }
}

// The battery reaches its edge cases: every kind, every dtype the kernel declares,
// eps 0 and large, momentum None, 0 and 1, degenerate and large sizes, both layouts,
// every rank. Counted with RC_TAG by the runner.
TEST(GeneratedCase, TheEdgeCasesAreReached) {
  const kernel k(reference::reference_kernel(128));
  run_options opt;
  opt.seed = 11;
  opt.cases_per_property = 400;
  opt.properties = {property_id::power_of_two_scaling};  // cheap: no reference call
  opt.limits.usual_elements = 256;
  opt.limits.large_elements = 8192;
  opt.limits.large_one_in = 20;
  battery_report report = run_properties(k, opt);
  // That property's kinds; forward-matches-reference takes every kind (checked below).
  const auto& classes = report.properties.at(0).classes;
  for (const char* tag : {"dtype:f64",
                          "dtype:f32",
                          "dtype:f16",
                          "dtype:bf16",
                          "layout:channels_first",
                          "layout:channels_last",
                          "mode:train",
                          "mode:eval",
                          "rank:2",
                          "rank:3",
                          "rank:4",
                          "rank:5",
                          "eps:0",
                          "eps:large",
                          "momentum:none",
                          "momentum:0",
                          "momentum:1",
                          "affine:off",
                          "track:off",
                          "size:empty",
                          "size:m=1",
                          "size:large",
                          "kind:exact-fill",
                          "kind:large-offset",
                          "kind:constant-channels",
                          "kind:sprinkled-nonfinite"}) {
    EXPECT_GT(classes.count(tag) ? classes.at(tag) : 0, 0) << tag << "\n" << report.describe();
  }
  std::printf("%s", report.describe().c_str());
  for (const auto& [tag, count] : classes) std::printf("  %s: %d\n", tag.c_str(), count);

  // Every value kind, through the property that takes them all.
  const kernel model(&mutants::correct_models()[1].kernel);  // pairwise
  run_options all_kinds = opt;
  all_kinds.cases_per_property = 150;
  all_kinds.properties = {property_id::forward_matches_reference};
  all_kinds.level = check::level::standard;
  all_kinds.reference_bits = 128;
  all_kinds.kinds = {value_kind::normal,
                     value_kind::uniform,
                     value_kind::exact_fill,
                     value_kind::large_offset,
                     value_kind::near_overflow,
                     value_kind::tiny,
                     value_kind::constant_channels,
                     value_kind::heavy_tail,
                     value_kind::raw_bits,
                     value_kind::sprinkled_nonfinite,
                     value_kind::offset_gradient};
  report = run_properties(model, all_kinds);
  EXPECT_TRUE(report.passed()) << report.describe();
  for (const value_kind kind : all_value_kinds()) {
    const std::string tag = "kind:" + std::string(name_of(kind));
    const auto& seen = report.properties.at(0).classes;
    EXPECT_GT(seen.count(tag) ? seen.at(tag) : 0, 0) << tag << "\n" << report.describe();
  }
}

}  // namespace
}  // namespace bnconform::properties
