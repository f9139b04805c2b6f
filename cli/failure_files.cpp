#include "failure_files.hpp"

#include <unistd.h>

#include <filesystem>

#include "certify/failure_case.hpp"
#include "core/error.hpp"
#include "output_file.hpp"

namespace bnconform::cli {

void check_writable_directory(const std::string& directory, const std::string& option) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::path at = fs::absolute(directory, ec);
  if (ec) report_error(option + ": '" + directory + "': " + ec.message());
  // The nearest part of the path that exists decides.
  while (!fs::exists(at, ec) && at.has_relative_path()) at = at.parent_path();
  if (!fs::is_directory(at, ec)) {
    report_error(option + ": cannot create '" + directory + "': '" + at.string() +
                 "' is not a directory");
  }
  if (::access(at.c_str(), W_OK | X_OK) != 0) {
    report_error(option + ": cannot write in '" + at.string() + "'");
  }
}

void prepare_failure_directory(const std::string& directory, const std::string& option) {
  std::error_code ec;
  std::filesystem::create_directories(directory, ec);
  if (ec) report_error(option + ": cannot create '" + directory + "': " + ec.message());
  if (!std::filesystem::is_directory(directory, ec)) {
    report_error(option + ": '" + directory + "' is not a directory");
  }
  if (::access(directory.c_str(), W_OK | X_OK) != 0) {
    report_error(option + ": cannot write in '" + directory + "'");
  }
}

void save_failures(certify::certification& c, const std::string& directory) {
  for (const certify::failure_case& f : certify::failure_cases(c)) {
    certify::saved_failure s{f.item, "", f.why_none};
    if (f.replay) {
      s.path = (std::filesystem::path(directory) / f.file_name).string();
      write_file_atomically(s.path, to_json(*f.replay, false));
    }
    c.saved_failures.push_back(s);
  }
}

}  // namespace bnconform::cli
