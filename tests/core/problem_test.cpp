// Tests of core/problem: the canonical string, parsing and its errors, the memory
// layout (offset), the derived sizes, and the ABI descriptor.
#include "core/problem.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <numeric>
#include <optional>
#include <string>
#include <vector>

#include "core/error.hpp"

namespace bnconform {
namespace {

using ::testing::HasSubstr;

// what() of the bnconform::error that parsing `text` throws; fails the test (and
// returns "") when it parses or throws anything else.
std::string parse_error(const std::string& text) {
  try {
    const problem p = problem::parse(text);
    ADD_FAILURE() << "'" << text << "' parsed as " << p.to_string();
  } catch (const error& e) {
    return e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "'" << text << "' threw a non-bnconform exception: " << e.what();
  }
  return "";
}

// Stores an out-of-range value in an enum field of a descriptor, as a C caller
// (or a corrupted struct) can: the enums of the ABI are int-sized.
template <class E>
void store_raw(E& field, int value) {
  static_assert(sizeof(E) == sizeof(int));
  std::memcpy(&field, &value, sizeof value);
}

std::string abi_error(const bnc_problem& d) {
  try {
    const problem p = from_abi(d);
    ADD_FAILURE() << "from_abi accepted " << p.to_string();
  } catch (const error& e) {
    return e.what();
  }
  return "";
}

// Every combination of the fields (about 40 000 problems): the generator of the
// round-trip tests.
std::vector<problem> many_problems() {
  std::vector<problem> out;
  const std::vector<std::optional<double>> momenta = {std::nullopt, 0.0, 1.0, 0.1};
  const std::vector<double> epsilons = {0.0, 1e-5, 1e-300, 0.1};
  for (dtype t : {dtype::f64, dtype::f32, dtype::f16, dtype::bf16}) {
    for (layout l : {layout::channels_first, layout::channels_last}) {
      for (mode m : {mode::training, mode::eval}) {
        for (profile pr :
             {profile::pytorch, profile::onnx, profile::keras, profile::tf_fused, profile::flax}) {
          for (int rank = 2; rank <= 6; ++rank) {
            for (const auto& momentum : momenta) {
              for (double eps : epsilons) {
                for (bool affine : {true, false}) {
                  for (bool track : {true, false}) {
                    problem::fields f;
                    // Extents 2, 3, 4, ... with a zero extent in one of every few
                    // shapes so that empty problems are covered too.
                    for (int i = 0; i < rank; ++i) f.shape.push_back(i + 2);
                    if (out.size() % 7 == 0) f.shape[out.size() % rank] = 0;
                    f.layout = l;
                    f.data_type = t;
                    f.mode = m;
                    f.eps = eps;
                    f.momentum = momentum;
                    f.affine = affine;
                    f.track_running_stats = track;
                    f.profile = pr;
                    out.emplace_back(std::move(f));
                  }
                }
              }
            }
          }
        }
      }
    }
  }
  return out;
}

TEST(ProblemString, RoundTripsEveryCombination) {
  const std::vector<problem> problems = many_problems();
  ASSERT_EQ(problems.size(), 4u * 2 * 2 * 5 * 5 * 4 * 4 * 2 * 2);
  for (const problem& p : problems) {
    const std::string text = p.to_string();
    const problem back = problem::parse(text);
    ASSERT_EQ(back, p) << text;
    ASSERT_EQ(back.to_string(), text);
  }
}

TEST(ProblemString, DistinctProblemsHaveDistinctStrings) {
  // The string is an identity: two problems that differ in any field must not
  // share a string (else the round trip above could pass by collapsing fields).
  const std::vector<problem> problems = many_problems();
  std::vector<std::string> strings;
  for (const problem& p : problems) strings.push_back(p.to_string());
  std::sort(strings.begin(), strings.end());
  EXPECT_EQ(std::adjacent_find(strings.begin(), strings.end()), strings.end());
}

TEST(ProblemString, CanonicalFormIsTheDocumentedOne) {
  // The example line of problem.hpp, field by field.
  problem::fields f;
  f.shape = {8, 3, 4, 4};
  const problem p(f);
  EXPECT_EQ(p.to_string(),
            "shape=8x3x4x4,layout=channels_first,dtype=f32,mode=train,eps=1e-05,momentum=0.1,"
            "affine=true,track=true,profile=pytorch");
  problem::fields g = f;
  g.shape = {2, 5};
  g.layout = layout::channels_last;
  g.data_type = dtype::bf16;
  g.mode = mode::eval;
  g.eps = 0;
  g.momentum = std::nullopt;
  g.affine = false;
  g.track_running_stats = false;
  g.profile = profile::tf_fused;
  EXPECT_EQ(problem(g).to_string(),
            "shape=2x5,layout=channels_last,dtype=bf16,mode=eval,eps=0,momentum=none,"
            "affine=false,track=false,profile=tf-fused");
}

TEST(ProblemString, ExtremeValuesRoundTripBitwise) {
  // Values whose shortest decimal is long or subnormal must still read back to
  // the same bits (operator== compares eps and momentum bitwise).
  for (double eps : {std::numeric_limits<double>::denorm_min(), std::numeric_limits<double>::max(),
                     0.1 + 0.2, std::nextafter(1e-5, 1.0), -0.0}) {
    for (double momentum :
         {std::nextafter(1.0, 0.0), std::numeric_limits<double>::denorm_min(), 1.0 / 3.0}) {
      problem::fields f;
      f.shape = {3, 2, 7};
      f.eps = eps;
      f.momentum = momentum;
      const problem p(f);
      const problem back = problem::parse(p.to_string());
      EXPECT_EQ(back, p) << p.to_string();
      EXPECT_EQ(std::bit_cast<std::uint64_t>(back.eps()), std::bit_cast<std::uint64_t>(eps));
      EXPECT_EQ(std::bit_cast<std::uint64_t>(*back.momentum()),
                std::bit_cast<std::uint64_t>(momentum));
    }
  }
}

TEST(ProblemParse, OnlyShapeGivesPyTorchDefaults) {
  // torch.nn.BatchNorm2d(C): eps=1e-5, momentum=0.1, affine=True,
  // track_running_stats=True, a fresh module is in training mode, the default
  // dtype is float32 and the default memory format is contiguous (NCHW).
  const problem p = problem::parse("shape=8x3x4x4");
  EXPECT_EQ(p.shape().size(), 4u);
  EXPECT_EQ(std::vector<std::int64_t>(p.shape().begin(), p.shape().end()),
            (std::vector<std::int64_t>{8, 3, 4, 4}));
  EXPECT_EQ(p.layout(), layout::channels_first);
  EXPECT_EQ(p.data_type(), dtype::f32);
  EXPECT_EQ(p.stats_type(), dtype::f32);
  EXPECT_EQ(p.mode(), mode::training);
  EXPECT_EQ(p.eps(), 1e-5);
  ASSERT_TRUE(p.momentum().has_value());
  EXPECT_EQ(*p.momentum(), 0.1);
  EXPECT_TRUE(p.affine());
  EXPECT_TRUE(p.track_running_stats());
  EXPECT_EQ(p.profile(), profile::pytorch);
}

TEST(ProblemParse, AcceptsEveryFieldAndSpaces) {
  const problem p = problem::parse(
      "  momentum = none , shape=1x2x3 ,dtype=f16,layout=channels_last,mode=eval,eps=0x1p-4,"
      "affine=0,track=1,profile=keras\n");
  EXPECT_EQ(std::vector<std::int64_t>(p.shape().begin(), p.shape().end()),
            (std::vector<std::int64_t>{1, 2, 3}));
  EXPECT_EQ(p.layout(), layout::channels_last);
  EXPECT_EQ(p.data_type(), dtype::f16);
  EXPECT_EQ(p.stats_type(), dtype::f32);
  EXPECT_EQ(p.mode(), mode::eval);
  EXPECT_EQ(p.eps(), 0.0625);  // 0x1p-4 = 2^-4
  EXPECT_FALSE(p.momentum().has_value());
  EXPECT_FALSE(p.affine());
  EXPECT_TRUE(p.track_running_stats());
  EXPECT_EQ(p.profile(), profile::keras);
  EXPECT_EQ(problem::parse("shape=2x2,dtype=f64").stats_type(), dtype::f64);
}

TEST(ProblemParse, LayoutAndModeAliases) {
  for (const char* alias : {"channels_first", "cf", "nchw", "ncl", "ncdhw", "nc"}) {
    EXPECT_EQ(problem::parse(std::string("shape=2x3,layout=") + alias).layout(),
              layout::channels_first)
        << alias;
  }
  for (const char* alias : {"channels_last", "cl", "nhwc", "nlc", "ndhwc"}) {
    EXPECT_EQ(problem::parse(std::string("shape=2x3,layout=") + alias).layout(),
              layout::channels_last)
        << alias;
  }
  EXPECT_EQ(problem::parse("shape=2x3,mode=train").mode(), mode::training);
  EXPECT_EQ(problem::parse("shape=2x3,mode=training").mode(), mode::training);
  EXPECT_EQ(problem::parse("shape=2x3,mode=eval").mode(), mode::eval);
  // Aliases are read but never written: the canonical string uses the full name.
  EXPECT_THAT(problem::parse("shape=2x3,layout=nhwc,mode=training").to_string(),
              HasSubstr("layout=channels_last,dtype=f32,mode=train,"));
}

struct bad_string {
  const char* text;
  const char* field;  // what the message must name
};

TEST(ProblemParse, EveryErrorNamesTheField) {
  const bad_string cases[] = {
      {"", "empty"},
      {"   ", "empty"},
      {"dtype=f32", "shape"},
      {"mode=eval,eps=0", "shape"},
      {"shape=2x3,colour=red", "colour"},
      {"shape=2x3,=1", "unknown key"},
      {"shape=2x3,dtype=f32,dtype=f64", "dtype"},
      {"shape=2x3,shape=2x3", "given twice"},
      {"shape=2x3,affine", "affine"},
      {"shape=2x3,", "not key=value"},
      {"shape=2x3,,mode=eval", "not key=value"},
      {"shape=2x", "shape"},
      {"shape=x3", "shape"},
      {"shape=", "shape"},
      {"shape=2xx3", "shape"},
      {"shape=2x-1", "shape"},
      {"shape=2xa", "shape"},
      {"shape=2x3.5", "shape"},
      {"shape=+2x3", "shape"},
      {"shape=2 x 3", "shape"},
      {"shape=5", "shape"},
      {"shape=99999999999999999999x2", "shape"},
      {"shape=4294967296x4294967296x4", "shape"},
      {"shape=3037000500x3037000500", "shape"},  // (2^31.5)^2 just above 2^63 - 1
      {"shape=2x3,eps=nan", "eps"},
      {"shape=2x3,eps=-1", "eps"},
      {"shape=2x3,eps=inf", "eps"},
      {"shape=2x3,eps=-inf", "eps"},
      {"shape=2x3,eps=1e999", "eps"},
      {"shape=2x3,eps=", "eps"},
      {"shape=2x3,eps=1e-5x", "eps"},
      {"shape=2x3,momentum=1.5", "momentum"},
      {"shape=2x3,momentum=-0.1", "momentum"},
      {"shape=2x3,momentum=nan", "momentum"},
      {"shape=2x3,momentum=None", "momentum"},
      {"shape=2x3,momentum=inf", "momentum"},
      {"shape=2x3,affine=yes", "affine"},
      {"shape=2x3,affine=True", "affine"},
      {"shape=2x3,track=2", "track"},
      {"shape=2x3,dtype=f8", "dtype"},
      {"shape=2x3,dtype=F32", "dtype"},
      {"shape=2x3,layout=nchwc", "layout"},
      {"shape=2x3,mode=test", "mode"},
      {"shape=2x3,profile=tf_fused", "profile"},
      {"shape=2x3,profile=jax", "profile"},
  };
  for (const bad_string& c : cases) {
    EXPECT_THAT(parse_error(c.text), HasSubstr(c.field)) << "input: '" << c.text << "'";
  }
}

TEST(ProblemParse, ErrorsQuoteTheOffendingText) {
  EXPECT_THAT(parse_error("shape=2x3,colour=red"), HasSubstr("'colour'"));
  EXPECT_THAT(parse_error("shape=2xa"), HasSubstr("2xa"));
  EXPECT_THAT(parse_error("shape=2x3,profile=jax"), HasSubstr("jax"));
  EXPECT_THAT(parse_error("shape=2x3,momentum=1.5"), HasSubstr("1.5"));
}

// An unknown profile is one line that lists every known one.
TEST(ProblemParse, UnknownProfileListsTheKnownOnes) {
  const std::string e = parse_error("shape=2x3,profile=jax");
  EXPECT_EQ(e.find('\n'), std::string::npos) << e;
  for (const char* name : {"pytorch", "onnx", "keras", "tf-fused", "flax"}) {
    EXPECT_THAT(e, HasSubstr(name));
  }
}

// docs/semantics.md#conventions-by-profile: each profile's eps and momentum when the
// string leaves them out; a value given is kept whatever the profile.
TEST(ProblemParse, DefaultsAreTheProfiles) {
  struct defaults {
    const char* name;
    double eps, momentum;
  };
  for (const defaults& d :
       {defaults{"pytorch", 1e-5, 0.1}, defaults{"onnx", 1e-5, 0.9}, defaults{"keras", 1e-3, 0.99},
        defaults{"tf-fused", 1e-4, 1.0}, defaults{"flax", 1e-5, 0.99}}) {
    const problem p = problem::parse(std::string("shape=2x3,profile=") + d.name);
    EXPECT_EQ(p.eps(), d.eps) << d.name;
    EXPECT_EQ(p.momentum(), d.momentum) << d.name;
    const problem given =
        problem::parse(std::string("shape=2x3,eps=0.5,momentum=0.25,profile=") + d.name);
    EXPECT_EQ(given.eps(), 0.5) << d.name;
    EXPECT_EQ(given.momentum(), 0.25) << d.name;
    EXPECT_FALSE(problem::parse(std::string("shape=2x3,momentum=none,profile=") + d.name)
                     .momentum()
                     .has_value());
    // The canonical string states both, so it means the same under every default.
    EXPECT_EQ(problem::parse(p.to_string()), p) << d.name;
  }
}

TEST(ProblemFields, ConstructorValidates) {
  auto error_of = [](problem::fields f) -> std::string {
    try {
      const problem p(std::move(f));
    } catch (const error& e) {
      return e.what();
    }
    return "";
  };
  problem::fields ok;
  ok.shape = {2, 3};
  EXPECT_EQ(error_of(ok), "");
  problem::fields f = ok;
  f.shape = {4};
  EXPECT_THAT(error_of(f), HasSubstr("shape"));
  f.shape = {};
  EXPECT_THAT(error_of(f), HasSubstr("shape"));
  f.shape = {2, -3};
  EXPECT_THAT(error_of(f), HasSubstr("shape"));
  f = ok;
  f.eps = std::numeric_limits<double>::quiet_NaN();
  EXPECT_THAT(error_of(f), HasSubstr("eps"));
  f = ok;
  f.momentum = std::nextafter(1.0, 2.0);
  EXPECT_THAT(error_of(f), HasSubstr("momentum"));
  f.momentum = 1.0;
  EXPECT_EQ(error_of(f), "");
  f.momentum = 0.0;
  EXPECT_EQ(error_of(f), "");
}

TEST(ProblemFields, WithModeAndWithShapeChangeOnlyThatField) {
  const problem p = problem::parse("shape=2x3x4,dtype=f16,momentum=none,affine=false");
  const problem e = p.with_mode(mode::eval);
  EXPECT_EQ(e.mode(), mode::eval);
  EXPECT_EQ(e.to_string(), problem::parse("shape=2x3x4,dtype=f16,momentum=none,affine=false,"
                                          "mode=eval")
                               .to_string());
  const problem s = p.with_shape({5, 6});
  EXPECT_EQ(s, problem::parse("shape=5x6,dtype=f16,momentum=none,affine=false"));
  EXPECT_THROW((void)p.with_shape({5}), error);
}

TEST(ProblemOffset, MatchesStridesOfBothLayouts) {
  // 2x3x4x5 (N, C, H, W), s = h * 5 + w. Row-major strides:
  //   NCHW: n 60, c 20, h 5, w 1;   NHWC: n 60, h 15, w 3, c 1.
  const problem cf = problem::parse("shape=2x3x4x5,layout=channels_first");
  const problem cl = problem::parse("shape=2x3x4x5,layout=channels_last");
  for (std::int64_t n = 0; n < 2; ++n) {
    for (std::int64_t c = 0; c < 3; ++c) {
      for (std::int64_t h = 0; h < 4; ++h) {
        for (std::int64_t w = 0; w < 5; ++w) {
          const std::int64_t s = h * 5 + w;
          EXPECT_EQ(cf.offset(n, c, s), n * 60 + c * 20 + h * 5 + w);
          EXPECT_EQ(cl.offset(n, c, s), n * 60 + h * 15 + w * 3 + c);
        }
      }
    }
  }
  // Two worked by hand: (1, 2, s=3) is h=0, w=3.
  EXPECT_EQ(cf.offset(1, 2, 3), 103);  // 60 + 40 + 3
  EXPECT_EQ(cl.offset(1, 2, 3), 71);   // 60 + 0 + 9 + 2
}

TEST(ProblemOffset, IsAPermutationOfAllElements) {
  for (const char* shape : {"2x3", "1x1", "2x3x4x5", "3x2x1x4x2", "2x5x7", "4x1x3x2x2x2"}) {
    for (const char* l : {"channels_first", "channels_last"}) {
      const problem p = problem::parse(std::string("shape=") + shape + ",layout=" + l);
      std::vector<std::int64_t> offsets;
      for (std::int64_t n = 0; n < p.batch(); ++n) {
        for (std::int64_t c = 0; c < p.channels(); ++c) {
          for (std::int64_t s = 0; s < p.spatial_size(); ++s) offsets.push_back(p.offset(n, c, s));
        }
      }
      ASSERT_EQ(static_cast<std::int64_t>(offsets.size()), p.element_count());
      std::sort(offsets.begin(), offsets.end());
      std::vector<std::int64_t> all(offsets.size());
      std::iota(all.begin(), all.end(), 0);
      EXPECT_EQ(offsets, all) << p.to_string();
    }
  }
}

TEST(ProblemOffset, LayoutsAgreeOnlyWhereTheyMust) {
  // With one channel or with no spatial extent the two layouts are the same
  // memory order; with both C > 1 and S > 1 they differ somewhere.
  for (const char* shape : {"4x1x3x3", "4x5"}) {
    const problem cf = problem::parse(std::string("shape=") + shape);
    const problem cl = problem::parse(std::string("shape=") + shape + ",layout=cl");
    for (std::int64_t n = 0; n < cf.batch(); ++n)
      for (std::int64_t c = 0; c < cf.channels(); ++c)
        for (std::int64_t s = 0; s < cf.spatial_size(); ++s)
          EXPECT_EQ(cf.offset(n, c, s), cl.offset(n, c, s));
  }
  const problem cf = problem::parse("shape=1x2x2");
  const problem cl = problem::parse("shape=1x2x2,layout=cl");
  EXPECT_EQ(cf.offset(0, 0, 1), 1);
  EXPECT_EQ(cl.offset(0, 0, 1), 2);
}

TEST(ProblemSizes, SpatialReductionAndElementCount) {
  struct row {
    const char* shape;
    std::int64_t spatial, reduction, elements;  // S1*...*Sk, N*S, N*C*S
  };
  const row rows[] = {
      {"8x3", 1, 8, 24},  {"8x3x4x4", 16, 128, 384}, {"2x3x4x5x6x7", 840, 1680, 5040},
      {"0x3x4", 4, 0, 0}, {"2x0x4", 4, 8, 0},        {"2x3x0x5", 0, 0, 0},
      {"0x0", 1, 0, 0},   {"1x1x1x1x1x1", 1, 1, 1},  {"1x4294967296", 1, 1, std::int64_t{1} << 32},
  };
  for (const row& r : rows) {
    const problem p = problem::parse(std::string("shape=") + r.shape);
    EXPECT_EQ(p.spatial_size(), r.spatial) << r.shape;
    EXPECT_EQ(p.reduction_size(), r.reduction) << r.shape;
    EXPECT_EQ(p.element_count(), r.elements) << r.shape;
  }
}

TEST(ProblemSizes, AcceptedProblemsHaveAReductionSizeThatFits) {
  // A zero extent makes the element count 0, which fits, but N * S need not:
  // 2^32 x 0 x 2^32 has m = N * S = 2^64. Either the problem is rejected, or its
  // reduction_size() is representable (checked here without overflowing).
  for (const char* shape :
       {"4294967296x0x4294967296", "4294967296x0x65536x65536", "3037000500x0x3037000500"}) {
    try {
      const problem p = problem::parse(std::string("shape=") + shape);
      EXPECT_LE(p.batch(), std::numeric_limits<std::int64_t>::max() / p.spatial_size())
          << shape << " is accepted but N * S overflows int64 in reduction_size()";
    } catch (const error& e) {
      EXPECT_THAT(e.what(), HasSubstr("shape"));
    }
  }
}

TEST(ProblemSizes, UsesBatchStatistics) {
  EXPECT_TRUE(problem::parse("shape=2x3,mode=train").uses_batch_statistics());
  EXPECT_TRUE(problem::parse("shape=2x3,mode=train,track=false").uses_batch_statistics());
  EXPECT_FALSE(problem::parse("shape=2x3,mode=eval").uses_batch_statistics());
  EXPECT_TRUE(problem::parse("shape=2x3,mode=eval,track=false").uses_batch_statistics());
}

TEST(ProblemAbi, RoundTripsEveryCombination) {
  for (const problem& p : many_problems()) {
    const bnc_problem d = p.to_abi();
    ASSERT_EQ(d.struct_size, sizeof(bnc_problem));
    ASSERT_EQ(d.rank, p.rank());
    ASSERT_EQ(d.shape, p.shape().data());
    ASSERT_EQ(d.momentum_is_none, p.momentum() ? 0 : 1);
    ASSERT_EQ(from_abi(d), p) << p.to_string();
  }
}

TEST(ProblemAbi, DescriptorFieldsMatchTheHeader) {
  const problem p = problem::parse(
      "shape=2x3x5,layout=cl,dtype=bf16,mode=eval,eps=0.5,momentum=0.25,affine=false,"
      "track=true,profile=onnx");
  const bnc_problem d = p.to_abi();
  EXPECT_EQ(d.rank, 3);
  EXPECT_EQ(d.shape[0], 2);
  EXPECT_EQ(d.shape[1], 3);
  EXPECT_EQ(d.shape[2], 5);
  EXPECT_EQ(d.layout, BNC_LAYOUT_CHANNELS_LAST);
  EXPECT_EQ(d.data_dtype, BNC_DTYPE_BF16);
  EXPECT_EQ(d.stats_dtype, BNC_DTYPE_F32);
  EXPECT_EQ(d.mode, BNC_MODE_EVAL);
  EXPECT_EQ(d.profile, BNC_PROFILE_ONNX);
  EXPECT_EQ(d.eps, 0.5);
  EXPECT_EQ(d.momentum, 0.25);
  EXPECT_EQ(d.momentum_is_none, 0);
  EXPECT_EQ(d.affine, 0);
  EXPECT_EQ(d.track_running_stats, 1);
  const bnc_problem d64 = problem::parse("shape=2x3,dtype=f64,profile=tf-fused").to_abi();
  EXPECT_EQ(d64.data_dtype, BNC_DTYPE_F64);
  EXPECT_EQ(d64.stats_dtype, BNC_DTYPE_F64);
  EXPECT_EQ(d64.profile, BNC_PROFILE_TF_FUSED);
  EXPECT_EQ(problem::parse("shape=2x3,profile=flax").to_abi().profile, BNC_PROFILE_FLAX);
  EXPECT_EQ(static_cast<int>(BNC_PROFILE_FLAX), 4);  // the value is ABI: never renumbered
  EXPECT_EQ(d64.layout, BNC_LAYOUT_CHANNELS_FIRST);
  EXPECT_EQ(d64.mode, BNC_MODE_TRAINING);
}

TEST(ProblemAbi, FromAbiRejectsMalformedDescriptors) {
  const problem p = problem::parse("shape=2x3x4");
  const bnc_problem good = p.to_abi();
  ASSERT_EQ(from_abi(good), p);

  bnc_problem d = good;
  d.rank = 1;
  EXPECT_THAT(abi_error(d), HasSubstr("rank"));
  d.rank = 0;
  EXPECT_THAT(abi_error(d), HasSubstr("rank"));
  d.rank = -3;
  EXPECT_THAT(abi_error(d), HasSubstr("rank"));

  d = good;
  d.shape = nullptr;
  EXPECT_THAT(abi_error(d), HasSubstr("shape"));

  const std::int64_t negative[] = {2, -1, 4};
  d = good;
  d.shape = negative;
  EXPECT_THAT(abi_error(d), HasSubstr("negative"));

  const std::int64_t overflowing[] = {std::int64_t{1} << 32, std::int64_t{1} << 32, 2};
  d = good;
  d.shape = overflowing;
  EXPECT_THAT(abi_error(d), HasSubstr("overflow"));

  d = good;
  d.stats_dtype = BNC_DTYPE_F64;  // f32 data takes f32 statistics
  EXPECT_THAT(abi_error(d), HasSubstr("stats dtype"));
  d = good;
  d.data_dtype = BNC_DTYPE_F64;  // f64 data with f32 statistics
  EXPECT_THAT(abi_error(d), HasSubstr("stats dtype"));

  d = good;
  store_raw(d.data_dtype, 4);
  EXPECT_THAT(abi_error(d), HasSubstr("bnc_dtype"));
  d = good;
  store_raw(d.stats_dtype, -1);
  EXPECT_THAT(abi_error(d), HasSubstr("bnc_dtype"));
  d = good;
  store_raw(d.layout, 2);
  EXPECT_THAT(abi_error(d), HasSubstr("bnc_layout"));
  d = good;
  store_raw(d.mode, 7);
  EXPECT_THAT(abi_error(d), HasSubstr("bnc_mode"));
  d = good;
  store_raw(d.profile, 5);  // one past BNC_PROFILE_FLAX
  EXPECT_THAT(abi_error(d), HasSubstr("bnc_profile"));
  d = good;
  store_raw(d.profile, -1);
  EXPECT_THAT(abi_error(d), HasSubstr("bnc_profile"));

  d = good;
  d.struct_size = sizeof(bnc_problem) - 1;
  EXPECT_THAT(abi_error(d), HasSubstr("struct_size"));
  d.struct_size = 0;
  EXPECT_THAT(abi_error(d), HasSubstr("struct_size"));
  d.struct_size = sizeof(bnc_problem) + 16;  // a newer caller's bigger struct is fine
  EXPECT_EQ(from_abi(d), p);

  d = good;
  d.eps = -1;
  EXPECT_THAT(abi_error(d), HasSubstr("eps"));
  d = good;
  d.momentum = 2;
  EXPECT_THAT(abi_error(d), HasSubstr("momentum"));
  d.momentum_is_none = 1;  // the momentum value is ignored when it is None
  EXPECT_FALSE(from_abi(d).momentum().has_value());
}

// The element strides place every element where offset() does, in both layouts and
// at every rank.
TEST(ProblemTest, ElementStridesAgreeWithOffset) {
  for (const char* text :
       {"shape=3x4", "shape=3x4,layout=cl", "shape=2x3x5", "shape=2x3x5,layout=cl", "shape=2x3x4x5",
        "shape=2x3x4x5,layout=cl", "shape=2x3x2x4x5,layout=cl"}) {
    const problem p = problem::parse(text);
    const std::vector<std::int64_t> strides = p.element_strides();
    ASSERT_EQ(strides.size(), static_cast<std::size_t>(p.rank())) << text;
    const auto shape = p.shape();
    for (std::int64_t n = 0; n < p.batch(); ++n) {
      for (std::int64_t c = 0; c < p.channels(); ++c) {
        for (std::int64_t s = 0; s < p.spatial_size(); ++s) {
          // s as the row-major index over S1, ..., Sk.
          std::int64_t index = n * strides[0] + c * strides[1];
          std::int64_t rest = s;
          for (int d = p.rank() - 1; d >= 2; --d) {
            index +=
                (rest % shape[static_cast<std::size_t>(d)]) * strides[static_cast<std::size_t>(d)];
            rest /= shape[static_cast<std::size_t>(d)];
          }
          EXPECT_EQ(index, p.offset(n, c, s)) << text;
        }
      }
    }
  }
}

}  // namespace
}  // namespace bnconform
