#include "install_paths.hpp"

#include <cstdlib>
#include <string>
#include <system_error>

// Relative paths only (cmake/InstallLayout.cmake): from the executable's directory
// to the data and plugin directories, installed and in the build tree.
#if !defined(BNCONFORM_INSTALLED_DATA) || !defined(BNCONFORM_INSTALLED_PLUGINS) || \
    !defined(BNCONFORM_BUILD_TREE_DATA) || !defined(BNCONFORM_BUILD_TREE_PLUGINS)
#error "cmake/InstallLayout.cmake defines the relative layout of bnconform's files"
#endif

namespace bnconform::cli {

namespace {

namespace fs = std::filesystem;

// The directory of the running executable (Linux: /proc/self/exe); empty if unknown,
// which makes the paths below relative to the working directory.
fs::path executable_directory() {
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  return ec ? fs::path() : exe.parent_path();
}

// The environment's directory if set, else the first layout present beside the
// executable, else the installed one (so that a message names where it looked).
fs::path locate(const char* variable, const char* installed, const char* build_tree) {
  if (const char* value = std::getenv(variable); value != nullptr && *value != '\0') {
    return fs::path(value);
  }
  const fs::path base = executable_directory();
  for (const char* relative : {installed, build_tree}) {
    const fs::path candidate = (base / relative).lexically_normal();
    std::error_code ec;
    if (fs::is_directory(candidate, ec)) return candidate;
  }
  return (base / installed).lexically_normal();
}

}  // namespace

fs::path data_directory() {
  return locate("BNCONFORM_DATA_DIR", BNCONFORM_INSTALLED_DATA, BNCONFORM_BUILD_TREE_DATA);
}

fs::path plugin_directory() {
  return locate("BNCONFORM_PLUGIN_DIR", BNCONFORM_INSTALLED_PLUGINS, BNCONFORM_BUILD_TREE_PLUGINS);
}

}  // namespace bnconform::cli
