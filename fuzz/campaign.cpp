#include "campaign.hpp"

#include <poll.h>

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <limits>
#include <memory>
#include <sstream>

#include "core/child_process.hpp"
#include "core/error.hpp"
#include "corpus.hpp"
#include "judge.hpp"
#include "properties/runner.hpp"

namespace bnconform::fuzz {

namespace {

using clock = std::chrono::steady_clock;
using send_fn = std::function<void(const std::string&)>;

// Worker -> parent messages: one line each, fields separated by tabs.
//   case I              before case I is judged
//   shrink I            before each shrink candidate of case I is judged
//   done I VERDICT CLASSES [REPRO]
//   finding I VERDICT KIND PATH REASON   a finding of case I, saved (unshrunk) at PATH
//   shrunk I KIND PATH REASON            the finding of case I, shrunk, now at PATH
//   end                 the worker ran all its cases
std::string line(std::initializer_list<std::string> fields) {
  std::string s;
  for (const std::string& f : fields) {
    if (!s.empty()) s += '\t';
    for (const char c : f) s += c == '\t' ? ' ' : c;
  }
  return s;
}

std::vector<std::string> split(const std::string& text) {
  std::vector<std::string> out;
  std::string field;
  std::istringstream in(text);
  while (std::getline(in, field, '\t')) out.push_back(field);
  return out;
}

std::string hex(std::uint64_t v) {
  char text[24];
  std::snprintf(text, sizeof text, "0x%" PRIx64, v);
  return text;
}

std::string joined_classes(const properties::generated_case& c) {
  std::string s;
  for (const std::string& tag : properties::classes_of(c)) s += (s.empty() ? "" : ",") + tag;
  return s;
}

// "fail forward", "fail backward", "crashed", "timed-out".
std::string kind_of(const judgement& j) {
  std::string kind(check::name_of(j.result));
  if (j.reason.starts_with("forward:")) kind += " forward";
  if (j.reason.starts_with("backward:")) kind += " backward";
  return kind;
}

case_file finding_file(const kernel& k, const campaign_options& opt, std::uint64_t index,
                       const properties::generated_case& c, const judgement& j, bool shrunk) {
  case_file file = case_file_of(
      inputs_of(k, c), "bnconform fuzz --kernel " + opt.kernel_name + " --level " +
                           std::string(check::name_of(opt.level)) + " --seed " + hex(opt.seed) +
                           ": case " + std::to_string(index) + (shrunk ? ", shrunk" : "") +
                           "; replay: bnconform fuzz replay FILE");
  file.finding = case_finding{opt.kernel_name,
                              std::string(check::name_of(opt.level)),
                              std::string(check::name_of(j.result)),
                              j.reason,
                              hex(opt.seed) + "/" + std::to_string(index),
                              c.repro()};
  return file;
}

// One worker's cases: start, start + stride, ... below `end`, until `deadline`.
int run_worker(const kernel& k, const campaign_options& opt, std::uint64_t start,
               std::uint64_t stride, std::uint64_t end, clock::time_point deadline,
               const send_fn& send) {
  for (std::uint64_t i = start; i < end && clock::now() < deadline; i += stride) {
    send(line({"case", std::to_string(i)}));
    const properties::generated_case c = properties::draw_case(k, opt.seed, i, opt.draw);
    const judgement j = judge(k, inputs_of(k, c), opt.level);
    if (j.is_finding()) {
      // Saved before shrinking, so that a crash while shrinking loses nothing.
      const std::filesystem::path first =
          save_finding(opt.corpus, finding_file(k, opt, i, c, j, false));
      send(line({"finding", std::to_string(i), std::string(check::name_of(j.result)), kind_of(j),
                 first.string(), j.reason}));
      const auto still_fails = [&](const properties::generated_case& candidate) {
        send(line({"shrink", std::to_string(i)}));
        return judge(k, inputs_of(k, candidate), opt.level).result == j.result;
      };
      const properties::shrink_result shrunk =
          properties::shrink_case(k, opt.seed, i, opt.draw, still_fails, opt.shrink_tries);
      std::filesystem::path path = first;
      judgement final_judgement = j;
      if (shrunk.steps > 0) {
        final_judgement = judge(k, inputs_of(k, shrunk.smallest), opt.level);
        if (final_judgement.result == j.result) {
          path = save_finding(opt.corpus,
                              finding_file(k, opt, i, shrunk.smallest, final_judgement, true));
          if (path != first) std::filesystem::remove(first);
        } else {
          final_judgement = j;  // not reproducible (a nondeterministic kernel): keep the first
        }
      }
      if (path != first) {
        send(line({"shrunk", std::to_string(i), kind_of(final_judgement), path.string(),
                   final_judgement.reason}));
      }
    }
    send(line({"done", std::to_string(i), std::string(check::name_of(j.result)), joined_classes(c),
               opt.record_cases ? c.repro() : ""}));
  }
  send("end");
  return 0;
}

// The parent's view of the lines and exits of the workers.
class tally {
 public:
  tally(const kernel& k, const campaign_options& opt, campaign_summary& s)
      : k_(k), opt_(opt), s_(s) {}

