#include "report.hpp"

#include <cmath>
#include <ctime>
#include <iomanip>
#include <nlohmann/json.hpp>
#include <sstream>

#include "check/ratio_text.hpp"
#include "failure_case.hpp"

namespace bnconform::certify {

namespace {

using nlohmann::json;

std::string figure(double v) {
  if (std::isinf(v)) return "inf";
  std::ostringstream out;
  out << std::setprecision(3) << v;
  return out.str();
}

json number(double v) {
  if (std::isfinite(v)) return v;
  return std::isnan(v) ? "nan" : (v > 0 ? "inf" : "-inf");
}

// The ratio a row shows: over every call of a cell that passes; over the failing
// calls of one that fails, "n/a" where none of them exceeded a budget
// (check/ratio_text.hpp).
std::string row_ratio(const cell_summary& row) {
  if (!check::is_failure(row.result)) return figure(row.worst_ratio);
  return check::ratio_text(row.result, row.failed_worst_ratio, 3);
}

json row_ratio_json(const cell_summary& row) {
  if (!check::is_failure(row.result)) return number(row.worst_ratio);
  if (!check::ratio_explains(row.result, row.failed_worst_ratio)) return "n/a";
  return number(row.failed_worst_ratio);
}

const saved_failure* saved_failure_of(const certification& c, const std::string& item) {
  for (const saved_failure& s : c.saved_failures) {
    if (s.item == item) return &s;
  }
  return nullptr;
}

std::string verdict_word(const certification& c) {
  return c.certified ? "CERTIFIED" : "NOT CERTIFIED";
}

std::string xml_escaped(const std::string& s) {
  std::string out;
  for (const char ch : s) {
    switch (ch) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default:
        // XML 1.0 allows no control characters but tab, newline and return.
        if (static_cast<unsigned char>(ch) < 0x20 && ch != '\t' && ch != '\n' && ch != '\r') {
          out += ' ';
        } else {
          out += ch;
        }
    }
  }
  return out;
}

}  // namespace

