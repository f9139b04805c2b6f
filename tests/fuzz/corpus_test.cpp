// The "finding" object of case files (docs/case-format.md), corpus file names and
// `fuzz merge`.
#include "fuzz/corpus.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "core/case_file.hpp"
#include "core/error.hpp"

namespace bnconform::fuzz {
namespace {

const char* const with_finding = R"({
  "problem": "shape=2x1",
  "steps": [{"op": "forward", "x": [1, 2]}],
  "finding": {"kernel": "k", "level": "strict", "verdict": "fail", "reason": "forward: y",
              "seed": "0x1/3", "repro": "problem=shape=2x1 kind=normal seed=0x5"}
})";

TEST(CaseFinding, ReadsAndWritesBack) {
  const case_file c = parse_case(with_finding, "f.json");
  ASSERT_TRUE(c.finding);
  EXPECT_EQ(c.finding->kernel, "k");
  EXPECT_EQ(c.finding->seed, "0x1/3");
  const case_file back = parse_case(to_json(c, true), "back.json");
  ASSERT_TRUE(back.finding);
  EXPECT_EQ(*back.finding, *c.finding);
  EXPECT_EQ(to_json(back, false), to_json(c, false));
}

TEST(CaseFinding, IsReadStrictly) {
  std::string unknown = with_finding;
  unknown.replace(unknown.find("\"seed\""), 6, "\"sed\"");
  try {
    parse_case(unknown, "f.json");
    FAIL() << "an unknown key was accepted";
  } catch (const error& e) {
    EXPECT_STREQ(e.what(), "f.json: finding: unknown key \"sed\"");
  }
  std::string not_string = with_finding;
  not_string.replace(not_string.find("\"strict\""), 8, "3");
  EXPECT_THROW(parse_case(not_string, "f.json"), error);
  std::string missing = with_finding;
  missing.replace(missing.find("\"kernel\": \"k\", "), 15, "");
  try {
    parse_case(missing, "f.json");
    FAIL() << "a finding without its kernel was accepted";
  } catch (const error& e) {
    EXPECT_STREQ(e.what(), "f.json: finding: missing required key \"kernel\"");
  }
}

TEST(Corpus, NamesByContentAndMergesDistinctFindings) {
  const std::filesystem::path root = std::filesystem::temp_directory_path() /
                                     ("bnconform_corpus_test_" + std::to_string(getpid()));
  std::filesystem::remove_all(root);
  case_file c = parse_case(with_finding, "f.json");
  const std::string name = corpus_name(c);
  EXPECT_TRUE(name.starts_with("fail-")) << name;
  // The description and the reason do not change the name; the verdict does.
  c.description = "found again";
  c.finding->reason = "forward: y, worded differently";
  EXPECT_EQ(corpus_name(c), name);
  case_file crashed = c;
  crashed.finding->verdict = "crashed";
  EXPECT_NE(corpus_name(crashed), name);

  const auto a = save_finding(root / "a", c);
  EXPECT_EQ(a.filename().string(), name);
  EXPECT_EQ(save_finding(root / "a", c), a);  // saved once
  save_finding(root / "b", c);
  save_finding(root / "b", crashed);
  // No temporary file is left behind.
  for (const auto& e : std::filesystem::directory_iterator(root / "b")) {
    EXPECT_FALSE(e.path().filename().string().starts_with(".")) << e.path();
  }
  const merge_report r = merge_corpora(root / "merged", {root / "a", root / "b"});
  EXPECT_EQ(r.added, 2);
  EXPECT_EQ(r.duplicate, 1);
  EXPECT_EQ(corpus_files(root / "merged").size(), 2u);
  std::filesystem::remove_all(root);
}

}  // namespace
}  // namespace bnconform::fuzz
