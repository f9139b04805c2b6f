#pragma once
// Helpers of the golden tests: the committed catalog's locations and contents.
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "golden/catalog.hpp"
#include "golden/golden_file.hpp"

namespace bnconform::golden::testing {

inline std::string specs_directory() { return std::string(BNCONFORM_SOURCE_DIR) + "/golden/specs"; }
inline std::string cases_directory() { return std::string(BNCONFORM_SOURCE_DIR) + "/golden/cases"; }
inline const char* onnx_test_data() { return "/usr/share/libonnx-testdata/data/node"; }

inline std::string read_text(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// The committed golden files of one group ("ops", "degenerate", ...).
inline std::vector<golden_case> group(const std::string& name) {
  std::vector<golden_case> out;
  for (const std::string& path : golden_files(cases_directory() + "/" + name)) {
    out.push_back(read_golden_file(path));
  }
  return out;
}

}  // namespace bnconform::golden::testing
