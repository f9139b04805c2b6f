#include "distributed_runner.hpp"

#include <cstdlib>
#include <filesystem>

#include "cell.hpp"
#include "core/error.hpp"
#include "distributed/distributed_cases.hpp"
#include "distributed/judge.hpp"
#include "distributed/launcher.hpp"

namespace bnconform::certify {

namespace {

// A fresh directory for one job's files, removed with this object.
class job_directory {
 public:
  job_directory() {
    const char* tmp = std::getenv("TMPDIR");
    std::string pattern =
        std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/bnconform-ranks-XXXXXX";
    if (::mkdtemp(pattern.data()) == nullptr) report_error("cannot make a directory for the ranks");
    path_ = pattern;
  }
  ~job_directory() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  job_directory(const job_directory&) = delete;
  job_directory& operator=(const job_directory&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

void fold(item_outcome& o, check::verdict v, const std::string& reason,
          const std::vector<std::string>& details) {
  if (check::severity(v) <= check::severity(o.result)) return;
  o.result = v;
  o.reason = reason;
  o.details = details;
}

}  // namespace

void run_distributed_item(const kernel& k, const item& it, const repro_context& r, item_outcome& o,
                          const std::function<void()>& alive) {
  const settings& s = *r.options;
  const auto unsupported = [&](std::string why) {
    o.result = check::verdict::unsupported;
    o.reason = std::move(why);
  };
  if ((k.features() & BNC_FEATURE_DISTRIBUTED_TRAINING) == 0) {
    return unsupported("the kernel does not declare BNC_FEATURE_DISTRIBUTED_TRAINING");
  }
  if (s.executable.empty() || s.mpiexec.empty() || s.ranks < 1) {
    return unsupported("needs the bnconform command and mpiexec (certify --ranks R)");
  }
  const std::vector<distributed::distributed_case> cases =
      distributed::distributed_cases(k.capabilities(), profile_of(s), s.ranks, s.seed);
  const auto found =
      std::find_if(cases.begin(), cases.end(), [&](const auto& c) { return c.name == it.subject; });
  if (found == cases.end()) report_error("distributed: no case named '" + it.subject + "'");
  if (found->jobs.empty()) return unsupported(found->needs);

  check::options opt;
  opt.judged_at = s.level;
  opt.check_determinism = false;  // the ranks ran every step twice themselves
  opt.heartbeat = alive;
  for (const distributed::distributed_job& job : found->jobs) {
    const job_directory dir;
    const std::string job_path = dir.path() + "/job.txt";
    distributed::write_job(job_path, job.calls);
    distributed::launch_options launch;
    launch.mpiexec = s.mpiexec;
    launch.executable = s.executable;
    launch.kernel_argument = r.kernel_argument;
    launch.ranks = job.ranks;
    launch.job_path = job_path;
    launch.directory = dir.path();
    launch.timeout_seconds = s.case_timeout_seconds;
    launch.heartbeat = alive;
    const distributed::launch_result ran = distributed::launch_ranks(launch);
    bool all_judged = true;
    for (std::size_t c = 0; c < job.calls.size(); ++c) {
      const distributed::distributed_call& call = job.calls[c];
      const distributed::call_judgement j =
          distributed::judge_call(call, static_cast<int>(c), dir.path(), opt);
      if (!j.missing.empty()) {
        std::vector<std::string> details{"call: " + call.line()};
        for (const std::string& w : ran.where) details.push_back(w);
        if (!ran.output_tail.empty()) details.push_back("output: " + ran.output_tail);
        const std::string why = ran.finished ? j.missing : ran.failure;
        fold(o, check::verdict::fail,
             std::to_string(job.ranks) + " ranks: " + why + " (call " + std::to_string(c) + ")",
             details);
        all_judged = false;
        break;  // the calls after it never ran
      }
      for (const distributed::step_judgement& step : j.steps) {
        const check::comparison& cmp = step.comparison;
        o.add(cell_of(step.global, step.backward), cmp.result, cmp.worst_ratio, cmp.max_ulp,
              worst_element_of(cmp, step.global));
        ++o.cases;
        std::vector<std::string> details = cmp.first_mismatches;
        for (const std::string& n : cmp.notes) details.push_back("note: " + n);
        details.push_back("call: " + call.line());
        fold(o, cmp.result, cmp.reason, details);
      }
    }
    // Every call was judged, and still a rank ended badly (after its last call, at
    // exit): a finding too.
    if (all_judged && !ran.finished) {
      std::vector<std::string> details = ran.where;
      if (!ran.output_tail.empty()) details.push_back("output: " + ran.output_tail);
      fold(o, check::verdict::fail,
           std::to_string(job.ranks) + " ranks: " + ran.failure + " (after the last call)",
           details);
    }
  }
  if (o.passed() && o.reason.empty()) {
    o.reason =
        "judged against the whole batch over " +
        (found->jobs.size() == 1 ? std::to_string(found->jobs[0].ranks) + " ranks"
                                 : "1 to " + std::to_string(found->jobs.back().ranks) + " ranks");
  }
}

}  // namespace bnconform::certify
