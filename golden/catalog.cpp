#include "catalog.hpp"

#include <algorithm>
#include <filesystem>

#include "core/error.hpp"

namespace bnconform::golden {

namespace fs = std::filesystem;

std::string case_path(const std::string& cases_directory, const std::string& name) {
  return (fs::path(cases_directory) / name.substr(0, name.find('.')) / (name + ".json")).string();
}

std::vector<std::string> golden_files(const std::string& cases_directory) {
  std::error_code ec;
  if (!fs::is_directory(cases_directory, ec)) {
    report_error(cases_directory + ": not a directory of golden files");
  }
  std::vector<std::string> out;
  for (const auto& entry : fs::recursive_directory_iterator(cases_directory)) {
    if (entry.is_regular_file() && entry.path().extension() == ".json") {
      out.push_back(entry.path().string());
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::string name_of_path(const std::string& path) { return fs::path(path).stem().string(); }

}  // namespace bnconform::golden
