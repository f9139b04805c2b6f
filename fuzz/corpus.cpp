#include "corpus.hpp"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>

#include "core/error.hpp"

namespace bnconform::fuzz {

namespace fs = std::filesystem;

std::string content_hash(std::string_view bytes) {
  std::uint64_t h = 0xcbf29ce484222325ull;  // FNV-1a, 64 bits
  for (const char ch : bytes) {
    h ^= static_cast<unsigned char>(ch);
    h *= 0x100000001b3ull;
  }
  char text[17];
  std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(h));
  return text;
}

std::string corpus_name(const case_file& c) {
  if (!c.finding) report_error(c.path + ": no \"finding\": not a corpus file");
  // The inputs in hex (exact), without the description and the finding's free text.
  case_file inputs = c;
  inputs.description.clear();
  inputs.finding.reset();
  const std::string key = to_json(inputs, true) + "\n" + c.finding->kernel + "\n" +
                          c.finding->level + "\n" + c.finding->verdict;
  return c.finding->verdict + "-" + content_hash(key) + ".json";
}

namespace {

void write_atomically(const fs::path& path, const std::string& text) {
  // A name no other writer uses (pid), in the same directory, so rename() is atomic.
  const fs::path temporary =
      path.parent_path() / ("." + path.filename().string() + ".tmp" + std::to_string(getpid()));
  {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    out << text;
    out.flush();
    if (!out) report_error(temporary.string() + ": cannot write (" + std::strerror(errno) + ")");
  }
  std::error_code ec;
  fs::rename(temporary, path, ec);
  if (ec) {
    fs::remove(temporary, ec);
    report_error(path.string() + ": cannot rename the written file into place");
  }
}

}  // namespace

fs::path save_finding(const fs::path& dir, const case_file& c) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) report_error(dir.string() + ": cannot create the corpus directory: " + ec.message());
  const fs::path path = dir / corpus_name(c);
  if (!fs::exists(path)) write_atomically(path, to_json(c, true));
  return path;
}

std::vector<fs::path> corpus_files(const fs::path& path) {
  std::error_code ec;
  if (!fs::is_directory(path, ec)) {
    if (!fs::exists(path, ec)) report_error(path.string() + ": no such file or directory");
    return {path};
  }
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(path)) {
    const std::string name = entry.path().filename().string();
    if (entry.is_regular_file() && entry.path().extension() == ".json" && name[0] != '.') {
      files.push_back(entry.path());
    }
  }
  std::sort(files.begin(), files.end());
  return files;
}

merge_report merge_corpora(const fs::path& destination, const std::vector<fs::path>& sources) {
  merge_report report;
  for (const fs::path& source : sources) {
    for (const fs::path& file : corpus_files(source)) {
      const case_file c = read_case_file(file.string());
      const fs::path target = destination / corpus_name(c);
      if (fs::exists(target)) {
        ++report.duplicate;
      } else {
        save_finding(destination, c);
        ++report.added;
      }
    }
  }
  return report;
}

}  // namespace bnconform::fuzz
