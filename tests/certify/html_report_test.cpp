// report.html from certifications made by hand: the grid has a cell per cell, the
// failures come first, every text from the kernel is escaped, several profiles
// get a grid each; and the budget-ratio histogram behind each cell, from its bins
// to the worker pipe.
#include "certify/html_report.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>

#include "certify/html_figures.hpp"
#include "certify/outcome.hpp"
#include "certify/ratio_histogram.hpp"

namespace bnconform::certify {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

std::size_t occurrences(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (std::size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

// A loaded kernel that declares f32 forward training in both layouts; one cell
// passes close to its budget, the other fails on an item whose reason holds markup.
certification a_certification() {
  certification c;
  c.source.argument = "lib<kernel>.so";
  c.loaded = true;
  c.identity.name = "k";
  c.identity.version = "1";
  c.identity.capabilities.operations = BNC_OP_FORWARD_TRAINING;
  for (const cell& where : all_cells()) {
    cell_summary row;
    row.where = where;
    row.declared = declared(c.identity.capabilities, where);
    c.cells.push_back(row);
  }
  cell_summary& first = c.cells[2];  // forward-training f32 channels_first
  first.where = *parse_cell("forward-training f32 channels_first");
  first.declared = true;
  first.result = check::verdict::pass;
  first.calls = 3;
  first.worst_ratio = 0.75;
  first.ratios[ratio_bin(0.75)] = 1;
  first.ratios[ratio_bin(0.001)] = 2;
  first.worst_item = "coverage/forward-training f32 channels_first";
  first.worst_element = "y(1, 2, 0, 0) of shape=4x3x5x2";
  cell_summary& second = c.cells[3];
  second.where = *parse_cell("forward-training f32 channels_last");
  second.declared = true;
  second.result = check::verdict::fail;
  second.calls = 1;
  second.worst_ratio = second.failed_worst_ratio = 4;
  second.ratios[ratio_bin(4)] = 1;
  item_outcome failed;
  failed.kind = group::degenerate;
  failed.name = "degenerate/<script>alert(1)</script>";
  failed.result = check::verdict::fail;
  failed.reason = "y & running_mean \"differ\"";
  failed.repro = "bnconform certify --only 'degenerate/x'";
  failed.add(second.where, check::verdict::fail, 4, 9);
  c.items.push_back(failed);
  c.verdict_reasons.emplace_back("1 item(s) failed, crashed or timed out");
  return c;
}

profiles_certification one_profile(const certification& c) {
  profiles_certification pc;
  pc.rows.push_back({"pytorch", c});
  pc.certified = c.certified;
  pc.verdict_reasons = c.verdict_reasons;
  return pc;
}

TEST(RatioHistogram, BinsAreDecadesWithTheLastOneSplit) {
  EXPECT_EQ(ratio_bin(0), 0u);
  EXPECT_EQ(ratio_bin(1e-9), 1u);
  EXPECT_EQ(ratio_bin(1e-6), 2u);
  EXPECT_EQ(ratio_bin(5e-5), 3u);
  EXPECT_EQ(ratio_bin(0.05), 6u);
  EXPECT_EQ(ratio_bin(0.1), 7u);
  EXPECT_EQ(ratio_bin(0.49), 7u);
  EXPECT_EQ(ratio_bin(0.5), 8u);
  EXPECT_EQ(ratio_bin(1.0), 8u);  // error == budget passes
  EXPECT_EQ(ratio_bin(1.0000001), 9u);
  EXPECT_EQ(ratio_bin(std::numeric_limits<double>::infinity()), 9u);
  EXPECT_EQ(ratio_bin(std::nan("")), ratio_bins);
  EXPECT_EQ(ratio_bin_label(0), "0");
  EXPECT_EQ(ratio_bin_label(8), "0.5..1");
  EXPECT_EQ(ratio_bin_label(9), ">1");
}

TEST(RatioHistogram, ACellCountsEveryCallThatHasARatioAndKeepsTheWorstElement) {
  item_outcome o;
  const cell where = *parse_cell("backward-training f64 channels_last");
  o.add(where, check::verdict::pass, 0.2, 1, "dx(0, 1) of shape=2x3");
  o.add(where, check::verdict::pass, 0.6, 1, "dx(1, 2) of shape=2x3");
  o.add(where, check::verdict::pass, std::nan(""), 0, "nothing");
  o.add(where, check::verdict::unsupported, 0.9, 0, "not called");
  ASSERT_EQ(o.cells.size(), 1u);
  EXPECT_EQ(o.cells[0].calls, 3);
  EXPECT_EQ(o.cells[0].ratios[7], 1);
  EXPECT_EQ(o.cells[0].ratios[8], 1);
  EXPECT_EQ(o.cells[0].worst_element, "dx(1, 2) of shape=2x3");
  const item_outcome back = outcome_from_json(to_json_line(o));
  ASSERT_EQ(back.cells.size(), 1u);
  EXPECT_EQ(back.cells[0].ratios, o.cells[0].ratios);
  EXPECT_EQ(back.cells[0].worst_element, o.cells[0].worst_element);
}

TEST(HtmlReport, HasACellPerCellTheVerdictAndTheFailuresFirst) {
  const std::string html = report_html(one_profile(a_certification()), run_identity{});
  EXPECT_EQ(html.rfind("<!DOCTYPE html>", 0), 0u);
  EXPECT_EQ(occurrences(html, "data-cell=\""), all_cells().size());
  EXPECT_THAT(html, HasSubstr("id=\"verdict\" class=\"verdict not-certified\" "
                              "data-verdict=\"not-certified\">NOT CERTIFIED</span>"));
  EXPECT_THAT(html, HasSubstr("data-cell=\"forward-training f32 channels_last\" "
                              "data-verdict=\"fail\""));
  EXPECT_THAT(html, HasSubstr("data-cell=\"backward-eval bf16 channels_last\" "
                              "data-verdict=\"unsupported\""));
  const std::size_t failures = html.find("id=\"failures\"");
  ASSERT_NE(failures, std::string::npos);
  EXPECT_LT(failures, html.find("class=\"grid\""));
  EXPECT_LT(html.find("class=\"grid\""), html.find("Kernel and machine"));
  // The passing cell's histogram and worst element, with the repro line of its item.
  EXPECT_THAT(html, HasSubstr("y(1, 2, 0, 0) of shape=4x3x5x2"));
  EXPECT_THAT(html, HasSubstr("--only &#39;coverage/forward-training f32 channels_first&#39;"));
  EXPECT_EQ(occurrences(html, "class=\"histogram\""), 2u);
  // Self-contained: nothing to fetch, no script.
  EXPECT_THAT(html, Not(HasSubstr("<script")));
  EXPECT_THAT(html, Not(HasSubstr("src=")));
  EXPECT_THAT(html, Not(HasSubstr("<link")));
}

TEST(HtmlReport, EscapesEveryTextFromTheKernelAndTheRun) {
  run_identity run;
  run.cpu_model = "cpu <b>";
  run.command_line = {"bnconform", "certify", "--kernel", "lib<kernel>.so"};
  const std::string html = report_html(one_profile(a_certification()), run);
  EXPECT_THAT(html, HasSubstr("degenerate/&lt;script&gt;alert(1)&lt;/script&gt;"));
  EXPECT_THAT(html, HasSubstr("y &amp; running_mean &quot;differ&quot;"));
  EXPECT_THAT(html, HasSubstr("lib&lt;kernel&gt;.so"));
  EXPECT_THAT(html, HasSubstr("cpu &lt;b&gt;"));
  EXPECT_THAT(html, Not(HasSubstr("<script>")));
  EXPECT_THAT(html, Not(HasSubstr("<kernel>")));
  EXPECT_EQ(html_escaped("a\x01'b"), "a &#39;b");
}

TEST(HtmlReport, AFailureIsOneLineWithItsWholeReasonOneClickAway) {
  certification c = a_certification();
  c.items[0].reason = std::string(200, 'r') + "\xc3\xa9 the end";  // an e-acute at byte 200
  const std::string html = report_html(one_profile(c), run_identity{});
  EXPECT_THAT(html, HasSubstr("<details class=\"failure\"><summary>"));
  EXPECT_THAT(html, HasSubstr(": " + std::string(120, 'r') + "...</summary>"));
  EXPECT_THAT(html, HasSubstr("<p>" + c.items[0].reason + "</p>"));
  c.items[0].reason = std::string(119, 'r') + "\xc3\xa9";  // cut inside the character
  const std::string cut = report_html(one_profile(c), run_identity{});
  EXPECT_THAT(cut, HasSubstr(": " + std::string(119, 'r') + "...</summary>"));
}

TEST(HtmlReport, FailuresPastTheFirstEightFoldAwayBeforeTheGrid) {
  certification c = a_certification();
  for (int i = 0; i < 9; ++i) c.items.push_back(c.items[0]);
  const std::string html = report_html(one_profile(c), run_identity{});
  EXPECT_THAT(html, HasSubstr("Failures (10)"));
  EXPECT_EQ(occurrences(html, "<details class=\"failure\">"), 10u);
  const std::size_t more = html.find("<details class=\"more\"><summary>2 more failures</summary>");
  ASSERT_NE(more, std::string::npos);
  EXPECT_EQ(occurrences(html.substr(0, more), "<details class=\"failure\">"), 8u);
  EXPECT_LT(more, html.find("class=\"grid\""));
}

TEST(HtmlReport, SeveralProfilesGetAGridEachAndAProfilesTable) {
  const certification c = a_certification();
  profiles_certification pc;
  pc.rows.push_back({"pytorch", c});
  pc.rows.push_back({"onnx", c});
  certification absent = c;
  absent.profile_implemented = false;
  pc.rows.push_back({"keras", absent});
  pc.verdict_reasons = {"pytorch: not met", "onnx: not met"};
  const std::string html = report_html(pc, run_identity{});
  EXPECT_EQ(occurrences(html, "data-cell=\""), 2 * all_cells().size());
  EXPECT_THAT(html, HasSubstr("data-profile=\"onnx\""));
  EXPECT_THAT(html, Not(HasSubstr("data-profile=\"keras\"")));
  EXPECT_THAT(html, HasSubstr("<td>keras</td><td>not implemented</td>"));
  // Cell anchors are unique per profile.
  EXPECT_THAT(html, HasSubstr("id=\"cell-onnx-forward-training-f32-channels_first\""));
  EXPECT_THAT(html, HasSubstr("id=\"cell-pytorch-forward-training-f32-channels_first\""));
  EXPECT_THAT(html, HasSubstr("(onnx)"));  // a failure names its profile
}

TEST(HtmlReport, AKernelThatCannotBeLoadedShowsWhyAndNoGrid) {
  certification c;
  c.source.argument = "./broken.so";
  c.load_error = "not a kernel library: no symbol";
  c.verdict_reasons = {"the kernel could not be loaded: not a kernel library: no symbol"};
  const std::string html = report_html(one_profile(c), run_identity{});
  EXPECT_THAT(html, HasSubstr("the kernel could not be loaded</b>: not a kernel library"));
  EXPECT_EQ(occurrences(html, "data-cell=\""), 0u);
  EXPECT_THAT(html, HasSubstr("data-verdict=\"not-certified\""));
}

TEST(HtmlReport, APassingCellNearItsBudgetIsYellowerThanOneFarBelowIt) {
  cell_summary near, far;
  near.declared = far.declared = true;
  near.calls = far.calls = 1;
  near.result = far.result = check::verdict::pass;
  near.worst_ratio = 0.9;
  far.worst_ratio = 1e-7;
  EXPECT_EQ(cell_colour(far), "#1a9850");
  EXPECT_NE(cell_colour(near), cell_colour(far));
  cell_summary failing = near;
  failing.result = check::verdict::fail;
  EXPECT_EQ(cell_colour(failing), "#d73027");
  EXPECT_FALSE(dark_text_on(failing));
  cell_summary unsupported;
  EXPECT_EQ(cell_verdict(unsupported), "unsupported");
}

}  // namespace
}  // namespace bnconform::certify
