#pragma once
// What every test of a bnconform subcommand expects of it: a scratch place per
// test process, and a usage error that is one line on stderr, exit code 2 and no
// output.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include "command.hpp"

namespace bnconform::testing {

// A scratch file of this process (ctest runs the tests of a file in parallel).
inline std::filesystem::path scratch_file(const std::string& suite, const std::string& name) {
  const std::filesystem::path dir =
      std::filesystem::path(::testing::TempDir()) / (suite + "." + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  return dir / name;
}

#if defined(BNCONFORM_EXECUTABLE)
// Runs the built bnconform with `args`, its output kept in the suite's scratch place.
inline command_outcome run_bnconform(const std::string& suite,
                                     const std::vector<std::string>& args) {
  return run_command(BNCONFORM_EXECUTABLE, args, scratch_file(suite, ""));
}
#endif

#if defined(BNCONFORM_SOURCE_DIR)
// A case file of examples/cases/.
inline std::string example_case(const std::string& name) {
  return std::string(BNCONFORM_SOURCE_DIR) + "/examples/cases/" + name;
}
#endif

inline void expect_usage_error(const command_outcome& o, const std::string& expected) {
  EXPECT_EQ(o.exit_code, 2);
  EXPECT_EQ(o.err.rfind("bnconform: error: ", 0), 0u) << o.err;
  ASSERT_FALSE(o.err.empty());
  EXPECT_EQ(o.err.find('\n'), o.err.size() - 1) << "not one line: " << o.err;
  EXPECT_NE(o.err.find(expected), std::string::npos) << o.err;
  EXPECT_TRUE(o.out.empty()) << o.out;
}

}  // namespace bnconform::testing
