#include "reproducibility.hpp"

#include <fcntl.h>
#include <sched.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "cell.hpp"

namespace bnconform::certify {

namespace {

// How one run is restricted.
struct cpu_setting {
  std::string name;  // for the report: "1 CPU, OMP_NUM_THREADS=1"
  bool one_cpu = false;
  int threads = 0;  // OMP_NUM_THREADS, 0: as inherited
};

int cpus_of_this_process() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (::sched_getaffinity(0, sizeof set, &set) != 0) return 1;
  return std::max(1, CPU_COUNT(&set));
}

std::vector<cpu_setting> settings_to_compare() {
  const int cpus = cpus_of_this_process();
  return {{std::to_string(cpus) + " CPU" + (cpus == 1 ? "" : "s") + " as inherited", false, 0},
          {"1 CPU, OMP_NUM_THREADS=1", true, 1},
          {std::to_string(cpus) + " CPU" + (cpus == 1 ? "" : "s") +
               ", OMP_NUM_THREADS=" + std::to_string(cpus + 1),
           false, cpus + 1}};
}

// Restricts this (child) process as `c` says: the first CPU of its mask.
void restrict_to(const cpu_setting& c) {
  if (c.one_cpu) {
    cpu_set_t set;
    CPU_ZERO(&set);
    if (::sched_getaffinity(0, sizeof set, &set) == 0) {
      for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
        if (CPU_ISSET(cpu, &set)) {
          cpu_set_t one;
          CPU_ZERO(&one);
          CPU_SET(cpu, &one);
          ::sched_setaffinity(0, sizeof one, &one);
          break;
        }
      }
    }
  }
  if (c.threads > 0) ::setenv("OMP_NUM_THREADS", std::to_string(c.threads).c_str(), 1);
}

struct run_result {
  std::string error;  // empty when the run wrote its outputs
  nlohmann::json out;
};

// `bnconform run` in a process of its own, restricted as `c` says, within the case
// timeout.
run_result run_restricted(const repro_context& r, const std::string& problem_text,
                          const cpu_setting& c, const std::string& out_path) {
  const settings& s = *r.options;
  std::vector<std::string> args{s.executable, "run",        "--kernel", r.kernel_argument,
                                "--problem",  problem_text, "--seed",   std::to_string(s.seed),
                                "--hex",      "--output",   out_path};
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  const pid_t pid = ::fork();
  if (pid < 0) return {"fork failed", {}};
  if (pid == 0) {
    restrict_to(c);
    const int null = ::open("/dev/null", O_WRONLY);
    if (null >= 0) {
      ::dup2(null, STDOUT_FILENO);
      ::dup2(null, STDERR_FILENO);
    }
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  const auto deadline = std::chrono::steady_clock::now() +
                        std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                            std::chrono::duration<double>(s.case_timeout_seconds));
  int status = 0;
  for (;;) {
    const pid_t done = ::waitpid(pid, &status, WNOHANG);
    if (done == pid) break;
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      return {"timed out", {}};
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  if (WIFSIGNALED(status)) return {"killed by signal " + std::to_string(WTERMSIG(status)), {}};
  if (WEXITSTATUS(status) != 0) {
    return {"exited with status " + std::to_string(WEXITSTATUS(status)), {}};
  }
  std::ifstream in(out_path);
  run_result result;
  try {
    in >> result.out;
  } catch (const nlohmann::json::exception& e) {
    result.error = std::string("wrote no readable outputs: ") + e.what();
  }
  return result;
}

// The first difference between two runs' outputs and states, or empty.
std::string first_difference(const nlohmann::json& a, const nlohmann::json& b) {
  const nlohmann::json& sa = a.at("steps");
  const nlohmann::json& sb = b.at("steps");
  if (sa.size() != sb.size()) return "a different number of steps";
  for (std::size_t i = 0; i < sa.size(); ++i) {
    const std::string op = sa[i].value("op", "step");
    if (sa[i].value("status", "") != sb[i].value("status", "")) {
      return op + ": status " + sa[i].value("status", "") + " against " + sb[i].value("status", "");
    }
    for (const char* part : {"outputs", "state"}) {
      if (!sa[i].contains(part)) continue;
      for (const auto& [name, value] : sa[i].at(part).items()) {
        const nlohmann::json& other = sb[i].at(part).value(name, nlohmann::json());
        if (value == other) continue;
        if (value.is_object() && other.is_object()) {
          const nlohmann::json& va = value.at("values");
          const nlohmann::json& vb = other.at("values");
          for (std::size_t k = 0; k < std::min(va.size(), vb.size()); ++k) {
            if (va[k] != vb[k]) {
              return op + " " + name + "[" + std::to_string(k) + "]: " + va[k].dump() +
                     " against " + vb[k].dump();
            }
          }
        }
        return op + " " + name + ": " + value.dump().substr(0, 60) + " against " +
               other.dump().substr(0, 60);
      }
    }
  }
  return {};
}

}  // namespace