std::string summary_text(const certification& c) {
  std::ostringstream out;
  out << "bnconform certify: " << c.source.argument;
  if (c.loaded) out << " (" << c.identity.name << " " << c.identity.version << ")";
  out << ", level " << check::name_of(c.options.level) << ", profile " << c.options.profile
      << ", seed " << c.options.seed << "\n";
  if (!c.loaded) {
    out << "\nthe kernel could not be loaded: " << c.load_error
        << "\n\nverdict: " << verdict_word(c) << "\n";
    return out.str();
  }
  out << "declares " << capabilities_text(c.identity.capabilities) << "\n\n";
  if (!c.profile_implemented) {
    out << "the kernel does not implement the " << c.options.profile
        << " profile: nothing was run\n\nverdict: " << verdict_word(c) << " at "
        << check::name_of(c.options.level) << "\n";
    return out.str();
  }
  if (!c.nothing_to_judge.empty()) {
    out << "nothing certified: " << c.nothing_to_judge
        << " (nothing was run)\n\nverdict: " << verdict_word(c) << " at "
        << check::name_of(c.options.level);
    for (const std::string& why : c.verdict_reasons) out << "\n  - " << why;
    out << "\n";
    return out.str();
  }
  out << std::left << std::setw(19) << "operation" << std::setw(6) << "dtype" << std::setw(16)
      << "layout" << std::setw(13) << "verdict" << std::right << std::setw(7) << "cases"
      << std::setw(13) << "worst ratio" << std::setw(10) << "max ulp"
      << "\n";
  bool footnote = false;
  for (const cell_summary& row : c.cells) {
    out << std::left << std::setw(19) << operation_name(row.where.operation) << std::setw(6)
        << name_of(row.where.data_type) << std::setw(16) << name_of(row.where.memory_layout);
    const std::string verdict = !row.declared    ? "unsupported"
                                : row.calls == 0 ? "not judged"
                                                 : std::string(check::name_of(row.result));
    out << std::setw(13) << verdict << std::right << std::setw(7) << row.calls;
    if (row.calls > 0) {
      std::string ratio = row_ratio(row);
      if (ratio == "n/a") {
        ratio += "*";
        footnote = true;
      }
      out << std::setw(13) << ratio << std::setw(10) << figure(row.max_ulp);
    } else {
      out << std::setw(13) << "-" << std::setw(10) << "-";
    }
    out << "\n";
  }
  if (footnote) {
    out << "* failed on a rule with no budget ratio (a non-finite mismatch, an exact rule, a "
           "status, a guard, nondeterminism, a property, a crash): see the failures below\n";
  }
  out << "\n";
  for (const group_summary& g : c.groups) {
    out << std::left << std::setw(16) << name_of(g.kind) << std::right << g.items
        << " item(s): " << g.passed << " pass, " << g.failed << " fail, " << g.unsupported
        << " unsupported, " << g.not_judged << " not judged; " << g.cases << " case(s)\n";
  }
  int failures = 0;
  for (const item_outcome& o : c.items) {
    if (!o.failed()) continue;
    if (failures++ == 0) out << "\nfailures:\n";
    out << "  " << check::name_of(o.result) << " " << o.name << ": " << o.reason << "\n";
    for (std::size_t i = 0; i < o.details.size() && i < 5; ++i)
      out << "      " << o.details[i] << "\n";
    if (const std::string heading = output_heading(o); !heading.empty()) {
      out << "    " << heading << ":\n";
      for (const std::string& line : output_excerpt(o, 3, 120)) out << "      | " << line << "\n";
    }
    out << "    repro: " << o.repro << "\n";
    if (const saved_failure* s = saved_failure_of(c, o.name)) {
      if (s->path.empty()) {
        out << "    no case file: " << s->why_none << "\n";
      } else {
        out << "    replay: " << replay_command(c, s->path) << "\n";
      }
    }
  }
  for (const item_outcome& o : c.items) {
    if (o.suite_error) {
      out << "  not judged " << o.name << ": " << o.reason << "\n";
    }
  }
  const bool partial = !c.only.empty() || c.options.groups != all_groups();
  if (partial) {
    int passed = 0;
    for (const item_outcome& o : c.items) passed += o.passed() ? 1 : 0;
    out << "\nverdict: PARTIAL RUN (certifies nothing): " << passed << " of " << c.items.size()
        << " item(s) passed at " << check::name_of(c.options.level);
  } else {
    out << "\nverdict: " << verdict_word(c) << " at " << check::name_of(c.options.level);
  }
  if (!c.certified && !partial) {
    for (const std::string& why : c.verdict_reasons) out << "\n  - " << why;
  }
  std::ostringstream seconds;
  seconds << std::fixed << std::setprecision(1) << c.seconds;
  out << "\n(" << c.items.size() << " item(s) in " << seconds.str() << " s)\n";
  return out.str();
}

