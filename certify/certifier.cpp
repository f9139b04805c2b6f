#include "certifier.hpp"

#include <poll.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <fstream>
#include <iomanip>
#include <iterator>
#include <memory>
#include <optional>
#include <ostream>
#include <set>
#include <sstream>
#include <utility>

#include "battery_runner.hpp"
#include "core/child_process.hpp"
#include "core/error.hpp"
#include "core/guard_pages.hpp"
#include "golden/golden_file.hpp"
#include "properties/generated_case.hpp"
#include "properties/properties.hpp"

namespace bnconform::certify {

namespace {

using clock_type = std::chrono::steady_clock;

double seconds_since(clock_type::time_point t) {
  return std::chrono::duration<double>(clock_type::now() - t).count();
}

// The property rounds a worker may make: first, first + stride, ... below `last`
// at least, then more while the budget lasts when `open_ended`.
struct round_range {
  std::int64_t first = 0, last = 0, stride = 1;
  bool open_ended = false;
};

// What one child is asked to do.
struct assignment {
  std::vector<std::size_t> items;  // indices of fixed items, in plan order
  round_range rounds;
  double budget_left = 0;  // seconds of rounds beyond `rounds.last`
};

// What stops a --fail-fast run: a failure (check::is_failure).
bool stops_a_fail_fast_run(const item_outcome& o) { return o.failed(); }

// What a kernel prints goes to stderr: stdout carries only certify's summary.
void keep_stdout_for_the_summary() { ::dup2(STDERR_FILENO, STDOUT_FILENO); }

// The bytes a worker's capture file may grow to before the certifier cuts it (the
// first 4 KiB stay): a kernel that prints without end fills no memory.
constexpr std::int64_t capture_trim_limit = std::int64_t{1} << 20;

void attach(item_outcome& o, output_capture::taken t, std::int64_t trimmed = 0) {
  o.output = std::move(t.text);
  o.output_dropped = t.dropped + trimmed;
}

// A kernel's processes end with its calls (docs/abi.md, "Processes"): what it
// started and left running when an item ends is killed, and the item fails. The
// worker is a subreaper, so a process that forked again and left is its child too.
void end_processes_left_running(item_outcome& o) {
  int status = 0;
  pid_t r = 0;
  while ((r = ::waitpid(-1, &status, WNOHANG)) > 0) {
  }
  if (r < 0) return;  // no child at all (ECHILD): the usual case, no /proc scan
  const std::vector<pid_t> left = running_processes_of(::getpid());
  if (left.empty()) return;
  for (const pid_t pid : left) ::kill(pid, SIGKILL);
  for (const pid_t pid : left) ::waitpid(pid, &status, 0);
  std::string pids;
  for (const pid_t pid : left) pids += (pids.empty() ? "" : ", ") + std::to_string(pid);
  const std::string what = "the kernel left " + std::to_string(left.size()) + " process" +
                           (left.size() == 1 ? "" : "es") + " running after its calls (pid " +
                           pids + "; clause no_process_left_running): the harness killed " +
                           (left.size() == 1 ? "it" : "them");
  if (o.failed()) {
    o.details.insert(o.details.begin(), what);
    return;
  }
  o.result = check::verdict::fail;
  o.reason = what;
}

// The child: loads the kernel and runs its assignment, one line per event. What
// the kernel prints goes to `capture`, and is attached to the item that printed it.
int run_worker(const kernel_source& source, const plan& p, const settings& s, const assignment& a,
               child_channel& out, output_capture& capture) {
  capture.redirect_standard_streams();
#ifdef __linux__
  ::prctl(PR_SET_CHILD_SUBREAPER, 1);
#endif
  // A fault in a guard page becomes a line "fault out-of-bounds write: y, ..." that
  // names the buffer, sent before the process dies of it.
  guard_pages::report_faults_to(out.fd());
  source.with_kernel([&](const kernel& k) {
    const repro_context ctx{source.argument, &s};
    for (const std::size_t i : a.items) {
      out.send("begin " + std::to_string(i));
      item_outcome o = run_item(k, p.fixed[i], ctx, [&] { out.send("alive"); });
      end_processes_left_running(o);
      attach(o, capture.take());
      out.send("result " + to_json_line(o));
      if (s.fail_fast && stops_a_fail_fast_run(o)) {
        out.send("done");
        return;
      }
    }
    // Rounds of properties the kernel cannot be asked are reported once (their
    // first round says why) and skipped after that.
    std::vector<bool> supported;
    for (const properties::property_id id : properties::all_properties()) {
      supported.push_back(properties::unsupported_reason(id, k).empty());
    }
    const bool any = std::find(supported.begin(), supported.end(), true) != supported.end();
    const auto deadline = clock_type::now() + std::chrono::duration_cast<clock_type::duration>(
                                                  std::chrono::duration<double>(a.budget_left));
    for (std::int64_t r = a.rounds.first;; r += a.rounds.stride) {
      if (r >= a.rounds.last && (!a.rounds.open_ended || !any || clock_type::now() >= deadline)) {
        break;
      }
      if (r >= property_count() && !supported[static_cast<std::size_t>(r % property_count())]) {
        continue;
      }
      out.send("round " + std::to_string(r));
      item_outcome o =
          run_round(k, r, ctx, [&](const std::string& repro) { out.send("case " + repro); });
      end_processes_left_running(o);
      attach(o, capture.take());
      out.send("result " + to_json_line(o));
      if (s.fail_fast && stops_a_fail_fast_run(o)) break;
    }
    out.send("done");
  });
  return 0;
}

constexpr std::string_view partial_run_reason =
    "a partial run (--only or --groups) certifies nothing";

[[noreturn]] void no_such_item(const std::string& only) {
  report_error("--only: no item named '" + only +
               "' (names are those of the report, e.g. 'degenerate/nan-in-channel' or "
               "'properties/batch-permutation#0')");
}

// Loads the kernel in a child and reads back its name, version and capabilities.
bool probe(const kernel_source& source, const settings& s, certification& out) {
  std::vector<std::string> lines;
  const child_exit e = run_child(
      [&](child_channel& ch) {
        keep_stdout_for_the_summary();
        source.with_kernel([&](const kernel& k) {
          const bnc_capabilities& c = k.capabilities();
          ch.send("name " + k.name());
          ch.send("version " + k.version());
          std::ostringstream caps;
          caps << "caps " << c.operations << ' ' << c.dtypes << ' ' << c.layouts << ' '
               << c.profiles << ' ' << c.min_rank << ' ' << c.max_rank << ' '
               << static_cast<int>(c.memory) << ' ' << c.keeps_module_state;
          ch.send(caps.str());
          ch.send(std::string("memory ") + (k.memory_available() ? "yes" : "no"));
        });
        return 0;
      },
      std::chrono::milliseconds(static_cast<long>(s.case_timeout_seconds * 1000)),
      [&](const std::string& line) { lines.push_back(line); });
  for (const std::string& line : lines) {
    if (line.rfind("name ", 0) == 0) out.identity.name = line.substr(5);
    if (line.rfind("version ", 0) == 0) out.identity.version = line.substr(8);
    if (line.rfind("caps ", 0) == 0) {
      std::istringstream in(line.substr(5));
      bnc_capabilities& c = out.identity.capabilities;
      int memory = 0;
      in >> c.operations >> c.dtypes >> c.layouts >> c.profiles >> c.min_rank >> c.max_rank >>
          memory >> c.keeps_module_state;
      c.memory = static_cast<bnc_memory>(memory);
      out.loaded = !in.fail();
    }
    if (line == "memory no") out.memory_available = false;
    if (line.rfind("child-error ", 0) == 0) out.load_error = line.substr(12);
  }
  if (!out.loaded && out.load_error.empty()) {
    out.load_error = "loading the kernel " + e.describe();
  }
  return out.loaded;
}

// The cell a crash is pinned on, when the case that was running names one.
std::optional<cell> cell_of_crash(const item& it, const std::string& last_case) {
  try {
    if (!last_case.empty()) {
      const properties::generated_case c = properties::parse_case(last_case);
      return cell_of(c.p, false);
    }
    if (it.kind == group::coverage) return parse_cell(it.subject);
    if ((it.kind == group::gradient || it.kind == group::realistic) && !it.subject.empty()) {
      return cell_of(problem::parse(it.subject), true);
    }
  } catch (const error&) {
  }
  return std::nullopt;
}

// `fault`: what the child's fault reporter said before it died ("out-of-bounds
// write: y, 65536 bytes past its end"), or empty.
item_outcome isolation_failure(const item& it, const std::string& last_case, const child_exit& e,
                               const std::string& fault, const repro_context& ctx) {
  item_outcome o;
  o.kind = it.kind;
  o.name = it.name;
  o.result =
      e.kind == child_exit::how::timed_out ? check::verdict::timed_out : check::verdict::crashed;
  o.reason = (fault.empty() ? "" : fault + ": ") + "the kernel's process " + e.describe() + " in " +
             it.name;
  if (!last_case.empty()) o.reason += " on case " + last_case;
  o.counterexample = last_case;
  if (const std::optional<cell> c = cell_of_crash(it, last_case)) o.add(*c, o.result, 0, 0);
  o.repro = repro_command(ctx, it.name);
  return o;
}

// "properties/<name>#<k>" back to its round number, k * P + index of <name>.
std::optional<std::int64_t> parse_round_name(const std::string& name) {
  const std::size_t hash = name.rfind('#');
  if (hash == std::string::npos) return std::nullopt;
  for (std::int64_t i = 0; i < property_count(); ++i) {
    const std::string first = round_name(i);
    if (first.compare(0, first.size() - 1, name, 0, hash + 1) != 0 ||
        first.size() - 1 != hash + 1) {
      continue;
    }
    try {
      std::size_t used = 0;
      const long long k = std::stoll(name.substr(hash + 1), &used);
      if (used != name.size() - hash - 1 || k < 0) return std::nullopt;
      return k * property_count() + i;
    } catch (const std::exception&) {
      return std::nullopt;
    }
  }
  return std::nullopt;
}

// Lanes finish items out of plan order: the counts are of fixed items and of
// rounds done so far, and a group's first outcome prints at once. A listener
// (a progress bar) replaces the count lines.
class progress_printer {
 public:
  progress_printer(std::ostream& out, std::size_t fixed, double fixed_cost, double budget,
                   const progress_listener& listener)
      : out_(out), fixed_(fixed), fixed_cost_(fixed_cost), budget_(budget), listener_(listener) {}
  // `cost`: the item's cost (cost_of), 0 for a round.
  void outcome(const item_outcome& o, int failures, double cost,
               const std::optional<clock_type::time_point>& rounds_started) {
    if (o.failed()) {
      out_ << "certify: " << check::name_of(o.result) << " " << o.name << ": " << o.reason << '\n';
    }
    const bool rounds = o.kind == group::properties;
    ++(rounds ? rounds_done_ : fixed_done_);
    cost_done_ += cost;
    if (listener_) {
      out_.flush();
      listener_(state(failures, rounds_started));
      return;
    }
    const bool new_group = seen_.insert(o.kind).second;
    if (new_group || seconds_since(last_) >= 2.0) {
      out_ << "certify: " << name_of(o.kind);
      if (rounds) {
        out_ << " round " << rounds_done_;
      } else {
        out_ << " " << fixed_done_ << "/" << fixed_;
      }
      out_ << ", " << failures << " failed so far, " << std::fixed << std::setprecision(1)
           << seconds_since(start_) << " s\n"
           << std::defaultfloat;
      last_ = clock_type::now();
    }
    out_.flush();
  }

