// `bnconform golden` as a user runs it: regen is deterministic and leaves files
// alone on failure, check prints verdicts and stops on damaged files with exit 2,
// import-onnx reproduces the committed cases.
#include "tests/support/command.hpp"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "golden/golden_file.hpp"
#include "support.hpp"

namespace bnconform::golden {
namespace {

namespace fs = std::filesystem;
using testing::read_text;

using outcome = bnconform::testing::command_outcome;

// A fresh scratch directory of this process and test.
fs::path scratch(const std::string& name) {
  return bnconform::testing::scratch_directory("bnconform_golden", name);
}

outcome run(const std::vector<std::string>& args) {
  return bnconform::testing::run_command(BNCONFORM_EXECUTABLE, args, scratch("io"));
}

std::vector<std::string> files_under(const fs::path& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (e.is_regular_file()) out.push_back(fs::relative(e.path(), dir).string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

const char* subset = "ops.train.2x3x4x3*";  // 8 cases: both layouts, every dtype

TEST(GoldenCommand, RegenIsDeterministicAndReproducesTheCommittedData) {
  const fs::path a = scratch("a"), b = scratch("b");
  const outcome first = run({"golden", "regen", subset, "--cases", a.string()});
  ASSERT_EQ(first.exit_code, 0) << first.err;
  EXPECT_NE(first.err.find("[8/8] "), std::string::npos) << "progress on stderr: " << first.err;
  EXPECT_TRUE(first.out.empty());
  ASSERT_EQ(run({"golden", "regen", subset, "--cases", b.string()}).exit_code, 0);
  const std::vector<std::string> files = files_under(a);
  ASSERT_EQ(files.size(), 8u);
  EXPECT_EQ(files_under(b), files);
  for (const std::string& f : files) {
    SCOPED_TRACE(f);
    EXPECT_EQ(read_text(a / f), read_text(b / f));  // byte for byte
    EXPECT_TRUE(same_data(read_text(a / f), read_text(fs::path(testing::cases_directory()) / f)))
        << "the committed file differs from what regen makes: run bnconform golden regen";
  }
  // A second run over the same directory rewrites nothing.
  const outcome again = run({"golden", "regen", subset, "--cases", a.string()});
  EXPECT_NE(again.err.find("8 cases, 0 written, 8 unchanged"), std::string::npos) << again.err;
}

TEST(GoldenCommand, AFailedRegenLeavesEveryFileAsItWas) {
  const fs::path specs = scratch("specs"), cases = scratch("cases");
  fs::copy_file(fs::path(testing::specs_directory()) / "ops.spec", specs / "ops.spec");
  ASSERT_EQ(run({"golden", "regen", subset, "--specs", specs.string(), "--cases", cases.string()})
                .exit_code,
            0);
  const fs::path one = cases / "ops" / "ops.train.2x3x4x3.cf.f32.json";
  const std::string before = read_text(one);
  // A spec whose case cannot be made, after the good ones: nothing may be written.
  {
    std::ofstream out(specs / "zz.spec");
    out << "zz.bad  shape=2x3  uniform  pytorch  1  backward\n";
  }
  fs::remove(one);
  const outcome o = run({"golden", "regen", "--specs", specs.string(), "--cases", cases.string()});
  EXPECT_EQ(o.exit_code, 2);
  EXPECT_NE(o.err.find("zz.bad: a backward step needs a forward step before it"), std::string::npos)
      << o.err;
  EXPECT_FALSE(fs::exists(one)) << "regen wrote files although it failed";
  EXPECT_EQ(files_under(cases).size(), 7u);
  (void)before;
}

TEST(GoldenCommand, CheckPrintsVerdictsAndExitsZero) {
  const outcome o = run({"golden", "check", "--kernel", "reference", "--precision", "512", subset});
  EXPECT_EQ(o.exit_code, 0) << o.out << o.err;
  EXPECT_NE(o.out.find("pass ops.train.2x3x4x3.cl.bf16\n"), std::string::npos) << o.out;
  EXPECT_NE(
      o.out.find("golden check: kernel reference@512 at level strict: 8 cases: 8 pass, 0 fail"),
      std::string::npos)
      << o.out;
}

TEST(GoldenCommand, AWrongKernelFailsWithExitOneAndSaysWhere) {
  const outcome o = run({"golden", "check", "--kernel", BNCONFORM_WRONG_Y_KERNEL, subset});
  EXPECT_EQ(o.exit_code, 1) << o.out << o.err;
  EXPECT_NE(o.out.find("fail ops.train.2x3x4x3.cf.f32 (worst budget ratio "), std::string::npos)
      << o.out;
  EXPECT_NE(o.out.find("steps[0]: y[0,0,0,0]: expected "), std::string::npos) << o.out;
  // bf16 keeps 8 bits: y * (1 + 2^-10) rounds back to y there, so those two pass.
  EXPECT_NE(o.out.find("pass ops.train.2x3x4x3.cl.bf16\n"), std::string::npos) << o.out;
  EXPECT_NE(o.out.find("golden check: kernel wrong-y at level strict: 8 cases: 2 pass, 6 fail"),
            std::string::npos)
      << o.out;
}

TEST(GoldenCommand, DamagedFilesAreNamedAndExitTwo) {
  const fs::path cases = scratch("damaged");
  fs::create_directories(cases / "ops");
  const std::string good = "ops.train.2x3x4x3.cl.f32.json";
  const std::string source = read_text(fs::path(testing::cases_directory()) / "ops" / good);
  {
    std::ofstream(cases / "ops" / good, std::ios::binary) << source;
    std::string edited = source;
    edited[edited.find("\"0x1.") + 5] ^= 1;  // one hand-edited digit
    std::ofstream(cases / "ops" / "ops.edited.json", std::ios::binary) << edited;
    std::ofstream(cases / "ops" / "ops.truncated.json", std::ios::binary)
        << source.substr(0, source.size() / 3);
  }
  const outcome o = run({"golden", "check", "--cases", cases.string()});
  EXPECT_EQ(o.exit_code, 2) << o.out << o.err;
  EXPECT_NE(o.out.find("pass ops.train.2x3x4x3.cl.f32\n"), std::string::npos) << o.out;
  EXPECT_NE(o.out.find("error ops.edited: " + (cases / "ops" / "ops.edited.json").string() +
                       ": checksum mismatch"),
            std::string::npos)
      << o.out;
  EXPECT_NE(o.out.find("error ops.truncated: " + (cases / "ops" / "ops.truncated.json").string() +
                       ": malformed or truncated JSON"),
            std::string::npos)
      << o.out;
  EXPECT_EQ(o.err, "bnconform: error: 2 golden file(s) could not be used (see above)\n");
}

TEST(GoldenCommand, ImportOnnxReproducesTheCommittedCases) {
  if (!fs::is_directory(testing::onnx_test_data())) {
    GTEST_SKIP() << "no ONNX test data at " << testing::onnx_test_data()
                 << " (libonnx-testdata, see ci/setup.sh)";
  }
  const fs::path cases = scratch("onnx");
  const outcome o =
      run({"golden", "import-onnx", testing::onnx_test_data(), "--cases", cases.string()});
  if (o.exit_code == 2 && o.err.find("without ONNX support") != std::string::npos) {
    GTEST_SKIP() << o.err;
  }
  ASSERT_EQ(o.exit_code, 0) << o.out << o.err;
  EXPECT_NE(o.out.find("pass onnx.batchnorm_example_training_mode (ONNX's outputs against the "
                       "reference"),
            std::string::npos)
      << o.out;
  const std::vector<std::string> files = files_under(cases);
  ASSERT_EQ(files.size(), 4u);
  for (const std::string& f : files) {
    EXPECT_TRUE(
        same_data(read_text(cases / f), read_text(fs::path(testing::cases_directory()) / f)))
        << f;
  }
}

TEST(GoldenCommand, UsageErrors) {
  EXPECT_EQ(run({"golden", "check", "no-such-case-anywhere"}).exit_code, 2);
  EXPECT_EQ(run({"golden", "check", "--kernel", "nope"}).exit_code, 2);
  EXPECT_EQ(run({"golden", "regen", "--specs", "/nonexistent"}).exit_code, 2);
  EXPECT_EQ(run({"golden"}).exit_code, 2);
}

}  // namespace
}  // namespace bnconform::golden
