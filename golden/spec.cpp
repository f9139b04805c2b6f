#include "spec.hpp"

#include <fnmatch.h>

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "core/error.hpp"

namespace bnconform::golden {

bool case_spec::operator==(const case_spec& o) const {
  return name == o.name && problem == o.problem && fill == o.fill && state == o.state &&
         seed == o.seed && steps == o.steps;
}

std::string steps_text(const case_spec& s) {
  std::string out;
  for (const std::string& step : s.steps) out += (out.empty() ? "" : ",") + step;
  return out;
}

namespace {

// One field after brace expansion: the text and the alternatives it chose.
struct expansion {
  std::string text;
  std::vector<std::string> chosen;
};

// Expands every {a,b,...} of a field (no nesting), in order, the first brace
// varying slowest.
std::vector<expansion> expand(const std::string& field, const std::string& where) {
  std::vector<expansion> out = {{"", {}}};
  std::size_t pos = 0;
  while (pos < field.size()) {
    const std::size_t open = field.find('{', pos);
    const std::string literal = field.substr(pos, open - pos);
    if (literal.find('}') != std::string::npos) report_error(where + ": '}' without '{'");
    for (expansion& e : out) e.text += literal;
    if (open == std::string::npos) break;
    // A brace that follows "key=" in a problem string names itself key=value in
    // the case name, unless the value says what it is (shape, layout, dtype, mode).
    std::string label;
    const std::size_t key_start =
        field.find_last_of(",", open) == std::string::npos ? 0 : field.find_last_of(",", open) + 1;
    if (open > 0 && field[open - 1] == '=' && key_start < open) {
      label = field.substr(key_start, open - key_start);
      for (const char* plain : {"shape=", "layout=", "dtype=", "mode="}) {
        if (label == plain) label.clear();
      }
    }
    const std::size_t close = field.find('}', open);
    if (close == std::string::npos) report_error(where + ": '{' without '}'");
    const std::string body = field.substr(open + 1, close - open - 1);
    if (body.find('{') != std::string::npos) report_error(where + ": nested braces");
    std::vector<std::string> alternatives;
    std::stringstream items(body);
    for (std::string item; std::getline(items, item, ',');) alternatives.push_back(item);
    if (alternatives.empty() || body.back() == ',') report_error(where + ": empty alternative");
    std::vector<expansion> next;
    for (const expansion& e : out) {
      for (const std::string& a : alternatives) {
        expansion grown = e;
        grown.text += a;
        grown.chosen.push_back(label + a);
        next.push_back(std::move(grown));
      }
    }
    out = std::move(next);
    pos = close + 1;
  }
  return out;
}

bool valid_name(std::string_view name) {
  return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '+' || c == '-' || c == '=' || c == '@';
  });
}

std::vector<std::string> split_steps(const std::string& text, const std::string& where) {
  std::vector<std::string> steps;
  std::stringstream items(text);
  for (std::string item; std::getline(items, item, ',');) {
    const std::string op = item.substr(0, item.find(':'));
    const std::string mode = item.find(':') == std::string::npos ? "" : item.substr(item.find(':'));
    if ((op != "forward" && op != "backward") ||
        (!mode.empty() && mode != ":train" && mode != ":eval")) {
      report_error(where + ": step '" + item +
                   "' is not forward or backward, optionally with :train or :eval");
    }
    steps.push_back(item);
  }
  if (steps.empty() || text.back() == ',') report_error(where + ": empty step in '" + text + "'");
  return steps;
}

// name problem fill state seed steps; braces in any field but name and seed.
void parse_line(const std::string& line, const std::string& where, std::vector<case_spec>& out) {
  std::istringstream fields(line);
  std::string name, problem_text, fill, state, seed_text, steps, extra;
  if (!(fields >> name >> problem_text >> fill >> state >> seed_text >> steps)) {
    report_error(where + ": expected 6 fields: name problem fill state seed steps");
  }
  if (fields >> extra) report_error(where + ": unexpected text '" + extra + "' after the steps");
  std::uint64_t seed = 0;
  const auto [end, ec] =
      std::from_chars(seed_text.data(), seed_text.data() + seed_text.size(), seed);
  if (ec != std::errc{} || end != seed_text.data() + seed_text.size()) {
    report_error(where + ": seed '" + seed_text + "' is not an unsigned integer");
  }
  std::uint64_t index = 0;
  for (const expansion& p : expand(problem_text, where)) {
    for (const expansion& f : expand(fill, where)) {
      for (const expansion& s : expand(state, where)) {
        for (const expansion& st : expand(steps, where)) {
          case_spec c;
          c.name = name;
          for (const auto* e : {&p, &f, &s, &st}) {
            for (const std::string& a : e->chosen) c.name += "." + a;
          }
          if (!valid_name(c.name)) {
            report_error(where + ": case name '" + c.name +
                         "' has characters outside [A-Za-z0-9._+=@-]");
          }
          c.problem = p.text;
          c.fill = f.text;
          c.state = s.text;
          c.seed = seed + index++;
          c.steps = split_steps(st.text, where);
          c.origin = where;
          out.push_back(std::move(c));
        }
      }
    }
  }
}

}  // namespace

std::vector<case_spec> parse_spec_file(std::string_view text, const std::string& path) {
  std::vector<case_spec> out;
  std::istringstream lines{std::string(text)};
  int number = 0;
  for (std::string line; std::getline(lines, line);) {
    ++number;
    const std::size_t hash = line.find('#');
    if (hash != std::string::npos) line.erase(hash);
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    parse_line(line, path + ":" + std::to_string(number), out);
  }
  return out;
}

std::vector<case_spec> read_spec_directory(const std::string& directory) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_directory(directory, ec))
    report_error(directory + ": not a directory of *.spec files");
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(directory)) {
    if (entry.path().extension() == ".spec") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  std::vector<case_spec> out;
  std::set<std::string> names;
  for (const fs::path& file : files) {
    std::ifstream in(file, std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    if (!in) report_error(file.string() + ": cannot read");
    for (case_spec& c : parse_spec_file(text.str(), file.string())) {
      // Recorded in golden files as the file name alone: where the catalog lives,
      // and edits elsewhere in the file that move the line, change no bytes.
      c.origin = file.filename().string();
      if (!names.insert(c.name).second) {
        report_error(file.string() + ": case name '" + c.name + "' is already used");
      }
      out.push_back(std::move(c));
    }
  }
  return out;
}

bool matches(std::string_view name, const std::string& filter) {
  if (filter.empty()) return true;
  if (filter.find_first_of("*?[") != std::string::npos) {
    return fnmatch(filter.c_str(), std::string(name).c_str(), 0) == 0;
  }
  return name.find(filter) != std::string_view::npos;
}

}  // namespace bnconform::golden