 private:
  run_progress state(int failures,
                     const std::optional<clock_type::time_point>& rounds_started) const {
    run_progress r;
    r.fixed_done = fixed_done_;
    r.fixed_total = fixed_;
    r.rounds_done = rounds_done_;
    r.failures = failures;
    r.seconds = seconds_since(start_);
    const double done = fixed_cost_ > 0 ? std::min(1.0, cost_done_ / fixed_cost_) : 1.0;
    const double rounds_left =
        rounds_started ? std::max(0.0, budget_ - seconds_since(*rounds_started)) : budget_;
    if (done > 0) {
      const double fixed_left = r.seconds * (1 - done) / done;
      // Lanes that finished their items run rounds beside those that have not.
      r.seconds_left =
          rounds_started ? std::max(fixed_left, rounds_left) : fixed_left + rounds_left;
      r.fraction = r.seconds + r.seconds_left > 0 ? r.seconds / (r.seconds + r.seconds_left) : 1.0;
    } else if (fixed_ > 0) {
      r.fraction = static_cast<double>(fixed_done_) / static_cast<double>(fixed_);
    }
    return r;
  }

  std::ostream& out_;
  std::size_t fixed_;
  double fixed_cost_, budget_;
  const progress_listener& listener_;
  std::size_t fixed_done_ = 0, rounds_done_ = 0;
  double cost_done_ = 0;
  std::set<group> seen_;
  clock_type::time_point start_ = clock_type::now(), last_ = start_;
};

// One worker process's share of the plan, and what the certifier knows of the
// child that runs it now.
struct lane {
  assignment work;  // what is left: items not yet reported, rounds from work.rounds.first
  std::unique_ptr<child_process> child;
  clock_type::time_point last_word;
  std::optional<std::size_t> current_item;
  std::optional<std::int64_t> current_round;
  std::string last_case;
  std::string fault;  // the child's "fault ..." line, if it sent one
  // What the child's kernel prints (run_worker), shared with the child; the bytes
  // the certifier cut from it (trim) since the last outcome.
  std::unique_ptr<output_capture> output = std::make_unique<output_capture>();
  std::int64_t output_trimmed = 0;
  bool done = false;      // the child said "done"
  bool pipe_open = true;  // false once every write end of its pipe is closed

