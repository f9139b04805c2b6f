// The realistic group's plan: the built-in networks' layers, with every declared
// (dtype, layout) pair met by every network; a user's shapes file read line by line
// with errors that name the line; and a kernel whose bug lives only at real channel
// counts caught by the group and missed by the coverage cases.
#include "certify/realistic.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <filesystem>
#include <fstream>
#include <set>

#include "certify/battery_runner.hpp"
#include "certify/cell.hpp"
#include "certify/plan.hpp"
#include "certify/shapes_file.hpp"
#include "core/error.hpp"
#include "impl/mutants/model_kernel.hpp"

namespace bnconform::certify {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

bnc_capabilities all_declared() {
  bnc_capabilities c{};
  c.operations = BNC_OP_FORWARD_TRAINING | BNC_OP_FORWARD_EVAL | BNC_OP_BACKWARD_TRAINING |
                 BNC_OP_BACKWARD_EVAL;
  c.dtypes = (1u << BNC_DTYPE_F64) | (1u << BNC_DTYPE_F32) | (1u << BNC_DTYPE_F16) |
             (1u << BNC_DTYPE_BF16);
  c.layouts = (1u << BNC_LAYOUT_CHANNELS_FIRST) | (1u << BNC_LAYOUT_CHANNELS_LAST);
  c.profiles = 1u << BNC_PROFILE_PYTORCH;
  c.min_rank = 2;
  c.max_rank = INT32_MAX;
  return c;
}

std::string shape_of(const problem& p) {
  std::string out;
  for (const std::int64_t e : p.shape()) out += (out.empty() ? "" : "x") + std::to_string(e);
  return out;
}

TEST(Realistic, NetworksReachTheSizesWhereKernelsBreak) {
  bool remainder_after_16 = false, rank3 = false, rank5 = false;
  std::int64_t longest_channel = 0, widest = 0;
  for (const network_layers& net : realistic_networks()) {
    for (const auto& shape : net.shapes) {
      EXPECT_EQ(shape[0], 32) << net.network;
      const problem p = problem::parse("shape=" + std::to_string(shape[0]) + "x" +
                                       std::to_string(shape[1]) + [&] {
                                         std::string s;
                                         for (std::size_t d = 2; d < shape.size(); ++d)
                                           s += "x" + std::to_string(shape[d]);
                                         return s;
                                       }());
      remainder_after_16 |= p.channels() > 16 && p.channels() % 16 != 0;
      rank3 |= p.rank() == 3;
      rank5 |= p.rank() == 5;
      longest_channel = std::max(longest_channel, p.reduction_size());
      widest = std::max(widest, p.channels());
    }
  }
  EXPECT_TRUE(remainder_after_16);  // MobileNetV2's 24, 144, 576, 960 channels
  EXPECT_TRUE(rank3);
  EXPECT_TRUE(rank5);
  EXPECT_GE(longest_channel, 100000);  // ResNet-50's first BN: 32 x 112 x 112 values
  EXPECT_EQ(widest, 2048);
}

TEST(Realistic, EveryNetworkMeetsEveryDeclaredPairAndEveryLayer) {
  settings s;
  const std::vector<item> items = realistic_items(all_declared(), s);
  std::set<std::string> names;
  for (const network_layers& net : realistic_networks()) {
    std::set<std::pair<dtype, layout>> pairs;
    std::set<std::string> shapes;
    for (const item& it : items) {
      if (it.name.rfind("realistic/" + std::string(net.network) + "/", 0) != 0) continue;
      EXPECT_EQ(it.kind, group::realistic);
      const problem p = problem::parse(it.subject);
      EXPECT_EQ(p.mode(), mode::training);
      pairs.insert({p.data_type(), p.layout()});
      shapes.insert(shape_of(p));
    }
    EXPECT_EQ(pairs.size(), 8u) << net.network;
    EXPECT_EQ(shapes.size(), net.shapes.size()) << net.network;
  }
  for (const item& it : items) EXPECT_TRUE(names.insert(it.name).second) << it.name;
}

TEST(Realistic, OnlyDeclaredRanksPairsAndModesArePlanned) {
  bnc_capabilities c = all_declared();
  c.min_rank = 4;
  c.max_rank = 4;
  c.operations = BNC_OP_FORWARD_EVAL;
  c.dtypes = 1u << BNC_DTYPE_F32;
  c.layouts = 1u << BNC_LAYOUT_CHANNELS_LAST;
  settings s;
  const std::vector<item> items = realistic_items(c, s);
  ASSERT_FALSE(items.empty());
  for (const item& it : items) {
    const problem p = problem::parse(it.subject);
    EXPECT_EQ(p.rank(), 4) << it.name;  // no 3D U-Net (rank 5), no M5 (rank 3)
    EXPECT_EQ(p.mode(), mode::eval);
    EXPECT_EQ(p.data_type(), dtype::f32);
    EXPECT_EQ(p.layout(), layout::channels_last);
  }
  c.operations = 0;
  const std::vector<item> none = realistic_items(c, s);
  ASSERT_EQ(none.size(), 1u);
  EXPECT_EQ(none[0].name, "realistic/nothing-declared");
}

// With several profiles in one run, the built-in networks run in the first: a later
// profile's plan has no realistic item, and the run is still the whole battery.
TEST(Realistic, ALaterProfileOfTheRunPlansNoNetworks) {
  settings s;
  // An empty catalog of this process's own: the plans differ only by the networks.
  const fs::path golden =
      fs::temp_directory_path() / ("realistic_test.golden." + std::to_string(::getpid()));
  fs::remove_all(golden);
  fs::create_directories(golden);
  s.golden_directory = golden.string();
  const plan first = make_plan(all_declared(), s);
  const auto realistic = [](const plan& p) {
    return std::count_if(p.fixed.begin(), p.fixed.end(),
                         [](const item& i) { return i.kind == group::realistic; });
  };
  EXPECT_GT(realistic(first), 0);
  s.realistic_ran_in = "pytorch";
  const plan later = make_plan(all_declared(), s);
  EXPECT_EQ(realistic(later), 0);
  EXPECT_EQ(later.fixed.size() + static_cast<std::size_t>(realistic(first)), first.fixed.size());
  EXPECT_EQ(s.groups, all_groups());
}

fs::path write_file(const std::string& name, const std::string& text) {
  const fs::path path = fs::temp_directory_path() / ("realistic_test." + name);
  std::ofstream(path) << text;
  return path;
}

TEST(ShapesFile, ShapesAndProblemStringsAreRead) {
  const fs::path path = write_file(
      "good", "# a comment\n\n  32x24x7x7  \nshape=8x3x5,dtype=bf16,layout=nhwc,mode=eval\n");
  const std::vector<shape_line> lines = read_shapes_file(path.string());
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0].line, 3);
  EXPECT_EQ(lines[0].shape, (std::vector<std::int64_t>{32, 24, 7, 7}));
  EXPECT_FALSE(lines[0].exactly);
  EXPECT_EQ(lines[1].line, 4);
  ASSERT_TRUE(lines[1].exactly);
  EXPECT_EQ(lines[1].exactly->data_type(), dtype::bf16);
  EXPECT_EQ(lines[1].exactly->mode(), mode::eval);

  // A shape runs in every declared pair; a problem string exactly as written.
  settings s;
  s.shapes_file = path.string();
  const std::vector<item> items = realistic_items(all_declared(), s);
  ASSERT_EQ(items.size(), 9u);
  EXPECT_EQ(items[0].name, "realistic/shapes:3/32x24x7x7 f32 channels_first train");
  EXPECT_EQ(items[8].name, "realistic/shapes:4/8x3x5 bf16 channels_last eval");
  EXPECT_EQ(items[8].subject, lines[1].exactly->to_string());
}

