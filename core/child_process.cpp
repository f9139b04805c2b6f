#include "child_process.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#ifdef __linux__
#include <sys/mman.h>
#include <sys/prctl.h>
#endif
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <exception>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include "error.hpp"

namespace bnconform {

namespace {

constexpr int child_exception_status = 70;  // EX_SOFTWARE

std::string system_error_text(const char* what) {
  return std::string(what) + ": " + std::strerror(errno);
}

void write_all(int fd, const char* data, std::size_t size) {
  while (size > 0) {
    const ssize_t n = ::write(fd, data, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      return;  // the parent is gone: nobody is left to tell
    }
    data += n;
    size -= static_cast<std::size_t>(n);
  }
}

std::string signal_name(int sig) {
  std::string text = "signal " + std::to_string(sig);
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 32))
  if (const char* abbrev = sigabbrev_np(sig)) {
    text += std::string(" (SIG") + abbrev;
    if (const char* desc = sigdescr_np(sig)) text += std::string(": ") + desc;
    text += ")";
  }
#else
  if (const char* desc = strsignal(sig)) text += std::string(" (") + desc + ")";
#endif
  return text;
}

}  // namespace

child_channel::child_channel(int fd) : fd_(fd) {
  struct stat st {};
  if (::fstat(fd_, &st) == 0) {
    device_ = static_cast<std::uint64_t>(st.st_dev);
    inode_ = static_cast<std::uint64_t>(st.st_ino);
  }
}

void child_channel::send(std::string_view line) const {
  struct stat st {};
  if (::fstat(fd_, &st) != 0 || static_cast<std::uint64_t>(st.st_dev) != device_ ||
      static_cast<std::uint64_t>(st.st_ino) != inode_) {
    ::_exit(report_pipe_lost_status);
  }
  std::string text(line);
  for (char& c : text) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  text += '\n';
  write_all(fd_, text.data(), text.size());
}

namespace {

// take() and trim() run in different processes on one file: a record lock (held
// per process, unlike flock's, which the shared open file would share) keeps one
// from cutting what the other is reading.
class file_lock {
 public:
  explicit file_lock(int fd) : fd_(fd) { set(F_WRLCK); }
  ~file_lock() { set(F_UNLCK); }
  file_lock(const file_lock&) = delete;
  file_lock& operator=(const file_lock&) = delete;

 private:
  void set(short type) const {
    struct flock l {};
    l.l_type = type;
    l.l_whence = SEEK_SET;
    while (::fcntl(fd_, F_SETLKW, &l) != 0 && errno == EINTR) {
    }
  }
  int fd_;
};

}  // namespace

output_capture::output_capture() {
#ifdef __linux__
  fd_ = ::memfd_create("bnconform-output", MFD_CLOEXEC);
#else
  char name[] = "/tmp/bnconform-output-XXXXXX";
  fd_ = ::mkostemp(name, O_CLOEXEC);
  if (fd_ >= 0) ::unlink(name);
#endif
  if (fd_ < 0) report_error(system_error_text("creating the output capture file"));
  // Appending: the child's writes go to the end whatever take() or trim() did.
  ::fcntl(fd_, F_SETFL, ::fcntl(fd_, F_GETFL) | O_APPEND);
  struct stat st {};
  ::fstat(fd_, &st);
  device_ = static_cast<std::uint64_t>(st.st_dev);
  inode_ = static_cast<std::uint64_t>(st.st_ino);
}

output_capture::~output_capture() {
  if (fd_ >= 0) ::close(fd_);
}

bool output_capture::still_the_file() const {
  struct stat st {};
  return ::fstat(fd_, &st) == 0 && static_cast<std::uint64_t>(st.st_dev) == device_ &&
         static_cast<std::uint64_t>(st.st_ino) == inode_;
}

void output_capture::redirect_standard_streams() const {
  std::cout.flush();
  std::cerr.flush();
  std::fflush(nullptr);
  ::dup2(fd_, STDOUT_FILENO);
  ::dup2(fd_, STDERR_FILENO);
  // With a buffer of its own: on a stream used before (the parent's stdout), glibc
  // keeps full buffering when _IOLBF comes without one.
  static char line_buffer[BUFSIZ];
  std::setvbuf(stdout, line_buffer, _IOLBF, sizeof line_buffer);
}

