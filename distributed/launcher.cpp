#include "launcher.hpp"

#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

#include "rank_worker.hpp"

namespace bnconform::distributed {

namespace {

bool executable_file(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(path.c_str(), X_OK) == 0;
}

std::string last_lines(const std::string& path, std::size_t count) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) lines.push_back(line);
  }
  std::string out;
  for (std::size_t i = lines.size() > count ? lines.size() - count : 0; i < lines.size(); ++i) {
    out += lines[i] + "\n";
  }
  return out;
}

// "in call 2 at collective 1", "done with call 2", "started no call" from a rank's
// progress file.
std::string where_of(const std::string& directory, int rank) {
  std::ifstream in(progress_path(directory, rank));
  std::string last;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) last = line;
  }
  std::istringstream words(last);
  std::string what;
  int call = -1, collective = -1;
  words >> what >> call >> collective;
  const std::string r = "rank " + std::to_string(rank) + ": ";
  if (what == "call") return r + "in call " + std::to_string(call) + " before any collective";
  if (what == "collective") {
    return r + "in call " + std::to_string(call) + " at collective " + std::to_string(collective);
  }
  if (what == "done") return r + "done with call " + std::to_string(call);
  return r + "started no call";
}

// What mpiexec said of a rank that ended the job ("process rank 1 with PID ... exited
// on signal 6 (Aborted)"), or empty.
std::string rank_failure(const std::string& log) {
  std::ifstream in(log);
  for (std::string line; std::getline(in, line);) {
    const std::size_t at = line.find("process rank");
    if (at != std::string::npos) return line.substr(at);
  }
  return {};
}

}  // namespace

std::string find_mpiexec() {
  if (const char* given = std::getenv("BNCONFORM_MPIEXEC"); given != nullptr && *given != '\0') {
    return executable_file(given) ? std::string(given) : std::string();
  }
  const char* path = std::getenv("PATH");
  std::istringstream dirs(path != nullptr ? path : "");
  for (std::string dir; std::getline(dirs, dir, ':');) {
    if (dir.empty()) continue;
    const std::string candidate = dir + "/mpiexec";
    if (executable_file(candidate)) return candidate;
  }
  return {};
}

std::vector<std::string> mpiexec_command(const launch_options& o) {
  // --oversubscribe: more ranks than cores is the point on a small machine;
  // --bind-to none: oversubscribed ranks bound to one core each would starve.
  return {o.mpiexec,    "--oversubscribe",
          "--bind-to",  "none",
          "-n",         std::to_string(o.ranks),
          o.executable, "rank-worker",
          "--kernel",   o.kernel_argument,
          "--job",      o.job_path,
          "--out",      o.directory};
}

launch_result launch_ranks(const launch_options& o) {
  const std::vector<std::string> command = mpiexec_command(o);
  const std::string log = o.directory + "/mpiexec.log";
  std::vector<char*> argv;
  std::vector<std::string> args = command;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  launch_result result;
  const pid_t pid = ::fork();
  if (pid < 0) {
    result.failure = "cannot start mpiexec: fork failed";
    return result;
  }
  if (pid == 0) {
    // A process group of its own, ended whole at the limit; and ended with the
    // process that started it (a certify worker that is killed takes its job along).
    ::setpgid(0, 0);
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    const int out = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (out >= 0) {
      ::dup2(out, STDOUT_FILENO);
      ::dup2(out, STDERR_FILENO);
    }
    // Open MPI refuses root unless told twice; a container's only user is root.
    if (::geteuid() == 0) {
      ::setenv("OMPI_ALLOW_RUN_AS_ROOT", "1", 1);
      ::setenv("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1", 1);
    }
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  ::setpgid(pid, pid);
  const auto start = std::chrono::steady_clock::now();
  const auto limit = std::chrono::duration<double>(o.timeout_seconds);
  int status = 0;
  bool timed_out = false;
  for (;;) {
    if (::waitpid(pid, &status, WNOHANG) == pid) break;
    if (std::chrono::steady_clock::now() - start > limit) {
      timed_out = true;
      ::kill(pid, SIGTERM);  // mpiexec ends its ranks
      for (int i = 0; i < 20 && ::waitpid(pid, &status, WNOHANG) != pid; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
      ::kill(-pid, SIGKILL);
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      break;
    }
    if (o.heartbeat) o.heartbeat();
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ::kill(-pid, SIGKILL);  // nothing of the job outlives it
  result.output_tail = last_lines(log, 12);
  if (timed_out) {
    char text[64];
    std::snprintf(text, sizeof text, "%.1f", o.timeout_seconds);
    result.failure = "the ranks did not finish within " + std::string(text) +
                     " s (a rank hung or never joined a collective); the job was ended";
  } else if (WIFSIGNALED(status)) {
    result.failure = "mpiexec was killed by signal " + std::to_string(WTERMSIG(status));
  } else if (WEXITSTATUS(status) == 127) {
    result.failure = "cannot run " + o.mpiexec;
  } else if (WEXITSTATUS(status) != 0) {
    const std::string said = rank_failure(log);
    result.failure =
        said.empty() ? "mpiexec exited with status " + std::to_string(WEXITSTATUS(status)) : said;
  } else {
    result.finished = true;
    return result;
  }
  for (int r = 0; r < o.ranks; ++r) result.where.push_back(where_of(o.directory, r));
  return result;
}

}  // namespace bnconform::distributed
