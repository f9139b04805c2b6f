// Every value the runner prints reads back to the same bits, in every dtype, with
// -0, subnormals, NaN and the infinities; and generated cases are reproducible.
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli/generated_case.hpp"
#include "core/case_runner.hpp"
#include "core/float_bits.hpp"
#include "core/rounding.hpp"

namespace bnconform {
namespace {

// Edge values and bit patterns spread over the whole format, all values of t.
std::vector<double> values_for(dtype t) {
  const binary_format f = format_of(t);
  std::vector<double> v = {0.0,
                           -0.0,
                           1.0,
                           -1.0,
                           0.1,
                           1.0 / 3.0,
                           std::ldexp(1.0, f.min_exponent - f.precision + 1),  // min subnormal
                           std::ldexp(1.0, f.min_exponent),                    // min normal
                           std::ldexp(2.0 - std::ldexp(1.0, 1 - f.precision), f.max_exponent),
                           std::numeric_limits<double>::quiet_NaN(),
                           std::numeric_limits<double>::infinity(),
                           -std::numeric_limits<double>::infinity()};
  cli::splitmix64 bits(42);
  for (int i = 0; i < 2000; ++i) {
    const std::uint64_t r = bits.next();
    switch (t) {
      case dtype::f64: v.push_back(std::bit_cast<double>(r)); break;
      case dtype::f32: v.push_back(std::bit_cast<float>(static_cast<std::uint32_t>(r))); break;
      case dtype::f16: v.push_back(decode_f16(static_cast<std::uint16_t>(r))); break;
      case dtype::bf16: v.push_back(decode_bf16(static_cast<std::uint16_t>(r))); break;
    }
  }
  for (double& x : v) x = round_to(x, t);  // 0.1 and 1/3 become values of t
  return v;
}

tensor tensor_of(dtype t) {
  const std::vector<double> v = values_for(t);
  return tensor::from_values(t, v);
}

double read_back(const nlohmann::json& j, dtype t) {
  const double v = j.is_string() ? parse_real(j.get<std::string>(), "value") : j.get<double>();
  return round_to(v, t);
}

class CaseOutputTest : public testing::TestWithParam<dtype> {};

TEST_P(CaseOutputTest, EveryValueReadsBackBitwise) {
  const dtype t = GetParam();
  for (bool hex : {false, true}) {
    for (double v : values_for(t)) {
      const nlohmann::json token = nlohmann::json::parse(json_value(v, t, hex));
      EXPECT_TRUE(same_value(read_back(token, t), v))
          << json_value(v, t, hex) << " from " << hex_float(v) << " in " << name_of(t);
    }
  }
}

TEST_P(CaseOutputTest, TheResultDocumentReadsBackBitwise) {
  const dtype t = GetParam();
  step_result step;
  step.status = "ok";
  step.outputs.push_back({"y", tensor_of(t)});
  case_result result{"k", "1", "case.json", {step}};
  for (bool hex : {false, true}) {
    const auto doc = nlohmann::json::parse(to_json(result, hex));
    EXPECT_EQ(doc.at("ok"), true);
    const auto& y = doc.at("steps").at(0).at("outputs").at("y");
    EXPECT_EQ(y.at("dtype"), std::string(name_of(t)));
    const tensor& original = step.outputs[0].values;
    ASSERT_EQ(static_cast<std::int64_t>(y.at("values").size()), original.size());
    for (std::int64_t i = 0; i < original.size(); ++i) {
      const auto& token = y.at("values").at(static_cast<std::size_t>(i));
      ASSERT_TRUE(same_value(read_back(token, t), original.get(i)))
          << token.dump() << " for " << hex_float(original.get(i));
    }
  }
}

INSTANTIATE_TEST_SUITE_P(CaseDtypes, CaseOutputTest,
                         testing::Values(dtype::f64, dtype::f32, dtype::f16, dtype::bf16),
                         [](const testing::TestParamInfo<dtype>& p) {
                           return std::string(name_of(p.param));
                         });

TEST(CaseOutputFormatTest, NegativeZeroAndNonFiniteValues) {
  EXPECT_EQ(json_value(-0.0, dtype::f32, false), "-0.0");
  EXPECT_EQ(json_value(0.0, dtype::f32, false), "0");
  EXPECT_EQ(json_value(1.5, dtype::f16, false), "1.5");
  EXPECT_EQ(json_value(std::nan(""), dtype::f64, false), "\"nan\"");
  EXPECT_EQ(json_value(-INFINITY, dtype::bf16, false), "\"-inf\"");
  EXPECT_EQ(json_value(3.0, dtype::f32, true), "\"0x1.8p+1\"");
  EXPECT_EQ(json_value(static_cast<double>(0.1f), dtype::f32, false), "0.1");
}

TEST(CaseGeneratorTest, SplitMix64IsTheReferenceSequence) {
  // The first outputs for seed 0 of Vigna's splitmix64.c.
  cli::splitmix64 g(0);
  EXPECT_EQ(g.next(), 0xe220a8397b1dcdafull);
  EXPECT_EQ(g.next(), 0x6e789e6aa1b965f4ull);
  EXPECT_EQ(g.next(), 0x06c45d188009454full);
}

TEST(CaseGeneratorTest, ValuesAreInRangeAndExactInTheDtype) {
  for (dtype t : {dtype::f64, dtype::f32, dtype::f16, dtype::bf16}) {
    cli::splitmix64 g(7);
    for (int i = 0; i < 1000; ++i) {
      const double v = g.uniform_pm2(t);
      EXPECT_TRUE(v >= -2 && v < 2) << v;
      EXPECT_TRUE(same_value(round_to(v, t), v)) << hex_float(v);
    }
  }
}

TEST(CaseGeneratorTest, AGeneratedCaseIsReproducibleAndReadsBack) {
  const problem p = problem::parse("shape=3x2x2,dtype=bf16,layout=channels_last");
  const case_file a = cli::generate_case(p, 5, true);
  const case_file b = cli::generate_case(p, 5, true);
  const case_file other = cli::generate_case(p, 6, true);
  ASSERT_EQ(a.steps.size(), 2u);
  EXPECT_TRUE(a.steps[0].x->bitwise_equal(*b.steps[0].x));
  EXPECT_TRUE(a.steps[1].dy.bitwise_equal(b.steps[1].dy));
  EXPECT_FALSE(a.steps[0].x->bitwise_equal(*other.steps[0].x));
  const case_file back = parse_case(to_json(a, false), "generated.json");
  EXPECT_EQ(back.base, p);
  ASSERT_EQ(back.steps.size(), 2u);
  EXPECT_TRUE(back.steps[0].x->bitwise_equal(*a.steps[0].x));
  EXPECT_TRUE(back.steps[1].dy.bitwise_equal(a.steps[1].dy));
  EXPECT_EQ(cli::generate_case(p, 5, false).steps.size(), 1u);
}

}  // namespace
}  // namespace bnconform