std::string certificate_json(const certification& c, const run_identity& run) {
  json cells = json::array();
  for (const cell_summary& row : c.cells) {
    cells.push_back({{"operation", operation_name(row.where.operation)},
                     {"dtype", name_of(row.where.data_type)},
                     {"layout", name_of(row.where.memory_layout)},
                     {"declared", row.declared},
                     {"verdict", !row.declared    ? "unsupported"
                                 : row.calls == 0 ? "not-judged"
                                                  : std::string(check::name_of(row.result))},
                     {"cases", row.calls},
                     {"worst_ratio", row_ratio_json(row)},
                     {"max_ulp", number(row.max_ulp)}});
  }
  json groups = json::array();
  for (const group_summary& g : c.groups) {
    groups.push_back({{"group", name_of(g.kind)},
                      {"items", g.items},
                      {"pass", g.passed},
                      {"fail", g.failed},
                      {"unsupported", g.unsupported},
                      {"not_judged", g.not_judged},
                      {"cases", g.cases}});
  }
  json failures = json::array();
  json items = json::array();
  for (const item_outcome& o : c.items) {
    double worst = 0, failed_worst = 0, ulp = 0;
    for (const cell_figures& f : o.cells) {
      worst = std::max(worst, f.worst_ratio);
      failed_worst = std::max(failed_worst, f.failed_worst_ratio);
      ulp = std::max(ulp, f.max_ulp);
    }
    const json item_ratio = !o.failed()                                     ? number(worst)
                            : check::ratio_explains(o.result, failed_worst) ? number(failed_worst)
                                                                            : json("n/a");
    json item = {{"name", o.name},         {"verdict", check::name_of(o.result)},
                 {"cases", o.cases},       {"worst_ratio", item_ratio},
                 {"max_ulp", number(ulp)}, {"seconds", o.seconds}};
    // Only where the kernel printed: a quiet kernel's certificate stays as it was.
    const json output = {{"text", o.output}, {"dropped_bytes", o.output_dropped}};
    if (!output_heading(o).empty()) item["output"] = output;
    items.push_back(item);
    if (o.failed()) {
      json failure = {{"name", o.name},
                      {"verdict", check::name_of(o.result)},
                      {"reason", o.reason},
                      {"details", o.details},
                      {"repro", o.repro}};
      if (!output_heading(o).empty()) failure["output"] = output;
      if (const saved_failure* s = saved_failure_of(c, o.name)) {
        failure["case_file"] = s->path.empty() ? json(nullptr) : json(s->path);
        if (s->path.empty()) failure["no_case_file"] = s->why_none;
      }
      failures.push_back(failure);
    }
  }
  const bnc_capabilities& caps = c.identity.capabilities;
  json kernel = {
      {"argument", c.source.argument},
      {"name", c.identity.name},
      {"version", c.identity.version},
      {"library", c.source.library_path.empty() ? json(nullptr) : json(c.source.library_path)},
      {"sha256", c.identity.sha256.empty() ? json(nullptr) : json(c.identity.sha256)},
      {"loaded", c.loaded}};
  if (c.loaded) kernel["capabilities"] = capabilities_text(caps);
  if (!c.loaded) kernel["load_error"] = c.load_error;
  std::ostringstream seed;
  seed << c.options.seed;
  const std::time_t now = std::time(nullptr);
  char when[32];
  std::strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
  const json j = {
      {"format", "bnconform-certificate/1"},
      {"suite",
       {{"name", "bnconform"}, {"version", run.suite_version}, {"revision", run.suite_revision}}},
      {"kernel", kernel},
      {"machine",
       {{"cpu_model", run.cpu_model},
        {"kernel_variant", run.kernel_variant.empty() ? json(nullptr) : json(run.kernel_variant)}}},
      {"command_line", run.command_line},
      {"level", check::name_of(c.options.level)},
      {"profile", c.options.profile},
      {"seed", seed.str()},
      {"budget_seconds", c.options.budget_seconds},
      {"case_timeout_seconds", c.options.case_timeout_seconds},
      {"only", c.only.empty() ? json(nullptr) : json(c.only)},
      {"written", when},
      {"seconds", c.seconds},
      {"certified", c.certified},
      {"verdict", c.certified ? "certified" : "not-certified"},
      {"reasons", c.verdict_reasons},
      {"nothing_to_judge", c.nothing_to_judge.empty() ? json(nullptr) : json(c.nothing_to_judge)},
      {"cells", cells},
      {"groups", groups},
      {"failures", failures},
      {"items", items}};
  return j.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
}

