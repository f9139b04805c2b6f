// The progress display of certify and fuzz: the bar, the time left and the line
// as pure functions; a log keeps the plain lines; a terminal gets one line
// rewritten in place, cleared before any other line.
#include "cli/progress.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <sstream>

namespace bnconform::cli {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(Progress, TimeLeftReadsInTheLargestUnits) {
  EXPECT_EQ(time_left_text(0.4), "<1 s left");
  EXPECT_EQ(time_left_text(42.4), "42 s left");
  EXPECT_EQ(time_left_text(185), "3 min 05 s left");
  EXPECT_EQ(time_left_text(3600 + 2 * 60 + 30), "1 h 02 min left");
  EXPECT_EQ(time_left_text(-1), "");
  EXPECT_EQ(time_left_text(std::nan("")), "");
  EXPECT_EQ(time_left_text(INFINITY), "");
}

TEST(Progress, TheBarHasItsWidthAndFillsWithTheFraction) {
  EXPECT_EQ(progress_bar(0, 12), "[..........]");
  EXPECT_EQ(progress_bar(0.5, 12), "[#####.....]");
  EXPECT_EQ(progress_bar(1, 12), "[##########]");
  EXPECT_EQ(progress_bar(7, 12), "[##########]");   // clamped
  EXPECT_EQ(progress_bar(-1, 12), "[..........]");  // clamped
  EXPECT_EQ(progress_bar(std::nan(""), 5), "[...]");
  EXPECT_EQ(progress_bar(0.5, 0).size(), 3u);  // never narrower than its brackets and one
}

TEST(Progress, TheLineFitsTheTerminal) {
  progress_state s;
  s.label = "certify";
  s.fraction = 0.25;
  s.counts = "120/347 items, 2 failed";
  s.seconds_left = 185;
  const std::string wide = progress_line(s, 100);
  EXPECT_EQ(wide.rfind("certify [", 0), 0u);
  EXPECT_THAT(wide, HasSubstr("]  25% 120/347 items, 2 failed, 3 min 05 s left"));
  EXPECT_LE(wide.size(), 100u);
  // The bar takes what the text leaves, at most 40 characters.
  EXPECT_EQ(progress_line(s, 200).size(), wide.size());
  const std::string narrow = progress_line(s, 40);
  EXPECT_EQ(narrow.size(), 40u);
  EXPECT_THAT(narrow, HasSubstr("[##......]"));  // the smallest bar: 10 characters
  s.seconds_left = -1;
  EXPECT_THAT(progress_line(s, 100), Not(HasSubstr("left")));
}

TEST(Progress, ALogGetsThePlainLinesAndNoBar) {
  std::ostringstream out;
  {
    progress_display d(out, false, 80);
    d.update({"certify", 0.5, "1/2 items", 10});
    d.lines() << "certify: golden 1/2, 0 failed so far, 0.1 s\n";
    d.line("certify: fail coverage/x: why");
    d.finish();
  }
  EXPECT_EQ(out.str(),
            "certify: golden 1/2, 0 failed so far, 0.1 s\ncertify: fail coverage/x: why\n");
}

TEST(Progress, ATerminalRewritesOneLineAndClearsItAroundOtherLines) {
  std::ostringstream out;
  progress_display d(out, true, 60);
  d.update({"fuzz", 0.5, "10 cases", 10});
  const std::string bar = progress_line({"fuzz", 0.5, "10 cases", 10}, 59);
  EXPECT_EQ(out.str(), "\r\033[K" + bar);
  d.lines() << "fuzz: a finding\n";
  EXPECT_EQ(out.str(), "\r\033[K" + bar + "\r\033[Kfuzz: a finding\n" + bar);
  d.finish();
  EXPECT_EQ(out.str(), "\r\033[K" + bar + "\r\033[Kfuzz: a finding\n" + bar + "\r\033[K");
}

}  // namespace
}  // namespace bnconform::cli