output_capture::taken output_capture::take() {
  std::cout.flush();
  std::cerr.flush();
  std::fflush(nullptr);
  taken t;
  if (!still_the_file()) return t;
  const file_lock lock(fd_);
  struct stat st {};
  if (::fstat(fd_, &st) != 0 || st.st_size <= 0) return t;
  const auto size = static_cast<std::int64_t>(st.st_size);
  t.text.resize(std::min<std::size_t>(kept_bytes, static_cast<std::size_t>(size)));
  const ssize_t n = ::pread(fd_, t.text.data(), t.text.size(), 0);
  t.text.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
  t.dropped = size - static_cast<std::int64_t>(t.text.size());
  if (::ftruncate(fd_, 0) != 0) t.dropped = 0;  // nothing is left to attribute twice
  return t;
}

std::int64_t output_capture::trim(std::int64_t limit) {
  struct stat st {};
  if (::fstat(fd_, &st) != 0 || st.st_size <= limit) return 0;  // the usual case: no lock
  const file_lock lock(fd_);
  if (::fstat(fd_, &st) != 0 || st.st_size <= limit) return 0;
  const auto keep = static_cast<off_t>(kept_bytes);
  if (::ftruncate(fd_, keep) != 0) return 0;
  return static_cast<std::int64_t>(st.st_size - keep);
}

std::string child_exit::describe() const {
  std::string text = "ended";
  switch (kind) {
    case how::exited:
      text = "exited with status " + std::to_string(code);
      if (code == report_pipe_lost_status) {
        text +=
            " (its report pipe to the harness was closed or replaced: the kernel closed a "
            "descriptor it does not own)";
      }
      break;
    case how::signaled: text = "killed by " + signal_name(code); break;
    case how::timed_out: {
      char seconds[32];
      std::snprintf(seconds, sizeof seconds, "%.1f", silent_seconds);
      text = std::string("timed out: no answer for ") + seconds + " s";
      break;
    }
  }
  if (left_running > 0) {
    text += "; it left " + std::to_string(left_running) + " process" +
            (left_running == 1 ? "" : "es") + " running (killed)";
  }
  return text;
}

std::vector<pid_t> running_processes_of(pid_t parent, bool by_group) {
  std::vector<pid_t> out;
  DIR* proc = ::opendir("/proc");
  if (proc == nullptr) return out;
  while (const dirent* entry = ::readdir(proc)) {
    const char* name = entry->d_name;
    if (name[0] < '0' || name[0] > '9') continue;
    std::ifstream in(std::string("/proc/") + name + "/stat");
    std::string stat_line;
    if (!std::getline(in, stat_line)) continue;
    // pid (comm) state ppid pgrp ...: comm may hold spaces and parentheses.
    const std::size_t close = stat_line.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream fields(stat_line.substr(close + 1));
    char state = 0;
    long ppid = 0, pgrp = 0;
    if (!(fields >> state >> ppid >> pgrp)) continue;
    if (state == 'Z' || state == 'X') continue;
    if ((by_group ? pgrp : ppid) != parent) continue;
    out.push_back(static_cast<pid_t>(std::atol(name)));
  }
  ::closedir(proc);
  std::sort(out.begin(), out.end());
  return out;
}

child_process::child_process(const std::function<int(child_channel&)>& work) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) report_error(system_error_text("pipe"));
  // What the parent has buffered must not be written twice, by both processes.
  std::cout.flush();
  std::cerr.flush();
  std::fflush(nullptr);
  [[maybe_unused]] const pid_t parent = ::getpid();
  pid_ = ::fork();
  if (pid_ < 0) {
    ::close(fds[0]);
    ::close(fds[1]);
    report_error(system_error_text("fork"));
  }
  if (pid_ == 0) {
    // A group of its own, so that the parent can kill what it leaves behind; and
    // killed with the parent (a group of its own no longer gets the terminal's ^C).
    ::setpgid(0, 0);
#ifdef __linux__
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(child_exception_status);
#endif
    ::close(fds[0]);
    // A crash is an expected outcome here, reported by the parent: no core files.
    const rlimit no_core{0, 0};
    ::setrlimit(RLIMIT_CORE, &no_core);
    child_channel channel(fds[1]);
    int status = child_exception_status;
    try {
      status = work(channel);
    } catch (const std::exception& e) {
      channel.send(std::string("child-error ") + e.what());
    } catch (...) {
      channel.send("child-error unknown exception");
    }
    std::cout.flush();
    std::cerr.flush();
    std::fflush(nullptr);
    ::_exit(status);
  }
  ::setpgid(pid_, pid_);  // also here: whichever runs first, the group exists after
  ::close(fds[1]);
  fd_ = fds[0];
  const int flags = ::fcntl(fd_, F_GETFL);
  ::fcntl(fd_, F_SETFL, flags | O_NONBLOCK);
}