namespace {

void junit_suites(std::ostringstream& out, const certification& c, const std::string& prefix) {
  if (!c.loaded) {
    out << "  <testsuite name=\"" << prefix << "load\" tests=\"1\" failures=\"1\">\n"
        << "    <testcase classname=\"bnconform.certify\" name=\"load\">\n"
        << "      <failure message=\"" << xml_escaped(c.load_error) << "\"/>\n"
        << "    </testcase>\n  </testsuite>\n";
    return;
  }
  if (!c.nothing_to_judge.empty()) {
    out << "  <testsuite name=\"" << prefix << "declaration\" tests=\"1\" failures=\"1\">\n"
        << "    <testcase classname=\"bnconform.certify\" name=\"declaration\">\n"
        << "      <failure message=\"nothing certified: " << xml_escaped(c.nothing_to_judge)
        << "\"/>\n"
        << "    </testcase>\n  </testsuite>\n";
    return;
  }
  for (const group_summary& g : c.groups) {
    double time = 0;
    for (const item_outcome& o : c.items) time += o.kind == g.kind ? o.seconds : 0;
    out << "  <testsuite name=\"" << prefix << name_of(g.kind) << "\" tests=\"" << g.items
        << "\" failures=\"" << g.failed << "\" skipped=\"" << (g.unsupported + g.not_judged)
        << "\" time=\"" << time << "\">\n";
    for (const item_outcome& o : c.items) {
      if (o.kind != g.kind) continue;
      out << "    <testcase classname=\"bnconform." << prefix << name_of(g.kind) << "\" name=\""
          << xml_escaped(o.name) << "\" time=\"" << o.seconds << "\">\n";
      if (o.failed()) {
        std::string body;
        for (const std::string& d : o.details) body += d + "\n";
        body += "repro: " + o.repro + "\n";
        out << "      <failure type=\"" << check::name_of(o.result) << "\" message=\""
            << xml_escaped(o.reason) << "\">" << xml_escaped(body) << "</failure>\n";
      } else if (!o.passed()) {
        out << "      <skipped message=\"" << check::name_of(o.result) << ": "
            << xml_escaped(o.reason) << "\"/>\n";
      }
      if (const std::string heading = output_heading(o); !heading.empty()) {
        out << "      <system-out>" << xml_escaped(heading + "\n" + o.output) << "</system-out>\n";
      }
      out << "    </testcase>\n";
    }
    out << "  </testsuite>\n";
  }
}

}  // namespace

std::string junit_xml(const certification& c) {
  int tests = 0, failures = 0, skipped = 0;
  for (const item_outcome& o : c.items) {
    ++tests;
    failures += o.failed() ? 1 : 0;
    skipped += (!o.passed() && !o.failed()) ? 1 : 0;
  }
  // A kernel that cannot be loaded, or declares nothing to judge: one failing case.
  const bool whole_run_failed = !c.loaded || !c.nothing_to_judge.empty();
  std::ostringstream out;
  out << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      << "<testsuites name=\"bnconform certify " << xml_escaped(c.source.argument) << "\" tests=\""
      << (whole_run_failed ? 1 : tests) << "\" failures=\"" << (whole_run_failed ? 1 : failures)
      << "\" skipped=\"" << skipped << "\" time=\"" << c.seconds << "\">\n";
  if (!c.loaded) {
    out << "  <testsuite name=\"load\" tests=\"1\" failures=\"1\">\n"
        << "    <testcase classname=\"bnconform.certify\" name=\"load\">\n"
        << "      <failure message=\"" << xml_escaped(c.load_error) << "\"/>\n"
        << "    </testcase>\n  </testsuite>\n</testsuites>\n";
    return out.str();
  }
  junit_suites(out, c, "");
  out << "</testsuites>\n";
  return out.str();
}