  bool has_work() const {
    return !work.items.empty() || work.rounds.first < work.rounds.last || work.rounds.open_ended;
  }
};

// What a fixed item costs to run, roughly: the elements a realistic item judges, a
// small constant for the others.
double cost_of(const item& it) {
  if (it.kind == group::realistic && !it.subject.empty()) {
    try {
      return 2.0 * static_cast<double>(problem::parse(it.subject).element_count());
    } catch (const error&) {
    }
  }
  return 5e4;
}

// Fixed items over `jobs` lanes, costliest first to the least loaded lane (each
// lane then runs its items in plan order); property rounds dealt out in turn.
std::vector<lane> make_lanes(const plan& p, const round_range& rounds, int jobs,
                             double budget_seconds) {
  std::vector<lane> lanes(static_cast<std::size_t>(std::max(1, jobs)));
  std::vector<std::size_t> order(p.fixed.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::vector<double> costs(p.fixed.size());
  for (std::size_t i = 0; i < costs.size(); ++i) costs[i] = cost_of(p.fixed[i]);
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return costs[a] > costs[b]; });
  std::vector<double> load(lanes.size(), 0.0);
  for (const std::size_t i : order) {
    const std::size_t least =
        static_cast<std::size_t>(std::min_element(load.begin(), load.end()) - load.begin());
    lanes[least].work.items.push_back(i);
    load[least] += costs[i];
  }
  const auto n = static_cast<std::int64_t>(lanes.size());
  for (std::int64_t j = 0; j < n; ++j) {
    lane& l = lanes[static_cast<std::size_t>(j)];
    std::sort(l.work.items.begin(), l.work.items.end());
    l.work.rounds = rounds;
    l.work.rounds.first = rounds.first + j;
    l.work.rounds.stride = n;
    l.work.budget_left = budget_seconds;
  }
  return lanes;
}

// Runs the plan's items and rounds in child processes, `options.jobs` at a time
// (one under fail-fast, so that it stops at the first failure in plan order), and
// gathers their outcomes in plan order.
void run_lanes(const kernel_source& source, const plan& p, const settings& options,
               const round_range& rounds, certification& c, std::ostream& progress,
               const progress_listener& listener) {
  const repro_context ctx{source.argument, &options};
  const auto idle_limit = std::chrono::duration_cast<clock_type::duration>(
      std::chrono::duration<double>(options.case_timeout_seconds));
  double fixed_cost = 0;
  for (const item& it : p.fixed) fixed_cost += cost_of(it);
  progress_printer printer(progress, p.fixed.size(), fixed_cost,
                           rounds.open_ended ? options.budget_seconds : 0, listener);
  std::vector<lane> lanes =
      make_lanes(p, rounds, options.fail_fast ? 1 : options.jobs, options.budget_seconds);
  std::vector<std::pair<std::int64_t, item_outcome>> found;  // (plan position, outcome)
  std::vector<bool> reported(p.fixed.size(), false);
  int failures = 0;
  std::optional<clock_type::time_point> rounds_started;
  bool stopping = false;

  const auto record = [&](std::int64_t position, item_outcome o) {
    failures += stops_a_fail_fast_run(o) ? 1 : 0;
    const bool fixed = position < static_cast<std::int64_t>(p.fixed.size());
    found.emplace_back(position, std::move(o));
    printer.outcome(found.back().second, failures,
                    fixed ? cost_of(p.fixed[static_cast<std::size_t>(position)]) : 0.0,
                    rounds_started);
    if (options.fail_fast && failures > 0) stopping = true;
  };
  const auto forget = [](std::vector<std::size_t>& items, std::size_t i) {
    items.erase(std::remove(items.begin(), items.end(), i), items.end());
  };
  const auto on_line = [&](lane& l, const std::string& line) {
    l.last_word = clock_type::now();
    if (line.rfind("begin ", 0) == 0) {
      l.current_item = std::stoul(line.substr(6));
      l.current_round.reset();
      l.last_case.clear();
    } else if (line.rfind("round ", 0) == 0) {
      l.current_round = std::stoll(line.substr(6));
      l.current_item.reset();
      l.last_case.clear();
      if (!rounds_started) rounds_started = clock_type::now();
    } else if (line.rfind("case ", 0) == 0) {
      l.last_case = line.substr(5);
    } else if (line.rfind("fault ", 0) == 0) {
      l.fault = line.substr(6);
    } else if (line.rfind("result ", 0) == 0) {
      std::int64_t position = 0;
      if (l.current_item) {
        forget(l.work.items, *l.current_item);
        reported[*l.current_item] = true;
        position = static_cast<std::int64_t>(*l.current_item);
      } else if (l.current_round) {
        l.work.rounds.first = *l.current_round + l.work.rounds.stride;
        position = static_cast<std::int64_t>(p.fixed.size()) + *l.current_round;
      }
      l.current_item.reset();
      l.current_round.reset();
      item_outcome o = outcome_from_json(line.substr(7));
      o.output_dropped += std::exchange(l.output_trimmed, 0);
      record(position, std::move(o));
    } else if (line == "done") {
      l.done = true;
    } else if (line.rfind("child-error ", 0) == 0) {
      progress << "certify: the worker failed: " << line.substr(12) << '\n';
    }
  };
  // A child that ended: a clean end finishes its lane; otherwise the item or round
  // it was running is the culprit, and the lane goes on after it.
  const auto on_exit = [&](lane& l, const child_exit& e) {
    l.child.reset();
    if (stopping) return;  // killed because the run stops
    if (l.done && e.clean()) {
      l.work.items.clear();
      l.work.rounds = {};
      return;
    }
    ++c.isolation_failures;
    item culprit;
    std::int64_t position = 0;
    if (l.current_item) {
      culprit = p.fixed[*l.current_item];
      forget(l.work.items, *l.current_item);
      reported[*l.current_item] = true;
      position = static_cast<std::int64_t>(*l.current_item);
    } else if (l.current_round) {
      culprit = {group::properties, round_name(*l.current_round), ""};
      l.work.rounds.first = *l.current_round + l.work.rounds.stride;
      position = static_cast<std::int64_t>(p.fixed.size()) + *l.current_round;
    } else {
      // Dead between items, or while loading: nothing to pin it on but the kernel.
      c.load_error = "the kernel's process " + e.describe() + " outside any case";
      progress << "certify: " << c.load_error << '\n';
      stopping = true;
      return;
    }
    // What the kernel printed before it died is the culprit's.
    item_outcome o = isolation_failure(culprit, l.last_case, e, l.fault, ctx);
    attach(o, l.output->take(), std::exchange(l.output_trimmed, 0));
    record(position, std::move(o));
    l.fault.clear();
    l.current_item.reset();
    l.current_round.reset();
    if (c.isolation_failures >= options.max_isolation_failures && !stopping) {
      progress << "certify: stopping after " << c.isolation_failures
               << " crashes or hangs; the rest is left unrun\n";
      stopping = true;
    }
  };

  for (;;) {
    if (!stopping) {
      for (lane& l : lanes) {
        if (l.child || !l.has_work()) continue;
        if (rounds_started) {
          l.work.budget_left =
              std::max(0.0, options.budget_seconds - seconds_since(*rounds_started));
        }
        l.done = false;
        l.pipe_open = true;
        l.current_item.reset();
        l.current_round.reset();
        l.last_case.clear();
        l.fault.clear();
        const assignment a = l.work;
        output_capture& capture = *l.output;
        (void)capture.take();  // what a child that ended left there is nobody's
        l.output_trimmed = 0;
        l.child = std::make_unique<child_process>(
            [&, a](child_channel& ch) { return run_worker(source, p, options, a, ch, capture); });
        l.last_word = clock_type::now();
      }
    } else {
      for (lane& l : lanes) {
        if (l.child) l.child->kill();
      }
    }
    // A child can end while a process it left holds its pipe open, or close its pipe
    // (a kernel that closes descriptors it does not own) and go on: the lanes are
    // looked at every 100 ms whatever the pipes say.
    std::vector<pollfd> fds;
    std::vector<lane*> polled;
    auto wait_for = std::min<clock_type::duration>(idle_limit, std::chrono::milliseconds(100));
    bool any_child = false;
    for (lane& l : lanes) {
      if (!l.child) continue;
      any_child = true;
      wait_for = std::min(wait_for, idle_limit - (clock_type::now() - l.last_word));
      if (!l.pipe_open) continue;
      fds.push_back({l.child->fd(), POLLIN, 0});
      polled.push_back(&l);
    }
    if (!any_child) break;
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(wait_for).count();
    const int ready = ::poll(fds.data(), fds.size(), static_cast<int>(std::max<long>(0, ms)) + 1);
    if (ready < 0 && errno != EINTR) report_error("poll failed while running the workers");
    for (std::size_t i = 0; i < polled.size(); ++i) {
      lane& l = *polled[i];
      if (ready > 0 && fds[i].revents != 0) {
        std::vector<std::string> lines;
        l.pipe_open = l.child->read_available(lines);
        for (const std::string& line : lines) on_line(l, line);
      }
    }
    for (lane& l : lanes) {
      if (!l.child) continue;
      l.output_trimmed += l.output->trim(capture_trim_limit);
      if (l.child->ended()) {
        std::vector<std::string> lines;
        l.child->read_available(lines);
        for (const std::string& line : lines) on_line(l, line);
        on_exit(l, l.child->wait());
        continue;
      }
      const auto silent = clock_type::now() - l.last_word;
      if (silent >= idle_limit) {
        l.child->kill();
        on_exit(l, l.child->wait(true, std::chrono::duration<double>(silent).count()));
      }
    }
  }

  std::stable_sort(found.begin(), found.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  for (auto& [position, o] : found) c.items.push_back(std::move(o));
  c.not_run = static_cast<int>(std::count(reported.begin(), reported.end(), false));
  c.stopped_early = stopping;
}

void summarize(certification& c, const plan& p) {
  for (const cell& where : all_cells()) {
    cell_summary row;
    row.where = where;
    row.declared = declared(c.identity.capabilities, where);
    row.result = row.declared ? check::verdict::pass : check::verdict::unsupported;
    bool judged = false;
    for (const item_outcome& o : c.items) {
      for (const cell_figures& f : o.cells) {
        if (f.where != where) continue;
        row.calls += f.calls;
        add_histogram(row.ratios, f.ratios);
        if (f.worst_ratio > row.worst_ratio) {
          row.worst_ratio = f.worst_ratio;
          row.worst_item = o.name;
          row.worst_element = f.worst_element;
        }
        row.failed_worst_ratio = std::max(row.failed_worst_ratio, f.failed_worst_ratio);
        row.max_ulp = std::max(row.max_ulp, f.max_ulp);
        judged = true;
        if (f.failed > 0 && check::severity(o.result) > check::severity(row.result))
          row.result = o.result;
        if (f.failed > 0 && row.result == check::verdict::pass) row.result = check::verdict::fail;
      }
    }
    if (row.declared && !judged) row.result = check::verdict::mistrusted;  // declared, never judged
    c.cells.push_back(row);
  }
  for (const group g : all_groups()) {
    group_summary s;
    s.kind = g;
    for (const item_outcome& o : c.items) {
      if (o.kind != g) continue;
      ++s.items;
      s.cases += o.cases;
      if (o.passed())
        ++s.passed;
      else if (o.failed())
        ++s.failed;
      else if (o.result == check::verdict::unsupported)
        ++s.unsupported;
      else
        ++s.not_judged;
    }
    if (s.items > 0 || (g == group::properties && p.properties)) c.groups.push_back(s);
  }
}

void decide(certification& c, bool complete) {
  std::vector<std::string>& why = c.verdict_reasons;
  if (!c.loaded) why.push_back("the kernel could not be loaded: " + c.load_error);
  if (!c.nothing_to_judge.empty()) why.push_back("nothing certified: " + c.nothing_to_judge);
  if (!complete) why.emplace_back(partial_run_reason);
  int failed = 0, suite_errors = 0;
  for (const item_outcome& o : c.items) {
    if (o.failed()) ++failed;
    if (o.suite_error) ++suite_errors;
  }
  if (failed > 0) why.push_back(std::to_string(failed) + " item(s) failed, crashed or timed out");
  if (suite_errors > 0) {
    why.push_back(std::to_string(suite_errors) +
                  " item(s) could not be judged because of an error of the suite");
  }
  if (c.not_run > 0) why.push_back(std::to_string(c.not_run) + " item(s) were not run");
  for (const cell_summary& row : c.cells) {
    if (row.declared && row.calls == 0 && complete && c.loaded) {
      why.push_back("declared but never judged: " + to_string(row.where));
    }
  }
  c.certified = why.empty();
}

}  // namespace

// A name that no plan could hold is a usage error, found before any kernel runs.
// Realistic items are named by the pairs a kernel declares: only its own plan can say.
void check_item_name(const settings& options, const std::string& only) {
  if (only.empty() || only.rfind("realistic/", 0) == 0) return;
  bnc_capabilities everything{};
  everything.operations = everything.dtypes = everything.layouts = everything.profiles = ~0u;
  const plan all = make_plan(everything, options);
  const bool fixed = std::any_of(all.fixed.begin(), all.fixed.end(),
                                 [&](const item& i) { return i.name == only; });
  const std::optional<std::int64_t> round = parse_round_name(only);
  if (!fixed && (!round || round_name(*round) != only)) no_such_item(only);
}

certification certify(const kernel_source& source, const settings& options, const std::string& only,
                      std::ostream& progress, const progress_listener& listener) {
  const auto start = clock_type::now();
  certification c;
  c.source = source;
  c.options = options;
  c.only = only;
  if (!source.library_path.empty()) {
    std::ifstream in(source.library_path, std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (in.good() || in.eof()) c.identity.sha256 = golden::sha256_hex(bytes);
  }
  check_item_name(options, only);
  progress << "certify: loading " << source.argument << " in a child process\n";
  if (!probe(source, options, c)) {
    progress << "certify: " << c.load_error << '\n';
    decide(c, true);
    c.seconds = seconds_since(start);
    return c;
  }
  progress << "certify: " << c.identity.name << " " << c.identity.version << ": "
           << capabilities_text(c.identity.capabilities) << '\n';
  if ((c.identity.capabilities.profiles & BNC_BIT(static_cast<int>(profile_of(options)))) == 0) {
    progress << "certify: the kernel does not implement the " << options.profile << " profile\n";
    c.profile_implemented = false;
    c.verdict_reasons.push_back("the kernel does not implement the " + options.profile +
                                " profile");
    c.certified = false;
    c.seconds = seconds_since(start);
    return c;
  }
  // A declaration that leaves nothing to judge ends here: no item, no property budget.
  c.nothing_to_judge = nothing_to_judge(c.identity.capabilities, c.memory_available);
  if (!c.nothing_to_judge.empty()) {
    progress << "certify: nothing certified: " << c.nothing_to_judge << '\n';
    decide(c, true);
    c.seconds = seconds_since(start);
    return c;
  }

  plan p = make_plan(c.identity.capabilities, options);
  round_range rounds{0, p.properties ? property_count() : 0, 1, p.properties};
  const bool complete = only.empty() && options.groups == all_groups();
  if (!only.empty()) {
    const auto it =
        std::find_if(p.fixed.begin(), p.fixed.end(), [&](const item& i) { return i.name == only; });
    if (it != p.fixed.end()) {
      p.fixed = {*it};
      rounds = {};
    } else {
      const std::optional<std::int64_t> round = parse_round_name(only);
      // Valid for some kernel (checked above), but not in this one's plan.
      if (!round || round_name(*round) != only) no_such_item(only);
      p.fixed.clear();
      rounds = {*round, *round + 1, 1, false};
    }
  }

  run_lanes(source, p, options, rounds, c, progress, listener);
  summarize(c, p);
  decide(c, complete);
  c.seconds = seconds_since(start);
  return c;
}

std::string profile_row::status() const {
  if (!run.loaded) return "not met: the kernel could not be loaded: " + run.load_error;
  if (!run.profile_implemented) return "not implemented";
  if (run.certified) return "met";
  for (const item_outcome& o : run.items) {
    if (o.failed()) return "not met: " + o.name + ": " + o.reason;
  }
  if (run.verdict_reasons.size() == 1 && run.verdict_reasons[0] == partial_run_reason) {
    return "passed (a partial run certifies nothing)";
  }
  return "not met: " + (run.verdict_reasons.empty() ? std::string("no reason given")
                                                    : run.verdict_reasons.front());
}

profiles_certification certify_profiles(const kernel_source& source, const settings& options,
                                        const std::vector<std::string>& profiles,
                                        const std::string& only, std::ostream& progress,
                                        const progress_listener& listener) {
  const auto start = clock_type::now();
  profiles_certification out;
  out.budget_seconds = options.budget_seconds;
  // Which profiles the kernel declares decides how the property budget is shared;
  // a probe run (no groups) learns it without running anything.
  for (const std::string& name : profiles) {
    settings s = options;
    s.profile = name;
    check_item_name(s, only);
  }
  int implemented = 0;
  std::vector<bool> implements(profiles.size(), true);
  if (profiles.size() > 1) {
    settings probe_only = options;
    probe_only.groups.clear();
    std::ostringstream quiet;
    const certification first = certify(source, probe_only, "", quiet);
    for (std::size_t i = 0; i < profiles.size(); ++i) {
      const std::optional<profile> pf = parse_profile_name(profiles[i]);
      implements[i] = pf && first.loaded &&
                      (first.identity.capabilities.profiles & BNC_BIT(static_cast<int>(*pf))) != 0;
      if (implements[i]) ++implemented;
    }
  }
  // The built-in networks' layers are the same calls in every profile but for their
  // per-channel scalars, which every other group judges per profile: they run in the
  // first profile the kernel implements (a --shapes file's run in every profile).
  std::string realistic_profile;
  const auto realistic = std::find(options.groups.begin(), options.groups.end(), group::realistic);
  for (std::size_t i = 0; i < profiles.size(); ++i) {
    const std::string& name = profiles[i];
    settings s = options;
    s.profile = name;
    if (implemented > 1) s.budget_seconds = options.budget_seconds / implemented;
    if (profiles.size() > 1) progress << "certify: profile " << name << '\n';
    if (profiles.size() > 1 && options.shapes_file.empty() && realistic != options.groups.end() &&
        implements[i] && only.rfind("realistic/", 0) != 0) {
      if (realistic_profile.empty()) {
        realistic_profile = name;
      } else {
        s.realistic_ran_in = realistic_profile;
        progress << "certify: the realistic group's networks ran in the " << realistic_profile
                 << " profile (--shapes runs a file's shapes in every profile)\n";
      }
    }
    progress_listener one_profile;
    if (listener) {
      one_profile = [&, i](run_progress r) {
        r.profile = name;
        r.profile_number = i + 1;
        r.profiles = profiles.size();
        listener(r);
      };
    }
    out.rows.push_back({name, certify(source, s, only, progress, one_profile)});
  }
  int met = 0;
  for (const profile_row& row : out.rows) {
    if (row.met()) {
      ++met;
    } else if (!row.run.loaded) {
      out.verdict_reasons.push_back(row.profile +
                                    ": the kernel could not be loaded: " + row.run.load_error);
    } else if (row.implemented()) {
      out.verdict_reasons.push_back(row.profile + ": " + row.status());
    }
  }
  if (met == 0 && out.verdict_reasons.empty()) {
    out.verdict_reasons.emplace_back("the kernel implements none of the profiles asked for");
  }
  out.certified = out.verdict_reasons.empty();
  out.seconds = seconds_since(start);
  return out;
}

}  // namespace bnconform::certify