  struct slot_state {
    std::optional<std::uint64_t> current;  // the case it is judging
    bool shrinking = false;
    bool ended = false;
    bool started = false;      // it sent its first "case" line
    std::uint64_t next = 0;    // where a restart goes on
    std::string finding_kind;  // of the case it is shrinking
  };

  void on_line(slot_state& slot, const std::string& text, std::uint64_t stride) {
    const std::vector<std::string> f = split(text);
    if (f.empty()) return;
    if (f[0] == "child-error") report_error("fuzz worker: " + text.substr(12));
    if (f[0] == "end") {
      slot.ended = true;
      return;
    }
    if (f.size() < 2) return;
    const std::uint64_t index = std::stoull(f[1]);
    if (f[0] == "case") {
      slot.current = index;
      slot.started = true;
      slot.shrinking = false;
      slot.next = index + stride;
    } else if (f[0] == "shrink") {
      slot.shrinking = true;
    } else if (f[0] == "done" && f.size() >= 4) {
      slot.current.reset();
      ++s_.cases;
      ++s_.verdicts[f[2]];
      std::istringstream tags(f[3]);
      for (std::string tag; std::getline(tags, tag, ',');) ++s_.classes[tag];
      if (opt_.record_cases && f.size() >= 5) s_.repros[index] = f[4];
    } else if (f[0] == "finding" && f.size() >= 6) {
      slot.finding_kind = f[3];
      ++s_.failures[f[3]];
      s_.findings.push_back({index, f[2], f[5], f[4]});
    } else if (f[0] == "shrunk" && f.size() >= 5 && !s_.findings.empty()) {
      // The shrunk case may fail another way (forward instead of backward).
      --s_.failures[slot.finding_kind];
      if (s_.failures[slot.finding_kind] == 0) s_.failures.erase(slot.finding_kind);
      ++s_.failures[f[2]];
      for (saved_finding& saved : s_.findings) {
        if (saved.index == index) {
          saved.file = f[3];
          saved.reason = f[4];
        }
      }
    }
  }

  // A worker that ended without finishing: a crash or hang is a finding of the case
  // it was running (unless it was shrinking one, already saved).
  void on_exit(slot_state& slot, const child_exit& how) {
    if (slot.ended && how.clean()) return;
    if (!slot.current) return;
    const std::uint64_t index = *slot.current;
    const properties::generated_case c = properties::draw_case(k_, opt_.seed, index, opt_.draw);
    if (slot.shrinking) {
      // Its finding is saved (unshrunk) and counted; the case is judged.
      ++s_.cases;
      ++s_.verdicts[slot.finding_kind.substr(0, slot.finding_kind.find(' '))];
      for (const std::string& tag : properties::classes_of(c)) ++s_.classes[tag];
      if (opt_.record_cases) s_.repros[index] = c.repro();
      return;
    }
    judgement j;
    j.result = how.kind == child_exit::how::timed_out ? check::verdict::timed_out
                                                      : check::verdict::crashed;
    j.reason = "the worker " + how.describe();
    const std::filesystem::path path =
        save_finding(opt_.corpus, finding_file(k_, opt_, index, c, j, false));
    ++s_.cases;
    ++s_.verdicts[std::string(check::name_of(j.result))];
    for (const std::string& tag : properties::classes_of(c)) ++s_.classes[tag];
    if (opt_.record_cases) s_.repros[index] = c.repro();
    ++s_.failures[kind_of(j)];
    s_.findings.push_back({index, std::string(check::name_of(j.result)), j.reason, path});
  }

