#include "shapes_file.hpp"

#include <fstream>

#include "core/error.hpp"

namespace bnconform::certify {

namespace {

std::string trimmed(const std::string& s) {
  const std::size_t first = s.find_first_not_of(" \t\r");
  if (first == std::string::npos) return "";
  const std::size_t last = s.find_last_not_of(" \t\r");
  return s.substr(first, last - first + 1);
}

shape_line parse_line(const std::string& text, int number) {
  shape_line out;
  out.line = number;
  if (text.find('=') != std::string::npos) {
    out.exactly = problem::parse(text);
    const auto shape = out.exactly->shape();
    out.shape.assign(shape.begin(), shape.end());
  } else {
    const problem p = problem::parse("shape=" + text);
    const auto shape = p.shape();
    out.shape.assign(shape.begin(), shape.end());
  }
  return out;
}

}  // namespace

std::vector<shape_line> read_shapes_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) report_error(path + ": cannot be read");
  std::vector<shape_line> out;
  std::string raw;
  for (int number = 1; std::getline(in, raw); ++number) {
    const std::string text = trimmed(raw);
    if (text.empty() || text[0] == '#') continue;
    try {
      out.push_back(parse_line(text, number));
    } catch (const error& e) {
      report_error(path + ":" + std::to_string(number) + ": " + e.what());
    }
  }
  if (in.bad()) report_error(path + ": read error");
  if (out.empty()) report_error(path + ": no shape in the file");
  return out;
}

}  // namespace bnconform::certify
