#include "child_process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <exception>
#include <iostream>

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

void child_channel::send(std::string_view line) const {
  std::string text(line);
  for (char& c : text) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  text += '\n';
  write_all(fd_, text.data(), text.size());
}

std::string child_exit::describe() const {
  switch (kind) {
    case how::exited: return "exited with status " + std::to_string(code);
    case how::signaled: return "killed by " + signal_name(code);
    case how::timed_out: {
      char seconds[32];
      std::snprintf(seconds, sizeof seconds, "%.1f", silent_seconds);
      return std::string("timed out: no answer for ") + seconds + " s";
    }
  }
  return "ended";
}

child_process::child_process(const std::function<int(child_channel&)>& work) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) report_error(system_error_text("pipe"));
  // What the parent has buffered must not be written twice, by both processes.
  std::cout.flush();
  std::cerr.flush();
  std::fflush(nullptr);
  pid_ = ::fork();
  if (pid_ < 0) {
    ::close(fds[0]);
    ::close(fds[1]);
    report_error(system_error_text("fork"));
  }
  if (pid_ == 0) {
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
  ::close(fds[1]);
  fd_ = fds[0];
  const int flags = ::fcntl(fd_, F_GETFL);
  ::fcntl(fd_, F_SETFL, flags | O_NONBLOCK);
}

child_process::~child_process() {
  if (!reaped_ && pid_ > 0) {
    kill();
    wait();
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

void child_process::kill() {
  if (!reaped_ && pid_ > 0) ::kill(pid_, SIGKILL);
}

child_exit child_process::wait(bool timed_out, double silent_seconds) {
  child_exit e;
  if (reaped_) return e;
  int status = 0;
  while (::waitpid(pid_, &status, 0) < 0) {
    if (errno != EINTR) report_error(system_error_text("waitpid"));
  }
  reaped_ = true;
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
  for (;;) {
    const auto silent = clock::now() - last_word;
    if (silent >= idle_timeout) {
      child.kill();
      return child.wait(true, std::chrono::duration<double>(silent).count());
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(idle_timeout - silent);
    pollfd pfd{child.fd(), POLLIN, 0};
    const int ready = ::poll(&pfd, 1, static_cast<int>(left.count()) + 1);
    if (ready < 0 && errno != EINTR) report_error(system_error_text("poll"));
    if (ready <= 0) continue;
    lines.clear();
    const bool open = child.read_available(lines);
    if (!lines.empty()) last_word = clock::now();
    for (const std::string& line : lines) on_line(line);
    if (!open) return child.wait();
  }
}

}  // namespace bnconform
