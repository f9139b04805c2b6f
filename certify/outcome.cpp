#include "outcome.hpp"

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>

#include "core/error.hpp"

namespace bnconform::certify {

namespace {

using nlohmann::json;

// JSON has no Inf or NaN: a ratio that is not finite travels as a string.
json number(double v) {
  if (std::isfinite(v)) return v;
  return std::isnan(v) ? "nan" : (v > 0 ? "inf" : "-inf");
}

double number_from(const json& j) {
  if (j.is_number()) return j.get<double>();
  const std::string s = j.get<std::string>();
  if (s == "inf") return HUGE_VAL;
  if (s == "-inf") return -HUGE_VAL;
  return std::nan("");
}

}  // namespace

void item_outcome::add(const cell& where, check::verdict v, double worst_ratio, double max_ulp,
                       const std::string& worst_element) {
  if (v == check::verdict::unsupported) return;  // not called: nothing to count
  auto it = std::find_if(cells.begin(), cells.end(),
                         [&](const cell_figures& f) { return f.where == where; });
  if (it == cells.end()) {
    cells.push_back({where});
    it = cells.end() - 1;
  }
  ++it->calls;
  count_ratio(it->ratios, worst_ratio);
  // NaN ratios (nothing judged) leave the worst as it was.
  if (worst_ratio > it->worst_ratio) {
    it->worst_ratio = worst_ratio;
    it->worst_element = worst_element;
  }
  if (check::is_failure(v)) {
    ++it->failed;
    if (worst_ratio > it->failed_worst_ratio) it->failed_worst_ratio = worst_ratio;
  }
  if (max_ulp > it->max_ulp) it->max_ulp = max_ulp;
}

std::string output_heading(const item_outcome& o) {
  if (o.output.empty() && o.output_dropped == 0) return {};
  std::string text = "kernel output: " + std::to_string(o.output.size()) + " bytes";
  if (o.output_dropped > 0) text += " (" + std::to_string(o.output_dropped) + " more dropped)";
  return text;
}

std::vector<std::string> output_excerpt(const item_outcome& o, std::size_t lines,
                                        std::size_t width) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start < o.output.size() && out.size() < lines) {
    std::size_t end = o.output.find('\n', start);
    if (end == std::string::npos) end = o.output.size();
    std::string line = o.output.substr(start, std::min(end - start, width));
    // A terminal shows the summary: no control character of the kernel's reaches it.
    for (char& ch : line) {
      if ((static_cast<unsigned char>(ch) < 0x20 && ch != '\t') || ch == 0x7f) ch = '?';
    }
    if (end - start > width) line += "...";
    out.push_back(line);
    start = end + 1;
  }
  if (start < o.output.size()) out.emplace_back("...");
  return out;
}

std::string to_json_line(const item_outcome& o) {
  json cells = json::array();
  for (const cell_figures& f : o.cells) {
    cells.push_back({{"cell", to_string(f.where)},
                     {"calls", f.calls},
                     {"failed", f.failed},
                     {"worst_ratio", number(f.worst_ratio)},
                     {"failed_worst_ratio", number(f.failed_worst_ratio)},
                     {"max_ulp", number(f.max_ulp)},
                     {"ratios", f.ratios},
                     {"worst_element", f.worst_element}});
  }
  const json j = {{"group", name_of(o.kind)},
                  {"name", o.name},
                  {"verdict", check::name_of(o.result)},
                  {"reason", o.reason},
                  {"repro", o.repro},
                  {"details", o.details},
                  {"cells", cells},
                  {"cases", o.cases},
                  {"seconds", o.seconds},
                  {"suite_error", o.suite_error},
                  {"counterexample", o.counterexample},
                  {"output", o.output},
                  {"output_dropped", o.output_dropped}};
  // Replace invalid UTF-8 (a kernel's message may hold anything) rather than throw.
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

item_outcome outcome_from_json(const std::string& text) {
  try {
    const json j = json::parse(text);
    item_outcome o;
    o.kind = parse_group(j.at("group").get<std::string>());
    o.name = j.at("name").get<std::string>();
    o.result = check::parse_verdict(j.at("verdict").get<std::string>());
    o.reason = j.at("reason").get<std::string>();
    o.repro = j.at("repro").get<std::string>();
    o.details = j.at("details").get<std::vector<std::string>>();
    for (const json& c : j.at("cells")) {
      const std::optional<cell> where = parse_cell(c.at("cell").get<std::string>());
      if (!where) report_error("unknown cell " + c.at("cell").dump());
      o.cells.push_back({*where, c.at("calls").get<int>(), c.at("failed").get<int>(),
                         number_from(c.at("worst_ratio")), number_from(c.at("failed_worst_ratio")),
                         number_from(c.at("max_ulp")), c.at("ratios").get<ratio_histogram>(),
                         c.at("worst_element").get<std::string>()});
    }
    o.cases = j.at("cases").get<int>();
    o.seconds = j.at("seconds").get<double>();
    o.suite_error = j.at("suite_error").get<bool>();
    o.counterexample = j.at("counterexample").get<std::string>();
    o.output = j.at("output").get<std::string>();
    o.output_dropped = j.at("output_dropped").get<std::int64_t>();
    return o;
  } catch (const json::exception& e) {
    report_error(std::string("certify: a malformed result from the worker: ") + e.what());
  }
}

}  // namespace bnconform::certify