child_process::~child_process() {
  if (pid_ > 0) {
    kill();
    if (!reaped_) wait();
  }
  if (fd_ >= 0) ::close(fd_);
}

bool child_process::read_available(std::vector<std::string>& lines) {
  char buffer[4096];
  for (;;) {
    const ssize_t n = ::read(fd_, buffer, sizeof buffer);
    if (n > 0) {
      partial_.append(buffer, static_cast<std::size_t>(n));
      std::size_t start = 0;
      for (std::size_t end = partial_.find('\n'); end != std::string::npos;
           end = partial_.find('\n', start)) {
        lines.push_back(partial_.substr(start, end - start));
        start = end + 1;
      }
      partial_.erase(0, start);
      continue;
    }
    if (n == 0) return false;  // a line cut short by a crash is dropped: it is not whole
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return true;
    return false;
  }
}

bool child_process::ended() {
  if (reaped_) return true;
  const pid_t r = ::waitpid(pid_, &status_, WNOHANG);
  if (r == pid_) reaped_ = true;
  return reaped_;
}

void child_process::kill() {
  if (pid_ <= 0) return;
  ::kill(-pid_, SIGKILL);
  if (!reaped_) ::kill(pid_, SIGKILL);
}

child_exit child_process::wait(bool timed_out, double silent_seconds) {
  child_exit e;
  if (pid_ <= 0) return e;
  if (!reaped_) {
    while (::waitpid(pid_, &status_, 0) < 0) {
      if (errno != EINTR) report_error(system_error_text("waitpid"));
    }
    reaped_ = true;
  }
  // What the child left in its group: counted, then killed. A pid stays out of reuse
  // while a process group of that number exists, so -pid_ names only that group.
  if (::kill(-pid_, 0) == 0) {
    e.left_running = static_cast<int>(running_processes_of(pid_, true).size());
    ::kill(-pid_, SIGKILL);
  }
  const int status = status_;
  if (timed_out) {
    e.kind = child_exit::how::timed_out;
    e.silent_seconds = silent_seconds;
  } else if (WIFSIGNALED(status)) {
    e.kind = child_exit::how::signaled;
    e.code = WTERMSIG(status);
  } else {
    e.kind = child_exit::how::exited;
    e.code = WEXITSTATUS(status);
  }
  return e;
}

child_exit run_child(const std::function<int(child_channel&)>& work,
                     std::chrono::milliseconds idle_timeout,
                     const std::function<void(const std::string&)>& on_line) {
  using clock = std::chrono::steady_clock;
  child_process child(work);
  auto last_word = clock::now();
  std::vector<std::string> lines;
  bool open = true;
  for (;;) {
    const auto silent = clock::now() - last_word;
    if (silent >= idle_timeout) {
      child.kill();
      return child.wait(true, std::chrono::duration<double>(silent).count());
    }
    // At most 100 ms between looks: a child can end with its pipe held open by a
    // process it left behind, or close its pipe and go on running.
    const auto left = std::min<std::chrono::milliseconds>(
        std::chrono::duration_cast<std::chrono::milliseconds>(idle_timeout - silent),
        std::chrono::milliseconds(100));
    if (open) {
      pollfd pfd{child.fd(), POLLIN, 0};
      const int ready = ::poll(&pfd, 1, static_cast<int>(left.count()) + 1);
      if (ready < 0 && errno != EINTR) report_error(system_error_text("poll"));
      lines.clear();
      if (ready > 0) open = child.read_available(lines);
      if (!lines.empty()) last_word = clock::now();
      for (const std::string& line : lines) on_line(line);
    } else {
      std::this_thread::sleep_for(left);
    }
    if (child.ended()) {
      lines.clear();
      child.read_available(lines);
      for (const std::string& line : lines) on_line(line);
      return child.wait();
    }
  }
}

}  // namespace bnconform