std::vector<item> reproducibility_items(const bnc_capabilities& caps, const settings& s) {
  // 184,320 elements, C = 40, at the declared rank nearest 4.
  constexpr std::array<std::string_view, 4> shapes{"4608x40", "8x40x576", "8x40x24x24",
                                                   "8x40x6x6x16"};
  const int low = std::clamp(caps.min_rank, 2, 5);
  const int rank = std::clamp(4, low, std::clamp(caps.max_rank, low, 5));
  std::vector<item> out;
  for (const dtype t : {dtype::f32, dtype::bf16, dtype::f16, dtype::f64}) {
    for (const layout l : {layout::channels_first, layout::channels_last}) {
      if (!declared(caps, {BNC_OP_FORWARD_TRAINING, t, l})) continue;
      std::string text = "shape=" + std::string(shapes[static_cast<std::size_t>(rank - 2)]) +
                         ",dtype=" + std::string(name_of(t)) + ",layout=" + std::string(name_of(l));
      if (s.profile != "pytorch") text += ",profile=" + s.profile;
      out.push_back({group::reproducibility, "reproducibility/" + text, text});
    }
  }
  return out;
}

void run_reproducibility_item(const item& it, const repro_context& r, item_outcome& o) {
  const settings& s = *r.options;
  const problem p = problem::parse(it.subject);
  if (s.executable.empty()) {
    o.result = check::verdict::unsupported;
    o.reason =
        "the reproducibility group runs the bnconform command, and this run was not given its "
        "path";
    return;
  }
  const std::filesystem::path directory =
      std::filesystem::temp_directory_path() /
      ("bnconform-reproducibility-" + std::to_string(::getpid()));
  std::filesystem::create_directories(directory);
  const std::vector<cpu_setting> runs = settings_to_compare();
  std::vector<run_result> results;
  for (std::size_t i = 0; i < runs.size(); ++i) {
    results.push_back(run_restricted(r, it.subject, runs[i],
                                     (directory / ("run" + std::to_string(i) + ".json")).string()));
    o.details.push_back(runs[i].name + ": " +
                        (results.back().error.empty() ? "ran" : results.back().error));
  }
  std::error_code ignored;
  std::filesystem::remove_all(directory, ignored);
  o.cases = static_cast<int>(runs.size());
  const cell where = cell_of(p, false);
  for (std::size_t i = 0; i < results.size(); ++i) {
    if (!results[i].error.empty()) {
      o.result = check::verdict::fail;
      o.reason = "the run with " + runs[i].name + " " + results[i].error;
      o.add(where, o.result, 0, 0);
      return;
    }
  }
  for (std::size_t i = 1; i < results.size(); ++i) {
    const std::string difference = first_difference(results[0].out, results[i].out);
    if (difference.empty()) continue;
    const std::string finding = "results depend on the CPU count: " + difference + " (" +
                                runs[0].name + " against " + runs[i].name + ")";
    if (s.level == check::level::strict) {
      o.result = check::verdict::fail;
      o.reason = finding;
    } else {
      o.result = check::verdict::pass;
      o.reason =
          finding + "; a failure at strict, reported at " + std::string(check::name_of(s.level));
    }
    o.add(where, o.result, 0, 0);
    return;
  }
  o.result = check::verdict::pass;
  o.reason =
      "the same bits under " + runs[1].name + " and " + runs[2].name + " as under " + runs[0].name;
  o.add(where, o.result, 0, 0);
}

}  // namespace bnconform::certify