std::string summary_text(const profiles_certification& pc) {
  if (pc.rows.size() == 1) return summary_text(pc.rows[0].run);
  std::ostringstream out;
  for (const profile_row& row : pc.rows) {
    if (row.implemented()) out << summary_text(row.run) << "\n";
  }
  const certification* any = pc.rows.empty() ? nullptr : &pc.rows[0].run;
  std::size_t width = 8;
  for (const profile_row& row : pc.rows) width = std::max(width, row.profile.size() + 2);
  out << "profiles:\n";
  for (const profile_row& row : pc.rows) {
    out << "  " << std::left << std::setw(static_cast<int>(width)) << row.profile << row.status()
        << "\n";
  }
  const bool partial =
      any != nullptr && (!any->only.empty() || any->options.groups != all_groups());
  const std::string level = any != nullptr ? std::string(check::name_of(any->options.level)) : "";
  if (partial) {
    out << "\nverdict: PARTIAL RUN (certifies nothing) at " << level;
  } else {
    out << "\nverdict: " << (pc.certified ? "CERTIFIED" : "NOT CERTIFIED") << " at " << level;
    std::string met, unimplemented;
    for (const profile_row& row : pc.rows) {
      if (row.met()) met += (met.empty() ? "" : ", ") + row.profile;
      if (row.run.loaded && !row.run.profile_implemented) {
        unimplemented += (unimplemented.empty() ? "" : ", ") + row.profile;
      }
    }
    if (!met.empty()) out << " for " << met;
    if (!unimplemented.empty()) out << " (not implemented: " << unimplemented << ")";
    if (!pc.certified) {
      for (const std::string& why : pc.verdict_reasons) out << "\n  - " << why;
    }
  }
  std::size_t items = 0;
  for (const profile_row& row : pc.rows) items += row.run.items.size();
  std::ostringstream seconds;
  seconds << std::fixed << std::setprecision(1) << pc.seconds;
  out << "\n(" << pc.rows.size() << " profile(s), " << items << " item(s) in " << seconds.str()
      << " s)\n";
  return out.str();
}

std::string certificate_json(const profiles_certification& pc, const run_identity& run) {
  if (pc.rows.empty()) return "{}\n";
  json rows = json::array();
  json all_failures = json::array();
  for (const profile_row& row : pc.rows) {
    json one = json::parse(certificate_json(row.run, run));
    json entry = {{"profile", row.profile},
                  {"implemented", row.implemented()},
                  {"status", row.status()},
                  {"met", row.met()}};
    if (pc.rows.size() > 1 && row.implemented()) {
      for (const char* key :
           {"certified", "reasons", "seconds", "cells", "groups", "failures", "items"}) {
        entry[key] = one.at(key);
      }
      for (json f : one.at("failures")) {
        f["profile"] = row.profile;
        all_failures.push_back(f);
      }
    }
    rows.push_back(entry);
  }
  json j = json::parse(certificate_json(pc.rows[0].run, run));
  if (pc.rows.size() > 1) {
    std::string asked;
    for (const profile_row& row : pc.rows) asked += (asked.empty() ? "" : ",") + row.profile;
    j["profile"] = asked;
    j["budget_seconds"] = pc.budget_seconds;
    j["seconds"] = pc.seconds;
    j["certified"] = pc.certified;
    j["verdict"] = pc.certified ? "certified" : "not-certified";
    j["reasons"] = pc.verdict_reasons;
    j["failures"] = all_failures;
    j.erase("cells");
    j.erase("groups");
    j.erase("items");
  }
  j["profiles"] = rows;
  return j.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
}

std::string junit_xml(const profiles_certification& pc) {
  if (pc.rows.size() == 1) return junit_xml(pc.rows[0].run);
  int tests = 0, failures = 0, skipped = 0;
  for (const profile_row& row : pc.rows) {
    // A row that could not load its kernel or had nothing to judge is one failing case.
    if (!row.run.loaded || !row.run.nothing_to_judge.empty()) {
      ++tests;
      ++failures;
      continue;
    }
    for (const item_outcome& o : row.run.items) {
      ++tests;
      failures += o.failed() ? 1 : 0;
      skipped += (!o.passed() && !o.failed()) ? 1 : 0;
    }
  }
  std::ostringstream out;
  const std::string argument = pc.rows.empty() ? "" : pc.rows[0].run.source.argument;
  out << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      << "<testsuites name=\"bnconform certify " << xml_escaped(argument) << "\" tests=\"" << tests
      << "\" failures=\"" << failures << "\" skipped=\"" << skipped << "\" time=\"" << pc.seconds
      << "\">\n";
  for (const profile_row& row : pc.rows) junit_suites(out, row.run, row.profile + "/");
  out << "</testsuites>\n";
  return out.str();
}

}  // namespace bnconform::certify