 private:
  const kernel& k_;
  const campaign_options& opt_;
  campaign_summary& s_;
};

std::string progress_line(const campaign_summary& s, const campaign_options& opt, double elapsed,
                          double left) {
  char text[200];
  const double rate = elapsed > 0 ? static_cast<double>(s.cases) / elapsed : 0.0;
  if (opt.cases) {
    std::snprintf(text, sizeof text,
                  "fuzz: %" PRIu64 " of %" PRIu64 " cases, %.1f cases/s, %zu failures", s.cases,
                  *opt.cases, rate, s.findings.size());
  } else {
    std::snprintf(text, sizeof text,
                  "fuzz: %" PRIu64 " cases, %.1f cases/s, %zu failures, %.0f s left", s.cases, rate,
                  s.findings.size(), std::max(0.0, left));
  }
  return text;
}

}  // namespace

std::string campaign_summary::describe() const {
  std::ostringstream os;
  os << "cases run: " << cases << " in " << seconds << " s";
  if (seconds > 0) os << " (" << static_cast<double>(cases) / seconds << " cases/s)";
  os << "\nverdicts:";
  for (const auto& [v, n] : verdicts) os << " " << v << " " << n << ";";
  os << "\nfailures by kind:";
  if (failures.empty()) os << " none";
  for (const auto& [kind, n] : failures) os << " " << kind << " " << n << ";";
  if (worker_restarts > 0) os << "\nworker restarts: " << worker_restarts;
  os << "\nproblem classes reached:\n";
  for (const auto& [tag, n] : classes) os << "  " << tag << ": " << n << "\n";
  for (const saved_finding& f : findings) {
    os << "finding: case " << f.index << ": " << f.verdict << ": " << f.reason << "\n  saved "
       << f.file.string() << "\n";
  }
  return os.str();
}

campaign_summary run_campaign(const kernel& k, const campaign_options& opt) {
  if (opt.jobs < 0) report_error("fuzz: --jobs must be >= 0");
  // Fails early, in the parent, when the kernel declares no case at all.
  (void)properties::draw_case(k, opt.seed, opt.first_case, opt.draw);
  campaign_summary summary;
  const clock::time_point start = clock::now();
  const std::uint64_t end =
      opt.cases ? opt.first_case + *opt.cases : std::numeric_limits<std::uint64_t>::max();
  const clock::time_point deadline =
      opt.cases ? clock::time_point::max()
                : start + std::chrono::duration_cast<clock::duration>(
                              std::chrono::duration<double>(opt.minutes * 60.0));
  const auto seconds_left = [&] {
    if (opt.cases) return 0.0;
    return std::chrono::duration<double>(deadline - clock::now()).count();
  };
  tally t(k, opt, summary);
  clock::time_point last_progress = start;
  const auto progress = [&](bool force) {
    const clock::time_point now = clock::now();
    if (!opt.on_progress || (!force && now - last_progress < std::chrono::seconds(1))) return;
    last_progress = now;
    campaign_progress state;
    state.cases = summary.cases;
    state.of = opt.cases;
    state.failures = summary.findings.size();
    state.seconds = std::chrono::duration<double>(now - start).count();
    state.seconds_left = seconds_left();
    state.line = progress_line(summary, opt, state.seconds, state.seconds_left);
    opt.on_progress(state);
  };

  if (opt.jobs == 0) {
    tally::slot_state slot;
    run_worker(k, opt, opt.first_case, 1, end, deadline, [&](const std::string& text) {
      t.on_line(slot, text, 1);
      progress(false);
    });
  } else {
    const auto stride = static_cast<std::uint64_t>(opt.jobs);
    struct worker {
      tally::slot_state state;
      std::unique_ptr<child_process> child;
      clock::time_point last_line;
      bool pipe_open = true;  // a child may close its pipe and go on, or end with it held
    };
    std::vector<worker> workers(static_cast<std::size_t>(opt.jobs));
    const auto launch = [&](worker& w, std::uint64_t from) {
      w.state = {};
      w.state.next = from;
      w.pipe_open = true;
      w.child.reset();
      if (from >= end || clock::now() >= deadline) return;
      w.child = std::make_unique<child_process>([&, from](child_channel& channel) {
        return run_worker(k, opt, from, stride, end, deadline,
                          [&](const std::string& text) { channel.send(text); });
      });
      w.last_line = clock::now();
    };
    for (std::size_t i = 0; i < workers.size(); ++i) launch(workers[i], opt.first_case + i);
    while (std::any_of(workers.begin(), workers.end(),
                       [](const worker& w) { return w.child != nullptr; })) {
      std::vector<pollfd> fds;
      for (const worker& w : workers) {
        if (w.child && w.pipe_open) fds.push_back({w.child->fd(), POLLIN, 0});
      }
      ::poll(fds.data(), fds.size(), 200);
      for (worker& w : workers) {
        if (!w.child) continue;
        std::vector<std::string> lines;
        if (w.pipe_open) w.pipe_open = w.child->read_available(lines);
        const bool ended = w.child->ended();
        if (ended) w.child->read_available(lines);  // what a process it left still held
        if (!lines.empty()) w.last_line = clock::now();
        for (const std::string& text : lines) t.on_line(w.state, text, stride);
        const double silent = std::chrono::duration<double>(clock::now() - w.last_line).count();
        const bool hung = !ended && clock::now() - w.last_line > opt.case_timeout;
        if (!ended && !hung) continue;
        if (hung) w.child->kill();
        const child_exit how = w.child->wait(hung, silent);
        t.on_exit(w.state, how);
        if (!(w.state.ended && how.clean())) {
          if (!w.state.started) {
            report_error("fuzz: a worker ended before its first case (" + how.describe() + ")");
          }
          ++summary.worker_restarts;
          launch(w, w.state.current ? *w.state.current + stride : w.state.next);
        } else {
          w.child.reset();
        }
      }
      progress(false);
    }
  }
  summary.seconds = std::chrono::duration<double>(clock::now() - start).count();
  progress(true);
  return summary;
}

}  // namespace bnconform::fuzz
