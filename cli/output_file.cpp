#include "output_file.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "core/error.hpp"

namespace bnconform::cli {

void write_file_atomically(const std::string& path, std::string_view text) {
  namespace fs = std::filesystem;
  fs::path temp(path);
  temp += ".tmp." + std::to_string(::getpid());
  std::error_code ignored;
  {
    std::ofstream out(temp, std::ios::binary | std::ios::trunc);
    if (!out) report_error(path + ": cannot write (" + std::strerror(errno) + ")");
    out.write(text.data(), static_cast<std::streamsize>(text.size()));
    out.close();
    if (!out) {
      fs::remove(temp, ignored);
      report_error(path + ": write failed");
    }
  }
  std::error_code ec;
  fs::rename(temp, path, ec);
  if (ec) {
    fs::remove(temp, ignored);
    report_error(path + ": cannot replace (" + ec.message() + ")");
  }
}

void emit(const std::string& path, std::string_view text) {
  if (!path.empty()) {
    write_file_atomically(path, text);
    return;
  }
  std::cout << text << std::flush;
  if (!std::cout) report_error("cannot write to stdout");
}

}  // namespace bnconform::cli
