#include "replay.hpp"

#include <sstream>

#include "core/child_process.hpp"
#include "core/error.hpp"
#include "corpus.hpp"

namespace bnconform::fuzz {

namespace {

// The judgement as one line: "VERDICT\tWORST_RATIO\tREASON".
std::string encode(const judgement& j) {
  std::string reason = j.reason;
  for (char& c : reason) c = c == '\t' ? ' ' : c;
  std::ostringstream os;
  os.precision(17);
  os << check::name_of(j.result) << '\t' << j.worst_ratio << '\t' << reason;
  return os.str();
}

std::optional<check::verdict> parse_verdict(std::string_view name) {
  for (const check::verdict v :
       {check::verdict::pass, check::verdict::fail, check::verdict::mistrusted,
        check::verdict::ill_posed, check::verdict::unsupported, check::verdict::crashed,
        check::verdict::timed_out}) {
    if (check::name_of(v) == name) return v;
  }
  return std::nullopt;
}

}  // namespace

bool replay_entry::same() const { return check::name_of(now.result) == recorded; }

std::string replay_report::describe() const {
  std::ostringstream os;
  for (const replay_entry& e : entries) {
    os << (e.same() ? "same     " : "DIFFERENT") << " " << e.file.string() << ": recorded "
       << e.recorded << ", now " << check::name_of(e.now.result) << " (" << e.kernel << ")";
    if (!e.now.reason.empty()) os << ": " << e.now.reason;
    os << "\n";
  }
  os << "replayed " << entries.size() << " findings: " << same << " same verdict, " << different
     << " different\n";
  return os.str();
}

judgement judge_isolated(const kernel& k, const fuzz_inputs& in, check::level l,
                         std::chrono::milliseconds timeout) {
  std::optional<judgement> got;
  std::string child_error;
  const child_exit how = run_child(
      [&](child_channel& channel) {
        channel.send(encode(judge(k, in, l)));
        return 0;
      },
      timeout,
      [&](const std::string& text) {
        if (text.starts_with("child-error")) {
          child_error = text;
          return;
        }
        const std::size_t a = text.find('\t'), b = text.find('\t', a + 1);
        const std::optional<check::verdict> v =
            a == std::string::npos ? std::nullopt : parse_verdict(text.substr(0, a));
        if (!v || b == std::string::npos) return;
        judgement j;
        j.result = *v;
        j.worst_ratio = std::stod(text.substr(a + 1, b - a - 1));
        j.reason = text.substr(b + 1);
        got = j;
      });
  if (!child_error.empty()) report_error("replay: " + child_error);
  if (got && how.clean()) return *got;
  judgement j;
  j.result =
      how.kind == child_exit::how::timed_out ? check::verdict::timed_out : check::verdict::crashed;
  j.reason = "the worker " + how.describe();
  return j;
}

replay_report replay_corpus(const std::vector<std::filesystem::path>& paths,
                            const replay_options& opt,
                            const std::function<const kernel&(const std::string&)>& kernel_named) {
  replay_report report;
  for (const std::filesystem::path& path : paths) {
    for (const std::filesystem::path& file : corpus_files(path)) {
      const case_file c = read_case_file(file.string());
      if (!c.finding) report_error(file.string() + ": no \"finding\" to replay");
      const std::optional<check::level> recorded_level = check::parse_level(c.finding->level);
      if (!recorded_level) {
        report_error(file.string() + ": finding.level: expected \"strict\" or \"standard\", got " +
                     json_string(c.finding->level));
      }
      const check::level l = opt.level.value_or(*recorded_level);
      replay_entry e;
      e.file = file;
      e.kernel = opt.kernel_name.empty() ? c.finding->kernel : opt.kernel_name;
      e.recorded = c.finding->verdict;
      const kernel& k = kernel_named(e.kernel);
      const fuzz_inputs in = inputs_of(c);
      e.now = opt.isolate ? judge_isolated(k, in, l, opt.case_timeout) : judge(k, in, l);
      ++(e.same() ? report.same : report.different);
      report.entries.push_back(std::move(e));
    }
  }
  return report;
}

}  // namespace bnconform::fuzz