void expect_error(const std::string& path, const std::string& expected) {
  try {
    (void)read_shapes_file(path);
    ADD_FAILURE() << "no error for " << path;
  } catch (const error& e) {
    EXPECT_THAT(e.what(), HasSubstr(expected));
  }
}

TEST(ShapesFile, ABadLineIsNamedByFileAndLine) {
  const std::string bad = write_file("bad", "32x24x7x7\n32x0x\n").string();
  expect_error(bad, bad + ":2: ");
  const std::string rank = write_file("rank", "# one extent\n32\n").string();
  expect_error(rank, rank + ":2: ");
  const std::string field = write_file("field", "shape=4x3,dtype=f8\n").string();
  expect_error(field, field + ":1: ");
  expect_error(write_file("empty", "\n# none\n").string(), "no shape in the file");
  expect_error("/no/such/shapes.txt", "/no/such/shapes.txt: cannot be read");
}

// A remainder bug (channels_last, the channels after the last full block of 16
// written without beta) needs more than 16 channels: the coverage cases (3
// channels) pass it, a realistic item at 24 channels fails it, naming y.
TEST(Realistic, ARemainderBugIsCaughtWhereCoverageMissesIt) {
  const mutants::model* mutant = nullptr;
  for (const mutants::model& m : mutants::zoo()) {
    if (m.name == "mutant-vector-remainder") mutant = &m;
  }
  ASSERT_NE(mutant, nullptr);
  const kernel k(&mutant->kernel);
  settings s;
  s.level = check::level::standard;
  const repro_context ctx{"mutant-vector-remainder", &s};
  const item coverage{group::coverage, "coverage/forward-training f32 channels_last",
                      "forward-training f32 channels_last"};
  EXPECT_TRUE(run_item(k, coverage, ctx).passed());
  const item wide{group::realistic, "realistic/x/4x24x5x5 f32 channels_last train",
                  "shape=4x24x5x5,dtype=f32,layout=channels_last,mode=train"};
  const item_outcome o = run_item(k, wide, ctx);
  EXPECT_EQ(o.result, check::verdict::fail);
  EXPECT_THAT(o.reason, HasSubstr("y["));
  const item first{group::realistic, "realistic/x/4x24x5x5 f32 channels_first train",
                   "shape=4x24x5x5,dtype=f32,layout=channels_first,mode=train"};
  EXPECT_TRUE(run_item(k, first, ctx).passed());  // the bug is channels_last's only
}

}  // namespace
}  // namespace bnconform::certify
