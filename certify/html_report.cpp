#include "html_report.hpp"

#include <algorithm>
#include <cmath>
#include <ctime>
#include <iomanip>
#include <sstream>

#include "battery_runner.hpp"
#include "check/ratio_text.hpp"
#include "failure_case.hpp"
#include "html_figures.hpp"

namespace bnconform::certify {

namespace {

constexpr std::string_view style = R"(
body { font: 14px/1.4 system-ui, sans-serif; margin: 24px; color: #222; max-width: 1200px; }
h1 { font-size: 22px; margin: 0 0 8px; } h2 { font-size: 18px; margin: 28px 0 8px; }
h3 { font-size: 15px; margin: 18px 0 6px; }
code, pre { font: 12px/1.4 ui-monospace, monospace; }
pre { background: #f6f6f6; padding: 6px 8px; white-space: pre-wrap; margin: 4px 0; }
.verdict { display: inline-block; font-weight: bold; padding: 4px 12px; border-radius: 4px; }
.verdict.certified { background: #1a9850; color: #fff; }
.verdict.not-certified { background: #d73027; color: #fff; }
.verdict.partial { background: #fdae61; color: #222; }
table { border-collapse: collapse; }
th, td { text-align: left; padding: 3px 8px; vertical-align: top; }
table.identity th { color: #555; font-weight: normal; }
table.grid td.cell { width: 118px; height: 64px; border: 2px solid #fff; padding: 4px 6px; }
table.grid td.cell a { color: inherit; text-decoration: none; display: block; }
table.grid td.cell .what { font-weight: bold; }
table.grid td.cell.light { color: #fff; }
table.grid th { font-weight: normal; color: #555; text-align: center; }
table.grid th.operation { text-align: right; }
table.groups td, table.groups th { border-bottom: 1px solid #ddd; }
.failure { border-left: 4px solid #d73027; padding: 2px 10px; margin: 4px 0; }
.failure summary, .more > summary { cursor: pointer; }
.more > summary { margin: 6px 0; color: #555; }
.cell-detail { border-left: 4px solid #ccc; padding: 2px 10px; margin: 12px 0; }
.legend span { display: inline-block; padding: 1px 8px; margin-right: 6px; border-radius: 3px; color: #222; }
.muted { color: #666; }
)";

std::string figure(double v, int digits = 3) {
  if (std::isinf(v)) return "inf";
  std::ostringstream out;
  out << std::setprecision(digits) << v;
  return out.str();
}

bool partial_run(const certification& c) {
  return !c.only.empty() || c.options.groups != all_groups();
}

// The ratio a cell shows (as the summary table does): over every call of a passing
// cell, over the failing calls of a failing one, "n/a" where those exceeded none.
std::string shown_ratio(const cell_summary& row) {
  if (!check::is_failure(row.result)) return figure(row.worst_ratio);
  return check::ratio_text(row.result, row.failed_worst_ratio, 3);
}

// The id of a cell's details (escaped, ready for an attribute).
std::string anchor(const std::string& profile, const cell& where) {
  std::string id = "cell-" + profile + "-" + to_string(where);
  std::replace(id.begin(), id.end(), ' ', '-');
  return html_escaped(id);
}

void write_identity(std::ostream& out, const profiles_certification& pc, const run_identity& run) {
  const certification& c = pc.rows.front().run;
  const auto row = [&](std::string_view name, const std::string& value) {
    out << "<tr><th>" << name << "</th><td>" << html_escaped(value) << "</td></tr>\n";
  };
  std::string command;
  for (const std::string& arg : run.command_line) command += (command.empty() ? "" : " ") + arg;
  std::string profiles;
  for (const profile_row& r : pc.rows) profiles += (profiles.empty() ? "" : ", ") + r.profile;
  const std::time_t now = std::time(nullptr);
  char when[32];
  std::strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S UTC", std::gmtime(&now));
  std::ostringstream seconds;
  seconds << std::fixed << std::setprecision(1) << pc.seconds << " s";
  out << "<h2>Kernel and machine</h2>\n<table class=\"identity\">\n";
  row("kernel", c.source.argument);
  if (c.loaded) {
    row("name, version", c.identity.name + " " + c.identity.version);
    row("declares", capabilities_text(c.identity.capabilities));
  }
  if (!c.source.library_path.empty()) row("library", c.source.library_path);
  if (!c.identity.sha256.empty()) row("library SHA-256", c.identity.sha256);
  row("CPU", run.cpu_model);
  if (!run.kernel_variant.empty()) row("cpu kernel variant", run.kernel_variant);
  row("bnconform", run.suite_version + " (" + run.suite_revision + ")");
  row("level, profile, seed", std::string(check::name_of(c.options.level)) + ", " + profiles +
                                  ", " + std::to_string(c.options.seed));
  if (!command.empty()) row("command", command);
  row("written", when);
  row("time", seconds.str());
  out << "</table>\n";
}

void write_verdict(std::ostream& out, const profiles_certification& pc) {
  const certification& c = pc.rows.front().run;
  const bool partial = partial_run(c);
  const std::string verdict = pc.certified ? "certified" : "not-certified";
  const std::string css = partial ? "partial" : verdict;
  const std::string text = partial        ? "PARTIAL RUN (certifies nothing)"
                           : pc.certified ? "CERTIFIED"
                                          : "NOT CERTIFIED";
  out << "<p><span id=\"verdict\" class=\"verdict " << css << "\" data-verdict=\"" << verdict
      << "\">" << text << "</span> at " << check::name_of(c.options.level) << "</p>\n";
  if (!pc.certified && !partial && !pc.verdict_reasons.empty()) {
    out << "<ul class=\"reasons\">\n";
    for (const std::string& why : pc.verdict_reasons) {
      out << "<li>" << html_escaped(why) << "</li>\n";
    }
    out << "</ul>\n";
  }
}

// A reason's first `limit` bytes, cut before a UTF-8 continuation byte, with "..."
// where something was left out.
std::string headline(const std::string& reason, std::size_t limit) {
  if (reason.size() <= limit) return reason;
  std::size_t cut = limit;
  while (cut > 0 && (static_cast<unsigned char>(reason[cut]) & 0xC0) == 0x80) --cut;
  return reason.substr(0, cut) + "...";
}

// One line per failure (its verdict, item and the start of its reason); the whole
// reason, the details, the repro and replay lines one click away (<details>, no
// script).
void write_failure(std::ostream& out, const certification& c, const item_outcome& o,
                   const std::string& profile) {
  out << "<details class=\"failure\"><summary><b>" << html_escaped(check::name_of(o.result))
      << "</b> <code>" << html_escaped(o.name) << "</code>";
  if (!profile.empty()) out << " <span class=\"muted\">(" << html_escaped(profile) << ")</span>";
  out << ": " << html_escaped(headline(o.reason, 120)) << "</summary>\n<p>"
      << html_escaped(o.reason) << "</p>\n";
  if (!o.details.empty()) {
    out << "<pre>";
    for (std::size_t i = 0; i < o.details.size() && i < 5; ++i) {
      out << html_escaped(o.details[i]) << "\n";
    }
    out << "</pre>\n";
  }
  if (const std::string heading = output_heading(o); !heading.empty()) {
    out << "<p>" << html_escaped(heading) << "</p><pre>" << html_escaped(o.output) << "</pre>\n";
  }
  out << "<p>repro: <code>" << html_escaped(o.repro) << "</code></p>\n";
  for (const saved_failure& s : c.saved_failures) {
    if (s.item != o.name) continue;
    out << "<p>"
        << (s.path.empty() ? "no case file: " + html_escaped(s.why_none)
                           : "replay: <code>" + html_escaped(replay_command(c, s.path)) + "</code>")
        << "</p>\n";
  }
  out << "</details>\n";
}

// The failures listed before the rest fold into "more failures".
constexpr int shown_failures = 8;

void write_failures(std::ostream& out, const profiles_certification& pc) {
  const bool several = pc.rows.size() > 1;
  int total = 0;
  for (const profile_row& row : pc.rows) {
    total += !row.run.nothing_to_judge.empty() ? 1 : 0;
    for (const item_outcome& o : row.run.items) total += o.failed() ? 1 : 0;
  }
  if (!pc.rows.front().run.loaded) total = 1;
  out << "<h2 id=\"failures\">Failures (" << total << ")</h2>\n";
  if (total == 0) out << "<p class=\"muted\">none</p>\n";
  if (!pc.rows.front().run.loaded) {
    // Every profile's run says the same.
    out << "<p class=\"failure\"><b>the kernel could not be loaded</b>: "
        << html_escaped(pc.rows.front().run.load_error) << "</p>\n";
    return;
  }
  int count = 0;
  for (const profile_row& row : pc.rows) {
    const certification& c = row.run;
    if (!c.nothing_to_judge.empty()) {
      out << "<p class=\"failure\"><b>nothing certified</b>: " << html_escaped(c.nothing_to_judge)
          << "</p>\n";
      ++count;
    }
    for (const item_outcome& o : c.items) {
      if (!o.failed()) continue;
      // Past the first few, the rest fold away so that the grid stays near the top.
      if (count == shown_failures) {
        out << "<details class=\"more\"><summary>" << total - shown_failures
            << " more failures</summary>\n";
      }
      write_failure(out, c, o, several ? row.profile : "");
      ++count;
    }
  }
  if (count > shown_failures) out << "</details>\n";
}

void write_grid(std::ostream& out, const certification& c, const std::string& profile) {
  const std::vector<cell> every = all_cells();
  std::vector<std::pair<dtype, layout>> columns;
  std::vector<std::uint32_t> operations;
  for (const cell& where : every) {
    const std::pair<dtype, layout> column{where.data_type, where.memory_layout};
    if (std::find(columns.begin(), columns.end(), column) == columns.end()) {
      columns.push_back(column);
    }
    if (std::find(operations.begin(), operations.end(), where.operation) == operations.end()) {
      operations.push_back(where.operation);
    }
  }
  out << "<table class=\"grid\"><tr><th></th>";
  for (const auto& [t, l] : columns) out << "<th>" << name_of(t) << "<br>" << name_of(l) << "</th>";
  out << "</tr>\n";
  for (const std::uint32_t op : operations) {
    out << "<tr><th class=\"operation\">" << operation_name(op) << "</th>";
    for (const auto& [t, l] : columns) {
      const cell where{op, t, l};
      const auto row = std::find_if(c.cells.begin(), c.cells.end(),
                                    [&](const cell_summary& s) { return s.where == where; });
      if (row == c.cells.end()) {
        out << "<td></td>";
        continue;
      }
      const std::string verdict = cell_verdict(*row);
      out << "<td class=\"cell" << (dark_text_on(*row) ? "" : " light") << "\" data-cell=\""
          << html_escaped(to_string(where)) << "\" data-verdict=\"" << html_escaped(verdict)
          << "\" style=\"background:" << cell_colour(*row) << "\">";
      if (row->calls > 0) out << "<a href=\"#" << anchor(profile, where) << "\">";
      out << "<div class=\"what\">" << html_escaped(verdict) << "</div>";
      if (row->calls > 0) {
        out << "<div>ratio " << html_escaped(shown_ratio(*row)) << ", " << row->calls
            << " call(s)</div>" << ratio_histogram_svg(row->ratios, true) << "</a>";
      }
      out << "</td>";
    }
    out << "</tr>\n";
  }
  out << "</table>\n<p class=\"legend muted\">"
      << "<span style=\"background:#1a9850;color:#fff\">pass, ratio 1e-4 or less</span>"
      << "<span style=\"background:#a6d96a\">pass, 0.1</span>"
      << "<span style=\"background:#fee08b\">pass, near 1 (the budget)</span>"
      << "<span style=\"background:#d73027;color:#fff\">fail, crashed, timed out</span>"
      << "<span style=\"background:#fdae61\">not judged</span>"
      << "<span style=\"background:#e8e8e8\">unsupported</span>"
      << "ratio: the worst error / budget of the cell's calls (of its failing calls where it "
         "fails); a cell links to its histogram</p>\n";
}

void write_cell_detail(std::ostream& out, const certification& c, const cell_summary& row,
                       const std::string& profile) {
  out << "<div class=\"cell-detail\" id=\"" << anchor(profile, row.where) << "\"><h3>"
      << html_escaped(to_string(row.where)) << ": " << html_escaped(cell_verdict(row)) << "</h3>\n"
      << "<p>" << row.calls << " call(s); worst ratio " << html_escaped(shown_ratio(row))
      << "; max ULP " << figure(row.max_ulp) << "</p>\n"
      << ratio_histogram_svg(row.ratios, false) << "\n";
  std::string failed_by;
  for (const item_outcome& o : c.items) {
    for (const cell_figures& f : o.cells) {
      if (f.where == row.where && f.failed > 0) {
        failed_by += (failed_by.empty() ? "" : ", ") + o.name;
      }
    }
  }
  if (!failed_by.empty())
    out << "<p>failed in: <code>" << html_escaped(failed_by) << "</code></p>\n";
  if (!row.worst_item.empty()) {
    const repro_context ctx{c.source.argument, &c.options};
    out << "<p>worst ratio " << figure(row.worst_ratio) << " in <code>"
        << html_escaped(row.worst_item) << "</code>";
    if (!row.worst_element.empty())
      out << " at <code>" << html_escaped(row.worst_element) << "</code>";
    out << "<br>repro: <code>" << html_escaped(repro_command(ctx, row.worst_item))
        << "</code></p>\n";
  }
  out << "</div>\n";
}

void write_groups(std::ostream& out, const certification& c) {
  out << "<h3>Groups</h3>\n<table class=\"groups\"><tr><th>group</th><th>items</th><th>pass</th>"
         "<th>fail</th><th>unsupported</th><th>not judged</th><th>cases</th></tr>\n";
  for (const group_summary& g : c.groups) {
    out << "<tr><td>" << name_of(g.kind) << "</td><td>" << g.items << "</td><td>" << g.passed
        << "</td><td>" << g.failed << "</td><td>" << g.unsupported << "</td><td>" << g.not_judged
        << "</td><td>" << g.cases << "</td></tr>\n";
  }
  out << "</table>\n";
}

void write_profile(std::ostream& out, const profile_row& row, bool several) {
  const certification& c = row.run;
  out << "<section class=\"profile\" data-profile=\"" << html_escaped(row.profile) << "\">\n<h2>"
      << (several ? "Profile " + html_escaped(row.profile) + ": " + html_escaped(row.status())
                  : std::string("Cells"))
      << "</h2>\n";
  write_grid(out, c, row.profile);
  // Failing cells first, then the closest to their budget.
  std::vector<const cell_summary*> judged;
  for (const cell_summary& s : c.cells) {
    if (s.declared && s.calls > 0) judged.push_back(&s);
  }
  std::stable_sort(judged.begin(), judged.end(), [](const auto* a, const auto* b) {
    const bool fa = check::is_failure(a->result), fb = check::is_failure(b->result);
    if (fa != fb) return fa;
    return a->worst_ratio > b->worst_ratio;
  });
  out << "<h3>Budget ratios per cell</h3>\n<p class=\"muted\">Each bar counts the cell's judged "
         "calls by the budget ratio of their worst element (error / budget; above 1 is over "
         "budget).</p>\n";
  for (const cell_summary* s : judged) write_cell_detail(out, c, *s, row.profile);
  write_groups(out, c);
  out << "</section>\n";
}

void write_profiles_table(std::ostream& out, const profiles_certification& pc) {
  out << "<h2>Profiles</h2>\n<table class=\"groups\"><tr><th>profile</th><th>status</th></tr>\n";
  for (const profile_row& row : pc.rows) {
    out << "<tr><td>" << html_escaped(row.profile) << "</td><td>" << html_escaped(row.status())
        << "</td></tr>\n";
  }
  out << "</table>\n";
}

}  // namespace

std::string report_html(const profiles_certification& pc, const run_identity& run) {
  std::ostringstream out;
  const std::string kernel = pc.rows.empty() ? "" : pc.rows.front().run.source.argument;
  out << "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
      << "<title>bnconform certify: " << html_escaped(kernel) << "</title>\n<style>" << style
      << "</style></head>\n<body>\n<h1>bnconform certify: " << html_escaped(kernel) << "</h1>\n";
  if (pc.rows.empty()) {
    out << "<p>nothing was certified</p>\n</body></html>\n";
    return out.str();
  }
  write_verdict(out, pc);
  write_failures(out, pc);
  if (pc.rows.size() > 1) write_profiles_table(out, pc);
  for (const profile_row& row : pc.rows) {
    if (row.implemented() && row.run.nothing_to_judge.empty()) {
      write_profile(out, row, pc.rows.size() > 1);
    }
  }
  write_identity(out, pc, run);
  out << "</body></html>\n";
  return out.str();
}

}  // namespace bnconform::certify
