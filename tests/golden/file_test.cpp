// Golden files: the round trip, and a damaged, truncated or hand-edited file is a
// clear error naming the file and what is wrong, never a crash.
#include <gtest/gtest.h>

#include "core/error.hpp"
#include "support.hpp"

namespace bnconform::golden {
namespace {

using testing::cases_directory;
using testing::read_text;

const std::string& sample_path() {
  static const std::string path = cases_directory() + "/ops/ops.train.2x3x4x3.cl.f16.json";
  return path;
}

std::string error_of(const std::string& text) {
  try {
    parse_golden(text, "x.json");
  } catch (const error& e) {
    return e.what();
  }
  return "no error";
}

// A hand edit that also recomputes the checksum, so that what is behind it is read.
std::string resealed(std::string text) {
  const std::string key = "\"sha256\": \"";
  const std::size_t at = text.find(key) + key.size();
  text.replace(at, 64, std::string(64, '0'));
  text.replace(at, 64, sha256_hex(text));
  return text;
}

std::string replaced(std::string text, const std::string& from, const std::string& to) {
  const std::size_t at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) text.replace(at, from.size(), to);
  return text;
}

TEST(GoldenFile, ReadsBackToTheSameBytes) {
  const std::string text = read_text(sample_path());
  const golden_case g = parse_golden(text, sample_path());
  EXPECT_EQ(g.name, "ops.train.2x3x4x3.cl.f16");
  EXPECT_EQ(g.inputs.steps.size(), 2u);
  EXPECT_EQ(g.expected.steps.size(), 2u);
  // Writing it again gives equal data (outputs may come back in another order).
  EXPECT_EQ(to_json(parse_golden(to_text(g), "again").expected, true), to_json(g.expected, true));
}

TEST(GoldenFile, ChecksumIsOfTheFileWithItsOwnDigitsZeroed) {
  const std::string text = read_text(sample_path());
  EXPECT_EQ(resealed(text), text);
  EXPECT_EQ(sha256_hex("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");  // FIPS 180-2
}

TEST(GoldenFile, AnEditedValueIsCaughtByTheChecksum) {
  const std::string text = read_text(sample_path());
  const std::size_t at = text.find("\"0x1.");
  ASSERT_NE(at, std::string::npos);
  std::string edited = text;
  edited[at + 5] = edited[at + 5] == '8' ? '9' : '8';
  const std::string e = error_of(edited);
  EXPECT_EQ(e.rfind("x.json: checksum mismatch (recorded sha256 ", 0), 0u) << e;
  EXPECT_NE(e.find("edited or damaged"), std::string::npos) << e;
}

TEST(GoldenFile, TruncatedOrGarbageIsMalformed) {
  const std::string text = read_text(sample_path());
  for (const std::string& broken :
       {text.substr(0, text.size() / 2), std::string(), std::string("\x00\xff\x17garbage", 10)}) {
    const std::string e = error_of(broken);
    EXPECT_EQ(e.rfind("x.json: malformed or truncated JSON: ", 0), 0u) << e;
  }
}

TEST(GoldenFile, ResealedHandEditsAreStillCheckedForSense) {
  const std::string text = read_text(sample_path());
  EXPECT_EQ(error_of(resealed(replaced(text, "\"format\": \"bnconform-golden/1\"",
                                       "\"format\": \"bnconform-golden/9\""))),
            "x.json: format \"bnconform-golden/9\" is not \"bnconform-golden/1\"");
  EXPECT_EQ(error_of(resealed(replaced(text, "\"name\":", "\"nmae\":"))),
            "x.json: missing key \"name\"");
  EXPECT_EQ(
      error_of(resealed(replaced(text, "\"status\": \"ok\"", "\"status\": \"ok\", \"x\": 1"))),
      "x.json: expected.steps[0]: unknown key \"x\"");
  // A value that is not an f16 value.
  const std::string e = error_of(
      resealed(replaced(text, "\"y\": {\"dtype\": \"f16\", \"values\": [\"",
                        "\"y\": {\"dtype\": \"f16\", \"values\": [\"0x1.0000001p+0\", \"")));
  EXPECT_NE(e.find("is not a value of f16"), std::string::npos) << e;
  // Inputs that do not fit the problem are the case reader's errors.
  EXPECT_EQ(error_of(resealed(replaced(text, "\"problem\": \"shape=2x3x4x3,layout=cl",
                                       "\"problem\": \"shape=2x3x4x4,layout=cl"))),
            "x.json: spec.problem does not describe the case's problem");
  const std::string shape =
      error_of(resealed(replaced(text, "\"problem\": \"shape=2x3x4x3,layout=channels_last",
                                 "\"problem\": \"shape=2x3x4x4,layout=channels_last")));
  EXPECT_EQ(shape.rfind("x.json: case", 0), 0u) << shape;
}

TEST(GoldenFile, AMissingFileIsAnError) {
  try {
    read_golden_file("/nonexistent/x.json");
    ADD_FAILURE() << "no error";
  } catch (const error& e) {
    EXPECT_EQ(std::string(e.what()), "/nonexistent/x.json: cannot open");
  }
}

}  // namespace
}  // namespace bnconform::golden
